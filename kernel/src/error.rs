//! Error enums, one per operation family. Each names what is wrong and, where it
//! helps, what to do; none of them leaves a change behind.
//!
//! Every one implements [`Classified`]: an [`ErrorKind`] and a stable `code`. The
//! HTTP status (`http::status_of`) and the CLI's exit code ([`ErrorKind::exit_code`])
//! are each one `match` on the kind, so the library, the CLI and the API agree on
//! what an error means. Storage errors keep redb's own error as their source; no
//! caller ever matches on message text.

pub use shenbao_engine::ErrorKind;

pub use crate::plugin::{PluginCallError, PluginFault};

/// Why a component could not be installed. Nothing is stored when this is returned.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("不是 WebAssembly 组件 / not a WebAssembly component: {message}")]
    NotAComponent { message: String },
    #[error(
        "该组件不是申报程序插件 / the component does not export a Shenbao program (shenbao:program/plugin); it exports: {}",
        if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") }
    )]
    NotAProgram { exports: Vec<String> },
    #[error("插件接口版本不受支持 / the component exports shenbao:program/plugin@{found}, but this kernel hosts {}; rebuild the plugin against a supported WIT version", supported.join(", "))]
    UnsupportedWit { found: String, supported: Vec<String> },
    #[error("插件接口与本内核不一致 / the component's {interface} does not match the WIT this kernel hosts: {message}")]
    WorldMismatch { interface: String, message: String },
    #[error("插件导入了沙箱不提供的接口 / the component imports what the sandbox does not provide: {message}")]
    UnsupportedImport { message: String },
    #[error("插件描述失败 / describe failed: {0}")]
    Describe(#[source] PluginCallError),
    #[error("插件清单无效 / the manifest of {program}@{version} is invalid:\n  - {}", problems.join("\n  - "))]
    InvalidManifest { program: String, version: String, problems: Vec<String> },
    #[error(
        "{program}@{version} 已以不同内容安装，请提升版本号 / {program}@{version} is already installed with different bytes (sha256 {existing}); a version's bytes never change — bump the plugin version"
    )]
    VersionConflict { program: String, version: String, existing: String, new: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("插件编译失败 / compiling the component failed: {message}")]
    Compile { message: String },
}

/// Storage failures (redb, the component cache, the file system).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the database file (redb allows one).
    #[error("数据库正被另一个进程使用 / the database is in use by another process (a running `shenbao serve`?)")]
    InUse,
    /// redb failed; shared (`Arc`) because one failed group commit fails every
    /// change in it.
    #[error("数据库读写失败 / database: {0}")]
    Database(#[source] std::sync::Arc<redb::Error>),
    #[error(
        "数据库结构版本 {found} 比本程序支持的 {supported} 新，请升级 shenbao / database schema version {found} is newer than this kernel's {supported}; upgrade shenbao"
    )]
    SchemaTooNew { found: u32, supported: u32 },
    /// Upgrading the file from an older schema version failed; the file is as it
    /// was (the upgrade is one transaction). It copies tables: it needs free disk
    /// space about twice the size of the database (copies, then compaction).
    #[error(
        "数据库从第 {from} 版升级到第 {to} 版失败，文件保持原样；升级需要约为数据库两倍大小的可用磁盘空间 / \
         upgrading the database from schema version {from} to {to} failed and left it as it was (an upgrade \
         needs free disk space about twice the size of the database): {cause}"
    )]
    Upgrade {
        from: u32,
        to: u32,
        #[source]
        cause: Box<StoreError>,
    },
    #[error("已存储的记录“{key}”已损坏 / stored record {key} is corrupt: {message}")]
    Corrupt { key: String, message: String },
    #[error("文件“{path}”读写失败 / {path}: {message}")]
    Io { path: String, message: String },
    /// The file at `path` could not be opened as a database (not a redb file, a
    /// damaged header, no permission …); redb's error is the source.
    #[error("无法打开数据库“{path}” / cannot open the database {path}: {cause}")]
    Open {
        path: String,
        #[source]
        cause: std::sync::Arc<redb::Error>,
    },
}

impl From<redb::Error> for StoreError {
    fn from(e: redb::Error) -> Self {
        match e {
            redb::Error::DatabaseAlreadyOpen => StoreError::InUse,
            other => StoreError::Database(std::sync::Arc::new(other)),
        }
    }
}

macro_rules! db_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                redb::Error::from(e).into()
            }
        }
    )*};
}
db_errors!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::CompactionError
);

/// `?` on a redb call inside a function returning one of the kernel's error enums
/// (each has a `Store(StoreError)` variant): the redb error becomes a storage error
/// with its source kept, so no call site maps it by hand.
macro_rules! redb_into {
    ($($e:ty),*) => {$(
        impl From<redb::StorageError> for $e {
            fn from(e: redb::StorageError) -> Self {
                <$e>::from($crate::error::StoreError::from(e))
            }
        }
        impl From<redb::TableError> for $e {
            fn from(e: redb::TableError) -> Self {
                <$e>::from($crate::error::StoreError::from(e))
            }
        }
        impl From<redb::TransactionError> for $e {
            fn from(e: redb::TransactionError) -> Self {
                <$e>::from($crate::error::StoreError::from(e))
            }
        }
        impl From<redb::CommitError> for $e {
            fn from(e: redb::CommitError) -> Self {
                <$e>::from($crate::error::StoreError::from(e))
            }
        }
    )*};
}
pub(crate) use redb_into;

/// An error with a kind and a stable machine-readable code: every error of the
/// kernel, so that each interface maps it in one place.
pub trait Classified: std::error::Error {
    /// What kind of failure this is.
    fn kind(&self) -> ErrorKind;
    /// The stable code (`not_found`, `quota_exceeded`, `store` …), the same over HTTP,
    /// in the CLI's output and in the library.
    fn code(&self) -> &'static str;
    /// What a person should do about it (the CLI prints it after the cause);
    /// by default the kind's advice.
    fn advice(&self) -> &'static str {
        self.kind().advice()
    }
}

impl Classified for StoreError {
    fn kind(&self) -> ErrorKind {
        match self {
            StoreError::InUse => ErrorKind::Conflict,
            StoreError::Corrupt { .. } => ErrorKind::Corrupt,
            _ => ErrorKind::Storage,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            StoreError::InUse => "database_in_use",
            StoreError::SchemaTooNew { .. } => "schema_too_new",
            StoreError::Upgrade { .. } => "upgrade_failed",
            StoreError::Corrupt { .. } => "corrupt",
            StoreError::Database(_) | StoreError::Io { .. } | StoreError::Open { .. } => "store",
        }
    }
}

/// A plugin that refuses its input (`PluginFault::Refused`) says the input is wrong:
/// `invalid` (422 / exit 4), never a gateway failure; every other fault is the
/// plugin's own (`plugin_failed`, 502 / exit 8).
impl Classified for PluginCallError {
    fn kind(&self) -> ErrorKind {
        match self.fault {
            PluginFault::Refused(_) => ErrorKind::Invalid,
            _ => ErrorKind::PluginFailed,
        }
    }
    fn code(&self) -> &'static str {
        match self.fault {
            PluginFault::Refused(_) => "plugin_refused_input",
            _ => "plugin_failed",
        }
    }
}

impl Classified for InstallError {
    fn kind(&self) -> ErrorKind {
        match self {
            InstallError::Store(e) => e.kind(),
            InstallError::VersionConflict { .. } => ErrorKind::Conflict,
            _ => ErrorKind::Invalid,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            InstallError::Store(e) => e.code(),
            InstallError::VersionConflict { .. } => "version_conflict",
            _ => "plugin_refused",
        }
    }
    fn advice(&self) -> &'static str {
        match self {
            InstallError::VersionConflict { .. } => {
                "an installed version never changes (rounds pin it): give the rebuilt component a new version \
                 in its manifest (and in round.json), or try it in a fresh database"
            }
            _ => self.kind().advice(),
        }
    }
}

impl Classified for LookupError {
    fn kind(&self) -> ErrorKind {
        match self {
            LookupError::NotInstalled { .. } | LookupError::UnknownSha { .. } => ErrorKind::NotFound,
            LookupError::Store(e) => e.kind(),
            LookupError::Load { .. } => ErrorKind::PluginFailed,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            LookupError::NotInstalled { .. } | LookupError::UnknownSha { .. } => "not_found",
            LookupError::Store(e) => e.code(),
            LookupError::Load { .. } => "plugin_failed",
        }
    }
}

impl Classified for CheckError {
    fn kind(&self) -> ErrorKind {
        match self {
            CheckError::Lookup(e) => e.kind(),
            CheckError::UnknownForm { .. } | CheckError::FormNotJson { .. } => ErrorKind::Invalid,
            CheckError::Plugin(e) => e.kind(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            CheckError::Lookup(e) => e.code(),
            CheckError::UnknownForm { .. } => "unknown_form",
            CheckError::FormNotJson { .. } => "invalid_request",
            CheckError::Plugin(e) => e.code(),
        }
    }
}

/// Looking up an installed plugin.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("插件 {program}@{version} 未安装 / no plugin {program}@{version} is installed (see `shenbao plugin list`)")]
    NotInstalled { program: String, version: String },
    #[error("没有 sha256 为 {sha256} 的已安装插件 / no installed plugin has sha256 {sha256}")]
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
    #[error("申报表“{form}”不是本申报可用的表（可用：{}） / form {form:?} is not one this application may use; it may use: {}", known.join("、"), known.join(", "))]
    UnknownForm { form: String, known: Vec<String> },
    #[error("申报表数据不是合法的 JSON / form data is not JSON: {message}")]
    FormNotJson { message: String },
    #[error(transparent)]
    Plugin(#[from] PluginCallError),
}
