//! Fuzz targets over the kernel's inputs and over what a hostile plugin can return,
//! shared by the cargo-fuzz binaries (`fuzz/fuzz_targets/*.rs`) and the proptests of
//! the normal suite (`tests/fuzz_props.rs`): both feed raw bytes, and the same
//! generator turns them into inputs — valid seeds (the programs' real manifest,
//! forms, round configuration, graph, the demo's CSV files) mutated field by field,
//! or the bytes as they are. Every target's contract: no panic, and every rejection
//! is a typed error that says what is wrong.

#![allow(dead_code)]

use arbitrary::Unstructured;
use serde_json::{Map, Value, json};
use shenbao::contract::{CheckResult, Graph, Manifest, RoundCheck};
use shenbao::{FormSet, Organisation, RoundSpec};
use shenbao_sdk::Program;
use std::sync::OnceLock;

pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("form_data", form_data),
    ("organisation", organisation),
    ("round_config", round_config),
    ("graph", graph),
    ("import", import),
    ("plugin_output", plugin_output),
    ("manifest", manifest),
    ("form_schema", form_schema),
];

fn er_manifest() -> &'static Manifest {
    static M: OnceLock<Manifest> = OnceLock::new();
    M.get_or_init(enabling_resources::EnablingResources::manifest)
}

fn er_forms() -> &'static FormSet {
    static F: OnceLock<FormSet> = OnceLock::new();
    F.get_or_init(|| FormSet::compile(er_manifest()).expect("the real manifest compiles"))
}

fn seed(rel: &str) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/");
    serde_json::from_str(&std::fs::read_to_string(format!("{path}{rel}")).unwrap()).unwrap()
}

/// A JSON value from the fuzzer's bytes.
fn any_value(u: &mut Unstructured, depth: u32) -> Value {
    let pick: u8 = u.int_in_range(0..=if depth == 0 { 4 } else { 6 }).unwrap_or(0);
    match pick {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary().unwrap_or(false)),
        2 => {
            let edge = [0.0, -0.0, 1e308, -1e308, 0.5, 2.5, 1e22, f64::EPSILON, 4_294_967_296.0, -1.0];
            let f = match u.int_in_range(0..=2u8).unwrap_or(0) {
                0 => edge[u.choose_index(edge.len()).unwrap_or(0)],
                1 => u.arbitrary::<i64>().unwrap_or(0) as f64,
                _ => u.arbitrary::<f64>().unwrap_or(0.0),
            };
            serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
        }
        3 => Value::from(u.arbitrary::<i64>().unwrap_or(0)),
        4 => Value::String(any_text(u)),
        5 => Value::Array((0..u.int_in_range(0..=4u8).unwrap_or(0)).map(|_| any_value(u, depth - 1)).collect()),
        _ => {
            let mut m = Map::new();
            for _ in 0..u.int_in_range(0..=4u8).unwrap_or(0) {
                m.insert(any_text(u), any_value(u, depth - 1));
            }
            Value::Object(m)
        }
    }
}

/// Text: arbitrary, or one of the strings that break naive code.
fn any_text(u: &mut Unstructured) -> String {
    const NASTY: &[&str] = &[
        "",
        " ",
        "\u{3000}",
        "\u{0}",
        "\u{feff}",
        "\u{202e}",
        "a\u{0301}",
        "👩‍👩‍👧",
        "\"",
        "\\",
        "$",
        "$.",
        "$[0]",
        "../../etc/passwd",
        "9144130000000000X",
        "91441302MA4UXXXX01",
        "huizhou",
        "huizhou.huicheng",
        "province",
        "2024-02-30",
        "2024-08-10 09:00",
        "-1",
        "1e400",
        "NaN",
        "{{scope}}",
        "{used}/{limit}",
    ];
    if u.ratio(1, 3).unwrap_or(false) {
        NASTY[u.choose_index(NASTY.len()).unwrap_or(0)].to_string()
    } else {
        let s: String = u.arbitrary().unwrap_or_default();
        s.chars().take(64).collect()
    }
}

/// `seed` changed in a few places: fields replaced, removed, added, or array items
/// duplicated — so most inputs keep the shape the parser expects and the checks
/// behind it run.
pub fn mutate(u: &mut Unstructured, seed: &Value) -> Value {
    let mut v = seed.clone();
    let edits = u.int_in_range(0..=6u8).unwrap_or(0);
    for _ in 0..edits {
        mutate_once(u, &mut v, 0);
    }
    v
}

fn mutate_once(u: &mut Unstructured, v: &mut Value, depth: u32) {
    let descend = depth < 8 && u.ratio(3, 4).unwrap_or(false);
    match v {
        Value::Object(m) if !m.is_empty() && descend => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let k = &keys[u.choose_index(keys.len()).unwrap_or(0)];
            match u.int_in_range(0..=5u8).unwrap_or(0) {
                0 => {
                    m.remove(k);
                }
                1 => {
                    m.insert(any_text(u), any_value(u, 2));
                }
                _ => mutate_once(u, m.get_mut(k).unwrap(), depth + 1),
            }
        }
        Value::Array(a) if !a.is_empty() && descend => {
            let i = u.choose_index(a.len()).unwrap_or(0);
            match u.int_in_range(0..=4u8).unwrap_or(0) {
                0 => {
                    a.remove(i);
                }
                1 => {
                    let dup = a[i].clone();
                    a.push(dup);
                }
                _ => mutate_once(u, &mut a[i], depth + 1),
            }
        }
        _ => *v = any_value(u, 3),
    }
}

/// Bytes → JSON: the raw bytes as JSON text sometimes (parser errors), else a
/// mutated seed.
fn json_input(data: &[u8], seed: &Value) -> Result<Value, String> {
    let mut u = Unstructured::new(data);
    if u.ratio(1, 8).unwrap_or(false) {
        return serde_json::from_slice(u.take_rest()).map_err(|e| e.to_string());
    }
    Ok(mutate(&mut u, seed))
}

fn typed(what: &str, e: impl std::fmt::Display) {
    let message = e.to_string();
    assert!(!message.trim().is_empty(), "{what}: an error without a message");
}

/// Form data against the enabling-resources forms: findings with JSON paths, or none.
pub fn form_data(data: &[u8]) {
    static SEED: OnceLock<Value> = OnceLock::new();
    let seed = SEED.get_or_init(|| seed("enabling-resources/application-valid.json"));
    let Ok(value) = json_input(data, seed) else { return };
    let forms = er_forms();
    for f in &er_manifest().forms {
        if let Some(findings) = forms.validate(&f.id, &value) {
            for finding in findings {
                assert!(finding.path.starts_with('$'), "finding path {:?}", finding.path);
                assert!(!finding.message.zh.is_empty() && !finding.message.en.is_empty());
            }
        }
        let _ = forms.project_key(&f.id, &value);
    }
}

/// An organisation profile as an import or the API would give it: parsed, then
/// stored through the kernel's checks (credit code, regions, channel) — accepted or
/// refused with a typed error, and a refused one is not stored.
pub fn organisation(data: &[u8]) {
    static K: OnceLock<(tempfile::TempDir, shenbao::Kernel)> = OnceLock::new();
    let (_, k) = K.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let k = shenbao::Kernel::open(dir.path().join("fuzz.redb")).unwrap();
        k.import_regions(&shenbao::guangdong()).unwrap();
        (dir, k)
    });
    let seed = json!({
        "credit_code": "91441302MA4UXXXX01",
        "name": "示例智能装备有限公司",
        "channel": "region",
        "city": "huizhou",
        "district": "huizhou.huicheng",
        "dishonest": false,
        "tags": ["专精特新"],
        "qualifications": [],
        "profile": { "contact": "联系人", "phone": "0752-0000000", "founded": "2015-03-01" },
    });
    let Ok(value) = json_input(data, &seed) else { return };
    let Ok(org) = serde_json::from_value::<Organisation>(value) else { return };
    match k.upsert_org(&org) {
        Ok(()) => assert_eq!(k.org(&org.credit_code).unwrap().as_ref(), Some(&org)),
        Err(e) => {
            typed("upsert_org", &e);
            let stored = k.org(&org.credit_code).unwrap();
            assert_ne!(stored.as_ref(), Some(&org), "a refused organisation was stored: {e}");
        }
    }
}

/// A round configuration: parsed, its graph (the program's unless replaced) checked.
pub fn round_config(data: &[u8]) {
    static SEED: OnceLock<Value> = OnceLock::new();
    let seed = SEED.get_or_init(|| {
        let mut s = seed("enabling-resources/round.json");
        s["graph"] = serde_json::to_value(&er_manifest().graph).unwrap();
        s["quotas"] = serde_json::to_value(&er_manifest().quotas).unwrap();
        s
    });
    let Ok(value) = json_input(data, seed) else { return };
    let spec = match serde_json::from_value::<RoundSpec>(value) {
        Ok(spec) => spec,
        Err(e) => return typed("round spec", e),
    };
    if let Some(g) = &spec.graph {
        for f in shenbao::check_graph(g) {
            assert!(f.rule_id.starts_with("graph."), "{}", f.rule_id);
        }
    }
    let _ = serde_json::to_string(&spec).unwrap();
}

/// An approval graph: configuration findings, never a panic; a sound graph routes.
pub fn graph(data: &[u8]) {
    static SEED: OnceLock<Value> = OnceLock::new();
    let seed = SEED.get_or_init(|| serde_json::to_value(&er_manifest().graph).unwrap());
    let Ok(value) = json_input(data, seed) else { return };
    let Ok(g) = serde_json::from_value::<Graph>(value) else { return };
    let findings = shenbao::check_graph(&g);
    for f in &findings {
        assert!(f.rule_id.starts_with("graph."), "{}", f.rule_id);
        assert!(!f.message.zh.is_empty());
    }
}

/// Imports: regions, organisations and users from CSV (or XLSX) bytes.
pub fn import(data: &[u8]) {
    const SEEDS: &[&str] = &[
        include_str!("../../examples/demo/regions.csv"),
        include_str!("../../examples/demo/orgs.csv"),
        include_str!("../../examples/demo/users.csv"),
    ];
    let mut u = Unstructured::new(data);
    let which = u.choose_index(3).unwrap_or(0);
    let bytes: Vec<u8> = match u.int_in_range(0..=3u8).unwrap_or(0) {
        // The seed file with some bytes overwritten.
        0 | 1 => {
            let mut b = SEEDS[which].as_bytes().to_vec();
            for _ in 0..u.int_in_range(0..=8u8).unwrap_or(0) {
                let i = u.choose_index(b.len()).unwrap_or(0);
                b[i] = u.arbitrary().unwrap_or(b',');
            }
            b
        }
        // The seed file with some cells replaced.
        2 => {
            let mut lines: Vec<String> = SEEDS[which].lines().map(str::to_string).collect();
            for _ in 0..u.int_in_range(0..=4u8).unwrap_or(0) {
                let i = u.choose_index(lines.len()).unwrap_or(0);
                let mut cells: Vec<String> = lines[i].split(',').map(str::to_string).collect();
                let j = u.choose_index(cells.len()).unwrap_or(0);
                cells[j] = any_text(&mut u).replace(['\n', '\r'], " ");
                lines[i] = cells.join(",");
            }
            lines.join("\n").into_bytes()
        }
        _ => u.take_rest().to_vec(),
    };
    let name = if bytes.starts_with(b"PK") { "upload.xlsx" } else { "upload.csv" };
    let sheet = match shenbao::io::read_sheet_bytes(name, &bytes) {
        Ok(s) => s,
        Err(e) => return typed("read_sheet", e),
    };
    let regions = shenbao::guangdong();
    if let Err(e) = shenbao::io::parse_regions(&sheet) {
        typed("regions", e);
    }
    if let Err(e) = shenbao::io::parse_orgs(&sheet, &regions) {
        typed("orgs", e);
    }
    if let Err(e) = shenbao::io::parse_users(&sheet) {
        typed("users", e);
    }
}

/// What a hostile plugin could return from `check` and `check-round`: the kernel's
/// output checks either accept it (then it only uses declared rules, signals and
/// `$` paths) or name the problem.
pub fn plugin_output(data: &[u8]) {
    let m = er_manifest();
    static SEEDS: OnceLock<(Value, Value)> = OnceLock::new();
    let (check, round) = SEEDS.get_or_init(|| {
        let rule = &m.rules[0];
        let check = json!({
            "findings": [{
                "rule_id": rule.id, "severity": "blocking", "path": "$.revenue[0]",
                "message": { "zh": "营业收入不足", "en": "revenue too low" }, "details": "{}"
            }],
            "signals": [],
        });
        let round = json!({ "findings": [], "directions": serde_json::to_value(&m.directions).unwrap() });
        (check, round)
    });
    let mut u = Unstructured::new(data);
    let hostile_check = u.ratio(1, 2).unwrap_or(true);
    let value = mutate(&mut u, if hostile_check { check } else { round });
    if hostile_check {
        let Ok(r) = serde_json::from_value::<CheckResult>(value) else { return };
        let _ = shenbao::check_result_size(&r);
        match shenbao::check_result_problem(m, &r) {
            Some(problem) => typed("check result", problem),
            None => {
                for f in &r.findings {
                    assert!(m.rules.iter().any(|x| x.id == f.rule_id), "undeclared rule {} accepted", f.rule_id);
                    assert!(f.path.starts_with('$'), "path {:?} accepted", f.path);
                    // Issue 15.7: bounded, and no control characters in a path.
                    assert!(f.path.chars().count() <= shenbao::text::MAX_FINDING_PATH_CHARS);
                    assert!(!f.path.chars().any(shenbao::text::is_unsafe), "path {:?} accepted", f.path);
                    for t in [&f.message.zh, &f.message.en] {
                        assert!(t.chars().count() <= shenbao::text::MAX_MESSAGE_CHARS);
                        assert!(!shenbao::text::display(t).chars().any(shenbao::text::is_unsafe));
                    }
                }
            }
        }
    } else {
        let Ok(r) = serde_json::from_value::<RoundCheck>(value) else { return };
        if let Some(problem) = shenbao::round_check_problem(m, &r) {
            typed("round check", problem);
        }
    }
}

/// A manifest a plugin describes itself with: install-time problems named, and a
/// manifest without problems compiles its forms.
pub fn manifest(data: &[u8]) {
    static SEED: OnceLock<Value> = OnceLock::new();
    let seed = SEED.get_or_init(|| serde_json::to_value(er_manifest()).unwrap());
    let Ok(value) = json_input(data, seed) else { return };
    let Ok(m) = serde_json::from_value::<Manifest>(value) else { return };
    let problems = shenbao::manifest_problems(&m);
    for p in &problems {
        typed("manifest", p);
    }
    if problems.is_empty() {
        if let Err(e) = FormSet::compile(&m) {
            typed("forms", e);
        }
    }
}

/// A plugin's form schema (issue 15.9, 15.10): the real forms and hostile ones
/// (recursion through `oneOf`/`items`/`properties`, `$ref` fan-out, heavy regexes)
/// mutated. A schema is refused with a message, or it compiles within the bounds and
/// every walk over it — validation with its titles, the project key, the public
/// fields — finishes on nested data.
pub fn form_schema(data: &[u8]) {
    static SEEDS: OnceLock<Vec<Value>> = OnceLock::new();
    let seeds = SEEDS.get_or_init(|| {
        let mut v: Vec<Value> = er_manifest().forms.iter().map(|f| serde_json::from_str(&f.schema).unwrap()).collect();
        v.push(json!({"type": "object", "properties": {"root": {"$ref": "#/$defs/Node"}},
            "$defs": {"Node": {"type": "object", "properties": {"children": {"type": "array",
                "items": {"oneOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}}}}}}));
        v.push(json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}},
            "$defs": {"A": {"properties": {"x": {"$ref": "#/$defs/B"}, "y": {"$ref": "#/$defs/B"}}},
                      "B": {"properties": {"x": {"$ref": "#/$defs/C"}, "y": {"$ref": "#/$defs/C"}}},
                      "C": {"type": "string", "pattern": "[\\p{L}\\p{N}]{150}", "x-public": true}}}));
        v.push(json!({"type": "object", "properties": {"me": {"$ref": "#"}, "n": {"type": "integer", "title": "数"}}}));
        v
    });
    let mut u = Unstructured::new(data);
    let seed = &seeds[u.choose_index(seeds.len()).unwrap_or(0)];
    let schema = mutate(&mut u, seed);
    if let Err(e) = shenbao::schema_bounds::check(&schema) {
        typed("schema bounds", e);
        return;
    }
    let form = shenbao::contract::Form {
        id: "f".into(),
        title: shenbao::contract::Text::new("表", "form"),
        schema: schema.to_string(),
    };
    let mut m = er_manifest().clone();
    m.forms = vec![form];
    let forms = match FormSet::compile(&m) {
        Ok(f) => f,
        Err(e) => return typed("form schema", e),
    };
    // Nested data down every kind of path the walks follow.
    let mut data = json!({"n": "x", "x": 1, "y": [1]});
    for _ in 0..u.int_in_range(0..=40u8).unwrap_or(0) {
        data = json!({"root": {"children": [data.clone(), null]}, "me": data, "a": {"x": data, "y": "s"}});
        if data.to_string().len() > 1 << 16 {
            break;
        }
    }
    if let Some(findings) = forms.validate("f", &data) {
        for f in findings {
            assert!(f.path.starts_with('$') && !f.message.zh.is_empty());
        }
    }
    let _ = forms.project_key("f", &data);
    let _ = forms.public_fields("f");
}
