//! Rounds, applications and decisions on the redb store: the impure shell around
//! the pure engine. Every change that touches several records is one write
//! transaction, and every accepted action appends a hash-chained decision in it.

use crate::commit::Step;
use crate::engine::access::QueueView;
use crate::engine::{self, Refusal};
use crate::error::{CheckError, Classified, ErrorKind, StoreError};
use crate::graph::check_graph;
use crate::kernel::{CheckReport, Kernel, check_with};
use crate::model::*;
use crate::regions::{Region, RegionKind};
use crate::tables::*;
pub(crate) use crate::tables::{history_row, sha256_hex, to_json};
use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};
use shenbao_contract::{ActionKind, Applicant, CheckRequest, Finding, HistoryEntry, RoundInfo, Severity, Text};

crate::error::redb_into!(AdminError, RoundError, ActError);

/// What a `not_found` names, as people name it (the library's errors and the HTTP
/// API's alike).
pub(crate) fn what_zh(what: &str) -> &str {
    match what {
        "application" => "申报",
        "calendar year" => "年度日历",
        "check input" => "检查输入",
        "city" => "城市",
        "decision" => "决定",
        "district" => "区县",
        "district (of the organisation's city)" => "区县（须属于该单位所在城市）",
        "form" => "申报表",
        "organisation" => "单位",
        "parent region" => "上级区域",
        "recorded check of decision" => "决定的检查记录",
        "round" => "轮次",
        "token" => "令牌",
        "user" => "用户",
        "plugin" => "插件",
        "endpoint" => "接口",
        other => other,
    }
}

/// Refusals of administrative changes (regions, organisations, users, calendars).
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("统一社会信用代码无效 / invalid credit code {code:?}: {error}")]
    CreditCode { code: String, error: shenbao_contract::credit_code::CreditCodeError },
    #[error("{}“{id}”不存在（请先导入区域） / {what} {id:?} does not exist (import regions first)", what_zh(what))]
    UnknownRegion { what: &'static str, id: String },
    /// An organisation's district that exists but lies in another city than its own.
    #[error(
        "区县“{district}”属于“{parent}”，不属于单位所在城市“{city}” / district {district:?} is in {parent:?}, not in the organisation's city {city:?}"
    )]
    DistrictOutsideCity { district: String, parent: String, city: String },
    #[error(
        "渠道“{0}”无效：小写字母、数字和 -（平台的渠道为 region、central-enterprise、out-of-province、provincial-soe，其他渠道由批次声明） / \
         channel {0:?} is not a channel id: lower-case letters, digits and '-' (the platform's are region, central-enterprise, \
         out-of-province, provincial-soe; a round declares others in `channels`)"
    )]
    UnknownChannel(String),
    #[error("{}“{id}”不存在 / {what} {id:?} does not exist", what_zh(what))]
    NotFound { what: &'static str, id: String },
    /// An organisation's city, district, channel or tags (what routes its
    /// applications) may not change while one of them is under review
    /// ([`Kernel::upsert_orgs`]). `stage` is the stage's English title.
    #[error(
        "单位“{name}”（{org}）的申报 {application} 正在“{stage_zh}”环节审核，审核期间不能变更单位的所在城市、区县、渠道或标签\
         （审核路径由它们决定，审核、名额和撤回都属于推荐它的地区）：请待该申报办结、退回或撤回后再变更 / organisation {org} \
         has application {application} under review ({stage}): its city, district, channel and tags, which route it, cannot \
         change until that review ends (the reviews, the quota units held and a withdrawal belong to the region that \
         recommended it) — change them once the application is decided, returned or withdrawn"
    )]
    RegionChangeUnderReview { org: String, name: String, application: String, stage: String, stage_zh: String },
    /// A region organisations are in would change its kind, parent or city group
    /// ([`Kernel::import_regions`]).
    #[error(
        "区域“{id}”已有单位（如 {org}），不能改变其级别、上级区域“{parent}”或城市分组（名额按分组计）：请先变更这些单位的所在地 / \
         region {id:?} has organisations (e.g. {org}); its level, its parent {parent:?} and its city group (quotas count by \
         group) cannot change — move those organisations first"
    )]
    RegionInUse { id: String, parent: String, org: String },
    #[error("{0}")]
    Invalid(String),
    /// The import would leave no administrator (admin at province scope): nobody
    /// could administer the system over the API any more.
    #[error(
        "导入后将没有管理员（{user} 的管理员授权被替换）：请保留至少一个 admin@province 授权 / this would leave no \
         administrator (user {user:?} loses its admin grant): keep at least one admin grant at province scope"
    )]
    LastAdministrator { user: String },
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
    #[error(
        "轮次“{round}”{}，规则不能再修改 / round {round:?} is {}; its rules can no longer change", status.zh(), status.en()
    )]
    Frozen { round: String, status: RoundStatus },
    /// Only an open round can be closed.
    #[error("轮次“{round}”{}，只有进行中的轮次可以关闭 / round {round:?} is {}; only an open round can be closed", status.zh(), status.en())]
    NotOpen { round: String, status: RoundStatus },
    /// Closing would leave applications at a review, expert or notice stage with no
    /// way forward (a closed round takes only its library's actions).
    #[error(
        "轮次“{round}”仍有 {count} 件申报处于评审、专家评审或公示环节（如“{application}”在“{stage_zh}”），关闭后将无法继续办理；请先办结，或确认后强制关闭 / round {round:?} still has {count} applications at a review, expert or notice stage (such as {application:?} at {stage}); closing would leave them with no way forward — finish them first, or close with force"
    )]
    UnderReview { round: String, count: u64, application: String, stage: String, stage_zh: String },
    #[error(
        "地区“{0}”不存在 / region {0:?} does not exist; give a city or district id such as huizhou or huizhou.huicheng"
    )]
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
    #[error("{}“{id}”不存在 / {what} {id:?} does not exist", what_zh(what))]
    NotFound { what: &'static str, id: String },
    #[error(
        "申报方向“{direction}”未在本轮开放（开放的方向：{open}） / direction {direction:?} is not open in this round; open: {open}"
    )]
    UnknownDirection { direction: String, open: String },
    /// Something the submission check read (the application, its attachments, the
    /// organisation's profile, its history, the round) changed between the check and
    /// the transaction that would record it.
    #[error(
        "校验所依据的数据已变化，请重新提交 / what the check read changed before the submission was recorded; submit again"
    )]
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
            AdminError::LastAdministrator { .. }
            | AdminError::RegionChangeUnderReview { .. }
            | AdminError::RegionInUse { .. } => ErrorKind::Conflict,
            _ => ErrorKind::Invalid,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            AdminError::Store(e) => e.code(),
            AdminError::NotFound { .. } => "not_found",
            AdminError::LastAdministrator { .. } => "last_administrator",
            AdminError::RegionChangeUnderReview { .. } => "organisation_under_review",
            AdminError::RegionInUse { .. } => "region_in_use",
            _ => "invalid_reference_data",
        }
    }
    fn advice(&self) -> &'static str {
        match self {
            AdminError::Store(e) => e.advice(),
            AdminError::NotFound { .. } => self.kind().advice(),
            AdminError::RegionChangeUnderReview { .. } => {
                "change the organisation's city, district, channel or tags once the application named is decided, returned or \
                 withdrawn; nothing was imported"
            }
            _ => "fix the record named; nothing was imported",
        }
    }
}

impl Classified for RoundError {
    fn kind(&self) -> ErrorKind {
        match self {
            RoundError::NotFound(_) | RoundError::UnknownRegion(_) => ErrorKind::NotFound,
            RoundError::Exists(_)
            | RoundError::Frozen { .. }
            | RoundError::NotOpen { .. }
            | RoundError::UnderReview { .. } => ErrorKind::Conflict,
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
            RoundError::UnderReview { .. } => "round_under_review",
            RoundError::NotOpen { .. } => "round_not_open",
            RoundError::Plugin(e) => e.code(),
            RoundError::Store(e) => e.code(),
        }
    }
    fn advice(&self) -> &'static str {
        match self {
            RoundError::Invalid { .. } => "fix the round file where named",
            RoundError::Exists(_) => "choose another id, or `round configure` it",
            RoundError::Frozen { .. } => "create a new round for new rules",
            RoundError::UnderReview { .. } => "list them with `shenbao app list --round ID`; --force closes anyway",
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
#[derive(Debug)]
pub struct BatchError {
    pub position: usize,
    pub application: String,
    pub error: ActError,
}

/// `批量操作第 2 项（A0000002）被拒绝：惠州市 已推荐 8/8，整批未执行 / batch refused at
/// item 2 (A0000002): …` — the item's own refusal in each language.
impl std::fmt::Display for BatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cause = self.error.to_string();
        let (zh, en) = cause.split_once(" / ").unwrap_or((cause.as_str(), cause.as_str()));
        let (n, app) = (self.position + 1, &self.application);
        write!(f, "批量操作第 {n} 项（{app}）被拒绝：{zh}，整批未执行 / batch refused at item {n} ({app}): {en}")
    }
}

impl std::error::Error for BatchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// A storage failure of the whole batch (its transaction could not begin or commit).
impl From<StoreError> for BatchError {
    fn from(e: StoreError) -> Self {
        BatchError { position: 0, application: String::new(), error: e.into() }
    }
}

/// What an applicant saves.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    pub direction: Option<String>,
    /// Form id; default: the direction's form.
    pub form: Option<String>,
    pub data: serde_json::Value,
    pub project: Option<String>,
    #[serde(default)]
    pub attachments: Vec<shenbao_contract::Attachment>,
}

/// The actions of the graph at an application's stage as one user may take them
/// now ([`Kernel::actions_for`]).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ActionOptions {
    /// The application's stage.
    pub stage: String,
    /// What `act` would accept now, given what each still needs.
    pub available: Vec<ActionOption>,
    /// Actions at this stage for one of the user's roles that the engine refuses
    /// now, with the refusal `act` would answer (a closed window, a withdraw after
    /// the next stage acted, a quota reached …).
    pub refused: Vec<RefusedAction>,
}

/// An action `act` would accept now.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ActionOption {
    pub id: String,
    pub title: Text,
    pub kind: ActionKind,
    /// Also taken in a batch (批量推荐).
    pub batch: bool,
    /// What the request must carry: any of `opinion`, `score`, `experts`, `rank`,
    /// `confirm` (the warnings awaiting the province's confirmation).
    pub needs: Vec<String>,
    /// The action runs the submission check (schema and the program's rules) when
    /// taken; it is not run here.
    pub runs_check: bool,
}

/// An action at the stage that the engine refuses now.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct RefusedAction {
    pub id: String,
    pub title: Text,
    /// The refusal's stable code (`window_closed`, `withdraw_too_late` …).
    pub code: String,
    /// The refusal as a person reads it (中文 / English).
    pub message: String,
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

/// One line of a reviewer's queue (a page of [`Kernel::queue_page`]): where the
/// application is (stage, the applicant's city and district ids) and what a
/// reviewer reads in the row.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct QueueItem {
    pub application: String,
    /// The application's current stage.
    pub stage: String,
    pub city: String,
    pub district: String,
    /// The applicant's credit code (统一社会信用代码).
    #[serde(default)]
    pub applicant: String,
    /// The applicant's registered name (单位名称).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applicant_name: Option<String>,
    /// The project's name (项目名称): the form field the program marks `x-project-key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// Last submitted (seconds since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<crate::Timestamp>,
    /// The earliest of the current stage's due date (办理期限, working days), the
    /// rectification deadline and the end of the stage's window for this applicant
    /// (a district or city deadline, or a correction period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<shenbao_contract::Date>,
    /// Past `due`, the window's end or the yearly report's due date now, Beijing time (已超期).
    #[serde(default)]
    pub overdue: bool,
}

impl QueueItem {
    /// The row's place in its list, as a cursor (`stage|city|district|application`):
    /// what the HTTP API answers as `next` and the CLI prints after a full page. A
    /// page after it ([`QueueQuery::after`]) goes on from this place even when the
    /// application has moved on since.
    pub fn cursor(&self) -> String {
        format!("{}|{}|{}|{}", self.stage, self.city, self.district, self.application)
    }

    /// The place a [`cursor`](Self::cursor) names; `None` for text that is not one.
    pub fn from_cursor(cursor: &str) -> Option<QueueItem> {
        let parts: Vec<&str> = cursor.split('|').collect();
        match parts.as_slice() {
            [stage, city, district, application] if !application.is_empty() => Some(QueueItem {
                stage: stage.to_string(),
                city: city.to_string(),
                district: district.to_string(),
                application: application.to_string(),
                ..QueueItem::default()
            }),
            _ => None,
        }
    }
}

/// Which page of which list (审核队列) [`Kernel::queue_page`] reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueQuery {
    pub view: crate::engine::access::QueueView,
    /// Only applications now at this stage — `None`: every stage.
    pub stage: Option<String>,
    /// The last item of the previous page (its stage, city, district and application).
    pub after: Option<QueueItem>,
    /// Page size.
    pub limit: usize,
}

/// The receipts an idempotency key recorded, read from the given tables; refused if
/// the key came with a different request.
fn key_receipts(
    idem: &impl ReadableRecords<(TextKey, TextKey), IdempotencyRecord>,
    log: &impl ReadableRecords<u64, Decision>,
    apps: &impl ReadableRecords<TextKey, Application>,
    user_id: &str,
    k: Keyed<'_>,
) -> Result<Option<Vec<Receipt>>, ActError> {
    let Some(rec) = idem.get((user_id, k.key))? else {
        return Ok(None);
    };
    if rec.digest != k.digest {
        return Err(ActError::IdempotencyKeyReused { key: k.key.to_string() });
    }
    let mut out = Vec::new();
    for i in rec.decisions {
        let Some(decision) = log.get(i)? else {
            return Err(ActError::NotFound { what: "decision", id: i.to_string() });
        };
        let Some(application) = apps.get(decision.application.as_str())? else {
            return Err(ActError::NotFound { what: "application", id: decision.application.clone() });
        };
        out.push(Receipt { decision, application, check: None, replayed: true });
    }
    Ok(Some(out))
}

/// The hash of a decision: sha256 over its predecessor's hash and its own JSON without `hash`.
pub fn decision_hash(d: &Decision) -> String {
    let mut copy = d.clone();
    copy.hash = String::new();
    hash_of(&copy.prev_hash, &to_json(&copy))
}

fn hash_of(prev_hash: &str, unhashed: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(unhashed);
    crate::tables::digest_hex(h.finalize().into())
}

/// Seal a new decision (its `hash` empty): set its hash ([`decision_hash`]) and
/// return its stored bytes. The record is encoded once: `hash` is its last field, so
/// the stored JSON is the hashed JSON with the hash written into `"hash":""`.
pub(crate) fn seal(d: &mut Decision) -> Vec<u8> {
    debug_assert!(d.hash.is_empty());
    let mut json = to_json(d);
    d.hash = hash_of(&d.prev_hash, &json);
    const EMPTY: &[u8] = b"\"hash\":\"\"}";
    if json.ends_with(EMPTY) {
        json.truncate(json.len() - 2);
        json.extend_from_slice(d.hash.as_bytes());
        json.extend_from_slice(b"\"}");
    } else {
        json = to_json(d);
    }
    debug_assert_eq!(json, to_json(d), "the sealed record is the record's JSON");
    json
}

pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Write a round and bump its version (which keys the parsed-round cache).
pub(crate) fn put_round(tx: &WriteTransaction, round: &Round) -> Result<(), StoreError> {
    ROUNDS.open(tx)?.insert(round.spec.id.as_str(), round)?;
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
            profile: org.profile.as_str().to_string(),
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

/// The applicant's history as a check shows it to a plugin: every application under
/// `credit_code` in the applicant index but `except`, each as [`history_row`] with
/// its round's year (`year_of`, from the parsed-round cache). Each is read without
/// its form data and attachments ([`HistorySource`]).
///
/// # Errors
/// Storage errors; [`StoreError::Corrupt`] for an indexed application, or its round,
/// that is missing.
fn history_from<T: ReadableTable<TextKey, &'static [u8]>>(
    index: &impl ReadableTable<(TextKey, TextKey, TextKey), ()>,
    apps: &RecordTable<T, TextKey, Application>,
    mut year_of: impl FnMut(&str) -> Result<Option<u32>, StoreError>,
    credit_code: &str,
    except: &str,
) -> Result<Vec<HistoryEntry>, StoreError> {
    let missing = |id: &str, what: &str| StoreError::Corrupt {
        key: format!("applications_by_applicant/{credit_code}/…/{id}"),
        message: format!("the indexed application's {what} is missing"),
    };
    let mut out = Vec::new();
    for row in index.range((credit_code, "", "")..)? {
        let (k, _) = row?;
        let (code, _, id) = k.value();
        if code != credit_code {
            break;
        }
        if id == except {
            continue;
        }
        let app: HistorySource = apps.get_part(id)?.ok_or_else(|| missing(id, "record"))?;
        let year = year_of(app.round())?.ok_or_else(|| missing(id, "round"))?;
        out.push(history_row(app, year));
    }
    // In application order, as every version has shown it.
    out.sort_by(|a, b| a.application.cmp(&b.application));
    Ok(out)
}

/// A blocking finding of the kernel's own (`round.*`).
fn blocking(rule: &str, path: &str, zh: String, en: String) -> Finding {
    Finding { rule_id: rule.into(), severity: Severity::Blocking, path: path.into(), message: Text::new(zh, en) }
}

/// A write table of records `V` under keys `K`, open in a transaction.
type WriteRecords<'t, K, V> = RecordTable<redb::Table<'t, K, &'static [u8]>, K, V>;

/// The tables an action reads and writes, each opened once per transaction — the
/// group commit keeps them with its shared transaction (`commit::OpenTx`), so a batch
/// of 1,000 or 60 batch-mates open them once, not 12 times each (issue 19) — with
/// what the actions of one transaction read alike (this year's calendar, the region
/// maps) read once. Any other code in the same transaction must not open these tables
/// while they are held (redb refuses a table opened twice), and a transaction that is
/// rolled back to a savepoint drops them first.
pub(crate) struct ActTables<'t> {
    pub tx: &'t WriteTransaction,
    pub apps: WriteRecords<'t, TextKey, Application>,
    pub orgs: WriteRecords<'t, TextKey, Organisation>,
    pub bans: WriteRecords<'t, (TextKey, TextKey), Ban>,
    pub head: redb::Table<'t, TextKey, (u64, &'static str)>,
    pub decisions: WriteRecords<'t, u64, Decision>,
    pub by_app: redb::Table<'t, (TextKey, u64), ()>,
    pub quota: redb::Table<'t, (TextKey, TextKey, TextKey), u32>,
    pub queue: redb::Table<'t, (TextKey, TextKey, TextKey, TextKey, TextKey), ()>,
    pub handled: redb::Table<'t, HandledKey, ()>,
    pub applicant: redb::Table<'t, (TextKey, TextKey, TextKey), ()>,
    pub counters: redb::Table<'t, TextKey, u64>,
    pub round_versions: redb::Table<'t, TextKey, u64>,
    /// The year and its calendar merged with the next year's, once read.
    calendar: Option<(i32, std::sync::Arc<crate::calendar::Calendar>)>,
    region_maps: Option<std::sync::Arc<RegionMaps>>,
}

impl<'t> ActTables<'t> {
    /// Open every table an action uses.
    ///
    /// # Errors
    /// redb's (as [`StoreError::Database`]).
    pub(crate) fn open(tx: &'t WriteTransaction) -> Result<ActTables<'t>, StoreError> {
        Ok(ActTables {
            tx,
            apps: APPS.open(tx)?,
            orgs: ORGS.open(tx)?,
            bans: BANS.open(tx)?,
            head: tx.open_table(CHAIN_HEAD)?,
            decisions: DECISIONS.open(tx)?,
            by_app: tx.open_table(DECISIONS_BY_APP)?,
            quota: tx.open_table(QUOTA_USED)?,
            queue: tx.open_table(QUEUE)?,
            handled: tx.open_table(HANDLED)?,
            applicant: tx.open_table(BY_APPLICANT)?,
            counters: tx.open_table(COUNTERS)?,
            round_versions: tx.open_table(ROUND_VERSIONS)?,
            calendar: None,
            region_maps: None,
        })
    }

    /// The action tables of the group commit's transaction: those a batch-mate
    /// opened, else opened now and kept there for the next.
    ///
    /// # Errors
    /// redb's (as [`StoreError::Database`]).
    pub(crate) fn shared<'a>(
        tx: &'t WriteTransaction,
        shared: &'a mut Option<ActTables<'t>>,
    ) -> Result<&'a mut ActTables<'t>, StoreError> {
        Ok(match shared {
            Some(t) => t,
            None => shared.insert(ActTables::open(tx)?),
        })
    }

    /// The working-day calendar of `year` merged with the next year's (a due date
    /// may cross New Year), each marking its year as set; read once per transaction.
    ///
    /// # Errors
    /// Storage errors; a damaged calendar record.
    pub(crate) fn calendar(&mut self, year: i32) -> Result<std::sync::Arc<crate::calendar::Calendar>, StoreError> {
        if let Some((y, c)) = &self.calendar {
            if *y == year {
                return Ok(c.clone());
            }
        }
        let t = CALENDARS.open(self.tx)?;
        let mut cal = crate::calendar::Calendar::default();
        for y in [year, year + 1] {
            if let Some(mut c) = t.get(y)? {
                c.years.insert(y);
                cal.merge(&c);
            }
        }
        let cal = std::sync::Arc::new(cal);
        self.calendar = Some((year, cal.clone()));
        Ok(cal)
    }
}

/// City → group and region/group id → display name.
pub(crate) struct RegionMaps {
    pub groups: std::collections::HashMap<String, String>,
    pub names: std::collections::HashMap<String, String>,
}

/// Whether an application at a stage of this kind is under review — a review,
/// expert or notice stage, where people still act on it: its organisation's region
/// may not change ([`Kernel::upsert_orgs`]) and its round may not close unforced
/// ([`Kernel::close_round`]).
pub(crate) fn under_review(kind: shenbao_contract::StageKind) -> bool {
    use shenbao_contract::StageKind;
    matches!(kind, StageKind::Review | StageKind::Expert | StageKind::Notice)
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

/// The key type of [`HANDLED`]: (round, stage left, list, city, district, application).
pub(crate) type HandledKey = (TextKey, TextKey, TextKey, TextKey, TextKey, TextKey);

/// The handled lists (已推荐, 退回待提交, 不受理), each keyed in [`HANDLED`].
pub(crate) const HANDLED_VIEWS: [QueueView; 3] =
    [QueueView::Recommended, QueueView::Returned, QueueView::NotRecommended];

/// An application's state, read without the rest of its record (`get_part`).
#[derive(serde::Deserialize)]
pub(crate) struct StateOf {
    pub state: AppState,
}

/// A handled list's name in [`HANDLED`]'s keys (the API's name for it).
pub(crate) fn view_key(view: QueueView) -> &'static str {
    match view {
        QueueView::Pending => "pending",
        QueueView::Recommended => "recommended",
        QueueView::Returned => "returned",
        QueueView::NotRecommended => "not-recommended",
    }
}

/// The handled lists an application in `state` is in, for the reviewers of each
/// stage it has left ([`HANDLED`]): (stage, list) for each distinct stage its trail
/// left, as a reviewer of that stage alone sees it
/// ([`handled_view`](crate::engine::access::handled_view)); a stage where it is in
/// none (it waits there again, or was withdrawn from it) is left out.
pub(crate) fn handled_entries<'s>(round: &Round, state: &'s AppState) -> Vec<(&'s str, QueueView)> {
    let left = &state.trail[..state.trail.len().saturating_sub(1)];
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for v in left {
        let stage = v.stage.as_str();
        if seen.contains(&stage) {
            continue;
        }
        seen.push(stage);
        if let Some(view) = crate::engine::access::handled_view(&[stage], round, state) {
            out.push((stage, view));
        }
    }
    out
}

/// Keep [`HANDLED`] true after a decision that moved an application (its trail grew
/// by one visit): the stage it just left gets the entry of the list it is now in
/// there, and — when it had left that stage before — loses the others. `key` is the
/// application's queue key after the move (round, stage, city, district, application).
///
/// # Errors
/// redb's (as [`StoreError::Database`]).
pub(crate) fn record_leave(
    handled: &mut redb::Table<'_, HandledKey, ()>,
    round: &Round,
    state: &AppState,
    key: &(String, String, String, String, String),
) -> Result<(), StoreError> {
    let n = state.trail.len();
    if n < 2 {
        return Ok(());
    }
    let left = state.trail[n - 2].stage.as_str();
    let view = crate::engine::access::handled_view(&[left], round, state);
    let again = state.trail[..n - 2].iter().any(|v| v.stage == left);
    let (r, c, d, id) = (key.0.as_str(), key.2.as_str(), key.3.as_str(), key.4.as_str());
    for v in HANDLED_VIEWS {
        if view == Some(v) {
            handled.insert((r, left, view_key(v), c, d, id), ())?;
        } else if again {
            handled.remove((r, left, view_key(v), c, d, id))?;
        }
    }
    Ok(())
}

/// Write every [`HANDLED`] entry of an application whose queue key is `key` (an
/// imported or migrated application; see [`handled_entries`]).
///
/// # Errors
/// redb's (as [`StoreError::Database`]).
pub(crate) fn index_handled(
    handled: &mut redb::Table<'_, HandledKey, ()>,
    round: &Round,
    state: &AppState,
    key: (&str, &str, &str, &str),
) -> Result<(), StoreError> {
    let (r, c, d, id) = key;
    for (stage, view) in handled_entries(round, state) {
        handled.insert((r, stage, view_key(view), c, d, id), ())?;
    }
    Ok(())
}

/// Move the index entries of every application of `credit_code` — its queue entry
/// and its handled-list entries ([`QUEUE`], [`HANDLED`]), keyed by the applicant's
/// city and district — from `old`'s region to `new`'s, inside `tx` (the transaction
/// that changes the organisation), so the applications are listed where the access
/// policy now places them.
///
/// # Errors
/// Storage errors; a damaged application record.
pub(crate) fn move_applications(
    tx: &WriteTransaction,
    credit_code: &str,
    old: &Organisation,
    new: &Organisation,
) -> Result<(), StoreError> {
    let region = |o: &Organisation| (o.city.clone().unwrap_or_default(), o.district.clone().unwrap_or_default());
    let ((oc, od), (nc, nd)) = (region(old), region(new));
    let index = tx.open_table(BY_APPLICANT)?;
    let apps = APPS.open(tx)?;
    let mut queue = tx.open_table(QUEUE)?;
    let mut handled = tx.open_table(HANDLED)?;
    find_in_applications_of(&index, &apps, credit_code, &mut |round, id, state| {
        if queue.remove((round, state.stage.as_str(), oc.as_str(), od.as_str(), id))?.is_some() {
            queue.insert((round, state.stage.as_str(), nc.as_str(), nd.as_str(), id), ())?;
        }
        let mut stages: Vec<&str> = state.trail.iter().map(|v| v.stage.as_str()).collect();
        stages.sort_unstable();
        stages.dedup();
        for stage in stages {
            for list in HANDLED_VIEWS.map(view_key) {
                if handled.remove((round, stage, list, oc.as_str(), od.as_str(), id))?.is_some() {
                    handled.insert((round, stage, list, nc.as_str(), nd.as_str(), id), ())?;
                }
            }
        }
        Ok(None::<()>)
    })?;
    Ok(())
}

/// Walk the applications of the organisation `code` through the applicant index
/// ([`BY_APPLICANT`]), in its order, each as (round, application, state), until
/// `each` finds something.
///
/// # Errors
/// Storage errors; a damaged application record.
pub(crate) fn find_in_applications_of<I, A, T>(
    index: &I,
    apps: &crate::tables::RecordTable<A, TextKey, Application>,
    code: &str,
    each: &mut dyn FnMut(&str, &str, &AppState) -> Result<Option<T>, StoreError>,
) -> Result<Option<T>, StoreError>
where
    I: redb::ReadableTable<(TextKey, TextKey, TextKey), ()>,
    A: redb::ReadableTable<TextKey, &'static [u8]>,
{
    for row in index.range((code, "", "")..)? {
        let (k, _) = row?;
        let (c, round, id) = k.value();
        if c != code {
            break;
        }
        let Some(StateOf { state }) = apps.get_part(id)? else { continue };
        if let Some(found) = each(round, id, &state)? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

mod actions;
mod audit;
mod queries;
mod reference;
pub(crate) use reference::same_path;
mod rounds;

impl Kernel {
    /// One record, in a read transaction of its own.
    pub(super) fn read<V: DeserializeOwned>(
        &self,
        table: Records<TextKey, V>,
        key: &str,
    ) -> Result<Option<V>, StoreError> {
        table.open(&self.begin_read()?)?.get(key)
    }

    /// Every record of a table, in key order, in a read transaction of its own.
    pub(super) fn read_all<V: DeserializeOwned>(&self, table: Records<TextKey, V>) -> Result<Vec<V>, StoreError> {
        let tx = self.begin_read()?;
        let t = table.open(&tx)?;
        t.iter()?.map(|r| r.map(|(_, v)| v)).collect()
    }
}
