//! Records of the WIT contract, one for one, with serde and JSON Schema.
//!
//! Field names are snake_case in JSON; enum values kebab-case, as in the WIT.

use crate::{Date, MonthDay};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Text shown to people: Chinese for applicants and reviewers, English for integrators.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Text { zh: zh.into(), en: en.into() }
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.zh, self.en)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Blocking,
    Warning,
    Info,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    pub rule_id: String,
    pub severity: Severity,
    pub path: String,
    pub message: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Signal {
    pub id: String,
    pub weight: i32,
    pub message: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Form {
    pub id: String,
    pub title: Text,
    /// JSON Schema (draft 2020-12) as JSON text.
    pub schema: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Edition {
    pub id: String,
    pub year: u32,
    pub title: Text,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AttachmentType {
    pub id: String,
    pub title: Text,
    pub min_count: u32,
    pub max_count: Option<u32>,
    pub media_types: Vec<String>,
    pub max_bytes: Option<u64>,
    pub must_be_valid: bool,
    pub max_age_months: Option<u32>,
    pub min_seconds: Option<u32>,
    pub max_seconds: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Direction {
    pub id: String,
    pub title: Text,
    pub category: Option<String>,
    pub form: String,
    pub handled_by: Vec<String>,
    pub attachments: Vec<AttachmentType>,
    pub editions: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Category {
    pub id: String,
    pub title: Text,
    pub handled_by: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Rule {
    pub id: String,
    pub severity: Severity,
    pub clause: String,
    pub title: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SignalType {
    pub id: String,
    pub clause: String,
    pub title: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExpertItem {
    pub id: String,
    pub clause: String,
    pub title: Text,
    pub directions: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum QuotaGroup {
    Round,
    City,
    CityGroup,
    District,
    Channel,
    Applicant,
    ApplicantCategory,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct QuotaLimit {
    pub scope: String,
    pub limit: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Quota {
    pub id: String,
    pub title: Text,
    pub action: String,
    pub stage: Option<String>,
    pub group_by: QuotaGroup,
    pub default_limit: Option<u32>,
    pub limits: Vec<QuotaLimit>,
    pub channels: Vec<String>,
    pub message: Text,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StageKind {
    Draft,
    Review,
    Expert,
    Notice,
    Library,
    Terminal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pending,
    Passed,
    NotPassed,
    Withdrawn,
    Removed,
    Exited,
    Void,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ScopeLevel {
    OwnOrganisation,
    District,
    City,
    Province,
    Assigned,
    Public,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OpinionRule {
    None,
    Optional,
    Required,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    Next,
    Previous,
    Stage(String),
    Stay,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    SaveDraft,
    Submit,
    Recommend,
    NotRecommend,
    Return,
    Withdraw,
    Rank,
    AssignExperts,
    Score,
    PublishNotice,
    Object,
    ResolveObjection,
    Decide,
    AnnualReport,
    Warn,
    Rectify,
    Remove,
    Ban,
    Exit,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Stage {
    pub id: String,
    pub title: Text,
    pub kind: StageKind,
    pub optional: bool,
    pub role: Option<String>,
    pub scope: ScopeLevel,
    pub sla_working_days: Option<u32>,
    pub window: Option<String>,
    pub outcome: Option<Outcome>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Action {
    pub id: String,
    pub title: Text,
    pub kind: ActionKind,
    pub from_stages: Vec<String>,
    pub to: Target,
    pub roles: Vec<String>,
    pub scope: ScopeLevel,
    pub opinion: OpinionRule,
    pub batch: bool,
    pub runs_check: bool,
    pub deadline_months: Option<u32>,
    pub ban_months: Option<u32>,
    pub annual_due: Option<MonthDay>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RouteCondition {
    Channel(Vec<String>),
    City(Vec<String>),
    Tag(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Route {
    pub id: String,
    pub title: Text,
    pub when: RouteCondition,
    pub skip: Vec<String>,
}

/// An approval graph: stages, actions between them, routing rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Graph {
    pub initial: String,
    pub stages: Vec<Stage>,
    pub actions: Vec<Action>,
    pub routes: Vec<Route>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SummaryColumn {
    pub title: Text,
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SummarySection {
    pub id: String,
    pub title: Text,
    pub field: Option<String>,
    pub equals: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SummaryTable {
    pub title: Text,
    pub sections: Vec<SummarySection>,
    pub columns: Vec<SummaryColumn>,
}

/// Everything a program plugin says about itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Manifest {
    pub program: String,
    pub name: Text,
    pub version: String,
    pub editions: Vec<Edition>,
    pub default_edition: String,
    pub funded: bool,
    pub forms: Vec<Form>,
    pub categories: Vec<Category>,
    pub directions: Vec<Direction>,
    pub directions_from_round: bool,
    pub rules: Vec<Rule>,
    pub signals: Vec<SignalType>,
    pub expert_items: Vec<ExpertItem>,
    pub quotas: Vec<Quota>,
    pub graph: Graph,
    pub summary: SummaryTable,
}

impl Manifest {
    pub fn form(&self, id: &str) -> Option<&Form> {
        self.forms.iter().find(|f| f.id == id)
    }
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
    pub fn direction(&self, id: &str) -> Option<&Direction> {
        self.directions.iter().find(|d| d.id == id)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Qualification {
    pub id: String,
    pub name: String,
    pub granted_by: String,
    pub granted_on: Option<Date>,
    pub valid_until: Option<Date>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Applicant {
    pub credit_code: String,
    pub name: String,
    pub channel: String,
    pub city: Option<String>,
    pub district: Option<String>,
    pub dishonest: bool,
    pub tags: Vec<String>,
    pub qualifications: Vec<Qualification>,
    /// Organisation profile, JSON text.
    pub profile: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HistoryEntry {
    pub application: String,
    pub program: String,
    pub round: String,
    pub year: u32,
    pub direction: Option<String>,
    pub project: Option<String>,
    pub stage: String,
    pub outcome: Outcome,
    pub decided_on: Option<Date>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Attachment {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub media_type: String,
    pub size: u64,
    pub sha256: String,
    pub issued_on: Option<Date>,
    pub valid_until: Option<Date>,
    pub seconds: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RoundInfo {
    pub id: String,
    pub program: String,
    pub year: u32,
    pub edition: String,
    pub batch: Option<String>,
    /// Round configuration, JSON text.
    pub config: String,
}

/// Everything a plugin sees when it checks one application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CheckRequest {
    pub form: String,
    pub direction: Option<String>,
    /// Form data, JSON text.
    pub data: String,
    pub applicant: Applicant,
    pub history: Vec<HistoryEntry>,
    pub attachments: Vec<Attachment>,
    pub round: RoundInfo,
    pub as_of: Date,
}

impl CheckRequest {
    /// Bytes of text the request carries (for the host's input cap).
    pub fn text_len(&self) -> usize {
        let a = &self.applicant;
        self.form.len()
            + self.data.len()
            + self.direction.as_ref().map_or(0, String::len)
            + a.profile.len()
            + a.name.len()
            + a.credit_code.len()
            + a.tags.iter().map(String::len).sum::<usize>()
            + a.qualifications.iter().map(|q| q.id.len() + q.name.len() + q.granted_by.len()).sum::<usize>()
            + self.history.len() * 64
            + self.history.iter().map(|h| h.application.len() + h.round.len() + h.stage.len()).sum::<usize>()
            + self
                .attachments
                .iter()
                .map(|x| x.id.len() + x.kind.len() + x.name.len() + x.media_type.len() + 64)
                .sum::<usize>()
            + self.round.config.len()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct CheckResult {
    pub findings: Vec<Finding>,
    pub signals: Vec<Signal>,
}

impl CheckResult {
    pub fn has_blocking(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Blocking)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RoundCheck {
    pub findings: Vec<Finding>,
    pub directions: Vec<Direction>,
}

/// An error a plugin reports about its input (not a crash: crashes are the host's to type).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PluginError {
    pub code: String,
    pub message: Text,
}

impl PluginError {
    pub fn new(code: impl Into<String>, zh: impl Into<String>, en: impl Into<String>) -> Self {
        PluginError { code: code.into(), message: Text::new(zh, en) }
    }
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}
