//! [`Kernel`]: the facade an integrator embeds.

use crate::cache::CacheOutcome;
use crate::error::{CheckError, InstallError, LookupError, StoreError};
use crate::forms::FormSet;
use crate::host::{HostConfig, Prepared, WasmHost, WasmPlugin};
use crate::plugin::{Metered, PluginId, PluginLimits, ProgramPlugin};
use crate::registry::{self, Inserted, PluginRecord};
use crate::time::{Clock, SystemClock, Timestamp};
use redb::Database;
use shenbao_contract::{CheckRequest, CheckResult, Finding, Manifest, RoundCheck, RoundInfo, Severity};
use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Default bound on the actions one group commit takes.
pub const DEFAULT_COMMIT_BATCH: usize = 256;
/// Default size of redb's page cache.
pub const DEFAULT_CACHE_BYTES: usize = 64 << 20;

/// Kernel settings.
#[derive(Clone)]
pub struct KernelConfig {
    pub host: HostConfig,
    /// Where "now" comes from; inject a [`crate::ManualClock`] in tests.
    pub clock: Arc<dyn Clock>,
    /// Where attachment files are kept; default: `<database>.blobs/` beside the database.
    pub blob_dir: Option<std::path::PathBuf>,
    /// At most this many concurrent actions share one durable commit (group commit);
    /// 1 = one commit per action.
    pub commit_batch: usize,
    /// redb's page cache in bytes (default 64 MiB).
    pub cache_bytes: usize,
    /// Where the database's bytes live instead of the file at the path given to
    /// [`Kernel::open_with`] (which still places the attachments): any redb
    /// [`StorageBackend`](redb::StorageBackend), e.g. one that injects I/O faults in
    /// tests. Default: the file.
    pub storage: Option<Arc<dyn redb::StorageBackend>>,
    /// Attachment bytes one user may have uploaded in all (what it uploaded and has
    /// not been removed by [`Kernel::remove_unreferenced_blobs`]); default 4 GiB.
    pub max_upload_bytes_per_user: u64,
    /// Bytes of cell text a summary export keeps between its two passes
    /// ([`Kernel::summary_to`]); rows past it are read again instead. Default
    /// [`crate::summary::SUMMARY_KEPT_BYTES`] (32 MiB).
    pub summary_kept_bytes: usize,
    /// Threads one summary export reads its rows on (its first pass, over one read
    /// transaction, while the calling thread scans the round's index). Default: the
    /// machine's cores, at most 4. 1 = the calling thread only.
    pub summary_threads: usize,
}

/// Transactions since the kernel opened ([`Kernel::tx_counts`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxCounts {
    /// Read transactions begun.
    pub reads: u64,
    /// Durable commits (each one fsync), group commits included.
    pub commits: u64,
}

/// A shared storage backend handed to redb (which takes one by value).
#[derive(Debug)]
struct SharedBackend(Arc<dyn redb::StorageBackend>);

impl redb::StorageBackend for SharedBackend {
    fn len(&self) -> Result<u64, std::io::Error> {
        self.0.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        self.0.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        self.0.set_len(len)
    }
    fn sync_data(&self) -> Result<(), std::io::Error> {
        self.0.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        self.0.write(offset, data)
    }
    fn close(&self) -> Result<(), std::io::Error> {
        self.0.close()
    }
    fn try_lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, redb::BackendError> {
        self.0.try_lock_range(s, e)
    }
    fn try_lock_shared_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, redb::BackendError> {
        self.0.try_lock_shared_range(s, e)
    }
    fn lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), redb::BackendError> {
        self.0.lock_range(s, e)
    }
    fn lock_shared_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), redb::BackendError> {
        self.0.lock_shared_range(s, e)
    }
    fn unlock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), redb::BackendError> {
        self.0.unlock_range(s, e)
    }
    fn query_lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, redb::BackendError> {
        self.0.query_lock_range(s, e)
    }
}

impl Default for KernelConfig {
    fn default() -> Self {
        KernelConfig {
            host: HostConfig::default(),
            clock: Arc::new(SystemClock),
            blob_dir: None,
            commit_batch: DEFAULT_COMMIT_BATCH,
            cache_bytes: DEFAULT_CACHE_BYTES,
            storage: None,
            max_upload_bytes_per_user: 4 << 30,
            summary_kept_bytes: crate::summary::SUMMARY_KEPT_BYTES,
            summary_threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
        }
    }
}

impl std::fmt::Debug for KernelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelConfig").field("host", &self.host).field("now", &self.clock.now()).finish()
    }
}

/// An installed plugin loaded for calls, with its compiled form schemas.
pub struct LoadedPlugin {
    plugin: WasmPlugin,
    forms: FormSet,
}

impl LoadedPlugin {
    pub fn plugin(&self) -> &WasmPlugin {
        &self.plugin
    }
    pub fn forms(&self) -> &FormSet {
        &self.forms
    }
    /// Load a component for calls without installing it anywhere (the plugin runner,
    /// `shenbao plugin test`): the same checks as install — a hosted WIT version, a
    /// `describe` within `limits`, a sound manifest — and the same sandbox.
    pub fn standalone(host: Arc<WasmHost>, bytes: &[u8], limits: PluginLimits) -> Result<LoadedPlugin, InstallError> {
        let (id, manifest, prepared) = describe_component(&host, bytes, &limits)?;
        let forms = FormSet::compile(&manifest).map_err(|message| InstallError::InvalidManifest {
            program: manifest.program.clone(),
            version: manifest.version.clone(),
            problems: vec![message],
        })?;
        Ok(LoadedPlugin { plugin: WasmPlugin::new(host, id, manifest, limits, prepared), forms })
    }

    /// How the compiled component was obtained when it was loaded.
    pub fn cache_outcome(&self) -> CacheOutcome {
        self.plugin.cache_outcome()
    }
}

/// The result of [`Kernel::install_plugin`].
#[derive(Debug)]
pub struct Installed {
    pub record: PluginRecord,
    /// False when exactly these bytes were installed before (nothing changed).
    pub newly_installed: bool,
    pub cache: CacheOutcome,
    /// What keeps the plugin's forms from rendering well in standard tools, each as
    /// `FORM/path: problem — what to do` ([`crate::form_problems`]); the plugin is
    /// installed all the same. Empty for the repository's own programs.
    pub form_warnings: Vec<String>,
}

/// The result of [`Kernel::verify_plugin`].
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    pub id: PluginId,
    /// The stored bytes still hash to the recorded sha256.
    pub bytes_intact: bool,
    /// Calling describe again gives the stored manifest.
    pub manifest_matches: bool,
}

/// Findings of the kernel's schema validation and of the plugin's check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// From the form's JSON Schema; when any exist the plugin is not called.
    pub schema_findings: Vec<Finding>,
    /// The kernel's own checks of what the manifest declares (attachments).
    pub kernel_findings: Vec<Finding>,
    /// The plugin's result, when the data passed the schema.
    pub plugin: Option<Metered<CheckResult>>,
}

impl CheckReport {
    /// Schema findings, then the plugin's.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.schema_findings
            .iter()
            .chain(self.kernel_findings.iter())
            .chain(self.plugin.iter().flat_map(|p| p.value.findings.iter()))
    }
    pub fn has_blocking(&self) -> bool {
        self.findings().any(|f| f.severity == Severity::Blocking)
    }
}

/// Where a database's attachment files live unless configured: `<database>.blobs/`.
pub(crate) fn default_blob_dir(db: &Path) -> std::path::PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".blobs");
    std::path::PathBuf::from(p)
}

/// Shenbao's kernel on one redb database.
pub struct Kernel {
    db: Database,
    host: Arc<WasmHost>,
    loaded: Mutex<HashMap<String, Arc<LoadedPlugin>>>,
    clock: Arc<dyn Clock>,
    caches: Mutex<Caches>,
    blobs: crate::attachments::BlobStore,
    max_upload_bytes_per_user: u64,
    pub(crate) summary_kept_bytes: usize,
    pub(crate) summary_threads: usize,
    pub(crate) group: crate::commit::GroupCommit,
    /// Idempotency keys in flight (`idempotency.rs`).
    idempotency: crate::idempotency::Slots,
    /// Read transactions begun and commits made outside the group commit.
    reads: std::sync::atomic::AtomicU64,
    commits: std::sync::atomic::AtomicU64,
    /// Failed sign-ins, per user and address (`sessions.rs`).
    pub(crate) sign_in: crate::sessions::Throttle,
    /// What opening did to an older file.
    upgrade: Option<Upgrade>,
}

/// Parsed records keyed by their stored version, so hot paths skip JSON parsing.
#[derive(Default)]
pub(crate) struct Caches {
    pub rounds: HashMap<String, (u64, Arc<crate::model::Round>)>,
    pub regions: Option<(u64, Arc<crate::workflow::RegionMaps>)>,
}

/// An upgrade of the database file to this kernel's schema version, made when it
/// opened the file ([`Kernel::upgrade`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Upgrade {
    /// The schema version the file had.
    pub from: u32,
    /// The schema version it has now ([`crate::SCHEMA_VERSION`]).
    pub to: u32,
    /// The file was compacted after the upgrade, back to about its old size; `false`
    /// when compaction failed (a full disk): the file is valid, only larger.
    pub compacted: bool,
}

impl Kernel {
    /// Open (or create) the database at `path` with default settings.
    pub fn open(path: impl AsRef<Path>) -> Result<Kernel, InstallError> {
        Kernel::open_with(path, KernelConfig::default())
    }

    /// Open (or create) the database at `path` with `config`.
    ///
    /// # Errors
    /// [`StoreError::InUse`] when another process holds the file, other storage
    /// errors, a schema newer than this kernel, or a host that cannot start.
    pub fn open_with(path: impl AsRef<Path>, config: KernelConfig) -> Result<Kernel, InstallError> {
        let path = path.as_ref();
        let mut builder = Database::builder();
        builder.set_cache_size(config.cache_bytes);
        let opened = match config.storage.clone() {
            Some(backend) => builder.create_with_backend(SharedBackend(backend)),
            None => builder.create(path),
        };
        let db = opened.map_err(|e| match StoreError::from(e) {
            StoreError::Database(cause) => StoreError::Open { path: path.display().to_string(), cause },
            other => other,
        })?;
        let from = registry::init(&db)?;
        let mut db = db;
        let upgrade = (from < crate::tables::SCHEMA_VERSION).then(|| {
            // The migration copied tables: give the old copies' pages back to the
            // file system (the file would otherwise stay about twice its size). The
            // upgrade is committed: a compaction that fails (a full disk) leaves a
            // valid, larger file, the database opens all the same, and the report
            // says so.
            Upgrade { from, to: crate::tables::SCHEMA_VERSION, compacted: db.compact().is_ok() }
        });
        let host = Arc::new(WasmHost::new(config.host)?);
        let blob_dir = config.blob_dir.unwrap_or_else(|| default_blob_dir(path));
        let blobs = crate::attachments::BlobStore::new(blob_dir);
        // The database is ours alone (redb's lock): uploads left partial are a crash's.
        blobs.remove_stale_partials(std::time::Duration::ZERO);
        Ok(Kernel {
            db,
            host,
            loaded: Mutex::new(HashMap::new()),
            clock: config.clock,
            caches: Mutex::new(Caches::default()),
            blobs,
            max_upload_bytes_per_user: config.max_upload_bytes_per_user,
            summary_kept_bytes: config.summary_kept_bytes,
            summary_threads: config.summary_threads.max(1),
            group: crate::commit::GroupCommit::new(config.commit_batch),
            idempotency: Default::default(),
            reads: Default::default(),
            commits: Default::default(),
            sign_in: Default::default(),
            upgrade,
        })
    }

    /// What opening did to an older database: the upgrade from its schema version
    /// (one transaction, then a compaction). `None` when the file was current or new.
    /// An upgraded file no longer opens in a Shenbao older than this one: front ends
    /// tell the administrator.
    pub fn upgrade(&self) -> Option<Upgrade> {
        self.upgrade
    }

    pub(crate) fn caches(&self) -> std::sync::MutexGuard<'_, Caches> {
        self.caches.lock().expect("not poisoned")
    }

    /// Store an attachment's content uploaded by `user_id` (streamed, hashed, synced)
    /// and get its address. Only `user_id` may then attach it to a draft (others
    /// see it only once it is on an application they may see): an address alone
    /// grants nothing.
    ///
    /// # Errors
    /// [`BlobError::TooLarge`](crate::attachments::BlobError::TooLarge) past `limit`
    /// bytes (nothing is kept); those of [`Kernel::may_upload`]; I/O and storage errors.
    pub fn store_blob(
        &self,
        user_id: &str,
        reader: impl std::io::Read,
        limit: Option<u64>,
    ) -> Result<crate::attachments::BlobRef, crate::attachments::BlobError> {
        self.may_upload(user_id, 0)?;
        let (partial, sha256, size) = self.blobs.write_partial(reader, limit)?;
        self.commit_blob(user_id, partial, sha256, size)
    }

    /// Whether `user_id` may upload `bytes` more: only those who fill in drafts (a
    /// grant for an organisation, 申报单位) upload attachments, each within
    /// [`KernelConfig::max_upload_bytes_per_user`] in all. Checked before an upload
    /// is read (with its declared length) and again before it is kept.
    ///
    /// # Errors
    /// [`BlobError::UnknownUser`](crate::attachments::BlobError::UnknownUser) for a
    /// user who does not exist; [`BlobError::NotAllowed`](crate::attachments::BlobError::NotAllowed)
    /// for one who does not apply;
    /// [`BlobError::QuotaExceeded`](crate::attachments::BlobError::QuotaExceeded)
    /// past the allowance; storage errors.
    pub fn may_upload(&self, user_id: &str, bytes: u64) -> Result<(), crate::attachments::BlobError> {
        use crate::attachments::BlobError;
        use redb::ReadableTable;
        let user = self.user(user_id)?.ok_or_else(|| BlobError::UnknownUser { user: user_id.to_string() })?;
        let applies = user.grants.iter().any(|g| matches!(g.scope, crate::model::Scope::Organisation(_)));
        if !applies {
            return Err(BlobError::NotAllowed { user: user_id.to_string() });
        }
        let tx = self.begin_read()?;
        let used = match tx.open_table(crate::tables::BLOB_OWNERS) {
            Ok(t) => {
                let mut used = 0u64;
                for row in t.iter().map_err(crate::error::StoreError::from)? {
                    let (k, size) = row.map_err(crate::error::StoreError::from)?;
                    if k.value().1 == user_id {
                        used = used.saturating_add(size.value());
                    }
                }
                used
            }
            Err(redb::TableError::TableDoesNotExist(_)) => 0,
            Err(e) => return Err(crate::error::StoreError::from(e).into()),
        };
        let limit = self.max_upload_bytes_per_user;
        if used.saturating_add(bytes) > limit {
            return Err(BlobError::QuotaExceeded { used, limit });
        }
        Ok(())
    }

    /// Commit an upload written to `partial` (its `sha256` and `size` computed by the
    /// writer) as uploaded by `user_id`: see [`Kernel::store_blob`].
    ///
    /// # Errors
    /// I/O and storage errors (the partial file is removed).
    pub fn commit_blob(
        &self,
        user_id: &str,
        partial: crate::attachments::Partial,
        sha256: String,
        size: u64,
    ) -> Result<crate::attachments::BlobRef, crate::attachments::BlobError> {
        self.may_upload(user_id, size)?; // `partial` is removed when dropped
        let blob = self.blobs.commit(partial, sha256, size)?;
        self.own_blob(user_id, blob)
    }

    /// A new partial upload in the blob folder (see [`Kernel::commit_blob`]).
    ///
    /// # Errors
    /// I/O errors.
    pub fn partial_blob(&self) -> Result<(crate::attachments::Partial, std::fs::File), crate::attachments::BlobError> {
        self.blobs.partial()
    }

    fn own_blob(
        &self,
        user_id: &str,
        blob: crate::attachments::BlobRef,
    ) -> Result<crate::attachments::BlobRef, crate::attachments::BlobError> {
        self.write(|tx| {
            tx.open_table(crate::tables::BLOB_OWNERS)?.insert((blob.sha256.as_str(), user_id), blob.size)?;
            Ok::<_, crate::error::StoreError>(())
        })?;
        Ok(blob)
    }

    /// Remove uploads that no application references and that are older than `age`
    /// (uploaded but never attached, or attached to a draft since changed): their
    /// files and their uploader records. Partial uploads left by a crash go too.
    /// Returns (blobs removed, bytes freed).
    ///
    /// # Errors
    /// Storage errors; I/O errors removing a file leave it (and its record) in place.
    pub fn remove_unreferenced_blobs(&self, age: std::time::Duration) -> Result<(u64, u64), crate::error::StoreError> {
        use redb::ReadableTable;
        self.blobs.remove_stale_partials(age);
        let referenced: std::collections::HashSet<String> = {
            let tx = self.begin_read()?;
            let apps = crate::tables::APPS.open(&tx)?;
            let mut set = std::collections::HashSet::new();
            for row in apps.iter()? {
                let (_, app) = row?;
                set.extend(app.attachments.into_iter().map(|a| a.sha256));
            }
            set
        };
        let now = std::time::SystemTime::now();
        let candidates: Vec<(String, String)> = {
            let tx = self.begin_read()?;
            let owners = match tx.open_table(crate::tables::BLOB_OWNERS) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok((0, 0)),
                Err(e) => return Err(e.into()),
            };
            let mut v = Vec::new();
            for row in owners.iter()? {
                let (k, _) = row?;
                let (sha, user) = k.value();
                if !referenced.contains(sha) {
                    v.push((sha.to_string(), user.to_string()));
                }
            }
            v
        };
        let mut removed = std::collections::BTreeMap::new();
        for (sha, _) in &candidates {
            if removed.contains_key(sha) {
                continue;
            }
            let path = self.blobs.path(sha);
            let Ok(meta) = std::fs::metadata(&path) else {
                removed.insert(sha.clone(), 0); // the file is gone already: drop the records
                continue;
            };
            let old = meta.modified().is_ok_and(|t| now.duration_since(t).unwrap_or_default() >= age);
            if old && std::fs::remove_file(&path).is_ok() {
                removed.insert(sha.clone(), meta.len());
            }
        }
        self.write(|tx| {
            let mut t = tx.open_table(crate::tables::BLOB_OWNERS)?;
            for (sha, user) in candidates.iter().filter(|(sha, _)| removed.contains_key(sha)) {
                t.remove((sha.as_str(), user.as_str()))?;
            }
            Ok::<_, crate::error::StoreError>(())
        })?;
        Ok((removed.values().filter(|n| **n > 0).count() as u64, removed.values().sum()))
    }

    /// Whether `user_id` uploaded the blob `sha256`.
    ///
    /// # Errors
    /// Storage errors.
    pub(crate) fn uploaded_by(&self, sha256: &str, user_id: &str) -> Result<bool, crate::error::StoreError> {
        let tx = self.begin_read()?;
        let t = match tx.open_table(crate::tables::BLOB_OWNERS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        Ok(t.get((sha256, user_id))?.is_some())
    }

    /// Where a stored attachment's content is.
    pub fn blob_path(&self, sha256: &str) -> std::path::PathBuf {
        self.blobs.path(sha256)
    }

    pub(crate) fn blobs(&self) -> &crate::attachments::BlobStore {
        &self.blobs
    }

    /// Group-commit counters since the kernel opened.
    pub fn commit_stats(&self) -> crate::commit::CommitStats {
        self.group.stats()
    }

    /// A read transaction, counted ([`Kernel::tx_counts`]).
    pub(crate) fn begin_read(&self) -> Result<redb::ReadTransaction, StoreError> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(redb::ReadableDatabase::begin_read(&self.db)?)
    }

    /// Count a durable commit made outside the group commit.
    pub(crate) fn counted_commit(&self, tx: redb::WriteTransaction) -> Result<(), StoreError> {
        tx.commit()?;
        self.commits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Read transactions begun and durable commits made since the kernel opened (the
    /// group commit's included): what an operation costs, for benchmarks.
    pub fn tx_counts(&self) -> TxCounts {
        use std::sync::atomic::Ordering::Relaxed;
        TxCounts { reads: self.reads.load(Relaxed), commits: self.commits.load(Relaxed) + self.group.stats().commits }
    }

    pub(crate) fn idempotency_slots(&self) -> &crate::idempotency::Slots {
        &self.idempotency
    }

    pub(crate) fn db(&self) -> &Database {
        &self.db
    }

    /// The kernel's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn host(&self) -> &WasmHost {
        &self.host
    }

    /// Install a program plugin from its component bytes, with default limits.
    pub fn install_plugin(&self, bytes: &[u8]) -> Result<Installed, InstallError> {
        self.install_plugin_with_limits(bytes, PluginLimits::default())
    }

    /// Verify the component exports a hosted WIT version, describe it, validate the
    /// manifest and store bytes, sha256 and manifest in one transaction. Installing
    /// other bytes under an installed program version is refused.
    pub fn install_plugin_with_limits(&self, bytes: &[u8], limits: PluginLimits) -> Result<Installed, InstallError> {
        let (id, manifest, prepared) = describe_component(&self.host, bytes, &limits)?;
        let cache = prepared.cache;
        let sha256 = id.sha256.clone();
        let installed_at = self.now().0.max(0) as u64;
        let record = PluginRecord { id, size: bytes.len() as u64, installed_at, limits, manifest };
        // Through `write`: a keyed request's answer is remembered in the same
        // transaction as the install.
        let form_warnings = crate::manifest_check::form_problems(&record.manifest);
        self.write(|tx| match registry::insert_in(tx, &record, bytes)? {
            Inserted::New => Ok(Installed {
                record: record.clone(),
                newly_installed: true,
                cache,
                form_warnings: form_warnings.clone(),
            }),
            Inserted::Existing(existing) => {
                Ok(Installed { record: existing, newly_installed: false, cache, form_warnings: form_warnings.clone() })
            }
            Inserted::Conflict(existing) => Err(InstallError::VersionConflict {
                program: record.id.program.clone(),
                version: record.id.version.clone(),
                existing: existing.id.sha256,
                new: sha256.clone(),
            }),
        })
    }

    /// Every installed plugin.
    pub fn plugins(&self) -> Result<Vec<PluginRecord>, StoreError> {
        {
            self.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            registry::list(&self.db)
        }
    }

    pub fn plugin_record(&self, program: &str, version: &str) -> Result<PluginRecord, LookupError> {
        {
            self.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            registry::get(&self.db, program, version)?
        }
        .ok_or_else(|| LookupError::NotInstalled { program: program.into(), version: version.into() })
    }

    /// The installed plugin with this sha256.
    pub fn plugin_record_by_sha(&self, sha256: &str) -> Result<PluginRecord, LookupError> {
        self.plugins()?
            .into_iter()
            .find(|r| r.id.sha256 == sha256)
            .ok_or_else(|| LookupError::UnknownSha { sha256: sha256.into() })
    }

    /// Load an installed plugin for calls (compiled once per process, cached on disk).
    pub fn plugin(&self, program: &str, version: &str) -> Result<Arc<LoadedPlugin>, LookupError> {
        let record = self.plugin_record(program, version)?;
        self.load(record)
    }

    pub fn plugin_by_sha(&self, sha256: &str) -> Result<Arc<LoadedPlugin>, LookupError> {
        if let Some(p) = self.loaded.lock().expect("not poisoned").get(sha256) {
            return Ok(p.clone());
        }
        let record = self.plugin_record_by_sha(sha256)?;
        self.load(record)
    }

    fn load(&self, record: PluginRecord) -> Result<Arc<LoadedPlugin>, LookupError> {
        if let Some(p) = self.loaded.lock().expect("not poisoned").get(&record.id.sha256) {
            return Ok(p.clone());
        }
        // The compiled component from the disk cache needs no bytes; otherwise read and compile them.
        let prepared = match self.host.prepare_cached(&record.id.sha256) {
            Some(prepared) => prepared,
            None => {
                let bytes = {
                    self.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    registry::bytes(&self.db, &record.id.sha256)?
                }
                .ok_or_else(|| StoreError::Corrupt {
                    key: format!("plugin_blobs/{}", record.id.sha256),
                    message: "missing".into(),
                })?;
                self.host.prepare(&record.id.sha256, &bytes)
            }
        }
        .map_err(|e| LookupError::Load { message: e.to_string() })?;
        let forms = FormSet::compile(&record.manifest).map_err(|message| LookupError::Load { message })?;
        let plugin = WasmPlugin::new(self.host.clone(), record.id.clone(), record.manifest, record.limits, prepared);
        let loaded = Arc::new(LoadedPlugin { plugin, forms });
        self.loaded.lock().expect("not poisoned").insert(record.id.sha256, loaded.clone());
        Ok(loaded)
    }

    /// Change a plugin's per-call limits (fuel, memory, input and output caps).
    pub fn set_plugin_limits(
        &self,
        program: &str,
        version: &str,
        limits: PluginLimits,
    ) -> Result<PluginRecord, LookupError> {
        let rec = registry::set_limits(&self.db, program, version, limits)?
            .ok_or_else(|| LookupError::NotInstalled { program: program.into(), version: version.into() })?;
        self.loaded.lock().expect("not poisoned").remove(&rec.id.sha256);
        Ok(rec)
    }

    /// Re-hash the stored bytes and describe the component again.
    pub fn verify_plugin(&self, program: &str, version: &str) -> Result<Verified, LookupError> {
        let record = self.plugin_record(program, version)?;
        let bytes = {
            self.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            registry::bytes(&self.db, &record.id.sha256)?
        }
        .unwrap_or_default();
        let bytes_intact = crate::tables::sha256_hex(&bytes) == record.id.sha256;
        let manifest_matches = bytes_intact
            && self
                .host
                .prepare(&record.id.sha256, &bytes)
                .ok()
                .and_then(|p| self.host.describe(&p, &record.limits).ok())
                .is_some_and(|m| m.value == record.manifest);
        Ok(Verified { id: record.id, bytes_intact, manifest_matches })
    }

    /// Validate form data against the form's schema, then (if it passes) run the
    /// plugin's check. The same request always gives the same report.
    pub fn check_application(
        &self,
        program: &str,
        version: &str,
        request: &CheckRequest,
    ) -> Result<CheckReport, CheckError> {
        let loaded = self.plugin(program, version)?;
        check_with(&loaded, request)
    }

    pub fn check_round(
        &self,
        program: &str,
        version: &str,
        round: &RoundInfo,
    ) -> Result<Metered<RoundCheck>, CheckError> {
        let loaded = self.plugin(program, version)?;
        Ok(loaded.plugin.check_round(round)?)
    }
}

/// Check that `bytes` is a component exporting a hosted WIT version, call its
/// `describe` under `limits` and validate the manifest: everything install does
/// before it stores anything.
fn describe_component(
    host: &WasmHost,
    bytes: &[u8],
    limits: &PluginLimits,
) -> Result<(PluginId, Manifest, Prepared), InstallError> {
    let sha256 = crate::tables::sha256_hex(bytes);
    let prepared = host.prepare(&sha256, bytes)?;
    // Program and version are what `describe` says: until then, only the bytes' hash.
    let provisional =
        PluginId { program: String::new(), version: String::new(), sha256: sha256.clone(), wit: prepared.wit.clone() };
    let manifest = host
        .describe(&prepared, limits)
        .map_err(|fault| match fault {
            // The export exists under our name (checked when prepared), yet no instance
            // can be made: its functions have other types (wasmtime type-checks them
            // at instantiation). Traps and resource limits are faults of their own, so
            // what fails here is the component's fit to the world — classified by the
            // step that failed, never by the message.
            crate::error::PluginFault::Instantiate { message } => InstallError::WorldMismatch {
                interface: format!("{}@{}", shenbao_contract::WIT_INTERFACE, provisional.wit),
                message,
            },
            fault => InstallError::Describe(crate::error::PluginCallError {
                plugin: provisional.clone(),
                call: crate::plugin::CallKind::Describe,
                fault,
            }),
        })?
        .value;
    let problems = crate::manifest_check::problems(&manifest);
    if !problems.is_empty() {
        return Err(InstallError::InvalidManifest { program: manifest.program, version: manifest.version, problems });
    }
    let id = PluginId {
        program: manifest.program.clone(),
        version: manifest.version.clone(),
        sha256,
        wit: prepared.wit.clone(),
    };
    Ok((id, manifest, prepared))
}

/// `v` with every whole number written as an integer (`2023.0` → `2023`), or `None`
/// when it has none to rewrite.
pub fn canonical_numbers(v: &serde_json::Value) -> Option<serde_json::Value> {
    fn walk(v: &mut serde_json::Value) -> bool {
        match v {
            serde_json::Value::Number(n) if n.is_f64() => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
                    *v = serde_json::Value::from(f as i64);
                    return true;
                }
                false
            }
            serde_json::Value::Array(a) => a.iter_mut().fold(false, |c, x| walk(x) | c),
            serde_json::Value::Object(m) => m.values_mut().fold(false, |c, x| walk(x) | c),
            _ => false,
        }
    }
    let mut out = v.clone();
    walk(&mut out).then_some(out)
}

/// Schema validation then the plugin's check, for one loaded plugin.
pub fn check_with(loaded: &LoadedPlugin, request: &CheckRequest) -> Result<CheckReport, CheckError> {
    let data: serde_json::Value =
        serde_json::from_str(&request.data).map_err(|e| CheckError::FormNotJson { message: e.to_string() })?;
    let schema_findings = loaded.forms.validate(&request.form, &data).ok_or_else(|| CheckError::UnknownForm {
        form: request.form.clone(),
        known: loaded.plugin.manifest().forms.iter().map(|f| f.id.clone()).collect(),
    })?;
    if !schema_findings.is_empty() {
        return Ok(CheckReport { schema_findings, kernel_findings: Vec::new(), plugin: None });
    }
    // Every language sees one form of a number: a whole number as an integer (`2023.0`
    // is an integer to JSON Schema, but a Rust `u32` refuses it while Python accepts it).
    let canonical;
    let request = match canonical_numbers(&data) {
        Some(whole) => {
            canonical = CheckRequest { data: whole.to_string(), ..request.clone() };
            &canonical
        }
        None => request,
    };
    let result = loaded.plugin.check_application(request)?;
    Ok(CheckReport { schema_findings, kernel_findings: Vec::new(), plugin: Some(result) })
}
