//! Backups: a consistent copy of the whole database taken from one read
//! transaction while the kernel keeps running (readers never block the writer, and
//! the writer never changes what a reader sees), plus the content-addressed
//! attachment files; and restore, which checks a backup before putting it in place.

use crate::error::StoreError;
use crate::kernel::Kernel;
use crate::tables::*;
use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use std::path::{Path, PathBuf};

/// What a backup or restore copied.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct BackupReport {
    pub path: String,
    /// Records copied, all tables together.
    pub records: u64,
    pub decisions: u64,
    pub blobs: u64,
    pub chain_head: String,
}

/// A backup or restore refused.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists; choose a new path (a backup never overwrites)")]
    Exists(String),
    #[error("the backup at {path} does not verify: {problem}; keep the current database and take a new backup")]
    Invalid { path: String, problem: String },
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn copy<K: redb::Key + 'static, V: redb::Value + 'static>(
    r: &ReadTransaction,
    w: &WriteTransaction,
    def: TableDefinition<K, V>,
) -> Result<u64, StoreError> {
    let src = match r.open_table(def) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let mut dst = w.open_table(def)?;
    let mut n = 0;
    for row in src.iter()? {
        let (k, v) = row?;
        dst.insert(k.value(), v.value())?;
        n += 1;
    }
    Ok(n)
}

fn copy_all(r: &ReadTransaction, w: &WriteTransaction) -> Result<u64, StoreError> {
    Ok(copy(r, w, META)?
        + copy(r, w, PLUGIN_BLOBS)?
        + copy(r, w, PLUGINS)?
        + copy(r, w, REGIONS)?
        + copy(r, w, ORGS)?
        + copy(r, w, USERS)?
        + copy(r, w, ROUNDS)?
        + copy(r, w, APPS)?
        + copy(r, w, QUEUE)?
        + copy(r, w, BY_APPLICANT)?
        + copy(r, w, QUOTA_USED)?
        + copy(r, w, DECISIONS)?
        + copy(r, w, DECISIONS_BY_APP)?
        + copy(r, w, CHECK_INPUTS)?
        + copy(r, w, BANS)?
        + copy(r, w, CALENDARS)?
        + copy(r, w, COUNTERS)?
        + copy(r, w, ROUND_VERSIONS)?
        + copy(r, w, CHAIN_HEAD)?
        + copy(r, w, TOKENS)?
        + copy(r, w, IDEMPOTENCY)?
        + copy(r, w, API_RESPONSES)?)
}

fn blob_dir_of(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".blobs");
    PathBuf::from(p)
}

/// Copy a content-addressed tree: files are immutable, so a plain copy of each is exact.
fn copy_blobs(from: &Path, to: &Path) -> Result<u64, BackupError> {
    let io = |p: &Path, e: std::io::Error| BackupError::Io { path: p.display().to_string(), message: e.to_string() };
    let mut n = 0;
    let Ok(shards) = std::fs::read_dir(from) else { return Ok(0) };
    for shard in shards {
        let shard = shard.map_err(|e| io(from, e))?.path();
        if !shard.is_dir() {
            continue;
        }
        let target = to.join(shard.file_name().unwrap_or_default());
        std::fs::create_dir_all(&target).map_err(|e| io(&target, e))?;
        for f in std::fs::read_dir(&shard).map_err(|e| io(&shard, e))? {
            let f = f.map_err(|e| io(&shard, e))?.path();
            let dest = target.join(f.file_name().unwrap_or_default());
            if !dest.exists() {
                std::fs::copy(&f, &dest).map_err(|e| io(&f, e))?;
            }
            n += 1;
        }
    }
    Ok(n)
}

impl Kernel {
    /// Write a consistent copy of the database to `dest` (which must not exist), and
    /// its attachments beside it (`<dest>.blobs`). Safe while the kernel serves requests.
    pub fn backup(&self, dest: &Path) -> Result<BackupReport, BackupError> {
        if dest.exists() {
            return Err(BackupError::Exists(dest.display().to_string()));
        }
        let r = self.db().begin_read().map_err(StoreError::from)?;
        let out = Database::create(dest)
            .map_err(|e| BackupError::Io { path: dest.display().to_string(), message: e.to_string() })?;
        let w = out.begin_write().map_err(StoreError::from)?;
        let records = copy_all(&r, &w)?;
        w.commit().map_err(StoreError::from)?;
        drop(out);
        let blobs = copy_blobs(self.blobs().dir(), &blob_dir_of(dest))?;
        let copy = Kernel::open(dest)
            .map_err(|e| BackupError::Invalid { path: dest.display().to_string(), problem: e.to_string() })?;
        let chain = copy.verify_chain()?;
        Ok(BackupReport {
            path: dest.display().to_string(),
            records,
            decisions: chain.length,
            blobs,
            chain_head: chain.head,
        })
    }

    /// Put the backup at `from` in place at `to` (which must not exist) after checking
    /// it: it opens as a Shenbao database, its decision chain verifies and its indexes
    /// agree with its records.
    pub fn restore(from: &Path, to: &Path) -> Result<BackupReport, BackupError> {
        if to.exists() {
            return Err(BackupError::Exists(to.display().to_string()));
        }
        let invalid = |problem: String| BackupError::Invalid { path: from.display().to_string(), problem };
        let report = {
            let k = Kernel::open(from).map_err(|e| invalid(e.to_string()))?;
            let chain = k.verify_chain()?;
            if let Some(i) = chain.first_broken {
                return Err(invalid(format!("decision #{i} does not verify")));
            }
            let problems = k.verify_indexes()?;
            if !problems.is_empty() {
                return Err(invalid(problems.join("; ")));
            }
            BackupReport {
                path: to.display().to_string(),
                records: 0,
                decisions: chain.length,
                blobs: 0,
                chain_head: chain.head,
            }
        };
        std::fs::copy(from, to)
            .map_err(|e| BackupError::Io { path: to.display().to_string(), message: e.to_string() })?;
        let blobs = copy_blobs(&blob_dir_of(from), &blob_dir_of(to))?;
        Ok(BackupReport { blobs, ..report })
    }
}

/// One line of a round export (`shenbao export round`): JSON, tagged by `type`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ExportLine {
    Round(Box<crate::model::Round>),
    Plugin(Box<crate::registry::PluginRecord>),
    Organisation(crate::model::Organisation),
    Application(Box<crate::model::Application>),
    Decision(Box<crate::model::Decision>),
    Quota { quota: String, scope: String, used: u32 },
}

impl Kernel {
    /// Everything about one round as JSON lines: the round, its pinned plugin's
    /// record, the applicants, every application and every decision on them (in
    /// chain order), and the quota counters. Returns the number of lines.
    pub fn export_round(&self, round_id: &str, mut out: impl std::io::Write) -> Result<u64, BackupError> {
        let round = self.round(round_id).map_err(|e| BackupError::Store(StoreError::Database(e.to_string())))?;
        let mut n = 0u64;
        let mut line = |l: &ExportLine| -> Result<(), BackupError> {
            let io = |e: &dyn std::fmt::Display| BackupError::Io { path: "export".into(), message: e.to_string() };
            serde_json::to_writer(&mut out, l).map_err(|e| io(&e))?;
            out.write_all(b"\n").map_err(|e| io(&e))?;
            n += 1;
            Ok(())
        };
        let plugin = self
            .plugin_record_by_sha(&round.plugin.sha256)
            .map_err(|e| BackupError::Store(StoreError::Database(e.to_string())))?;
        line(&ExportLine::Round(Box::new(round)))?;
        line(&ExportLine::Plugin(Box::new(plugin)))?;
        let apps = self.applications_in(round_id)?;
        let mut seen = std::collections::BTreeSet::new();
        for a in &apps {
            if seen.insert(a.applicant.clone()) {
                if let Some(o) = self.org(&a.applicant)? {
                    line(&ExportLine::Organisation(o))?;
                }
            }
        }
        let mut decisions = Vec::new();
        for a in &apps {
            line(&ExportLine::Application(Box::new(a.clone())))?;
            decisions.extend(self.decisions_of(&a.id)?);
        }
        decisions.sort_by_key(|d| d.index);
        for d in decisions {
            line(&ExportLine::Decision(Box::new(d)))?;
        }
        for (quota, scope, used) in self.quota_usage(round_id)? {
            line(&ExportLine::Quota { quota, scope, used })?;
        }
        Ok(n)
    }
}
