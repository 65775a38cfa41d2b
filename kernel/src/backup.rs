//! Backups: a consistent copy of the whole database taken from one read
//! transaction while the kernel keeps running (readers never block the writer, and
//! the writer never changes what a reader sees), plus the content-addressed
//! attachment files; and restore, which checks a backup before putting it in place.

use crate::error::StoreError;
use crate::kernel::Kernel;
use crate::tables::*;
use redb::{Database, ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};
use std::path::Path;

crate::error::redb_into!(BackupError);

/// What a backup or restore copied.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct BackupReport {
    pub path: String,
    /// Records copied, all tables together.
    pub records: u64,
    pub decisions: u64,
    pub blobs: u64,
    pub chain_head: String,
    /// Restore only: the backup was written by an older Shenbao and the restored
    /// copy was upgraded (the backup itself stays as it was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<crate::kernel::Upgrade>,
}

/// A backup or restore refused.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "目标文件“{0}”已存在，备份与恢复从不覆盖文件 / {0} already exists; choose a new path (a backup or restore never overwrites)"
    )]
    Exists(String),
    #[error("“{path}”未通过校验，未作任何更改 / {path} does not verify: {problem}")]
    Invalid { path: String, problem: String },
    /// A round export that cannot be read as one (not text, a broken line, an
    /// unknown record type): the input is wrong, nothing is stored.
    #[error("轮次导出文件无法读取：{problem} / the round export cannot be read: {problem}")]
    BadExport { problem: String },
    /// An organisation of a round export is in this database already, with another
    /// city, district, channel or tags, while one of its applications in the export is
    /// under review: imported, it would be reviewed by another region than the one
    /// its decisions say (as an organisation may not move while under review).
    #[error(
        "单位“{name}”（{org}）在本库中的所属市、区县、渠道或标签与导出文件不同，而其申报“{application}”正处于“{stage_zh}”环节，导入后将转由另一地区办理；请先使两边一致，未导入任何内容 / organisation {org} ({name}) has another city, district, channel or tags here than in the export, while its application {application:?} is at {stage}: imported, it would be reviewed by another region; make them agree first — nothing was imported"
    )]
    OrganisationDiffers { org: String, name: String, application: String, stage: String, stage_zh: String },
    /// The backup to restore from does not exist.
    #[error("备份“{0}”不存在 / no backup at {0}")]
    Missing(String),
    #[error("文件“{path}”读写失败 / {path}: {message}")]
    Io { path: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Round(#[from] crate::workflow::RoundError),
    #[error(transparent)]
    Lookup(#[from] crate::error::LookupError),
}

impl crate::error::Classified for BackupError {
    fn kind(&self) -> crate::ErrorKind {
        use crate::ErrorKind;
        match self {
            BackupError::Exists(_) | BackupError::OrganisationDiffers { .. } => ErrorKind::Conflict,
            BackupError::Invalid { .. } => ErrorKind::Corrupt,
            BackupError::Missing(_) => ErrorKind::NotFound,
            BackupError::BadExport { .. } => ErrorKind::Invalid,
            BackupError::Io { .. } => ErrorKind::Storage,
            BackupError::Store(e) => e.kind(),
            BackupError::Round(e) => e.kind(),
            BackupError::Lookup(e) => e.kind(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            BackupError::Exists(_) => "exists",
            BackupError::Invalid { .. } => "backup_invalid",
            BackupError::Missing(_) => "not_found",
            BackupError::BadExport { .. } => "invalid_export",
            BackupError::OrganisationDiffers { .. } => "organisation_differs",
            BackupError::Io { .. } => "store",
            BackupError::Store(e) => e.code(),
            BackupError::Round(e) => e.code(),
            BackupError::Lookup(e) => e.code(),
        }
    }
    fn advice(&self) -> &'static str {
        match self {
            BackupError::Exists(_) => {
                "name a file that does not exist yet, or move the existing one away (a backup or restore never \
                 overwrites)"
            }
            _ => crate::error::Classified::kind(self).advice(),
        }
    }
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
        + copy(r, w, PLUGINS.raw())?
        + copy(r, w, REGIONS.raw())?
        + copy(r, w, ORGS.raw())?
        + copy(r, w, USERS.raw())?
        + copy(r, w, ROUNDS.raw())?
        + copy(r, w, APPS.raw())?
        + copy(r, w, QUEUE)?
        + copy(r, w, HANDLED)?
        + copy(r, w, BY_APPLICANT)?
        + copy(r, w, QUOTA_USED)?
        + copy(r, w, DECISIONS.raw())?
        + copy(r, w, DECISIONS_BY_APP)?
        + copy(r, w, CHECK_INPUTS)?
        + copy(r, w, BANS.raw())?
        + copy(r, w, CALENDARS.raw())?
        + copy(r, w, COUNTERS)?
        + copy(r, w, ROUND_VERSIONS)?
        + copy(r, w, CHAIN_HEAD)?
        + copy(r, w, TOKENS.raw())?
        + copy(r, w, IDEMPOTENCY.raw())?
        + copy(r, w, API_RESPONSES.raw())?
        + copy(r, w, PASSWORDS.raw())?
        + copy(r, w, SESSIONS.raw())?
        + copy(r, w, SIGNIN_CODES.raw())?
        + copy(r, w, BLOB_OWNERS)?)
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
        let r = self.begin_read()?;
        let out = Database::create(dest)
            .map_err(|e| BackupError::Io { path: dest.display().to_string(), message: e.to_string() })?;
        let w = out.begin_write()?;
        let records = copy_all(&r, &w)?;
        w.commit()?;
        drop(out);
        let blobs = copy_blobs(self.blobs().dir(), &crate::kernel::default_blob_dir(dest))?;
        let copy = Kernel::open(dest)
            .map_err(|e| BackupError::Invalid { path: dest.display().to_string(), problem: e.to_string() })?;
        let chain = copy.verify_chain()?;
        Ok(BackupReport {
            path: dest.display().to_string(),
            records,
            decisions: chain.length,
            blobs,
            chain_head: chain.head,
            upgrade: None,
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
        // Opening creates a missing file: a backup that is not there is not restored.
        if !from.is_file() {
            return Err(BackupError::Missing(from.display().to_string()));
        }
        // The backup is only read: opened read-only (which also says whether a
        // process holds it), copied beside the target, and the copy verified and
        // renamed into place — a read-only backup restores, and stays as it was.
        let probe = redb::ReadOnlyDatabase::open(from).map_err(|e| match StoreError::from(e) {
            s @ StoreError::InUse => BackupError::Store(s),
            other => invalid(other.to_string()),
        })?;
        let name = to.file_name().map_or_else(|| "restore".into(), |n| n.to_string_lossy().into_owned());
        let partial = to.with_file_name(format!(".{name}.restoring"));
        let io = |e: std::io::Error| BackupError::Io { path: to.display().to_string(), message: e.to_string() };
        std::fs::copy(from, &partial).map_err(io)?;
        drop(probe);
        // `copy` keeps the backup's mode; the restored database is written to, by
        // its owner only (never world-writable, whatever the backup's mode was).
        let mut mode = std::fs::metadata(&partial).map_err(io)?.permissions();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            mode.set_mode(0o600);
        }
        #[cfg(not(unix))]
        #[allow(clippy::permissions_set_readonly_false)]
        mode.set_readonly(false);
        std::fs::set_permissions(&partial, mode).map_err(io)?;
        let verified = (|| {
            let k = Kernel::open(&partial).map_err(|e| invalid(e.to_string()))?;
            let chain = k.verify_chain()?;
            if let Some(i) = chain.first_broken {
                return Err(invalid(format!("decision #{i} does not verify")));
            }
            let problems = k.verify_indexes()?;
            if !problems.is_empty() {
                return Err(invalid(problems.join("; ")));
            }
            // Every attachment an application carries is in the backup's folder
            // (`NAME.blobs`): a database without them is not a whole backup.
            let blobs = crate::attachments::BlobStore::new(crate::kernel::default_blob_dir(from));
            let tx = k.begin_read()?;
            for row in crate::tables::APPS.open(&tx)?.iter()? {
                let (_, app) = row?;
                if let Some(a) = app.attachments.iter().find(|a| !blobs.path(&a.sha256).is_file()) {
                    return Err(invalid(format!(
                        "附件 {} 不在备份的附件目录 {} 中 / attachment {} of application {} is not in the backup's \
                         attachments folder {} (a backup is the database file and that folder together)",
                        a.sha256,
                        blobs.dir().display(),
                        a.sha256,
                        app.id,
                        blobs.dir().display()
                    )));
                }
            }
            let mut records = 0;
            for table in tx.list_tables()? {
                records += redb::ReadableTableMetadata::len(&tx.open_untyped_table(table)?)?;
            }
            Ok(BackupReport {
                path: to.display().to_string(),
                records,
                decisions: chain.length,
                blobs: 0,
                chain_head: chain.head,
                upgrade: k.upgrade(),
            })
        })();
        let report = match verified {
            Ok(r) => r,
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        };
        std::fs::rename(&partial, to).map_err(io)?;
        let blobs = copy_blobs(&crate::kernel::default_blob_dir(from), &crate::kernel::default_blob_dir(to))?;
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
    /// A recorded check's input, by its digest (what `replay` re-runs).
    CheckInput {
        digest: String,
        request: serde_json::Value,
    },
    Quota {
        quota: String,
        scope: String,
        used: u32,
    },
}

/// What `import_round` brought in.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ImportReport {
    pub round: String,
    pub applications: usize,
    pub decisions: usize,
    /// Organisations added (those already registered are kept as they are).
    pub organisations_added: usize,
    /// Application ids: exported → here.
    pub renamed: std::collections::BTreeMap<String, String>,
}

impl Kernel {
    /// Everything about one round as JSON lines: the round, its pinned plugin's
    /// record, the applicants, every application and every decision on them (in
    /// chain order), and the quota counters. Returns the number of lines.
    pub fn export_round(&self, round_id: &str, mut out: impl std::io::Write) -> Result<u64, BackupError> {
        let round = self.round(round_id)?;
        let mut n = 0u64;
        let mut line = |l: &ExportLine| -> Result<(), BackupError> {
            let io = |e: &dyn std::fmt::Display| BackupError::Io { path: "export".into(), message: e.to_string() };
            serde_json::to_writer(&mut out, l).map_err(|e| io(&e))?;
            out.write_all(b"\n").map_err(|e| io(&e))?;
            n += 1;
            Ok(())
        };
        let plugin = self.plugin_record_by_sha(&round.plugin.sha256)?;
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
        let mut digests = Vec::new();
        for d in decisions {
            if let Some(c) = &d.check {
                digests.push(c.input_digest.clone());
            }
            line(&ExportLine::Decision(Box::new(d)))?;
        }
        for digest in digests {
            let tx = self.begin_read()?;
            let t = tx.open_table(CHECK_INPUTS)?;
            if let Some(v) = t.get(digest.as_str())? {
                let request = crate::tables::decode(&format!("check_inputs/{digest}"), v.value())?;
                line(&ExportLine::CheckInput { digest, request })?;
            }
        }
        for (quota, scope, used) in self.quota_usage(round_id)? {
            line(&ExportLine::Quota { quota, scope, used })?;
        }
        Ok(n)
    }
}

impl Kernel {
    /// Read a round export (`export_round`) into this database, which must not have
    /// the round and must have its pinned plugin installed. Every decision's hash is
    /// checked against its record first; the decisions are then appended to this
    /// database's chain in their original order (new indexes, chained here) with
    /// their origin (index, application, hashes) kept, and applications get this
    /// database's next ids. One transaction: all or nothing.
    pub fn import_round(&self, input: impl std::io::BufRead) -> Result<ImportReport, BackupError> {
        use crate::model::{Application, Decision, DecisionOrigin, Organisation, Round};
        use crate::workflow::{GENESIS, decision_hash, put_round, queue_key, to_json};
        let bad = |problem: String| BackupError::Invalid { path: "the round export".into(), problem };
        let mut round: Option<Round> = None;
        let (mut orgs, mut apps, mut decisions, mut inputs, mut quotas) =
            (Vec::<Organisation>::new(), Vec::<Application>::new(), Vec::<Decision>::new(), Vec::new(), Vec::new());
        for (n, l) in input.lines().enumerate() {
            let l = l.map_err(|e| BackupError::BadExport { problem: format!("line {}: {e}", n + 1) })?;
            if l.trim().is_empty() {
                continue;
            }
            // The tag first, then the record from the same text (form data is kept as
            // raw JSON, which an internally tagged enum cannot buffer).
            #[derive(serde::Deserialize)]
            struct Tag {
                #[serde(rename = "type")]
                kind: String,
            }
            #[derive(serde::Deserialize)]
            struct Input {
                digest: String,
                request: serde_json::Value,
            }
            #[derive(serde::Deserialize)]
            struct QuotaLine {
                quota: String,
                scope: String,
                used: u32,
            }
            let at = |e: serde_json::Error| BackupError::BadExport { problem: format!("line {}: {e}", n + 1) };
            let tag: Tag = serde_json::from_str(&l).map_err(at)?;
            match tag.kind.as_str() {
                "round" => round = Some(serde_json::from_str(&l).map_err(at)?),
                "plugin" => {}
                "organisation" => orgs.push(serde_json::from_str(&l).map_err(at)?),
                "application" => apps.push(serde_json::from_str(&l).map_err(at)?),
                "decision" => decisions.push(serde_json::from_str(&l).map_err(at)?),
                "check-input" => {
                    let i: Input = serde_json::from_str(&l).map_err(at)?;
                    inputs.push((i.digest, i.request));
                }
                "quota" => {
                    let q: QuotaLine = serde_json::from_str(&l).map_err(at)?;
                    quotas.push((q.quota, q.scope, q.used));
                }
                other => {
                    return Err(BackupError::BadExport {
                        problem: format!("line {}: unknown record type {other:?}", n + 1),
                    });
                }
            }
        }
        let round = round.ok_or_else(|| BackupError::BadExport { problem: "no round line".into() })?;
        let id = round.spec.id.clone();
        match self.round(&id) {
            Ok(_) => return Err(BackupError::Exists(format!("round {id}"))),
            Err(crate::workflow::RoundError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        // The pinned plugin must be here (not found: install it first).
        self.plugin_record_by_sha(&round.plugin.sha256)?;
        // The round's graph as `create_round` would check it.
        let graph_problems = crate::graph::check_graph(&round.graph);
        if !graph_problems.is_empty() {
            let list: Vec<String> = graph_problems.iter().map(|f| f.message.zh.clone()).collect();
            return Err(bad(format!("the round's graph does not verify: {}", list.join("；"))));
        }
        for d in &decisions {
            if decision_hash(d) != d.hash {
                return Err(bad(format!("decision #{} does not match its hash: the export was altered", d.index)));
            }
        }
        decisions.sort_by_key(|d| d.index);
        // Where two decisions follow each other in the chain, they are linked.
        for w in decisions.windows(2) {
            if w[1].index == w[0].index + 1 && w[1].prev_hash != w[0].hash {
                return Err(bad(format!(
                    "decision #{} does not follow #{}: the export was altered",
                    w[1].index, w[0].index
                )));
            }
        }
        // Each application agrees with its decisions and its checks — the hashes
        // cover the decisions, this covers the rest: its decisions walk the graph
        // without a gap from the initial stage to where it stands; every decision
        // its state names is among them; its outcome is its stage's; and what it
        // holds (data, direction, applicant, attachments) is what its last check
        // read, unless it was saved since. Quota counters are the units held.
        let checked: std::collections::HashMap<&str, &serde_json::Value> =
            inputs.iter().map(|(digest, request)| (digest.as_str(), request)).collect();
        let stage_of = |id: &str| round.graph.stages.iter().find(|s| s.id == id);
        let mut held: std::collections::BTreeMap<(String, String), u32> = Default::default();
        for a in &apps {
            let who = &a.id;
            if a.round != id {
                return Err(bad(format!("application {who} is of round {}, not {id}", a.round)));
            }
            let own: Vec<&Decision> = decisions.iter().filter(|d| d.application == a.id).collect();
            let mut at = round.graph.initial.as_str();
            for d in &own {
                if d.from != at {
                    return Err(bad(format!(
                        "application {who}: decision #{} moves it from {}, but it was at {at}: decisions are missing",
                        d.index, d.from
                    )));
                }
                at = d.to.as_str();
            }
            // Every accepted decision bumps the application's version.
            if own.len() as u64 != a.state.version {
                return Err(bad(format!(
                    "application {who} has version {} but {} decisions: decisions are missing",
                    a.state.version,
                    own.len()
                )));
            }
            if at != a.state.stage {
                return Err(bad(format!(
                    "application {who} is at {} but its decisions moved it to {at}",
                    a.state.stage
                )));
            }
            let Some(stage) = stage_of(&a.state.stage) else {
                return Err(bad(format!("application {who} is at {}, a stage the round's graph lacks", a.state.stage)));
            };
            if a.state.outcome != crate::engine::stage_outcome(stage) {
                return Err(bad(format!("application {who}'s outcome is not its stage's")));
            }
            let named = a
                .state
                .trail
                .iter()
                .filter_map(|v| v.decision)
                .chain(a.state.entered_by.iter().map(|e| e.decision))
                .chain(a.state.holds.iter().map(|h| h.decision));
            for i in named {
                if !own.iter().any(|d| d.index == i) {
                    return Err(bad(format!(
                        "application {who} names decision #{i}, which is not one of its decisions"
                    )));
                }
            }
            for h in &a.state.holds {
                *held.entry((h.quota.clone(), h.scope.clone())).or_default() += 1;
            }
            let since_save = own.iter().rev().take_while(|d| d.kind != shenbao_contract::ActionKind::SaveDraft);
            if let Some(c) = since_save.filter_map(|d| d.check.as_ref()).next() {
                let Some(request) = checked.get(c.input_digest.as_str()) else {
                    return Err(bad(format!("application {who}: the input of its last check is missing")));
                };
                let data: Option<serde_json::Value> =
                    request.get("data").and_then(|d| d.as_str()).and_then(|d| serde_json::from_str(d).ok());
                let attachments: Option<Vec<shenbao_contract::Attachment>> =
                    request.get("attachments").and_then(|x| serde_json::from_value(x.clone()).ok());
                let same = data.as_ref() == Some(&a.data.to_value())
                    && request["applicant"]["credit_code"].as_str() == Some(a.applicant.as_str())
                    && request["direction"].as_str() == a.direction.as_deref()
                    && attachments.as_ref() == Some(&a.attachments);
                if !same {
                    return Err(bad(format!(
                        "application {who} is not what its last check read (data, applicant, direction or attachments): the export was altered"
                    )));
                }
            }
        }
        let counted: std::collections::BTreeMap<(String, String), u32> =
            quotas.iter().filter(|(_, _, used)| *used > 0).map(|(q, s, u)| ((q.clone(), s.clone()), *u)).collect();
        if counted != held {
            return Err(bad(format!(
                "the quota counters ({counted:?}) are not the units its applications hold ({held:?}): the export was altered"
            )));
        }
        // An organisation the target does not have is added as `upsert_orgs` would
        // take it: a valid code, a channel id, regions the target has, its district
        // in its city (an unchecked one could put an application under review in no
        // one's reach, or on no route).
        // One the target has already routes the export's applications by the target's
        // record: while one of them is under review (in a round not closed), the two
        // must route alike.
        for o in &orgs {
            match self.org(&o.credit_code)? {
                None => self.check_org(o).map_err(|e| bad(format!("organisation {}: {e}", o.credit_code)))?,
                Some(here)
                    if round.status != crate::model::RoundStatus::Closed && !crate::workflow::same_path(&here, o) =>
                {
                    let live = apps.iter().filter(|a| a.applicant == o.credit_code).find_map(|a| {
                        stage_of(&a.state.stage)
                            .filter(|s| crate::workflow::under_review(s.kind))
                            .map(|s| (a.id.clone(), s))
                    });
                    if let Some((application, stage)) = live {
                        return Err(BackupError::OrganisationDiffers {
                            org: o.credit_code.clone(),
                            name: here.name.clone(),
                            application,
                            stage: stage.title.en.clone(),
                            stage_zh: stage.title.zh.clone(),
                        });
                    }
                }
                Some(_) => {}
            }
        }
        let tx = self.db().begin_write()?;
        let mut added = 0;
        let mut renamed = std::collections::BTreeMap::new();
        {
            let mut orgs_t = ORGS.open(&tx)?;
            for o in &orgs {
                if orgs_t.get(o.credit_code.as_str())?.is_none() {
                    // The profile as every way in stores it (compact, as a value writes it).
                    let o =
                        Organisation { profile: crate::model::Profile::from_value(&o.profile.to_value()), ..o.clone() };
                    orgs_t.insert(o.credit_code.as_str(), &o)?;
                    added += 1;
                }
            }
            let mut counters = tx.open_table(COUNTERS)?;
            let mut next = counters.get("next_app")?.map_or(1, |v| v.value());
            for a in &apps {
                renamed.insert(a.id.clone(), format!("A{next:07}"));
                next += 1;
            }
            counters.insert("next_app", next)?;
        }
        // The decisions, appended to this chain.
        let mut new_index = std::collections::BTreeMap::new();
        {
            let mut head_t = tx.open_table(CHAIN_HEAD)?;
            let (mut index, mut prev) = match head_t.get("head")? {
                Some(v) => (v.value().0 + 1, v.value().1.to_string()),
                None => (0, GENESIS.to_string()),
            };
            let mut log = DECISIONS.open(&tx)?;
            let mut by_app = tx.open_table(DECISIONS_BY_APP)?;
            for d in &decisions {
                let app = renamed.get(&d.application).cloned().ok_or_else(|| {
                    bad(format!("decision #{} is on {}, which the export does not contain", d.index, d.application))
                })?;
                let mut n = d.clone();
                n.origin = Some(DecisionOrigin {
                    index: d.index,
                    application: d.application.clone(),
                    prev_hash: d.prev_hash.clone(),
                    hash: d.hash.clone(),
                });
                n.index = index;
                n.application = app.clone();
                n.prev_hash = prev.clone();
                n.hash = decision_hash(&n);
                log.insert(index, &n)?;
                by_app.insert((app.as_str(), index), ())?;
                new_index.insert(d.index, index);
                prev = n.hash.clone();
                index += 1;
            }
            if index > 0 {
                head_t.insert("head", (index - 1, prev.as_str()))?;
            }
        }
        let remap = |i: u64| new_index.get(&i).copied().unwrap_or(i);
        put_round(&tx, &round)?;
        {
            let orgs_t = ORGS.open(&tx)?;
            let mut apps_t = APPS.open(&tx)?;
            let mut queue_t = tx.open_table(QUEUE)?;
            let mut handled_t = tx.open_table(HANDLED)?;
            let mut applicant_t = tx.open_table(BY_APPLICANT)?;
            for a in &apps {
                let mut a = a.clone();
                a.id = renamed[&a.id].clone();
                for v in &mut a.state.trail {
                    v.decision = v.decision.map(remap);
                }
                if let Some(e) = &mut a.state.entered_by {
                    e.decision = remap(e.decision);
                }
                for h in &mut a.state.holds {
                    h.decision = remap(h.decision);
                }
                let Some(org) = orgs_t.get(a.applicant.as_str())? else {
                    return Err(bad(format!("the applicant {} of {} is not in the export", a.applicant, a.id)));
                };
                let k = queue_key(&a, &org);
                queue_t.insert((k.0.as_str(), k.1.as_str(), k.2.as_str(), k.3.as_str(), k.4.as_str()), ())?;
                crate::workflow::index_handled(
                    &mut handled_t,
                    &round,
                    &a.state,
                    (k.0.as_str(), k.2.as_str(), k.3.as_str(), k.4.as_str()),
                )?;
                applicant_t.insert((a.applicant.as_str(), a.round.as_str(), a.id.as_str()), ())?;
                apps_t.insert(a.id.as_str(), &a)?;
            }
            let mut inputs_t = tx.open_table(CHECK_INPUTS)?;
            for (digest, request) in &inputs {
                // Re-encoded as the typed request, byte for byte what was digested.
                let typed: shenbao_contract::CheckRequest =
                    serde_json::from_value(request.clone()).map_err(|e| bad(format!("check input {digest}: {e}")))?;
                let bytes = to_json(&typed);
                if crate::workflow::sha256_hex(&bytes) != *digest {
                    return Err(bad(format!("check input {digest} does not match its digest")));
                }
                inputs_t.insert(digest.as_str(), bytes.as_slice())?;
            }
            let mut quota_t = tx.open_table(QUOTA_USED)?;
            for (q, scope, used) in &quotas {
                quota_t.insert((id.as_str(), q.as_str(), scope.as_str()), *used)?;
            }
        }
        tx.commit()?;
        Ok(ImportReport {
            round: id,
            applications: apps.len(),
            decisions: decisions.len(),
            organisations_added: added,
            renamed,
        })
    }
}
