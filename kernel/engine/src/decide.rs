//! The pure engine: (round, applicant, state, action, actor, time, quota
//! counters) → new state and effects, or a typed refusal. No storage, no plugins,
//! no clock: `kernel.rs` reads what this needs and writes what it returns.

use crate::access::covers;
use crate::calendar::Calendar;
use crate::error::ErrorKind;
use crate::graph::Routing;
use crate::model::{
    ActionRequest, AppState, EnteredBy, Organisation, PLATFORM_CHANNELS, QuotaDelta, QuotaHold, RoleGrant, Round,
    RoundStatus, Scope, User, Visit,
};
use crate::time::Timestamp;
use shenbao_contract::{
    Action, ActionKind, Date, OpinionRule, Outcome, Quota, QuotaGroup, RouteCondition, ScopeLevel, StageKind, Target,
};
use std::collections::{BTreeMap, HashMap};

/// Why an action is refused. Each names what is wrong; nothing changes.
/// A payload field as people name it, for messages.
fn field_zh(field: &str) -> &str {
    match field {
        "rank" => "推荐顺序",
        "experts" => "评审专家",
        "score" => "评分",
        "opinion" => "审核意见",
        "confirm" => "警告确认",
        other => other,
    }
}

/// A stage's Chinese title in `graph` (its id when the graph lacks it).
fn stage_zh(graph: &shenbao_contract::Graph, id: &str) -> String {
    graph.stages.iter().find(|s| s.id == id).map_or_else(|| id.to_string(), |s| s.title.zh.clone())
}

/// Whether `text` shows nothing: white space and invisible format characters only
/// (zero-width spaces and joiners, direction marks, the BOM, soft hyphens) — an
/// opinion that says nothing is no opinion.
fn blank(text: &str) -> bool {
    text.chars().all(|c| {
        c.is_whitespace()
            || matches!(
                c,
                '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
            )
    })
}

/// Longest opinion (审核意见, or an objection's reason, 异议理由) an action takes, in
/// characters: it is kept in the hash chain for good, and anyone may object.
pub const MAX_OPINION_CHARS: usize = 5_000;

/// Most applications one applicant may have in one round (drafts included): each
/// check shows the plugin all of the applicant's applications and records what it
/// showed, so an applicant making drafts without end would make every later check,
/// and the log, grow without end. The programs' own limits are far lower (iiot-pilots:
/// at most 2 projects per applicant) and are the plugins' rules.
pub const MAX_APPLICATIONS_PER_APPLICANT: u32 = 50;

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("轮次“{round}”未开放（{}） / round {round} is not open ({})", status.zh(), status.en())]
    RoundNotOpen { round: String, status: RoundStatus },
    #[error("未知操作“{action}” / unknown action {action:?}")]
    UnknownAction { action: String },
    #[error("申报当前在“{actual_zh}”环节，而非“{expected_zh}” / the application is at {actual:?}, not {expected:?}")]
    StaleStage { expected: String, actual: String, expected_zh: String, actual_zh: String },
    #[error(
        "“{title}”不能在“{stage_zh}”环节执行（可在：{allowed_zh}） / {action:?} cannot be taken at {stage:?} (allowed at: {allowed})"
    )]
    NotAtThisStage {
        action: String,
        title: String,
        stage: String,
        stage_zh: String,
        allowed: String,
        allowed_zh: String,
    },
    #[error("无权执行“{title}”：{reason_zh} / not allowed to take {action:?}: {reason}")]
    Forbidden { action: String, title: String, reason_zh: String, reason: String },
    #[error("“{title}”必须填写审核意见 / {action:?} requires an opinion")]
    OpinionRequired { action: String, title: String },
    #[error(
        "{}时间窗已关闭或未开始（{detail_zh}） / the {window} window is closed or not yet open ({detail})",
        crate::graph::window_zh(window)
    )]
    WindowClosed { window: String, detail: String, detail_zh: String },
    #[error("{message} / quota {quota} for {scope}: {used}/{limit} used")]
    QuotaExceeded { quota: String, scope: String, used: u32, limit: u32, message: String },
    #[error("下一环节已处理，无法撤回 / the next stage has already acted; withdraw is no longer possible")]
    WithdrawTooLate,
    #[error("没有可撤回的本级决定 / there is no decision of yours to withdraw")]
    NothingToWithdraw,
    #[error("“{stage_zh}”之后没有可进入的环节 / no active stage follows {stage:?}")]
    NoNextStage { stage: String, stage_zh: String },
    #[error("“{stage_zh}”之前没有可回退的环节 / nothing precedes {stage:?} to return to")]
    NoPreviousStage { stage: String, stage_zh: String },
    #[error("尚有 {open} 条公示异议未处理 / {open} objection(s) are still open")]
    ObjectionsOpen { open: u32 },
    #[error("没有待处理的公示异议 / there is no open objection")]
    NoOpenObjection,
    #[error("“{title}”不能批量执行 / {action:?} cannot be taken in a batch")]
    NotBatchable { action: String, title: String },
    #[error("“{title}”缺少{} / {action:?} needs {what}", field_zh(what))]
    MissingPayload { action: String, title: String, what: String },
    #[error("尚有警告未经省级审核确认：{} / warnings not yet confirmed by the province: {}", rules.join("、"), rules.join(", "))]
    UnconfirmedWarnings { rules: Vec<String> },
    #[error("“{rule}”不是本申报待确认的警告 / {rule:?} is not a warning of this application awaiting confirmation")]
    NotAWarning { rule: String },
    #[error("只有省级审核可以确认警告（如从业年限放宽） / only the province confirms warnings (e.g. an exemption)")]
    ConfirmNotAllowed,
    #[error("申报单位在 {until} 前不得申报 / the applicant may not apply before {until}")]
    Banned { until: Date },
    #[error(
        "申报单位在本批次已有 {max} 个申报（含草稿），不能再新建，请继续填报已有的申报 / the applicant already has {max} applications in this round (drafts included), the most it may have; continue one of them"
    )]
    TooManyApplications { max: u32 },
    #[error("企业信息不完整：{missing} / the organisation profile lacks {missing}; it cannot apply")]
    ProfileIncomplete { missing: String },
    /// The applicant's channel (渠道) is neither the platform's nor one the round's
    /// graph routes: its applications would follow no route and count in no quota.
    #[error(
        "申报单位的渠道“{channel}”不是本批次受理的渠道（{known}），请先更正单位信息 / the applicant's channel {channel:?} is \
         not one this round takes ({known}); correct the organisation first"
    )]
    UnknownChannel { channel: String, known: String },
    #[error("存储的数据不一致：{detail} / the stored state is inconsistent: {detail}")]
    InconsistentState { detail: String },
    #[error("“{title}”不接受{} / {action:?} does not take {field:?}", field_zh(field))]
    UnexpectedPayload { action: String, title: String, field: String },
    #[error(
        "当前时间 {now} 早于本申请上一次办理的时间 {last}，不能倒签 / now ({now}) is before this application's last decision ({last}); decisions are never dated before the one they follow"
    )]
    ClockBehind { last: Timestamp, now: Timestamp },
    #[error("“{title}”的{}无效：{reason_zh} / {action:?}: invalid {field}: {reason}", field_zh(field))]
    InvalidPayload { action: String, title: String, field: String, reason_zh: String, reason: String },
    #[error(
        "不能退回到“{stage_zh}”：{}时间窗已关闭（{detail_zh}）；撤回不会重开时间窗，退回须本轮设有补正期限 / cannot move back to {stage:?}: its {window} window has closed ({detail}); a withdraw never reopens it, a return needs the round's correction period (correction_working_days)",
        crate::graph::window_zh(window)
    )]
    ReturnWindowClosed { stage: String, stage_zh: String, window: String, detail: String, detail_zh: String },
    /// The action runs the submission check, and none ran on the application as it
    /// stands (it changed, or moved to this stage, after the request was checked).
    #[error(
        "“{title}”须在申报当前的内容上完成检查后才能办理，申报已有变动，请重新办理 / {action:?} needs the submission check on the application as it stands, which changed after it was checked; send the request again"
    )]
    CheckNotRun { action: String, title: String },
}

impl Refusal {
    /// Stable code for APIs and exit statuses.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::RoundNotOpen { .. } => "round_not_open",
            Refusal::UnknownAction { .. } => "unknown_action",
            Refusal::StaleStage { .. } => "stale_stage",
            Refusal::NotAtThisStage { .. } => "not_at_this_stage",
            Refusal::Forbidden { .. } => "forbidden",
            Refusal::OpinionRequired { .. } => "opinion_required",
            Refusal::WindowClosed { .. } => "window_closed",
            Refusal::QuotaExceeded { .. } => "quota_exceeded",
            Refusal::WithdrawTooLate => "withdraw_too_late",
            Refusal::NothingToWithdraw => "nothing_to_withdraw",
            Refusal::NoNextStage { .. } => "no_next_stage",
            Refusal::NoPreviousStage { .. } => "no_previous_stage",
            Refusal::ObjectionsOpen { .. } => "objections_open",
            Refusal::NoOpenObjection => "no_open_objection",
            Refusal::MissingPayload { .. } => "missing_payload",
            Refusal::NotBatchable { .. } => "not_batchable",
            Refusal::UnconfirmedWarnings { .. } => "unconfirmed_warnings",
            Refusal::NotAWarning { .. } => "not_a_warning",
            Refusal::ConfirmNotAllowed => "confirm_not_allowed",
            Refusal::Banned { .. } => "banned",
            Refusal::TooManyApplications { .. } => "too_many_applications",
            Refusal::ProfileIncomplete { .. } => "profile_incomplete",
            Refusal::UnknownChannel { .. } => "unknown_channel",
            Refusal::InconsistentState { .. } => "inconsistent_state",
            Refusal::UnexpectedPayload { .. } => "unexpected_payload",
            Refusal::ClockBehind { .. } => "clock_behind",
            Refusal::InvalidPayload { .. } => "invalid_payload",
            Refusal::ReturnWindowClosed { .. } => "return_window_closed",
            Refusal::CheckNotRun { .. } => "check_not_run",
        }
    }

    /// Every code [`Refusal::code`] can return (the engine's tests require each to be
    /// produced by a scenario).
    pub const CODES: &'static [&'static str] = &[
        "round_not_open",
        "unknown_action",
        "stale_stage",
        "not_at_this_stage",
        "forbidden",
        "opinion_required",
        "window_closed",
        "quota_exceeded",
        "withdraw_too_late",
        "nothing_to_withdraw",
        "no_next_stage",
        "no_previous_stage",
        "objections_open",
        "no_open_objection",
        "not_batchable",
        "missing_payload",
        "unconfirmed_warnings",
        "not_a_warning",
        "confirm_not_allowed",
        "banned",
        "too_many_applications",
        "profile_incomplete",
        "unknown_channel",
        "inconsistent_state",
        "unexpected_payload",
        "invalid_payload",
        "clock_behind",
        "return_window_closed",
        "check_not_run",
    ];

    /// What kind of failure this is (see [`ErrorKind`]): the request itself is
    /// wrong ([`ErrorKind::Invalid`]), the caller may not
    /// ([`ErrorKind::Forbidden`]), the state of things refuses it
    /// ([`ErrorKind::Conflict`]), or the stored data is broken.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Refusal::Forbidden { .. } | Refusal::ConfirmNotAllowed => ErrorKind::Forbidden,
            Refusal::UnknownAction { .. }
            | Refusal::OpinionRequired { .. }
            | Refusal::MissingPayload { .. }
            | Refusal::NotBatchable { .. }
            | Refusal::NotAWarning { .. }
            | Refusal::ProfileIncomplete { .. }
            | Refusal::UnknownChannel { .. }
            | Refusal::UnexpectedPayload { .. }
            | Refusal::ClockBehind { .. }
            | Refusal::InvalidPayload { .. } => ErrorKind::Invalid,
            Refusal::InconsistentState { .. } => ErrorKind::Corrupt,
            Refusal::RoundNotOpen { .. }
            | Refusal::StaleStage { .. }
            | Refusal::NotAtThisStage { .. }
            | Refusal::WindowClosed { .. }
            | Refusal::ReturnWindowClosed { .. }
            | Refusal::QuotaExceeded { .. }
            | Refusal::WithdrawTooLate
            | Refusal::NothingToWithdraw
            | Refusal::NoNextStage { .. }
            | Refusal::NoPreviousStage { .. }
            | Refusal::ObjectionsOpen { .. }
            | Refusal::NoOpenObjection
            | Refusal::UnconfirmedWarnings { .. }
            | Refusal::CheckNotRun { .. }
            | Refusal::Banned { .. }
            | Refusal::TooManyApplications { .. } => ErrorKind::Conflict,
        }
    }
}

/// Everything a decision reads, read by the shell beforehand inside the write
/// transaction that will carry the decision out (read errors are the shell's; the
/// engine never sees storage). Built by `shenbao`'s action path; plain data.
pub struct Snapshot<'a> {
    pub round: &'a Round,
    pub applicant: &'a Organisation,
    /// The application's state as stored (for a new draft: the graph's initial stage).
    pub state: &'a AppState,
    /// The application's direction (which expert-review items apply).
    pub direction: Option<&'a str>,
    /// The category of the application's direction (for `applicant-category` quotas).
    pub direction_category: Option<&'a str>,
    pub calendar: &'a Calendar,
    /// City id → city group id (珠三角 …).
    pub city_groups: &'a HashMap<String, String>,
    /// Region or group id → display name (惠州市 for `huizhou`), for quota messages.
    pub scope_names: &'a HashMap<String, String>,
    /// Units used per (quota id, scope) in this round; a missing entry is 0 used.
    pub quota_used: &'a BTreeMap<(String, String), u32>,
    /// The applicant is barred from this round's program until this date (不得申报).
    pub banned_until: Option<Date>,
    /// The users the request's payload names (experts to assign), as stored; a
    /// name missing here does not exist.
    pub named_users: &'a BTreeMap<String, User>,
    pub now: Timestamp,
    /// When the application's last decision was taken (none for a new draft): a
    /// decision is never dated before the one it follows.
    pub last_decision_at: Option<Timestamp>,
    /// Index the accepted decision will get.
    pub decision_index: u64,
    /// For an action that makes a new application: how many the applicant already
    /// has in this round (at most [`MAX_APPLICATIONS_PER_APPLICANT`]); `None` otherwise.
    pub applications_in_round: Option<u32>,
}

/// What is asked: the action request, who asks, and how.
pub struct Command<'a> {
    pub request: &'a ActionRequest,
    pub actor: &'a User,
    /// Taken as one item of a batch (批量推荐): only actions marked `batch` may be.
    pub batch: bool,
    /// The submission check's warning rule ids (a check ran for this action); they
    /// wait on the application for the province's confirmation.
    pub check_warnings: Option<&'a [String]>,
}

/// An accepted action: the new state and the effects the shell must carry out with
/// it (quota counters, a ban), with the explanation recorded in the decision.
#[derive(Clone, Debug, PartialEq)]
pub struct Decided {
    pub action: Action,
    pub grant: RoleGrant,
    pub from: String,
    pub to: String,
    pub state: AppState,
    pub quota: Vec<QuotaDelta>,
    /// Bar the applicant from this program until this date.
    pub ban_until: Option<Date>,
    pub explain: Vec<String>,
}

/// Which grant of the actor authorises `action`, if any.
fn authorise(
    graph: &shenbao_contract::Graph,
    action: &Action,
    applicant: &Organisation,
    state: &AppState,
    actor: &User,
) -> Result<RoleGrant, Refusal> {
    if action.scope == ScopeLevel::Public {
        let role = action.roles.first().cloned().unwrap_or_else(|| "public".into());
        return Ok(RoleGrant { role, scope: Scope::Public, office: None });
    }
    actor
        .grants
        .iter()
        .find(|g| {
            action.roles.contains(&g.role)
                && covers(g, action.scope, applicant, state, &actor.id)
                && crate::access::role_reached(graph, state, &g.role)
        })
        .cloned()
        .ok_or_else(|| Refusal::Forbidden {
            action: action.id.clone(),
            title: action.title.zh.clone(),
            reason_zh: format!(
                "须由{}（{}）办理",
                action.roles.iter().map(|r| crate::access::role_zh(r)).collect::<Vec<_>>().join("或"),
                crate::access::scope_level_zh(action.scope)
            ),
            reason: format!(
                "needs role {} with {} scope over this application; {} holds {}",
                action.roles.join(" or "),
                serde_json::to_value(action.scope).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
                actor.id,
                if actor.grants.is_empty() {
                    "no grant".to_string()
                } else {
                    actor.grants.iter().map(|g| format!("{}@{}", g.role, g.scope)).collect::<Vec<_>>().join(", ")
                }
            ),
        })
}

/// Whether the window of the stage `state` is at is open for it at `now`: the
/// stage's window ([`window_open`]), or the correction period (补正期限) it was
/// returned into (`AppState::correction_until`). A stage without a window is open.
///
/// # Errors
/// [`Refusal::WindowClosed`] naming the window and its bounds.
pub fn stage_open(round: &Round, applicant: &Organisation, state: &AppState, now: Timestamp) -> Result<(), Refusal> {
    let Some(window) = round.graph.stages.iter().find(|s| s.id == state.stage).and_then(|s| s.window.as_ref()) else {
        return Ok(());
    };
    if state.correction_until.is_some_and(|until| now <= until) {
        return Ok(());
    }
    window_open(round, applicant, window, now)
}

/// The outcome of an application at `stage`: the stage's own, passed in a library
/// (入库), else pending.
pub fn stage_outcome(stage: &shenbao_contract::Stage) -> Outcome {
    match (stage.kind, stage.outcome) {
        (_, Some(o)) => o,
        (StageKind::Library, None) => Outcome::Passed,
        _ => Outcome::Pending,
    }
}

/// Whether `window` of `round` is open for `applicant` at `now`.
///
/// # Errors
/// [`Refusal::WindowClosed`] naming the window and its bounds.
pub fn window_open(round: &Round, applicant: &Organisation, window: &str, now: Timestamp) -> Result<(), Refusal> {
    let spec = &round.spec;
    let city = applicant.city.as_deref().and_then(|c| spec.cities.get(c));
    let closed = |detail: String, detail_zh: String| {
        Err(Refusal::WindowClosed { window: window.to_string(), detail, detail_zh })
    };
    let past = |d: &Timestamp| closed(format!("deadline {d}, now {now}"), format!("截止时间 {d}，当前 {now}"));
    match window {
        "applicant" => {
            let w = city.and_then(|c| c.applicants).unwrap_or(spec.province);
            if w.contains(now) {
                Ok(())
            } else {
                closed(
                    format!("{} – {}, now {now}", w.start, w.end),
                    format!("申报时间 {} 至 {}，当前 {now}", w.start, w.end),
                )
            }
        }
        other => match window_end(round, applicant, other) {
            Some(d) if now > d => past(&d),
            _ => Ok(()),
        },
    }
}

/// When `window` ends (inclusive) for `applicant` in `round`, if it ends: the
/// applicant window (the city's own, else the province's), the district deadline
/// (the city's for its districts, else the city deadline), the city and province
/// deadlines. What [`window_open`] enforces; what a reviewer's list shows as due.
pub fn window_end(round: &Round, applicant: &Organisation, window: &str) -> Option<Timestamp> {
    let spec = &round.spec;
    let city = applicant.city.as_deref().and_then(|c| spec.cities.get(c));
    match window {
        "applicant" => Some(city.and_then(|c| c.applicants).unwrap_or(spec.province).end),
        "district" => city.and_then(|c| c.district_deadline).or(spec.city_deadline),
        "city" => spec.city_deadline,
        "province" => spec.province_deadline,
        _ => None,
    }
}

/// The scope key a quota counts this application under.
fn quota_scope(
    a: &Organisation,
    city_groups: &HashMap<String, String>,
    q: &Quota,
    direction_category: Option<&str>,
) -> String {
    let city = a.city.clone().unwrap_or_else(|| "-".into());
    match q.group_by {
        QuotaGroup::Round => "round".into(),
        QuotaGroup::City => city,
        QuotaGroup::CityGroup => {
            a.city.as_deref().and_then(|c| city_groups.get(c).cloned()).unwrap_or_else(|| "-".into())
        }
        QuotaGroup::District => a.district.clone().unwrap_or_else(|| "-".into()),
        QuotaGroup::Channel => a.channel.clone(),
        QuotaGroup::Applicant => a.credit_code.clone(),
        QuotaGroup::ApplicantCategory => format!("{}/{}", a.credit_code, direction_category.unwrap_or("-")),
    }
}

/// The quota counters (quota id, scope) that [`decide`] may read for `action` on an
/// application of `applicant` in `state`: those of the units it holds (which going
/// back releases) and those the action would take. The shell reads exactly these
/// into [`Snapshot::quota_used`] (a counter not read counts as 0 used).
pub fn quota_counters(
    round: &Round,
    applicant: &Organisation,
    state: &AppState,
    direction_category: Option<&str>,
    city_groups: &HashMap<String, String>,
    action: &str,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = state.holds.iter().map(|h| (h.quota.clone(), h.scope.clone())).collect();
    for q in round.quotas.iter().filter(|q| q.action == action) {
        out.push((q.id.clone(), quota_scope(applicant, city_groups, q, direction_category)));
    }
    out.sort();
    out.dedup();
    out
}

fn quota_limit(ctx: &Snapshot, q: &Quota, scope: &str) -> Option<u32> {
    quota_limit_of(q, scope, ctx.city_groups)
}

/// The limit of quota `q` for `scope`: its own entry, else (for a city) its city
/// group's (`city_groups`: city id → group, e.g. 珠三角 `prd`), else the default; `None`
/// when unlimited. The one rule every reader of a limit uses (the engine, `round show`).
pub fn quota_limit_of(q: &Quota, scope: &str, city_groups: &HashMap<String, String>) -> Option<u32> {
    let own = q.limits.iter().find(|l| l.scope == scope).map(|l| l.limit);
    let group = || {
        if q.group_by != QuotaGroup::City {
            return None;
        }
        let g = city_groups.get(scope)?;
        q.limits.iter().find(|l| l.scope == *g).map(|l| l.limit)
    };
    own.or_else(group).or(q.default_limit)
}

fn used_of(ctx: &Snapshot, quota: &str, scope: &str) -> u32 {
    ctx.quota_used.get(&(quota.to_string(), scope.to_string())).copied().unwrap_or(0)
}

fn fill(template: &str, scope: &str, used: u32, limit: u32) -> String {
    template.replace("{scope}", scope).replace("{used}", &used.to_string()).replace("{limit}", &limit.to_string())
}

/// Decide one action. Pure: the same snapshot and command always give the same
/// answer, and nothing but them is read.
///
/// # Errors
/// A [`Refusal`] naming the rule broken (see [`Refusal::CODES`]); nothing changes.
pub fn decide(ctx: &Snapshot, cmd: &Command) -> Result<Decided, Refusal> {
    let (state, req, actor) = (ctx.state, cmd.request, cmd.actor);
    let direction_category = ctx.direction_category;
    let round = ctx.round;
    let graph = &round.graph;
    let mut explain = Vec::new();

    let action = graph
        .actions
        .iter()
        .find(|a| a.id == req.action)
        .ok_or_else(|| Refusal::UnknownAction { action: req.action.clone() })?;
    let missing = |what: &str| Refusal::MissingPayload {
        action: action.id.clone(),
        title: action.title.zh.clone(),
        what: what.into(),
    };
    let here = graph.stages.iter().find(|s| s.id == state.stage).ok_or_else(|| Refusal::InconsistentState {
        detail: format!("the application is at {:?}, which round {} does not have", state.stage, round.spec.id),
    })?;
    match round.status {
        RoundStatus::Open => {}
        RoundStatus::Closed if matches!(here.kind, StageKind::Library) => {}
        status => return Err(Refusal::RoundNotOpen { round: round.spec.id.clone(), status }),
    }
    if let Some(last) = ctx.last_decision_at.filter(|last| ctx.now < *last) {
        return Err(Refusal::ClockBehind { last, now: ctx.now });
    }
    if let Some(expected) = &req.if_stage {
        if *expected != state.stage {
            return Err(Refusal::StaleStage {
                expected: expected.clone(),
                actual: state.stage.clone(),
                expected_zh: stage_zh(graph, expected),
                actual_zh: stage_zh(graph, &state.stage),
            });
        }
    }
    if !action.from_stages.contains(&state.stage) {
        return Err(Refusal::NotAtThisStage {
            action: action.id.clone(),
            title: action.title.zh.clone(),
            stage: state.stage.clone(),
            stage_zh: stage_zh(graph, &state.stage),
            allowed: action.from_stages.join(", "),
            allowed_zh: action.from_stages.iter().map(|s| stage_zh(graph, s)).collect::<Vec<_>>().join("、"),
        });
    }
    // Each action takes exactly its own payload: a rank only when ranking, experts
    // only when assigning them, a score only when scoring (warning confirmations go
    // with any action and are checked below). Nothing else reaches the decision.
    let p = &req.payload;
    for (field, given, kind) in [
        ("rank", p.rank.is_some(), ActionKind::Rank),
        ("experts", !p.experts.is_empty(), ActionKind::AssignExperts),
        ("score", p.score.is_some(), ActionKind::Score),
        ("item_scores", !p.item_scores.is_empty(), ActionKind::Score),
    ] {
        if given && action.kind != kind {
            return Err(Refusal::UnexpectedPayload {
                action: action.id.clone(),
                title: action.title.zh.clone(),
                field: field.into(),
            });
        }
    }
    // Only actions the graph marks as batchable (批量推荐) may be taken in a batch.
    if cmd.batch && !action.batch {
        return Err(Refusal::NotBatchable { action: action.id.clone(), title: action.title.zh.clone() });
    }
    let grant = authorise(graph, action, ctx.applicant, state, actor)?;
    // From a draft: a regional applicant's profile names its city and district, and a
    // ban (不得申报) from an earlier round of the program has run out.
    if here.kind == StageKind::Draft {
        let a = ctx.applicant;
        if a.channel == "region" && (a.city.is_none() || a.district.is_none()) {
            return Err(Refusal::ProfileIncomplete {
                missing: "所属市、所属行政区 (city and district)".into()
            });
        }
        let routed = || {
            graph.routes.iter().filter_map(|r| match &r.when {
                RouteCondition::Channel(cs) => Some(cs.iter().map(String::as_str)),
                _ => None,
            })
        };
        let takes = |c: &str| PLATFORM_CHANNELS.contains(&c) || routed().flatten().any(|x| x == c);
        // (A draft may still be saved: the organisation's record can be put right.)
        if action.kind != ActionKind::SaveDraft && !takes(&a.channel) {
            let mut known: Vec<&str> = PLATFORM_CHANNELS.to_vec();
            for c in routed().flatten() {
                if !known.contains(&c) {
                    known.push(c);
                }
            }
            return Err(Refusal::UnknownChannel { channel: a.channel.clone(), known: known.join(", ") });
        }
        if let Some(until) = ctx.banned_until {
            if until > ctx.now.local_date() {
                return Err(Refusal::Banned { until });
            }
        }
    }
    // Whatever kind of stage a graph starts at.
    if ctx.applications_in_round.is_some_and(|n| n >= MAX_APPLICATIONS_PER_APPLICANT) {
        return Err(Refusal::TooManyApplications { max: MAX_APPLICATIONS_PER_APPLICANT });
    }
    let opinion_given = req.opinion.as_deref().is_some_and(|o| !blank(o));
    if let Some(n) = req.opinion.as_ref().map(|o| o.chars().count()).filter(|n| *n > MAX_OPINION_CHARS) {
        return Err(Refusal::InvalidPayload {
            action: action.id.clone(),
            title: action.title.zh.clone(),
            field: "opinion".into(),
            reason_zh: format!("意见最多 {MAX_OPINION_CHARS} 字，收到 {n} 字"),
            reason: format!("an opinion has at most {MAX_OPINION_CHARS} characters, got {n}"),
        });
    }
    // An opinion is read by people (the applicant, the handling record, the public
    // notice): no control characters but line breaks and tabs, no bidi controls.
    if let Some(c) = req.opinion.as_deref().and_then(|o| o.chars().find(|c| crate::text::unreadable(*c))) {
        return Err(Refusal::InvalidPayload {
            action: action.id.clone(),
            title: action.title.zh.clone(),
            field: "opinion".into(),
            reason_zh: format!("意见含有不可见的控制字符或文字方向控制字符（U+{:04X}）", c as u32),
            reason: format!("the opinion holds a control or bidirectional-control character (U+{:04X})", c as u32),
        });
    }
    if action.opinion == OpinionRule::Required && !opinion_given {
        return Err(Refusal::OpinionRequired { action: action.id.clone(), title: action.title.zh.clone() });
    }
    stage_open(round, ctx.applicant, state, ctx.now)?;

    let today = ctx.now.local_date();
    let mut next = state.clone();
    if let Some(w) = cmd.check_warnings {
        next.warnings = w.to_vec();
    }
    let mut quota = Vec::new();
    let mut ban_until = None;
    let routing = Routing { graph, spec: &round.spec, applicant: ctx.applicant };

    // Where the action leads.
    let target: String = match action.kind {
        ActionKind::Withdraw => {
            let entered = state.entered_by.as_ref().ok_or(Refusal::NothingToWithdraw)?;
            // 本级: a decision of this level (the same scope — the city's officer or its
            // leader alike), by a role the withdraw action allows.
            if entered.scope != grant.scope || !action.roles.contains(&entered.role) {
                return Err(Refusal::NothingToWithdraw);
            }
            if state.acted_since_entry {
                return Err(Refusal::WithdrawTooLate);
            }
            explain.push(format!("withdraws decision #{} ({})", entered.decision, entered.action));
            entered.from.clone()
        }
        _ => match &action.to {
            Target::Stage(s) => s.clone(),
            Target::Stay => state.stage.clone(),
            Target::Next => routing.next_after(&state.stage, &mut explain).map(|s| s.id.clone()).ok_or_else(|| {
                Refusal::NoNextStage { stage: state.stage.clone(), stage_zh: stage_zh(graph, &state.stage) }
            })?,
            // The stage before this one on the path (the graph's order), among those
            // this application went through — never the stage that just returned it.
            Target::Previous => {
                let here_at = graph.stages.iter().position(|s| s.id == state.stage).unwrap_or(0);
                graph.stages[..here_at]
                    .iter()
                    .rev()
                    .find(|s| state.trail.iter().any(|v| v.stage == s.id))
                    .map(|s| s.id.clone())
                    .ok_or_else(|| Refusal::NoPreviousStage {
                        stage: state.stage.clone(),
                        stage_zh: stage_zh(graph, &state.stage),
                    })?
            }
        },
    };

    // A stage its region reviews needs the applicant's region: otherwise nobody
    // could reach the application there (an organisation without a city, on a
    // channel the round's routes do not send past the city).
    if let Some(to) = graph.stages.iter().find(|s| s.id == target && s.id != state.stage) {
        let a = ctx.applicant;
        let lacking = match to.scope {
            ScopeLevel::City if a.city.is_none() => Some("所属市 (city)"),
            ScopeLevel::District if a.city.is_none() || a.district.is_none() => {
                Some("所属市、所属行政区 (city and district)")
            }
            _ => None,
        };
        if let Some(what) = lacking {
            return Err(Refusal::ProfileIncomplete {
                missing: format!(
                    "{what} — “{}”由所在地审核 / {} is reviewed where the applicant is",
                    to.title.zh, to.id
                ),
            });
        }
    }

    // Warnings of the submission check are reviewer decisions: the province confirms
    // each (with the action's opinion as the reason) before a decision admits it.
    if !req.payload.confirm.is_empty() {
        if grant.scope != Scope::Province {
            return Err(Refusal::ConfirmNotAllowed);
        }
        if let Some(rule) = req.payload.confirm.iter().find(|r| !next.warnings.contains(r)) {
            return Err(Refusal::NotAWarning { rule: rule.clone() });
        }
        if !opinion_given {
            return Err(Refusal::OpinionRequired { action: action.id.clone(), title: action.title.zh.clone() });
        }
        next.warnings.retain(|w| !req.payload.confirm.contains(w));
        explain.push(format!("confirms warnings {}", req.payload.confirm.join(", ")));
    }
    let admits = graph
        .stages
        .iter()
        .find(|s| s.id == target)
        .is_some_and(|s| s.kind == StageKind::Library || s.outcome == Some(Outcome::Passed));
    if action.kind == ActionKind::Decide && admits && !next.warnings.is_empty() {
        return Err(Refusal::UnconfirmedWarnings { rules: next.warnings.clone() });
    }

    // Kind-specific rules.
    match action.kind {
        ActionKind::Decide if state.open_objections > 0 => {
            return Err(Refusal::ObjectionsOpen { open: state.open_objections });
        }
        ActionKind::Object => next.open_objections += 1,
        ActionKind::ResolveObjection => {
            if state.open_objections == 0 {
                return Err(Refusal::NoOpenObjection);
            }
            next.open_objections -= 1;
        }
        ActionKind::AssignExperts => {
            if req.payload.experts.is_empty() {
                return Err(missing("experts"));
            }
            let bad = |reason_zh: String, reason: String| Refusal::InvalidPayload {
                action: action.id.clone(),
                title: action.title.zh.clone(),
                field: "experts".into(),
                reason_zh,
                reason,
            };
            for (i, e) in req.payload.experts.iter().enumerate() {
                if req.payload.experts[..i].contains(e) {
                    return Err(bad(format!("用户 {e} 重复"), format!("{e:?} is named twice")));
                }
                let is_expert = ctx
                    .named_users
                    .get(e)
                    .is_some_and(|u| u.grants.iter().any(|g| g.role == "expert" && g.scope == Scope::Expert));
                if !is_expert {
                    return Err(bad(
                        format!("用户 {e} 不是评审专家"),
                        format!("{e:?} is not a user with the expert role"),
                    ));
                }
            }
            next.experts = req.payload.experts.clone();
        }
        ActionKind::Score => {
            let invalid = |field: &str, reason_zh: String, reason: String| Refusal::InvalidPayload {
                action: action.id.clone(),
                title: action.title.zh.clone(),
                field: field.into(),
                reason_zh,
                reason,
            };
            let per_item = &req.payload.item_scores;
            let score = if per_item.is_empty() {
                next.item_scores.remove(&actor.id);
                req.payload.score.ok_or_else(|| missing("score"))?
            } else {
                // Every item that applies to the direction, and only those, each 0–100.
                let items: Vec<&shenbao_contract::ExpertItem> = round
                    .expert_items
                    .iter()
                    .filter(|i| {
                        i.directions.is_empty() || ctx.direction.is_some_and(|d| i.directions.iter().any(|x| x == d))
                    })
                    .collect();
                let ids = || items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>().join(", ");
                for (id, s) in per_item {
                    if !items.iter().any(|i| i.id == *id) {
                        return Err(invalid(
                            &format!("item_scores.{id}"),
                            format!("“{id}”不是本申报的专家评审要点（可评：{}）", ids()),
                            format!("{id:?} is not an expert-review item of this application (items: {})", ids()),
                        ));
                    }
                    if !(s.is_finite() && (0.0..=100.0).contains(s)) {
                        return Err(invalid(
                            &format!("item_scores.{id}"),
                            format!("评分应在 0 到 100 之间，收到 {s}"),
                            format!("a score is from 0 to 100, got {s}"),
                        ));
                    }
                }
                if let Some(left) = items.iter().find(|i| !per_item.contains_key(&i.id)) {
                    return Err(invalid(
                        &format!("item_scores.{}", left.id),
                        format!("未对评审要点“{}”评分：逐项评分须评全部要点", left.title.zh),
                        format!("item {:?} is not scored: scoring by item scores every item", left.id),
                    ));
                }
                let mean = per_item.values().sum::<f64>() / per_item.len() as f64;
                let mean = (mean * 100.0).round() / 100.0;
                if let Some(given) = req.payload.score {
                    if (given - mean).abs() > 0.005 {
                        return Err(invalid(
                            "score",
                            format!("总分应为各要点评分的平均分 {mean}，收到 {given}"),
                            format!("the total is the mean of the item scores, {mean}; got {given}"),
                        ));
                    }
                }
                next.item_scores.insert(actor.id.clone(), per_item.iter().map(|(k, v)| (k.clone(), v + 0.0)).collect());
                mean
            };
            // Expert scores are out of 100 (百分制).
            if !(score.is_finite() && (0.0..=100.0).contains(&score)) {
                return Err(Refusal::InvalidPayload {
                    action: action.id.clone(),
                    title: action.title.zh.clone(),
                    field: "score".into(),
                    reason_zh: format!("评分应在 0 到 100 之间，收到 {score}"),
                    reason: format!("a score is from 0 to 100, got {score}"),
                });
            }
            next.scores.insert(actor.id.clone(), score + 0.0);
        }
        ActionKind::Rank => {
            let rank = req.payload.rank.ok_or_else(|| missing("rank"))?;
            if rank == 0 {
                return Err(Refusal::InvalidPayload {
                    action: action.id.clone(),
                    title: action.title.zh.clone(),
                    field: "rank".into(),
                    reason_zh: "推荐顺序从 1 开始".into(),
                    reason: "ranks start at 1".into(),
                });
            }
            next.rank = Some(rank);
        }
        _ => {}
    }
    if let Some(due) = action.annual_due {
        // The next 31 March (or whichever day) strictly after today.
        let this_year = Date::checked(today.year, due.month, due.day).unwrap_or(today);
        next.annual_due = Some(if this_year > today { this_year } else { this_year.add_years(1) });
    }
    if let Some(months) = action.deadline_months {
        next.deadline = Some(today.add_months(months as i32));
        explain.push(format!("deadline {} ({months} months)", today.add_months(months as i32)));
    }
    if let Some(months) = action.ban_months {
        ban_until = Some(today.add_months(months as i32));
        explain.push(format!("banned from applying until {}", today.add_months(months as i32)));
    }

    // Going back gives up the quota units taken at or after the stage returned to.
    // A return (回退) goes back whatever its target is written as (`previous` or a
    // named earlier stage); so does a withdraw.
    let moving_back =
        matches!(action.kind, ActionKind::Withdraw | ActionKind::Return) || matches!(action.to, Target::Previous);
    if moving_back {
        let back_to = state.trail.iter().rposition(|v| v.stage == target).unwrap_or(0);
        let later: Vec<&str> = state.trail[back_to..].iter().map(|v| v.stage.as_str()).collect();
        let (released, kept): (Vec<_>, Vec<_>) =
            state.holds.iter().cloned().partition(|h| later.contains(&h.stage.as_str()));
        for h in released {
            let used = used_of(ctx, &h.quota, &h.scope);
            let limit = round.quotas.iter().find(|q| q.id == h.quota).and_then(|q| quota_limit(ctx, q, &h.scope));
            quota.push(QuotaDelta {
                quota: h.quota.clone(),
                scope: h.scope.clone(),
                delta: -1,
                used_after: used.saturating_sub(1),
                limit,
            });
            explain.push(format!("releases quota {} for {}", h.quota, h.scope));
        }
        next.holds = kept;
    }

    // Quotas this action consumes.
    for q in round.quotas.iter().filter(|q| q.action == action.id) {
        if q.stage.as_ref().is_some_and(|s| *s != state.stage) {
            continue;
        }
        if !q.channels.is_empty() && !q.channels.contains(&ctx.applicant.channel) {
            explain.push(format!("quota {} does not count channel {}", q.id, ctx.applicant.channel));
            continue;
        }
        let scope = quota_scope(ctx.applicant, ctx.city_groups, q, direction_category);
        if next.holds.iter().any(|h| h.quota == q.id && h.scope == scope) {
            continue;
        }
        let used = used_of(ctx, &q.id, &scope);
        let limit = quota_limit(ctx, q, &scope);
        if let Some(limit) = limit {
            if used >= limit {
                return Err(Refusal::QuotaExceeded {
                    quota: q.id.clone(),
                    scope: scope.clone(),
                    used,
                    limit,
                    message: fill(&q.message.zh, ctx.scope_names.get(&scope).unwrap_or(&scope), used, limit),
                });
            }
        }
        explain.push(format!(
            "quota {} for {}: {}/{}",
            q.id,
            scope,
            used + 1,
            limit.map_or("∞".into(), |l| l.to_string())
        ));
        quota.push(QuotaDelta { quota: q.id.clone(), scope: scope.clone(), delta: 1, used_after: used + 1, limit });
        next.holds.push(QuotaHold {
            quota: q.id.clone(),
            scope,
            stage: state.stage.clone(),
            decision: ctx.decision_index,
        });
    }

    // The new position.
    let moved = target != state.stage;
    if moved {
        let stage = graph.stages.iter().find(|s| s.id == target).ok_or_else(|| Refusal::InconsistentState {
            detail: format!("{:?} leads to {target:?}, which round {} does not have", action.id, round.spec.id),
        })?;
        next.stage = target.clone();
        next.trail.push(Visit { stage: target.clone(), entered_at: ctx.now, decision: Some(ctx.decision_index) });
        // Moved to a stage whose window has closed. A withdraw never reopens one (a
        // level cannot take its decision back after its own deadline). A return
        // opens a correction period (补正期限) there if the round gives one, else it is
        // refused (nobody could act on it there). While a correction period runs, every
        // move — back up the path, or another return — keeps its end: acting again
        // never extends it. A move forward outside one arrives late, as the
        // program's timing says.
        let running = state.correction_until.filter(|until| ctx.now <= *until);
        next.correction_until = None;
        if let Some(window) = stage.window.as_ref() {
            if let Err(Refusal::WindowClosed { detail, detail_zh, .. }) =
                window_open(round, ctx.applicant, window, ctx.now)
            {
                let refuse = || Refusal::ReturnWindowClosed {
                    stage: target.clone(),
                    stage_zh: stage.title.zh.clone(),
                    window: window.clone(),
                    detail: detail.clone(),
                    detail_zh: detail_zh.clone(),
                };
                if action.kind == ActionKind::Withdraw {
                    return Err(refuse());
                }
                match (running, round.spec.correction_working_days) {
                    (Some(until), _) => {
                        next.correction_until = Some(until);
                        explain.push(format!("the correction period runs until {until} (补正期限至 {until})"));
                    }
                    (None, Some(days)) if moving_back => {
                        let until = Timestamp::end_of(ctx.calendar.add_working_days(today, days));
                        next.correction_until = Some(until);
                        explain.push(format!(
                            "the {window} window has closed ({detail}): correction period of {days} working days until {until} (补正期限至 {until})"
                        ));
                    }
                    (None, None) if moving_back => return Err(refuse()),
                    (None, _) => {}
                }
            }
        }
        next.entered_by = if moving_back {
            None
        } else {
            Some(EnteredBy {
                decision: ctx.decision_index,
                from: state.stage.clone(),
                role: grant.role.clone(),
                scope: grant.scope.clone(),
                action: action.id.clone(),
            })
        };
        next.acted_since_entry = false;
        next.due = stage.sla_working_days.map(|n| ctx.calendar.add_working_days(today, n));
        if let Some(due) = next.due {
            for y in ctx.calendar.missing_years(today, due) {
                explain.push(format!(
                    "due {due} counts weekends only in {y}: no calendar is set for {y} (未设置 {y} 年节假日安排)"
                ));
            }
        }
        next.outcome = stage_outcome(stage);
        if stage.kind == StageKind::Library && next.annual_due.is_none() {
            if let Some(due) =
                graph.actions.iter().filter(|a| a.from_stages.contains(&target)).find_map(|a| a.annual_due)
            {
                let d = Date::checked(today.year + 1, due.month, due.day).unwrap_or(today.add_years(1));
                next.annual_due = Some(d);
            }
        }
        if moving_back && stage.kind == StageKind::Draft {
            next.rank = None;
        }
    } else {
        let by_recommender = action.kind == ActionKind::Rank
            && state.entered_by.as_ref().is_some_and(|e| e.role == grant.role && e.scope == grant.scope);
        if !by_recommender && !matches!(action.kind, ActionKind::SaveDraft | ActionKind::Object) {
            next.acted_since_entry = true;
        }
    }
    next.version += 1;

    // Last, so that every other refusal comes first (and `actions_for`, which asks
    // without a check, learns whether all else would accept): an action that runs
    // the submission check is taken only with a check of the state it is taken on.
    if action.runs_check && cmd.check_warnings.is_none() {
        return Err(Refusal::CheckNotRun { action: action.id.clone(), title: action.title.zh.clone() });
    }

    Ok(Decided {
        action: action.clone(),
        grant,
        from: state.stage.clone(),
        to: target,
        state: next,
        quota,
        ban_until,
        explain,
    })
}

#[cfg(test)]
mod tests {
    //! The engine alone: no storage, no plugin, a graph made here.
    use super::*;
    use crate::model::{Organisation, RoundSpec, Window};
    use shenbao_contract::{Graph, Quota, Stage, Text};

    fn stage(id: &str, kind: StageKind, role: &str, scope: ScopeLevel) -> Stage {
        Stage {
            id: id.into(),
            title: Text::new(format!("{id}环节"), id),
            kind,
            optional: false,
            role: Some(role.into()),
            scope,
            sla_working_days: None,
            window: None,
            outcome: None,
        }
    }

    fn action(id: &str, kind: ActionKind, from: &str, to: Target, role: &str, scope: ScopeLevel) -> Action {
        Action {
            id: id.into(),
            title: Text::new(format!("{id}操作"), id),
            kind,
            from_stages: vec![from.into()],
            to,
            roles: vec![role.into()],
            scope,
            opinion: OpinionRule::None,
            batch: false,
            runs_check: false,
            deadline_months: None,
            ban_months: None,
            annual_due: None,
        }
    }

    /// draft → city → province, where the province can note an application without moving it.
    fn round() -> Round {
        use ScopeLevel::*;
        let graph = Graph {
            initial: "draft".into(),
            stages: vec![
                stage("draft", StageKind::Draft, "applicant", OwnOrganisation),
                stage("city", StageKind::Review, "city-officer", City),
                stage("province", StageKind::Review, "province-officer", Province),
            ],
            actions: vec![
                action("submit", ActionKind::Submit, "draft", Target::Next, "applicant", OwnOrganisation),
                action("back", ActionKind::Return, "draft", Target::Previous, "applicant", OwnOrganisation),
                action("recommend", ActionKind::Recommend, "city", Target::Next, "city-officer", City),
                action("withdraw", ActionKind::Withdraw, "province", Target::Previous, "city-officer", City),
                action("note", ActionKind::Score, "province", Target::Stay, "province-officer", Province),
                action("forward", ActionKind::Recommend, "province", Target::Next, "province-officer", Province),
            ],
            routes: Vec::new(),
        };
        let t = Timestamp(0);
        Round {
            spec: RoundSpec {
                id: "r".into(),
                program: "p".into(),
                plugin_version: "0.1.0".into(),
                year: 2024,
                batch: None,
                edition: None,
                province: Window { start: t, end: Timestamp(i64::MAX / 2) },
                city_deadline: None,
                province_deadline: None,
                cities: Default::default(),
                switches: Default::default(),
                graph: None,
                quotas: None,
                config: serde_json::Value::Null,
                correction_working_days: None,
                channels: Vec::new(),
            },
            plugin: crate::model::PluginId {
                program: "p".into(),
                version: "0.1.0".into(),
                sha256: "0".repeat(64),
                wit: "0.1.0".into(),
            },
            edition: String::new(),
            graph,
            quotas: Vec::new(),
            directions: Vec::new(),
            expert_items: Vec::new(),
            status: RoundStatus::Open,
            created_at: t,
        }
    }

    fn user(id: &str, role: &str, scope: Scope) -> User {
        User { id: id.into(), name: id.into(), grants: vec![RoleGrant { role: role.into(), scope, office: None }] }
    }

    fn org() -> Organisation {
        Organisation {
            credit_code: "91350100M000100Y43".into(),
            name: "示例".into(),
            channel: "region".into(),
            city: Some("huizhou".into()),
            district: Some("huicheng".into()),
            dishonest: false,
            tags: Vec::new(),
            qualifications: Vec::new(),
            profile: Default::default(),
        }
    }

    fn run(round: &Round, state: &AppState, who: &User, action: &str) -> Result<Decided, Refusal> {
        let org = org();
        let cal = Calendar::default();
        let (groups, names, used, named) = (HashMap::new(), HashMap::new(), BTreeMap::new(), BTreeMap::new());
        let snapshot = Snapshot {
            round,
            applicant: &org,
            state,
            direction: None,
            direction_category: None,
            calendar: &cal,
            city_groups: &groups,
            scope_names: &names,
            quota_used: &used,
            banned_until: None,
            named_users: &named,
            now: Timestamp(1_700_000_000),
            last_decision_at: None,
            decision_index: state.version,
            applications_in_round: None,
        };
        let score = (action == "note").then_some(1.0);
        let request = ActionRequest {
            action: action.into(),
            payload: crate::model::Payload { score, ..Default::default() },
            ..Default::default()
        };
        decide(&snapshot, &Command { request: &request, actor: who, batch: false, check_warnings: None })
    }

    #[test]
    fn withdraw_is_too_late_once_the_next_stage_acted() {
        let r = round();
        let applicant = user("a", "applicant", Scope::Organisation("91350100M000100Y43".into()));
        let city = user("c", "city-officer", Scope::City("huizhou".into()));
        let province = user("p", "province-officer", Scope::Province);
        let s0 = AppState::new("draft", Timestamp(0));
        let s1 = run(&r, &s0, &applicant, "submit").unwrap().state;
        let s2 = run(&r, &s1, &city, "recommend").unwrap().state;
        // Before the province acts: the city may withdraw — its officer, or another
        // role of the same level the action allows (本级), not another city's.
        assert_eq!(run(&r, &s2, &city, "withdraw").unwrap().to, "city");
        let mut r2 = r.clone();
        r2.graph.actions.iter_mut().filter(|a| a.id == "withdraw").for_each(|a| a.roles.push("city-leader".into()));
        let leader = user("l", "city-leader", Scope::City("huizhou".into()));
        assert_eq!(run(&r2, &s2, &leader, "withdraw").unwrap().to, "city");
        let other_leader = user("g", "city-leader", Scope::City("guangzhou".into()));
        assert!(run(&r2, &s2, &other_leader, "withdraw").is_err());
        // After the province notes it: too late, and the state is untouched.
        let s3 = run(&r, &s2, &province, "note").unwrap().state;
        assert!(s3.acted_since_entry);
        assert_eq!(run(&r, &s3, &city, "withdraw"), Err(Refusal::WithdrawTooLate));
        // Nothing follows the province: its forward action has nowhere to go.
        assert_eq!(
            run(&r, &s3, &province, "forward"),
            Err(Refusal::NoNextStage { stage: "province".into(), stage_zh: "province环节".into() })
        );
        // Nothing precedes the draft.
        assert_eq!(
            run(&r, &s0, &applicant, "back"),
            Err(Refusal::NoPreviousStage { stage: "draft".into(), stage_zh: "draft环节".into() })
        );
    }

    #[test]
    fn the_same_inputs_give_the_same_transition() {
        let r = round();
        let applicant = user("a", "applicant", Scope::Organisation("91350100M000100Y43".into()));
        let s0 = AppState::new("draft", Timestamp(0));
        assert_eq!(run(&r, &s0, &applicant, "submit"), run(&r, &s0, &applicant, "submit"));
    }

    /// One scenario of the refusal table: a state, an actor, a request, and what the
    /// engine must answer.
    struct Case {
        name: &'static str,
        round: Round,
        state: AppState,
        actor: User,
        request: ActionRequest,
        batch: bool,
        banned_until: Option<Date>,
        org: Organisation,
        used: BTreeMap<(String, String), u32>,
        last_at: Option<Timestamp>,
        applications_in_round: Option<u32>,
        expect: &'static str,
    }

    /// A richer graph: draft (applicant window) → city (quota of 1 per city, batch)
    /// → province → expert → notice → library; a refused stage; objections.
    fn full_round() -> Round {
        use ScopeLevel::*;
        let mut r = round();
        let mut draft = stage("draft", StageKind::Draft, "applicant", OwnOrganisation);
        draft.window = Some("applicant".into());
        let mut library = stage("library", StageKind::Library, "province-officer", Province);
        library.outcome = Some(Outcome::Passed);
        r.graph.stages = vec![
            draft,
            stage("city", StageKind::Review, "city-officer", City),
            stage("province", StageKind::Review, "province-officer", Province),
            stage("expert", StageKind::Expert, "expert", Assigned),
            stage("notice", StageKind::Notice, "province-officer", Province),
            library,
        ];
        let mut recommend = action("recommend", ActionKind::Recommend, "city", Target::Next, "city-officer", City);
        recommend.batch = true;
        let mut ret = action("return", ActionKind::Return, "city", Target::Previous, "city-officer", City);
        ret.opinion = OpinionRule::Required;
        let mut decide_ = action(
            "decide",
            ActionKind::Decide,
            "notice",
            Target::Stage("library".into()),
            "province-officer",
            Province,
        );
        decide_.opinion = OpinionRule::Optional;
        r.graph.actions = vec![
            action("submit", ActionKind::Submit, "draft", Target::Next, "applicant", OwnOrganisation),
            recommend,
            ret,
            action("withdraw", ActionKind::Withdraw, "province", Target::Previous, "city-officer", City),
            action("forward", ActionKind::Recommend, "province", Target::Next, "province-officer", Province),
            action("assign", ActionKind::AssignExperts, "expert", Target::Stay, "province-officer", Province),
            action("score", ActionKind::Score, "expert", Target::Stay, "expert", Assigned),
            action("rank", ActionKind::Rank, "expert", Target::Stay, "province-officer", Province),
            action("object", ActionKind::Object, "notice", Target::Stay, "public", Public),
            action("resolve", ActionKind::ResolveObjection, "notice", Target::Stay, "province-officer", Province),
            decide_,
            action("nowhere", ActionKind::Recommend, "library", Target::Next, "province-officer", Province),
            action(
                "lost",
                ActionKind::Recommend,
                "library",
                Target::Stage("gone".into()),
                "province-officer",
                Province,
            ),
        ];
        r.quotas = vec![Quota {
            id: "city-8".into(),
            title: Text::new("每市推荐", "per city"),
            action: "recommend".into(),
            stage: None,
            group_by: shenbao_contract::QuotaGroup::City,
            default_limit: Some(1),
            limits: Vec::new(),
            channels: Vec::new(),
            message: Text::new("{scope}已推荐{used}个，上限{limit}个", "{scope}: {used}/{limit}"),
        }];
        r
    }

    /// At `stage`, having come the main path there (draft → city → province →
    /// expert → notice → library), entered by no recorded decision.
    fn at(stage: &str) -> AppState {
        const PATH: [&str; 5] = ["city", "province", "expert", "notice", "library"];
        let mut s = AppState::new("draft", Timestamp(0));
        if stage != "draft" {
            let through = PATH.iter().position(|p| *p == stage).map_or(&[][..], |i| &PATH[..i]);
            for p in through.iter().copied().chain([stage]) {
                s.trail.push(Visit { stage: p.into(), entered_at: Timestamp(0), decision: Some(0) });
            }
            s.stage = stage.into();
        }
        s
    }

    /// At the province, routed past the city (a level it never reached).
    fn past_the_city() -> AppState {
        let mut s = at("province");
        s.trail.retain(|v| v.stage != "city");
        s
    }

    fn req(action: &str) -> ActionRequest {
        ActionRequest { action: action.into(), ..Default::default() }
    }

    fn cases() -> Vec<Case> {
        let applicant = user("a", "applicant", Scope::Organisation("91350100M000100Y43".into()));
        let city = user("c", "city-officer", Scope::City("huizhou".into()));
        let other_city = user("g", "city-officer", Scope::City("guangzhou".into()));
        let province = user("p", "province-officer", Scope::Province);
        let expert = user("e", "expert", Scope::Expert);
        let base = |name, state: AppState, actor: &User, request: ActionRequest, expect| Case {
            name,
            round: full_round(),
            state,
            actor: actor.clone(),
            request,
            batch: false,
            banned_until: None,
            org: org(),
            used: BTreeMap::new(),
            last_at: None,
            applications_in_round: None,
            expect,
        };
        let mut v = vec![
            base("accepted submit", at("draft"), &applicant, req("submit"), "ok"),
            base("an action the graph lacks", at("draft"), &applicant, req("fly"), "unknown_action"),
            base("recommend from a draft", at("draft"), &city, req("recommend"), "not_at_this_stage"),
            base("another city's officer", at("city"), &other_city, req("recommend"), "forbidden"),
            base("return without an opinion", at("city"), &city, req("return"), "opinion_required"),
            Case {
                request: ActionRequest { opinion: Some("\u{200b} \u{feff}\u{2060}".into()), ..req("return") },
                ..base("an opinion of invisible characters", at("city"), &city, req("return"), "opinion_required")
            },
            base("nothing was recommended to withdraw", at("province"), &city, req("withdraw"), "nothing_to_withdraw"),
            // A level the application never reached (routed past it) may not act on it.
            base("a level it never reached", past_the_city(), &city, req("withdraw"), "forbidden"),
            base("assign without experts", at("expert"), &province, req("assign"), "missing_payload"),
            base("resolve with nothing open", at("notice"), &province, req("resolve"), "no_open_objection"),
            base("nothing after the library", at("library"), &province, req("nowhere"), "no_next_stage"),
            base("an edge to a stage the graph lacks", at("library"), &province, req("lost"), "inconsistent_state"),
            base("a stage the graph lacks", at("vanished"), &province, req("forward"), "inconsistent_state"),
            Case {
                last_at: Some(Timestamp(1_700_000_001)),
                ..base("a clock set before the last decision", at("city"), &city, req("return"), "clock_behind")
            },
        ];
        // A submit that runs the check, taken without one (the application changed
        // after it was checked): refused, whatever else would accept it.
        let mut c = base("a checked submit without its check", at("draft"), &applicant, req("submit"), "check_not_run");
        for a in c.round.graph.actions.iter_mut().filter(|a| a.id == "submit") {
            a.runs_check = true;
        }
        v.push(c);
        let mut assigned = at("expert");
        assigned.experts = vec!["e".into()];
        v.push(base("score without a score", assigned, &expert, req("score"), "missing_payload"));
        let mut c = base("an unknown expert", at("expert"), &province, req("assign"), "invalid_payload");
        c.request.payload.experts = vec!["e".into(), "nobody".into()];
        v.push(c);
        let mut c = base("an officer as expert", at("expert"), &province, req("assign"), "invalid_payload");
        c.request.payload.experts = vec!["p".into()];
        v.push(c);
        let mut c = base("an expert twice", at("expert"), &province, req("assign"), "invalid_payload");
        c.request.payload.experts = vec!["e".into(), "e".into()];
        v.push(c);
        let mut c = base("an assigned expert", at("expert"), &province, req("assign"), "ok");
        c.request.payload.experts = vec!["e".into()];
        v.push(c);
        for (name, score, expect) in [
            ("a score over 100", 101.0, "invalid_payload"),
            ("a negative score", -1.0, "invalid_payload"),
            ("an infinite score", f64::INFINITY, "invalid_payload"),
            ("a fair score", 88.5, "ok"),
        ] {
            let mut assigned = at("expert");
            assigned.experts = vec!["e".into()];
            let mut c = base(name, assigned, &expert, req("score"), expect);
            c.request.payload.score = Some(score);
            v.push(c);
        }
        let mut c = base("rank 0", at("expert"), &province, req("rank"), "invalid_payload");
        c.request.payload.rank = Some(0);
        v.push(c);
        // 补正期限: a return to a stage whose window has closed.
        for (name, days, expect) in [
            ("a return to a closed window, no correction period", None, "return_window_closed"),
            ("a return to a closed window with a correction period", Some(5), "ok"),
        ] {
            let mut c = base(name, at("city"), &city, req("return"), expect);
            c.round.spec.province.end = Timestamp(1_600_000_000);
            c.round.spec.correction_working_days = days;
            c.request.opinion = Some("材料不全".into());
            v.push(c);
        }
        // A return written with its target stage named is a return all the same.
        let mut c = base(
            "a return naming its stage, to a closed window",
            at("city"),
            &city,
            req("return"),
            "return_window_closed",
        );
        c.round.spec.province.end = Timestamp(1_600_000_000);
        c.round
            .graph
            .actions
            .iter_mut()
            .filter(|a| a.id == "return")
            .for_each(|a| a.to = Target::Stage("draft".into()));
        c.request.opinion = Some("材料不全".into());
        v.push(c);
        for (name, chars, expect) in [
            ("an opinion at the limit", MAX_OPINION_CHARS, "ok"),
            ("an opinion over the limit", MAX_OPINION_CHARS + 1, "invalid_payload"),
        ] {
            let mut c = base(name, at("city"), &city, req("return"), expect);
            c.request.opinion = Some("意".repeat(chars));
            v.push(c);
        }
        // Closed round.
        let mut c = base("closed round", at("city"), &city, req("recommend"), "round_not_open");
        c.round.status = RoundStatus::Closed;
        v.push(c);
        // Stale view.
        let mut c = base("acting on a stale view", at("city"), &city, req("recommend"), "stale_stage");
        c.request.if_stage = Some("draft".into());
        v.push(c);
        // Window.
        let mut c = base("after the applicant window", at("draft"), &applicant, req("submit"), "window_closed");
        c.round.spec.province = Window { start: Timestamp(0), end: Timestamp(1) };
        v.push(c);
        // Quota.
        let mut c = base("the city's quota is used", at("city"), &city, req("recommend"), "quota_exceeded");
        c.used.insert(("city-8".into(), "huizhou".into()), 1);
        v.push(c);
        // Withdraw too late.
        let mut s = at("province");
        s.entered_by = Some(EnteredBy {
            decision: 1,
            from: "city".into(),
            role: "city-officer".into(),
            scope: Scope::City("huizhou".into()),
            action: "recommend".into(),
        });
        s.acted_since_entry = true;
        v.push(base("the province already acted", s, &city, req("withdraw"), "withdraw_too_late"));
        // No previous stage: a return from a state whose trail has one visit.
        let mut s = at("city");
        s.trail.truncate(0);
        s.trail.push(Visit { stage: "city".into(), entered_at: Timestamp(0), decision: None });
        let mut c = base("nothing to return to", s, &city, req("return"), "no_previous_stage");
        c.request.opinion = Some("退回".into());
        v.push(c);
        // Objections open.
        let mut s = at("notice");
        s.open_objections = 2;
        v.push(base("objections still open", s, &province, req("decide"), "objections_open"));
        // Batch.
        let mut c = base("submit is not batchable", at("draft"), &applicant, req("submit"), "not_batchable");
        c.batch = true;
        v.push(c);
        // Warnings.
        let mut s = at("notice");
        s.warnings = vec!["years".into()];
        v.push(base("an unconfirmed warning", s.clone(), &province, req("decide"), "unconfirmed_warnings"));
        let mut c = base("confirming what is not a warning", s.clone(), &province, req("decide"), "not_a_warning");
        c.request.payload.confirm = vec!["other".into()];
        c.request.opinion = Some("确认".into());
        v.push(c);
        let mut c = base("a rank with a submission", at("draft"), &applicant, req("submit"), "unexpected_payload");
        c.request.payload.rank = Some(1);
        v.push(c);
        let mut c = base("experts with a score", at("expert"), &province, req("assign"), "unexpected_payload");
        c.request.payload.experts = vec!["e".into()];
        c.request.payload.score = Some(3.0);
        v.push(c);
        let mut c = base("the city confirms", at("city"), &city, req("recommend"), "confirm_not_allowed");
        c.request.payload.confirm = vec!["years".into()];
        v.push(c);
        let mut c = base("confirmed with an opinion", s, &province, req("decide"), "ok");
        c.request.payload.confirm = vec!["years".into()];
        c.request.opinion = Some("从业年限放宽".into());
        v.push(c);
        // Ban and profile.
        let mut c = base("banned until 2030", at("draft"), &applicant, req("submit"), "banned");
        c.banned_until = Some(Date::new(2030, 1, 1));
        v.push(c);
        let mut c = base("a ban that ran out", at("draft"), &applicant, req("submit"), "ok");
        c.banned_until = Some(Date::new(2020, 1, 1));
        v.push(c);
        let mut c = base("no district in the profile", at("draft"), &applicant, req("submit"), "profile_incomplete");
        c.org.district = None;
        v.push(c);
        // A channel neither the platform's nor routed by the round: it would follow no
        // route and count in no quota.
        let mut c = base("a misspelt channel", at("draft"), &applicant, req("submit"), "unknown_channel");
        c.org.channel = "regoin".into();
        v.push(c);
        let mut c = base("another platform channel", at("draft"), &applicant, req("submit"), "ok");
        c.org.channel = "provincial-soe".into();
        v.push(c);
        // On a platform channel the round does not route past the city, without a
        // city: nobody could reach it at the city's review.
        let mut c = base("a city review for no city", at("draft"), &applicant, req("submit"), "profile_incomplete");
        c.org.channel = "central-enterprise".into();
        c.org.city = None;
        c.org.district = None;
        v.push(c);
        // The applicant's applications in the round, when one more is made.
        let mut c = base("one application too many", at("draft"), &applicant, req("submit"), "too_many_applications");
        c.applications_in_round = Some(MAX_APPLICATIONS_PER_APPLICANT);
        v.push(c);
        let mut c = base("the last one allowed", at("draft"), &applicant, req("submit"), "ok");
        c.applications_in_round = Some(MAX_APPLICATIONS_PER_APPLICANT - 1);
        v.push(c);
        v
    }

    /// Every refusal the engine can give is produced by some scenario, and every
    /// scenario gets exactly the answer its row names (in the spirit of Temporal's
    /// transition-coverage check).
    /// Issue 16: a return after the window closed opens a correction period (补正期限)
    /// in which the stage's window is open to that application alone, counted in
    /// working days; the next move ends it.
    #[test]
    fn a_return_after_the_window_opens_a_correction_period() {
        let mut r = full_round();
        r.spec.province.end = Timestamp::end_of(Date::new(2024, 8, 31));
        r.spec.correction_working_days = Some(3);
        let (groups, names, used, named) = (HashMap::new(), HashMap::new(), BTreeMap::new(), BTreeMap::new());
        let mut cal = Calendar::default();
        cal.holidays.insert(Date::new(2024, 9, 16));
        cal.years.insert(2024);
        let org = org();
        let city = user("c", "city-officer", Scope::City("huizhou".into()));
        let applicant = user("a", "applicant", Scope::Organisation("91350100M000100Y43".into()));
        let decide_at = |state: &AppState, now: Timestamp, actor: &User, request: &ActionRequest| {
            let s = Snapshot {
                round: &r,
                applicant: &org,
                state,
                direction: None,
                direction_category: None,
                calendar: &cal,
                city_groups: &groups,
                scope_names: &names,
                quota_used: &used,
                banned_until: None,
                named_users: &named,
                now,
                last_decision_at: None,
                decision_index: 1,
                applications_in_round: None,
            };
            decide(&s, &Command { request, actor, batch: false, check_warnings: None })
        };
        // Friday 13 September 2024, after the applicant window: three working days,
        // Monday 16th a holiday — until the end of Thursday 19th.
        let fri = Timestamp::at(Date::new(2024, 9, 13), 10, 0);
        let ret = ActionRequest { opinion: Some("请补充审计报告".into()), ..req("return") };
        let back = decide_at(&at("city"), fri, &city, &ret).unwrap();
        assert_eq!(back.state.stage, "draft");
        let until = Timestamp::end_of(Date::new(2024, 9, 19));
        assert_eq!(back.state.correction_until, Some(until));
        assert!(back.explain.iter().any(|e| e.contains("补正期限")), "{:?}", back.explain);
        // The applicant may resubmit until then, and not after.
        let on_time = decide_at(&back.state, until, &applicant, &req("submit")).unwrap();
        assert_eq!((on_time.state.stage.as_str(), on_time.state.correction_until), ("city", None));
        let late = decide_at(&back.state, until.plus_secs(1), &applicant, &req("submit")).unwrap_err();
        assert_eq!(late.code(), "window_closed");
        // Another applicant's draft gets nothing from it.
        let other = decide_at(&at("draft"), fri, &applicant, &req("submit")).unwrap_err();
        assert_eq!(other.code(), "window_closed");
        // Inside the window no correction period is needed.
        let early = decide_at(&at("city"), Timestamp::at(Date::new(2024, 8, 20), 10, 0), &city, &ret).unwrap();
        assert_eq!(early.state.correction_until, None);
    }

    /// Scores by expert-review item (专家评审要点): every item that applies to the
    /// direction, each 0–100; the total is their mean; an item of another direction,
    /// a missing item or a total that is not the mean is refused, naming the item.
    #[test]
    fn scores_by_expert_review_item() {
        use shenbao_contract::ExpertItem;
        let mut r = full_round();
        let item = |id: &str, dirs: &[&str]| ExpertItem {
            id: id.into(),
            clause: "第七条".into(),
            title: Text::new(&format!("要点{id}"), id),
            directions: dirs.iter().map(|d| d.to_string()).collect(),
        };
        r.expert_items = vec![item("a", &[]), item("b", &[]), item("x-only", &["x"])];
        let (groups, names, used, named) = (HashMap::new(), HashMap::new(), BTreeMap::new(), BTreeMap::new());
        let cal = Calendar::default();
        let org = org();
        let expert = user("e", "expert", Scope::Expert);
        let mut assigned = at("expert");
        assigned.experts = vec!["e".into()];
        // One decision on `state` in direction `direction`, by `actor`.
        let run = |state: &AppState, direction: Option<&str>, request: &ActionRequest, actor: &User| {
            let s = Snapshot {
                round: &r,
                applicant: &org,
                state,
                direction,
                direction_category: None,
                calendar: &cal,
                city_groups: &groups,
                scope_names: &names,
                quota_used: &used,
                banned_until: None,
                named_users: &named,
                now: Timestamp(1_700_000_000),
                last_decision_at: None,
                decision_index: state.version + 3,
                applications_in_round: None,
            };
            decide(&s, &Command { request, actor, batch: false, check_warnings: None })
        };
        let score = |direction: Option<&str>, items: &[(&str, f64)], total: Option<f64>| {
            let mut request = req("score");
            request.payload.item_scores = items.iter().map(|(k, v)| (k.to_string(), *v)).collect();
            request.payload.score = total;
            run(&assigned, direction, &request, &expert)
        };
        let ok = score(Some("y"), &[("a", 90.0), ("b", 85.0)], None).unwrap();
        assert_eq!(ok.state.scores["e"], 87.5);
        assert_eq!(ok.state.item_scores["e"], BTreeMap::from([("a".to_string(), 90.0), ("b".to_string(), 85.0)]));
        assert_eq!(score(Some("y"), &[("a", 90.0), ("b", 85.0)], Some(87.5)).unwrap().state.scores["e"], 87.5);
        // Direction x has a third item, which must be scored too.
        let x = score(Some("x"), &[("a", 80.0), ("b", 70.0), ("x-only", 60.0)], None).unwrap();
        assert_eq!(x.state.scores["e"], 70.0);
        let refused = |d, items: &[(&str, f64)], total| {
            let e = score(d, items, total).unwrap_err();
            let Refusal::InvalidPayload { field, .. } = &e else { panic!("{e:?}") };
            (e.code(), field.clone())
        };
        assert_eq!(
            refused(Some("x"), &[("a", 80.0), ("b", 70.0)], None),
            ("invalid_payload", "item_scores.x-only".into())
        );
        assert_eq!(
            refused(Some("y"), &[("a", 80.0), ("b", 70.0), ("x-only", 1.0)], None),
            ("invalid_payload", "item_scores.x-only".into())
        );
        assert_eq!(refused(Some("y"), &[("a", 101.0), ("b", 70.0)], None), ("invalid_payload", "item_scores.a".into()));
        assert_eq!(
            refused(Some("y"), &[("a", f64::NAN), ("b", 70.0)], None),
            ("invalid_payload", "item_scores.a".into())
        );
        assert_eq!(refused(Some("y"), &[("a", 80.0), ("b", 70.0)], Some(80.0)), ("invalid_payload", "score".into()));
        // A single total is still a score; it replaces earlier item scores.
        let mut later = ok.state.clone();
        later.version += 1;
        let request = ActionRequest {
            payload: crate::model::Payload { score: Some(60.0), ..Default::default() },
            ..req("score")
        };
        let total = run(&later, Some("y"), &request, &expert).unwrap();
        assert_eq!((total.state.scores["e"], total.state.item_scores.get("e")), (60.0, None));
        // Item scores on another action are refused like any payload it does not take.
        let mut request = req("assign");
        request.payload.item_scores = BTreeMap::from([("a".to_string(), 1.0)]);
        let province = user("p", "province-officer", Scope::Province);
        assert_eq!(run(&assigned, None, &request, &province).unwrap_err().code(), "unexpected_payload");
    }

    #[test]
    fn refusal_table() {
        let cal = Calendar::default();
        let (groups, names) = (HashMap::new(), HashMap::new());
        let named: BTreeMap<String, User> = [
            ("e".to_string(), user("e", "expert", Scope::Expert)),
            ("p".to_string(), user("p", "province-officer", Scope::Province)),
        ]
        .into_iter()
        .collect();
        let mut produced = std::collections::BTreeSet::new();
        for c in cases() {
            let snapshot = Snapshot {
                round: &c.round,
                applicant: &c.org,
                state: &c.state,
                direction: None,
                direction_category: None,
                calendar: &cal,
                city_groups: &groups,
                scope_names: &names,
                quota_used: &c.used,
                banned_until: c.banned_until,
                named_users: &named,
                now: Timestamp(1_700_000_000),
                last_decision_at: c.last_at,
                decision_index: 7,
                applications_in_round: c.applications_in_round,
            };
            let cmd = Command { request: &c.request, actor: &c.actor, batch: c.batch, check_warnings: None };
            let got = match decide(&snapshot, &cmd) {
                Ok(_) => "ok",
                Err(r) => {
                    assert!(
                        Refusal::CODES.contains(&r.code()),
                        "{}: {} is missing from Refusal::CODES",
                        c.name,
                        r.code()
                    );
                    // Every refusal reads as whole Chinese with English beside it: no
                    // debug syntax and no untranslated window or role ids in the Chinese.
                    let text = r.to_string();
                    let zh = text.split(" / ").next().unwrap_or_default();
                    assert!(text.contains(" / "), "{}: {r}", c.name);
                    for debug in ["Some(", "None", "Single(", "\\\"", "{", "}"] {
                        assert!(!zh.contains(debug), "{}: {debug:?} in {zh:?}", c.name);
                    }
                    for id in crate::graph::WINDOWS {
                        assert!(!zh.contains(&format!("{id}时间窗")), "{}: window id in {zh:?}", c.name);
                    }
                    // Actions and stages by their titles, not their ids.
                    let ids =
                        c.round.graph.actions.iter().map(|a| &a.id).chain(c.round.graph.stages.iter().map(|s| &s.id));
                    for id in ids {
                        assert!(!zh.contains(&format!("“{id}”")), "{}: id {id:?} in {zh:?}", c.name);
                    }
                    r.code()
                }
            };
            assert_eq!(got, c.expect, "{}", c.name);
            produced.insert(got);
        }
        let never: Vec<_> = Refusal::CODES.iter().filter(|c| !produced.contains(*c)).collect();
        assert!(never.is_empty(), "refusals no scenario produces: {never:?}");
    }
}
