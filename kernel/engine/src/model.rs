//! What the kernel stores: organisations, users and their grants, rounds,
//! applications and their state, decisions. Plain data (serde); behaviour lives in
//! `engine.rs` (pure) and `kernel.rs` (storage).

use crate::calendar::Calendar;
use crate::time::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use shenbao_contract::{
    ActionKind, Attachment, Date, Direction, ExpertItem, Finding, Graph, Outcome, Qualification, Quota, Signal,
};
use std::collections::BTreeMap;

/// An organisation that applies (申报单位).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Organisation {
    /// 统一社会信用代码, validated (GB 32100-2015).
    pub credit_code: String,
    pub name: String,
    /// `region`, `central-enterprise`, `out-of-province`, `provincial-soe`.
    pub channel: String,
    pub city: Option<String>,
    /// District region id, e.g. `huizhou.huicheng`.
    pub district: Option<String>,
    /// Listed as dishonest (失信).
    #[serde(default)]
    pub dishonest: bool,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub qualifications: Vec<Qualification>,
    /// Open-ended profile (address, staff, assets …), a JSON value.
    #[serde(default)]
    pub profile: Profile,
}

/// An organisation's open-ended profile, kept as the JSON text it was stored as:
/// an action reads the organisation without building the profile's value tree (it
/// only passes the text on to a plugin's check). [`Profile::from_value`] and
/// [`Profile::to_value`] convert; the default is `null`.
#[derive(Clone, Serialize)]
#[serde(transparent)]
pub struct Profile(Box<serde_json::value::RawValue>);

impl Profile {
    /// The profile holding `v` (compact JSON, as a [`serde_json::Value`] writes it).
    pub fn from_value(v: &serde_json::Value) -> Self {
        Profile(serde_json::value::to_raw_value(v).expect("a JSON value serialises"))
    }
    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }
    /// The profile as a value tree.
    pub fn to_value(&self) -> serde_json::Value {
        parse_checked(&self.0)
    }
}

impl From<serde_json::Value> for Profile {
    fn from(v: serde_json::Value) -> Self {
        Profile::from_value(&v)
    }
}

impl Default for Profile {
    fn default() -> Self {
        Profile::from_value(&serde_json::Value::Null)
    }
}

/// Read a profile: the text must be JSON a [`serde_json::Value`] holds (as
/// [`FormData`]'s), so [`Profile::to_value`] never fails.
impl<'de> Deserialize<'de> for Profile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_json(d, "profile").map(Profile)
    }
}

impl JsonSchema for Profile {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Profile".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        serde_json::Value::json_schema(g)
    }
}

/// The same text (profiles enter the store as [`Profile::from_value`] writes them,
/// `Kernel::upsert_orgs`, so the same value is the same text there).
impl PartialEq for Profile {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a grant reaches.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", tag = "level", content = "id")]
pub enum Scope {
    Province,
    City(String),
    District(String),
    /// An applicant's own organisation, by credit code.
    Organisation(String),
    /// Experts act on the applications assigned to them.
    Expert,
    /// Anyone, for public actions such as an objection to a notice.
    Public,
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Province => write!(f, "province"),
            Scope::City(c) => write!(f, "city:{c}"),
            Scope::District(d) => write!(f, "district:{d}"),
            Scope::Organisation(o) => write!(f, "organisation:{o}"),
            Scope::Expert => write!(f, "expert"),
            Scope::Public => write!(f, "public"),
        }
    }
}

/// A role held within a scope (and optionally an office, 科室).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct RoleGrant {
    pub role: String,
    pub scope: Scope,
    #[serde(default)]
    pub office: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct User {
    pub id: String,
    pub name: String,
    pub grants: Vec<RoleGrant>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RoundStatus {
    Configured,
    Open,
    Closed,
}

impl RoundStatus {
    /// As integrators read it: `configured`, `open`, `closed` (its JSON value).
    pub fn en(&self) -> &'static str {
        match self {
            RoundStatus::Configured => "configured",
            RoundStatus::Open => "open",
            RoundStatus::Closed => "closed",
        }
    }

    /// How a person reads it: 已配置（未开放）, 已开放, 已关闭.
    pub fn zh(&self) -> &'static str {
        match self {
            RoundStatus::Configured => "已配置（未开放）",
            RoundStatus::Open => "已开放",
            RoundStatus::Closed => "已关闭",
        }
    }
}

/// A time window, both ends inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub start: Timestamp,
    /// Inclusive; a date alone means the end of that day (23:59:59).
    #[serde(deserialize_with = "crate::time::end_of")]
    pub end: Timestamp,
}

impl Window {
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t <= self.end
    }
    pub fn within(&self, outer: &Window) -> bool {
        outer.start <= self.start && self.end <= outer.end
    }
}

/// What a city sets for its own part of a round.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CityConfig {
    /// The city's applicant window; must lie inside the province window.
    #[serde(default)]
    pub applicants: Option<Window>,
    /// Whether its districts review first (是否需要区县审核).
    #[serde(default)]
    pub district_review: bool,
    /// District deadline (区县审核截止时间); must lie inside the city's review period.
    /// A date alone means the end of that day.
    #[serde(default, deserialize_with = "crate::time::end_of_opt")]
    pub district_deadline: Option<Timestamp>,
}

/// Turns an optional stage on or off, by default and per city.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StageSwitch {
    pub default: bool,
    #[serde(default)]
    pub cities: BTreeMap<String, bool>,
}

/// What an administrator supplies to create a round (a `round.json`; its JSON
/// Schema is `schemas/round.schema.json`). Times are Beijing time, written
/// `"2024-08-01 09:00"`, `"2024-08-01T09:00:00+08:00"` or a date alone.
///
/// The graph's stage windows read these fields: `applicant` — the city's
/// `cities[*].applicants` if it sets one, else `province`; `district` — the city's
/// `district_deadline`, else `city_deadline`; `city` — `city_deadline`; `province` —
/// `province_deadline`. A window with no deadline set is open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundSpec {
    /// The round's id, unique in the database (`er-2024q3`).
    pub id: String,
    /// The program's id, as its plugin's manifest declares it (`enabling-resources`).
    pub program: String,
    /// Plugin version to pin (`0.1.0`); the installed component's sha256 is recorded
    /// in the round. `shenbao plugin test` refuses a folder whose `round.json` names
    /// another version than the component's.
    pub plugin_version: String,
    /// The year the round belongs to (申报年度).
    pub year: u32,
    /// A batch within the year (`2024Q3`), for programs that run several.
    #[serde(default)]
    pub batch: Option<String>,
    /// Edition of the program's rules (one of the manifest's `editions`); default:
    /// the plugin's default edition.
    #[serde(default)]
    pub edition: Option<String>,
    /// The province's applicant window (省厅申报开始/结束时间): the `applicant` window
    /// of every city that sets none of its own.
    pub province: Window,
    /// 地市审核截止时间: the `city` window's end, and the `district` window's for a
    /// city that sets no district deadline. A date alone means the end of that day.
    #[serde(default, deserialize_with = "crate::time::end_of_opt")]
    pub city_deadline: Option<Timestamp>,
    /// Deadline of the province's own review (the `province` window). A date alone
    /// means the end of that day.
    #[serde(default, deserialize_with = "crate::time::end_of_opt")]
    pub province_deadline: Option<Timestamp>,
    /// Per city (by region id, `huizhou`): its applicant window, whether its districts
    /// review first, and their deadline.
    #[serde(default)]
    pub cities: BTreeMap<String, CityConfig>,
    /// Optional stages switched on or off (district review is switched per city by
    /// `cities[*].district_review` for stages whose window is `district`).
    #[serde(default)]
    pub switches: BTreeMap<String, StageSwitch>,
    /// Replaces the plugin's default graph for this round.
    #[serde(default)]
    pub graph: Option<Graph>,
    /// Replaces the plugin's declared quotas for this round (e.g. this year's limits).
    #[serde(default)]
    pub quotas: Option<Vec<Quota>>,
    /// Program-specific configuration passed to the plugin (e.g. a direction list).
    #[serde(default)]
    pub config: serde_json::Value,
    /// Correction period (补正期限), in working days: an application returned (回退)
    /// to a stage whose window has closed may still be acted on there until the end
    /// of the last of these days (`AppState::correction_until`); while the period
    /// runs, moves back up the path (or further returns) keep its end. Without it
    /// such a return is refused (`return_window_closed`); a withdraw never reopens a
    /// closed window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction_working_days: Option<u32>,
    /// Channels (渠道) this round addresses beyond the platform's own (`region`,
    /// `central-enterprise`, `out-of-province`, `provincial-soe`), each with the
    /// stages its applications skip: the body that reviews them is the first stage
    /// they keep (an industry association's skip district and city review and go to
    /// the province). They become routes of the round's graph.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ChannelRoute>,
}

/// The platform's own channels (渠道), which every round takes: `region` (属地),
/// `central-enterprise` (中央企业), `out-of-province` (省外单位), `provincial-soe`
/// (省属国有企业). A round takes others its graph routes (`RoundSpec::channels`, a
/// plugin's routes); `decide` refuses a submission from any other
/// ([`crate::Refusal::UnknownChannel`]).
pub const PLATFORM_CHANNELS: [&str; 4] = ["region", "central-enterprise", "out-of-province", "provincial-soe"];

/// A channel a round declares (`RoundSpec::channels`), e.g. 行业协会 or 省属企业集团.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelRoute {
    /// The channel's id, as organisations carry it (`industry-association`):
    /// lower-case letters, digits and '-'.
    pub id: String,
    /// Its name, in Chinese and English.
    pub title: shenbao_contract::Text,
    /// The stages its applications skip (ids of the round's graph).
    #[serde(default)]
    pub skip: Vec<String>,
}

/// A round as stored: the spec plus what was pinned when it was created.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Round {
    pub spec: RoundSpec,
    pub plugin: PluginId,
    pub edition: String,
    /// The graph in force (the plugin's default or the round's override).
    pub graph: Graph,
    pub quotas: Vec<Quota>,
    pub directions: Vec<Direction>,
    /// The program's expert-review items (专家评审要点), as its manifest declared them
    /// when the round was created: each scored 0–100 by an expert (`Payload::item_scores`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expert_items: Vec<ExpertItem>,
    pub status: RoundStatus,
    pub created_at: Timestamp,
}

/// A stage an application passed through.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Visit {
    pub stage: String,
    pub entered_at: Timestamp,
    /// Decision that moved it here (none for the initial stage).
    pub decision: Option<u64>,
}

/// Who moved the application into its current stage, for withdraw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EnteredBy {
    pub decision: u64,
    pub from: String,
    pub role: String,
    pub scope: Scope,
    pub action: String,
}

/// A quota unit an application holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct QuotaHold {
    pub quota: String,
    pub scope: String,
    /// Stage the consuming action was taken at.
    pub stage: String,
    pub decision: u64,
}

/// Where an application is and what it carries along.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AppState {
    pub stage: String,
    pub trail: Vec<Visit>,
    pub entered_by: Option<EnteredBy>,
    /// Someone at the current stage has acted since it arrived (withdraw is then too late).
    pub acted_since_entry: bool,
    pub holds: Vec<QuotaHold>,
    /// Priority order given by the recommender (1 = first).
    pub rank: Option<u32>,
    pub experts: Vec<String>,
    /// Each expert's total (百分制): its single score, or the mean of its item scores.
    pub scores: BTreeMap<String, f64>,
    /// Each expert's score per expert-review item (item id → 0–100), when it scored by item.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub item_scores: BTreeMap<String, BTreeMap<String, f64>>,
    pub open_objections: u32,
    /// SLA due date at the current stage (working days).
    pub due: Option<Date>,
    /// Rectification deadline after a warning.
    pub deadline: Option<Date>,
    /// Next yearly report due.
    pub annual_due: Option<Date>,
    pub outcome: Outcome,
    /// Accepted decisions on this application.
    pub version: u64,
    /// Warning rule ids of the last submission check not yet confirmed by the province.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// End of the correction period (补正期限) at the current stage: the application
    /// was returned here after the stage's window closed, and the window is open to
    /// it until then (`RoundSpec::correction_working_days`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction_until: Option<Timestamp>,
}

impl AppState {
    pub fn new(initial: &str, at: Timestamp) -> Self {
        AppState {
            stage: initial.to_string(),
            trail: vec![Visit { stage: initial.to_string(), entered_at: at, decision: None }],
            entered_by: None,
            acted_since_entry: false,
            holds: Vec::new(),
            rank: None,
            experts: Vec::new(),
            scores: BTreeMap::new(),
            item_scores: BTreeMap::new(),
            open_objections: 0,
            due: None,
            deadline: None,
            annual_due: None,
            outcome: Outcome::Pending,
            version: 0,
            warnings: Vec::new(),
            correction_until: None,
        }
    }
}

/// Form data kept as the JSON text it arrived as: stored and re-read without
/// building a value tree (parse it with [`FormData::to_value`] when needed).
#[derive(Clone, Serialize)]
#[serde(transparent)]
pub struct FormData(Box<serde_json::value::RawValue>);

/// Read form data (from the store, an import): the text must be JSON a
/// [`serde_json::Value`] holds — a number out of `f64`'s range (`1e400`) is JSON
/// syntax but no value, and is refused here, so [`FormData::to_value`] never fails.
impl<'de> Deserialize<'de> for FormData {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_json(d, "form data").map(FormData)
    }
}

/// JSON text read as it is, checked to be JSON a [`serde_json::Value`] holds (so
/// [`parse_checked`] never fails); `what` names it in the error.
fn checked_json<'de, D: serde::Deserializer<'de>>(
    d: D,
    what: &str,
) -> Result<Box<serde_json::value::RawValue>, D::Error> {
    let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
    serde_json::from_str::<Parses>(raw.get()).map_err(|e| serde::de::Error::custom(format!("{what}: {e}")))?;
    Ok(raw)
}

/// The value of text [`checked_json`] or `to_raw_value` made.
fn parse_checked(raw: &serde_json::value::RawValue) -> serde_json::Value {
    serde_json::from_str(raw.get()).expect("JSON text is checked to parse when made")
}

/// Deserialises any JSON a [`serde_json::Value`] holds, keeping nothing (numbers
/// are parsed, so one out of range fails; `IgnoredAny` would skip them).
struct Parses;

impl<'de> Deserialize<'de> for Parses {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Parses;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Parses, E> {
                Ok(Parses)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Parses, E> {
                Ok(Parses)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Parses, E> {
                Ok(Parses)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Parses, E> {
                Ok(Parses)
            }
            fn visit_str<E>(self, _: &str) -> Result<Parses, E> {
                Ok(Parses)
            }
            fn visit_unit<E>(self) -> Result<Parses, E> {
                Ok(Parses)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Parses, A::Error> {
                while a.next_element::<Parses>()?.is_some() {}
                Ok(Parses)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Parses, A::Error> {
                while a.next_entry::<serde::de::IgnoredAny, Parses>()?.is_some() {}
                Ok(Parses)
            }
        }
        d.deserialize_any(V)
    }
}

impl FormData {
    /// Form data as stored: `v` with every whole number written as an integer
    /// (`100.0` and `1e2` become `100`), so a field a plugin reads as an integer
    /// gets one (JSON Schema already counts `100.0` as an integer; serde does not).
    pub fn from_value(v: &serde_json::Value) -> Self {
        let mut v = v.clone();
        whole_numbers_as_integers(&mut v);
        FormData(serde_json::value::to_raw_value(&v).expect("a JSON value serialises"))
    }
    pub fn null() -> Self {
        FormData::from_value(&serde_json::Value::Null)
    }
    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }
    /// The data as a value tree.
    pub fn to_value(&self) -> serde_json::Value {
        parse_checked(&self.0)
    }
}

/// Rewrite whole-valued floats (within ±2^53, where they are exact) as integers.
fn whole_numbers_as_integers(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().expect("an f64 number");
            if x.fract() == 0.0 && x.abs() <= 9_007_199_254_740_992.0 {
                *v = Value::from(x as i64);
            }
        }
        Value::Array(xs) => xs.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(m) => m.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

impl JsonSchema for FormData {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FormData".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "description": "The form data as submitted: a JSON value validated by the form's schema." })
    }
}

impl PartialEq for FormData {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl std::fmt::Debug for FormData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An application (申报项目).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Application {
    pub id: String,
    pub round: String,
    pub program: String,
    /// Applicant's credit code.
    pub applicant: String,
    pub direction: Option<String>,
    pub form: String,
    pub data: FormData,
    /// Project key, for "the same project cannot be submitted twice".
    pub project: Option<String>,
    pub attachments: Vec<Attachment>,
    pub state: AppState,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
    /// Drafts saved.
    pub saves: u32,
}

/// The typed payload some actions carry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Payload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub experts: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// A score (0–100) for each of the round's expert-review items that apply to the
    /// application's direction (`Round::expert_items`), all of them; the expert's
    /// total is their mean (rounded to 0.01), and `score`, if also given, must equal it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub item_scores: BTreeMap<String, f64>,
    /// Warning rule ids the province confirms with this action (the opinion is the reason),
    /// e.g. the years-in-business exemption of enabling resources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confirm: Vec<String>,
}

/// A request to take an action on an application.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    pub action: String,
    #[serde(default)]
    pub opinion: Option<String>,
    /// Refuse unless the application is at this stage (guards against acting on a stale view).
    #[serde(default)]
    pub if_stage: Option<String>,
    #[serde(default)]
    pub payload: Payload,
}

impl ActionRequest {
    pub fn new(action: &str) -> Self {
        ActionRequest { action: action.into(), ..Default::default() }
    }
    pub fn with_opinion(action: &str, opinion: &str) -> Self {
        ActionRequest { action: action.into(), opinion: Some(opinion.into()), ..Default::default() }
    }
}

/// Who acted, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ActorRef {
    pub user: String,
    pub role: String,
    pub scope: Scope,
}

/// A change of a quota counter made by a decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct QuotaDelta {
    pub quota: String,
    pub scope: String,
    /// +1 consumed, -1 released.
    pub delta: i32,
    pub used_after: u32,
    pub limit: Option<u32>,
}

/// The plugin check a decision relied on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckRecord {
    pub plugin_sha256: String,
    pub wit: String,
    /// sha256 of the canonical JSON of the check request (stored in `check_inputs`).
    pub input_digest: String,
    /// Schema and plugin findings: what `replay` reproduces.
    pub findings: Vec<Finding>,
    /// The kernel's own attachment findings at the time.
    #[serde(default)]
    pub kernel_findings: Vec<Finding>,
    pub signals: Vec<Signal>,
    pub fuel: u64,
}

/// One accepted state change, hash-chained to the previous one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Decision {
    pub index: u64,
    pub prev_hash: String,
    pub at: Timestamp,
    pub application: String,
    pub round: String,
    pub actor: ActorRef,
    pub action: String,
    pub kind: ActionKind,
    pub opinion: Option<String>,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub batch: Option<String>,
    #[serde(default)]
    pub payload: Payload,
    pub check: Option<CheckRecord>,
    pub quota: Vec<QuotaDelta>,
    /// Why the engine decided as it did (routes taken, stages skipped, rules applied).
    pub explain: Vec<String>,
    /// Where a decision imported from another database (`import round`) came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<DecisionOrigin>,
    /// sha256 over `prev_hash` and this record without `hash`.
    pub hash: String,
}

/// The original place of an imported decision: its index, application id and hash
/// in the database it was exported from (its hash verifies against that record).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DecisionOrigin {
    pub index: u64,
    pub application: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Working-day calendars by year.
pub type Calendars = BTreeMap<i32, Calendar>;

/// A ban on applying (e.g. 3 years after removal).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Ban {
    pub applicant: String,
    pub program: String,
    pub until: Date,
    pub decision: u64,
}

/// What identifies an installed plugin: program id, version and the sha256 of its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PluginId {
    pub program: String,
    pub version: String,
    /// Lower-case hex sha256 of the component bytes.
    pub sha256: String,
    /// WIT version the component exports, e.g. `0.1.0`.
    pub wit: String,
}

/// `program@version (sha256's first 12)`; a component not yet described (its
/// program unknown, e.g. when `describe` fails at install) is `component <sha12>`.
impl std::fmt::Display for PluginId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sha = &self.sha256[..12.min(self.sha256.len())];
        if self.program.is_empty() {
            return write!(f, "component {sha}");
        }
        write!(f, "{}@{} ({sha})", self.program, self.version)
    }
}

#[cfg(test)]
mod form_data_tests {
    use super::FormData;

    #[test]
    fn whole_numbers_are_stored_as_integers() {
        let v: serde_json::Value =
            serde_json::from_str(r#"{"a": 100.0, "b": [1e2, 2.5, -0.0], "c": {"d": 5e9, "e": 1e300, "f": 7}}"#)
                .unwrap();
        let stored = FormData::from_value(&v);
        assert_eq!(stored.as_str(), r#"{"a":100,"b":[100,2.5,0],"c":{"d":5000000000,"e":1e+300,"f":7}}"#);
    }

    #[test]
    fn form_data_that_no_value_holds_is_refused_when_read() {
        let e = serde_json::from_str::<FormData>(r#"{"staff": 1e400}"#).map(|_| ()).unwrap_err();
        assert!(e.to_string().contains("form data"), "{e}");
        let ok: FormData = serde_json::from_str(r#"{"staff": 1e300}"#).unwrap();
        assert_eq!(ok.to_value()["staff"], 1e300);
    }
}
