//! Rounds, applications, the approval graph, quotas and the decision log through
//! the real kernel: real component, real redb file.

#[path = "world.rs"]
mod world;

use serde_json::json;
use shenbao::contract::{Date, Outcome, Quota, QuotaGroup, QuotaLimit, StageKind, Text};
use shenbao::{ActError, ActionRequest, Application, Classified, Payload, Refusal, RoundError, Scope, Timestamp};
use world::*;

fn refusal(e: ActError) -> Refusal {
    match e {
        ActError::Refused(r) => r,
        other => panic!("expected a refusal, got {other}"),
    }
}

/// What must not change when something is refused.
fn snapshot(w: &World, app: &str) -> (u64, String, u64) {
    let a = w.kernel.application(app).unwrap();
    (w.decisions(), a.state.stage, a.state.version)
}

#[test]
fn an_application_travels_the_whole_path_into_the_library_and_out() {
    let w = world();
    let k = &w.kernel;
    // Draft saved twice: the same application.
    let first = k.save_draft("applicant-1", ROUND, None, w.draft(json!({"resource_name": "半成品"}))).unwrap();
    let id = first.application.id.clone();
    let again = k.save_draft("applicant-1", ROUND, Some(&id), w.draft(valid_data())).unwrap();
    assert_eq!(again.application.id, id);
    assert_eq!(again.application.saves, 2);
    assert_eq!(w.stage(&id), "draft");

    // Submit runs the check and records it; district review is on in Huizhou.
    let sub = w.act("applicant-1", &id, "submit", None).unwrap();
    assert_eq!(sub.decision.to, "district-review");
    let check = sub.decision.check.as_ref().unwrap();
    assert_eq!(check.signals[0].id, "er.signal.standards");
    assert!(check.fuel > 0);

    w.act("district-huicheng", &id, "district-recommend", Some("材料齐全，同意推荐")).unwrap();
    assert_eq!(w.stage(&id), "city-review");
    // The city has 10 working days (no holidays configured): 10 Aug 2024 is a Saturday.
    assert_eq!(k.application(&id).unwrap().state.due, Some(Date::new(2024, 8, 23)));
    w.act("city-huizhou", &id, "city-recommend", Some("同意推荐")).unwrap();
    w.act("province", &id, "province-recommend", Some("进入专家评审")).unwrap();
    assert_eq!(w.stage(&id), "expert-review");

    // Experts: only assigned ones may score; an unassigned expert does not even see it.
    let e = w
        .kernel
        .act(
            "expert-1",
            &id,
            &ActionRequest {
                action: "score".into(),
                payload: Payload { score: Some(88.0), ..Default::default() },
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "not_found", "{e}");
    k.act(
        "province",
        &id,
        &ActionRequest {
            action: "assign-experts".into(),
            payload: Payload { experts: vec!["expert-1".into(), "expert-2".into()], ..Default::default() },
            ..Default::default()
        },
    )
    .unwrap();
    k.act(
        "expert-1",
        &id,
        &ActionRequest {
            action: "score".into(),
            payload: Payload { score: Some(88.0), ..Default::default() },
            ..Default::default()
        },
    )
    .unwrap();
    k.act(
        "expert-2",
        &id,
        &ActionRequest {
            action: "score".into(),
            payload: Payload { score: Some(91.5), ..Default::default() },
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(k.application(&id).unwrap().state.scores.len(), 2);

    // Public notice with an objection: no decision until it is resolved.
    w.act("province", &id, "publish-notice", None).unwrap();
    w.act("someone", &id, "object", Some("案例真实性存疑")).unwrap();
    let before = snapshot(&w, &id);
    assert_eq!(
        refusal(w.act("province", &id, "approve", Some("认定入库")).unwrap_err()),
        Refusal::ObjectionsOpen { open: 1 }
    );
    assert_eq!(snapshot(&w, &id), before);
    w.act("province", &id, "resolve-objection", Some("经核实，异议不成立")).unwrap();
    w.act("province", &id, "approve", Some("认定入库")).unwrap();
    let a = k.application(&id).unwrap();
    assert_eq!((a.state.stage.as_str(), a.state.outcome), ("library", Outcome::Passed));
    assert_eq!(a.state.annual_due, Some(Date::new(2025, 3, 31)));

    // Yearly report, warning with 6 months to rectify, removal with a 3-year ban.
    w.act("applicant-1", &id, "annual-report", None).unwrap();
    w.act("province", &id, "warn", Some("案例不足，限期整改")).unwrap();
    let a = k.application(&id).unwrap();
    assert_eq!((a.state.stage.as_str(), a.state.deadline), ("rectifying", Some(Date::new(2025, 2, 10))));
    w.act("province", &id, "remove-for-cause", Some("提供虚假材料")).unwrap();
    let a = k.application(&id).unwrap();
    assert_eq!((a.state.stage.as_str(), a.state.outcome), ("removed-for-cause", Outcome::Removed));
    let err = k.save_draft("applicant-1", ROUND, None, w.draft(valid_data())).unwrap_err();
    assert!(matches!(err, ActError::Refused(Refusal::Banned { until }) if until == Date::new(2027, 8, 10)), "{err}");

    // The log: one decision per accepted action, chained, the check replayable.
    let log = k.decisions_of(&id).unwrap();
    assert_eq!(log.len() as u64, w.decisions());
    assert_eq!(log.len(), 16, "the refused score left no record");
    assert_eq!(
        log.iter().map(|d| d.action.as_str()).collect::<Vec<_>>()[..4],
        ["save-draft", "save-draft", "submit", "district-recommend"]
    );
    assert_eq!(log[3].actor.scope, Scope::District("huizhou.huicheng".into()));
    assert_eq!(log[3].opinion.as_deref(), Some("材料齐全，同意推荐"));
    let objection = log.iter().find(|d| d.action == "object").unwrap();
    assert_eq!((objection.actor.user.as_str(), &objection.actor.scope), ("someone", &Scope::Public));
    let chain = k.verify_chain().unwrap();
    assert_eq!((chain.length, chain.first_broken), (16, None));
    let replay = k.replay(log[2].index).unwrap();
    assert!(replay.identical, "{replay:?}");
}

#[test]
fn submit_with_blocking_findings_is_refused_and_changes_nothing() {
    let w = world();
    let mut data = valid_data();
    data["revenue"] = json!([{ "year": 2023, "revenue": 500 }, { "year": 2022, "revenue": 600 }]);
    let id = w.kernel.save_draft("applicant-2", ROUND, None, w.draft(data)).unwrap().application.id;
    let before = snapshot(&w, &id);
    match w.act("applicant-2", &id, "submit", None).unwrap_err() {
        ActError::BlockingFindings { findings } => {
            assert_eq!(
                findings.iter().map(|f| f.rule_id.as_str()).collect::<Vec<_>>(),
                ["er.specific.revenue-avg-2y-min-1000"]
            );
        }
        other => panic!("{other}"),
    }
    assert_eq!(snapshot(&w, &id), before);
    // Schema findings block too.
    let id2 =
        w.kernel.save_draft("applicant-3", ROUND, None, w.draft(json!({"resource_name": ""}))).unwrap().application.id;
    let err = w.act("applicant-3", &id2, "submit", None).unwrap_err();
    assert!(
        matches!(&err, ActError::BlockingFindings { findings } if findings.iter().all(|f| f.rule_id.starts_with("schema."))),
        "{err}"
    );
}

/// The Chinese title of the round's `district-recommend` action.
fn district_recommend_title(w: &World) -> String {
    let round = w.kernel.round(ROUND).unwrap();
    round.graph.actions.iter().find(|a| a.id == "district-recommend").unwrap().title.zh.clone()
}

#[test]
fn windows_opinions_and_scopes_are_enforced() {
    let w = world();
    let id = w.kernel.save_draft("applicant-1", ROUND, None, w.draft(valid_data())).unwrap().application.id;
    // Before the window opens.
    w.clock.set(t(2024, 7, 31, 23));
    assert_eq!(refusal(w.act("applicant-1", &id, "submit", None).unwrap_err()).code(), "window_closed");
    w.clock.set(t(2024, 8, 10, 9));
    // Someone else's application: answered exactly like a missing one.
    assert_eq!(w.act("applicant-2", &id, "submit", None).unwrap_err().code(), "not_found");
    w.act("applicant-1", &id, "submit", None).unwrap();
    // Wrong district, wrong city, no opinion.
    let before = snapshot(&w, &id);
    assert_eq!(w.act("district-huiyang", &id, "district-recommend", Some("ok")).unwrap_err().code(), "not_found");
    // The city does not see it before it reaches the city's stage.
    assert_eq!(w.act("city-huizhou", &id, "city-recommend", Some("ok")).unwrap_err().code(), "not_found");
    assert_eq!(
        refusal(w.act("district-huicheng", &id, "district-recommend", None).unwrap_err()),
        Refusal::OpinionRequired { action: "district-recommend".into(), title: district_recommend_title(&w) }
    );
    assert_eq!(
        refusal(w.act("district-huicheng", &id, "district-recommend", Some("  ")).unwrap_err()).code(),
        "opinion_required"
    );
    assert_eq!(
        refusal(w.act("district-huicheng", &id, "no-such-action", Some("x")).unwrap_err()).code(),
        "unknown_action"
    );
    assert_eq!(snapshot(&w, &id), before);
    // After the district deadline (5 September).
    w.clock.set(t(2024, 9, 6, 9));
    assert_eq!(
        refusal(w.act("district-huicheng", &id, "district-recommend", Some("ok")).unwrap_err()).code(),
        "window_closed"
    );
    assert_eq!(snapshot(&w, &id), before);
    // A stale view is refused.
    w.clock.set(t(2024, 9, 1, 9));
    let stale = ActionRequest {
        action: "district-recommend".into(),
        opinion: Some("ok".into()),
        if_stage: Some("city-review".into()),
        ..Default::default()
    };
    assert_eq!(refusal(w.kernel.act("district-huicheng", &id, &stale).unwrap_err()).code(), "stale_stage");
}

#[test]
fn return_and_resubmit_then_withdraw_only_before_the_next_stage_acts() {
    let w = world();
    let id = w.submitted(1);
    w.act("district-huicheng", &id, "district-return", Some("请补充客户反馈")).unwrap();
    assert_eq!(w.stage(&id), "draft");
    w.kernel.save_draft("applicant-1", ROUND, Some(&id), w.draft(valid_data())).unwrap();
    w.act("applicant-1", &id, "submit", None).unwrap();
    assert_eq!(w.stage(&id), "district-review");

    w.act("district-huicheng", &id, "district-recommend", Some("同意")).unwrap();
    // The district ranks its own recommendation: that does not stop it withdrawing.
    let rank = ActionRequest {
        action: "district-rank".into(),
        payload: Payload { rank: Some(1), ..Default::default() },
        ..Default::default()
    };
    assert_eq!(refusal(w.kernel.act("city-huizhou", &id, &rank).unwrap_err()).code(), "forbidden");
    w.kernel.act("district-huicheng", &id, &rank).unwrap();
    assert_eq!(w.kernel.application(&id).unwrap().state.rank, Some(1));
    w.act("district-huicheng", &id, "district-withdraw", Some("撤回重审")).unwrap();
    assert_eq!(w.stage(&id), "district-review");
    w.act("district-huicheng", &id, "district-recommend", Some("同意")).unwrap();
    // Once the city has acted on it, the district's decision is no longer its to withdraw.
    let before = snapshot(&w, &id);
    w.act("city-huizhou", &id, "city-return", Some("请区里补充")).unwrap();
    w.act("district-huicheng", &id, "district-recommend", Some("已补充")).unwrap();
    w.act("city-huizhou", &id, "city-recommend", Some("同意")).unwrap();
    assert_eq!(
        refusal(w.act("district-huicheng", &id, "district-withdraw", None).unwrap_err()),
        Refusal::NothingToWithdraw
    );
    assert!(w.decisions() > before.0);
    // The city may withdraw until the province acts; a province action at its stage ends that.
    w.act("city-huizhou", &id, "city-withdraw", None).unwrap();
    assert_eq!(w.stage(&id), "city-review");
    w.act("city-huizhou", &id, "city-recommend", Some("同意")).unwrap();
    w.act("province", &id, "province-return", Some("请市里复核")).unwrap();
    assert_eq!(w.stage(&id), "city-review");
    assert_eq!(refusal(w.act("city-huizhou", &id, "city-withdraw", None).unwrap_err()).code(), "not_at_this_stage");
    assert!(w.kernel.verify_chain().unwrap().first_broken.is_none());
}

/// The names `Kernel::actions_for` lists as available for `user` on `id`.
fn available(w: &World, user: &str, id: &str) -> Vec<String> {
    w.kernel.actions_for(user, id).unwrap().available.into_iter().map(|a| a.id).collect()
}

/// The code `Kernel::actions_for` lists `action` as refused with, for `user` on `id`.
fn refused_as(w: &World, user: &str, id: &str, action: &str) -> Option<String> {
    w.kernel.actions_for(user, id).unwrap().refused.into_iter().find(|a| a.id == action).map(|a| a.code)
}

/// Issue 16: after the province returns an application to the city once the city's
/// deadline has passed, someone can still act: without a correction period the return
/// is refused up front; with one (补正期限, working days) the city may act until it
/// ends. `actions_for` lists exactly what `act` accepts, from the same engine code.
#[test]
fn a_return_past_a_deadline_never_strands_an_application() {
    for correction in [None, Some(3)] {
        let w = world_with(shenbao::RoundSpec { correction_working_days: correction, ..spec() });
        let id = w.submitted(1);
        assert!(available(&w, "district-huicheng", &id).contains(&"district-recommend".to_string()));
        let hidden = w.kernel.actions_for("city-huizhou", &id).unwrap_err();
        assert_eq!(hidden.code(), "not_found", "the city does not see it yet");
        w.act("district-huicheng", &id, "district-recommend", Some("同意")).unwrap();
        assert!(available(&w, "district-huicheng", &id).contains(&"district-withdraw".to_string()));
        w.act("city-huizhou", &id, "city-recommend", Some("同意")).unwrap();
        // The city acted: the district's withdraw is neither listed nor accepted.
        assert!(!available(&w, "district-huicheng", &id).contains(&"district-withdraw".to_string()));
        // Past the city deadline (15 September), the province returns it to the city.
        w.clock.set(t(2024, 9, 20, 10)); // a Friday
        // The city cannot take its decision back after its own deadline, correction
        // period or not: a withdraw never reopens a window.
        let withdraw = refused_as(&w, "city-huizhou", &id, "city-withdraw");
        assert_eq!(withdraw.as_deref(), Some("return_window_closed"));
        let listed = refused_as(&w, "province", &id, "province-return");
        let result = w.act("province", &id, "province-return", Some("请市里补充材料"));
        match correction {
            None => {
                let err = refusal(result.unwrap_err());
                assert_eq!(err.code(), "return_window_closed");
                assert!(err.to_string().contains("补正期限"), "{err}");
                assert_eq!(listed.as_deref(), Some("return_window_closed"), "listed as `act` answers");
                assert_eq!(w.stage(&id), "province-review");
            }
            Some(_) => {
                assert_eq!(listed, None);
                let r = result.unwrap();
                // Three working days from Friday 20th: 23rd, 24th, 25th September.
                let until = Timestamp::end_of(Date::new(2024, 9, 25));
                assert_eq!(r.application.state.correction_until, Some(until));
                assert!(available(&w, "city-huizhou", &id).contains(&"city-recommend".to_string()));
                // After the period: refused, and listed as refused.
                w.clock.set(until.plus_secs(1));
                assert!(!available(&w, "city-huizhou", &id).contains(&"city-recommend".to_string()));
                assert_eq!(refused_as(&w, "city-huizhou", &id, "city-recommend").as_deref(), Some("window_closed"));
                assert_eq!(
                    refusal(w.act("city-huizhou", &id, "city-recommend", Some("同意")).unwrap_err()).code(),
                    "window_closed"
                );
                // Within it: accepted, and the period ends with the move.
                w.clock.set(until);
                let r = w.act("city-huizhou", &id, "city-recommend", Some("已补充")).unwrap();
                assert_eq!(r.application.state.correction_until, None);
            }
        }
        // Listing wrote nothing.
        assert!(w.kernel.verify_chain().unwrap().first_broken.is_none());
    }
}

/// Issue 16 (review): a correction period carries up the path with its end. The city
/// returns an application to the district after the district's deadline; the district
/// sends it on within its correction period after the city's deadline has passed too:
/// the city may act until the same end — acting again never extends it.
#[test]
fn a_correction_period_carries_up_to_the_stage_that_returned() {
    let w = world_with(shenbao::RoundSpec { correction_working_days: Some(3), ..spec() });
    let id = w.submitted(1);
    w.act("district-huicheng", &id, "district-recommend", Some("同意")).unwrap();
    // Friday 13 September: the district's deadline (5th) has passed, the city's (15th) not.
    w.clock.set(t(2024, 9, 13, 10));
    let r = w.act("city-huizhou", &id, "city-return", Some("请区里补充")).unwrap();
    let until = r.application.state.correction_until.expect("a correction period at the district");
    assert_eq!(until, Timestamp::end_of(Date::new(2024, 9, 18)));
    // Tuesday 17th: the district recommends; the city's deadline has passed meanwhile.
    w.clock.set(t(2024, 9, 17, 10));
    assert!(available(&w, "district-huicheng", &id).contains(&"district-recommend".to_string()));
    let r = w.act("district-huicheng", &id, "district-recommend", Some("已补充")).unwrap();
    assert_eq!(r.application.state.stage, "city-review");
    assert_eq!(r.application.state.correction_until, Some(until), "the same end");
    assert!(available(&w, "city-huizhou", &id).contains(&"city-recommend".to_string()));
    // The district cannot withdraw to renew the period (nor after its deadline at all).
    assert_eq!(refused_as(&w, "district-huicheng", &id, "district-withdraw").as_deref(), Some("return_window_closed"));
    // Returning it again within the period keeps the end.
    let r = w.act("city-huizhou", &id, "city-return", Some("再补充")).unwrap();
    assert_eq!(
        (r.application.state.stage.as_str(), r.application.state.correction_until),
        ("district-review", Some(until))
    );
    w.act("district-huicheng", &id, "district-recommend", Some("已补充")).unwrap();
    w.act("city-huizhou", &id, "city-recommend", Some("同意")).unwrap();
    assert_eq!(w.stage(&id), "province-review");
    assert_eq!(w.kernel.application(&id).unwrap().state.correction_until, None, "the province's window is open");
}

/// Review of issue 16: a return goes down the path, never back up to the stage that
/// returned it — after a province return the city's return goes to the district, and
/// the district's to the applicant.
#[test]
fn a_return_goes_down_the_path_after_an_earlier_return() {
    let w = world();
    let id = w.submitted(1);
    w.act("district-huicheng", &id, "district-recommend", Some("同意")).unwrap();
    w.act("city-huizhou", &id, "city-recommend", Some("同意")).unwrap();
    w.act("province", &id, "province-return", Some("请市里复核")).unwrap();
    assert_eq!(w.stage(&id), "city-review");
    w.act("city-huizhou", &id, "city-return", Some("退回区县")).unwrap();
    assert_eq!(w.stage(&id), "district-review", "not back up to the province");
    w.act("district-huicheng", &id, "district-return", Some("请补正")).unwrap();
    assert_eq!(w.stage(&id), "draft");
    // Up again, each level in turn.
    w.kernel.save_draft("applicant-1", ROUND, Some(&id), w.draft(valid_data())).unwrap();
    w.act("applicant-1", &id, "submit", None).unwrap();
    assert_eq!(w.stage(&id), "district-review");
}

#[test]
fn routes_and_switches_choose_the_path() {
    let w = world();
    // Shenzhen did not switch district review on: straight to the city.
    let sz = w.submitted(7);
    assert_eq!(w.stage(&sz), "city-review");
    // Out of province: straight to the province (第十六条).
    let out = w.submitted(8);
    assert_eq!(w.stage(&out), "province-review");
    let why = &w.kernel.decisions_of(&out).unwrap()[1].explain;
    assert!(why.iter().any(|e| e.contains("route direct-to-province skips city-review")), "{why:?}");
    let why = &w.kernel.decisions_of(&sz).unwrap()[1].explain;
    assert!(why.iter().any(|e| e.contains("optional stage district-review is off for shenzhen")), "{why:?}");
}

fn city_quota(limit: u32) -> Quota {
    Quota {
        id: "city-recommend".into(),
        title: Text::new("地市推荐名额", "city recommendation quota"),
        action: "city-recommend".into(),
        stage: Some("city-review".into()),
        group_by: QuotaGroup::City,
        default_limit: Some(5),
        limits: vec![QuotaLimit { scope: "huizhou".into(), limit }],
        channels: vec!["region".into()],
        message: Text::new("{scope} 已推荐 {used}/{limit}", "{scope} has recommended {used}/{limit}"),
    }
}

#[test]
fn quotas_hold_through_batches_and_withdrawals() {
    let mut s = spec();
    s.quotas = Some(vec![city_quota(2)]);
    s.cities.get_mut("huizhou").unwrap().district_review = false;
    s.cities.get_mut("huizhou").unwrap().district_deadline = None;
    let w = world_with(s);
    let ids: Vec<String> = (1..=3).map(|n| w.submitted(n)).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let decisions = w.decisions();

    // All three in one batch: the third breaks the quota, so none is recommended.
    let err = w
        .kernel
        .act_batch("city-huizhou", &refs, &ActionRequest::with_opinion("city-recommend", "同意推荐"))
        .unwrap_err();
    assert_eq!(err.position, 2);
    match &err.error {
        ActError::Refused(Refusal::QuotaExceeded { quota, scope, used, limit, message }) => {
            assert_eq!((quota.as_str(), scope.as_str(), *used, *limit), ("city-recommend", "huizhou", 2, 2));
            assert_eq!(message, "惠州市 已推荐 2/2");
        }
        other => panic!("{other}"),
    }
    assert_eq!(w.decisions(), decisions);
    assert!(ids.iter().all(|id| w.stage(id) == "city-review"));
    assert!(w.kernel.quota_usage(ROUND).unwrap().is_empty());

    // Two in a batch: both, with one batch id.
    let r = w
        .kernel
        .act_batch("city-huizhou", &refs[..2], &ActionRequest::with_opinion("city-recommend", "同意推荐"))
        .unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].decision.batch, r[1].decision.batch);
    assert_eq!(w.kernel.quota_usage(ROUND).unwrap(), vec![("city-recommend".into(), "huizhou".into(), 2)]);
    assert_eq!(
        refusal(w.act("city-huizhou", &ids[2], "city-recommend", Some("同意")).unwrap_err()).code(),
        "quota_exceeded"
    );

    // A withdrawal gives the unit back.
    w.act("city-huizhou", &ids[0], "city-withdraw", None).unwrap();
    assert_eq!(w.kernel.quota_usage(ROUND).unwrap(), vec![("city-recommend".into(), "huizhou".into(), 1)]);
    w.act("city-huizhou", &ids[2], "city-recommend", Some("同意")).unwrap();
    // So does a return from the province, back to the city.
    w.act("province", &ids[1], "province-return", Some("复核")).unwrap();
    assert_eq!(w.kernel.quota_usage(ROUND).unwrap(), vec![("city-recommend".into(), "huizhou".into(), 1)]);
    assert!(w.kernel.verify_chain().unwrap().first_broken.is_none());
}

#[test]
fn many_threads_against_one_quota_never_exceed_it_and_one_wins_each_step() {
    let mut s = spec();
    s.quotas = Some(vec![city_quota(3)]);
    s.cities.get_mut("huizhou").unwrap().district_review = false;
    s.cities.get_mut("huizhou").unwrap().district_deadline = None;
    let w = world_with(s);
    let ids: Vec<String> = (1..=6).map(|n| w.submitted(n)).collect();
    let ok = std::sync::atomic::AtomicU32::new(0);
    std::thread::scope(|sc| {
        for id in &ids {
            let (w, ok) = (&w, &ok);
            sc.spawn(move || {
                if w.act("city-huizhou", id, "city-recommend", Some("同意")).is_ok() {
                    ok.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
    });
    assert_eq!(ok.into_inner(), 3);
    assert_eq!(w.kernel.quota_usage(ROUND).unwrap(), vec![("city-recommend".into(), "huizhou".into(), 3)]);

    // Eight threads on one application at city review: exactly one recommend wins.
    let target = ids.iter().find(|id| w.stage(id) == "city-review").unwrap().clone();
    w.kernel.upsert_user(&user("city-huizhou-2", &[("city-officer", Scope::City("huizhou".into()))])).unwrap();
    w.act("city-huizhou", ids.iter().find(|id| w.stage(id) == "province-review").unwrap(), "city-withdraw", None)
        .unwrap();
    let wins = std::sync::atomic::AtomicU32::new(0);
    std::thread::scope(|sc| {
        for i in 0..8 {
            let (w, wins, target) = (&w, &wins, &target);
            sc.spawn(move || {
                let who = if i % 2 == 0 { "city-huizhou" } else { "city-huizhou-2" };
                let req = ActionRequest {
                    action: "city-recommend".into(),
                    opinion: Some("同意".into()),
                    if_stage: Some("city-review".into()),
                    ..Default::default()
                };
                if w.kernel.act(who, target, &req).is_ok() {
                    wins.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
    });
    assert_eq!(wins.into_inner(), 1);
    assert_eq!(w.stage(&target), "province-review");
    assert!(w.kernel.verify_chain().unwrap().first_broken.is_none());
}

/// Group commit: many threads' decisions share durable commits; each sees what its
/// batch-mates left; a batch refused halfway rolls back without touching the others;
/// one idempotency key raced by eight threads makes one decision.
#[test]
fn concurrent_decisions_share_commits_and_a_spoiled_batch_spoils_nothing_else() {
    let mut s = spec();
    s.quotas = Some(Vec::new());
    s.cities.get_mut("huizhou").unwrap().district_review = false;
    s.cities.get_mut("huizhou").unwrap().district_deadline = None;
    let w = world_with(s);
    let ids: Vec<String> = (0..50).map(|i| w.submitted(1 + i % 6)).collect();
    // A draft never submitted: a batch that reaches it is refused after writing two items.
    let draft = w.kernel.save_draft("applicant-1", ROUND, None, w.draft(valid_data())).unwrap().application.id;
    let (before, decisions) = (w.kernel.commit_stats(), w.decisions());

    const THREADS: usize = 24;
    const SPOILED: usize = 5;
    std::thread::scope(|sc| {
        for pair in ids[..2 * THREADS].chunks(2) {
            let w = &w;
            sc.spawn(move || {
                for id in pair {
                    w.act("city-huizhou", id, "city-recommend", Some("同意")).unwrap();
                    w.act("province", id, "province-return", Some("复核")).unwrap();
                    w.act("city-huizhou", id, "city-recommend", Some("同意")).unwrap();
                }
            });
        }
        let (w, ids, draft) = (&w, &ids, &draft);
        sc.spawn(move || {
            let batch = [ids[48].as_str(), ids[49].as_str(), draft.as_str()];
            for _ in 0..SPOILED {
                let err = w
                    .kernel
                    .act_batch("city-huizhou", &batch, &ActionRequest::with_opinion("city-recommend", "同意推荐"))
                    .unwrap_err();
                assert_eq!((err.position, err.application.as_str()), (2, draft.as_str()), "{err}");
            }
        });
    });
    let after = w.kernel.commit_stats();
    let made = (THREADS * 6) as u64;
    assert_eq!(w.decisions(), decisions + made);
    assert_eq!(after.changes - before.changes, made, "every acknowledged decision went through a group commit");
    assert!(after.commits - before.commits < made, "no decisions shared a commit: {before:?} → {after:?}");
    assert_eq!(after.abandoned - before.abandoned, SPOILED as u64);
    for id in &ids[..2 * THREADS] {
        assert_eq!(w.stage(id), "province-review");
    }
    for id in &ids[48..] {
        assert_eq!(w.stage(id), "city-review");
        assert_eq!(w.kernel.decisions_of(id).unwrap().len(), 2, "{id}: saved and submitted only");
    }
    assert_eq!(w.kernel.verify_chain().unwrap().first_broken, None);
    assert_eq!(w.kernel.verify_indexes().unwrap(), Vec::<String>::new());

    // Eight threads, one key: one decision, eight identical receipts.
    let target = &ids[48];
    let req = ActionRequest::with_opinion("city-recommend", "同意");
    let receipts: Vec<shenbao::Receipt> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..8)
            .map(|_| sc.spawn(|| w.kernel.act_idempotent("city-huizhou", target, &req, "key-48").unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(w.decisions(), decisions + made + 1);
    assert!(receipts.iter().all(|r| r.decision == receipts[0].decision));
    assert_eq!(receipts.iter().filter(|r| !r.replayed).count(), 1);
    assert_eq!(w.stage(target), "province-review");
}

/// A keyed batch is held to its key even when it names no application: the key's
/// record is committed (a transaction whose changes wrote only that record used to be
/// dropped as "nothing written"), so the key cannot later carry a different batch.
#[test]
fn a_keyed_empty_batch_keeps_its_key() {
    let w = world();
    let id = w.submitted(1);
    let req = ActionRequest::with_opinion("district-recommend", "同意");
    let none: [&str; 0] = [];
    assert!(w.kernel.act_batch_idempotent("district-huicheng", &none, &req, "empty-1").unwrap().is_empty());
    // The same request again replays (nothing new).
    assert!(w.kernel.act_batch_idempotent("district-huicheng", &none, &req, "empty-1").unwrap().is_empty());
    let decisions = w.decisions();
    let err = w.kernel.act_batch_idempotent("district-huicheng", &[id.as_str()], &req, "empty-1").unwrap_err();
    assert_eq!(err.error.code(), "idempotency_key_reused", "{err}");
    assert_eq!(w.decisions(), decisions, "the reused key made no decision");
}

/// Issue 16 (time): a due date that crosses New Year counts each day in its own
/// year's calendar, and one that reaches a year with no calendar says so; a calendar
/// that cannot be meant is refused naming the date.
#[test]
fn due_dates_cross_new_year_with_each_year_s_calendar() {
    let mut s = spec();
    s.city_deadline = None;
    s.province_deadline = None;
    s.cities.get_mut("huizhou").unwrap().district_deadline = None;
    let w = world_with(s);
    let cal = |_year: i32, holidays: &[Date]| shenbao::Calendar {
        holidays: holidays.iter().copied().collect(),
        ..Default::default()
    };
    w.kernel.set_calendar(2024, &cal(2024, &[Date::new(2024, 10, 1)])).unwrap();
    let a = w.submitted(1);
    let b = w.submitted(2);
    // Friday 27 December 2024: no 2025 calendar yet — weekends only, and flagged.
    w.clock.set(t(2024, 12, 27, 10));
    let r = w.act("district-huicheng", &a, "district-recommend", Some("同意")).unwrap();
    assert_eq!(w.kernel.application(&a).unwrap().state.due, Some(Date::new(2025, 1, 10)));
    assert!(r.decision.explain.iter().any(|e| e.contains("no calendar is set for 2025")), "{:?}", r.decision.explain);
    // With 2025's New Year's Day off: 13 January.
    w.kernel.set_calendar(2025, &cal(2025, &[Date::new(2025, 1, 1)])).unwrap();
    let r = w.act("district-huicheng", &b, "district-recommend", Some("同意")).unwrap();
    assert_eq!(w.kernel.application(&b).unwrap().state.due, Some(Date::new(2025, 1, 13)));
    assert!(!r.decision.explain.iter().any(|e| e.contains("no calendar")));

    // What cannot be meant: refused, naming the date, nothing written.
    let bad = shenbao::Calendar {
        holidays: [Date::new(2025, 1, 1), Date::new(2024, 10, 5)].into_iter().collect(),
        makeup_workdays: [Date::new(2024, 10, 9)].into_iter().collect(),
        ..Default::default()
    };
    let e = w.kernel.set_calendar(2024, &bad).unwrap_err().to_string();
    for needle in ["2025-01-01 不在 2024 年", "2024-10-05 是周六", "2024-10-09 是周三"] {
        assert!(e.contains(needle), "{needle}: {e}");
    }
    assert_eq!(w.kernel.calendar(2024).unwrap().holidays.len(), 1, "nothing written");
}

/// Issue 16 (time): a date alone as an end or a deadline means the end of that day.
#[test]
fn a_date_alone_ends_at_the_end_of_that_day() {
    let mut v = serde_json::to_value(spec()).unwrap();
    v["province"]["end"] = json!("2024-08-31");
    v["city_deadline"] = json!("2024-09-15");
    v["province_deadline"] = json!("2024-10-31 12:00");
    let s: shenbao::RoundSpec = serde_json::from_value(v).unwrap();
    assert_eq!(s.province.end, Timestamp::at(Date::new(2024, 8, 31), 23, 59).plus_secs(59));
    assert_eq!(s.city_deadline, Some(Timestamp::at(Date::new(2024, 9, 15), 23, 59).plus_secs(59)));
    assert_eq!(s.province_deadline, Some(Timestamp::at(Date::new(2024, 10, 31), 12, 0)), "a time is kept");
    // An applicant submits on the last day, in the evening.
    let w = world_with(s);
    w.clock.set(t(2024, 8, 31, 21));
    w.submitted(1);
}

#[test]
fn working_days_follow_the_calendar_and_overdue_applications_are_listed() {
    let w = world();
    // 2024 Mid-Autumn: 15–17 September off (16 and 17 are weekdays), Saturday 14 September worked.
    let cal = shenbao::Calendar {
        holidays: [Date::new(2024, 9, 16), Date::new(2024, 9, 17)].into_iter().collect(),
        makeup_workdays: [Date::new(2024, 9, 14)].into_iter().collect(),
        ..Default::default()
    };
    w.kernel.set_calendar(2024, &cal).unwrap();
    let id = w.submitted(1);
    // The district recommends on Wednesday 4 September: the city's 10 working days are
    // 5, 6, 9, 10, 11, 12, 13, 14 (Saturday, 调休), 18, 19.
    w.clock.set(t(2024, 9, 4, 10));
    w.act("district-huicheng", &id, "district-recommend", Some("同意")).unwrap();
    assert_eq!(w.kernel.application(&id).unwrap().state.due, Some(Date::new(2024, 9, 19)));
    assert_eq!(shenbao::Calendar::default().add_working_days(Date::new(2024, 9, 4), 10), Date::new(2024, 9, 18));
    w.clock.set(t(2024, 9, 19, 18));
    assert!(w.kernel.overdue(ROUND).unwrap().is_empty());
    w.clock.set(t(2024, 9, 20, 9));
    let overdue: Vec<String> = w.kernel.overdue(ROUND).unwrap().into_iter().map(|a| a.id).collect();
    assert_eq!(overdue, vec![id]);
}

#[test]
fn inconsistent_round_configuration_is_refused_with_findings() {
    let w = world();
    let mut s = spec();
    s.id = "bad".into();
    s.cities.get_mut("huizhou").unwrap().applicants =
        Some(shenbao::Window { start: t(2024, 7, 20, 0), end: t(2024, 8, 20, 0) });
    s.cities.get_mut("huizhou").unwrap().district_deadline = Some(t(2024, 9, 30, 0));
    let mut g = w.kernel.plugin_record(PROGRAM, "0.1.0").unwrap().manifest.graph;
    g.stages.push(shenbao::contract::Stage { id: "orphan".into(), ..g.stages[1].clone() });
    g.actions.push(shenbao::contract::Action {
        id: "nowhere".into(),
        to: shenbao::contract::Target::Stage("void".into()),
        ..g.actions[1].clone()
    });
    s.graph = Some(g);
    s.quotas = Some(vec![Quota { action: "no-such".into(), ..city_quota(1) }]);
    let err = w.kernel.create_round(s).unwrap_err();
    let RoundError::Invalid { findings } = &err else { panic!("{err}") };
    let rules: Vec<&str> = findings.iter().map(|f| f.rule_id.as_str()).collect();
    for r in [
        "round.window.city-outside-province",
        "round.window.district-outside-city",
        "graph.unreachable-stage",
        "graph.action-leads-nowhere",
        "round.quota-unknown-action",
    ] {
        assert!(rules.contains(&r), "{r} missing from {rules:?}");
    }
    assert!(matches!(w.kernel.round("bad"), Err(RoundError::NotFound(_))));
    // An open round's rules are frozen.
    assert!(matches!(w.kernel.configure_round(spec()), Err(RoundError::Frozen { .. })));
}

/// Times people give in a round are Beijing times from 1900 to 9999: a number of
/// seconds far out is refused at the field (it is a typing error, and dates computed
/// from it overflow); text out of range does not parse.
#[test]
fn a_round_time_out_of_range_is_refused_at_its_field() {
    let w = world();
    let mut s = spec();
    s.id = "far".into();
    s.province_deadline = Some(Timestamp(253_404_892_800));
    s.cities.get_mut("huizhou").unwrap().applicants =
        Some(shenbao::Window { start: Timestamp(i64::MIN), end: t(2024, 8, 20, 0) });
    let err = w.kernel.create_round(s).unwrap_err();
    let RoundError::Invalid { findings } = &err else { panic!("{err}") };
    let out: Vec<(&str, &str)> = findings
        .iter()
        .filter(|f| f.rule_id == "round.time-out-of-range")
        .map(|f| (f.path.as_str(), f.message.zh.as_str()))
        .collect();
    assert_eq!(out.len(), 2, "{findings:?}");
    assert_eq!(out[0].0, "$.province_deadline");
    assert!(out[0].1.contains("1900-01-01 至 9999-12-31"), "{}", out[0].1);
    assert_eq!(out[1].0, "$.cities.huizhou.applicants.start");
    assert!(matches!(w.kernel.round("far"), Err(RoundError::NotFound(_))));
    let text: Result<RoundSpecTimes, _> = serde_json::from_str(r#"{"at": "1899-12-31"}"#);
    assert!(text.unwrap_err().to_string().contains("1900-01-01 to 9999-12-31"));
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct RoundSpecTimes {
    at: Timestamp,
}

#[test]
fn bad_reference_data_is_refused() {
    let w = world();
    let mut o = org(99, Some("huizhou"), Some("huizhou.huicheng"), "region");
    o.credit_code = "91441302MA00009901".into();
    assert!(matches!(w.kernel.upsert_org(&o), Err(shenbao::AdminError::CreditCode { .. })));
    let o = org(99, Some("atlantis"), None, "region");
    assert!(matches!(w.kernel.upsert_org(&o), Err(shenbao::AdminError::UnknownRegion { .. })));
    let o = org(99, Some("huizhou"), Some("shenzhen.nanshan"), "region");
    assert!(matches!(w.kernel.upsert_org(&o), Err(shenbao::AdminError::DistrictOutsideCity { .. })));
    let o = org(99, Some("huizhou"), Some("huizhou.atlantis"), "region");
    assert!(matches!(w.kernel.upsert_org(&o), Err(shenbao::AdminError::UnknownRegion { .. })));
    // A channel is an id (a round may declare one beyond the platform's four).
    let o = org(99, Some("huizhou"), None, "Moon Base");
    assert!(matches!(w.kernel.upsert_org(&o), Err(shenbao::AdminError::UnknownChannel(_))));
    // An organisation without its district cannot apply (必须选择企业所属市、所属行政区).
    w.kernel.upsert_org(&org(98, Some("huizhou"), None, "region")).unwrap();
    w.kernel.upsert_user(&user("applicant-98", &[("applicant", Scope::Organisation(code(98)))])).unwrap();
    let err = w.kernel.save_draft("applicant-98", ROUND, None, draft_with(valid_data(), Vec::new())).unwrap_err();
    assert_eq!(err.code(), "profile_incomplete");
    assert_eq!(w.decisions(), 0);
}

#[test]
fn a_tampered_decision_is_found_by_index() {
    let w = world();
    let id = w.submitted(1);
    w.act("district-huicheng", &id, "district-recommend", Some("同意")).unwrap();
    w.act("city-huizhou", &id, "city-recommend", Some("同意")).unwrap();
    let path = w.dir.path().join("shenbao.redb");
    let World { kernel, dir, .. } = w;
    drop(kernel);
    {
        use redb::ReadableTable;
        let db = redb::Database::open(&path).unwrap();
        let table: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("decisions");
        let tx = db.begin_write().unwrap();
        {
            let mut t = tx.open_table(table).unwrap();
            let mut d: serde_json::Value = serde_json::from_slice(t.get(2).unwrap().unwrap().value()).unwrap();
            d["opinion"] = json!("改写过的意见");
            t.insert(2, serde_json::to_vec(&d).unwrap().as_slice()).unwrap();
        }
        tx.commit().unwrap();
    }
    let k = shenbao::Kernel::open_with(
        &path,
        shenbao::KernelConfig {
            host: shenbao::HostConfig { cache_dir: Some(dir.path().join("cache")), ..Default::default() },
            ..Default::default()
        },
    )
    .unwrap();
    let report = k.verify_chain().unwrap();
    assert_eq!(report.first_broken, Some(2));
    assert_eq!(report.length, 4);
    let _ = Timestamp(0);
}

#[test]
fn each_reviewer_sees_its_own_queue_page_by_page() {
    let w = world();
    let hz: Vec<String> = (1..=5).map(|n| w.submitted(n)).collect();
    let sz = w.submitted(7);
    let out = w.submitted(8);
    let ids = |items: Vec<shenbao::QueueItem>| items.into_iter().map(|i| i.application).collect::<Vec<_>>();
    // The Huicheng district sees its five; Huiyang nothing; the Huizhou city nothing yet.
    assert_eq!(ids(w.kernel.queue("district-huicheng", ROUND, None, 100).unwrap()), hz);
    assert!(w.kernel.queue("district-huiyang", ROUND, None, 100).unwrap().is_empty());
    assert!(w.kernel.queue("city-huizhou", ROUND, None, 100).unwrap().is_empty());
    assert_eq!(ids(w.kernel.queue("city-shenzhen", ROUND, None, 100).unwrap()), vec![sz.clone()]);
    assert_eq!(ids(w.kernel.queue("province", ROUND, None, 100).unwrap()), vec![out.clone()]);
    // Pages of two.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = w.kernel.queue("district-huicheng", ROUND, after.as_ref(), 2).unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        after = page.last().cloned();
        seen.extend(ids(page));
    }
    assert_eq!(seen, hz);
    // After a recommendation it moves to the city's queue.
    w.act("district-huicheng", &hz[0], "district-recommend", Some("同意")).unwrap();
    assert_eq!(ids(w.kernel.queue("city-huizhou", ROUND, None, 100).unwrap()), vec![hz[0].clone()]);
    assert_eq!(w.kernel.queue("district-huicheng", ROUND, None, 100).unwrap().len(), 4);
    // A city leader (地市科室领导) acts at the city review as the city officer does (the
    // graph's city actions name both roles): it sees the same queue, and after it
    // recommends, the application is in its "recommended" list. The district
    // officer, who may still withdraw from the city review, does not see it pending.
    w.kernel.upsert_user(&user("leader-huizhou", &[("city-leader", Scope::City("huizhou".into()))])).unwrap();
    w.kernel.upsert_user(&user("leader-shenzhen", &[("city-leader", Scope::City("shenzhen".into()))])).unwrap();
    assert_eq!(ids(w.kernel.queue("leader-huizhou", ROUND, None, 100).unwrap()), vec![hz[0].clone()]);
    assert_eq!(ids(w.kernel.queue("leader-shenzhen", ROUND, None, 100).unwrap()), vec![sz.clone()]);
    assert!(!ids(w.kernel.queue("district-huicheng", ROUND, None, 100).unwrap()).contains(&hz[0]));
    w.act("leader-huizhou", &hz[0], "city-recommend", Some("同意")).unwrap();
    assert!(w.kernel.queue("leader-huizhou", ROUND, None, 100).unwrap().is_empty());
    let recommended = shenbao::QueueQuery { view: shenbao::QueueView::Recommended, limit: 100, ..Default::default() };
    assert_eq!(ids(w.kernel.queue_page("leader-huizhou", ROUND, &recommended).unwrap()), vec![hz[0].clone()]);
    assert_eq!(ids(w.kernel.queue_page("city-huizhou", ROUND, &recommended).unwrap()), vec![hz[0].clone()]);
    // A handled list pages like the pending one: the district's recommended, two at a
    // time, is all it recommended, each once, in order; Huiyang's is empty.
    for id in &hz[1..] {
        w.act("district-huicheng", id, "district-recommend", Some("同意")).unwrap();
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let q = shenbao::QueueQuery { view: shenbao::QueueView::Recommended, after, limit: 2, ..Default::default() };
        let page = w.kernel.queue_page("district-huicheng", ROUND, &q).unwrap();
        assert!(page.len() <= 2);
        if page.is_empty() {
            break;
        }
        after = page.last().cloned();
        seen.extend(ids(page));
    }
    assert_eq!(seen, hz, "every one recommended, once, in order");
    let q = shenbao::QueueQuery { view: shenbao::QueueView::Recommended, limit: 100, ..Default::default() };
    assert!(w.kernel.queue_page("district-huiyang", ROUND, &q).unwrap().is_empty());
    // Applicants and experts have no review queue.
    assert!(w.kernel.queue("applicant-1", ROUND, None, 100).unwrap().is_empty());
}

/// Applications moved every way a reviewer's handled lists can see (recommended,
/// returned, not recommended, withdrawn, returned from above, resubmitted, handled
/// twice), by name.
fn handled_scenario(w: &World) -> std::collections::BTreeMap<&'static str, String> {
    let mut ids = std::collections::BTreeMap::new();
    for (name, n) in [("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5), ("f", 6), ("g", 1), ("h", 2), ("s", 7)] {
        ids.insert(name, w.submitted(n));
    }
    let go = |user: &str, name: &str, action: &str| {
        w.act(user, &ids[name], action, Some("意见")).unwrap_or_else(|e| panic!("{name} {action}: {e}"));
    };
    for name in ["a", "b", "e", "f", "h"] {
        go("district-huicheng", name, "district-recommend");
    }
    go("city-huizhou", "a", "city-recommend");
    go("province", "a", "province-return"); // back at the city's review
    go("city-huizhou", "b", "city-return"); // back at the district's review …
    go("district-huicheng", "b", "district-recommend"); // … and recommended again
    go("district-huicheng", "c", "district-return");
    w.kernel.act("applicant-3", &ids["c"], &ActionRequest::new("submit")).unwrap(); // resubmitted
    go("district-huicheng", "d", "district-not-recommend");
    go("district-huicheng", "e", "district-withdraw"); // waits at the district again
    go("city-huizhou", "f", "city-not-recommend");
    go("district-huicheng", "g", "district-return");
    go("city-huizhou", "h", "city-recommend");
    go("city-shenzhen", "s", "city-recommend");
    ids
}

/// Issue 19 (the handled lists' index, schema version 5): each reviewer's handled
/// lists — 已推荐 / 退回待提交 / 不受理 — hold exactly the applications the list's
/// rule puts there (`access::handled_view`), within the reviewer's reach, whether
/// read whole, a page of one or two at a time, or one current stage only; the
/// index agrees with the applications (`verify_indexes`) and a missing entry is
/// reported.
#[test]
fn handled_lists_are_read_from_their_index() {
    use shenbao::QueueView::{NotRecommended, Recommended, Returned};
    let w = world();
    w.kernel.upsert_user(&user("leader-huizhou", &[("city-leader", Scope::City("huizhou".into()))])).unwrap();
    let ids = handled_scenario(&w);
    let list = |user: &str, view: shenbao::QueueView, stage: Option<&str>, limit: usize| {
        let mut names = Vec::new();
        let mut after = None;
        loop {
            let q = shenbao::QueueQuery { view, after, limit, stage: stage.map(Into::into), ..Default::default() };
            let page = w.kernel.queue_page(user, ROUND, &q).unwrap();
            assert!(page.len() <= limit);
            let Some(last) = page.last().cloned() else { break };
            for item in page {
                let (name, _) = ids.iter().find(|(_, id)| **id == item.application).unwrap();
                assert_eq!(item.stage, w.stage(&item.application), "{name}: the row's stage is its current one");
                names.push(*name);
            }
            after = Some(last);
        }
        names
    };
    // (user, list, only this current stage, expected in (city, district, application) order)
    let cases: &[(&str, shenbao::QueueView, Option<&str>, &[&str])] = &[
        ("district-huicheng", Recommended, None, &["a", "b", "f", "h"]),
        ("district-huicheng", Recommended, Some("city-review"), &["a", "b"]),
        ("district-huicheng", Recommended, Some("not-passed"), &["f"]),
        ("district-huicheng", Returned, None, &["g"]),
        ("district-huicheng", NotRecommended, None, &["d"]),
        ("district-huiyang", Recommended, None, &[]),
        ("district-huiyang", Returned, None, &[]),
        ("city-huizhou", Recommended, None, &["h"]),
        ("city-huizhou", Returned, None, &[]),
        ("city-huizhou", NotRecommended, None, &["f"]),
        ("leader-huizhou", Recommended, None, &["h"]),
        ("leader-huizhou", NotRecommended, None, &["f"]),
        ("city-shenzhen", Recommended, None, &["s"]),
        ("city-shenzhen", NotRecommended, None, &[]),
        ("province", Recommended, None, &[]),
        ("province", Returned, None, &[]),
        ("applicant-1", Recommended, None, &[]),
    ];
    for (user, view, stage, expected) in cases {
        let mut expected: Vec<&str> = expected.to_vec();
        expected.sort_by_key(|n| &ids[n]);
        for limit in [1, 2, 100] {
            assert_eq!(list(user, *view, *stage, limit), expected, "{user} {view:?} {stage:?}, pages of {limit}");
        }
    }
    assert!(w.kernel.verify_indexes().unwrap().is_empty(), "{:?}", w.kernel.verify_indexes());
    // An entry gone from the index is a problem verify_indexes names.
    let path = w.dir.path().join("shenbao.redb");
    let World { kernel, dir, clock } = w;
    drop(kernel);
    {
        use redb::ReadableTable;
        let db = redb::Database::open(&path).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut t = tx.open_table(redb::TableDefinition::<(T, T, T, T, T, T), ()>::new("handled")).unwrap();
            let key: Vec<String> = {
                let first = t.iter().unwrap().find(|r| r.as_ref().unwrap().0.value().2 == "not-recommended").unwrap();
                let guard = first.unwrap().0;
                let k = guard.value();
                [k.0, k.1, k.2, k.3, k.4, k.5].map(str::to_string).to_vec()
            };
            t.remove((&*key[0], &*key[1], &*key[2], &*key[3], &*key[4], &*key[5])).unwrap();
        }
        tx.commit().unwrap();
    }
    let k = reopen(&path, dir.path(), &clock).unwrap();
    let problems = k.verify_indexes().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("not-recommended list") && problems[0].contains("not in the handled index"),
        "{problems:?}"
    );
}

/// An organisation's region (city, district) and channel decide who reviews its
/// applications. While one of them is under review the region may not change —
/// the reviews, the quota units held and a withdrawal belong to the region that
/// recommended it — and the refusal names the application; once none is, the
/// organisation moves and its applications' list entries go with it: no ghost row
/// in the old region's lists (before schema version 5 there was one, on which
/// acting answered 404), each application listed once in the new region's, and
/// `verify_indexes`, the round's export and its import agree.
#[test]
fn an_organisation_that_moves_takes_its_applications_with_it() {
    use shenbao::QueueView::{NotRecommended, Pending, Recommended, Returned};
    let w = world();
    let ids = handled_scenario(&w);
    w.kernel
        .upsert_user(&user("district-nanshan", &[("district-officer", Scope::District("shenzhen.nanshan".into()))]))
        .unwrap();
    let list = |user: &str, view: shenbao::QueueView| -> Vec<String> {
        let q = shenbao::QueueQuery { view, limit: 100, ..Default::default() };
        w.kernel.queue_page(user, ROUND, &q).unwrap().into_iter().map(|i| i.application).collect()
    };
    let once = |user: &str, view: shenbao::QueueView, name: &str| {
        let l = list(user, view);
        assert_eq!(l.iter().filter(|id| **id == ids[name]).count(), 1, "{user} {view:?} lists {name} once: {l:?}");
    };
    let lists_before: Vec<Vec<String>> = ["city-huizhou", "district-huicheng"]
        .iter()
        .flat_map(|u| [Pending, Recommended, Returned, NotRecommended].map(|v| list(u, v)))
        .collect();
    // Applicant 1 has "a" under review at Huizhou's city review and "g" back with it.
    assert!(list("city-huizhou", Pending).contains(&ids["a"]));
    let mut moved = org(1, Some("shenzhen"), Some("shenzhen.nanshan"), "region");
    moved.name = "搬迁后的单位".into();
    let city_review =
        w.kernel.round(ROUND).unwrap().graph.stages.iter().find(|s| s.id == "city-review").unwrap().title.clone();
    let mut tagged = org(1, Some("huizhou"), Some("huizhou.huicheng"), "region");
    tagged.tags = vec!["innovation-platform".into()];
    for (what, target) in [
        ("city and district", moved.clone()),
        ("district", org(1, Some("huizhou"), Some("huizhou.huiyang"), "region")),
        ("channel", org(1, Some("huizhou"), Some("huizhou.huicheng"), "central-enterprise")),
        // A tag routes too (innovation platforms skip every review).
        ("tags", tagged),
    ] {
        let err = w.kernel.upsert_orgs(&[org(9, Some("huizhou"), None, "region"), target]).unwrap_err();
        match &err {
            shenbao::AdminError::RegionChangeUnderReview { org, application, stage, stage_zh, .. } => {
                assert_eq!((org, application), (&code(1), &ids["a"]), "{what}");
                assert_eq!((stage, stage_zh), (&city_review.en, &city_review.zh), "{what}");
            }
            other => panic!("{what}: {other:?}"),
        }
        let message = err.to_string();
        assert!(
            message.contains("正在“") && message.contains(&ids["a"]) && message.contains("under review"),
            "{message}"
        );
    }
    // From a sheet, every such row is named with the column that changes, as a
    // conflict (409 / exit 7), not as bad input.
    let csv = format!(
        "统一社会信用代码,单位名称,所属市,所属区县,渠道\n{},新单位,huizhou,,region\n{},搬迁,shenzhen,,region\n{},换区,huizhou,huizhou.huiyang,region\n",
        code(9),
        code(1),
        code(2)
    );
    let sheet = shenbao::io::read_sheet_bytes("orgs.csv", csv.as_bytes()).unwrap();
    let err = w.kernel.import_orgs_sheet(&sheet).unwrap_err();
    assert_eq!((err.kind(), err.code()), (shenbao::ErrorKind::Conflict, "organisation_under_review"), "{err}");
    match &err {
        shenbao::io::ImportError::UnderReview(rows) => match &**rows {
            shenbao::io::ImportError::Rows { rows, total, .. } => {
                assert_eq!(*total, 2, "{err}");
                let named: Vec<(usize, &str)> = rows
                    .iter()
                    .map(|r| match r {
                        shenbao::io::ImportError::Row { row, column, .. } => (*row, column.as_str()),
                        other => panic!("{other}"),
                    })
                    .collect();
                assert_eq!(named, [(3, "所属市"), (4, "所属区县")], "{err}");
            }
            other => panic!("{other}"),
        },
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains(&ids["a"]) && err.to_string().contains(&ids["b"]), "{err}");
    // A sheet without the region columns renames: city, district, channel, tags and
    // the profile's other keys are kept — under review too.
    let csv = format!("统一社会信用代码,单位名称,联系人\n{},只改名称,新联系人\n", code(1));
    let sheet = shenbao::io::read_sheet_bytes("orgs.csv", csv.as_bytes()).unwrap();
    w.kernel.import_orgs_sheet(&sheet).unwrap();
    let kept = w.kernel.org(&code(1)).unwrap().unwrap();
    assert_eq!(
        (kept.name.as_str(), kept.city.as_deref(), kept.district.as_deref()),
        ("只改名称", Some("huizhou"), Some("huizhou.huicheng"))
    );
    let profile = kept.profile.to_value();
    assert_eq!(
        (profile["联系人"].as_str(), profile["phone"].as_str()),
        (Some("新联系人"), Some("0752-0000000")),
        "{profile}"
    );
    // Nothing of the refused imports was written (not even the other organisation).
    assert!(w.kernel.org(&code(9)).unwrap().is_none());
    assert_eq!(w.kernel.org(&code(1)).unwrap().unwrap().city.as_deref(), Some("huizhou"));
    let lists_after: Vec<Vec<String>> = ["city-huizhou", "district-huicheng"]
        .iter()
        .flat_map(|u| [Pending, Recommended, Returned, NotRecommended].map(|v| list(u, v)))
        .collect();
    assert_eq!(lists_after, lists_before);
    // Other fields change under review.
    let mut renamed = org(1, Some("huizhou"), Some("huizhou.huicheng"), "region");
    renamed.name = "改名后的单位".into();
    w.kernel.upsert_org(&renamed).unwrap();
    // Once "a" is decided, the organisation moves, and its lists follow.
    w.act("city-huizhou", &ids["a"], "city-not-recommend", Some("不推荐")).unwrap();
    w.kernel.upsert_org(&moved).unwrap();
    assert!(w.kernel.verify_indexes().unwrap().is_empty(), "{:?}", w.kernel.verify_indexes());
    for view in [Pending, Recommended, Returned, NotRecommended] {
        for u in ["city-huizhou", "district-huicheng"] {
            let l = list(u, view);
            assert!(!l.contains(&ids["a"]) && !l.contains(&ids["g"]), "no ghost row in {u} {view:?}: {l:?}");
        }
    }
    once("district-nanshan", Returned, "g");
    once("city-shenzhen", NotRecommended, "a");
    // A district of another city is refused as that, naming both; nothing changes.
    let err = w.kernel.upsert_org(&org(1, Some("shenzhen"), Some("huizhou.huicheng"), "region")).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("属于") && message.contains("not in the organisation's city \"shenzhen\""), "{message}");
    assert_eq!(w.kernel.org(&code(1)).unwrap().unwrap().name, "搬迁后的单位");
    // "g", resubmitted, is reviewed where its organisation is now.
    // (Shenzhen's applications skip the district review: the program's region rules.)
    w.kernel.act("applicant-1", &ids["g"], &ActionRequest::new("submit")).unwrap();
    assert_eq!(w.stage(&ids["g"]), "city-review");
    once("city-shenzhen", Pending, "g");
    assert!(!list("city-huizhou", Pending).contains(&ids["g"]));
    // A reviewer with grants in both places sees it once.
    w.kernel
        .upsert_user(&user(
            "two-places",
            &[
                ("district-officer", Scope::District("huizhou.huicheng".into())),
                ("city-officer", Scope::City("shenzhen".into())),
            ],
        ))
        .unwrap();
    once("two-places", Pending, "g");
    // Under review again, it holds its organisation where it is; decided, it does not.
    let err = w.kernel.upsert_org(&org(1, Some("huizhou"), Some("huizhou.huiyang"), "region")).unwrap_err();
    assert!(
        matches!(&err, shenbao::AdminError::RegionChangeUnderReview { application, .. } if *application == ids["g"])
    );
    w.act("city-shenzhen", &ids["g"], "city-not-recommend", Some("不推荐")).unwrap();
    w.kernel.upsert_org(&org(1, Some("huizhou"), Some("huizhou.huiyang"), "region")).unwrap();
    assert!(w.kernel.verify_indexes().unwrap().is_empty(), "{:?}", w.kernel.verify_indexes());
    assert!(!list("city-shenzhen", NotRecommended).contains(&ids["g"]));
    once("city-huizhou", NotRecommended, "g");
    // Limit 0 is an empty page, whichever list.
    for view in [Pending, Recommended] {
        let q = shenbao::QueueQuery { view, limit: 0, ..Default::default() };
        assert!(w.kernel.queue_page("city-huizhou", ROUND, &q).unwrap().is_empty(), "{view:?}");
    }
    // The round exports whole and imports into another database.
    let file = w.dir.path().join("round.json");
    w.kernel.export_round(ROUND, &mut std::fs::File::create(&file).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = shenbao::KernelConfig {
        host: shenbao::HostConfig { cache_dir: Some(shared_cache()), ..Default::default() },
        ..Default::default()
    };
    let other = shenbao::Kernel::open_with(dir.path().join("other.redb"), config).unwrap();
    other.install_plugin(&testkit::plugin_bytes("enabling-resources")).unwrap();
    other.import_regions(&shenbao::guangdong()).unwrap();
    // An organisation the target does not have is checked as an import of
    // organisations checks it: one in no known city, or on no channel, is refused.
    let text = std::fs::read_to_string(&file).unwrap();
    for (field, value, expected) in [("city", "nowhere", "nowhere"), ("channel", "BOGUS ch", "BOGUS ch")] {
        let altered: String = text
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                if v["type"] == "organisation" && v["credit_code"] == code(2) {
                    v[field] = json!(value);
                }
                format!("{v}\n")
            })
            .collect();
        let err = other.import_round(std::io::BufReader::new(altered.as_bytes())).unwrap_err().to_string();
        assert!(err.contains(&code(2)) && err.contains(expected), "{field}: {err}");
    }
    // One the target has, routed otherwise there, while its application is under
    // review: it would be reviewed by another region — refused, nothing imported,
    // until the two agree.
    let round = w.kernel.round(ROUND).unwrap();
    let live = w
        .kernel
        .applications_in(ROUND)
        .unwrap()
        .into_iter()
        .find(|a| {
            let kind = round.graph.stages.iter().find(|s| s.id == a.state.stage).unwrap().kind;
            matches!(kind, StageKind::Review | StageKind::Expert | StageKind::Notice)
        })
        .expect("an application under review");
    let theirs = w.kernel.org(&live.applicant).unwrap().unwrap();
    let elsewhere = shenbao::Organisation {
        channel: if theirs.channel == "region" { "out-of-province".into() } else { "region".into() },
        ..theirs.clone()
    };
    other.upsert_org(&elsewhere).unwrap();
    let err = other.import_round(std::io::BufReader::new(std::fs::File::open(&file).unwrap())).unwrap_err();
    assert_eq!(err.code(), "organisation_differs", "{err}");
    assert!(
        matches!(&err, shenbao::BackupError::OrganisationDiffers { org, application, .. }
            if *org == theirs.credit_code && w.kernel.application(application).unwrap().applicant == theirs.credit_code),
        "{err}"
    );
    assert!(err.to_string().contains("未导入任何内容"), "{err}");
    assert!(other.rounds().unwrap().is_empty(), "nothing imported");
    other.upsert_org(&theirs).unwrap();
    let report = other.import_round(std::io::BufReader::new(std::fs::File::open(&file).unwrap())).unwrap();
    assert_eq!(report.applications, ids.len());
    assert!(other.verify_indexes().unwrap().is_empty(), "{:?}", other.verify_indexes());
    // A district organisations are in keeps its city (they carry both); renaming it is fine.
    let mut huicheng = w.kernel.region("huizhou.huicheng").unwrap().unwrap();
    huicheng.parent = Some("shenzhen".into());
    let err = w.kernel.import_regions(std::slice::from_ref(&huicheng)).unwrap_err();
    assert!(
        matches!(&err, shenbao::AdminError::RegionInUse { id, parent, .. } if id == "huizhou.huicheng" && parent == "huizhou"),
        "{err}"
    );
    assert_eq!(err.code(), "region_in_use");
    assert_eq!(w.kernel.region("huizhou.huicheng").unwrap().unwrap().parent.as_deref(), Some("huizhou"));
    huicheng.parent = Some("huizhou".into());
    huicheng.name = "惠城区（新名）".into();
    w.kernel.import_regions(&[huicheng]).unwrap();
    // A city's group too: its quota counts the units the city's applications hold.
    let mut huizhou = w.kernel.region("huizhou").unwrap().unwrap();
    huizhou.group = Some(if huizhou.group.as_deref() == Some("east") { "prd" } else { "east" }.into());
    let err = w.kernel.import_regions(std::slice::from_ref(&huizhou)).unwrap_err();
    assert_eq!(err.code(), "region_in_use", "{err}");
    // A closed round's applications hold nobody: nothing more happens to them.
    assert!(w.kernel.upsert_org(&org(2, Some("huizhou"), Some("huizhou.huiyang"), "region")).is_err());
    w.kernel.force_close_round(ROUND).unwrap();
    w.kernel.upsert_org(&org(2, Some("huizhou"), Some("huizhou.huiyang"), "region")).unwrap();
    assert!(w.kernel.verify_indexes().unwrap().is_empty(), "{:?}", w.kernel.verify_indexes());
}

/// Before version 5 an organisation's move left its applications' queue entries
/// under its old region: the upgrade rebuilds the queue from the applications and
/// their organisations, so a version-4 file with such an entry opens repaired.
#[test]
fn an_upgrade_repairs_the_queue_of_a_moved_organisation() {
    let w = world();
    let ids = handled_scenario(&w);
    let path = w.dir.path().join("shenbao.redb");
    let World { kernel, dir, clock } = w;
    drop(kernel);
    downgrade_to_v4(&path);
    {
        // Version 4's move: the organisation's record alone.
        use redb::ReadableTable;
        let db = redb::Database::open(&path).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut orgs = tx.open_table(redb::TableDefinition::<T, &[u8]>::new("orgs")).unwrap();
            let code = code(1);
            let mut o: serde_json::Value =
                serde_json::from_slice(orgs.get(code.as_str()).unwrap().unwrap().value()).unwrap();
            o["city"] = json!("shenzhen");
            o["district"] = json!("shenzhen.nanshan");
            orgs.insert(code.as_str(), serde_json::to_vec(&o).unwrap().as_slice()).unwrap();
        }
        tx.commit().unwrap();
    }
    let k = reopen(&path, dir.path(), &clock).unwrap();
    assert_eq!(k.upgrade().map(|u| (u.from, u.to)), Some((4, 5)));
    assert!(k.verify_indexes().unwrap().is_empty(), "{:?}", k.verify_indexes());
    let pending = |user: &str| -> Vec<String> {
        k.queue(user, ROUND, None, 100).unwrap().into_iter().map(|i| i.application).collect()
    };
    assert!(!pending("city-huizhou").contains(&ids["a"]));
    assert!(pending("city-shenzhen").contains(&ids["a"]));
}

/// Version 5 indexes the handled lists: a version-4 file (no index) opens with the
/// index built from the applications' trails, every other table as it was, and
/// every list as before.
#[test]
fn a_version_4_database_is_migrated_to_the_handled_index() {
    use shenbao::QueueView::{NotRecommended, Recommended, Returned};
    let w = world();
    handled_scenario(&w);
    let users = ["district-huicheng", "city-huizhou", "city-shenzhen", "province"];
    let lists = |k: &shenbao::Kernel| {
        let mut out = Vec::new();
        for user in users {
            for view in [Recommended, Returned, NotRecommended] {
                let q = shenbao::QueueQuery { view, limit: 100, ..Default::default() };
                out.push((user, view, k.queue_page(user, ROUND, &q).unwrap()));
            }
        }
        out
    };
    let before_lists = lists(&w.kernel);
    assert!(before_lists.iter().filter(|(_, _, l)| !l.is_empty()).count() >= 5, "the scenario fills lists");
    let path = w.dir.path().join("shenbao.redb");
    let World { kernel, dir, clock } = w;
    drop(kernel);
    let before = dump(&path);
    downgrade_to_v4(&path);
    assert!(!dump(&path).contains_key("handled"));
    let k = reopen(&path, dir.path(), &clock).unwrap();
    assert_eq!(k.upgrade().map(|u| (u.from, u.to)), Some((4, 5)));
    assert_eq!(lists(&k), before_lists);
    assert!(k.verify_indexes().unwrap().is_empty(), "{:?}", k.verify_indexes());
    drop(k);
    let after = dump(&path);
    for (table, rows) in &before {
        match table.as_str() {
            "meta" => {}
            // Rebuilt from the trails: the entries that still hold (those that had
            // outlived their truth are not made again).
            "handled" => {
                assert!(!after[table].is_empty());
                assert!(after[table].iter().all(|r| rows.contains(r)), "no entry the decisions did not write");
            }
            _ => assert_eq!(&after[table], rows, "{table}: the same rows"),
        }
    }
}

/// Issue 15.2: only applicants upload, each within its allowance; a refused upload
/// keeps nothing (no file, no partial, no owner record).
#[test]
fn uploads_are_for_applicants_within_an_allowance() {
    use shenbao::Classified;
    let w = world_configured(spec(), |c| c.max_upload_bytes_per_user = 100);
    let k = &w.kernel;
    for who in ["expert-1", "city-huizhou", "province", "someone"] {
        let err = k.store_blob(who, &b"%PDF-1.7 x"[..], None).unwrap_err();
        assert!(matches!(err, shenbao::BlobError::NotAllowed { .. }), "{who}: {err}");
        assert_eq!((err.kind(), err.code()), (shenbao::ErrorKind::Forbidden, "forbidden"));
    }
    let err = k.store_blob("nobody", &b"%PDF-1.7 x"[..], None).unwrap_err();
    assert_eq!((err.kind(), err.code()), (shenbao::ErrorKind::NotFound, "not_found"), "{err}");
    let first = k.store_blob("applicant-1", &[b'a'; 60][..], None).unwrap();
    let err = k.store_blob("applicant-1", &[b'b'; 60][..], None).unwrap_err();
    assert!(matches!(err, shenbao::BlobError::QuotaExceeded { used: 60, limit: 100 }), "{err}");
    assert_eq!(err.code(), "upload_quota_exceeded");
    assert!(err.to_string().contains("上限"), "{err}");
    let folder = k.blob_path(&first.sha256).parent().unwrap().parent().unwrap().to_path_buf();
    let files: usize = std::fs::read_dir(&folder)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| if e.path().is_dir() { std::fs::read_dir(e.path()).unwrap().count() } else { 1 })
        .sum();
    assert_eq!(files, 1, "only the first upload is kept");
    // The allowance is each user's own.
    k.store_blob("applicant-2", &[b'b'; 60][..], None).unwrap();
    assert!(k.may_upload("applicant-1", 40).is_ok() && k.may_upload("applicant-1", 41).is_err());
}

#[test]
fn attachments_are_content_addressed_and_checked_against_their_types() {
    let w = world();
    let k = &w.kernel;
    // Same content, same address, one file; the limit is enforced and leaves nothing.
    let a = k.store_blob("applicant-1", &b"%PDF-1.7 video placeholder"[..], None).unwrap();
    let b = k.store_blob("applicant-2", &b"%PDF-1.7 video placeholder"[..], None).unwrap();
    assert_eq!(a, b);
    assert_eq!(std::fs::read(k.blob_path(&a.sha256)).unwrap(), b"%PDF-1.7 video placeholder");
    let err = k.store_blob("applicant-1", &vec![0u8; 10_000][..], Some(4096)).unwrap_err();
    assert!(matches!(err, shenbao::BlobError::TooLarge { limit: 4096 }), "{err}");
    let stray = std::fs::read_dir(k.blob_path(&a.sha256).parent().unwrap().parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".upload"))
        .count();
    assert_eq!(stray, 0);

    // Metadata must name stored content of the stated size.
    let mut atts = attachments(k);
    atts[0].size += 1;
    let err = k.save_draft("applicant-1", ROUND, None, draft_with(valid_data(), atts)).unwrap_err();
    assert_eq!(err.code(), "attachment_invalid");
    let mut atts = attachments(k);
    atts[1].sha256 = "0".repeat(64);
    assert!(matches!(
        k.save_draft("applicant-1", ROUND, None, draft_with(valid_data(), atts)).unwrap_err(),
        ActError::Blob(shenbao::BlobError::Unknown { .. })
    ));
    assert_eq!(w.decisions(), 0);

    // Submitting checks the direction's attachment types: missing licence, stale audit.
    let mut atts = attachments(k);
    atts.retain(|a| a.kind != "business-licence");
    atts.iter_mut().find(|a| a.kind == "audit-report").unwrap().issued_on = Some(Date::new(2023, 4, 30));
    let id = k.save_draft("applicant-1", ROUND, None, draft_with(valid_data(), atts)).unwrap().application.id;
    match w.act("applicant-1", &id, "submit", None).unwrap_err() {
        ActError::BlockingFindings { findings } => {
            let got: Vec<(&str, &str)> = findings.iter().map(|f| (f.rule_id.as_str(), f.path.as_str())).collect();
            assert!(got.contains(&("attachment.missing", "$attachments.business-licence")), "{got:?}");
            assert!(got.contains(&("attachment.stale", "$attachments.audit-report")), "{got:?}");
            let stale = findings.iter().find(|f| f.rule_id == "attachment.stale").unwrap();
            assert_eq!(
                stale.message.zh,
                "附件“2023年度审计报告.pdf”出具于 2023-04-30，须在近 12 个月内（2023-08-10 之后）"
            );
        }
        other => panic!("{other}"),
    }
    assert_eq!(w.stage(&id), "draft");
}

/// The kernel on the database at `path` again, with the world's clock and its plugin
/// cache under `dir` (after the file was rewritten into an older layout).
fn reopen(
    path: &std::path::Path,
    dir: &std::path::Path,
    clock: &shenbao::ManualClock,
) -> Result<shenbao::Kernel, shenbao::InstallError> {
    shenbao::Kernel::open_with(
        path,
        shenbao::KernelConfig {
            clock: std::sync::Arc::new(clock.clone()),
            host: shenbao::HostConfig { cache_dir: Some(dir.join("cache")), ..Default::default() },
            ..Default::default()
        },
    )
}

/// Version 3 moved the text-keyed tables from redb's `&str` keys to the kernel's
/// `TextKey`: a version-2 file opens with every row of every table as it was, in
/// the same order, and goes on working.
#[test]
fn a_version_2_database_is_migrated_with_every_row_kept() {
    let w = world();
    let a = w.submitted(1);
    let b = w.submitted(2);
    w.submitted(3);
    w.act("district-huicheng", &a, "district-recommend", Some("同意")).unwrap();
    w.act("district-huicheng", &b, "district-return", Some("请补充材料")).unwrap();
    w.kernel.issue_token("province", "migration test").unwrap();
    let path = w.dir.path().join("shenbao.redb");
    let World { kernel, dir, clock } = w;
    let queue_before = kernel.queue("city-huizhou", ROUND, None, 100).unwrap();
    assert!(!queue_before.is_empty());
    drop(kernel);
    let before = dump(&path);
    let before_size = std::fs::metadata(&path).unwrap().len();
    for table in [
        "apps",
        "queue",
        "applications_by_applicant",
        "handled",
        "decisions",
        "decisions_by_app",
        "chain_head",
        "tokens",
        "rounds",
    ] {
        assert!(!before.get(table).map_or(true, Vec::is_empty), "the test fills {table}");
    }
    downgrade_to_v2(&path);
    let open = || reopen(&path, dir.path(), &clock).unwrap();
    let size = || std::fs::metadata(&path).unwrap().len();
    let (v3_size, v2_size) = (before_size, size());
    let k = open();
    assert_eq!(k.upgrade(), Some(shenbao::Upgrade { from: 2, to: 5, compacted: true }));
    drop(k);
    // The upgrade copied every table; compaction gave the copies' pages back.
    eprintln!("sizes: version 5 {v3_size}, as version 2 {v2_size}, upgraded {}", size());
    assert!(size() <= v3_size * 5 / 4, "{} bytes after the upgrade, {v2_size} before, {v3_size} first", size());
    let after = dump(&path);
    assert_eq!(after.keys().collect::<Vec<_>>(), before.keys().collect::<Vec<_>>());
    for (table, rows) in &before {
        if table == "meta" {
            continue;
        }
        if table == "handled" {
            // Rebuilt from the trails (version 5): the entries that still hold.
            assert!(!after[table].is_empty() && after[table].iter().all(|r| rows.contains(r)));
            continue;
        }
        assert_eq!(&after[table], rows, "{table}: the same rows in the same order");
    }
    assert_eq!(after["meta"], vec![(b"schema_version".to_vec(), b"5".to_vec())]);
    // And it works: queues read, the chain verifies, an action commits; it is not
    // upgraded twice.
    let k = open();
    assert_eq!(k.upgrade(), None);
    assert_eq!(k.queue("city-huizhou", ROUND, None, 100).unwrap(), queue_before);
    assert!(k.verify_indexes().unwrap().is_empty());
    k.act("city-huizhou", &a, &ActionRequest::with_opinion("city-recommend", "同意")).unwrap();
    assert_eq!(k.verify_chain().unwrap().first_broken, None);
}

/// Version 4 keeps the applicant index as keys alone and computes the history a
/// check shows a plugin from the applications: a version-3 file (a history row per
/// application in `by_applicant`) opens with every other table's rows as they were,
/// the index holding the same keys, the old table gone, and the same history.
#[test]
fn a_version_3_database_is_migrated_to_the_applicant_index() {
    let w = world();
    let a = w.submitted(1);
    let b = w.submitted(1);
    w.submitted(2);
    w.act("district-huicheng", &a, "district-recommend", Some("同意")).unwrap();
    w.act("district-huicheng", &b, "district-not-recommend", Some("不符合条件")).unwrap();
    let history = w.kernel.history_of(&code(1), "none").unwrap();
    assert_eq!(history.iter().map(|h| h.stage.as_str()).collect::<Vec<_>>(), ["city-review", "not-passed"]);
    let path = w.dir.path().join("shenbao.redb");
    let World { kernel, dir, clock } = w;
    drop(kernel);
    let before = dump(&path);
    downgrade_to_v3(&path);
    let as_v3 = dump(&path);
    assert!(!as_v3.contains_key("applications_by_applicant"));
    let rows = &as_v3["by_applicant"];
    assert_eq!(rows.len(), 3);
    // Version 3's rows are the history itself.
    let stored: Vec<shenbao::contract::HistoryEntry> = rows
        .iter()
        .map(|(_, v)| serde_json::from_slice::<shenbao::contract::HistoryEntry>(v).unwrap())
        .filter(|h| [&a, &b].contains(&&h.application))
        .collect();
    assert_eq!(stored, history);
    let k = reopen(&path, dir.path(), &clock).unwrap();
    assert_eq!(k.upgrade().map(|u| (u.from, u.to)), Some((3, 5)));
    assert_eq!(k.history_of(&code(1), "none").unwrap(), history);
    assert!(k.verify_indexes().unwrap().is_empty(), "{:?}", k.verify_indexes());
    k.act("city-huizhou", &a, &ActionRequest::with_opinion("city-recommend", "同意")).unwrap();
    assert_eq!(k.history_of(&code(1), "none").unwrap()[0].stage, "province-review");
    drop(k);
    let after = dump(&path);
    assert!(!after.contains_key("by_applicant"), "the version-3 table is dropped");
    assert_eq!(after["applications_by_applicant"], before["applications_by_applicant"]);
}

#[test]
fn a_version_1_database_is_migrated_and_a_newer_one_refused() {
    let w = world();
    let a = w.submitted(1);
    w.act("district-huicheng", &a, "district-recommend", Some("同意")).unwrap();
    let path = w.dir.path().join("shenbao.redb");
    let World { kernel, dir, clock } = w;
    drop(kernel);
    // Rewrite the file into the version-1 layout: version 2's key types, round ids in
    // the applicant index, no chain head.
    downgrade_to_v2(&path);
    {
        use redb::ReadableTable;
        let db = redb::Database::open(&path).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let meta: redb::TableDefinition<&str, &str> = redb::TableDefinition::new("meta");
            tx.open_table(meta).unwrap().insert("schema_version", "1").unwrap();
            let new: redb::TableDefinition<(&str, &str), &[u8]> = redb::TableDefinition::new("by_applicant");
            let keys: Vec<(String, String)> = tx
                .open_table(new)
                .unwrap()
                .iter()
                .unwrap()
                .map(|r| {
                    let (k, _) = r.unwrap();
                    let (a, b) = k.value();
                    (a.to_string(), b.to_string())
                })
                .collect();
            tx.delete_table(new).unwrap();
            let old: redb::TableDefinition<(&str, &str), &str> = redb::TableDefinition::new("by_applicant");
            let mut t = tx.open_table(old).unwrap();
            for (code, app) in &keys {
                t.insert((code.as_str(), app.as_str()), ROUND).unwrap();
            }
            let head: redb::TableDefinition<&str, (u64, &str)> = redb::TableDefinition::new("chain_head");
            tx.delete_table(head).unwrap();
        }
        tx.commit().unwrap();
    }
    let open = |p: &std::path::Path| reopen(p, dir.path(), &clock);
    let k = open(&path).unwrap();
    // The history rows are back, and the chain continues from its head.
    assert_eq!(k.history_of(&code(1), "none").unwrap().len(), 1);
    assert_eq!(k.history_of(&code(1), "none").unwrap()[0].stage, "city-review");
    let before = k.decision_count().unwrap();
    k.act("city-huizhou", &a, &ActionRequest::with_opinion("city-recommend", "同意")).unwrap();
    assert_eq!(k.decision_count().unwrap(), before + 1);
    assert_eq!(k.verify_chain().unwrap().first_broken, None);
    drop(k);
    // A database from a newer kernel is refused, not guessed at.
    {
        let db = redb::Database::open(&path).unwrap();
        let tx = db.begin_write().unwrap();
        let meta: redb::TableDefinition<&str, &str> = redb::TableDefinition::new("meta");
        tx.open_table(meta).unwrap().insert("schema_version", "99").unwrap();
        tx.commit().unwrap();
    }
    let err = open(&path).err().expect("refused");
    assert!(err.to_string().contains("schema version 99 is newer"), "{err}");
}

/// An applicant has at most `MAX_APPLICATIONS_PER_APPLICANT` applications in a round
/// (each check shows the plugin all of them and records it, so drafts without end
/// would make every later check and the log grow without end): one more is refused
/// and writes nothing; the same draft saved again, and another applicant, go on.
#[test]
fn an_applicant_has_a_bounded_number_of_applications_in_a_round() {
    let w = world();
    let k = &w.kernel;
    let max = shenbao::MAX_APPLICATIONS_PER_APPLICANT;
    let mut last = String::new();
    for _ in 0..max {
        last = k.save_draft("applicant-1", ROUND, None, w.draft(valid_data())).unwrap().application.id;
    }
    let decisions = w.decisions();
    let err = k.save_draft("applicant-1", ROUND, None, w.draft(valid_data())).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("个申报") && text.contains("continue one of them"), "{text}");
    assert_eq!(refusal(err), Refusal::TooManyApplications { max });
    assert_eq!((w.decisions(), k.applications_of(&code(1)).unwrap().len()), (decisions, max as usize));
    // Working on the ones it has is not refused, nor is another applicant.
    k.save_draft("applicant-1", ROUND, Some(&last), w.draft(valid_data())).unwrap();
    k.act("applicant-1", &last, &ActionRequest::new("submit")).unwrap();
    k.save_draft("applicant-2", ROUND, None, w.draft(valid_data())).unwrap();
    assert!(k.verify_indexes().unwrap().is_empty());
}

/// Closing a round would leave its applications at a review, expert or notice stage
/// with no way forward (a closed round takes only its library's actions, and cannot
/// be opened again): refused with `round_under_review`, counting them and naming
/// one with its stage, changing nothing — until none is left there, or the
/// administrator forces it. Drafts do not hold a round open.
#[test]
fn a_round_with_applications_under_review_closes_only_when_forced() {
    let w = world();
    let k = &w.kernel;
    let first = w.submitted(7); // Shenzhen: city review
    let second = w.submitted(1); // Huizhou: district review
    w.act("city-shenzhen", &first, "city-recommend", Some("同意")).unwrap(); // province review
    let draft = k.save_draft("applicant-2", ROUND, None, w.draft(valid_data())).unwrap().application.id;
    let live: Vec<_> = k
        .applications_in(ROUND)
        .unwrap()
        .into_iter()
        .filter(|a| !matches!(a.state.stage.as_str(), "draft"))
        .map(|a| a.id)
        .collect();
    assert!(live.contains(&first) && live.contains(&second) && !live.contains(&draft), "{live:?}");
    let before = snapshot(&w, &first);
    let err = k.close_round(ROUND).unwrap_err();
    assert_eq!(err.code(), "round_under_review", "{err}");
    let RoundError::UnderReview { count, application, stage_zh, .. } = &err else { panic!("{err:?}") };
    assert_eq!(*count, live.len() as u64, "{err}");
    let named = k.application(application).unwrap();
    let round = k.round(ROUND).unwrap();
    let at = round.graph.stages.iter().find(|s| s.id == named.state.stage).unwrap();
    assert_eq!(&at.title.zh, stage_zh, "the application named is at the stage named");
    let text = err.to_string();
    assert!(text.contains("强制关闭") && text.contains("close with force"), "{text}");
    assert_eq!((k.round(ROUND).unwrap().status, snapshot(&w, &first)), (shenbao::RoundStatus::Open, before));
    // Forced, it closes; the applications stay where they were.
    let closed = k.force_close_round(ROUND).unwrap();
    assert_eq!(closed.status, shenbao::RoundStatus::Closed);
    assert_eq!(k.application(&second).unwrap().state.stage, "district-review");
    assert!(matches!(k.force_close_round(ROUND), Err(RoundError::NotOpen { .. })));

    // A round with drafts only closes without force.
    let mut s = spec();
    s.id = "er-drafts".into();
    k.create_round(s).unwrap();
    k.open_round("er-drafts").unwrap();
    k.save_draft("applicant-1", "er-drafts", None, w.draft(valid_data())).unwrap();
    assert_eq!(k.close_round("er-drafts").unwrap().status, shenbao::RoundStatus::Closed);
}

/// A sheet with a city column but no district column moves an organisation to another
/// city without its old district (which is not in the new city); one with a district
/// column but no city column puts it in the district's city; an empty profile cell
/// clears its key.
#[test]
fn a_sheet_of_one_region_column_moves_an_organisation_whole() {
    let w = world();
    w.kernel.upsert_org(&org(9, Some("huizhou"), Some("huizhou.huicheng"), "region")).unwrap();
    let import = |csv: String| {
        let sheet = shenbao::io::read_sheet_bytes("orgs.csv", csv.as_bytes()).unwrap();
        w.kernel.import_orgs_sheet(&sheet).unwrap();
        let o = w.kernel.org(&code(9)).unwrap().unwrap();
        (o.city, o.district)
    };
    let same_city = import(format!("统一社会信用代码,单位名称,所属市\n{},九号,huizhou\n", code(9)));
    assert_eq!(
        same_city,
        (Some("huizhou".into()), Some("huizhou.huicheng".into())),
        "the same city keeps its district"
    );
    let moved = import(format!("统一社会信用代码,单位名称,所属市\n{},九号,shenzhen\n", code(9)));
    assert_eq!(moved, (Some("shenzhen".into()), None));
    let back = import(format!("统一社会信用代码,单位名称,所属区县\n{},九号,huizhou.huiyang\n", code(9)));
    assert_eq!(back, (Some("huizhou".into()), Some("huizhou.huiyang".into())));
    assert!(w.kernel.verify_indexes().unwrap().is_empty());
    // A profile column the sheet has says what is there: an empty cell clears the key;
    // keys the sheet has no column for stay.
    let profile = || w.kernel.org(&code(9)).unwrap().unwrap().profile.to_value();
    assert_eq!(profile()["phone"], "0752-0000000");
    let sheet = shenbao::io::read_sheet_bytes(
        "orgs.csv",
        format!("统一社会信用代码,单位名称,phone,联系人\n{},九号,,张三\n", code(9)).as_bytes(),
    )
    .unwrap();
    w.kernel.import_orgs_sheet(&sheet).unwrap();
    let p = profile();
    assert!(p.get("phone").is_none(), "{p}");
    assert_eq!((p["联系人"].as_str(), p["contact"].as_str()), (Some("张三"), Some("示例联系人")), "{p}");
}

#[test]
fn the_remaining_refusals_are_typed_and_change_nothing() {
    let w = world();
    let k = &w.kernel;
    let id = w.submitted(7); // Shenzhen: city review
    let before = snapshot(&w, &id);
    // Batching an action the graph does not mark batchable.
    let err = k.act_batch("city-shenzhen", &[&id], &ActionRequest::with_opinion("city-return", "退回")).unwrap_err();
    assert_eq!((err.position, err.error.code()), (0, "not_batchable"));
    // A direction the round does not have.
    let mut d = w.draft(valid_data());
    d.direction = Some("space-mining".into());
    assert_eq!(k.save_draft("applicant-1", ROUND, None, d).unwrap_err().code(), "unknown_direction");
    assert_eq!(snapshot(&w, &id), before);

    // Payloads the action needs.
    w.act("city-shenzhen", &id, "city-recommend", Some("同意")).unwrap();
    w.act("province", &id, "province-recommend", Some("同意")).unwrap();
    let before = snapshot(&w, &id);
    assert_eq!(refusal(w.act("province", &id, "assign-experts", None).unwrap_err()).code(), "missing_payload");
    let rank = ActionRequest { action: "city-rank".into(), ..Default::default() };
    assert_eq!(refusal(k.act("city-shenzhen", &id, &rank).unwrap_err()).code(), "not_at_this_stage");
    w.act("province", &id, "publish-notice", None).unwrap();
    assert_eq!(refusal(w.act("province", &id, "resolve-objection", Some("无")).unwrap_err()), Refusal::NoOpenObjection);
    assert_eq!(w.decisions(), before.0 + 1);

    // A closed round takes no more reviews; a round not yet open takes nothing.
    k.force_close_round(ROUND).unwrap();
    let before = snapshot(&w, &id);
    assert_eq!(refusal(w.act("province", &id, "approve", Some("通过")).unwrap_err()).code(), "round_not_open");
    assert_eq!(snapshot(&w, &id), before);
    let mut s = spec();
    s.id = "er-2024q4".into();
    k.create_round(s).unwrap();
    let err = k.save_draft("applicant-1", "er-2024q4", None, w.draft(valid_data())).unwrap_err();
    assert_eq!(err.code(), "round_not_open");
    assert!(matches!(k.close_round("er-2024q4"), Err(RoundError::NotOpen { .. })));
}

/// A warning (here: under 2 years in the business, 第七条(一)) does not stop the
/// submission; the province relaxes it as a recorded decision, and nothing is
/// admitted while a warning stands unconfirmed.
#[test]
fn warnings_are_confirmed_by_the_province_before_admission() {
    let w = world();
    let k = &w.kernel;
    let mut data = valid_data();
    data["business_since"] = serde_json::json!("2023-03-01");
    let id = k.save_draft("applicant-1", ROUND, None, w.draft(data)).unwrap().application.id;
    w.act("applicant-1", &id, "submit", None).unwrap();
    const RULE: &str = "er.specific.years-in-business-min-2";
    assert_eq!(k.application(&id).unwrap().state.warnings, [RULE]);
    let with = |action: &str, confirm: &[&str]| ActionRequest {
        action: action.into(),
        opinion: Some("属前沿突破，经省核实，放宽从业年限要求".into()),
        payload: Payload { confirm: confirm.iter().map(|s| s.to_string()).collect(), ..Default::default() },
        ..Default::default()
    };
    w.act("district-huicheng", &id, "district-recommend", Some("同意")).unwrap();
    // Only the province confirms.
    let before = snapshot(&w, &id);
    let e = refusal(k.act("city-huizhou", &id, &with("city-recommend", &[RULE])).unwrap_err());
    assert_eq!(e, Refusal::ConfirmNotAllowed);
    assert_eq!(snapshot(&w, &id), before);
    w.act("city-huizhou", &id, "city-recommend", Some("同意推荐")).unwrap();
    w.act("province", &id, "province-recommend", Some("进入专家评审")).unwrap();
    k.act(
        "province",
        &id,
        &ActionRequest {
            action: "assign-experts".into(),
            payload: Payload { experts: vec!["expert-1".into()], ..Default::default() },
            ..Default::default()
        },
    )
    .unwrap();
    w.act("province", &id, "publish-notice", None).unwrap();
    // No admission while the warning stands; confirming what is not a warning is refused.
    let before = snapshot(&w, &id);
    let e = refusal(w.act("province", &id, "approve", Some("认定入库")).unwrap_err());
    assert_eq!(e, Refusal::UnconfirmedWarnings { rules: vec![RULE.into()] });
    assert_eq!(e.code(), "unconfirmed_warnings");
    let e = refusal(k.act("province", &id, &with("approve", &["er.cases.min-3"])).unwrap_err());
    assert_eq!(e, Refusal::NotAWarning { rule: "er.cases.min-3".into() });
    assert_eq!(snapshot(&w, &id), before);
    // Confirmed and admitted in one recorded decision, with the reason.
    let r = k.act("province", &id, &with("approve", &[RULE])).unwrap();
    assert_eq!(r.application.state.stage, "library");
    assert!(r.application.state.warnings.is_empty());
    let d = k.decisions_of(&id).unwrap().pop().unwrap();
    assert_eq!(d.payload.confirm, [RULE]);
    assert_eq!(d.opinion.as_deref(), Some("属前沿突破，经省核实，放宽从业年限要求"));
    assert_eq!(k.verify_chain().unwrap().first_broken, None);
}

/// A submission's check runs outside the write transaction; if anything it read
/// changes before the transaction — the organisation's profile, the applicant's
/// history, the application's attachments, the date — the action is refused
/// `stale_check` and changes nothing. Unchanged, the same prepared action goes through.
#[test]
fn a_check_against_what_changed_is_stale() {
    let w = world();
    let submit = ActionRequest::new("submit");
    let draft = |n: u32| {
        let r = w.kernel.save_draft(&format!("applicant-{n}"), ROUND, None, w.draft(valid_data())).unwrap();
        r.application.id
    };
    let stale = |n: u32, id: &str, change: &dyn Fn()| {
        let p = w.kernel.prepare(&format!("applicant-{n}"), id, &submit).unwrap();
        assert!(p.check().is_some(), "submit runs the check");
        let before = w.decisions();
        change();
        let after_change = w.decisions();
        let err = w.kernel.act_prepared(p).unwrap_err();
        assert_eq!(err.code(), "stale_check", "{err}");
        assert_eq!(w.decisions(), after_change, "a stale check changes nothing");
        assert_eq!(w.stage(id), "draft");
        let _ = before;
    };

    // The organisation's profile.
    let a = draft(1);
    stale(1, &a, &|| {
        let mut o = org(1, Some("huizhou"), Some("huizhou.huicheng"), "region");
        o.profile = serde_json::json!({ "contact": "另一位联系人" }).into();
        w.kernel.upsert_org(&o).unwrap();
    });
    // The application's attachments (a save in between).
    let b = draft(2);
    stale(2, &b, &|| {
        let mut d = w.draft(valid_data());
        d.attachments.pop();
        w.kernel.save_draft("applicant-2", ROUND, Some(&b), d).unwrap();
    });
    // The applicant's history: another of its applications moves.
    let c = draft(3);
    let other = w.submitted(3);
    stale(3, &c, &|| {
        w.act("district-huicheng", &other, "district-recommend", Some("同意")).unwrap();
    });
    // The date.
    let d = draft(4);
    stale(4, &d, &|| w.clock.advance(24 * 3600));
    // Nothing changed: the prepared submission is carried out.
    let p = w.kernel.prepare("applicant-4", &d, &submit).unwrap();
    let r = w.kernel.act_prepared(p).unwrap();
    assert_eq!(r.decision.action, "submit");
    assert_ne!(w.stage(&d), "draft");
    assert_eq!(w.kernel.verify_indexes().unwrap(), Vec::<String>::new());
}

/// An attachment's address is exactly 64 lower-case hex digits: paths (absolute or
/// `../`), upper-case or short names are refused before any file is looked at, so
/// the server's files can neither be probed (no size in the answer) nor attached.
#[test]
fn attachment_addresses_are_content_addresses_only() {
    let w = world();
    let passwd = std::fs::metadata("/etc/passwd").map(|m| m.len()).unwrap_or(0);
    let good = attachments(&w.kernel);
    for bad in [
        "/etc/passwd".to_string(),
        "../../../../../../etc/passwd".to_string(),
        "ab/../../../../etc/passwd".to_string(),
        good[0].sha256.to_uppercase(),
        good[0].sha256[..63].to_string(),
        format!("{}\n", good[0].sha256),
    ] {
        let mut atts = good.clone();
        atts[0].sha256 = bad.clone();
        atts[0].size = passwd;
        let before = w.kernel.applications_in(ROUND).unwrap().len();
        let err = w.kernel.save_draft("applicant-1", ROUND, None, draft_with(valid_data(), atts)).unwrap_err();
        assert_eq!(err.code(), "attachment_invalid", "{bad:?}: {err}");
        assert!(matches!(err, ActError::Blob(shenbao::BlobError::BadAddress { .. })), "{bad:?}: {err}");
        assert!(!err.to_string().contains(&passwd.to_string()) || passwd == 0, "{bad:?}: no size revealed: {err}");
        assert_eq!(w.kernel.applications_in(ROUND).unwrap().len(), before, "nothing saved");
    }
    assert!(!w.kernel.blob_path("/etc/passwd").starts_with("/etc"));
}

/// Issue 15.4: the public notice shows what a notice shows (the application's
/// identity, direction, stage and the fields the program marks `x-public`), and
/// expert identities and individual scores are the province's alone. The same
/// redaction covers the application, its handling record and an action's receipt.
#[test]
fn the_notice_shows_what_a_notice_shows_and_experts_stay_with_the_province() {
    let w = world();
    let k = &w.kernel;
    let id = w.submitted(1);
    w.act("district-huicheng", &id, "district-recommend", Some("同意")).unwrap();
    w.act("city-huizhou", &id, "city-recommend", Some("同意推荐")).unwrap();
    w.act("province", &id, "province-recommend", Some("进入专家评审")).unwrap();
    let with = |action: &str, payload: Payload| ActionRequest { action: action.into(), payload, ..Default::default() };
    let experts = Payload { experts: vec!["expert-1".into(), "expert-2".into()], ..Default::default() };
    k.act("province", &id, &with("assign-experts", experts)).unwrap();
    k.act("expert-1", &id, &with("score", Payload { score: Some(88.0), ..Default::default() })).unwrap();
    k.act("expert-2", &id, &with("score", Payload { score: Some(91.5), ..Default::default() })).unwrap();
    w.act("province", &id, "publish-notice", None).unwrap();
    let user = |id: &str| k.user(id).unwrap().unwrap();

    // The public (here a user with no role at all): the notice, nothing else.
    let seen = k.application_as(&user("someone"), &id).unwrap();
    assert_eq!(seen.data.to_value(), json!({"resource_name": valid_data()["resource_name"]}));
    assert!(seen.attachments.is_empty());
    assert_eq!((seen.state.stage.as_str(), seen.direction.is_some()), ("public-notice", true));
    assert!(seen.state.experts.is_empty() && seen.state.scores.is_empty() && seen.state.holds.is_empty());
    assert!(seen.state.trail.iter().all(|v| v.decision.is_none()));
    let err = k.decisions_as(&user("someone"), &id).unwrap_err();
    assert_eq!(err.code(), "forbidden", "{err}");
    // An objection's receipt shows the objector no more than the notice.
    let r = w.act("someone", &id, "object", Some("案例真实性存疑")).unwrap();
    assert_eq!(r.application.data.to_value(), seen.data.to_value());
    assert!(r.application.attachments.is_empty() && r.decision.check.is_none());

    // The applicant: its whole application, but not who scored it nor how.
    let own = k.application_as(&user("applicant-1"), &id).unwrap();
    assert_eq!(own.data.to_value(), shenbao::FormData::from_value(&valid_data()).to_value());
    assert!(!own.attachments.is_empty());
    assert!(own.state.experts.is_empty() && own.state.scores.is_empty());
    let log = k.decisions_as(&user("applicant-1"), &id).unwrap();
    for d in &log {
        assert!(d.payload.experts.is_empty() && d.payload.score.is_none(), "{}: {:?}", d.action, d.payload);
        if d.action == "score" {
            assert_eq!(d.actor.user, "");
        }
    }
    assert_eq!(log.iter().filter(|d| d.action == "score").count(), 2, "the steps stay in the record");
    // No hash from which a removed expert id or score could be found by trial: every
    // hash after a redacted record commits to it, so none is shown below the province.
    assert!(log.iter().all(|d| d.hash.is_empty() && d.prev_hash.is_empty()), "{log:?}");

    // An expert sees its own score, not the other's.
    let mine = k.application_as(&user("expert-1"), &id).unwrap();
    assert_eq!(mine.state.scores.keys().collect::<Vec<_>>(), ["expert-1"]);
    let scores: Vec<_> = k
        .decisions_as(&user("expert-1"), &id)
        .unwrap()
        .into_iter()
        .filter(|d| d.action == "score")
        .map(|d| (d.actor.user, d.payload.score))
        .collect();
    assert_eq!(scores, [("expert-1".to_string(), Some(88.0)), (String::new(), None)]);
    // Its own record's hash would let it test guesses at the next one: none either.
    assert!(k.decisions_as(&user("expert-1"), &id).unwrap().iter().all(|d| d.hash.is_empty()));

    // The province: everything, as stored.
    assert_eq!(k.application_as(&user("province"), &id).unwrap(), k.application(&id).unwrap());
    assert_eq!(k.decisions_as(&user("province"), &id).unwrap(), k.decisions_of(&id).unwrap());
}

/// Issue 16: `2023.0` is an integer to JSON Schema, so every language must see the
/// same whole number: the kernel hands the plugin `2023` (the Rust build once refused
/// `2023.0` with a 502 while Python and JavaScript accepted it). The stored draft
/// keeps what was sent; the recorded check input is what the plugin saw.
#[test]
fn whole_numbers_reach_every_plugin_as_integers() {
    let w = world();
    let mut data = valid_data();
    for r in data["revenue"].as_array_mut().unwrap() {
        let y = r["year"].as_u64().unwrap();
        r["year"] = json!(y as f64);
    }
    assert!(data.to_string().contains("2023.0"));
    let id = w.kernel.save_draft("applicant-1", ROUND, None, w.draft(data)).unwrap().application.id;
    let r = w.act("applicant-1", &id, "submit", None).unwrap();
    assert_eq!(r.decision.to, "district-review", "the Rust plugin accepted 2023.0 as 2023");
    assert!(w.kernel.replay(r.decision.index).unwrap().identical);
}

/// Issue 15.2: uploads nobody attached are removed (files and records) once older
/// than the age given; what an application references stays.
#[test]
fn unreferenced_uploads_are_cleaned_up() {
    let w = world();
    let k = &w.kernel;
    let id = w.submitted(1);
    let kept = k.application(&id).unwrap().attachments;
    let stray = k.store_blob("applicant-2", &b"%PDF-1.7 never attached"[..], None).unwrap();
    assert!(k.blob_path(&stray.sha256).exists());
    // Too young: nothing goes.
    assert_eq!(k.remove_unreferenced_blobs(std::time::Duration::from_secs(3600)).unwrap().0, 0);
    let (n, bytes) = k.remove_unreferenced_blobs(std::time::Duration::ZERO).unwrap();
    assert!(n >= 1 && bytes >= stray.size, "{n} {bytes}");
    assert!(!k.blob_path(&stray.sha256).exists());
    for a in &kept {
        assert!(k.blob_path(&a.sha256).exists(), "a referenced file stays");
    }
    // Its record went with it: the address no longer attaches.
    let mut atts = attachments(k);
    atts[0].sha256 = stray.sha256.clone();
    atts[0].size = stray.size;
    let err = k.save_draft("applicant-2", ROUND, None, draft_with(valid_data(), atts)).unwrap_err();
    assert!(matches!(err, ActError::Blob(shenbao::BlobError::Unknown { .. })), "{err}");
    // The application still submits and replays with its files.
    assert!(k.replay(k.decisions_of(&id).unwrap()[1].index).unwrap().identical);
}

/// Issue 15.1: an address grants nothing. Only the user who uploaded a blob may
/// attach it (or keep it on an application that already carries it); anyone else
/// gets exactly the answer for content that was never uploaded, so the store cannot
/// be probed for another applicant's files either.
#[test]
fn only_the_uploader_may_attach_a_blob() {
    let w = world();
    let k = &w.kernel;
    let mut mine = attachments(k);
    let secret = k.store_blob("applicant-1", &b"%PDF-1.7 applicant-1's audit report"[..], None).unwrap();
    let audit = mine.iter_mut().find(|a| a.kind == "audit-report").unwrap();
    audit.sha256 = secret.sha256.clone();
    audit.size = secret.size;

    let never = "f".repeat(64);
    let mut unknown = mine.clone();
    unknown.iter_mut().find(|a| a.kind == "audit-report").unwrap().sha256 = never.clone();
    for who in ["applicant-2", "applicant-7"] {
        let before = k.applications_in(ROUND).unwrap().len();
        let err = k.save_draft(who, ROUND, None, draft_with(valid_data(), mine.clone())).unwrap_err();
        assert!(
            matches!(&err, ActError::Blob(shenbao::BlobError::Unknown { sha256 }) if *sha256 == secret.sha256),
            "{who}: {err}"
        );
        assert_eq!(err.code(), "attachment_invalid");
        // The same words as for content nobody uploaded.
        let none = k.save_draft(who, ROUND, None, draft_with(valid_data(), unknown.clone())).unwrap_err();
        assert_eq!(err.to_string().replace(&secret.sha256, "_"), none.to_string().replace(&never, "_"));
        assert_eq!(k.applications_in(ROUND).unwrap().len(), before, "nothing saved");
    }

    // The uploader attaches it; re-saving the application keeps it without a new upload.
    let id = k.save_draft("applicant-1", ROUND, None, draft_with(valid_data(), mine.clone())).unwrap().application.id;
    k.save_draft("applicant-1", ROUND, Some(&id), draft_with(valid_data(), mine.clone())).unwrap();
    assert!(k.application(&id).unwrap().attachments.iter().any(|a| a.sha256 == secret.sha256));
    // Uploading the same bytes makes another user an uploader too (content addressing).
    k.store_blob("applicant-2", &b"%PDF-1.7 applicant-1's audit report"[..], None).unwrap();
    k.save_draft("applicant-2", ROUND, None, draft_with(valid_data(), mine)).unwrap();
}

/// Each action takes exactly its own payload, and a draft's form must be its
/// direction's: a submission carrying a rank, a score or experts is refused
/// `unexpected_payload` (nothing reaches the hash-chained decision); a draft naming a
/// form that does not exist, or another direction's, is refused `unknown_form` at
/// once (not accepted to fail at submission).
#[test]
fn payloads_and_forms_belong_to_their_action_and_direction() {
    let w = world();
    let r = w.kernel.save_draft("applicant-1", ROUND, None, w.draft(valid_data())).unwrap();
    let id = r.application.id;
    for payload in [
        Payload { rank: Some(1), ..Default::default() },
        Payload { score: Some(99.0), ..Default::default() },
        Payload { experts: vec!["expert-1".into()], ..Default::default() },
    ] {
        let n = w.decisions();
        let req = ActionRequest { action: "submit".into(), payload, ..Default::default() };
        let err = w.kernel.act("applicant-1", &id, &req).unwrap_err();
        assert_eq!(err.code(), "unexpected_payload", "{err}");
        assert_eq!(w.decisions(), n);
    }
    for form in ["no-such-form", "nope"] {
        let mut d = w.draft(valid_data());
        d.form = Some(form.into());
        let before = w.kernel.applications_in(ROUND).unwrap().len();
        let err = w.kernel.save_draft("applicant-2", ROUND, None, d).unwrap_err();
        assert_eq!(err.code(), "unknown_form", "{err}");
        assert_eq!(w.kernel.applications_in(ROUND).unwrap().len(), before);
    }
    // The direction's own form, named, is accepted.
    let form = w.kernel.application(&id).unwrap().form;
    let mut d = w.draft(valid_data());
    d.form = Some(form);
    w.kernel.save_draft("applicant-2", ROUND, None, d).unwrap();
}

/// Issue 17: a whole number written as a float (`2023.0`, `2.023e3`) in a field the
/// plugin reads as an integer is stored as the integer, so the check runs (it used
/// to fail in the plugin: serde reads no `u32` from `2023.0`); a number beyond the
/// field's integer range is a finding at that field, before any plugin runs.
#[test]
fn whole_numbers_are_integers_and_integer_ranges_are_stated() {
    let w = world();
    let mut data = valid_data();
    let year = data["revenue"][0]["year"].as_u64().unwrap();
    data["revenue"][0]["year"] = serde_json::json!(year as f64);
    data["revenue"][1]["year"] = serde_json::from_str(&format!("{}e0", data["revenue"][1]["year"])).unwrap();
    assert!(data["revenue"][0]["year"].is_f64());
    let r = w.kernel.save_draft("applicant-1", ROUND, None, w.draft(data)).unwrap();
    let id = r.application.id.clone();
    let stored = w.kernel.application(&id).unwrap().data.to_value();
    assert!(stored["revenue"][0]["year"].is_u64() && stored["revenue"][1]["year"].is_u64(), "{stored}");
    w.kernel.act("applicant-1", &id, &ActionRequest::new("submit")).unwrap();

    let mut data = valid_data();
    data["revenue"][0]["year"] = serde_json::json!(5_000_000_000u64);
    let r = w.kernel.save_draft("applicant-2", ROUND, None, w.draft(data)).unwrap();
    let e = w.kernel.act("applicant-2", &r.application.id, &ActionRequest::new("submit")).unwrap_err();
    let shenbao::ActError::BlockingFindings { findings } = e else { panic!("{e:?}") };
    assert!(findings.iter().any(|f| f.rule_id == "schema.maximum" && f.path == "$.revenue[0].year"), "{findings:#?}");
}

/// Issue 14: a submission is never taken without its check. A `submit` prepared
/// while the application was elsewhere (so no check ran), carried out after the
/// application came back to the draft and was edited, is refused `check_not_run`;
/// sent again it is checked and refused for what the edit broke.
#[test]
fn a_submit_prepared_before_a_return_is_not_taken_unchecked() {
    let w = world();
    let id = w.submitted(1);
    let submit = ActionRequest::new("submit");
    let prepared = w.kernel.prepare("applicant-1", &id, &submit).unwrap();
    w.act("district-huicheng", &id, "district-return", Some("请补正")).unwrap();
    let mut broken = valid_data();
    broken.as_object_mut().unwrap().remove("commitment");
    w.kernel.save_draft("applicant-1", ROUND, Some(&id), w.draft(broken)).unwrap();
    let before = w.decisions();
    let e = w.kernel.act_prepared(prepared).unwrap_err();
    assert_eq!(e.code(), "check_not_run", "{e}");
    assert_eq!((w.stage(&id).as_str(), w.decisions()), ("draft", before));
    let e = w.kernel.act("applicant-1", &id, &submit).unwrap_err();
    assert_eq!(e.code(), "blocking_findings", "{e}");
}

/// Issue 17: a session ends after two idle hours, and twelve hours after sign-in
/// however busy; a new password ends every session of the user.
#[test]
fn sessions_end_when_idle_when_old_and_when_the_password_changes() {
    let w = world();
    let k = &w.kernel;
    k.set_password("applicant-1", "correct horse battery").unwrap();
    let s = k.sign_in("applicant-1", "correct horse battery", "127.0.0.1").unwrap();
    assert_eq!(k.session_user(&s.secret).unwrap().unwrap().0.id, "applicant-1");
    w.clock.advance(shenbao::SESSION_IDLE_SECS + 1);
    assert!(k.session_user(&s.secret).unwrap().is_none(), "idle too long");

    let s = k.sign_in("applicant-1", "correct horse battery", "127.0.0.1").unwrap();
    for _ in 0..(shenbao::SESSION_MAX_SECS / 3600) {
        w.clock.advance(3600);
        assert!(k.session_user(&s.secret).unwrap().is_some(), "used every hour");
    }
    w.clock.advance(1);
    assert!(k.session_user(&s.secret).unwrap().is_none(), "past the longest a session lasts");

    let s = k.sign_in("applicant-1", "correct horse battery", "127.0.0.1").unwrap();
    k.set_password("applicant-1", "another horse battery").unwrap();
    assert!(k.session_user(&s.secret).unwrap().is_none(), "a new password signs out everywhere");
    assert!(k.sign_in("applicant-1", "correct horse battery", "127.0.0.1").is_err());
    let first = k.sign_in("applicant-1", "another horse battery", "127.0.0.1").unwrap();
    // A user keeps at most MAX_SESSIONS_PER_USER sessions: a new one ends the oldest.
    let mut last = None;
    for i in 0..shenbao::MAX_SESSIONS_PER_USER {
        w.clock.advance(1);
        last = Some(k.sign_in("applicant-1", "another horse battery", &format!("10.0.0.{i}")).unwrap());
    }
    assert!(k.session_user(&first.secret).unwrap().is_none(), "the oldest session ended");
    assert!(k.session_user(&last.unwrap().secret).unwrap().is_some());
}

/// Issue 17: text people read carries no control or bidi-control characters — a
/// form field holding one is a blocking finding at that field, an opinion holding
/// one is refused; line breaks and tabs are text.
#[test]
fn control_and_bidi_characters_are_refused_where_people_read_them() {
    let w = world();
    let mut data = valid_data();
    data["resource_name"] = serde_json::json!("质检方案\u{202e}gnp.exe");
    data["summary"] = serde_json::json!("第一行\n第二行\t缩进");
    let r = w.kernel.save_draft("applicant-1", ROUND, None, w.draft(data)).unwrap();
    let e = w.kernel.act("applicant-1", &r.application.id, &ActionRequest::new("submit")).unwrap_err();
    let ActError::BlockingFindings { findings } = e else { panic!("{e:?}") };
    let bad: Vec<_> = findings.iter().filter(|f| f.rule_id == "schema.control-characters").collect();
    assert_eq!(bad.len(), 1, "{findings:#?}");
    assert_eq!(bad[0].path, "$.resource_name");
    assert!(bad[0].message.zh.contains("「资源名称」") && bad[0].message.zh.contains("U+202E"), "{:?}", bad[0]);

    let id = w.submitted(2);
    for opinion in ["请补正\u{1b}[2J", "请补正\u{2066}", "请补正\u{0}"] {
        let e = w.act("district-huicheng", &id, "district-return", Some(opinion)).unwrap_err();
        assert_eq!(e.code(), "invalid_payload", "{opinion:?}: {e}");
    }
    w.act("district-huicheng", &id, "district-return", Some("请补正：\n1. 客户反馈\t日期")).unwrap();
}

/// Issue 17: two attachments of a draft with one id are refused, nothing saved.
#[test]
fn a_draft_names_each_attachment_once() {
    let w = world();
    let mut draft = w.draft(valid_data());
    let mut twin = draft.attachments[0].clone();
    twin.kind = draft.attachments[1].kind.clone();
    draft.attachments.push(twin);
    let e = w.kernel.save_draft("applicant-1", ROUND, None, draft).unwrap_err();
    let ActError::BlockingFindings { findings } = e else { panic!("{e:?}") };
    assert_eq!(findings[0].rule_id, "attachment.id-unique");
    assert!(w.kernel.applications_in(ROUND).unwrap().is_empty());
}

/// Issue 18: experts score each expert-review item; the province's summary table lists
/// the applications it did not rank by the experts' mean total, highest first (ranks
/// the province gave still come first), and each row carries that score.
#[test]
fn the_province_summary_ranks_by_expert_item_scores() {
    let w = world();
    let k = &w.kernel;
    let items = ["er.expert.technology-advanced", "er.expert.mature-and-promotable"];
    // Three applications recommended by the city in this order, which then ranks them
    // the other way round (city-rank, while they wait at the province).
    let ids: Vec<String> = (1..=3)
        .map(|n| {
            let id = w.submitted(n);
            w.act("district-huicheng", &id, "district-recommend", Some("同意")).unwrap();
            w.act("city-huizhou", &id, "city-recommend", Some("同意")).unwrap();
            id
        })
        .collect();
    for (i, id) in ids.iter().enumerate() {
        let rank = Payload { rank: Some(3 - i as u32), ..Default::default() };
        k.act("city-huizhou", id, &ActionRequest { action: "city-rank".into(), payload: rank, ..Default::default() })
            .unwrap();
    }
    let rows = |s: &shenbao::Summary| {
        s.sections.iter().flat_map(|x| &x.rows).map(|r| (r.application.clone(), r.score)).collect::<Vec<_>>()
    };
    let city = k.summary(ROUND, shenbao::SummaryLevel::City, None).unwrap();
    let reversed: Vec<_> = ids.iter().rev().map(|i| (i.clone(), None)).collect();
    assert_eq!(rows(&city), reversed, "the city's table in the city's ranks");
    // Into expert review.
    let ids: Vec<String> = ids
        .into_iter()
        .map(|id| {
            w.act("province", &id, "province-recommend", Some("进入专家评审")).unwrap();
            let assign = Payload { experts: vec!["expert-1".into(), "expert-2".into()], ..Default::default() };
            k.act(
                "province",
                &id,
                &ActionRequest { action: "assign-experts".into(), payload: assign, ..Default::default() },
            )
            .unwrap();
            id
        })
        .collect();
    let score = |id: &str, expert: &str, a: f64, b: f64| {
        let item_scores = items.iter().map(|i| i.to_string()).zip([a, b]).collect();
        let payload = Payload { item_scores, ..Default::default() };
        k.act(expert, id, &ActionRequest { action: "score".into(), payload, ..Default::default() }).unwrap();
    };
    // Totals: first 75 and 80 → 77.5; second 90 and 95 → 92.5; third 85 and 86 → 85.5.
    score(&ids[0], "expert-1", 70.0, 80.0);
    score(&ids[0], "expert-2", 80.0, 80.0);
    score(&ids[1], "expert-1", 90.0, 90.0);
    score(&ids[1], "expert-2", 95.0, 95.0);
    score(&ids[2], "expert-1", 85.0, 85.0);
    score(&ids[2], "expert-2", 84.0, 88.0);
    let table = k.summary(ROUND, shenbao::SummaryLevel::Province, None).unwrap();
    assert_eq!(
        rows(&table),
        [(ids[1].clone(), Some(92.5)), (ids[2].clone(), Some(85.5)), (ids[0].clone(), Some(77.5))],
        "highest mean first: the city's ranks are the city's, not the province's"
    );
    // The city's table keeps the city's ranks, and shows no scores.
    let city = k.summary(ROUND, shenbao::SummaryLevel::City, None).unwrap();
    assert_eq!(rows(&city), reversed);
}

/// Issue 19: a summary export keeps each row's cells between its two passes only
/// within `KernelConfig::summary_kept_bytes`; past it, rows are read again. Either
/// way the table is the same — rows, order, 序号 and every cell — and the streamed
/// JSON is `Summary`'s serialisation.
#[test]
fn a_summary_past_its_memory_budget_reads_rows_again_and_is_the_same() {
    let make = |budget: usize| {
        let w = world_configured(spec(), |c| c.summary_kept_bytes = budget);
        for n in 1..=4 {
            let id = w.submitted(n);
            w.act("district-huicheng", &id, "district-recommend", Some("同意")).unwrap();
            w.act("city-huizhou", &id, "city-recommend", Some("同意")).unwrap();
        }
        let table = w.kernel.summary(ROUND, shenbao::SummaryLevel::City, None).unwrap();
        let mut json = shenbao::SummaryJson::default();
        w.kernel.summary_to(ROUND, shenbao::SummaryLevel::City, None, &mut json).unwrap();
        (table, serde_json::from_slice::<serde_json::Value>(&json.finish()).unwrap())
    };
    let (kept, kept_json) = make(shenbao::KernelConfig::default().summary_kept_bytes);
    // A budget of one byte keeps the first row's cells only; the other three are read again.
    let (reread, reread_json) = make(1);
    assert_eq!(kept.row_count(), 4);
    for (i, r) in kept.sections[0].rows.iter().enumerate() {
        assert_eq!(r.cells[..2], [(i + 1).to_string(), format!("示例赋能科技{}号有限公司", i + 1)], "{r:?}");
        assert_eq!(r.cells[3], "人工智能应用赋能", "a choice column shows its label");
    }
    assert_eq!(reread, kept);
    assert_eq!(kept_json, serde_json::to_value(&kept).unwrap());
    assert_eq!(reread_json, kept_json);
}

/// Issue 19: a summary reads its rows on several threads
/// (`KernelConfig::summary_threads`), over one read transaction, the round's ids
/// handed to them in chunks of 1,024 (2,600 rows: two full chunks and a part).
/// Whatever the threads and the memory budget (rows past it are read again in the
/// second pass), the table is the one a single thread makes — rows, order, 序号,
/// every cell — and a scope keeps only its own organisations' rows. (Sections and
/// ranks are covered single- and multi-threaded by the tests above, which run with
/// the default threads.)
#[test]
fn a_summary_read_on_several_threads_is_the_one_thread_s_table() {
    const ROWS: usize = 2_600;
    let make = |threads: usize, budget: usize, scope: Option<&str>| {
        let mut s = spec();
        let hz = s.cities.get_mut("huizhou").unwrap();
        hz.district_review = false;
        hz.district_deadline = None;
        s.quotas = Some(Vec::new());
        let w = world_configured(s, |c| {
            c.summary_threads = threads;
            c.summary_kept_bytes = budget;
        });
        // Three organisations in Huicheng, three in Huiyang (the generator writes
        // the queue index by the organisations it is given: store them so).
        let orgs: Vec<_> = (1..=6)
            .map(|i| {
                org(i, Some("huizhou"), Some(if i <= 3 { "huizhou.huicheng" } else { "huizhou.huiyang" }), "region")
            })
            .collect();
        w.kernel.upsert_orgs(&orgs).unwrap();
        w.kernel.__bench_fill_round(ROUND, &["city-review"], &orgs, ROWS).unwrap();
        let ids: Vec<String> = w.kernel.applications_in(ROUND).unwrap().into_iter().map(|a| a.id).collect();
        // Recommended in an order unlike the ids' (the table's order is the decisions').
        let mut order: Vec<&str> = ids.iter().map(String::as_str).collect();
        order.sort_by_key(|id| id.bytes().rev().collect::<Vec<u8>>());
        w.kernel.act_batch("city-huizhou", &order, &ActionRequest::with_opinion("city-recommend", "同意")).unwrap();
        let table = w.kernel.summary(ROUND, shenbao::SummaryLevel::City, scope).unwrap();
        let mut json = shenbao::SummaryJson::default();
        w.kernel.summary_to(ROUND, shenbao::SummaryLevel::City, scope, &mut json).unwrap();
        (table, serde_json::from_slice::<serde_json::Value>(&json.finish()).unwrap(), order.len())
    };
    let kept = shenbao::KernelConfig::default().summary_kept_bytes;
    let (one, one_json, n) = make(1, kept, None);
    assert_eq!((n, one.row_count()), (ROWS, ROWS));
    let rows = &one.sections.iter().flat_map(|s| &s.rows).collect::<Vec<_>>();
    assert!(rows.windows(2).all(|r| r[0].decision < r[1].decision), "in the order recommended");
    assert!(rows.iter().all(|r| r.cells[1].starts_with("示例赋能科技")), "{:?}", rows[0]);
    for (threads, budget) in [(2, kept), (3, kept), (4, 20_000)] {
        let (many, many_json, _) = make(threads, budget, None);
        assert!(many == one, "{threads} threads, budget {budget}: not the one thread's table");
        assert_eq!(many_json, one_json, "{threads} threads, budget {budget}");
    }
    let (one_scoped, ..) = make(1, kept, Some("huizhou.huicheng"));
    let (many_scoped, ..) = make(3, 20_000, Some("huizhou.huicheng"));
    assert!(one_scoped.row_count() > ROWS / 3 && one_scoped.row_count() < ROWS * 2 / 3, "{}", one_scoped.row_count());
    assert!(many_scoped == one_scoped, "scoped: not the one thread's table");
}

/// The round's applications a user may see (`GET /v1/rounds/{id}/applications`) are
/// read a page at a time from the queue index's ranges (`Kernel::applications_page`),
/// never the whole round: read page by page with pages of 1, 2, 3 and 100, each user
/// gets exactly the applications the access policy shows it — checked against every
/// application of the round — each once and redacted as `disclose` redacts: officers
/// of a district and of two cities, the province, assigned and unassigned experts,
/// and someone with no grant while one is on public notice.
#[test]
fn the_applications_a_user_sees_are_read_a_page_at_a_time() {
    let w = world();
    let ids = handled_scenario(&w);
    let payload = |p: Payload| ActionRequest { action: String::new(), payload: p, ..Default::default() };
    // "h" goes to expert review with expert-1 assigned; "s" (Shenzhen) on to the notice.
    w.act("province", &ids["h"], "province-recommend", Some("进入专家评审")).unwrap();
    let assign = Payload { experts: vec!["expert-1".into()], ..Default::default() };
    w.kernel.act("province", &ids["h"], &ActionRequest { action: "assign-experts".into(), ..payload(assign) }).unwrap();
    w.act("province", &ids["s"], "province-recommend", Some("进入专家评审")).unwrap();
    let assign = Payload { experts: vec!["expert-2".into()], ..Default::default() };
    w.kernel.act("province", &ids["s"], &ActionRequest { action: "assign-experts".into(), ..payload(assign) }).unwrap();
    let score = Payload { score: Some(90.0), ..Default::default() };
    w.kernel.act("expert-2", &ids["s"], &ActionRequest { action: "score".into(), ..payload(score) }).unwrap();
    w.act("province", &ids["s"], "publish-notice", None).unwrap();
    // Grants that overlap (a city and one of its districts) and that do not (another city).
    let overlapping = [
        ("district-officer", Scope::District("huizhou.huicheng".into())),
        ("city-officer", Scope::City("huizhou".into())),
        ("city-officer", Scope::City("shenzhen".into())),
    ];
    w.kernel.upsert_user(&user("several", &overlapping)).unwrap();
    let round = w.kernel.round(ROUND).unwrap();
    let all = w.kernel.applications_in(ROUND).unwrap();
    assert!(all.len() >= 9);
    for user_id in [
        "district-huicheng",
        "district-huiyang",
        "city-huizhou",
        "city-shenzhen",
        "several",
        "province",
        "expert-1",
        "expert-2",
        "someone",
    ] {
        let user = w.kernel.user(user_id).unwrap().unwrap();
        let mut expected: Vec<Application> =
            all.iter().filter_map(|a| w.kernel.disclose(&user, a.clone(), &round).unwrap()).collect();
        expected.sort_by(|a, b| a.id.cmp(&b.id));
        for limit in [1, 2, 3, 100] {
            let mut got: Vec<Application> = Vec::new();
            let mut after: Option<shenbao::QueueItem> = None;
            loop {
                let page = w.kernel.applications_page(&user, &round, after.as_ref(), limit).unwrap();
                assert!(page.len() <= limit);
                let full = page.len() == limit;
                for (place, app) in &page {
                    assert_eq!(
                        (place.application.as_str(), place.stage.as_str()),
                        (app.id.as_str(), app.state.stage.as_str())
                    );
                }
                after = page.last().map(|(p, _)| shenbao::QueueItem::from_cursor(&p.cursor()).unwrap());
                got.extend(page.into_iter().map(|(_, a)| a));
                if !full {
                    break;
                }
            }
            got.sort_by(|a, b| a.id.cmp(&b.id));
            assert_eq!(got, expected, "{user_id}, pages of {limit}");
        }
        let seen: Vec<&str> = expected.iter().map(|a| a.id.as_str()).collect();
        match user_id {
            "expert-1" => assert_eq!(seen, [ids["h"].as_str(), ids["s"].as_str()]),
            // The notice is open to anyone.
            "expert-2" | "someone" | "district-huiyang" => assert_eq!(seen, [ids["s"].as_str()]),
            _ => assert!(!seen.is_empty(), "{user_id}"),
        }
    }
    assert!(
        w.kernel.applications_page(&w.kernel.user("province").unwrap().unwrap(), &round, None, 0).unwrap().is_empty()
    );
}

/// An organisation on a channel no route of the round takes (a misspelt `regoin`)
/// may keep its draft but not submit it (`unknown_channel`, naming the channels the
/// round takes): its application would follow no route and count in no quota.
/// Put right, it submits.
#[test]
fn a_channel_no_route_takes_cannot_submit() {
    let w = world();
    w.kernel.upsert_org(&org(1, Some("huizhou"), Some("huizhou.huicheng"), "regoin")).unwrap();
    let r = w.kernel.save_draft("applicant-1", ROUND, None, w.draft(valid_data())).unwrap();
    let id = r.application.id.clone();
    let before = w.decisions();
    let err = w.kernel.act("applicant-1", &id, &ActionRequest::new("submit")).unwrap_err();
    assert_eq!(err.code(), "unknown_channel", "{err}");
    assert!(err.to_string().contains("regoin") && err.to_string().contains("central-enterprise"), "{err}");
    assert_eq!((w.decisions(), w.stage(&id)), (before, "draft".to_string()));
    w.kernel.save_draft("applicant-1", ROUND, Some(&id), w.draft(valid_data())).unwrap();
    w.kernel.upsert_org(&org(1, Some("huizhou"), Some("huizhou.huicheng"), "region")).unwrap();
    w.kernel.act("applicant-1", &id, &ActionRequest::new("submit")).unwrap();
    assert_eq!(w.stage(&id), "district-review");
}
