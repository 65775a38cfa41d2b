//! Who may see and who may act on what: the one access policy. The engine's
//! [`decide`](crate::decide) authorises actions with [`covers`]; the shell's reads
//! (the library's queries, the CLI, the HTTP API) decide visibility with
//! [`may_see`], [`may_see_org`] and [`queue_reach`]. Pure functions of records.

use crate::model::{AppState, Application, Organisation, RoleGrant, Round, Scope, User};
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
    let reached = |role: &str| {
        app.state.trail.iter().any(|v| {
            round.graph.actions.iter().any(|a| a.roles.iter().any(|r| r == role) && a.from_stages.contains(&v.stage))
        })
    };
    // While an action open to anyone is possible (公示异议 during the public notice),
    // anyone may see it — as anyone may take that action (`covers`).
    let open_to_all = round
        .graph
        .actions
        .iter()
        .any(|a| a.scope == ScopeLevel::Public && a.from_stages.iter().any(|s| *s == app.state.stage));
    open_to_all
        || user.grants.iter().any(|g| match &g.scope {
            Scope::Province if g.role == "admin" => true,
            Scope::Province => reached(&g.role),
            Scope::Organisation(o) => *o == app.applicant,
            Scope::Expert => app.state.experts.iter().any(|e| *e == user.id),
            Scope::Public => {
                round.graph.actions.iter().any(|a| {
                    a.roles.iter().any(|r| *r == g.role) && a.from_stages.iter().any(|s| *s == app.state.stage)
                })
            }
            Scope::City(c) => applicant.city.as_ref() == Some(c) && reached(&g.role),
            Scope::District(d) => applicant.district.as_ref() == Some(d) && reached(&g.role),
        })
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
