//! One program, three languages: the enabling-resources program written in Rust
//! (`plugins/enabling-resources`), Python (`plugins/enabling-resources-py`, componentize-py)
//! and JavaScript (`plugins/enabling-resources-js`, componentize-js), each built from
//! source and run in the kernel's sandbox, must describe the same manifest and give the
//! same findings — rule ids, severities, paths, messages — and signals on every example
//! application and on generated variations of them. Any difference fails.
//!
//! The generated strings use printable ASCII, CJK, full-width punctuation, emoji, quotes,
//! backslashes, control and format characters, combining marks, private use and Unicode
//! white space — all that Rust's `{:?}` escapes or `trim` removes. They leave out
//! unassigned code points, whose treatment follows each language's Unicode version.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use shenbao::contract::Manifest;
use shenbao::{Case, CaseSet, Expected, HostConfig, LoadedPlugin, PluginLimits, ProgramPlugin, WasmHost};
use std::sync::{Arc, OnceLock};

const ER: [&str; 3] = ["enabling-resources", "enabling-resources-py", "enabling-resources-js"];
const MINIMAL: [&str; 3] = ["minimal", "minimal-py", "minimal-js"];

/// One host for the process, its compiled-component cache under `target/` so that
/// later runs load the Python and JavaScript components without compiling them again.
fn host() -> Arc<WasmHost> {
    static HOST: OnceLock<Arc<WasmHost>> = OnceLock::new();
    HOST.get_or_init(|| {
        let cache = testkit::shared_cache_dir();
        Arc::new(WasmHost::new(HostConfig { cache_dir: Some(cache), ..HostConfig::default() }).unwrap())
    })
    .clone()
}

fn load(package: &str) -> LoadedPlugin {
    LoadedPlugin::standalone(host(), &testkit::plugin_bytes(package), PluginLimits::default())
        .unwrap_or_else(|e| panic!("{package}: {e}"))
}

fn trio(packages: [&str; 3]) -> &'static [(String, LoadedPlugin)] {
    static ER_TRIO: OnceLock<Vec<(String, LoadedPlugin)>> = OnceLock::new();
    static MINIMAL_TRIO: OnceLock<Vec<(String, LoadedPlugin)>> = OnceLock::new();
    let cell = if packages == ER { &ER_TRIO } else { &MINIMAL_TRIO };
    cell.get_or_init(|| packages.iter().map(|p| (p.to_string(), load(p))).collect())
}

/// The manifest with each form's schema parsed, so key order and spacing do not count.
fn comparable(m: &Manifest) -> Value {
    let mut v = serde_json::to_value(m).unwrap();
    for f in v["forms"].as_array_mut().unwrap() {
        let schema: Value = serde_json::from_str(f["schema"].as_str().unwrap()).unwrap();
        f["schema"] = schema;
    }
    v
}

fn assert_same_manifest(packages: [&str; 3]) {
    let plugins = trio(packages);
    let (first, reference) = (&plugins[0].0, comparable(plugins[0].1.plugin().manifest()));
    for (name, p) in &plugins[1..] {
        let got = comparable(p.plugin().manifest());
        if got != reference {
            let (a, b) = (reference.as_object().unwrap(), got.as_object().unwrap());
            let differing: Vec<&String> = a.keys().filter(|k| a.get(*k) != b.get(*k)).collect();
            panic!("{name} describes another manifest than {first}: fields {differing:?} differ");
        }
    }
}

/// Run `case` through each plugin; all must give the same findings and signals.
fn agree(set: &CaseSet, packages: [&str; 3], name: &str, case: &Case) -> Result<Expected, String> {
    let plugins = trio(packages);
    let mut results: Vec<(String, Expected)> = Vec::new();
    for (package, p) in plugins {
        let run = set.run_one(p, name, case).map_err(|e| format!("{package}: {e}"))?;
        results.push((package.clone(), run.got));
    }
    let (first, reference) = &results[0];
    for (package, got) in &results[1..] {
        if got != reference {
            return Err(format!(
                "case {name}: {package} differs from {first}\n{first}: {}\n{package}: {}\ncase data: {}",
                serde_json::to_string_pretty(reference).unwrap(),
                serde_json::to_string_pretty(got).unwrap(),
                serde_json::to_string(&case.data).unwrap(),
            ));
        }
    }
    Ok(reference.clone())
}

fn er_set() -> &'static CaseSet {
    static SET: OnceLock<CaseSet> = OnceLock::new();
    SET.get_or_init(|| CaseSet::load(testkit::root().join("examples").join("enabling-resources")).unwrap())
}

#[test]
fn the_three_languages_describe_the_same_manifest() {
    assert_same_manifest(ER);
    let m = trio(ER)[1].1.plugin().manifest();
    assert_eq!(m.rules.len(), 17, "the Python program declares every rule");
}

#[test]
fn the_three_languages_agree_on_every_example_application() {
    let set = er_set();
    let mut failures = Vec::new();
    for (name, case) in &set.cases {
        match agree(set, ER, name, case) {
            // And all three give what the examples expect.
            Ok(got) if Some(&got) == set.expected.get(name) => {}
            Ok(got) => failures.push(format!("{name}: all three agree on {got:?}, but expected.json differs")),
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(set.cases.len() >= 30, "the example set is whole ({} cases)", set.cases.len());
}

#[test]
fn the_minimal_program_is_the_same_in_three_languages() {
    assert_same_manifest(MINIMAL);
    let set = CaseSet::load(testkit::root().join("plugins").join("minimal").join("cases")).unwrap();
    for (name, case) in &set.cases {
        let got = agree(&set, MINIMAL, name, case).unwrap();
        assert_eq!(Some(&got), set.expected.get(name), "{name}");
    }
}

// ------------------------------------------------------------------ generated variations

/// Text that exercises quoting and trimming.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z0-9 ]{0,6}",
        Just("示例客户".to_string()),
        Just("（全角）".to_string()),
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just("'".to_string()),
        Just("\n".to_string()),
        Just("\t".to_string()),
        Just("\u{1}".to_string()),
        Just("\u{7f}".to_string()),
        Just("\u{85}".to_string()),
        Just("\u{a0}".to_string()),
        Just("\u{3000}".to_string()),
        Just("\u{2028}".to_string()),
        Just("\u{1c}".to_string()),
        Just("\u{feff}".to_string()),
        Just("😀".to_string()),
        Just("e\u{301}".to_string()),
        Just("\u{20dd}".to_string()),
        Just("\u{200b}".to_string()),
        Just("\u{e000}".to_string()),
        Just("\u{ff9e}".to_string()),
    ];
    prop::collection::vec(piece, 0..4).prop_map(|v| v.concat())
}

/// Text that the form's schema accepts where `minLength: 1` applies.
fn nonempty_text() -> impl Strategy<Value = String> {
    text().prop_map(|s| if s.is_empty() { "x".into() } else { s })
}

fn date() -> impl Strategy<Value = String> {
    (2012i32..2030, 1u8..=12, 1u8..=31).prop_map(|(y, m, d)| {
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let last = match m {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        format!("{y:04}-{m:02}-{:02}", d.min(last))
    })
}

/// Amounts in 万元, with exact halves and quarters that round differently by method.
fn amount() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0u32..4000).prop_map(f64::from),
        (0i64..40_000).prop_map(|n| n as f64 / 8.0),
        (0i64..400_000).prop_map(|n| n as f64 / 1000.0),
        Just(1000.0),
        Just(999.995),
        Just(1000.125),
        Just(-0.0),
        Just(-12.5),
        Just(1e22),
        (0.0f64..5000.0),
    ]
}

const SCOPES: &[&str] = &["ai-application", "rd-innovation", "manufacturing", "brand", "market-sales", "comprehensive"];
const TAGS: &[&str] = &[
    "abnormal-operation",
    "innovative-sme",
    "university",
    "research-institute",
    "new-rd-institution",
    "innovation-platform",
    "other",
];
const QUALIFICATIONS: &[&str] = &["key-laboratory", "industrial-design-centre", "robot-backbone", ""];
const ATTACHMENT_KINDS: &[&str] = &["audit-report", "financial-statement", "customer-feedback"];

fn subset(all: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    prop::sample::subsequence(all, 0..=all.len()).prop_map(|v| v.into_iter().map(String::from).collect())
}

/// A variation: everything the program reads, drawn at random around a passing case.
fn variation() -> impl Strategy<Value = Value> {
    let form = (
        (prop::sample::select(SCOPES), nonempty_text(), date()),
        prop::collection::vec((2018u32..2027, amount()), 0..4),
        prop::collection::vec((prop::sample::select(&["invention-patent", "utility-model"][..]), nonempty_text(), date()), 0..3),
        text(),
        prop::collection::vec((nonempty_text(), text(), prop::option::of(date())), 0..5),
        prop::collection::vec((prop::sample::select(&["national", "industry", "local"][..]), nonempty_text()), 0..3),
        (any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(|((scope, name, since), revenue, ip, own_method, cases, standards, (accident, dishonest, truthful))| {
            json!({
                "resource_name": name.chars().take(100).collect::<String>(),
                "scope": scope,
                "key_industries": ["智能家电"],
                "summary": "示例",
                "business_since": since,
                "revenue": revenue.iter().map(|(y, r)| json!({"year": y, "revenue": r})).collect::<Vec<_>>(),
                "ip": ip.iter().enumerate().map(|(i, (kind, name, on))| json!({"kind": kind, "name": name, "number": format!("ZL{i}"), "granted_on": on})).collect::<Vec<_>>(),
                "own_method": own_method,
                "standards": standards.iter().map(|(level, name)| json!({"level": level, "name": name})).collect::<Vec<_>>(),
                "cases": cases.iter().map(|(customer, feedback, on)| {
                    let mut c = json!({"customer": customer, "implementation": "实施", "results": "成效", "feedback": feedback});
                    if let Some(on) = on { c["feedback_on"] = json!(on); }
                    c
                }).collect::<Vec<_>>(),
                "commitment": {"no_major_accident_3y": accident, "not_seriously_dishonest": dishonest, "truthful": truthful},
            })
        });
    let applicant = (
        any::<bool>(),
        subset(TAGS),
        prop::collection::vec((prop::sample::select(QUALIFICATIONS), prop::option::of(date())), 0..3),
        prop::sample::select(&["region", "out-of-province", "central-enterprise"][..]),
    );
    let history = prop::collection::vec(
        (
            prop::sample::select(&["enabling-resources", "eco-partners"][..]),
            prop::sample::select(&["removed-for-cause", "library", "void"][..]),
            prop::option::of(date()),
        ),
        0..3,
    );
    let as_of = (2019i32..2028, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"));
    (form, applicant, history, subset(ATTACHMENT_KINDS), as_of, prop::sample::select(SCOPES)).prop_map(
        |(data, (dishonest, tags, quals, channel), history, kinds, as_of, direction)| {
            json!({
                "data": data,
                "direction": direction,
                "as_of": as_of,
                "applicant": {
                    "dishonest": dishonest,
                    "tags": tags,
                    "channel": channel,
                    "qualifications": quals.iter().map(|(id, until)| json!({"id": id, "name": "认定", "granted_by": "省工信厅", "valid_until": until})).collect::<Vec<_>>(),
                },
                "history": history.iter().enumerate().map(|(i, (program, stage, on))| json!({
                    "application": format!("app-{i}"), "program": program, "round": "r", "year": 2022,
                    "stage": stage, "outcome": "removed", "decided_on": on,
                })).collect::<Vec<_>>(),
                "kinds": kinds,
            })
        },
    )
}

/// The passing example with the variation laid over it.
fn apply(base: &Case, v: &Value) -> Case {
    let mut c = serde_json::to_value(base).unwrap();
    c["data"] = v["data"].clone();
    c["direction"] = v["direction"].clone();
    c["as_of"] = v["as_of"].clone();
    c["history"] = v["history"].clone();
    for key in ["dishonest", "tags", "channel", "qualifications"] {
        c["applicant"][key] = v["applicant"][key].clone();
    }
    let template = c["attachments"][0].clone();
    let extra: Vec<Value> = v["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let mut a = template.clone();
            a["kind"] = k.clone();
            a["issued_on"] = v["as_of"].clone();
            a
        })
        .collect();
    let mut attachments: Vec<Value> =
        c["attachments"].as_array().unwrap().iter().filter(|a| a["kind"] != "audit-report").cloned().collect();
    attachments.extend(extra);
    c["attachments"] = Value::Array(attachments);
    serde_json::from_value(c).unwrap()
}

#[test]
fn the_three_languages_agree_on_generated_variations() {
    let set = er_set();
    let base = set.cases["pass-ai-application"].clone();
    let cases: u32 = std::env::var("SHENBAO_DIFF_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(160);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let fired = std::cell::RefCell::new(std::collections::BTreeSet::new());
    runner
        .run(&variation(), |v| {
            let case = apply(&base, &v);
            let got = agree(set, ER, "variation", &case).map_err(TestCaseError::fail)?;
            fired.borrow_mut().extend(got.findings.iter().map(|f| f.rule_id.clone()));
            Ok(())
        })
        .unwrap();
    // The generator reaches the program's rules, not only the schema.
    let fired = fired.into_inner();
    let program_rules = fired.iter().filter(|r| r.starts_with("er.")).count();
    assert!(program_rules >= 12, "the variations fired only {fired:?}");
}

/// A Python exception escaping the program traps the call; a JavaScript error becomes an
/// `internal-error` plugin error (componentize-js lowers a throw as the error value). Either
/// way the kernel's error names the cause — the exception and where — not only "panicked".
#[test]
fn an_exception_in_a_guest_language_names_its_cause() {
    let set = CaseSet::load(testkit::root().join("plugins").join("minimal").join("cases")).unwrap();
    let case = &set.cases["pass"];
    for (package, want) in
        [("minimal-py", vec!["TypeError", "app.py", "in check"]), ("minimal-js", vec!["TypeError", "index.js"])]
    {
        let p = load(package);
        let mut req = shenbao::contract::CheckRequest {
            form: "main".into(),
            direction: Some("general".into()),
            data: "null".into(),
            applicant: Default::default(),
            history: Vec::new(),
            attachments: case.attachments.clone(),
            round: set.round_info(case),
            as_of: case.as_of,
        };
        req.applicant.credit_code = case.applicant.credit_code.clone();
        let err = p.plugin().check_application(&req).unwrap_err().to_string();
        for w in want {
            assert!(err.contains(w), "{package}: {err}");
        }
    }
}

/// A refusal (`plugin-error`) reads the same in the three languages: an unknown edition.
#[test]
fn a_refusal_is_the_same_in_three_languages() {
    let set = CaseSet::load(testkit::root().join("plugins").join("minimal").join("cases")).unwrap();
    let mut round = set.round_info(&set.cases["pass"]);
    round.edition = "1999".into();
    let errors: Vec<String> = trio(MINIMAL)
        .iter()
        .map(|(package, p)| {
            let e = p.plugin().check_round(&round).unwrap_err().to_string();
            assert!(e.contains("unknown-edition") && e.contains("1999"), "{package}: {e}");
            // The plugin's identity differs (its sha256); what it said must not.
            e[e.find("failed in").unwrap()..].to_string()
        })
        .collect();
    assert!(errors.iter().all(|e| e == &errors[0]), "{errors:#?}");
}

// ------------------------------------------------------------------ the SDKs' builders

/// Run `script` with `program` (`python3` or `node`) and parse what it prints as JSON.
fn run_json(program: &str, args: &[&str], script: &str) -> Value {
    let out = std::process::Command::new(program)
        .args(args)
        .arg(script)
        .current_dir(testkit::root())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A graph written in JSON with the SDKs' defaults left out (`optional: false`, absent
/// options) as the contract's `Graph`.
fn graph_of(mut v: Value) -> shenbao::contract::Graph {
    for s in v["stages"].as_array_mut().unwrap() {
        let s = s.as_object_mut().unwrap();
        s.entry("optional").or_insert(json!(false));
        for k in ["role", "sla_working_days", "window", "outcome"] {
            s.entry(k).or_insert(Value::Null);
        }
    }
    for a in v["actions"].as_array_mut().unwrap() {
        let a = a.as_object_mut().unwrap();
        a.entry("batch").or_insert(json!(false));
        a.entry("runs_check").or_insert(json!(false));
        for k in ["deadline_months", "ban_months", "annual_due"] {
            a.entry(k).or_insert(Value::Null);
        }
    }
    serde_json::from_value(v).unwrap()
}

/// Issue 18: Python's `platform_graph` and JavaScript's `platformGraph` build the Rust
/// SDK's `PlatformGraph` — the same stages and action ids — for every combination of
/// options, not only the one the enabling-resources program uses.
#[test]
fn the_platform_graph_builders_agree_in_three_languages() {
    use shenbao_sdk::{Library, MonthDay, PlatformGraph};
    let mut configs = Vec::new();
    for district in [true, false] {
        for city_sla in [None, Some(10)] {
            for experts in [None, Some(0), Some(5)] {
                for notice in [None, Some(0), Some(3)] {
                    for library in [false, true] {
                        configs.push((district, city_sla, experts, notice, library));
                    }
                }
            }
        }
    }
    let route = json!({"id": "direct", "title": {"zh": "直报", "en": "direct"},
                       "when": {"channel": ["central-enterprise"]}, "skip": ["city-review"]});
    let py_args: Vec<Value> = configs
        .iter()
        .map(|(d, c, e, n, l)| {
            json!({"district_review": d, "city_sla": c, "expert_review": e, "public_notice": n,
                   "library": l.then(|| json!({"annual_due": {"month": 3, "day": 31}, "rectify_months": 6, "ban_months": 36})),
                   "routes": [route]})
        })
        .collect();
    let js_args: Vec<Value> = configs
        .iter()
        .map(|(d, c, e, n, l)| {
            json!({"districtReview": d, "citySla": c, "expertReview": e, "publicNotice": n,
                   "library": l.then(|| json!({"annualDue": [3, 31], "rectifyMonths": 6, "banMonths": 36})),
                   "routes": [route]})
        })
        .collect();
    let py = run_json(
        "python3",
        &["-c"],
        &format!(
            "import json, sys\nsys.path.insert(0, 'plugins/sdk-python/shenbao_sdk')\nimport graph\n\
             cfgs = json.loads({:?})\n\
             print(json.dumps([graph.platform_graph(**c) for c in cfgs]))",
            serde_json::to_string(&py_args).unwrap()
        ),
    );
    let js = run_json(
        "node",
        &["--input-type=module", "-e"],
        &format!(
            "import {{ platformGraph }} from './plugins/sdk-js/graph.js';\n\
             console.log(JSON.stringify(JSON.parse({:?}).map(platformGraph)));",
            serde_json::to_string(&js_args).unwrap()
        ),
    );
    for (i, (district, city_sla, experts, notice, library)) in configs.iter().enumerate() {
        let rust = PlatformGraph {
            district_review: *district,
            city_sla: *city_sla,
            expert_review: *experts,
            public_notice: *notice,
            library: library.then_some(Library {
                annual_due: MonthDay { month: 3, day: 31 },
                rectify_months: 6,
                ban_months: 36,
            }),
            routes: vec![serde_json::from_value(route.clone()).unwrap()],
        }
        .build();
        let what = format!("{:?}", configs[i]);
        assert_eq!(graph_of(py[i].clone()), rust, "Python, {what}");
        assert_eq!(graph_of(js[i].clone()), rust, "JavaScript, {what}");
    }
}

/// Issue 18: a form written as Python types and as TypeBox types gives the JSON Schema
/// the Rust SDK derives from the same Rust types — beyond the two programs' forms:
/// TypedDicts, `Literal` and plain string enums, optional choices and sections, lists
/// of bounded integers, `datetime.date`, a section's description, `extra`.
#[test]
fn forms_from_types_agree_in_three_languages() {
    use schemars::JsonSchema;
    #[allow(dead_code)]
    #[derive(JsonSchema)]
    #[serde(rename_all = "kebab-case")]
    enum Level {
        /// 国家级
        National,
        /// 省级
        Provincial,
    }
    #[allow(dead_code)]
    #[derive(JsonSchema)]
    #[serde(rename_all = "kebab-case")]
    enum Plain {
        Alpha,
        Beta,
    }
    /// 联系人信息
    #[allow(dead_code)]
    #[derive(JsonSchema)]
    struct Contact {
        #[schemars(title = "姓名", length(min = 1, max = 20))]
        name: String,
        #[schemars(title = "电话", regex(pattern = r"^[0-9-]{7,20}$"))]
        phone: Option<String>,
    }
    #[allow(dead_code)]
    #[derive(JsonSchema)]
    #[schemars(title = "测试表", description = "各类字段")]
    struct TestForm {
        #[schemars(title = "级别")]
        level: Option<Level>,
        #[schemars(title = "代号")]
        plain: Plain,
        #[schemars(title = "联系人")]
        contact: Contact,
        #[schemars(title = "备用联系人")]
        backup: Option<Contact>,
        #[schemars(title = "年份", length(min = 1, max = 5), inner(range(min = 2000, max = 2100)))]
        years: Vec<u16>,
        #[schemars(title = "比例（%）", range(min = 0, max = 100))]
        share: f64,
        #[schemars(title = "人数")]
        count: i32,
        #[schemars(title = "成立日期")]
        founded: shenbao_sdk::Date,
        #[schemars(title = "已盖章")]
        #[serde(default)]
        stamped: bool,
        #[schemars(title = "标签")]
        #[serde(default)]
        tags: Vec<String>,
    }
    let extra = json!({"dependentRequired": {"backup": ["contact"]}});
    let rust: Value = serde_json::from_str(
        &shenbao_sdk::form_with::<TestForm>("t", shenbao_sdk::Text::new("t", "t"), extra.clone()).schema,
    )
    .unwrap();
    let py = run_json(
        "python3",
        &["-c"],
        &format!(
            r#"
import dataclasses, datetime, enum, json, sys
from typing import Annotated, Literal, Optional, TypedDict
sys.path.insert(0, "plugins/sdk-python/shenbao_sdk")
from forms import U16, I32, Choice, Field, form_meta, form_schema

class Level(Choice):
    NATIONAL = "national", "国家级"
    PROVINCIAL = "provincial", "省级"

class Plain(str, enum.Enum):
    ALPHA = "alpha"
    BETA = "beta"

class Contact(TypedDict):
    """联系人信息"""
    name: Annotated[str, Field(title="姓名", min_length=1, max_length=20)]
    phone: Annotated[Optional[str], Field(title="电话", pattern="^[0-9-]{{7,20}}$")]

@form_meta(title="测试表", description="各类字段")
@dataclasses.dataclass(kw_only=True)
class TestForm:
    level: Annotated[Optional[Level], Field(title="级别")] = None
    plain: Annotated[Plain, Field(title="代号")]
    contact: Annotated[Contact, Field(title="联系人")]
    backup: Annotated[Optional[Contact], Field(title="备用联系人")] = None
    years: Annotated[list[Annotated[U16, Field(minimum=2000, maximum=2100)]], Field(title="年份", min_items=1, max_items=5)]
    share: Annotated[float, Field(title="比例（%）", minimum=0, maximum=100)]
    count: Annotated[I32, Field(title="人数")]
    founded: Annotated[datetime.date, Field(title="成立日期")]
    stamped: Annotated[bool, Field(title="已盖章")] = False
    tags: Annotated[list[str], Field(title="标签")] = dataclasses.field(default_factory=list)

print(json.dumps(form_schema(TestForm, extra=json.loads({extra:?}))))
"#,
            extra = extra.to_string()
        ),
    );
    let js = run_json(
        "node",
        &["--input-type=module", "-e"],
        &format!(
            r#"
import {{ Type }} from "./plugins/sdk-js/typebox.js";
import {{ Field, formSchema }} from "./plugins/sdk-js/forms.js";
const Level = Type.Union([Type.Literal("national", {{ title: "国家级" }}), Type.Literal("provincial", {{ title: "省级" }})], {{ $id: "Level" }});
const Plain = Type.Unsafe({{ $id: "Plain", type: "string", enum: ["alpha", "beta"] }});
const Contact = Type.Object({{
  name: Type.String({{ title: "姓名", minLength: 1, maxLength: 20 }}),
  phone: Type.Optional(Type.String({{ title: "电话", pattern: "^[0-9-]{{7,20}}$" }})),
}}, {{ $id: "Contact", description: "联系人信息" }});
const TestForm = Type.Object({{
  level: Type.Optional(Type.Ref(Level, {{ title: "级别" }})),
  plain: Type.Ref(Plain, {{ title: "代号" }}),
  contact: Type.Ref(Contact, {{ title: "联系人" }}),
  backup: Type.Optional(Type.Ref(Contact, {{ title: "备用联系人" }})),
  years: Type.Array(Field.u16({{ minimum: 2000, maximum: 2100 }}), {{ title: "年份", minItems: 1, maxItems: 5 }}),
  share: Type.Number({{ title: "比例（%）", minimum: 0, maximum: 100 }}),
  count: Field.i32({{ title: "人数" }}),
  founded: Field.date({{ title: "成立日期" }}),
  stamped: Type.Boolean({{ title: "已盖章", default: false }}),
  tags: Type.Array(Type.String(), {{ title: "标签", default: [] }}),
}}, {{ title: "测试表", description: "各类字段" }});
console.log(JSON.stringify(formSchema(TestForm, {{ defs: [Level, Plain, Contact], extra: JSON.parse({extra:?}) }})));
"#,
            extra = extra.to_string()
        ),
    );
    assert_eq!(py, rust, "Python\n{py:#}\nRust\n{rust:#}");
    assert_eq!(js, rust, "JavaScript\n{js:#}\nRust\n{rust:#}");
}

/// Issue 18: an author's mistakes in the Python and JavaScript SDKs are refused naming
/// the field or option and what to use — and the SDKs import outside the sandbox (plain
/// Python, Node) so a form can be tried before it is built.
#[test]
fn the_sdks_name_an_authors_mistakes() {
    let py = run_json(
        "python3",
        &["-c"],
        r#"
import dataclasses, datetime, decimal, json, sys
from typing import Annotated, NotRequired, TypedDict
sys.path.insert(0, "plugins/sdk-python")
import shenbao_sdk                      # the package itself, outside componentize-py
from shenbao_sdk.forms import Field, form_schema
from shenbao_sdk.graph import platform_graph
out = {}
class Contact(TypedDict):
    name: Annotated[str, Field(title="姓名")]
    phone: NotRequired[Annotated[str, Field(title="电话")]]
@dataclasses.dataclass
class Ok:
    contact: Annotated[Contact, Field(title="联系人")]
    since: Annotated[datetime.date, Field(title="日期")] = datetime.date(2026, 1, 1)
s = form_schema(Ok)
out["required"] = s["$defs"]["Contact"]["required"]
out["default"] = s["properties"]["since"]["default"]
@dataclasses.dataclass
class Bad:
    budget: decimal.Decimal
try:
    form_schema(Bad)
except TypeError as e:
    out["decimal"] = str(e)
try:
    platform_graph(districtReview=True)
except TypeError as e:
    out["graph"] = str(e)
try:
    platform_graph(expert_review=True)
except TypeError as e:
    out["days"] = str(e)
def section(title):
    @dataclasses.dataclass
    class Sec:
        a: Annotated[str, Field(title=title)]
    return Sec
@dataclasses.dataclass
class Twice:
    x: Annotated[section("甲"), Field(title="甲")]
    y: Annotated[section("乙"), Field(title="乙")]
try:
    form_schema(Twice)
except TypeError as e:
    out["twice"] = str(e)
print(json.dumps(out, ensure_ascii=False))
"#,
    );
    assert_eq!(py["required"], json!(["name"]), "NotRequired keys are optional: {py}");
    assert_eq!(py["default"], "2026-01-01");
    let decimal = py["decimal"].as_str().unwrap();
    assert!(decimal.contains("Bad.budget") && decimal.contains("Wan") && decimal.contains("Choice"), "{decimal}");
    assert!(py["graph"].as_str().unwrap().contains("districtReview"), "{py}");
    assert!(py["days"].as_str().unwrap().contains("expert_review is working days"), "{py}");
    assert!(py["twice"].as_str().unwrap().contains("two different types are named Sec"), "{py}");

    let js = run_json(
        "node",
        &["--input-type=module", "-e"],
        r#"
import { Type } from "./plugins/sdk-js/typebox.js";
import { formSchema } from "./plugins/sdk-js/forms.js";
import { platformGraph } from "./plugins/sdk-js/graph.js";
const out = {};
const attempt = (k, f) => { try { f(); out[k] = "accepted"; } catch (e) { out[k] = e.message; } };
attempt("option", () => platformGraph({ district_review: true }));
attempt("date", () => formSchema(Type.Object({ d: Type.Date({ title: "日期" }) })));
attempt("nullDate", () => formSchema(Type.Object({ d: Type.Union([Type.Date(), Type.Null()], { title: "日期" }) })));
attempt("ref", () => formSchema(Type.Object({ s: Type.Ref("Scope", { title: "范围" }) })));
attempt("days", () => platformGraph({ expertReview: true }));
const A = Type.Object({ a: Type.String({ title: "甲" }) }, { $id: "Sec" });
const B = Type.Object({ b: Type.String({ title: "乙" }) }, { $id: "Sec" });
attempt("twice", () => formSchema(Type.Object({ x: A, y: B })));
const root = formSchema(Type.Object({ a: Type.String({ title: "甲" }) }, { $id: "Main", title: "表" }));
out.root = [root.type, Object.keys(root.properties), root.$ref ?? null];
console.log(JSON.stringify(out));
"#,
    );
    let s = |k: &str| js[k].as_str().unwrap_or_default().to_string();
    assert!(s("option").contains("\"district_review\"") && s("option").contains("districtReview"), "{js}");
    assert!(s("date").contains("/properties/d") && s("date").contains("Field.date()"), "{js}");
    assert!(s("nullDate").contains("/properties/d") && s("nullDate").contains("Field.date()"), "{js}");
    assert!(s("ref").contains("\"Scope\"") && s("ref").contains("defs"), "{js}");
    assert!(s("days").contains("expertReview is working days"), "{js}");
    assert!(s("twice").contains("two different schemas have the $id \"Sec\""), "{js}");
    assert_eq!(js["root"], json!(["object", ["a"], null]), "a root with an $id stays the form");
}
