//! # Shenbao (申报) kernel
//!
//! An embeddable kernel for government program applications and approvals.
//! Each yearly program is a sandboxed WebAssembly component plugin that exports
//! the `shenbao:program/plugin` interface (`wit/0.1.0/program.wit`): it describes
//! its forms, rules, quotas and approval graph, and checks applications. The
//! kernel stores everything in redb, validates form data against the program's
//! JSON Schemas, and runs each check in a fresh, capped, deterministic instance.
//!
//! ```
//! use shenbao::{InstallError, Kernel};
//!
//! let dir = tempfile::tempdir()?;
//! let kernel = Kernel::open(dir.path().join("shenbao.redb"))?;
//! assert!(kernel.plugins()?.is_empty());
//!
//! // Anything that is not a program component is refused with a typed error,
//! // and nothing is stored.
//! let err = kernel.install_plugin(b"\0asm\x01\0\0\0").unwrap_err();
//! assert!(matches!(err, InstallError::NotAComponent { .. }));
//! assert!(kernel.plugins()?.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With a built plugin (see `examples/embed`):
//!
//! ```no_run
//! # use shenbao::Kernel;
//! # let kernel = Kernel::open("shenbao.redb")?;
//! let wasm = std::fs::read("enabling_resources.wasm")?;
//! let installed = kernel.install_plugin(&wasm)?;
//! println!("{} with {} rules", installed.record.id, installed.record.manifest.rules.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// The pure core lives in its own crate; these names keep `crate::model::…` paths.
pub(crate) use shenbao_engine as engine;
pub(crate) use shenbao_engine::{calendar, graph, model, time};

mod attachments;
mod backup;
mod cache;
mod cases;
mod commit;
mod error;
mod forms;
mod host;
#[cfg(feature = "http")]
pub mod http;
mod idempotency;
#[cfg(feature = "io")]
pub mod io;
mod kernel;
mod manifest_check;
mod output;
mod plugin;
mod regions;
mod registry;
pub mod schema_bounds;
mod sessions;
mod summary;
mod tables;
pub mod text;
mod tokens;
mod workflow;

pub use attachments::{BlobError, BlobRef, BlobStore, Partial, check as check_attachments};
pub use backup::{BackupError, BackupReport, ExportLine, ImportReport};
pub use cache::CacheOutcome;
pub use calendar::Calendar;
pub use cases::{Case, CaseError, CaseRun, CaseSet, Expected};
pub use commit::CommitStats;
pub use error::{CheckError, Classified, InstallError, LookupError, PluginCallError, PluginFault, StoreError};
pub use forms::{FormSet, pointer_to_path};
pub use graph::{Routing, WINDOWS, check_graph};
pub use host::{
    FIXED_RANDOM, FIXED_WALL_CLOCK_SECS, HostConfig, SUPPORTED_WIT, WasmHost, WasmPlugin, default_cache_dir,
};
pub use kernel::{
    CheckReport, DEFAULT_CACHE_BYTES, DEFAULT_COMMIT_BATCH, Installed, Kernel, KernelConfig, LoadedPlugin, TxCounts,
    Upgrade, Verified, check_with,
};
pub use manifest_check::form_problems;
pub use manifest_check::problems as manifest_problems;
pub use model::*;
pub use output::{check_result_problem, check_result_size, round_check_problem};
pub use plugin::{CallKind, Metered, PluginId, PluginLimits, ProgramPlugin};
pub use regions::{CHANNELS, CITY_GROUPS, Region, RegionKind, guangdong};
pub use registry::PluginRecord;
pub use sessions::{
    CODE_VALID_SECS, MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_USER, MAX_PASSWORD_CHARS, MAX_SESSIONS_PER_USER,
    MIN_PASSWORD_CHARS, SESSION_IDLE_SECS, SESSION_MAX_SECS, Session, SignInError, THROTTLE_WINDOW_SECS,
    password_problem,
};
pub use shenbao_contract as contract;
pub use shenbao_engine::access::{Disclosure, QueueView};
pub use shenbao_engine::{
    Command, Decided, ErrorKind, MAX_APPLICATIONS_PER_APPLICANT, MAX_OPINION_CHARS, Refusal, Snapshot, decide,
    quota_limit_of, stage_open, window_open,
};
pub use summary::{
    COLUMN_SOURCES, ITEM_SCORE_SOURCE, Summary, SummaryError, SummaryHead, SummaryJson, SummaryLevel, SummaryRow,
    SummarySection, SummarySectionRows, SummarySink,
};
pub use tables::SCHEMA_VERSION;
pub use time::{Clock, ManualClock, SystemClock, Timestamp};
pub use tokens::{IssuedToken, TokenInfo};
pub use workflow::{
    ActError, ActionOption, ActionOptions, AdminError, BatchError, ChainReport, Draft, IdempotencyRecord, Prepared,
    QueueItem, QueueQuery, Receipt, RefusedAction, ReplayReport, RoundError, decision_hash,
};
