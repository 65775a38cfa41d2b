//! Rounds, applications and decisions on the redb store: the impure shell around
//! the pure engine. Every change that touches several records is one write
//! transaction, and every accepted action appends a hash-chained decision in it.

use crate::commit::Step;
use crate::engine::{self, Refusal};
use crate::error::{CheckError, Classified, ErrorKind, StoreError};
use crate::graph::check_graph;
use crate::kernel::{CheckReport, Kernel, check_with};
use crate::model::*;
use crate::regions::{Region, RegionKind};
use crate::tables::*;
use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};
use shenbao_contract::{
    ActionKind, Applicant, CheckRequest, Finding, HistoryEntry, Outcome, RoundInfo, Severity, Text,
};

/// Refusals of administrative changes (regions, organisations, users, calendars).
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("统一社会信用代码无效 / invalid credit code {code:?}: {error}")]
    CreditCode { code: String, error: shenbao_contract::credit_code::CreditCodeError },
    #[error("{what} {id:?} does not exist (import regions first)")]
    UnknownRegion { what: &'static str, id: String },
    #[error("unknown channel {0:?}; channels are region, central-enterprise, out-of-province, provincial-soe")]
    UnknownChannel(String),
    #[error("{what}“{id}”不存在 / {what} {id:?} does not exist")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Refusals of round creation and configuration.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    #[error("轮次“{0}”不存在 / round {0:?} does not exist")]
    NotFound(String),
    #[error("轮次“{0}”已存在 / round {0:?} already exists")]
    Exists(String),
    #[error("the round configuration has blocking findings:\n  - {}", findings.iter().map(|f| format!("{} {}: {}", f.rule_id, f.path, f.message.zh)).collect::<Vec<_>>().join("\n  - "))]
    Invalid { findings: Vec<Finding> },
    #[error("轮次“{round}”已{status:?}，规则不能再修改 / round {round:?} is {status:?}; its rules can no longer change")]
    Frozen { round: String, status: RoundStatus },
    #[error("地区“{0}”不存在 / region {0:?} does not exist; give a city or district id such as huizhou or huizhou.huicheng")]
    UnknownRegion(String),
    #[error(transparent)]
    Plugin(#[from] CheckError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Refusals of actions on applications. Nothing changes when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum ActError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("存在阻断性问题，不能提交 / blocking findings: {}", findings.iter().filter(|f| f.severity == Severity::Blocking).map(|f| format!("{} {}: {}", f.rule_id, f.path, f.message.zh)).collect::<Vec<_>>().join("; "))]
    BlockingFindings { findings: Vec<Finding> },
    #[error("{what} {id:?} 不存在 / not found")]
    NotFound { what: &'static str, id: String },
    #[error("direction {direction:?} is not open in this round; open: {open}")]
    UnknownDirection { direction: String, open: String },
    /// Something the submission check read (the application, its attachments, the
    /// organisation's profile, its history, the round) changed between the check and
    /// the transaction that would record it.
    #[error("校验所依据的数据已变化，请重新提交 / what the check read changed before the submission was recorded; submit again")]
    StaleCheck,
    #[error(
        "幂等键“{key}”已用于另一个请求 / idempotency key {key:?} was already used for a different request; use a new key"
    )]
    IdempotencyKeyReused { key: String },
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error(transparent)]
    Blob(#[from] crate::attachments::BlobError),
    #[error(transparent)]
    Round(RoundError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<RoundError> for ActError {
    fn from(e: RoundError) -> Self {
        match e {
            RoundError::NotFound(id) => ActError::NotFound { what: "round", id },
            RoundError::Store(s) => ActError::Store(s),
            RoundError::Plugin(c) => ActError::Check(c),
            other => ActError::Round(other),
        }
    }
}

impl Classified for AdminError {
    fn kind(&self) -> ErrorKind {
        match self {
            AdminError::Store(e) => e.kind(),
            AdminError::NotFound { .. } => ErrorKind::NotFound,
            _ => ErrorKind::Invalid,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            AdminError::Store(e) => e.code(),
            AdminError::NotFound { .. } => "not_found",
            _ => "invalid_reference_data",
        }
    }
    fn advice(&self) -> &'static str {
        match self {
            AdminError::Store(e) => e.advice(),
            AdminError::NotFound { .. } => self.kind().advice(),
            _ => "fix the record named; nothing was imported",
        }
    }
}

impl Classified for RoundError {
    fn kind(&self) -> ErrorKind {
        match self {
            RoundError::NotFound(_) | RoundError::UnknownRegion(_) => ErrorKind::NotFound,
            RoundError::Exists(_) | RoundError::Frozen { .. } => ErrorKind::Conflict,
            RoundError::Invalid { .. } => ErrorKind::Invalid,
            RoundError::Plugin(e) => e.kind(),
            RoundError::Store(e) => e.kind(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            RoundError::NotFound(_) | RoundError::UnknownRegion(_) => "not_found",
            RoundError::Exists(_) => "round_exists",
            RoundError::Invalid { .. } => "round_invalid",
            RoundError::Frozen { .. } => "round_frozen",
            RoundError::Plugin(e) => e.code(),
            RoundError::Store(e) => e.code(),
        }
    }
    fn advice(&self) -> &'static str {
        match self {
            RoundError::Invalid { .. } => "fix the round file where named",
            RoundError::Exists(_) => "choose another id, or `round configure` it",
            RoundError::Frozen { .. } => "create a new round for new rules",
            other => other.kind().advice(),
        }
    }
}

impl Classified for ActError {
    fn kind(&self) -> ErrorKind {
        match self {
            ActError::Refused(r) => r.kind(),
            ActError::BlockingFindings { .. }
            | ActError::UnknownDirection { .. }
            | ActError::IdempotencyKeyReused { .. } => ErrorKind::Invalid,
            ActError::NotFound { .. } => ErrorKind::NotFound,
            ActError::StaleCheck => ErrorKind::Conflict,
            ActError::Check(e) => e.kind(),
            ActError::Blob(e) => e.kind(),
            ActError::Round(e) => e.kind(),
            ActError::Store(e) => e.kind(),
        }
    }
    fn code(&self) -> &'static str {
        ActError::code(self)
    }
}

impl Classified for BatchError {
    fn kind(&self) -> ErrorKind {
        self.error.kind()
    }
    fn code(&self) -> &'static str {
        self.error.code()
    }
}

impl ActError {
    /// Stable code for APIs and exit statuses.
    pub fn code(&self) -> &'static str {
        match self {
            ActError::Refused(r) => r.code(),
            ActError::BlockingFindings { .. } => "blocking_findings",
            ActError::NotFound { .. } => "not_found",
            ActError::UnknownDirection { .. } => "unknown_direction",
            ActError::IdempotencyKeyReused { .. } => "idempotency_key_reused",
            ActError::StaleCheck => "stale_check",
            ActError::Check(e) => e.code(),
            ActError::Blob(e) => crate::error::Classified::code(e),
            ActError::Round(e) => e.code(),
            ActError::Store(e) => e.code(),
        }
    }
}

/// A batch action refused: which application, why. The whole batch changed nothing.
#[derive(Debug, thiserror::Error)]
#[error("batch refused at item {position} ({application}): {error}")]
pub struct BatchError {
    pub position: usize,
    pub application: String,
    pub error: ActError,
}

/// A storage failure of the whole batch (its transaction could not begin or commit).
impl From<StoreError> for BatchError {
    fn from(e: StoreError) -> Self {
        BatchError { position: 0, application: String::new(), error: e.into() }
    }
}

/// What an applicant saves.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Draft {
    pub direction: Option<String>,
    /// Form id; default: the direction's form.
    pub form: Option<String>,
    pub data: serde_json::Value,
    pub project: Option<String>,
    #[serde(default)]
    pub attachments: Vec<shenbao_contract::Attachment>,
}

/// An accepted action.
#[derive(Clone, Debug, PartialEq)]
pub struct Receipt {
    pub decision: Decision,
    pub application: Application,
    /// The check run for this action (submit), with all its findings.
    pub check: Option<CheckReport>,
    /// The request repeated an idempotency key: this is the first request's decision,
    /// and nothing changed now.
    pub replayed: bool,
}

/// An action prepared by [`Kernel::prepare`]: its check run, ready for
/// [`Kernel::act_prepared`].
#[derive(Clone, Debug)]
pub struct Prepared {
    user: User,
    app_id: String,
    req: ActionRequest,
    check: Option<(CheckRequest, CheckReport)>,
}

impl Prepared {
    /// The submission check's report, when the action runs one.
    pub fn check(&self) -> Option<&CheckReport> {
        self.check.as_ref().map(|(_, r)| r)
    }
}

/// What an idempotency key recorded: the request's digest and the decisions it made.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdempotencyRecord {
    pub digest: String,
    pub decisions: Vec<u64>,
}

/// An idempotency key with the digest of the request it came with.
#[derive(Clone, Copy)]
struct Keyed<'a> {
    key: &'a str,
    digest: &'a str,
}

fn request_digest<T: Serialize>(what: &T) -> String {
    sha256_hex(&to_json(what))
}

/// The decision chain's state.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ChainReport {
    pub length: u64,
    /// Index of the first record whose link or hash does not verify.
    pub first_broken: Option<u64>,
    pub head: String,
}

/// A re-run of a recorded check.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ReplayReport {
    pub decision: u64,
    pub recorded: Vec<Finding>,
    pub replayed: Vec<Finding>,
    pub fuel_recorded: u64,
    pub fuel_replayed: u64,
    /// Findings, signals and fuel reproduced bit for bit.
    pub identical: bool,
}

/// One line of a reviewer's queue.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct QueueItem {
    pub application: String,
    pub stage: String,
    pub city: String,
    pub district: String,
}

/// The receipts an idempotency key recorded, read from the given tables; refused if
/// the key came with a different request.
fn key_receipts(
    idem: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    log: &impl ReadableTable<u64, &'static [u8]>,
    apps: &impl ReadableTable<&'static str, &'static [u8]>,
    user_id: &str,
    k: Keyed<'_>,
) -> Result<Option<Vec<Receipt>>, ActError> {
    let rec: IdempotencyRecord = match idem.get((user_id, k.key)).map_err(StoreError::from)? {
        Some(v) => from_json("idempotency", v.value())?,
        None => return Ok(None),
    };
    if rec.digest != k.digest {
        return Err(ActError::IdempotencyKeyReused { key: k.key.to_string() });
    }
    let mut out = Vec::new();
    for i in rec.decisions {
        let decision: Decision = match log.get(i).map_err(StoreError::from)? {
            Some(v) => from_json("decisions", v.value())?,
            None => return Err(ActError::NotFound { what: "decision", id: i.to_string() }),
        };
        let application: Application = match apps.get(decision.application.as_str()).map_err(StoreError::from)? {
            Some(v) => from_json(&decision.application, v.value())?,
            None => return Err(ActError::NotFound { what: "application", id: decision.application.clone() }),
        };
        out.push(Receipt { decision, application, check: None, replayed: true });
    }
    Ok(Some(out))
}

pub(crate) fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("model types serialise")
}

pub(crate) fn from_json<T: DeserializeOwned>(key: &str, b: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(b).map_err(|e| StoreError::Corrupt { key: key.to_string(), message: e.to_string() })
}

pub(crate) fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// The hash of a decision: sha256 over its predecessor's hash and its own JSON without `hash`.
pub fn decision_hash(d: &Decision) -> String {
    let mut copy = d.clone();
    copy.hash = String::new();
    let mut h = Sha256::new();
    h.update(copy.prev_hash.as_bytes());
    h.update(to_json(&copy));
    hex::encode(h.finalize())
}

pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn get<T: DeserializeOwned>(
    tx: &WriteTransaction,
    table: redb::TableDefinition<&str, &[u8]>,
    key: &str,
) -> Result<Option<T>, StoreError> {
    let t = tx.open_table(table)?;
    let v = t.get(key)?;
    v.map(|v| from_json(key, v.value())).transpose()
}

fn get_read<T: DeserializeOwned>(
    tx: &redb::ReadTransaction,
    table: redb::TableDefinition<&str, &[u8]>,
    key: &str,
) -> Result<Option<T>, StoreError> {
    let t = tx.open_table(table)?;
    let v = t.get(key)?;
    v.map(|v| from_json(key, v.value())).transpose()
}

fn put<T: Serialize>(
    tx: &WriteTransaction,
    table: redb::TableDefinition<&str, &[u8]>,
    key: &str,
    v: &T,
) -> Result<(), StoreError> {
    tx.open_table(table)?.insert(key, to_json(v).as_slice())?;
    Ok(())
}

pub(crate) fn history_row(app: &Application, round: &Round) -> HistoryEntry {
    HistoryEntry {
        application: app.id.clone(),
        round: app.round.clone(),
        program: app.program.clone(),
        year: round.spec.year,
        direction: app.direction.clone(),
        project: app.project.clone(),
        stage: app.state.stage.clone(),
        outcome: app.state.outcome,
        decided_on: (app.state.outcome != Outcome::Pending)
            .then(|| app.state.trail.last().map(|v| v.entered_at.local_date()))
            .flatten(),
    }
}

/// Write a round and bump its version (which keys the parsed-round cache).
pub(crate) fn put_round(tx: &WriteTransaction, round: &Round) -> Result<(), StoreError> {
    put(tx, ROUNDS, &round.spec.id, round)?;
    let mut v = tx.open_table(ROUND_VERSIONS)?;
    let next = v.get(round.spec.id.as_str())?.map_or(1, |x| x.value() + 1);
    v.insert(round.spec.id.as_str(), next)?;
    Ok(())
}

/// Everything a submission check reads, from the records it reads them from: the
/// same function builds the request the plugin checks and, inside the write
/// transaction, the one it is compared with (a difference is [`ActError::StaleCheck`]).
pub(crate) fn check_request_of(
    app: &Application,
    round: &Round,
    org: &Organisation,
    history: Vec<HistoryEntry>,
    as_of: shenbao_contract::Date,
) -> CheckRequest {
    CheckRequest {
        form: app.form.clone(),
        direction: app.direction.clone(),
        data: app.data.as_str().to_string(),
        applicant: Applicant {
            credit_code: org.credit_code.clone(),
            name: org.name.clone(),
            channel: org.channel.clone(),
            city: org.city.clone(),
            district: org.district.clone(),
            dishonest: org.dishonest,
            tags: org.tags.clone(),
            qualifications: org.qualifications.clone(),
            profile: org.profile.to_string(),
        },
        history,
        attachments: app.attachments.clone(),
        round: RoundInfo {
            id: round.spec.id.clone(),
            program: round.spec.program.clone(),
            year: round.spec.year,
            edition: round.edition.clone(),
            batch: round.spec.batch.clone(),
            config: round.spec.config.to_string(),
        },
        as_of,
    }
}

/// The applicant's history rows (every application but `except`), read from `table`.
fn history_from(
    table: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    credit_code: &str,
    except: &str,
) -> Result<Vec<HistoryEntry>, StoreError> {
    let mut out = Vec::new();
    for row in table.range((credit_code, "")..)? {
        let (k, v) = row?;
        let (code, id) = k.value();
        if code != credit_code {
            break;
        }
        if id == except {
            continue;
        }
        out.push(from_json(id, v.value())?);
    }
    Ok(out)
}

/// A blocking finding of the kernel's own (`round.*`).
fn blocking(rule: &str, path: &str, zh: String, en: String) -> Finding {
    Finding { rule_id: rule.into(), severity: Severity::Blocking, path: path.into(), message: Text::new(zh, en) }
}

/// City → group and region/group id → display name.
pub(crate) struct RegionMaps {
    pub groups: std::collections::HashMap<String, String>,
    pub names: std::collections::HashMap<String, String>,
}

pub(crate) fn queue_key(app: &Application, org: &Organisation) -> (String, String, String, String, String) {
    (
        app.round.clone(),
        app.state.stage.clone(),
        org.city.clone().unwrap_or_default(),
        org.district.clone().unwrap_or_default(),
        app.id.clone(),
    )
}

impl Kernel {
    fn read<T: DeserializeOwned>(
        &self,
        table: redb::TableDefinition<&str, &[u8]>,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let tx = self.begin_read()?;
        let t = tx.open_table(table)?;
        let v = t.get(key)?;
        v.map(|v| from_json(key, v.value())).transpose()
    }

    fn read_all<T: DeserializeOwned>(&self, table: redb::TableDefinition<&str, &[u8]>) -> Result<Vec<T>, StoreError> {
        let tx = self.begin_read()?;
        let t = tx.open_table(table)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            out.push(from_json(k.value(), v.value())?);
        }
        Ok(out)
    }

    // ------------------------------------------------------------------ reference data

    /// Add or replace regions (parents first). Districts need their city.
    pub fn import_regions(&self, regions: &[Region]) -> Result<usize, AdminError> {
        self.write(|tx| {
            let mut t = tx.open_table(REGIONS).map_err(StoreError::from)?;
            for r in regions {
                if let Some(p) = &r.parent {
                    let known =
                        t.get(p.as_str()).map_err(StoreError::from)?.is_some() || regions.iter().any(|x| &x.id == p);
                    if !known {
                        return Err(AdminError::UnknownRegion { what: "parent region", id: p.clone() });
                    }
                }
                t.insert(r.id.as_str(), to_json(r).as_slice()).map_err(StoreError::from)?;
            }
            let mut c = tx.open_table(COUNTERS).map_err(StoreError::from)?;
            let v = c.get("regions_version").map_err(StoreError::from)?.map_or(0, |v| v.value());
            c.insert("regions_version", v + 1).map_err(StoreError::from)?;
            Ok(regions.len())
        })
    }

    pub fn regions(&self) -> Result<Vec<Region>, StoreError> {
        self.read_all(REGIONS)
    }

    pub fn region(&self, id: &str) -> Result<Option<Region>, StoreError> {
        self.read(REGIONS, id)
    }

    /// A round as of `tx`, parsed once per stored version.
    fn round_in(&self, tx: &WriteTransaction, id: &str) -> Result<Option<std::sync::Arc<Round>>, StoreError> {
        let version = tx.open_table(ROUND_VERSIONS)?.get(id)?.map_or(0, |v| v.value());
        if let Some(r) = self.caches().rounds.get(id).filter(|(v, _)| *v == version) {
            return Ok(Some(r.1.clone()));
        }
        let Some(round) = get::<Round>(tx, ROUNDS, id)? else { return Ok(None) };
        let round = std::sync::Arc::new(round);
        self.caches().rounds.insert(id.to_string(), (version, round.clone()));
        Ok(Some(round))
    }

    /// A round as of a read transaction (parsed once per stored version).
    fn round_read(&self, tx: &redb::ReadTransaction, id: &str) -> Result<Option<std::sync::Arc<Round>>, StoreError> {
        let version = tx.open_table(ROUND_VERSIONS)?.get(id)?.map_or(0, |v| v.value());
        if let Some(r) = self.caches().rounds.get(id).filter(|(v, _)| *v == version) {
            return Ok(Some(r.1.clone()));
        }
        let Some(round) = get_read::<Round>(tx, ROUNDS, id)? else { return Ok(None) };
        let round = std::sync::Arc::new(round);
        self.caches().rounds.insert(id.to_string(), (version, round.clone()));
        Ok(Some(round))
    }

    /// The application `id` if `user` may see it (the access policy's
    /// [`may_see`](crate::engine::access::may_see)), read in one transaction with its
    /// round and applicant; one it may not see is [`ActError::NotFound`], exactly like
    /// a missing one.
    ///
    /// # Errors
    /// `not_found` for a missing or invisible application; storage errors.
    pub fn application_as(&self, user: &User, id: &str) -> Result<Application, ActError> {
        let hidden = || ActError::NotFound { what: "application", id: id.to_string() };
        let tx = self.begin_read()?;
        let app: Application = get_read(&tx, APPS, id)?.ok_or_else(hidden)?;
        let round = self.round_read(&tx, &app.round)?.ok_or_else(hidden)?;
        let org: Organisation = get_read(&tx, ORGS, &app.applicant)?.ok_or_else(hidden)?;
        if crate::engine::access::may_see(user, &app, &round, &org) { Ok(app) } else { Err(hidden()) }
    }

    /// Region maps as of `tx`, rebuilt when the regions change.
    fn region_maps_in(&self, tx: &WriteTransaction) -> Result<std::sync::Arc<RegionMaps>, StoreError> {
        let version = tx.open_table(COUNTERS)?.get("regions_version")?.map_or(0, |v| v.value());
        if let Some((v, m)) = &self.caches().regions {
            if *v == version {
                return Ok(m.clone());
            }
        }
        let mut groups = std::collections::HashMap::new();
        let mut names: std::collections::HashMap<String, String> =
            crate::regions::CITY_GROUPS.iter().map(|(id, n)| (id.to_string(), n.to_string())).collect();
        for row in tx.open_table(REGIONS)?.iter()? {
            let (k, v) = row?;
            let r: Region = from_json(k.value(), v.value())?;
            if let Some(g) = &r.group {
                groups.insert(r.id.clone(), g.clone());
            }
            names.insert(r.id, r.name);
        }
        let maps = std::sync::Arc::new(RegionMaps { groups, names });
        self.caches().regions = Some((version, maps.clone()));
        Ok(maps)
    }

    fn city_groups(&self) -> Result<std::collections::HashMap<String, String>, StoreError> {
        Ok(self
            .regions()?
            .into_iter()
            .filter(|r| r.kind == RegionKind::City)
            .filter_map(|r| r.group.map(|g| (r.id, g)))
            .collect())
    }

    /// Add or replace an organisation; its credit code, channel and regions are checked.
    pub fn upsert_org(&self, org: &Organisation) -> Result<(), AdminError> {
        self.upsert_orgs(std::slice::from_ref(org)).map(|_| ())
    }

    /// Add or replace organisations, all in one transaction or none (each checked
    /// first). Returns how many were written.
    ///
    /// # Errors
    /// [`AdminError`] naming the first invalid organisation (nothing is written).
    pub fn upsert_orgs(&self, orgs: &[Organisation]) -> Result<usize, AdminError> {
        for org in orgs {
            self.check_org(org)?;
        }
        Ok(self.write_all(ORGS, orgs, |o| &o.credit_code)?)
    }

    /// Write records in one transaction, each under its key.
    fn write_all<T: Serialize>(
        &self,
        table: redb::TableDefinition<&str, &[u8]>,
        items: &[T],
        key: impl Fn(&T) -> &str,
    ) -> Result<usize, StoreError> {
        self.write(|tx| {
            for item in items {
                put(tx, table, key(item), item)?;
            }
            Ok(items.len())
        })
    }

    fn check_org(&self, org: &Organisation) -> Result<(), AdminError> {
        shenbao_contract::credit_code::validate(&org.credit_code)
            .map_err(|error| AdminError::CreditCode { code: org.credit_code.clone(), error })?;
        if !crate::regions::CHANNELS.iter().any(|(c, _)| *c == org.channel) {
            return Err(AdminError::UnknownChannel(org.channel.clone()));
        }
        if org.name.trim().is_empty() {
            return Err(AdminError::Invalid("organisation name is empty".into()));
        }
        if let Some(c) = &org.city {
            match self.region(c)? {
                Some(r) if r.kind == RegionKind::City => {}
                _ => return Err(AdminError::UnknownRegion { what: "city", id: c.clone() }),
            }
        }
        if let Some(d) = &org.district {
            match self.region(d)? {
                Some(r) if r.kind == RegionKind::District && r.parent == org.city => {}
                _ => {
                    return Err(AdminError::UnknownRegion {
                        what: "district (of the organisation's city)",
                        id: d.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    pub fn org(&self, credit_code: &str) -> Result<Option<Organisation>, StoreError> {
        self.read(ORGS, credit_code)
    }

    pub fn orgs(&self) -> Result<Vec<Organisation>, StoreError> {
        self.read_all(ORGS)
    }

    /// Add or replace a user; every grant's scope must exist.
    pub fn upsert_user(&self, user: &User) -> Result<(), AdminError> {
        self.upsert_users(std::slice::from_ref(user)).map(|_| ())
    }

    /// Add or replace users, all in one transaction or none. Returns how many were
    /// written.
    ///
    /// # Errors
    /// [`AdminError`] naming the first invalid user (nothing is written).
    pub fn upsert_users(&self, users: &[User]) -> Result<usize, AdminError> {
        for u in users {
            self.check_user(u)?;
        }
        Ok(self.write_all(USERS, users, |u| &u.id)?)
    }

    /// Every user.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        self.read_all(USERS)
    }

    fn check_user(&self, user: &User) -> Result<(), AdminError> {
        if user.id.trim().is_empty() {
            return Err(AdminError::Invalid("user id is empty".into()));
        }
        for g in &user.grants {
            match &g.scope {
                Scope::City(c) if !self.region(c)?.is_some_and(|r| r.kind == RegionKind::City) => {
                    return Err(AdminError::UnknownRegion { what: "city", id: c.clone() });
                }
                Scope::District(d) if !self.region(d)?.is_some_and(|r| r.kind == RegionKind::District) => {
                    return Err(AdminError::UnknownRegion { what: "district", id: d.clone() });
                }
                Scope::Organisation(o) if self.org(o)?.is_none() => {
                    return Err(AdminError::Invalid(format!("organisation {o:?} is not registered")));
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.read(USERS, id)
    }

    /// Set the working-day calendar of a year (holidays and make-up days).
    pub fn set_calendar(&self, year: i32, calendar: &crate::calendar::Calendar) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.open_table(CALENDARS)?.insert(year, to_json(calendar).as_slice())?;
            Ok(())
        })
    }

    /// The calendar of a year (weekends only when none is set).
    pub fn calendar(&self, year: i32) -> Result<crate::calendar::Calendar, StoreError> {
        let tx = self.begin_read()?;
        let t = tx.open_table(CALENDARS)?;
        let v = t.get(year)?;
        Ok(v.map(|v| from_json(&format!("calendars/{year}"), v.value())).transpose()?.unwrap_or_default())
    }

    // ------------------------------------------------------------------ rounds

    /// Every finding against a round specification: the graph, the windows, the
    /// cities, and the plugin's own check of the configuration.
    pub fn check_round_spec(&self, spec: &RoundSpec) -> Result<(Round, Vec<Finding>), RoundError> {
        let loaded = self.plugin(&spec.program, &spec.plugin_version).map_err(CheckError::from)?;
        let plugin = loaded.plugin();
        let manifest = crate::plugin::ProgramPlugin::manifest(plugin);
        let mut findings = Vec::new();
        let mut fail = |rule: &str, path: &str, zh: String, en: String| {
            findings.push(Finding {
                rule_id: rule.into(),
                severity: Severity::Blocking,
                path: path.into(),
                message: Text::new(zh, en),
            })
        };
        let edition = spec.edition.clone().unwrap_or_else(|| manifest.default_edition.clone());
        if !manifest.editions.is_empty() && !manifest.editions.iter().any(|e| e.id == edition) {
            fail(
                "round.unknown-edition",
                "$.edition",
                format!("未知版本“{edition}”"),
                format!("unknown edition {edition:?}"),
            );
        }
        let graph = spec.graph.clone().unwrap_or_else(|| manifest.graph.clone());
        findings.extend(check_graph(&graph));
        let p = spec.province;
        let mut fail = |rule: &str, path: &str, zh: String, en: String| {
            findings.push(Finding {
                rule_id: rule.into(),
                severity: Severity::Blocking,
                path: path.into(),
                message: Text::new(zh, en),
            })
        };
        let quotas = spec.quotas.clone().unwrap_or_else(|| manifest.quotas.clone());
        for (i, q) in quotas.iter().enumerate() {
            if !graph.actions.iter().any(|a| a.id == q.action) {
                fail(
                    "round.quota-unknown-action",
                    &format!("$.quotas[{i}].action"),
                    format!("限额“{}”计数的操作“{}”不存在", q.id, q.action),
                    format!("quota {:?} counts undeclared action {:?}", q.id, q.action),
                );
            }
            if let Some(s) = &q.stage {
                if !graph.stages.iter().any(|x| &x.id == s) {
                    fail(
                        "round.quota-unknown-stage",
                        &format!("$.quotas[{i}].stage"),
                        format!("限额“{}”的环节“{s}”不存在", q.id),
                        format!("quota {:?} names undeclared stage {s:?}", q.id),
                    );
                }
            }
        }
        if p.start > p.end {
            fail(
                "round.window.order",
                "$.province",
                "省级申报时间开始晚于结束".into(),
                "the province window ends before it starts".into(),
            );
        }
        if let (Some(c), Some(pd)) = (spec.city_deadline, spec.province_deadline) {
            if c > pd {
                fail(
                    "round.window.city-after-province",
                    "$.city_deadline",
                    format!("地市审核截止 {c} 晚于省级审核截止 {pd}"),
                    format!("city deadline {c} is after the province deadline {pd}"),
                );
            }
        }
        for (city, cfg) in &spec.cities {
            let path = format!("$.cities.{city}");
            match self.region(city)? {
                Some(r) if r.kind == RegionKind::City => {}
                _ => fail(
                    "round.unknown-city",
                    &path,
                    format!("地市“{city}”不存在"),
                    format!("city {city:?} does not exist"),
                ),
            }
            if let Some(w) = cfg.applicants {
                if w.start > w.end || !w.within(&p) {
                    fail(
                        "round.window.city-outside-province",
                        &format!("{path}.applicants"),
                        format!(
                            "{city} 申报时间 {} 至 {} 须在省级申报时间 {} 至 {} 之内",
                            w.start, w.end, p.start, p.end
                        ),
                        format!(
                            "{city}'s applicant window {}–{} must lie inside the province window {}–{}",
                            w.start, w.end, p.start, p.end
                        ),
                    );
                }
            }
            if let Some(d) = cfg.district_deadline {
                let city_end = spec.city_deadline;
                let start = cfg.applicants.map_or(p.start, |w| w.start);
                if d < start || city_end.is_some_and(|c| d > c) {
                    fail(
                        "round.window.district-outside-city",
                        &format!("{path}.district_deadline"),
                        format!(
                            "{city} 区县审核截止 {d} 须在地市审核期内（{start} 至 {}）",
                            city_end.map_or("—".into(), |c| c.to_string())
                        ),
                        format!("{city}'s district deadline {d} must lie inside the city's review period"),
                    );
                }
                if !cfg.district_review {
                    fail(
                        "round.district-deadline-without-review",
                        &format!("{path}.district_deadline"),
                        format!("{city} 未启用区县审核却设置了区县截止时间"),
                        format!("{city} sets a district deadline but no district review"),
                    );
                }
            }
            if cfg.district_review
                && !graph.stages.iter().any(|s| s.optional && s.window.as_deref() == Some("district"))
            {
                fail(
                    "round.no-district-stage",
                    &format!("{path}.district_review"),
                    "本项目流程没有可选的区县审核环节".into(),
                    "the graph has no optional district stage to switch on".into(),
                );
            }
        }
        for stage in spec.switches.keys() {
            if !graph.stages.iter().any(|s| &s.id == stage && s.optional) {
                fail(
                    "round.switch-unknown-stage",
                    &format!("$.switches.{stage}"),
                    format!("“{stage}”不是可选环节"),
                    format!("{stage:?} is not an optional stage"),
                );
            }
        }
        let info = RoundInfo {
            id: spec.id.clone(),
            program: spec.program.clone(),
            year: spec.year,
            edition: edition.clone(),
            batch: spec.batch.clone(),
            config: spec.config.to_string(),
        };
        let checked = crate::plugin::ProgramPlugin::check_round(plugin, &info).map_err(CheckError::from)?;
        findings.extend(checked.value.findings);
        let round = Round {
            spec: spec.clone(),
            plugin: crate::plugin::ProgramPlugin::id(plugin).clone(),
            edition,
            graph,
            quotas,
            directions: checked.value.directions,
            status: RoundStatus::Configured,
            created_at: self.now(),
        };
        Ok((round, findings))
    }

    /// The round a spec makes, or its blocking findings.
    fn sound_round(&self, spec: &RoundSpec) -> Result<Round, RoundError> {
        let (round, findings) = self.check_round_spec(spec)?;
        if findings.iter().any(|f| f.severity == Severity::Blocking) {
            return Err(RoundError::Invalid { findings });
        }
        Ok(round)
    }

    /// Create a round pinned to the plugin's sha256. Refused with findings when the
    /// graph, windows or the plugin's configuration check have blocking problems.
    pub fn create_round(&self, spec: RoundSpec) -> Result<Round, RoundError> {
        if spec.id.trim().is_empty() {
            let f = blocking("round.id", "$.id", "轮次标识为空".into(), "round id is empty".into());
            return Err(RoundError::Invalid { findings: vec![f] });
        }
        let round = self.sound_round(&spec)?;
        self.write(|tx| {
            if get::<Round>(tx, ROUNDS, &spec.id)?.is_some() {
                return Err(RoundError::Exists(spec.id.clone()));
            }
            put_round(tx, &round)?;
            Ok(round)
        })
    }

    pub fn round(&self, id: &str) -> Result<Round, RoundError> {
        Ok((*self.round_arc(id)?).clone())
    }

    /// A round, parsed once per stored version.
    pub(crate) fn round_arc(&self, id: &str) -> Result<std::sync::Arc<Round>, RoundError> {
        let tx = self.begin_read().map_err(StoreError::from)?;
        let version = tx
            .open_table(ROUND_VERSIONS)
            .map_err(StoreError::from)?
            .get(id)
            .map_err(StoreError::from)?
            .map_or(0, |v| v.value());
        if let Some((_, r)) = self.caches().rounds.get(id).filter(|(v, _)| *v == version) {
            return Ok(r.clone());
        }
        let t = tx.open_table(ROUNDS).map_err(StoreError::from)?;
        let v = t.get(id).map_err(StoreError::from)?.ok_or_else(|| RoundError::NotFound(id.into()))?;
        let round = std::sync::Arc::new(from_json::<Round>(id, v.value())?);
        self.caches().rounds.insert(id.to_string(), (version, round.clone()));
        Ok(round)
    }

    pub fn rounds(&self) -> Result<Vec<Round>, StoreError> {
        self.read_all(ROUNDS)
    }

    fn set_status(&self, id: &str, from: &[RoundStatus], to: RoundStatus) -> Result<Round, RoundError> {
        self.write(|tx| {
            let mut round: Round = get(tx, ROUNDS, id)?.ok_or_else(|| RoundError::NotFound(id.into()))?;
            if !from.contains(&round.status) {
                return Err(RoundError::Frozen { round: id.into(), status: round.status });
            }
            round.status = to;
            put_round(tx, &round)?;
            Ok(round)
        })
    }

    pub fn open_round(&self, id: &str) -> Result<Round, RoundError> {
        self.set_status(id, &[RoundStatus::Configured], RoundStatus::Open)
    }

    pub fn close_round(&self, id: &str) -> Result<Round, RoundError> {
        self.set_status(id, &[RoundStatus::Open], RoundStatus::Closed)
    }

    /// Replace the specification of a round that is not open yet.
    pub fn configure_round(&self, spec: RoundSpec) -> Result<Round, RoundError> {
        let existing = self.round(&spec.id)?;
        if existing.status != RoundStatus::Configured {
            return Err(RoundError::Frozen { round: spec.id, status: existing.status });
        }
        if spec.program != existing.spec.program || spec.plugin_version != existing.spec.plugin_version {
            let f = blocking(
                "round.pinned-plugin",
                "$.plugin_version",
                "轮次已绑定插件，不能更换".into(),
                "a round's plugin is pinned and cannot change".into(),
            );
            return Err(RoundError::Invalid { findings: vec![f] });
        }
        let round = self.sound_round(&spec)?;
        self.write(|tx| {
            // Checked again in the transaction that writes: a round opened meanwhile
            // keeps its rules.
            let stored: Round = get(tx, ROUNDS, &spec.id)?.ok_or_else(|| RoundError::NotFound(spec.id.clone()))?;
            if stored.status != RoundStatus::Configured {
                return Err(RoundError::Frozen { round: spec.id.clone(), status: stored.status });
            }
            put_round(tx, &round)?;
            Ok(round)
        })
    }

    /// A city's own settings (applicant window, district review and deadline) in an
    /// open round, checked against the province's window. Only that city changes.
    pub fn configure_city(&self, round_id: &str, city: &str, cfg: CityConfig) -> Result<Round, RoundError> {
        let mut round = self.round(round_id)?;
        if round.status == RoundStatus::Closed {
            return Err(RoundError::Frozen { round: round_id.into(), status: round.status });
        }
        let mut spec = round.spec.clone();
        spec.cities.insert(city.to_string(), cfg.clone());
        let (_, findings) = self.check_round_spec(&spec)?;
        let mine: Vec<_> = findings.into_iter().filter(|f| f.severity == Severity::Blocking).collect();
        if !mine.is_empty() {
            return Err(RoundError::Invalid { findings: mine });
        }
        round = self.write(|tx| {
            let mut stored: Round =
                get(tx, ROUNDS, round_id)?.ok_or_else(|| RoundError::NotFound(round_id.into()))?;
            if stored.status == RoundStatus::Closed {
                return Err(RoundError::Frozen { round: round_id.into(), status: stored.status });
            }
            stored.spec.cities.insert(city.to_string(), cfg.clone());
            put_round(tx, &stored)?;
            Ok(stored)
        })?;
        Ok(round)
    }

    // ------------------------------------------------------------------ applications

    pub fn application(&self, id: &str) -> Result<Application, ActError> {
        self.read(APPS, id)?.ok_or_else(|| ActError::NotFound { what: "application", id: id.into() })
    }

    /// Applications of an applicant, in every round.
    pub fn applications_of(&self, credit_code: &str) -> Result<Vec<Application>, StoreError> {
        let tx = self.begin_read()?;
        let idx = tx.open_table(BY_APPLICANT)?;
        let apps = tx.open_table(APPS)?;
        let mut out = Vec::new();
        for row in idx.range((credit_code, "")..)? {
            let (k, _) = row?;
            let (code, id) = k.value();
            if code != credit_code {
                break;
            }
            if let Some(v) = apps.get(id)? {
                out.push(from_json(id, v.value())?);
            }
        }
        Ok(out)
    }

    /// The applicant's other applications as the plugin sees them, from the
    /// applicant index alone.
    pub fn history_of(&self, credit_code: &str, except: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        let tx = self.begin_read()?;
        history_from(&tx.open_table(BY_APPLICANT)?, credit_code, except)
    }

    /// Every application of a round, through the queue index (which holds each
    /// application of the round exactly once).
    pub fn applications_in(&self, round: &str) -> Result<Vec<Application>, StoreError> {
        let tx = self.begin_read()?;
        let queue = tx.open_table(QUEUE)?;
        let apps = tx.open_table(APPS)?;
        let mut out = Vec::new();
        for row in queue.range((round, "", "", "", "")..)? {
            let (k, _) = row?;
            let k = k.value();
            if k.0 != round {
                break;
            }
            if let Some(v) = apps.get(k.4)? {
                out.push(from_json(k.4, v.value())?);
            }
        }
        out.sort_by(|a: &Application, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// Save a draft: a new application (`app` = None) or the same draft again.
    pub fn save_draft(
        &self,
        user_id: &str,
        round_id: &str,
        app: Option<&str>,
        draft: Draft,
    ) -> Result<Receipt, ActError> {
        self.save_draft_keyed(user_id, round_id, app, draft, None)
    }

    /// [`Kernel::save_draft`] under an idempotency key: a repeated key with the same
    /// request returns the first result (no second application); with a different
    /// request it is refused.
    pub fn save_draft_idempotent(
        &self,
        user_id: &str,
        round_id: &str,
        app: Option<&str>,
        draft: Draft,
        key: &str,
    ) -> Result<Receipt, ActError> {
        self.save_draft_keyed(user_id, round_id, app, draft, Some(key))
    }

    fn save_draft_keyed(
        &self,
        user_id: &str,
        round_id: &str,
        app: Option<&str>,
        draft: Draft,
        key: Option<&str>,
    ) -> Result<Receipt, ActError> {
        let digest = request_digest(&("save-draft", round_id, app, &draft));
        let keyed = key.map(|key| Keyed { key, digest: &digest });
        if let Some(k) = keyed {
            if let Some(mut r) = self.replay_key(user_id, k)? {
                return Ok(r.remove(0));
            }
        }
        let user = self.user(user_id)?.ok_or_else(|| ActError::NotFound { what: "user", id: user_id.into() })?;
        let round = self.round_arc(round_id)?;
        let action = round
            .graph
            .actions
            .iter()
            .find(|a| a.kind == ActionKind::SaveDraft)
            .ok_or_else(|| ActError::Refused(Refusal::UnknownAction { action: "save-draft".into() }))?
            .id
            .clone();
        // The applicant is the organisation the user acts for.
        let applicant = match app {
            Some(id) => self.application(id)?.applicant,
            None => user
                .grants
                .iter()
                .find_map(|g| match &g.scope {
                    Scope::Organisation(o) => Some(o.clone()),
                    _ => None,
                })
                .ok_or_else(|| {
                    ActError::Refused(Refusal::Forbidden {
                        action: action.clone(),
                        reason: format!("{user_id} does not act for an organisation"),
                    })
                })?,
        };
        let direction = draft.direction.clone();
        if let Some(d) = &direction {
            if !round.directions.iter().any(|x| &x.id == d) {
                return Err(ActError::UnknownDirection {
                    direction: d.clone(),
                    open: round.directions.iter().map(|x| x.id.as_str()).collect::<Vec<_>>().join(", "),
                });
            }
        }
        let form = draft
            .form
            .clone()
            .or_else(|| {
                direction.as_ref().and_then(|d| round.directions.iter().find(|x| &x.id == d)).map(|d| d.form.clone())
            })
            .or_else(|| {
                self.plugin_record(&round.plugin.program, &round.plugin.version)
                    .ok()
                    .and_then(|r| r.manifest.forms.first().map(|f| f.id.clone()))
            })
            .unwrap_or_default();
        // Every attachment names stored content of the stated size.
        for a in &draft.attachments {
            self.blobs().verify(a)?;
        }
        // The project key: given by the caller, else the field the form marks `x-project-key`.
        let project = match &draft.project {
            Some(p) => Some(shenbao_contract::project_key(p)),
            None => self
                .plugin_by_sha(&round.plugin.sha256)
                .ok()
                .and_then(|loaded| loaded.forms().project_key(&form, &draft.data)),
        };
        let req = ActionRequest::new(&action);
        let create = if app.is_none() { Some((&*round, applicant.as_str())) } else { None };
        self.transact(&user, app, create, &req, None, keyed, |a| {
            a.direction = direction.clone();
            a.form = form.clone();
            a.data = FormData::from_value(&draft.data);
            a.project = project.clone();
            a.attachments = draft.attachments.clone();
            a.saves += 1;
        })
    }

    /// The check request for an application as it stands.
    ///
    /// # Errors
    /// Storage errors reading the applicant's history.
    pub fn check_request(
        &self,
        app: &Application,
        round: &Round,
        org: &Organisation,
    ) -> Result<CheckRequest, StoreError> {
        let history = self.history_of(&app.applicant, &app.id)?;
        Ok(check_request_of(app, round, org, history, self.now().local_date()))
    }

    /// Take an action on an application.
    pub fn act(&self, user_id: &str, app_id: &str, req: &ActionRequest) -> Result<Receipt, ActError> {
        self.act_keyed(user_id, app_id, req, None)
    }

    /// [`Kernel::act`] under an idempotency key, recorded in the same transaction as
    /// the decision: a retry with the same key and request returns the first decision
    /// ([`Receipt::replayed`]) and changes nothing; the same key with another request
    /// is refused ([`ActError::IdempotencyKeyReused`]).
    pub fn act_idempotent(
        &self,
        user_id: &str,
        app_id: &str,
        req: &ActionRequest,
        key: &str,
    ) -> Result<Receipt, ActError> {
        self.act_keyed(user_id, app_id, req, Some(key))
    }

    fn act_keyed(
        &self,
        user_id: &str,
        app_id: &str,
        req: &ActionRequest,
        key: Option<&str>,
    ) -> Result<Receipt, ActError> {
        let digest = request_digest(&("act", app_id, req));
        let keyed = key.map(|key| Keyed { key, digest: &digest });
        if let Some(k) = keyed {
            if let Some(mut r) = self.replay_key(user_id, k)? {
                return Ok(r.remove(0));
            }
        }
        let p = self.prepare(user_id, app_id, req)?;
        self.transact(&p.user, Some(app_id), None, req, p.check, keyed, |_| {})
    }

    /// The first half of [`Kernel::act`], outside any transaction: the user and the
    /// application looked up and — for an action that runs the submission check —
    /// the schema, attachment and plugin checks run. Refused with
    /// [`ActError::BlockingFindings`] when the check blocks. Carry it out with
    /// [`Kernel::act_prepared`]; if anything the check read changes in between, that
    /// refuses with [`ActError::StaleCheck`].
    ///
    /// # Errors
    /// Missing user or application, a closed window, blocking findings, a plugin
    /// failure, storage errors.
    pub fn prepare(&self, user_id: &str, app_id: &str, req: &ActionRequest) -> Result<Prepared, ActError> {
        // Everything the check reads, from one read transaction.
        let tx = self.begin_read()?;
        let user: User =
            get_read(&tx, USERS, user_id)?.ok_or_else(|| ActError::NotFound { what: "user", id: user_id.into() })?;
        let app: Application = get_read(&tx, APPS, app_id)?
            .ok_or_else(|| ActError::NotFound { what: "application", id: app_id.into() })?;
        let round = self
            .round_read(&tx, &app.round)?
            .ok_or_else(|| ActError::NotFound { what: "round", id: app.round.clone() })?;
        // Submitting runs the schema validation and the plugin's check first.
        let runs_check = round
            .graph
            .actions
            .iter()
            .any(|a| a.id == req.action && a.runs_check && a.from_stages.contains(&app.state.stage));
        let check = if runs_check {
            let org: Organisation = get_read(&tx, ORGS, &app.applicant)?
                .ok_or_else(|| ActError::NotFound { what: "organisation", id: app.applicant.clone() })?;
            let history = history_from(&tx.open_table(BY_APPLICANT).map_err(StoreError::from)?, &app.applicant, &app.id)?;
            drop(tx);
            // A closed window refuses before the plugin runs (the engine checks it again).
            let now = self.now();
            if let Some(w) = round.graph.stages.iter().find(|s| s.id == app.state.stage).and_then(|s| s.window.as_ref())
            {
                engine::window_open(&round, &org, w, now)?;
            }
            let request = check_request_of(&app, &round, &org, history, now.local_date());
            let loaded = self.plugin_by_sha(&round.plugin.sha256).map_err(CheckError::from)?;
            let mut report = check_with(&loaded, &request)?;
            if let Some(direction) = app.direction.as_ref().and_then(|d| round.directions.iter().find(|x| &x.id == d)) {
                report.kernel_findings = crate::attachments::check(direction, &app.attachments, request.as_of);
            }
            if report.has_blocking() {
                return Err(ActError::BlockingFindings { findings: report.findings().cloned().collect() });
            }
            Some((request, report))
        } else {
            None
        };
        Ok(Prepared { user, app_id: app_id.to_string(), req: req.clone(), check })
    }

    /// Carry out a [`Prepared`] action in one write transaction (shared with
    /// concurrent actions by the group commit).
    ///
    /// # Errors
    /// [`ActError::StaleCheck`] when anything the check read changed since
    /// [`Kernel::prepare`]; the engine's refusals; storage errors. Nothing changes.
    pub fn act_prepared(&self, p: Prepared) -> Result<Receipt, ActError> {
        self.transact(&p.user, Some(&p.app_id), None, &p.req, p.check, None, |_| {})
    }

    /// The receipts an idempotency key recorded, if it was used; refused if it was
    /// used for a different request.
    fn replay_key(&self, user_id: &str, k: Keyed<'_>) -> Result<Option<Vec<Receipt>>, ActError> {
        let tx = self.begin_read().map_err(StoreError::from)?;
        let idem = tx.open_table(IDEMPOTENCY).map_err(StoreError::from)?;
        let log = tx.open_table(DECISIONS).map_err(StoreError::from)?;
        let apps = tx.open_table(APPS).map_err(StoreError::from)?;
        key_receipts(&idem, &log, &apps, user_id, k)
    }

    /// Inside a write transaction: the key's earlier receipts, if any. Read through
    /// `tx`: the first request may be a batch-mate not yet committed.
    fn key_in(&self, tx: &WriteTransaction, user_id: &str, k: Keyed<'_>) -> Result<Option<Vec<Receipt>>, ActError> {
        let idem = tx.open_table(IDEMPOTENCY).map_err(StoreError::from)?;
        let log = tx.open_table(DECISIONS).map_err(StoreError::from)?;
        let apps = tx.open_table(APPS).map_err(StoreError::from)?;
        key_receipts(&idem, &log, &apps, user_id, k)
    }

    fn record_key(tx: &WriteTransaction, user_id: &str, k: Keyed<'_>, decisions: Vec<u64>) -> Result<(), StoreError> {
        let rec = IdempotencyRecord { digest: k.digest.to_string(), decisions };
        tx.open_table(IDEMPOTENCY)?.insert((user_id, k.key), to_json(&rec).as_slice())?;
        Ok(())
    }

    /// The same action on many applications: all accepted in one transaction, or none.
    pub fn act_batch(&self, user_id: &str, app_ids: &[&str], req: &ActionRequest) -> Result<Vec<Receipt>, BatchError> {
        self.act_batch_keyed(user_id, app_ids, req, None)
    }

    /// [`Kernel::act_batch`] under an idempotency key (see [`Kernel::act_idempotent`]).
    pub fn act_batch_idempotent(
        &self,
        user_id: &str,
        app_ids: &[&str],
        req: &ActionRequest,
        key: &str,
    ) -> Result<Vec<Receipt>, BatchError> {
        self.act_batch_keyed(user_id, app_ids, req, Some(key))
    }

    fn act_batch_keyed(
        &self,
        user_id: &str,
        app_ids: &[&str],
        req: &ActionRequest,
        key: Option<&str>,
    ) -> Result<Vec<Receipt>, BatchError> {
        let digest = request_digest(&("batch", app_ids, req));
        let keyed = key.map(|key| Keyed { key, digest: &digest });
        let wrap = |position: usize, application: &str, error: ActError| BatchError {
            position,
            application: application.into(),
            error,
        };
        let user = self
            .user(user_id)
            .map_err(|e| wrap(0, "", e.into()))?
            .ok_or_else(|| wrap(0, "", ActError::NotFound { what: "user", id: user_id.into() }))?;
        // All of it in one transaction of the group commit, or none of it: an item
        // refused after others were written abandons that transaction (batch-mates rerun).
        self.group.run(self.db(), |tx| {
            if let Some(k) = keyed {
                match self.key_in(tx, user_id, k) {
                    Ok(Some(r)) => return Step::Ok(r, false),
                    Ok(None) => {}
                    Err(e) => return Step::Refused(wrap(0, "", e)),
                }
            }
            // A batch is named by the index of its first decision and its size: unique, in
            // log order, and a reader can tell a whole batch from a partial one.
            let first = match (|| -> Result<u64, StoreError> {
                Ok(tx.open_table(CHAIN_HEAD)?.get("head")?.map_or(0, |v| v.value().0 + 1))
            })() {
                Ok(first) => first,
                Err(e) => return Step::Refused(wrap(0, "", e.into())),
            };
            let batch_id = format!("B{first:010}-{}", app_ids.len());
            let mut receipts = Vec::new();
            let mut wrote = false;
            for (i, id) in app_ids.iter().enumerate() {
                match self.apply_in(tx, &user, Some(id), None, req, None, Some(&batch_id), &mut |_| {}, &mut wrote) {
                    Ok(r) => receipts.push(r),
                    Err(e) if wrote => return Step::Spoiled(wrap(i, id, e)),
                    Err(e) => return Step::Refused(wrap(i, id, e)),
                }
            }
            if let Some(k) = keyed {
                let decisions = receipts.iter().map(|r| r.decision.index).collect();
                if let Err(e) = Self::record_key(tx, user_id, k, decisions) {
                    return Step::Spoiled(wrap(app_ids.len(), "", e.into()));
                }
            }
            // A keyed API request's answer, in the same transaction as the decisions.
            if let Err(e) = crate::idempotency::remember_in(tx, &receipts) {
                return Step::Spoiled(wrap(app_ids.len(), "", e.into()));
            }
            Step::Ok(receipts, wrote)
        })
    }

    /// One action in its own write transaction.
    fn transact(
        &self,
        user: &User,
        app_id: Option<&str>,
        create: Option<(&Round, &str)>,
        req: &ActionRequest,
        check: Option<(CheckRequest, CheckReport)>,
        keyed: Option<Keyed<'_>>,
        mut edit: impl FnMut(&mut Application),
    ) -> Result<Receipt, ActError> {
        let check = check.as_ref();
        self.group.run(self.db(), |tx| {
            if let Some(k) = keyed {
                match self.key_in(tx, &user.id, k) {
                    Ok(Some(mut r)) => return Step::Ok(r.remove(0), false),
                    Ok(None) => {}
                    Err(e) => return Step::Refused(e),
                }
            }
            let mut wrote = false;
            let receipt = match self.apply_in(tx, user, app_id, create, req, check, None, &mut edit, &mut wrote) {
                Ok(r) => r,
                Err(e) if wrote => return Step::Spoiled(e),
                Err(e) => return Step::Refused(e),
            };
            if let Some(k) = keyed {
                if let Err(e) = Self::record_key(tx, &user.id, k, vec![receipt.decision.index]) {
                    return Step::Spoiled(e.into());
                }
            }
            // A keyed API request's answer, in the same transaction as the decision.
            if let Err(e) = crate::idempotency::remember_in(tx, &receipt) {
                return Step::Spoiled(e.into());
            }
            Step::Ok(receipt, true)
        })
    }

    /// Decide and apply one action inside `tx`: engine, application, indexes, quota
    /// counters, bans and the chained decision record.
    #[allow(clippy::too_many_arguments)]
    fn apply_in(
        &self,
        tx: &WriteTransaction,
        user: &User,
        app_id: Option<&str>,
        create: Option<(&Round, &str)>,
        req: &ActionRequest,
        check: Option<&(CheckRequest, CheckReport)>,
        batch: Option<&str>,
        edit: &mut dyn FnMut(&mut Application),
        wrote: &mut bool,
    ) -> Result<Receipt, ActError> {
        let now = self.now();
        // Every table this needs, opened once per action.
        let mut apps_t = tx.open_table(APPS).map_err(StoreError::from)?;
        let orgs_t = tx.open_table(ORGS).map_err(StoreError::from)?;
        let mut bans_t = tx.open_table(BANS).map_err(StoreError::from)?;
        let mut head_t = tx.open_table(CHAIN_HEAD).map_err(StoreError::from)?;
        let mut decisions_t = tx.open_table(DECISIONS).map_err(StoreError::from)?;
        let mut by_app_t = tx.open_table(DECISIONS_BY_APP).map_err(StoreError::from)?;
        let mut quota_t = tx.open_table(QUOTA_USED).map_err(StoreError::from)?;
        let mut queue_t = tx.open_table(QUEUE).map_err(StoreError::from)?;
        let mut applicant_t = tx.open_table(BY_APPLICANT).map_err(StoreError::from)?;
        let mut new_app_number = None;
        let (mut app, round) = match (app_id, create) {
            (Some(id), _) => {
                let app: Application = match apps_t.get(id).map_err(StoreError::from)? {
                    Some(v) => from_json(id, v.value())?,
                    None => return Err(ActError::NotFound { what: "application", id: id.into() }),
                };
                let round = self
                    .round_in(tx, &app.round)?
                    .ok_or_else(|| ActError::NotFound { what: "round", id: app.round.clone() })?;
                (app, round)
            }
            (None, Some((round, applicant))) => {
                let round = self
                    .round_in(tx, &round.spec.id)?
                    .ok_or_else(|| ActError::NotFound { what: "round", id: round.spec.id.clone() })?;
                let n = {
                    let counters = tx.open_table(COUNTERS).map_err(StoreError::from)?;
                    let n = counters.get("next_app").map_err(StoreError::from)?.map_or(1, |v| v.value());
                    n
                };
                new_app_number = Some(n);
                let app = Application {
                    id: format!("A{n:07}"),
                    round: round.spec.id.clone(),
                    program: round.spec.program.clone(),
                    applicant: applicant.to_string(),
                    direction: None,
                    form: String::new(),
                    data: FormData::null(),
                    project: None,
                    attachments: Vec::new(),
                    state: AppState::new(&round.graph.initial, now),
                    created_at: now,
                    updated_at: now,
                    submitted_at: None,
                    saves: 0,
                };
                (app, round)
            }
            (None, None) => unreachable!("an action names an application or creates one"),
        };
        let org: Organisation = match orgs_t.get(app.applicant.as_str()).map_err(StoreError::from)? {
            Some(v) => from_json(&app.applicant, v.value())?,
            None => return Err(ActError::NotFound { what: "organisation", id: app.applicant.clone() }),
        };
        if let Some((request, _)) = &check {
            // The check ran outside the transaction: everything it read — the
            // application (data, form, attachments), the organisation's profile, its
            // history, the round, the date — must be as it was, or the check is stale.
            let history = history_from(&applicant_t, &app.applicant, &app.id)?;
            if check_request_of(&app, &round, &org, history, now.local_date()) != *request {
                return Err(ActError::StaleCheck);
            }
        }
        let banned_until = match bans_t.get((app.applicant.as_str(), round.spec.program.as_str())).map_err(StoreError::from)? {
            Some(b) => Some(from_json::<Ban>("bans", b.value())?.until),
            None => None,
        };
        let (index, prev_hash) = {
            let h = head_t.get("head").map_err(StoreError::from)?;
            match h {
                Some(v) => {
                    let (i, hash) = v.value();
                    (i + 1, hash.to_string())
                }
                // A log written before the head was kept: take it from the last record.
                None => match decisions_t.last().map_err(StoreError::from)? {
                    Some((k, v)) => (k.value() + 1, from_json::<Decision>("decisions", v.value())?.hash),
                    None => (0, GENESIS.to_string()),
                },
            }
        };
        let calendar = {
            let t = tx.open_table(CALENDARS).map_err(StoreError::from)?;
            let year = now.local_date().year;
            let v = t.get(year).map_err(StoreError::from)?;
            v.map(|v| from_json::<crate::calendar::Calendar>("calendars", v.value())).transpose()?.unwrap_or_default()
        };
        let maps = self.region_maps_in(tx)?;
        // The round's quota counters, read with errors propagated (a counter that
        // cannot be read refuses the action; it is never taken as 0).
        let mut quota_used = std::collections::BTreeMap::new();
        let rid = round.spec.id.as_str();
        for row in quota_t.range((rid, "", "")..).map_err(StoreError::from)? {
            let (k, v) = row.map_err(StoreError::from)?;
            let (r, q, scope) = k.value();
            if r != rid {
                break;
            }
            quota_used.insert((q.to_string(), scope.to_string()), v.value());
        }
        let category = app
            .direction
            .as_ref()
            .and_then(|d| round.directions.iter().find(|x| &x.id == d))
            .and_then(|d| d.category.clone());
        // The check's warnings wait for the province's confirmation (engine::decide).
        let warnings: Option<Vec<String>> = check.map(|(_, report)| {
            let mut w: Vec<String> = Vec::new();
            for f in report.findings().filter(|f| f.severity == Severity::Warning) {
                if !w.contains(&f.rule_id) {
                    w.push(f.rule_id.clone());
                }
            }
            w
        });
        let snapshot = engine::Snapshot {
            round: &round,
            applicant: &org,
            state: &app.state,
            direction_category: category.as_deref(),
            calendar: &calendar,
            city_groups: &maps.groups,
            scope_names: &maps.names,
            quota_used: &quota_used,
            banned_until,
            now,
            decision_index: index,
        };
        let command =
            engine::Command { request: req, actor: user, batch: batch.is_some(), check_warnings: warnings.as_deref() };
        let t = engine::decide(&snapshot, &command)?;

        // Apply. Everything above only read; from here on a failure spoils the transaction.
        *wrote = true;
        if let Some(n) = new_app_number {
            tx.open_table(COUNTERS).map_err(StoreError::from)?.insert("next_app", n + 1).map_err(StoreError::from)?;
        }
        let old_key = queue_key(&app, &org);
        let is_new = app_id.is_none();
        app.state = t.state;
        app.updated_at = now;
        if t.action.kind == ActionKind::SaveDraft {
            edit(&mut app);
        }
        if t.action.kind == ActionKind::Submit {
            app.submitted_at = Some(now);
        }
        let new_key = queue_key(&app, &org);
        {
            let q = &mut queue_t;
            if !is_new {
                q.remove((
                    old_key.0.as_str(),
                    old_key.1.as_str(),
                    old_key.2.as_str(),
                    old_key.3.as_str(),
                    old_key.4.as_str(),
                ))
                .map_err(StoreError::from)?;
            }
            q.insert(
                (new_key.0.as_str(), new_key.1.as_str(), new_key.2.as_str(), new_key.3.as_str(), new_key.4.as_str()),
                (),
            )
            .map_err(StoreError::from)?;
        }
        applicant_t
            .insert((app.applicant.as_str(), app.id.as_str()), to_json(&history_row(&app, &round)).as_slice())
            .map_err(StoreError::from)?;
        {
            for d in &t.quota {
                quota_t
                    .insert((round.spec.id.as_str(), d.quota.as_str(), d.scope.as_str()), d.used_after)
                    .map_err(StoreError::from)?;
            }
        }
        if let Some(until) = t.ban_until {
            let ban =
                Ban { applicant: app.applicant.clone(), program: round.spec.program.clone(), until, decision: index };
            bans_t
                .insert((app.applicant.as_str(), round.spec.program.as_str()), to_json(&ban).as_slice())
                .map_err(StoreError::from)?;
        }
        apps_t.insert(app.id.as_str(), to_json(&app).as_slice()).map_err(StoreError::from)?;

        let check_record = match &check {
            Some((request, report)) => {
                let input = to_json(request);
                let digest = sha256_hex(&input);
                tx.open_table(CHECK_INPUTS)
                    .map_err(StoreError::from)?
                    .insert(digest.as_str(), input.as_slice())
                    .map_err(StoreError::from)?;
                let plugin = report.plugin.as_ref();
                Some(CheckRecord {
                    plugin_sha256: round.plugin.sha256.clone(),
                    wit: round.plugin.wit.clone(),
                    input_digest: digest,
                    findings: report
                        .schema_findings
                        .iter()
                        .chain(plugin.iter().flat_map(|p| p.value.findings.iter()))
                        .cloned()
                        .collect(),
                    kernel_findings: report.kernel_findings.clone(),
                    signals: plugin.map(|p| p.value.signals.clone()).unwrap_or_default(),
                    fuel: plugin.map_or(0, |p| p.fuel_used),
                })
            }
            None => None,
        };
        let mut decision = Decision {
            index,
            prev_hash,
            at: now,
            application: app.id.clone(),
            round: round.spec.id.clone(),
            actor: ActorRef { user: user.id.clone(), role: t.grant.role.clone(), scope: t.grant.scope.clone() },
            action: t.action.id.clone(),
            kind: t.action.kind,
            opinion: req.opinion.clone(),
            from: t.from.clone(),
            to: t.to.clone(),
            batch: batch.map(str::to_string),
            payload: req.payload.clone(),
            check: check_record,
            quota: t.quota.clone(),
            explain: t.explain.clone(),
            origin: None,
            hash: String::new(),
        };
        // The hash covers the record as it is now, with `hash` still empty.
        decision.hash = {
            let mut h = Sha256::new();
            h.update(decision.prev_hash.as_bytes());
            h.update(to_json(&decision));
            hex::encode(h.finalize())
        };
        decisions_t.insert(index, to_json(&decision).as_slice()).map_err(StoreError::from)?;
        head_t.insert("head", (index, decision.hash.as_str())).map_err(StoreError::from)?;
        by_app_t.insert((app.id.as_str(), index), ()).map_err(StoreError::from)?;
        Ok(Receipt { decision, application: app, check: check.map(|(_, r)| r.clone()), replayed: false })
    }

    // ------------------------------------------------------------------ queries

    /// The decisions on one application, in order (the handling record, 办理记录).
    pub fn decisions_of(&self, app_id: &str) -> Result<Vec<Decision>, StoreError> {
        let tx = self.begin_read()?;
        let idx = tx.open_table(DECISIONS_BY_APP)?;
        let log = tx.open_table(DECISIONS)?;
        let mut out = Vec::new();
        for row in idx.range((app_id, 0u64)..=(app_id, u64::MAX))? {
            let (k, _) = row?;
            let i = k.value().1;
            if let Some(v) = log.get(i)? {
                out.push(from_json(&format!("decisions/{i}"), v.value())?);
            }
        }
        Ok(out)
    }

    /// Number of decisions in the log.
    pub fn decision_count(&self) -> Result<u64, StoreError> {
        let tx = self.begin_read()?;
        let t = tx.open_table(DECISIONS)?;
        Ok(t.last()?.map_or(0, |(k, _)| k.value() + 1))
    }

    pub fn decision(&self, index: u64) -> Result<Option<Decision>, StoreError> {
        let tx = self.begin_read()?;
        let t = tx.open_table(DECISIONS)?;
        let v = t.get(index)?;
        v.map(|v| from_json(&format!("decisions/{index}"), v.value())).transpose()
    }

    /// Units used per quota and scope in a round.
    pub fn quota_usage(&self, round: &str) -> Result<Vec<(String, String, u32)>, StoreError> {
        let tx = self.begin_read()?;
        let t = tx.open_table(QUOTA_USED)?;
        let mut out = Vec::new();
        for row in t.range((round, "", "")..)? {
            let (k, v) = row?;
            let (r, q, s) = k.value();
            if r != round {
                break;
            }
            out.push((q.to_string(), s.to_string(), v.value()));
        }
        Ok(out)
    }

    /// What waits for `user` in `round`: applications at the stages its grants
    /// handle, within its scope, ordered by (stage, city, district, application).
    /// Pages: pass the last item of a page as `after` to get the next `limit` items.
    pub fn queue(
        &self,
        user_id: &str,
        round_id: &str,
        after: Option<&QueueItem>,
        limit: usize,
    ) -> Result<Vec<QueueItem>, ActError> {
        let user = self.user(user_id)?.ok_or_else(|| ActError::NotFound { what: "user", id: user_id.into() })?;
        let round = self.round_arc(round_id)?;
        let tx = self.begin_read().map_err(StoreError::from)?;
        let q = tx.open_table(QUEUE).map_err(StoreError::from)?;
        const MAX: &str = "\u{10ffff}";
        let mut out: Vec<QueueItem> = Vec::new();
        // Stages in graph order, each with the (city, district) prefixes the grants reach there.
        // Each reviewing grant's (city, district) key prefix (the access policy's reach).
        let mut parents = std::collections::HashMap::new();
        for g in &user.grants {
            if let Scope::District(d) = &g.scope {
                if let Some(city) = self.region(d)?.and_then(|r| r.parent) {
                    parents.insert(d.clone(), city);
                }
            }
        }
        let reach: Vec<(&str, (Option<String>, Option<String>))> =
            crate::engine::access::queue_reach(&user, |d| parents.get(d).cloned())
                .into_iter()
                .map(|(role, r)| {
                    let p = match r {
                        crate::engine::access::Reach::Province => (None, None),
                        crate::engine::access::Reach::City(c) => (Some(c), None),
                        crate::engine::access::Reach::District { city, district } => (Some(city), Some(district)),
                    };
                    (role, p)
                })
                .collect();
        for (stage_pos, stage) in round.graph.stages.iter().enumerate() {
            let mut prefixes: Vec<(Option<String>, Option<String>)> = Vec::new();
            for (_, p) in reach.iter().filter(|(role, _)| stage.role.as_deref() == Some(*role)) {
                let p = p.clone();
                if !prefixes.contains(&p) {
                    prefixes.push(p);
                }
            }
            // A province-wide grant covers the others.
            if prefixes.iter().any(|p| p.0.is_none()) {
                prefixes.retain(|p| p.0.is_none());
            }
            prefixes.sort();
            if let Some(a) = after {
                // Skip stages before the cursor's.
                let cursor_pos = round.graph.stages.iter().position(|s| s.id == a.stage).unwrap_or(0);
                if stage_pos < cursor_pos {
                    continue;
                }
            }
            let (r, s) = (round_id, stage.id.as_str());
            for p in &prefixes {
                let (lo_c, lo_d, hi_c, hi_d): (&str, &str, &str, &str) = match p {
                    (None, _) => ("", "", MAX, ""),
                    (Some(c), None) => (c.as_str(), "", c.as_str(), MAX),
                    (Some(c), Some(d)) => (c.as_str(), d.as_str(), c.as_str(), d.as_str()),
                };
                let hi_app = if p.1.is_some() { MAX } else { "" };
                let mut lo: (&str, &str, &str) = (lo_c, lo_d, "");
                if let Some(a) = after.filter(|a| a.stage == s) {
                    let cursor = (a.city.as_str(), a.district.as_str(), a.application.as_str());
                    if cursor >= lo {
                        lo = cursor;
                    }
                }
                let range = q.range((r, s, lo.0, lo.1, lo.2)..(r, s, hi_c, hi_d, hi_app)).map_err(StoreError::from)?;
                for row in range {
                    let (k, _) = row.map_err(StoreError::from)?;
                    let k = k.value();
                    if let Some(a) = after.filter(|a| a.stage == s) {
                        if (k.2, k.3, k.4) <= (a.city.as_str(), a.district.as_str(), a.application.as_str()) {
                            continue;
                        }
                    }
                    out.push(QueueItem {
                        application: k.4.to_string(),
                        stage: s.to_string(),
                        city: k.2.to_string(),
                        district: k.3.to_string(),
                    });
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Applications past their stage's SLA (working days) or rectification deadline.
    pub fn overdue(&self, round_id: &str) -> Result<Vec<Application>, StoreError> {
        let today = self.now().local_date();
        Ok(self
            .applications_in(round_id)?
            .into_iter()
            .filter(|a| {
                a.state.due.is_some_and(|d| d < today)
                    || a.state.deadline.is_some_and(|d| d < today)
                    || a.state.annual_due.is_some_and(|d| d < today)
            })
            .collect())
    }

    // ------------------------------------------------------------------ audit

    /// Walk the decision chain; report the first record whose link or hash fails.
    pub fn verify_chain(&self) -> Result<ChainReport, StoreError> {
        let tx = self.begin_read()?;
        let t = tx.open_table(DECISIONS)?;
        let length = t.len()?;
        let mut prev = GENESIS.to_string();
        for (expected, row) in (0u64..).zip(t.iter()?) {
            let (k, v) = row?;
            let d = serde_json::from_slice::<Decision>(v.value()).ok();
            match d {
                Some(d)
                    if k.value() == expected
                        && d.index == expected
                        && d.prev_hash == prev
                        && decision_hash(&d) == d.hash =>
                {
                    prev = d.hash;
                }
                _ => return Ok(ChainReport { length, first_broken: Some(expected), head: prev }),
            }
        }
        Ok(ChainReport { length, first_broken: None, head: prev })
    }

    /// Benchmark support only: write `n` applications of `applicants` (round-robin)
    /// straight into `stage` with their indexes, in one transaction, WITHOUT decisions.
    /// Used to fill a database for query and memory figures; never for real data.
    #[doc(hidden)]
    pub fn __bench_fill_round(
        &self,
        round_id: &str,
        stage: &str,
        applicants: &[Organisation],
        n: usize,
    ) -> Result<Vec<String>, StoreError> {
        let round: Round = self
            .read(ROUNDS, round_id)?
            .ok_or_else(|| StoreError::Corrupt { key: round_id.into(), message: "no such round".into() })?;
        let now = self.now();
        let tx = self.db().begin_write()?;
        let mut ids = Vec::with_capacity(n);
        {
            let mut apps = tx.open_table(APPS)?;
            let mut queue = tx.open_table(QUEUE)?;
            let mut by = tx.open_table(BY_APPLICANT)?;
            let mut counters = tx.open_table(COUNTERS)?;
            let start = counters.get("next_app")?.map_or(1, |v| v.value());
            for i in 0..n {
                let org = &applicants[i % applicants.len()];
                let mut state = AppState::new(&round.graph.initial, now);
                state.stage = stage.to_string();
                state.trail.push(Visit { stage: stage.to_string(), entered_at: now, decision: None });
                let app = Application {
                    id: format!("A{:07}", start + i as u64),
                    round: round_id.to_string(),
                    program: round.spec.program.clone(),
                    applicant: org.credit_code.clone(),
                    direction: round.directions.first().map(|d| d.id.clone()),
                    form: "resource".into(),
                    data: FormData::from_value(&serde_json::json!({ "resource_name": format!("基准测试资源 {i}") })),
                    project: None,
                    attachments: Vec::new(),
                    state,
                    created_at: now,
                    updated_at: now,
                    submitted_at: Some(now),
                    saves: 1,
                };
                let (r, st, c, d, id) = queue_key(&app, org);
                queue.insert((r.as_str(), st.as_str(), c.as_str(), d.as_str(), id.as_str()), ())?;
                by.insert((app.applicant.as_str(), app.id.as_str()), to_json(&history_row(&app, &round)).as_slice())?;
                apps.insert(app.id.as_str(), to_json(&app).as_slice())?;
                ids.push(app.id);
            }
            counters.insert("next_app", start + n as u64)?;
        }
        tx.commit()?;
        Ok(ids)
    }

    /// Check the secondary indexes and counters against the applications: one queue
    /// entry per application at its current stage, quota counters equal to the units
    /// held, every counter within its limit. Returns the problems found.
    pub fn verify_indexes(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        let apps: Vec<Application> = self.read_all(APPS)?;
        let tx = self.begin_read()?;
        let queue = tx.open_table(QUEUE)?;
        let mut entries = std::collections::HashMap::<String, Vec<String>>::new();
        for row in queue.iter()? {
            let (k, _) = row?;
            let k = k.value();
            entries.entry(k.4.to_string()).or_default().push(k.1.to_string());
        }
        let mut held = std::collections::HashMap::<(String, String, String), u32>::new();
        for a in &apps {
            match entries.get(&a.id).map(Vec::as_slice) {
                Some([stage]) if *stage == a.state.stage => {}
                other => problems.push(format!("{}: queue entries {:?}, stage {}", a.id, other, a.state.stage)),
            }
            for h in &a.state.holds {
                *held.entry((a.round.clone(), h.quota.clone(), h.scope.clone())).or_default() += 1;
            }
            if let Some(last) = a.state.trail.last() {
                if last.stage != a.state.stage {
                    problems.push(format!("{}: trail ends at {} but stage is {}", a.id, last.stage, a.state.stage));
                }
            }
        }
        // Each application agrees with its last decision and its applicant-history row:
        // a decision is never written without the application it moved, or the reverse.
        let by_app = tx.open_table(DECISIONS_BY_APP)?;
        let log = tx.open_table(DECISIONS)?;
        let history = tx.open_table(BY_APPLICANT)?;
        let rounds: Vec<Round> = self.read_all(ROUNDS)?;
        let rounds_by_id: std::collections::HashMap<&str, &Round> =
            rounds.iter().map(|r| (r.spec.id.as_str(), r)).collect();
        for a in &apps {
            let last = by_app.range((a.id.as_str(), 0u64)..=(a.id.as_str(), u64::MAX))?.next_back().transpose()?;
            if let Some((k, _)) = last {
                let i = k.value().1;
                match log.get(i)? {
                    Some(v) => {
                        let d: Decision = from_json("decisions", v.value())?;
                        if d.to != a.state.stage || d.application != a.id {
                            problems.push(format!(
                                "{}: last decision {i} ({} → {}) disagrees with its stage {}",
                                a.id, d.application, d.to, a.state.stage
                            ));
                        }
                    }
                    None => problems.push(format!("{}: decision {i} is indexed but missing", a.id)),
                }
            }
            let row = history.get((a.applicant.as_str(), a.id.as_str()))?;
            match (row, rounds_by_id.get(a.round.as_str())) {
                (Some(v), Some(round)) => {
                    let stored: HistoryEntry = from_json("by_applicant", v.value())?;
                    if stored != history_row(a, round) {
                        problems.push(format!("{}: applicant history row disagrees with the application", a.id));
                    }
                }
                (None, _) => problems.push(format!("{}: no applicant history row", a.id)),
                (_, None) => problems.push(format!("{}: round {} missing", a.id, a.round)),
            }
        }
        let (logged, indexed) = (log.len()?, by_app.len()?);
        if logged != indexed {
            problems.push(format!("{logged} decisions but {indexed} decision-by-application entries"));
        }
        if entries.len() != apps.len() {
            problems.push(format!(
                "{} queue entries for {} applications",
                entries.values().map(Vec::len).sum::<usize>(),
                apps.len()
            ));
        }
        let counters = tx.open_table(QUOTA_USED)?;
        let groups = self.city_groups()?;
        for row in counters.iter()? {
            let (k, v) = row?;
            let (r, q, scope) = k.value();
            let used = v.value();
            let h = held.remove(&(r.to_string(), q.to_string(), scope.to_string())).unwrap_or(0);
            if h != used {
                problems.push(format!("quota {r}/{q}/{scope}: counter {used}, units held {h}"));
            }
            if let Some(quota) =
                rounds.iter().find(|x| x.spec.id == r).and_then(|x| x.quotas.iter().find(|x| x.id == q))
            {
                let limit = quota
                    .limits
                    .iter()
                    .find(|l| l.scope == scope)
                    .map(|l| l.limit)
                    .or_else(|| {
                        groups.get(scope).and_then(|g| quota.limits.iter().find(|l| &l.scope == g)).map(|l| l.limit)
                    })
                    .or(quota.default_limit);
                if limit.is_some_and(|l| used > l) {
                    problems.push(format!("quota {r}/{q}/{scope}: {used} used over the limit {limit:?}"));
                }
            }
        }
        for ((r, q, scope), h) in held {
            if h > 0 {
                problems.push(format!("quota {r}/{q}/{scope}: {h} units held but no counter"));
            }
        }
        Ok(problems)
    }

    /// Re-run the check a decision recorded, against the pinned plugin bytes.
    pub fn replay(&self, index: u64) -> Result<ReplayReport, ActError> {
        let d = self.decision(index)?.ok_or_else(|| ActError::NotFound { what: "decision", id: index.to_string() })?;
        let c =
            d.check.ok_or_else(|| ActError::NotFound { what: "recorded check of decision", id: index.to_string() })?;
        let input: CheckRequest = {
            let tx = self.begin_read().map_err(StoreError::from)?;
            let t = tx.open_table(CHECK_INPUTS).map_err(StoreError::from)?;
            let v = t
                .get(c.input_digest.as_str())
                .map_err(StoreError::from)?
                .ok_or_else(|| ActError::NotFound { what: "check input", id: c.input_digest.clone() })?;
            if sha256_hex(v.value()) != c.input_digest {
                return Err(ActError::Store(StoreError::Corrupt {
                    key: format!("check_inputs/{}", c.input_digest),
                    message: "digest mismatch".into(),
                }));
            }
            from_json("check_inputs", v.value())?
        };
        let loaded = self.plugin_by_sha(&c.plugin_sha256).map_err(CheckError::from)?;
        let report = check_with(&loaded, &input)?;
        let replayed: Vec<Finding> = report.findings().cloned().collect();
        let signals = report.plugin.as_ref().map(|p| p.value.signals.clone()).unwrap_or_default();
        let fuel = report.plugin.as_ref().map_or(0, |p| p.fuel_used);
        let identical =
            to_json(&replayed) == to_json(&c.findings) && to_json(&signals) == to_json(&c.signals) && fuel == c.fuel;
        Ok(ReplayReport {
            decision: index,
            recorded: c.findings,
            replayed,
            fuel_recorded: c.fuel,
            fuel_replayed: fuel,
            identical,
        })
    }
}
