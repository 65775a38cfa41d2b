//! The pure engine: (round, applicant, state, action, actor, time, quota
//! counters) → new state and effects, or a typed refusal. No storage, no plugins,
//! no clock: `kernel.rs` reads what this needs and writes what it returns.

use crate::calendar::Calendar;
use crate::graph::Routing;
use crate::model::{
    ActionRequest, AppState, EnteredBy, Organisation, QuotaDelta, QuotaHold, RoleGrant, Round, RoundStatus, Scope,
    User, Visit,
};
use crate::time::Timestamp;
use shenbao_contract::{
    Action, ActionKind, Date, OpinionRule, Outcome, Quota, QuotaGroup, ScopeLevel, StageKind, Target,
};

/// Why an action is refused. Each names what is wrong; nothing changes.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("轮次“{round}”未开放（{status:?}） / round {round} is not open ({status:?})")]
    RoundNotOpen { round: String, status: RoundStatus },
    #[error("未知操作“{action}” / unknown action {action:?}")]
    UnknownAction { action: String },
    #[error("申报当前在“{actual}”环节，而非“{expected}” / the application is at {actual:?}, not {expected:?}")]
    StaleStage { expected: String, actual: String },
    #[error(
        "“{action}”不能在“{stage}”环节执行（可在：{allowed}） / {action:?} cannot be taken at {stage:?} (allowed at: {allowed})"
    )]
    NotAtThisStage { action: String, stage: String, allowed: String },
    #[error("无权执行“{action}”：{reason} / not allowed to take {action:?}: {reason}")]
    Forbidden { action: String, reason: String },
    #[error("“{action}”必须填写审核意见 / {action:?} requires an opinion")]
    OpinionRequired { action: String },
    #[error("{window}时间窗已关闭或未开始（{detail}） / the {window} window is closed or not yet open ({detail})")]
    WindowClosed { window: String, detail: String },
    #[error("{message} / quota {quota} for {scope}: {used}/{limit} used")]
    QuotaExceeded { quota: String, scope: String, used: u32, limit: u32, message: String },
    #[error("下一环节已处理，无法撤回 / the next stage has already acted; withdraw is no longer possible")]
    WithdrawTooLate,
    #[error("没有可撤回的本级决定 / there is no decision of yours to withdraw")]
    NothingToWithdraw,
    #[error("“{stage}”之后没有可进入的环节 / no active stage follows {stage:?}")]
    NoNextStage { stage: String },
    #[error("“{stage}”之前没有可回退的环节 / nothing precedes {stage:?} to return to")]
    NoPreviousStage { stage: String },
    #[error("尚有 {open} 条公示异议未处理 / {open} objection(s) are still open")]
    ObjectionsOpen { open: u32 },
    #[error("没有待处理的公示异议 / there is no open objection")]
    NoOpenObjection,
    #[error("“{action}”不能批量执行 / {action:?} cannot be taken in a batch")]
    NotBatchable { action: String },
    #[error("“{action}”缺少{what} / {action:?} needs {what}")]
    MissingPayload { action: String, what: String },
    #[error("尚有警告未经省级审核确认：{} / warnings not yet confirmed by the province: {}", rules.join("、"), rules.join(", "))]
    UnconfirmedWarnings { rules: Vec<String> },
    #[error("“{rule}”不是本申报待确认的警告 / {rule:?} is not a warning of this application awaiting confirmation")]
    NotAWarning { rule: String },
    #[error("只有省级审核可以确认警告（如从业年限放宽） / only the province confirms warnings (e.g. an exemption)")]
    ConfirmNotAllowed,
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
        }
    }
}

/// Everything the engine reads besides the application state.
pub struct Context<'a> {
    pub round: &'a Round,
    pub applicant: &'a Organisation,
    pub calendar: &'a Calendar,
    /// City id → city group id.
    pub city_group: &'a dyn Fn(&str) -> Option<String>,
    /// Display name of a quota scope (惠州市 for `huizhou`).
    pub scope_name: &'a dyn Fn(&str) -> String,
    /// Units used of `quota` in `scope` (read inside the same write transaction).
    pub quota_used: &'a dyn Fn(&str, &str) -> u32,
    pub now: Timestamp,
    /// Index the accepted decision will get.
    pub decision_index: u64,
}

/// An accepted action: the new state and what else must happen with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
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

/// Does `grant` let its holder act on this application at `level`?
fn covers(grant: &RoleGrant, level: ScopeLevel, applicant: &Organisation, state: &AppState, user: &str) -> bool {
    match (level, &grant.scope) {
        (ScopeLevel::OwnOrganisation, Scope::Organisation(code)) => *code == applicant.credit_code,
        (ScopeLevel::District, Scope::District(d)) => applicant.district.as_ref() == Some(d),
        (ScopeLevel::City, Scope::City(c)) => applicant.city.as_ref() == Some(c),
        (ScopeLevel::Province, Scope::Province) => true,
        (ScopeLevel::Assigned, Scope::Expert) => state.experts.iter().any(|e| e == user),
        (ScopeLevel::Public, _) => true,
        _ => false,
    }
}

/// Which grant of the actor authorises `action`, if any.
fn authorise<'u>(
    action: &Action,
    applicant: &Organisation,
    state: &AppState,
    actor: &'u User,
) -> Result<RoleGrant, Refusal> {
    if action.scope == ScopeLevel::Public {
        let role = action.roles.first().cloned().unwrap_or_else(|| "public".into());
        return Ok(RoleGrant { role, scope: Scope::Public, office: None });
    }
    actor
        .grants
        .iter()
        .find(|g| action.roles.contains(&g.role) && covers(g, action.scope, applicant, state, &actor.id))
        .cloned()
        .ok_or_else(|| Refusal::Forbidden {
            action: action.id.clone(),
            reason: format!(
                "needs role {} with {:?} scope over this application; {} holds {}",
                action.roles.join(" or "),
                action.scope,
                actor.id,
                if actor.grants.is_empty() {
                    "no grant".to_string()
                } else {
                    actor.grants.iter().map(|g| format!("{}@{}", g.role, g.scope)).collect::<Vec<_>>().join(", ")
                }
            ),
        })
}

fn check_window(ctx: &Context, window: &str) -> Result<(), Refusal> {
    window_open(ctx.round, ctx.applicant, window, ctx.now)
}

/// Whether `window` of `round` is open for `applicant` at `now`.
pub(crate) fn window_open(
    round: &Round,
    applicant: &Organisation,
    window: &str,
    now: Timestamp,
) -> Result<(), Refusal> {
    let spec = &round.spec;
    let city = applicant.city.as_deref().and_then(|c| spec.cities.get(c));
    let closed = |detail: String| Err(Refusal::WindowClosed { window: window.to_string(), detail });
    match window {
        "applicant" => {
            let w = city.and_then(|c| c.applicants).unwrap_or(spec.province);
            if w.contains(now) { Ok(()) } else { closed(format!("{} – {}, now {now}", w.start, w.end)) }
        }
        "district" => {
            let deadline = city.and_then(|c| c.district_deadline).or(spec.city_deadline);
            match deadline {
                Some(d) if now > d => closed(format!("deadline {d}, now {now}")),
                _ => Ok(()),
            }
        }
        "city" => match spec.city_deadline {
            Some(d) if now > d => closed(format!("deadline {d}, now {now}")),
            _ => Ok(()),
        },
        "province" => match spec.province_deadline {
            Some(d) if now > d => closed(format!("deadline {d}, now {now}")),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// The scope key a quota counts this application under.
fn quota_scope(ctx: &Context, q: &Quota, direction_category: Option<&str>) -> String {
    let a = ctx.applicant;
    let city = a.city.clone().unwrap_or_else(|| "-".into());
    match q.group_by {
        QuotaGroup::Round => "round".into(),
        QuotaGroup::City => city,
        QuotaGroup::CityGroup => a.city.as_deref().and_then(|c| (ctx.city_group)(c)).unwrap_or_else(|| "-".into()),
        QuotaGroup::District => a.district.clone().unwrap_or_else(|| "-".into()),
        QuotaGroup::Channel => a.channel.clone(),
        QuotaGroup::Applicant => a.credit_code.clone(),
        QuotaGroup::ApplicantCategory => format!("{}/{}", a.credit_code, direction_category.unwrap_or("-")),
    }
}

/// The limit for a scope: its own entry, else (for cities) its group's, else the default.
fn quota_limit(ctx: &Context, q: &Quota, scope: &str) -> Option<u32> {
    let own = q.limits.iter().find(|l| l.scope == scope).map(|l| l.limit);
    let group = || {
        if q.group_by != QuotaGroup::City {
            return None;
        }
        let g = (ctx.city_group)(scope)?;
        q.limits.iter().find(|l| l.scope == g).map(|l| l.limit)
    };
    own.or_else(group).or(q.default_limit)
}

fn fill(template: &str, scope: &str, used: u32, limit: u32) -> String {
    template.replace("{scope}", scope).replace("{used}", &used.to_string()).replace("{limit}", &limit.to_string())
}

/// Decide one action. Pure: the same inputs always give the same answer.
pub fn decide(
    ctx: &Context,
    state: &AppState,
    direction_category: Option<&str>,
    req: &ActionRequest,
    actor: &User,
) -> Result<Transition, Refusal> {
    let round = ctx.round;
    let graph = &round.graph;
    let mut explain = Vec::new();

    let action = graph
        .actions
        .iter()
        .find(|a| a.id == req.action)
        .ok_or_else(|| Refusal::UnknownAction { action: req.action.clone() })?;
    let here =
        graph.stages.iter().find(|s| s.id == state.stage).expect("an application's stage is in its round's graph");
    match round.status {
        RoundStatus::Open => {}
        RoundStatus::Closed if matches!(here.kind, StageKind::Library) => {}
        status => return Err(Refusal::RoundNotOpen { round: round.spec.id.clone(), status }),
    }
    if let Some(expected) = &req.if_stage {
        if *expected != state.stage {
            return Err(Refusal::StaleStage { expected: expected.clone(), actual: state.stage.clone() });
        }
    }
    if !action.from_stages.contains(&state.stage) {
        return Err(Refusal::NotAtThisStage {
            action: action.id.clone(),
            stage: state.stage.clone(),
            allowed: action.from_stages.join(", "),
        });
    }
    let grant = authorise(action, ctx.applicant, state, actor)?;
    let opinion_given = req.opinion.as_ref().is_some_and(|o| !o.trim().is_empty());
    if action.opinion == OpinionRule::Required && !opinion_given {
        return Err(Refusal::OpinionRequired { action: action.id.clone() });
    }
    if let Some(w) = &here.window {
        check_window(ctx, w)?;
    }

    let today = ctx.now.local_date();
    let mut next = state.clone();
    let mut quota = Vec::new();
    let mut ban_until = None;
    let routing = Routing { graph, spec: &round.spec, applicant: ctx.applicant };

    // Where the action leads.
    let target: String = match action.kind {
        ActionKind::Withdraw => {
            let entered = state.entered_by.as_ref().ok_or(Refusal::NothingToWithdraw)?;
            if entered.role != grant.role || entered.scope != grant.scope {
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
            Target::Next => routing
                .next_after(&state.stage, &mut explain)
                .map(|s| s.id.clone())
                .ok_or_else(|| Refusal::NoNextStage { stage: state.stage.clone() })?,
            Target::Previous => {
                let n = state.trail.len();
                if n < 2 {
                    return Err(Refusal::NoPreviousStage { stage: state.stage.clone() });
                }
                state.trail[n - 2].stage.clone()
            }
        },
    };

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
            return Err(Refusal::OpinionRequired { action: action.id.clone() });
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
                return Err(Refusal::MissingPayload { action: action.id.clone(), what: "experts".into() });
            }
            next.experts = req.payload.experts.clone();
        }
        ActionKind::Score => {
            let score = req
                .payload
                .score
                .ok_or_else(|| Refusal::MissingPayload { action: action.id.clone(), what: "score".into() })?;
            next.scores.insert(actor.id.clone(), score);
        }
        ActionKind::Rank => {
            let rank = req
                .payload
                .rank
                .ok_or_else(|| Refusal::MissingPayload { action: action.id.clone(), what: "rank".into() })?;
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
    let moving_back = action.kind == ActionKind::Withdraw || matches!(action.to, Target::Previous);
    if moving_back {
        let back_to = state.trail.iter().rposition(|v| v.stage == target).unwrap_or(0);
        let later: Vec<&str> = state.trail[back_to..].iter().map(|v| v.stage.as_str()).collect();
        let (released, kept): (Vec<_>, Vec<_>) =
            state.holds.iter().cloned().partition(|h| later.contains(&h.stage.as_str()));
        for h in released {
            let used = (ctx.quota_used)(&h.quota, &h.scope);
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
        let scope = quota_scope(ctx, q, direction_category);
        if next.holds.iter().any(|h| h.quota == q.id && h.scope == scope) {
            continue;
        }
        let used = (ctx.quota_used)(&q.id, &scope);
        let limit = quota_limit(ctx, q, &scope);
        if let Some(limit) = limit {
            if used >= limit {
                return Err(Refusal::QuotaExceeded {
                    quota: q.id.clone(),
                    scope: scope.clone(),
                    used,
                    limit,
                    message: fill(&q.message.zh, &(ctx.scope_name)(&scope), used, limit),
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
        let stage = graph.stages.iter().find(|s| s.id == target).expect("graph checked at configuration");
        next.stage = target.clone();
        next.trail.push(Visit { stage: target.clone(), entered_at: ctx.now, decision: Some(ctx.decision_index) });
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
        next.outcome = match (stage.kind, stage.outcome) {
            (_, Some(o)) => o,
            (StageKind::Library, None) => Outcome::Passed,
            _ => Outcome::Pending,
        };
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

    Ok(Transition {
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
    use shenbao_contract::{Graph, Stage, Text};

    fn stage(id: &str, kind: StageKind, role: &str, scope: ScopeLevel) -> Stage {
        Stage {
            id: id.into(),
            title: Text::new(id, id),
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
            title: Text::new(id, id),
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
            },
            plugin: crate::plugin::PluginId {
                program: "p".into(),
                version: "0.1.0".into(),
                sha256: "0".repeat(64),
                wit: "0.1.0".into(),
            },
            edition: String::new(),
            graph,
            quotas: Vec::new(),
            directions: Vec::new(),
            status: RoundStatus::Open,
            created_at: t,
        }
    }

    fn user(id: &str, role: &str, scope: Scope) -> User {
        User { id: id.into(), name: id.into(), grants: vec![RoleGrant { role: role.into(), scope, office: None }] }
    }

    fn run(round: &Round, state: &AppState, who: &User, action: &str) -> Result<Transition, Refusal> {
        let org = Organisation {
            credit_code: "91350100M000100Y43".into(),
            name: "示例".into(),
            channel: "region".into(),
            city: Some("huizhou".into()),
            district: None,
            dishonest: false,
            tags: Vec::new(),
            qualifications: Vec::new(),
            profile: serde_json::Value::Null,
        };
        let cal = Calendar::default();
        let ctx = Context {
            round,
            applicant: &org,
            calendar: &cal,
            city_group: &|_| None,
            scope_name: &|s| s.to_string(),
            quota_used: &|_, _| 0,
            now: Timestamp(1_700_000_000),
            decision_index: state.version,
        };
        decide(
            &ctx,
            state,
            None,
            &ActionRequest {
                action: action.into(),
                payload: crate::model::Payload { score: Some(1.0), ..Default::default() },
                ..Default::default()
            },
            who,
        )
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
        // Before the province acts: the city may withdraw.
        assert_eq!(run(&r, &s2, &city, "withdraw").unwrap().to, "city");
        // After the province notes it: too late, and the state is untouched.
        let s3 = run(&r, &s2, &province, "note").unwrap().state;
        assert!(s3.acted_since_entry);
        assert_eq!(run(&r, &s3, &city, "withdraw"), Err(Refusal::WithdrawTooLate));
        // Nothing follows the province: its forward action has nowhere to go.
        assert_eq!(run(&r, &s3, &province, "forward"), Err(Refusal::NoNextStage { stage: "province".into() }));
        // Nothing precedes the draft.
        assert_eq!(run(&r, &s0, &applicant, "back"), Err(Refusal::NoPreviousStage { stage: "draft".into() }));
    }

    #[test]
    fn the_same_inputs_give_the_same_transition() {
        let r = round();
        let applicant = user("a", "applicant", Scope::Organisation("91350100M000100Y43".into()));
        let s0 = AppState::new("draft", Timestamp(0));
        assert_eq!(run(&r, &s0, &applicant, "submit"), run(&r, &s0, &applicant, "submit"));
    }
}
