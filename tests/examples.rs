//! The three programs' example sets, run through the kernel with the real
//! components: every case's findings against `expected.json`, and the set's
//! shape — every rule of the manifest has a case that fails exactly that rule and
//! a passing case of the same direction and edition in which it does not fire.
//! The rule tables in the plugins' READMEs are generated from the same data.
//!
//! `SHENBAO_BLESS=1 cargo test -p shenbao-tests --test examples` rewrites
//! `expected.json` and the README tables; review the diff like code.

use shenbao::contract::Severity;
use shenbao::{CaseRun, CaseSet, HostConfig, Kernel, KernelConfig};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Rules whose failing example is not a case, and the test that covers them.
const TESTED_ELSEWHERE: &[(&str, &str)] =
    &[("iiot.round.body-known", "examples::iiot_round_for_an_unknown_body_is_refused")];

fn bless() -> bool {
    std::env::var_os("SHENBAO_BLESS").is_some()
}

fn kernel(dir: &tempfile::TempDir) -> Kernel {
    static CACHE: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(|| tempfile::tempdir().unwrap()).path().to_path_buf();
    let config = KernelConfig {
        host: HostConfig { cache_dir: Some(cache), ..HostConfig::default() },
        clock: Arc::new(shenbao::SystemClock),
        blob_dir: None,
        ..KernelConfig::default()
    };
    Kernel::open_with(dir.path().join("shenbao.redb"), config).unwrap()
}

struct Ran {
    set: CaseSet,
    runs: BTreeMap<String, CaseRun>,
    manifest: shenbao::contract::Manifest,
    kernel: Kernel,
    _dir: tempfile::TempDir,
}

fn run(program: &str) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    let kernel = kernel(&dir);
    let installed = kernel.install_plugin(&testkit::plugin_bytes(program)).unwrap();
    let loaded = kernel.plugin(program, &installed.record.id.version).unwrap();
    let set = CaseSet::load(testkit::root().join("examples").join(program)).unwrap();
    let mut runs = set.run(&loaded).unwrap();
    if bless() {
        set.write_expected(&runs).unwrap();
        for r in &mut runs {
            r.expected = Some(r.got.clone());
        }
    }
    let manifest = installed.record.manifest.clone();
    let runs = runs.into_iter().map(|r| (r.name.clone(), r)).collect();
    Ran { set, runs, manifest, kernel, _dir: dir }
}

impl Ran {
    fn direction_edition(&self, name: &str) -> (Option<String>, String) {
        let case = &self.set.cases[name];
        let edition = case.edition.clone().or_else(|| self.set.round.edition.clone()).unwrap_or_default();
        (case.direction.clone(), edition)
    }

    /// Passing cases of the same direction and edition as `fail-<rule>`, in which the rule does not fire.
    fn passing_for(&self, rule: &str) -> Vec<&str> {
        let key = self.direction_edition(&format!("fail-{rule}"));
        self.runs
            .values()
            .filter(|r| r.name.starts_with("pass-") && self.direction_edition(&r.name) == key)
            .filter(|r| !r.got.findings.iter().any(|f| f.rule_id == rule))
            .map(|r| r.name.as_str())
            .collect()
    }

    fn check(&self) {
        let mut problems = Vec::new();
        // 1. Every case gives what `expected.json` says.
        for r in self.runs.values() {
            if !r.passed() {
                problems.push(format!("{}: findings differ from expected.json\n{}", r.name, r.diff()));
            }
        }
        // 2. Passing cases have no blocking or warning findings.
        for r in self.runs.values().filter(|r| r.name.starts_with("pass-")) {
            let bad: Vec<&str> =
                r.got.findings.iter().filter(|f| f.severity != Severity::Info).map(|f| f.rule_id.as_str()).collect();
            if !bad.is_empty() {
                problems.push(format!("{} should pass but gives {bad:?}", r.name));
            }
        }
        // 3. Every rule fails alone in its own case, and passes in a sibling.
        let rules: Vec<&str> = self.manifest.rules.iter().map(|r| r.id.as_str()).collect();
        for rule in &rules {
            if TESTED_ELSEWHERE.iter().any(|(r, _)| r == rule) {
                continue;
            }
            match self.runs.get(&format!("fail-{rule}")) {
                None => problems.push(format!("rule {rule} has no case fail-{rule}.json")),
                Some(r) if r.rule_ids() != [*rule] => {
                    problems.push(format!("fail-{rule} should fail exactly {rule} but gives {:?}", r.rule_ids()))
                }
                Some(_) => {
                    if self.passing_for(rule).is_empty() {
                        problems.push(format!("rule {rule} has no passing case of the same direction and edition"));
                    }
                }
            }
        }
        // 4. No stale names; schema and declared-attachment cases fail only there.
        for r in self.runs.values() {
            if let Some(rule) = r.name.strip_prefix("fail-") {
                if !rules.contains(&rule) {
                    problems.push(format!("{} names no rule of the manifest", r.name));
                }
            }
            let only =
                |prefix: &str| !r.got.findings.is_empty() && r.rule_ids().iter().all(|id| id.starts_with(prefix));
            if r.name.starts_with("schema-") && !only("schema.") {
                problems.push(format!("{} should give only schema findings: {:?}", r.name, r.rule_ids()));
            }
            if r.name.starts_with("declared-") && !only("attachment.") {
                problems.push(format!("{} should give only attachment findings: {:?}", r.name, r.rule_ids()));
            }
        }
        // 5. Every direction has a passing case.
        for d in &self.manifest.directions {
            if !self.runs.values().any(|r| {
                r.name.starts_with("pass-") && self.set.cases[&r.name].direction.as_deref() == Some(d.id.as_str())
            }) {
                problems.push(format!("direction {} has no passing case", d.id));
            }
        }
        assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
    }

    /// Issue 16: every free-text field of every form states a `maxLength` suited to it
    /// (at most what a spreadsheet cell holds, 32,767), so an applicant can neither
    /// store a novel in a contact name nor break a summary export. Text with a
    /// `format`, an `enum` or a `const` is bounded by those.
    fn check_text_bounds(&self) {
        fn walk(v: &serde_json::Value, at: &str, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    let is_text = match m.get("type") {
                        Some(serde_json::Value::String(t)) => t == "string",
                        Some(serde_json::Value::Array(ts)) => ts.iter().any(|t| t == "string"),
                        _ => false,
                    };
                    let bounded_otherwise = ["enum", "const", "format", "oneOf"].iter().any(|k| m.contains_key(*k));
                    if is_text && !bounded_otherwise {
                        match m.get("maxLength").and_then(|n| n.as_u64()) {
                            Some(n) if n <= 32_767 => {}
                            other => out.push(format!("{at}: maxLength {other:?}")),
                        }
                    }
                    for (k, x) in m {
                        walk(x, &format!("{at}/{k}"), out);
                    }
                }
                serde_json::Value::Array(xs) => {
                    for (i, x) in xs.iter().enumerate() {
                        walk(x, &format!("{at}/{i}"), out);
                    }
                }
                _ => {}
            }
        }
        let mut unbounded = Vec::new();
        for f in &self.manifest.forms {
            let schema: serde_json::Value = serde_json::from_str(&f.schema).unwrap();
            walk(&schema, &f.id, &mut unbounded);
        }
        assert!(unbounded.is_empty(), "{}: free text without a maxLength: {unbounded:#?}", self.manifest.program);
    }

    fn check_renders(&self) {
        let problems = render_problems(&self.manifest);
        assert!(problems.is_empty(), "{}: {} problem(s): {problems:#?}", self.manifest.program, problems.len());
    }

    /// Issue 16: every message a case produces (the plugin's findings and signals and
    /// the kernel's schema findings) reads as Chinese: no debug syntax, no ids where
    /// a name belongs (`shenbao::text::message_problems`). Where the id is itself the
    /// subject (a duplicated direction id in a round's configuration) it is allowed.
    fn check_messages(&self) {
        const ID_IS_THE_SUBJECT: &[&str] = &["iiot.round.direction-id-unique"];
        let mut problems = Vec::new();
        for (name, run) in &self.runs {
            let texts = run.got.findings.iter().map(|f| (f.rule_id.as_str(), &f.message.zh));
            let signals = run.got.signals.iter().map(|s| (s.id.as_str(), &s.message.zh));
            for (id, zh) in texts.chain(signals) {
                let found: Vec<String> = shenbao::text::message_problems(zh)
                    .into_iter()
                    .filter(|p| !(ID_IS_THE_SUBJECT.contains(&id) && p.starts_with("identifier")))
                    .collect();
                if !found.is_empty() {
                    problems.push(format!("{name} {id}: {zh} — {found:?}"));
                }
            }
        }
        assert!(problems.is_empty(), "{}: {problems:#?}", self.manifest.program);
    }

    /// The rule table of the plugin's README, from the manifest and the cases.
    fn rule_table(&self, test: &str) -> String {
        let mut out = String::from(
            "| rule id | severity | seed clause | rule | failing case | passing cases |\n|---|---|---|---|---|---|\n",
        );
        for r in &self.manifest.rules {
            let sev = format!("{:?}", r.severity).to_lowercase();
            let (fail, pass) = match TESTED_ELSEWHERE.iter().find(|(id, _)| *id == r.id) {
                Some((_, t)) => (format!("`{t}`"), String::new()),
                None => (
                    format!("`fail-{}`", r.id),
                    self.passing_for(&r.id).iter().take(3).map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", "),
                ),
            };
            out.push_str(&format!("| `{}` | {sev} | {} | {} | {fail} | {pass} |\n", r.id, r.clause, r.title.zh));
        }
        out.push_str(&format!(
            "\nCases live in `examples/{}/cases/`, expected findings in `expected.json`; the test `{test}` runs them all through the kernel with the built component.\n",
            self.manifest.program
        ));
        out
    }

    fn check_readme(&self, test: &str) {
        let path: PathBuf = testkit::root().join("plugins").join(&self.manifest.program).join("README.md");
        let text = std::fs::read_to_string(&path).unwrap();
        let (begin, end) = ("<!-- rule-table:begin -->\n", "<!-- rule-table:end -->");
        let a = text.find(begin).unwrap_or_else(|| panic!("{} has no {begin:?} marker", path.display())) + begin.len();
        let b = text.find(end).unwrap();
        let table = self.rule_table(test);
        if bless() {
            std::fs::write(&path, format!("{}{table}{}", &text[..a], &text[b..])).unwrap();
        } else {
            assert_eq!(&text[a..b], table, "{} rule table is stale: run with SHENBAO_BLESS=1", path.display());
        }
    }

    /// The example round configuration is accepted by the kernel.
    fn check_round(&self) {
        self.kernel.import_regions(&shenbao::guangdong()).unwrap();
        let (_, findings) = self.kernel.check_round_spec(&self.set.round).unwrap();
        assert!(findings.iter().all(|f| f.severity != Severity::Blocking), "round.json: {findings:#?}");
    }
}

#[test]
fn eco_partners() {
    let r = run("eco-partners");
    r.check();
    r.check_readme("examples::eco_partners");
    r.check_text_bounds();
    r.check_messages();
    r.check_renders();
    r.check_round();
    assert!(r.runs.len() >= 80, "{}", r.runs.len());
}

#[test]
fn enabling_resources() {
    let r = run("enabling-resources");
    r.check();
    r.check_readme("examples::enabling_resources");
    r.check_text_bounds();
    r.check_messages();
    r.check_renders();
    r.check_round();
}

#[test]
fn iiot_pilots() {
    let r = run("iiot-pilots");
    r.check();
    r.check_readme("examples::iiot_pilots");
    r.check_text_bounds();
    r.check_messages();
    r.check_renders();
    r.check_round();
    // The round returns only the directions its body handles.
    let diit = r.kernel.check_round_spec(&r.set.round).unwrap().0.directions.len();
    assert_eq!(diit, 25);
    let signals = &r.runs["edge-priority-signals"].got.signals;
    let ids: Vec<&str> = signals.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "iiot.signal.demonstration-base",
            "iiot.signal.innovation-engineering-accepted",
            "iiot.signal.old-revolutionary-area",
            "iiot.signal.notable-results"
        ]
    );
}

#[test]
fn iiot_round_for_an_unknown_body_is_refused() {
    let r = run("iiot-pilots");
    r.kernel.import_regions(&shenbao::guangdong()).unwrap();
    let mut spec = r.set.round.clone();
    spec.config["body"] = serde_json::json!("miit");
    let (_, findings) = r.kernel.check_round_spec(&spec).unwrap();
    let blocking: Vec<(&str, &str)> = findings
        .iter()
        .filter(|f| f.severity == Severity::Blocking)
        .map(|f| (f.rule_id.as_str(), f.path.as_str()))
        .collect();
    assert_eq!(blocking, [("iiot.round.body-known", "$round.config.body")]);
    let err = r.kernel.create_round(spec).unwrap_err();
    assert!(err.to_string().contains("iiot.round.body-known"), "{err}");
    assert!(r.kernel.rounds().unwrap().is_empty(), "a refused round is not stored");
}

/// The rules that read the applicant's other applications, through real
/// submissions: the kernel keys each application's project from the form's
/// `x-project-key` field and hands the history to the plugin.
#[test]
fn iiot_history_rules_see_the_applicants_real_applications() {
    use shenbao::contract::Date;
    use shenbao::{ActError, ActionRequest, Draft, ManualClock, RoleGrant, Scope, Timestamp, User};
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(Timestamp::at(Date::new(2023, 12, 1), 10, 0));
    let config = KernelConfig {
        host: HostConfig::default(),
        clock: Arc::new(clock.clone()),
        blob_dir: None,
        ..KernelConfig::default()
    };
    let k = Kernel::open_with(dir.path().join("shenbao.redb"), config).unwrap();
    k.install_plugin(&testkit::plugin_bytes("iiot-pilots")).unwrap();
    k.import_regions(&shenbao::guangdong()).unwrap();
    let set = CaseSet::load(testkit::root().join("examples/iiot-pilots")).unwrap();
    let base = &set.cases["pass-factory"];
    k.upsert_org(&base.applicant).unwrap();
    let grant = RoleGrant {
        role: "applicant".into(),
        scope: Scope::Organisation(base.applicant.credit_code.clone()),
        office: None,
    };
    k.upsert_user(&User { id: "a".into(), name: "a".into(), grants: vec![grant] }).unwrap();
    k.create_round(set.round.clone()).unwrap();
    k.open_round(&set.round.id).unwrap();
    // The case's attachment metadata, backed by stored content.
    let attachments: Vec<_> = base
        .attachments
        .iter()
        .map(|a| {
            let blob = k.store_blob("a", format!("示例 {}", a.name).as_bytes(), None).unwrap();
            shenbao::contract::Attachment { sha256: blob.sha256, size: blob.size, ..a.clone() }
        })
        .collect();
    let submit = |direction: &str, category: &str, name: &str| {
        let mut data = base.data.clone();
        data["project_name"] = serde_json::json!(name);
        data["category"] = serde_json::json!(category);
        let draft = Draft {
            direction: Some(direction.into()),
            form: None,
            data,
            project: None,
            attachments: attachments.clone(),
        };
        let id = k.save_draft("a", &set.round.id, None, draft).unwrap().application.id;
        (id.clone(), k.act("a", &id, &ActionRequest::new("submit")))
    };
    let rules = |r: Result<shenbao::Receipt, ActError>| match r {
        Err(ActError::BlockingFindings { findings }) => findings.into_iter().map(|f| f.rule_id).collect::<Vec<_>>(),
        Ok(_) => Vec::new(),
        Err(e) => panic!("{e}"),
    };
    let (first, r) = submit("factory-1", "factory", "示例注塑工厂5G全连接改造项目");
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(k.application(&first).unwrap().project.as_deref(), Some("示例注塑工厂5g全连接改造项目"));
    // The same project again (spacing and case do not make it another), in another category.
    let (_, r) = submit("platform-1", "platform", " 示例注塑工厂5G 全连接改造项目 ");
    assert_eq!(rules(r), ["iiot.project.not-duplicate"]);
    // Another direction of the category already used.
    let (_, r) = submit("factory-2", "factory", "示例车间数字孪生项目");
    assert_eq!(rules(r), ["iiot.applicant.one-direction-per-category"]);
    // A second project is fine; a third is one too many.
    let (_, r) = submit("platform-1", "platform", "示例家电行业平台项目");
    assert!(r.is_ok(), "{r:?}");
    let (_, r) = submit("park-1", "park", "示例园区项目");
    assert_eq!(rules(r), ["iiot.applicant.max-2-projects"]);
}

/// Issue 17: every form renders in a standard JSON Schema form library
/// (react-jsonschema-form) and compiles in a strict validator (Ajv 2020 with
/// ajv-formats and the vocabulary `x-public`, `x-project-key`): a choice among
/// constants is typed and each option titled; a plain `enum` only of Chinese
/// values; no `null` alternatives (an optional field is absent); only standard
/// formats; every integer bounded both ways; titles and help text Chinese; the
/// top-level fields in the seed form's (declaration) order.
fn render_problems(manifest: &shenbao::contract::Manifest) -> Vec<String> {
    use serde_json::Value;
    // What install and `plugin test` warn about (`shenbao::form_problems`), and the order.
    let mut problems = shenbao::form_problems(manifest);
    #[derive(serde::Deserialize)]
    struct Ordered {
        properties: indexmap::IndexMap<String, serde::de::IgnoredAny>,
        #[serde(default)]
        required: Vec<String>,
    }
    for f in &manifest.forms {
        let _: Value = serde_json::from_str(&f.schema).unwrap();
        // Declaration order: the required fields come in the order `required` lists them.
        let o: Ordered = serde_json::from_str(&f.schema).unwrap();
        let order: Vec<&String> = o.properties.keys().filter(|k| o.required.contains(k)).collect();
        let declared: Vec<&String> = o.required.iter().collect();
        if order != declared {
            problems.push(format!("{}: fields out of the form's order: {order:?}, declared {declared:?}", f.id));
        }
    }
    problems
}

/// Issue 17: the forms of every program plugin, in every language, render and
/// compile strictly ([`render_problems`]).
#[test]
fn every_form_of_every_program_renders() {
    let mut problems = Vec::new();
    let programs = ["enabling-resources", "eco-partners", "iiot-pilots", "minimal"];
    let guests = testkit::GUESTS.iter().map(|g| g.name);
    for package in programs.into_iter().chain(guests) {
        let bytes = testkit::plugin_bytes(package);
        let dir = tempfile::tempdir().unwrap();
        let k = kernel(&dir);
        let installed = k.install_plugin(&bytes).unwrap();
        problems.extend(render_problems(&installed.record.manifest).into_iter().map(|p| format!("{package}: {p}")));
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Issue 17: every form of the three programs compiles in the strict validator the
/// console uses (Ajv 2020, strict, ajv-formats, Shenbao's vocabulary), and every
/// example case is valid there exactly when the kernel finds no schema finding —
/// so what the browser accepts, the kernel accepts (`console/tests/schemas.mjs`).
#[test]
fn the_forms_validate_alike_in_the_consoles_validator() {
    let console = testkit::ensure_console_deps().unwrap();
    let mut forms = Vec::new();
    for program in ["enabling-resources", "eco-partners", "iiot-pilots"] {
        let r = run(program);
        for f in &r.manifest.forms {
            let form_of = |name: &str| {
                let case = &r.set.cases[name];
                case.form
                    .clone()
                    .or_else(|| {
                        let d = case.direction.as_deref()?;
                        r.manifest.directions.iter().find(|x| x.id == d).map(|x| x.form.clone())
                    })
                    .unwrap_or_else(|| r.manifest.forms[0].id.clone())
            };
            let cases: Vec<serde_json::Value> = r
                .runs
                .values()
                .filter(|run| form_of(&run.name) == f.id)
                .map(|run| {
                    let schema_findings = run.got.findings.iter().any(|x| x.rule_id.starts_with("schema."));
                    serde_json::json!({
                        "name": run.name,
                        "data": r.set.cases[&run.name].data,
                        "kernel_valid": !schema_findings,
                    })
                })
                .collect();
            forms.push(serde_json::json!({ "program": program, "form": f.id, "schema": f.schema, "cases": cases }));
        }
    }
    assert!(forms.iter().map(|f| f["cases"].as_array().unwrap().len()).sum::<usize>() > 100);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(&forms).unwrap()).unwrap();
    let out = std::process::Command::new("node")
        .arg(console.join("tests").join("schemas.mjs"))
        .arg(file.path())
        .output()
        .expect("node runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("schemas compile strictly"), "{text}");
}
