//! Who may see and who may act on what: the one access policy. The engine's
//! [`decide`](crate::decide) authorises actions with [`covers`]; the shell's reads
//! (the library's queries, the CLI, the HTTP API) decide visibility with
//! [`may_see`], [`may_see_org`] and [`queue_reach`]. Pure functions of records.

use crate::model::{AppState, Application, Decision, FormData, Organisation, RoleGrant, Round, Scope, User};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use shenbao_contract::ScopeLevel;

/// Does `grant` let its holder (`user`) act on an application of `applicant` in
/// `state` at an action's scope `level`? An applicant acts for its own organisation,
/// a district or city officer inside its region, the province anywhere, an expert on
/// what it was assigned, and anyone where the action is public (公示异议).
pub fn covers(grant: &RoleGrant, level: ScopeLevel, applicant: &Organisation, state: &AppState, user: &str) -> bool {
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

/// Whether `user` may see `app` (of `applicant`, in `round`): its own organisation's;
/// a reviewer's region once the application has been at a stage the reviewer's role
/// acts at; an expert's assigned ones; anyone's while an action open to the public
/// is possible (the notice); an administrator everything. Anything else is answered as if
/// it did not exist.
pub fn may_see(user: &User, app: &Application, round: &Round, applicant: &Organisation) -> bool {
    disclosure(user, app, round, applicant).is_some()
}

/// How much of an application a user may read, once it may see it at all.
///
/// Source: the notices' 公示 (a public notice lists the unit, the project, its
/// direction and city — not the application's figures, files or reviewers), and
/// issue 15.4: expert identities and individual scores are for the province only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Disclosure {
    /// What the public notice shows: the application's identity, direction, project,
    /// stage and outcome, and the form fields the program marks `"x-public": true`.
    /// No attachments, no handling record, no quota, rank, experts or scores.
    Notice,
    /// Everything except who the experts are and their individual scores (an expert
    /// sees its own): the applicant's own people, district and city reviewers, experts.
    Reviewed,
    /// Everything: the province's officers and administrators.
    Full,
}

/// The most `user` may read of `app` (see [`Disclosure`]), or `None` when it may
/// not see it at all (answered as if it did not exist).
pub fn disclosure(user: &User, app: &Application, round: &Round, applicant: &Organisation) -> Option<Disclosure> {
    disclosure_by(user, &app.state, round, &|o| *o == app.applicant, &|scope| match scope {
        Scope::City(c) => applicant.city.as_ref() == Some(c),
        Scope::District(d) => applicant.district.as_ref() == Some(d),
        _ => false,
    })
}

/// Whether `user` might see an application in `state` of `round`, whoever its
/// applicant and wherever it is: [`disclosure`] with every organisation and region
/// condition taken as met — so `false` means it may not see it, whatever the rest
/// of the record says. Lists use it to skip an application after decoding its state
/// only (a draft never submitted, an expert's unassigned ones).
pub fn might_see(user: &User, state: &AppState, round: &Round) -> bool {
    disclosure_by(user, state, round, &|_| true, &|_| true).is_some()
}

/// [`disclosure`] of an application in `state`, with `own` telling whether an
/// organisation is its applicant and `in_region` whether a city or district scope
/// holds it.
fn disclosure_by(
    user: &User,
    state: &AppState,
    round: &Round,
    own: &dyn Fn(&String) -> bool,
    in_region: &dyn Fn(&Scope) -> bool,
) -> Option<Disclosure> {
    let reached = |role: &str| role_reached(&round.graph, state, role);
    // While an action open to anyone is possible (公示异议 during the public notice),
    // anyone may see it — as anyone may take that action (`covers`).
    let open_to_all =
        round.graph.actions.iter().any(|a| a.scope == ScopeLevel::Public && a.from_stages.contains(&state.stage));
    let by_grant = user
        .grants
        .iter()
        .filter_map(|g| {
            let (sees, level) = match &g.scope {
                Scope::Province if g.role == "admin" => (true, Disclosure::Full),
                Scope::Province if g.role == "public" => (false, Disclosure::Notice),
                Scope::Province => (reached(&g.role), Disclosure::Full),
                Scope::Organisation(o) => (own(o), Disclosure::Reviewed),
                Scope::Expert => (state.experts.contains(&user.id), Disclosure::Reviewed),
                Scope::Public => (
                    round
                        .graph
                        .actions
                        .iter()
                        .any(|a| a.roles.contains(&g.role) && a.from_stages.contains(&state.stage)),
                    Disclosure::Notice,
                ),
                Scope::City(_) | Scope::District(_) => (in_region(&g.scope) && reached(&g.role), Disclosure::Reviewed),
            };
            sees.then_some(level)
        })
        .max();
    by_grant.or(open_to_all.then_some(Disclosure::Notice))
}

/// `app` as `viewer` may read it at `level` ([`Disclosure`]). `public_fields` are the
/// JSON pointers of the form fields the program marks `"x-public": true` (shown in
/// the notice).
pub fn redact_application(app: &mut Application, level: Disclosure, viewer: &str, public_fields: &[String]) {
    match level {
        Disclosure::Full => {}
        Disclosure::Reviewed => {
            let s = &mut app.state;
            s.experts.retain(|e| e == viewer);
            s.scores.retain(|e, _| e == viewer);
            s.item_scores.retain(|e, _| e == viewer);
        }
        Disclosure::Notice => {
            let data = app.data.to_value();
            let mut shown = serde_json::Value::Object(Default::default());
            for ptr in public_fields {
                if let Some(v) = data.pointer(ptr) {
                    put_at(&mut shown, ptr, v.clone());
                }
            }
            app.data = FormData::from_value(&shown);
            app.attachments.clear();
            app.saves = 0;
            let s = &app.state;
            // Only where it is now: the path it took (returns, reviews) is the
            // handling record's, which the notice does not show.
            let mut state = AppState::new(&s.stage, s.trail.last().map_or(app.created_at, |v| v.entered_at));
            state.outcome = s.outcome;
            state.version = s.version;
            state.open_objections = s.open_objections;
            app.state = state;
        }
    }
}

/// `d` as `viewer` may read it at `level`: below [`Disclosure::Full`], who the
/// experts are and each expert's score are removed (an expert keeps its own), and the
/// hash chain's `hash` and `prev_hash` are left empty: from any hash after a redacted
/// record the removed parts could be recovered by trial.
/// At [`Disclosure::Notice`] the handling record is not shown at all: see
/// [`shows_record`].
pub fn redact_decision(d: &mut Decision, level: Disclosure, viewer: &str) {
    if level == Disclosure::Full {
        return;
    }
    let by_expert = d.actor.scope == Scope::Expert;
    if by_expert && d.actor.user != viewer {
        d.actor.user = String::new();
        d.payload.score = None;
        d.payload.item_scores.clear();
        d.opinion = None;
    }
    d.payload.experts.retain(|e| e == viewer);
    // The chain's hashes commit to the whole record and, through `prev_hash`, to
    // every record before it, redacted parts included. With the rest of the records
    // known, any hash after a redacted record lets an expert's id and score (a few
    // thousand candidates) be found by trying each. So below the province no hash is
    // shown; the province verifies the chain (`shenbao audit`). Empty means withheld.
    d.hash.clear();
    d.prev_hash.clear();
    if let Some(o) = &mut d.origin {
        o.hash.clear();
        o.prev_hash.clear();
    }
}

/// A platform role as people name it (the operation manuals' names), for messages;
/// a role a program adds is shown by its id.
pub fn role_zh(role: &str) -> &str {
    match role {
        "applicant" => "申报单位",
        "district-officer" => "区县经办",
        "city-officer" => "地市经办",
        "city-leader" => "地市科室领导",
        "province-officer" => "省厅",
        "expert" => "评审专家",
        "public" => "公众",
        "admin" => "管理员",
        other => other,
    }
}

/// Over which applications an action's scope reaches, as people say it.
pub fn scope_level_zh(level: ScopeLevel) -> &'static str {
    match level {
        ScopeLevel::OwnOrganisation => "本单位",
        ScopeLevel::District => "本区县",
        ScopeLevel::City => "本市",
        ScopeLevel::Province => "全省",
        ScopeLevel::Assigned => "分配给本人的申报",
        ScopeLevel::Public => "任何人",
    }
}

/// Whether the handling record (办理记录) is shown at `level`: not in the notice.
pub fn shows_record(level: Disclosure) -> bool {
    level > Disclosure::Notice
}

/// Set the value at JSON pointer `ptr` inside `root`, creating objects on the way.
fn put_at(root: &mut serde_json::Value, ptr: &str, v: serde_json::Value) {
    let segs: Vec<String> = ptr.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~")).collect();
    let mut cur = root;
    for (i, seg) in segs.iter().enumerate() {
        let serde_json::Value::Object(m) = cur else { return };
        if i + 1 == segs.len() {
            m.insert(seg.clone(), v);
            return;
        }
        cur = m.entry(seg.clone()).or_insert_with(|| serde_json::Value::Object(Default::default()));
    }
}

/// Whether an application in `state` has reached `role`: it has been at a stage the
/// role owns (a stage whose `role` it is — a district's 区县审核), or, for a role that
/// owns no stage, at a stage where one of the role's actions starts. An application
/// routed past a level (a city without district review) never reaches that level's
/// officers: they neither see it nor act on it. Visibility ([`disclosure`]) and
/// authorisation ([`crate::decide`]) both ask this.
pub fn role_reached(graph: &shenbao_contract::Graph, state: &AppState, role: &str) -> bool {
    let owned: Vec<&str> =
        graph.stages.iter().filter(|s| s.role.as_deref() == Some(role)).map(|s| s.id.as_str()).collect();
    if owned.is_empty() {
        return state.trail.iter().any(|v| {
            graph.actions.iter().any(|a| a.roles.iter().any(|r| r == role) && a.from_stages.contains(&v.stage))
        });
    }
    state.trail.iter().any(|v| owned.contains(&v.stage.as_str())) || owned.contains(&state.stage.as_str())
}

/// Whether `user` may see an organisation's record: its own people, the province's
/// officers and administrators, and the reviewers of its region.
pub fn may_see_org(user: &User, org: &Organisation) -> bool {
    user.grants.iter().any(|g| match &g.scope {
        Scope::Organisation(c) => *c == org.credit_code,
        Scope::Province => g.role != "public",
        Scope::City(c) => org.city.as_ref() == Some(c),
        Scope::District(d) => org.district.as_ref() == Some(d),
        Scope::Expert | Scope::Public => false,
    })
}

/// The part of a queue a reviewing grant reaches.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// Every city.
    Province,
    City(String),
    District {
        city: String,
        district: String,
    },
}

/// Each reviewing grant of `user` with the part of the queue it reaches (for the
/// stages its role acts at). `city_of` names a district's city. Grants of
/// organisations, experts and the public reach no queue.
pub fn queue_reach(user: &User, city_of: impl Fn(&str) -> Option<String>) -> Vec<(&str, Reach)> {
    user.grants
        .iter()
        .filter_map(|g| {
            let r = match &g.scope {
                Scope::Province => Reach::Province,
                Scope::City(c) => Reach::City(c.clone()),
                Scope::District(d) => Reach::District { city: city_of(d).unwrap_or_default(), district: d.clone() },
                Scope::Organisation(_) | Scope::Expert | Scope::Public => return None,
            };
            Some((g.role.as_str(), r))
        })
        .collect()
}

/// An administrator: the `admin` role at province scope.
pub fn is_admin(u: &User) -> bool {
    u.grants.iter().any(|g| g.role == "admin" && g.scope == Scope::Province)
}

/// Who sees quota figures (used/limit): reviewers and administrators — any grant
/// above an organisation's own or the public's. Applicants and the public do not.
pub fn sees_quota_figures(u: &User) -> bool {
    u.grants.iter().any(|g| !matches!(g.scope, Scope::Organisation(_) | Scope::Public))
}

/// The region whose summary table (汇总表) `u` may export at `level` (district,
/// city or province recommendations), given the region `asked` for (`None`: the
/// user's own) and, when `asked` is a district, the city it belongs to
/// (`asked_city`). Administrators and the province export any region; a city its
/// own city and its districts; a district only itself, at district level.
///
/// # Errors
/// `Err(())` when `u` may not export that region at that level.
pub fn summary_region(
    u: &User,
    level: ScopeLevel,
    asked: Option<&str>,
    asked_city: Option<&str>,
) -> Result<Option<String>, ()> {
    if is_admin(u) || u.grants.iter().any(|g| g.scope == Scope::Province && g.role != "public") {
        return Ok(asked.map(str::to_string));
    }
    for g in &u.grants {
        match (&g.scope, level) {
            (Scope::City(c), ScopeLevel::City | ScopeLevel::District) => match asked {
                None => return Ok(Some(c.clone())),
                Some(a) if a == c || asked_city == Some(c.as_str()) => return Ok(Some(a.to_string())),
                Some(_) => {}
            },
            (Scope::District(d), ScopeLevel::District) => match asked {
                None => return Ok(Some(d.clone())),
                Some(a) if a == d => return Ok(Some(a.to_string())),
                Some(_) => {}
            },
            _ => {}
        }
    }
    Err(())
}

/// A reviewer's lists of a round (审核队列的页签).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum QueueView {
    /// 待审核: waiting at a stage the caller acts at.
    #[default]
    Pending,
    /// 已推荐: moved on (forward in the graph) from the caller's stage, whatever
    /// became of it later (a higher level's refusal included).
    Recommended,
    /// 退回待提交: returned from the caller's stage to the applicant, not resubmitted.
    Returned,
    /// 不受理: ended as not passed (不予推荐) at the caller's stage.
    NotRecommended,
}

/// Whether `role` reviews the applications waiting at `stage` of `round`: the
/// stage's own role, or a role that an action from the stage names at the stage's
/// level (a city leader — 地市科室领导 — recommends at 市级审核 as the city officer
/// does; a district officer's withdrawal from the city review is at the district's
/// level, so the city review is not the district officer's).
pub fn reviews_at(round: &Round, stage: &shenbao_contract::Stage, role: &str) -> bool {
    stage.role.as_deref() == Some(role)
        || round.graph.actions.iter().any(|a| {
            a.scope == stage.scope && a.from_stages.iter().any(|s| *s == stage.id) && a.roles.iter().any(|r| r == role)
        })
}

/// The stages `user`'s reviewing grants (district, city, province; not applicants,
/// experts, the public or administrators) review in `round`'s graph ([`reviews_at`]).
pub fn reviewing_stages<'r>(user: &User, round: &'r Round) -> Vec<&'r str> {
    let roles: Vec<&str> = user
        .grants
        .iter()
        .filter(|g| matches!(g.scope, Scope::District(_) | Scope::City(_) | Scope::Province) && g.role != "admin")
        .map(|g| g.role.as_str())
        .collect();
    round.graph.stages.iter().filter(|s| roles.iter().any(|r| reviews_at(round, s, r))).map(|s| s.id.as_str()).collect()
}

/// Which of a reviewer's handled lists an application in `state` belongs in, given the stages the
/// reviewer acts at (`mine`, from [`reviewing_stages`]); `None` for none of them
/// (in particular while it waits at one of `mine`: that is the pending queue, read
/// from its index). Decided by the application's trail: the stage it last left and
/// where it went. Visibility is the caller's business ([`may_see`]).
pub fn handled_view(mine: &[&str], round: &Round, state: &AppState) -> Option<QueueView> {
    use shenbao_contract::{Outcome, StageKind};
    let trail = &state.trail;
    let n = trail.len();
    if n < 2 {
        return None;
    }
    let stage = |id: &str| round.graph.stages.iter().position(|s| s.id == id);
    let left = trail[n - 2].stage.as_str();
    if mine.contains(&left) {
        if state.outcome == Outcome::NotPassed {
            return Some(QueueView::NotRecommended);
        }
        let kind = stage(&state.stage).map(|i| round.graph.stages[i].kind);
        if kind == Some(StageKind::Draft) && state.outcome == Outcome::Pending {
            return Some(QueueView::Returned);
        }
    }
    if mine.contains(&state.stage.as_str()) {
        return None;
    }
    let last_mine = trail.iter().rposition(|v| mine.contains(&v.stage.as_str()))?;
    let next = trail.get(last_mine + 1)?;
    let forward = stage(&next.stage)? > stage(&trail[last_mine].stage)?;
    forward.then_some(QueueView::Recommended)
}
