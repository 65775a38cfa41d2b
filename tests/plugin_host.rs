//! The plugin boundary through the real pieces: components built from source,
//! a real redb file, a real compiled-component cache on disk.

use serde_json::{Value, json};
use shenbao::contract::{Attachment, CheckRequest, Date, RoundInfo, Severity};
use shenbao::{
    CacheOutcome, CallKind, CheckError, HostConfig, InstallError, Kernel, KernelConfig, PluginFault, PluginLimits,
    ProgramPlugin,
};
use std::path::Path;
use std::sync::OnceLock;
use testkit::{example, plugin_bytes};

/// One cache directory for the whole test process (the cache tests use their own).
fn shared_cache() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fn kernel_in(dir: &Path, cache: &Path) -> Kernel {
    let config = KernelConfig {
        host: HostConfig { cache_dir: Some(cache.to_path_buf()), ..HostConfig::default() },
        ..KernelConfig::default()
    };
    Kernel::open_with(dir.join("shenbao.redb"), config).unwrap()
}

fn fresh() -> (tempfile::TempDir, Kernel) {
    let dir = tempfile::tempdir().unwrap();
    let k = kernel_in(dir.path(), shared_cache());
    (dir, k)
}

fn er_request(data: Value) -> CheckRequest {
    CheckRequest {
        form: "resource".into(),
        direction: Some("ai-application".into()),
        data: data.to_string(),
        applicant: shenbao::contract::Applicant {
            credit_code: "91441300MA4UXXXX01".into(),
            name: "示例智能装备有限公司".into(),
            channel: "region".into(),
            city: Some("huizhou".into()),
            district: Some("huicheng".into()),
            profile: "{}".into(),
            ..Default::default()
        },
        history: Vec::new(),
        attachments: vec![Attachment { id: "a1".into(), kind: "audit-report".into(), ..Default::default() }],
        round: RoundInfo {
            id: "er-2025q1".into(),
            program: "enabling-resources".into(),
            year: 2025,
            edition: "2025".into(),
            batch: Some("2025Q1".into()),
            config: "{}".into(),
        },
        as_of: Date::new(2024, 8, 10),
    }
}

fn er_valid() -> Value {
    serde_json::from_str(&example("enabling-resources/application-valid.json")).unwrap()
}

/// Append a custom section: same program, different bytes.
fn with_custom_section(mut wasm: Vec<u8>, payload: &[u8]) -> Vec<u8> {
    let name = b"shenbao-test";
    let body_len = 1 + name.len() + payload.len();
    assert!(body_len < 128, "single-byte LEB128 length");
    wasm.push(0);
    wasm.push(body_len as u8);
    wasm.push(name.len() as u8);
    wasm.extend_from_slice(name);
    wasm.extend_from_slice(payload);
    wasm
}

// ------------------------------------------------------------------ round trip

#[test]
fn install_describe_check_round_trip() {
    let (_dir, k) = fresh();
    let installed = k.install_plugin(&plugin_bytes("enabling-resources")).unwrap();
    assert!(installed.newly_installed);
    let id = &installed.record.id;
    assert_eq!((id.program.as_str(), id.version.as_str(), id.wit.as_str()), ("enabling-resources", "0.1.0", "0.1.0"));
    assert_eq!(id.sha256.len(), 64);
    assert_eq!(installed.record.manifest.directions.len(), 6);
    assert_eq!(k.plugins().unwrap().len(), 1);

    // A valid application: no findings, one priority signal, fuel metered.
    let report = k.check_application("enabling-resources", "0.1.0", &er_request(er_valid())).unwrap();
    assert!(report.schema_findings.is_empty());
    let result = report.plugin.as_ref().unwrap();
    assert!(result.value.findings.is_empty(), "{:?}", result.value.findings);
    assert_eq!(result.value.signals[0].id, "er.signal.standards");
    assert!(result.fuel_used > 0);

    // A rule broken: the finding quotes the threshold and the applicant's value.
    let mut low = er_valid();
    low["revenue"] = json!([{ "year": 2023, "revenue": 800 }, { "year": 2022, "revenue": 900 }]);
    let report = k.check_application("enabling-resources", "0.1.0", &er_request(low)).unwrap();
    let f: Vec<_> = report.findings().collect();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule_id, "er.specific.revenue-avg-2y-min-1000");
    assert_eq!(f[0].severity, Severity::Blocking);
    assert_eq!(f[0].message.zh, "近 2 年年均营业收入 850 万元，要求不低于 1000 万元");
    assert!(report.has_blocking());
}

/// Issue 18: a summary column naming a source the kernel does not know is refused at
/// install, naming the column and the known sources — never an empty column.
#[test]
fn a_summary_column_of_an_unknown_source_is_refused_naming_it() {
    let (_dir, k) = fresh();
    let mut m = k.install_plugin(&plugin_bytes("enabling-resources")).unwrap().record.manifest;
    assert!(shenbao::manifest_problems(&m).is_empty(), "{:?}", shenbao::manifest_problems(&m));
    for (bad, good) in [("applicant:credit-code", "applicant:credit_code"), ("project_name", "/resource_name")] {
        m.summary.columns[1].source = bad.into();
        let problems = shenbao::manifest_problems(&m);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let title = &m.summary.columns[1].title.zh;
        assert!(problems[0].contains(title.as_str()) && problems[0].contains(bad), "{problems:?}");
        assert!(problems[0].contains("applicant:credit_code") && problems[0].contains("JSON pointer"), "{problems:?}");
        m.summary.columns[1].source = good.into();
        assert!(shenbao::manifest_problems(&m).is_empty());
    }
    // The experts' mean total, and one expert-review item's mean, by the item's id.
    for good in ["expert:score", "expert:score:er.expert.technology-advanced"] {
        m.summary.columns[1].source = good.into();
        assert!(shenbao::manifest_problems(&m).is_empty(), "{good}: {:?}", shenbao::manifest_problems(&m));
    }
    // A pointer names a field of the form (a typo would give an empty column).
    m.summary.columns[1].source = "/resource_nmae".into();
    let problems = shenbao::manifest_problems(&m);
    assert!(
        problems.len() == 1 && problems[0].contains("/resource_nmae") && problems[0].contains("/resource_name"),
        "the form's fields are named: {problems:?}"
    );
    for good in ["/resource_name", "/revenue/0/revenue", "/commitment/truthful"] {
        m.summary.columns[1].source = good.into();
        assert!(shenbao::manifest_problems(&m).is_empty(), "{good}: {:?}", shenbao::manifest_problems(&m));
    }
    // A section split by a field no form has is refused too (every row would be 其他).
    m.summary.sections = vec![shenbao::contract::SummarySection {
        id: "by-scope".into(),
        title: shenbao::contract::Text::new("按范围", "by scope"),
        field: Some("/scpoe".into()),
        equals: Some("brand".into()),
    }];
    m.summary.columns[1].source = "/resource_name".into();
    let problems = shenbao::manifest_problems(&m);
    assert!(problems.len() == 1 && problems[0].contains("/scpoe"), "{problems:?}");
    m.summary.sections[0].field = Some("/scope".into());
    assert!(shenbao::manifest_problems(&m).is_empty(), "{:?}", shenbao::manifest_problems(&m));
    m.summary.columns[1].source = "expert:score:er.expert.nope".into();
    let problems = shenbao::manifest_problems(&m);
    assert!(
        problems.len() == 1 && problems[0].contains("er.expert.mature-and-promotable"),
        "the declared items are named: {problems:?}"
    );
}

#[test]
fn the_kernel_validates_form_data_against_the_schema_before_the_plugin() {
    let (_dir, k) = fresh();
    k.install_plugin(&plugin_bytes("enabling-resources")).unwrap();
    let mut bad = er_valid();
    bad.as_object_mut().unwrap().remove("resource_name");
    bad["scope"] = json!("space-travel");
    bad["cases"][0]["feedback_on"] = json!("2024-02-30");
    let report = k.check_application("enabling-resources", "0.1.0", &er_request(bad)).unwrap();
    assert!(report.plugin.is_none(), "the plugin is not asked about data the schema refuses");
    let by_rule = |r: &str| {
        report
            .schema_findings
            .iter()
            .find(|f| f.rule_id == r)
            .unwrap_or_else(|| panic!("{r}: {:?}", report.schema_findings))
    };
    let required = by_rule("schema.required");
    assert_eq!(required.path, "$.resource_name");
    assert_eq!(required.message.zh, "缺少必填项「资源名称」");
    assert_eq!(by_rule("schema.enum").path, "$.scope");
    assert_eq!(by_rule("schema.format").path, "$.cases[0].feedback_on");
    assert!(report.has_blocking());

    let err = k
        .check_application(
            "enabling-resources",
            "0.1.0",
            &CheckRequest { form: "nope".into(), ..er_request(er_valid()) },
        )
        .unwrap_err();
    assert!(
        matches!(&err, CheckError::UnknownForm { form, known } if form == "nope" && known == &["resource"]),
        "{err}"
    );
}

#[test]
fn check_round_returns_the_directions_and_refuses_unknown_editions() {
    let (_dir, k) = fresh();
    k.install_plugin(&plugin_bytes("enabling-resources")).unwrap();
    let round = er_request(er_valid()).round;
    let ok = k.check_round("enabling-resources", "0.1.0", &round).unwrap();
    assert_eq!(ok.value.directions.len(), 6);
    let err = k.check_round("enabling-resources", "0.1.0", &RoundInfo { edition: "1999".into(), ..round }).unwrap_err();
    match err {
        CheckError::Plugin(e) => {
            assert_eq!(e.call, CallKind::CheckRound);
            assert!(matches!(&e.fault, PluginFault::Refused(p) if p.code == "unknown-edition"), "{e}");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn installing_is_idempotent_and_a_version_never_changes_its_bytes() {
    let (dir, k) = fresh();
    let wasm = plugin_bytes("enabling-resources");
    let first = k.install_plugin(&wasm).unwrap();
    let again = k.install_plugin(&wasm).unwrap();
    assert!(!again.newly_installed);
    assert_eq!(again.record, first.record);

    let other = with_custom_section(wasm.clone(), b"rebuilt");
    let err = k.install_plugin(&other).unwrap_err();
    match &err {
        InstallError::VersionConflict { program, version, existing, new } => {
            assert_eq!((program.as_str(), version.as_str()), ("enabling-resources", "0.1.0"));
            assert_eq!(existing, &first.record.id.sha256);
            assert_ne!(new, existing);
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("bump the plugin version"));
    assert_eq!(k.plugins().unwrap(), vec![first.record.clone()]);

    // Reopening the database: everything acknowledged is there.
    drop(k);
    let k = kernel_in(dir.path(), shared_cache());
    assert_eq!(k.plugins().unwrap(), vec![first.record.clone()]);
    let v = k.verify_plugin("enabling-resources", "0.1.0").unwrap();
    assert!(v.bytes_intact && v.manifest_matches, "{v:?}");
}

// ------------------------------------------------------------------ refusals at install

#[test]
fn a_component_of_an_unhosted_wit_version_is_refused_naming_both_versions() {
    let (_dir, k) = fresh();
    let err = k.install_plugin(&plugin_bytes("future-version")).unwrap_err();
    match &err {
        InstallError::UnsupportedWit { found, supported } => {
            assert_eq!(found, "2.0.0");
            assert_eq!(supported, &["0.1.0"]);
        }
        other => panic!("{other}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("2.0.0") && msg.contains("0.1.0"), "{msg}");
    assert!(k.plugins().unwrap().is_empty());
}

#[test]
fn a_component_of_another_world_is_not_a_program() {
    let (_dir, k) = fresh();
    let err = k.install_plugin(&plugin_bytes("not-a-program")).unwrap_err();
    assert!(
        matches!(&err, InstallError::NotAProgram { exports } if exports.iter().any(|e| e == "example:greeter/greet@1.0.0")),
        "{err}"
    );
    assert!(k.plugins().unwrap().is_empty());
}

#[test]
fn a_component_with_the_right_name_but_wrong_types_is_a_world_mismatch() {
    let (_dir, k) = fresh();
    let err = k.install_plugin(&plugin_bytes("mismatched")).unwrap_err();
    match &err {
        InstallError::WorldMismatch { interface, message } => {
            assert_eq!(interface, "shenbao:program/plugin@0.1.0");
            assert!(message.contains("describe") || message.contains("type mismatch"), "{message}");
        }
        other => panic!("{other}"),
    }
    assert!(k.plugins().unwrap().is_empty());
}

#[test]
fn bytes_that_are_not_a_component_are_refused() {
    let (_dir, k) = fresh();
    for bytes in [&b"\0asm\x01\0\0\0"[..], b"PK\x03\x04 a zip file", b""] {
        let err = k.install_plugin(bytes).unwrap_err();
        assert!(matches!(err, InstallError::NotAComponent { .. }), "{err}");
    }
    // A component header with nothing valid after it.
    let err = k.install_plugin(b"\0asm\x0d\0\x01\0\x07garbage").unwrap_err();
    assert!(matches!(err, InstallError::Compile { .. }), "{err}");
    assert!(k.plugins().unwrap().is_empty());
}

#[test]
fn a_garbage_manifest_is_refused_with_every_problem_named() {
    let (_dir, k) = fresh();
    let err = k.install_plugin(&plugin_bytes("bad-manifest")).unwrap_err();
    let InstallError::InvalidManifest { program, problems, .. } = &err else { panic!("{err}") };
    assert_eq!(program, "bad-manifest");
    let all = problems.join("\n");
    for needle in [
        "form \"broken\": schema not JSON",
        "form \"draft7\": schema $schema is \"http://json-schema.org/draft-07/schema#\"",
        "rule id \"bad.dup\" is declared twice",
        "direction \"d1\" uses undeclared form \"missing-form\"",
        "action \"submit\" leads to undeclared stage \"nowhere\"",
        // Issue 15.9: a schema whose walks would not end is refused at install, naming the $ref.
        "form \"recursive\": schema $ref \"#/$defs/Node\" at /$defs/Node/properties/children/items/oneOf/0 \
         leads back to a schema it is inside (a recursive form)",
        // Issue 15.10: regexes are compiled within a budget, named by field.
        "form \"regex-heavy\": schema regular expression at /properties/f0/pattern compiles to more than",
    ] {
        assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
    }
    assert!(k.plugins().unwrap().is_empty());
}

// ------------------------------------------------------------------ the sandbox

fn hostile(k: &Kernel, limits: PluginLimits) -> std::sync::Arc<shenbao::LoadedPlugin> {
    k.install_plugin_with_limits(&plugin_bytes("hostile"), limits).unwrap();
    k.plugin("hostile", "0.1.0").unwrap()
}

fn hostile_call(p: &shenbao::LoadedPlugin, mode: &str) -> Result<String, shenbao::PluginCallError> {
    let mut req = er_request(json!({}));
    req.form = mode.into();
    p.plugin().check_application(&req).map(|r| r.value.findings[0].message.en.clone())
}

fn fault_of(p: &shenbao::LoadedPlugin, mode: &str) -> PluginFault {
    let e = hostile_call(p, mode).expect_err(mode);
    assert_eq!(e.plugin.program, "hostile");
    assert_eq!(e.call, CallKind::CheckApplication);
    let msg = e.to_string();
    assert!(msg.contains("hostile@0.1.0") && msg.contains("check-application"), "{msg}");
    // The kernel still serves the next call.
    assert_eq!(hostile_call(p, "ok").unwrap(), "ok", "after {mode}");
    e.fault
}

fn small_limits() -> PluginLimits {
    PluginLimits { fuel: 50_000_000, memory_bytes: 32 << 20, ..PluginLimits::default() }
}

#[test]
fn an_infinite_loop_runs_out_of_fuel() {
    let (_dir, k) = fresh();
    let p = hostile(&k, small_limits());
    assert!(matches!(fault_of(&p, "loop"), PluginFault::FuelExhausted { budget: 50_000_000 }));
}

/// Issue 15.11: fuel bounds computation; the deadline bounds time, whatever the plugin does.
#[test]
fn a_call_past_its_wall_clock_deadline_is_interrupted() {
    let (_dir, k) = fresh();
    let p = hostile(&k, PluginLimits { fuel: u64::MAX / 4, deadline_ms: 200, ..small_limits() });
    assert!(matches!(fault_of(&p, "loop"), PluginFault::DeadlineExceeded { deadline_ms: 200 }));
    let e = hostile_call(&p, "loop").unwrap_err();
    assert!(e.to_string().contains("wall-clock deadline of 200 ms"), "{e}");
    assert_eq!(shenbao::Classified::kind(&e), shenbao::ErrorKind::PluginFailed);
}

/// Issue 15.11: a plugin cannot block a kernel thread by sleeping or waiting on a clock.
#[test]
fn sleeping_returns_at_once_and_waiting_for_the_clock_runs_out_of_fuel() {
    let (_dir, k) = fresh();
    let p = hostile(&k, small_limits());
    let (tx, rx) = std::sync::mpsc::channel();
    let p2 = p.clone();
    std::thread::spawn(move || tx.send(hostile_call(&p2, "sleep")).unwrap());
    // The plugin asks for an hour; a sandboxed sleep is due at once.
    let slept = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("the sleeping call returned");
    assert_eq!(slept.unwrap(), "slept");
    assert!(matches!(fault_of(&p, "wait-clock"), PluginFault::FuelExhausted { .. }));
}

#[test]
fn growing_memory_past_the_cap_is_stopped() {
    let (_dir, k) = fresh();
    let p = hostile(&k, small_limits());
    match fault_of(&p, "memory") {
        PluginFault::MemoryLimit { requested, cap } => {
            assert_eq!(cap, 32 << 20);
            assert!(requested > cap);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn deep_recursion_overflows_the_wasm_stack() {
    let (_dir, k) = fresh();
    let p = hostile(&k, small_limits());
    assert!(matches!(fault_of(&p, "recursion"), PluginFault::StackOverflow));
}

#[test]
fn a_panic_is_a_typed_error_with_its_message() {
    let (_dir, k) = fresh();
    let p = hostile(&k, small_limits());
    match fault_of(&p, "panic") {
        PluginFault::Panicked { message } => assert!(message.contains("hostile plugin panics on purpose"), "{message}"),
        other => panic!("{other}"),
    }
}

#[test]
fn files_network_environment_and_args_are_out_of_reach() {
    let (_dir, k) = fresh();
    let p = hostile(&k, small_limits());
    let seen = hostile_call(&p, "file").unwrap();
    assert!(
        seen.contains("read=Err") && seen.contains("write=Err") && seen.contains("dir=Err") && seen.contains("net=Err"),
        "{seen}"
    );
    assert!(!Path::new("escape.txt").exists());
    let seen = hostile_call(&p, "env").unwrap();
    // The working directory is WASI's fixed "/", not the host's.
    assert_eq!(seen, "vars=[] args=[] home=None cwd=Some(\"/\")");
}

#[test]
fn clocks_and_randomness_are_fixed() {
    let (_dir, k) = fresh();
    let p = hostile(&k, small_limits());
    let a = hostile_call(&p, "clock").unwrap();
    let b = hostile_call(&p, "clock").unwrap();
    assert_eq!(a, b);
    // WASI hands out u64s built big-endian from the fixed bytes; getrandom writes them little-endian.
    let r = shenbao::FIXED_RANDOM;
    let word = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as u64;
    let expected = ((word(&r[0..4]) << 32) + word(&r[4..8])).to_le_bytes();
    assert_eq!(a, format!("wall={} random={:?}", shenbao::FIXED_WALL_CLOCK_SECS, expected));
    assert_eq!(shenbao::FIXED_WALL_CLOCK_SECS, 946_684_800, "2000-01-01T00:00:00Z");
    // A fresh kernel gives the same values.
    let (_dir2, k2) = fresh();
    assert_eq!(hostile_call(&hostile(&k2, small_limits()), "clock").unwrap(), a);
}

#[test]
fn malformed_and_oversized_output_is_refused() {
    let (_dir, k) = fresh();
    let p = hostile(&k, small_limits());
    assert!(matches!(fault_of(&p, "garbage-utf8"), PluginFault::MalformedOutput { .. }));
    match fault_of(&p, "undeclared-rule") {
        PluginFault::MalformedOutput { problem } => {
            assert!(problem.contains("\"hostile.not-declared\" is not declared"), "{problem}")
        }
        other => panic!("{other}"),
    }
    // 16 Mi × "巨" (3 bytes) against the default 4 MiB output cap; memory must allow building it.
    let (_dir2, k2) = fresh();
    let p2 = hostile(&k2, PluginLimits::default());
    match fault_of(&p2, "huge") {
        PluginFault::OutputTooLarge { size, cap } => {
            assert_eq!(cap, 4 << 20);
            assert!(size >= 48 << 20);
        }
        other => panic!("{other}"),
    }
}

/// Issue 15.7: a finding's path and messages have length limits, a path no control
/// characters; a message may hold anything, and is shown escaped wherever a person
/// reads it.
#[test]
fn finding_text_is_bounded_and_shown_escaped() {
    let (_dir, k) = fresh();
    let p = hostile(&k, small_limits());
    for (mode, needle) in [
        ("long-path", "the path has 1000001 characters; the limit is 256"),
        ("control-path", "holds control characters"),
        ("long-message", "the English message has 2001 characters; the limit is 2000"),
    ] {
        match fault_of(&p, mode) {
            PluginFault::MalformedOutput { problem } => assert!(problem.contains(needle), "{mode}: {problem}"),
            other => panic!("{mode}: {other}"),
        }
    }
    let forged = hostile_call(&p, "forge").unwrap();
    let shown = shenbao::text::display(&forged);
    assert!(!shown.chars().any(|c| c.is_control() || c == '\u{202e}'), "{shown}");
    assert!(shown.contains("\\u{1b}[2J") && shown.contains("\\u{a}  ok    forged-case\\u{202e}"), "{shown}");
}

/// Issue 16: a plugin that refuses its input says the input is wrong (422 / exit 4),
/// not that a gateway failed; its message is cut to what a person reads.
#[test]
fn a_plugin_refusing_its_input_is_invalid_input_not_a_plugin_failure() {
    let (_dir, k) = fresh();
    let p = hostile(&k, small_limits());
    let e = hostile_call(&p, "refuse").unwrap_err();
    assert_eq!(shenbao::Classified::kind(&e), shenbao::ErrorKind::Invalid);
    assert_eq!(shenbao::Classified::code(&e), "plugin_refused_input");
    match &e.fault {
        PluginFault::Refused(r) => assert_eq!(r.message.zh.chars().count(), shenbao::text::MAX_MESSAGE_CHARS + 1),
        other => panic!("{other}"),
    }
    assert!(matches!(fault_of(&p, "loop"), PluginFault::FuelExhausted { .. }));
    assert_eq!(shenbao::Classified::kind(&hostile_call(&p, "loop").unwrap_err()), shenbao::ErrorKind::PluginFailed);
}

#[test]
fn oversized_input_is_refused_before_the_call() {
    let (_dir, k) = fresh();
    let p = hostile(&k, PluginLimits { max_input_bytes: 1024, ..small_limits() });
    let mut req = er_request(json!({ "padding": "x".repeat(2048) }));
    req.form = "ok".into();
    let e = p.plugin().check_application(&req).unwrap_err();
    assert!(matches!(e.fault, PluginFault::InputTooLarge { cap: 1024, .. }), "{e}");
}

#[test]
fn limits_are_per_plugin_and_persist() {
    let (dir, k) = fresh();
    hostile(&k, PluginLimits::default());
    let tight = PluginLimits { fuel: 1_000_000, ..PluginLimits::default() };
    let rec = k.set_plugin_limits("hostile", "0.1.0", tight).unwrap();
    assert_eq!(rec.limits, tight);
    drop(k);
    let k = kernel_in(dir.path(), shared_cache());
    let p = k.plugin("hostile", "0.1.0").unwrap();
    assert_eq!(*p.plugin().limits(), tight);
    assert!(matches!(fault_of(&p, "loop"), PluginFault::FuelExhausted { budget: 1_000_000 }));
}

// ------------------------------------------------------------------ determinism

#[test]
fn the_same_check_twice_gives_byte_identical_findings() {
    let (_dir, k) = fresh();
    k.install_plugin(&plugin_bytes("enabling-resources")).unwrap();
    let mut v = er_valid();
    v["cases"][1]["feedback"] = json!("");
    v["ip"][0]["granted_on"] = json!("2018-01-01");
    let req = er_request(v);
    let run = || {
        let r = k.check_application("enabling-resources", "0.1.0", &req).unwrap();
        let p = r.plugin.unwrap();
        (serde_json::to_vec(&p.value).unwrap(), p.fuel_used)
    };
    let (a, fuel_a) = run();
    let (b, fuel_b) = run();
    assert_eq!(a, b);
    assert_eq!(fuel_a, fuel_b, "fuel is deterministic too");
    let v: Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn concurrent_checks_share_nothing() {
    let (_dir, k) = fresh();
    k.install_plugin(&plugin_bytes("enabling-resources")).unwrap();
    let p = k.plugin("enabling-resources", "0.1.0").unwrap();
    let expected = serde_json::to_vec(&p.plugin().check_application(&er_request(er_valid())).unwrap().value).unwrap();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..25 {
                    let got = p.plugin().check_application(&er_request(er_valid())).unwrap();
                    assert_eq!(serde_json::to_vec(&got.value).unwrap(), expected);
                }
            });
        }
    });
}

// ------------------------------------------------------------------ the compiled-component cache

#[test]
fn the_second_load_hits_the_cache_and_a_corrupt_entry_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let wasm = plugin_bytes("enabling-resources");
    let k = kernel_in(dir.path(), cache.path());
    assert_eq!(k.install_plugin(&wasm).unwrap().cache, CacheOutcome::Miss);
    drop(k);

    // A new kernel (as after a restart) loads the compiled component from disk.
    let load = || {
        let k = kernel_in(dir.path(), cache.path());
        let outcome = k.plugin("enabling-resources", "0.1.0").unwrap().cache_outcome();
        // And it works.
        let r = k.check_application("enabling-resources", "0.1.0", &er_request(er_valid())).unwrap();
        assert!(!r.has_blocking());
        outcome
    };
    assert_eq!(load(), CacheOutcome::Hit);

    let files: Vec<_> = std::fs::read_dir(cache.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = &files[0];
    let mut bytes = std::fs::read(file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(file, &bytes).unwrap();
    assert_eq!(load(), CacheOutcome::Rebuilt);
    assert_eq!(load(), CacheOutcome::Hit, "the rebuilt entry is valid");

    std::fs::write(file, &bytes[..100]).unwrap();
    assert_eq!(load(), CacheOutcome::Rebuilt, "a truncated entry is rebuilt");
    std::fs::write(file, b"").unwrap();
    assert_eq!(load(), CacheOutcome::Rebuilt, "an empty entry is rebuilt");
    assert_eq!(load(), CacheOutcome::Hit);
}

#[test]
fn without_a_cache_directory_components_compile_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        KernelConfig { host: HostConfig { cache_dir: None, ..HostConfig::default() }, ..KernelConfig::default() };
    let k = Kernel::open_with(dir.path().join("db.redb"), config).unwrap();
    assert_eq!(k.install_plugin(&plugin_bytes("enabling-resources")).unwrap().cache, CacheOutcome::Disabled);
}

/// Issue 18: what standard renderers show badly is named field by field, with what to
/// do (`shenbao::form_problems`, which install and `plugin test` print as warnings).
#[test]
fn form_problems_name_the_field_and_the_remedy() {
    let (_dir, k) = fresh();
    let mut m = k.install_plugin(&plugin_bytes("enabling-resources")).unwrap().record.manifest;
    assert!(shenbao::form_problems(&m).is_empty(), "{:?}", shenbao::form_problems(&m));
    m.forms[0].schema = json!({
        "type": "object",
        "properties": {
            "count": {"type": "integer", "title": "数量"},
            "either": {"anyOf": [{"type": "string"}, {"type": "number"}], "title": "其一"},
            "code": {"type": "string", "enum": ["a", "b"], "title": "代码"},
            "kind": {"type": "string", "oneOf": [{"const": "x"}, {"const": "y", "title": "乙"}], "title": "类别"},
            "plain": {"type": "string", "title": "Name"},
            "maybe": {"type": ["string", "null"], "title": "可选"},
            "either2": {"oneOf": [{"type": "string"}, {"type": "integer", "minimum": 0, "maximum": 9}], "title": "其二"},
            "nothing": {"type": "null", "title": "空"},
            "anything": {"title": "任意"},
            "map": {"type": "object", "title": "映射", "patternProperties": {".*": {"type": "string", "title": "值"}}}
        }
    })
    .to_string();
    let problems = shenbao::form_problems(&m);
    let has = |field: &str, what: &str| problems.iter().any(|p| p.contains(field) && p.contains(what));
    assert!(has("/count", "minimum") && has("/count", "U32"), "{problems:#?}");
    assert!(has("/either", "one type"), "{problems:#?}");
    assert!(has("/code", "enum"), "{problems:#?}");
    assert!(has("/kind", "option \"x\""), "{problems:#?}");
    assert!(has("/plain/title", "not Chinese"), "{problems:#?}");
    assert!(has("/maybe", "list of types"), "{problems:#?}");
    assert!(has("/either2", "one type"), "{problems:#?}");
    assert!(has("/nothing", "only be null"), "{problems:#?}");
    assert!(has("/anything", "any type"), "{problems:#?}");
    assert!(has("/map", "patternProperties"), "{problems:#?}");
    assert_eq!(problems.len(), 10, "{problems:#?}");
    // A root that is only a reference is not a form.
    m.forms[0].schema =
        json!({"$ref": "#/$defs/Main", "$defs": {"Main": {"type": "object", "properties": {}}}}).to_string();
    assert!(shenbao::form_problems(&m).iter().any(|p| p.contains("root")), "{:?}", shenbao::form_problems(&m));
}

/// Shenbao's Rust plugins start with 1 MiB of heap beyond data and the 1 MiB stack
/// (`.cargo/config.toml`: `--initial-heap`), so at least 2 MiB of linear memory:
/// a typical check then runs in a fresh instance without growing its memory, which
/// would cost page-protection changes twice (when growing, and when the next
/// instance resets the slot).
#[test]
fn the_rust_plugins_start_with_memory_enough_for_a_check() {
    let engine = wasmtime::Engine::default();
    for p in ["enabling-resources", "eco-partners", "iiot-pilots", "minimal"] {
        let c = wasmtime::component::Component::new(&engine, plugin_bytes(p)).unwrap();
        let pages = c.resources_required().expect("no imported core modules").max_initial_memory_size;
        assert!(pages >= Some(32), "{p}: initial memory {pages:?} pages of 64 KiB, not 2 MiB");
    }
}

/// A component whose `describe` fails (here: out of fuel under a tiny budget) is
/// named by its hash — its program and version are what `describe` would have said —
/// and nothing is installed.
#[test]
fn a_failed_describe_names_the_component_by_its_hash() {
    let (_dir, k) = fresh();
    let bytes = plugin_bytes("minimal");
    let limits = PluginLimits { fuel: 1_000, ..PluginLimits::default() };
    let err = k.install_plugin_with_limits(&bytes, limits).unwrap_err();
    let shenbao::InstallError::Describe(call) = &err else { panic!("{err}") };
    assert!(matches!(call.fault, shenbao::PluginFault::FuelExhausted { budget: 1_000 }), "{err}");
    assert_eq!((call.plugin.program.as_str(), call.plugin.version.as_str()), ("", ""));
    let text = err.to_string();
    assert!(text.contains(&format!("plugin component {} failed in describe", &call.plugin.sha256[..12])), "{text}");
    assert!(!text.contains('?'), "{text}");
    assert!(k.plugins().unwrap().is_empty());
}
