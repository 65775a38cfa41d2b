//! Error enums, one per operation family. Each names what is wrong and, where it
//! helps, what to do; none of them leaves a change behind.

use crate::plugin::{CallKind, PluginId};
use shenbao_contract::PluginError;

/// What went wrong inside one plugin call.
#[derive(Debug, thiserror::Error)]
pub enum PluginFault {
    #[error("used up its fuel budget of {budget} (raise the plugin's fuel limit if the program is legitimately heavy)")]
    FuelExhausted { budget: u64 },
    #[error("tried to grow linear memory to {requested} bytes, past its cap of {cap} bytes")]
    MemoryLimit { requested: u64, cap: u64 },
    #[error("overflowed the wasm stack (deep recursion)")]
    StackOverflow,
    #[error("panicked: {message}")]
    Panicked { message: String },
    #[error("trapped: {message}")]
    Trapped { message: String },
    #[error("request of {size} bytes exceeds the input cap of {cap} bytes")]
    InputTooLarge { size: u64, cap: u64 },
    #[error("returned {size} bytes, exceeding the output cap of {cap} bytes")]
    OutputTooLarge { size: u64, cap: u64 },
    #[error("returned malformed output: {problem}")]
    MalformedOutput { problem: String },
    #[error("refused the input: {0}")]
    Refused(PluginError),
    #[error("could not be instantiated: {message}")]
    Instantiate { message: String },
}

/// A failed plugin call: which plugin, which call, what happened.
#[derive(Debug, thiserror::Error)]
#[error("plugin {plugin} failed in {call}: {fault}")]
pub struct PluginCallError {
    pub plugin: PluginId,
    pub call: CallKind,
    pub fault: PluginFault,
}

/// Why a component could not be installed. Nothing is stored when this is returned.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("not a WebAssembly component: {message}")]
    NotAComponent { message: String },
    #[error(
        "the component does not export a Shenbao program (shenbao:program/plugin); it exports: {}",
        if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") }
    )]
    NotAProgram { exports: Vec<String> },
    #[error("the component exports shenbao:program/plugin@{found}, but this kernel hosts {}; rebuild the plugin against a supported WIT version", supported.join(", "))]
    UnsupportedWit { found: String, supported: Vec<String> },
    #[error("the component's {interface} does not match the WIT this kernel hosts: {message}")]
    WorldMismatch { interface: String, message: String },
    #[error("the component imports what the sandbox does not provide: {message}")]
    UnsupportedImport { message: String },
    #[error("describe failed: {0}")]
    Describe(#[source] PluginCallError),
    #[error("the manifest of {program}@{version} is invalid:\n  - {}", problems.join("\n  - "))]
    InvalidManifest { program: String, version: String, problems: Vec<String> },
    #[error(
        "{program}@{version} is already installed with different bytes (sha256 {existing}); a version's bytes never change — bump the plugin version"
    )]
    VersionConflict { program: String, version: String, existing: String, new: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("compiling the component failed: {message}")]
    Compile { message: String },
}

/// Storage failures (redb, the component cache, the file system).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(String),
    #[error("database schema version {found} is newer than this kernel's {supported}; upgrade shenbao")]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("stored record {key} is corrupt: {message}")]
    Corrupt { key: String, message: String },
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

macro_rules! db_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Database(e.to_string())
            }
        }
    )*};
}
db_errors!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// Looking up an installed plugin.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("no plugin {program}@{version} is installed (see `shenbao plugin list`)")]
    NotInstalled { program: String, version: String },
    #[error("no installed plugin has sha256 {sha256}")]
    UnknownSha { sha256: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("loading the installed component failed: {message}")]
    Load { message: String },
}

/// Checking an application through a plugin.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Lookup(#[from] LookupError),
    #[error("the program has no form {form:?}; its forms are: {}", known.join(", "))]
    UnknownForm { form: String, known: Vec<String> },
    #[error("form data is not JSON: {message}")]
    FormNotJson { message: String },
    #[error(transparent)]
    Plugin(#[from] PluginCallError),
}
