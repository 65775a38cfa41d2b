//! Native tests of the rules: one valid application, and each rule broken alone.

use super::*;
use serde_json::{Value, json};
use shenbao_sdk::{Attachment, testing};

fn valid() -> Value {
    serde_json::from_str(include_str!("../../../examples/enabling-resources/application-valid.json")).unwrap()
}

fn request(data: Value) -> CheckRequest {
    let mut r = testing::request(FORM, data);
    r.direction = Some("ai-application".into());
    r.attachments = vec![Attachment { id: "a1".into(), kind: "audit-report".into(), ..Default::default() }];
    r
}

fn rule_ids(r: &CheckResult) -> Vec<&str> {
    r.findings.iter().map(|f| f.rule_id.as_str()).collect()
}

#[test]
fn valid_application_has_no_findings_and_a_standard_signal() {
    let r = EnablingResources::check(&request(valid())).unwrap();
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!(r.signals.len(), 1);
    assert_eq!(r.signals[0].id, "er.signal.standards");
    assert_eq!(r.signals[0].weight, 2);
}

#[test]
fn revenue_below_floor_quotes_the_average() {
    let mut v = valid();
    v["revenue"] = json!([{ "year": 2023, "revenue": 980 }, { "year": 2022, "revenue": 950 }]);
    let r = EnablingResources::check(&request(v)).unwrap();
    assert_eq!(rule_ids(&r), ["er.specific.revenue-avg-2y-min-1000"]);
    assert_eq!(r.findings[0].message.zh, "近 2 年年均营业收入 965 万元，要求不低于 1000 万元");
    assert_eq!(r.findings[0].path, "$.revenue");
    assert_eq!(r.findings[0].severity, Severity::Blocking);
}

#[test]
fn revenue_of_both_years_is_required() {
    let mut v = valid();
    v["revenue"] = json!([{ "year": 2023, "revenue": 5000 }]);
    let r = EnablingResources::check(&request(v)).unwrap();
    assert_eq!(rule_ids(&r), ["er.specific.revenue-two-years"]);
}

#[test]
fn innovative_sme_is_exempt_from_revenue_and_may_give_a_statement() {
    let mut v = valid();
    v["revenue"] = json!([{ "year": 2023, "revenue": 10 }]);
    let mut req = request(v);
    req.applicant.tags.push("innovative-sme".into());
    req.attachments[0].kind = "financial-statement".into();
    let r = EnablingResources::check(&req).unwrap();
    assert_eq!(rule_ids(&r), ["er.specific.revenue-exempt"]);
    assert_eq!(r.findings[0].severity, Severity::Info);
}

#[test]
fn dishonest_applicant_is_blocked() {
    let mut req = request(valid());
    req.applicant.dishonest = true;
    let r = EnablingResources::check(&req).unwrap();
    assert_eq!(rule_ids(&r), ["er.basic.not-seriously-dishonest"]);
}

#[test]
fn less_than_two_years_is_a_warning_for_the_province() {
    let mut v = valid();
    v["business_since"] = json!("2022-08-11");
    let r = EnablingResources::check(&request(v)).unwrap();
    assert_eq!(rule_ids(&r), ["er.specific.years-in-business-min-2"]);
    assert_eq!(r.findings[0].severity, Severity::Warning);
    assert!(!r.has_blocking());
}

#[test]
fn two_cases_are_too_few() {
    let mut v = valid();
    v["cases"].as_array_mut().unwrap().pop();
    let r = EnablingResources::check(&request(v)).unwrap();
    assert_eq!(rule_ids(&r), ["er.cases.min-3"]);
    assert_eq!(r.findings[0].message.zh, "典型案例 2 个，要求不少于 3 个");
}

#[test]
fn case_feedback_is_required_and_fresh() {
    let mut v = valid();
    v["cases"][1]["feedback"] = json!("");
    v["cases"][2]["feedback_on"] = json!("2023-08-09");
    let r = EnablingResources::check(&request(v)).unwrap();
    assert_eq!(rule_ids(&r), ["er.cases.feedback-required", "er.freshness.feedback-within-1y"]);
    assert_eq!(r.findings[0].path, "$.cases[1].feedback");
    assert_eq!(r.findings[1].path, "$.cases[2].feedback_on");
}

#[test]
fn old_ip_is_refused() {
    let mut v = valid();
    v["ip"][0]["granted_on"] = json!("2019-08-09");
    let r = EnablingResources::check(&request(v)).unwrap();
    assert_eq!(rule_ids(&r), ["er.freshness.ip-within-5y"]);
    assert_eq!(r.findings[0].path, "$.ip[0].granted_on");
}

#[test]
fn no_ip_and_no_own_method_is_refused() {
    let mut v = valid();
    v["ip"] = json!([]);
    let r = EnablingResources::check(&request(v)).unwrap();
    assert_eq!(rule_ids(&r), ["er.resource.core-ip-or-own-method"]);
}

#[test]
fn audit_report_is_required() {
    let mut req = request(valid());
    req.attachments.clear();
    let r = EnablingResources::check(&req).unwrap();
    assert_eq!(rule_ids(&r), ["er.materials.audit-report"]);
}

#[test]
fn unknown_form_and_bad_json_are_plugin_errors() {
    let mut req = request(valid());
    req.form = "nope".into();
    assert_eq!(EnablingResources::check(&req).unwrap_err().code, "unknown-form");
    let mut req = request(valid());
    req.data = "{not json".into();
    assert_eq!(EnablingResources::check(&req).unwrap_err().code, "bad-input");
}

#[test]
fn manifest_declares_every_rule_once_and_the_library_graph() {
    let m = EnablingResources::manifest();
    let mut ids: Vec<_> = m.rules.iter().map(|r| r.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), RULES.len());
    assert_eq!(m.directions.len(), 6);
    assert!(shenbao_sdk::Target::Next == m.graph.actions.iter().find(|a| a.id == "city-recommend").unwrap().to);
    let warn = m.graph.actions.iter().find(|a| a.id == "warn").unwrap();
    assert_eq!(warn.deadline_months, Some(6));
    let remove = m.graph.actions.iter().find(|a| a.id == "remove").unwrap();
    assert_eq!(remove.ban_months, None, "removal after a failed rectification bars nothing");
    let for_cause = m.graph.actions.iter().find(|a| a.id == "remove-for-cause").unwrap();
    assert_eq!(for_cause.ban_months, Some(36));
    let schema: Value = serde_json::from_str(&m.forms[0].schema).unwrap();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(schema["properties"]["resource_name"]["title"], "资源名称");
}
