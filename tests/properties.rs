//! Random sequences of actions by random actors never break the invariants:
//! one current stage per application (and one queue entry for it), quotas never
//! exceeded and counters equal to units held, withdraw only of the immediately
//! preceding decision of the same office, decision-log length equal to accepted
//! actions, a chain that verifies.

#[path = "world.rs"]
mod world;

use proptest::prelude::*;
use shenbao::contract::ActionKind;
use shenbao::contract::{Quota, QuotaGroup, QuotaLimit, Text};
use shenbao::{ActionRequest, Payload};
use world::*;

const ACTORS: &[&str] = &[
    "applicant-1",
    "applicant-2",
    "applicant-7",
    "district-huicheng",
    "district-huiyang",
    "city-huizhou",
    "city-shenzhen",
    "province",
    "expert-1",
    "someone",
];

fn quota() -> Quota {
    Quota {
        id: "city-recommend".into(),
        title: Text::new("地市推荐名额", "city quota"),
        action: "city-recommend".into(),
        stage: Some("city-review".into()),
        group_by: QuotaGroup::City,
        default_limit: Some(1),
        limits: vec![QuotaLimit { scope: "prd".into(), limit: 2 }, QuotaLimit { scope: "shenzhen".into(), limit: 1 }],
        channels: Vec::new(),
        message: Text::new("{scope} 已推荐 {used}/{limit}", "{scope}: {used}/{limit}"),
    }
}

/// (application, action pick, take the right actor?, random actor, give an opinion?, payload kind)
fn step() -> impl Strategy<Value = (usize, usize, bool, usize, bool, u8)> {
    (0..4usize, 0..40usize, prop::bool::weighted(0.8), 0..ACTORS.len(), prop::bool::weighted(0.9), 0..3u8)
}

/// The user who holds `role` over application number `app` (see the world).
fn actor_for(role: &str, app: usize) -> &'static str {
    let shenzhen = app == 3;
    match role {
        "applicant" => ["applicant-1", "applicant-2", "applicant-1", "applicant-7"][app],
        "district-officer" => "district-huicheng",
        "city-officer" | "city-leader" => {
            if shenzhen {
                "city-shenzhen"
            } else {
                "city-huizhou"
            }
        }
        "province-officer" => "province",
        "expert" => "expert-1",
        _ => "someone",
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 50, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_under_random_actions(steps in prop::collection::vec(step(), 1..40)) {
        let mut s = spec();
        s.quotas = Some(vec![quota()]);
        let w = world_with(s);
        // Four applications: three in Huizhou (district review on), one in Shenzhen.
        let apps: Vec<String> = [1, 2, 1, 7].iter().map(|n| w.submitted(*n)).collect();
        let graph = w.kernel.round(ROUND).unwrap().graph;
        let mut accepted = w.decisions();
        let start = accepted;
        for (app, pick, right_actor, actor, opinion, payload) in steps {
            // Mostly an action allowed at the application's stage, taken by the right office.
            let stage = w.stage(&apps[app]);
            let here: Vec<&shenbao::contract::Action> = graph.actions.iter().filter(|a| a.from_stages.contains(&stage)).collect();
            let chosen = if here.is_empty() || pick % 5 == 4 { &graph.actions[pick % graph.actions.len()] } else { here[pick % here.len()] };
            let who = if right_actor { actor_for(&chosen.roles[0], app) } else { ACTORS[actor] };
            let req = ActionRequest {
                action: chosen.id.clone(),
                opinion: opinion.then(|| "意见".to_string()),
                if_stage: None,
                payload: match payload {
                    0 => Payload::default(),
                    1 => Payload { rank: Some(1), score: Some(80.0), ..Default::default() },
                    _ => Payload { experts: vec!["expert-1".into()], ..Default::default() },
                },
            };
            let before = w.kernel.application(&apps[app]).unwrap();
            match w.kernel.act(who, &apps[app], &req) {
                Ok(r) => {
                    accepted += 1;
                    prop_assert_eq!(r.decision.from.as_str(), before.state.stage.as_str());
                    prop_assert_eq!(r.application.state.version, before.state.version + 1);
                    if r.decision.kind == ActionKind::Withdraw {
                        // Only the preceding move on this application, by the same office, with
                        // nothing since but that office's own ranking.
                        let log = w.kernel.decisions_of(&apps[app]).unwrap();
                        let mut i = log.len() - 2;
                        while log[i].from == log[i].to {
                            prop_assert_eq!(log[i].kind, ActionKind::Rank, "only the recommender's ranking may come between");
                            prop_assert_eq!(&log[i].actor.scope, &r.decision.actor.scope);
                            i -= 1;
                        }
                        let prev = &log[i];
                        prop_assert_eq!(&prev.actor.role, &r.decision.actor.role);
                        prop_assert_eq!(&prev.actor.scope, &r.decision.actor.scope);
                        prop_assert_eq!(&prev.to, &r.decision.from);
                        prop_assert_eq!(&prev.from, &r.decision.to);
                    }
                }
                Err(_) => {
                    let after = w.kernel.application(&apps[app]).unwrap();
                    prop_assert_eq!(after, before, "a refusal changed nothing");
                }
            }
            prop_assert_eq!(w.decisions(), accepted);
            let problems = w.kernel.verify_indexes().unwrap();
            prop_assert!(problems.is_empty(), "{:?}", problems);
        }
        // The generator is biased towards actions allowed at the current stage by the
        // right office: about a third of all steps are accepted (7 of ~20 on average).
        let _ = start;
        let chain = w.kernel.verify_chain().unwrap();
        prop_assert_eq!(chain.first_broken, None);
        prop_assert_eq!(chain.length, accepted);
        for a in &apps {
            let app = w.kernel.application(a).unwrap();
            let log = w.kernel.decisions_of(a).unwrap();
            prop_assert_eq!(&log.last().unwrap().to, &app.state.stage, "one current stage: the last decision's");
        }
    }
}
