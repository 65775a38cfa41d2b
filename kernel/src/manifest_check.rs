//! Validation of a plugin's manifest at install: every form schema compiles as
//! draft 2020-12, ids are unique and well-formed, and every reference resolves.

use shenbao_contract::{Manifest, Target};
use std::collections::HashSet;

fn is_id(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' || c == '_')
}

fn is_semver(s: &str) -> bool {
    let core = s.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<_> = core.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

struct Problems(Vec<String>);

impl Problems {
    fn unique<'a>(&mut self, what: &str, ids: impl IntoIterator<Item = &'a str>) -> HashSet<&'a str> {
        let mut seen = HashSet::new();
        for id in ids {
            if !is_id(id) {
                self.0.push(format!("{what} id {id:?} must be lower-case letters, digits, '-', '.', '_'"));
            }
            if !seen.insert(id) {
                self.0.push(format!("{what} id {id:?} is declared twice"));
            }
        }
        seen
    }
    fn refers(&mut self, ok: bool, msg: impl FnOnce() -> String) {
        if !ok {
            self.0.push(msg());
        }
    }
}

/// Compile a form's JSON Schema as draft 2020-12, within [`crate::schema_bounds`].
///
/// # Errors
/// A message naming what is wrong: not JSON, not an object, another draft, a bound passed, or
/// the validator's own compile error.
pub fn compile_schema(schema: &str) -> Result<jsonschema::Validator, String> {
    let value: serde_json::Value = serde_json::from_str(schema).map_err(|e| format!("not JSON: {e}"))?;
    if !value.is_object() {
        return Err("a form schema must be a JSON object".into());
    }
    if let Some(s) = value.get("$schema") {
        if s != "https://json-schema.org/draft/2020-12/schema" {
            return Err(format!(
                "$schema is {s}, but forms must be draft 2020-12 (https://json-schema.org/draft/2020-12/schema)"
            ));
        }
    }
    crate::schema_bounds::check(&value)?;
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .with_pattern_options(crate::schema_bounds::pattern_options())
        .build(&value)
        .map_err(|e| format!("does not compile: {e}"))
}

/// Every problem with a manifest; empty when it is sound.
pub fn problems(m: &Manifest) -> Vec<String> {
    let mut p = Problems(Vec::new());
    p.refers(is_id(&m.program), || format!("program id {:?} must be lower-case letters, digits and '-'", m.program));
    p.refers(is_semver(&m.version), || format!("version {:?} is not semver (MAJOR.MINOR.PATCH)", m.version));
    p.refers(!m.name.zh.trim().is_empty(), || "the program's Chinese name is empty".into());

    let editions = p.unique("edition", m.editions.iter().map(|e| e.id.as_str()));
    p.refers(m.editions.is_empty() || editions.contains(m.default_edition.as_str()), || {
        format!("default edition {:?} is not among the editions", m.default_edition)
    });

    let forms = p.unique("form", m.forms.iter().map(|f| f.id.as_str()));
    for f in &m.forms {
        if let Err(e) = compile_schema(&f.schema) {
            p.0.push(format!("form {:?}: schema {e}", f.id));
        }
        p.refers(!f.title.zh.trim().is_empty(), || format!("form {:?} has no Chinese title", f.id));
    }

    let categories = p.unique("category", m.categories.iter().map(|c| c.id.as_str()));
    p.unique("direction", m.directions.iter().map(|d| d.id.as_str()));
    for d in &m.directions {
        p.refers(forms.contains(d.form.as_str()), || format!("direction {:?} uses undeclared form {:?}", d.id, d.form));
        if let Some(c) = &d.category {
            p.refers(categories.contains(c.as_str()), || {
                format!("direction {:?} is in undeclared category {c:?}", d.id)
            });
        }
        for e in &d.editions {
            p.refers(editions.contains(e.as_str()), || format!("direction {:?} names undeclared edition {e:?}", d.id));
        }
        p.unique(&format!("direction {:?} attachment", d.id), d.attachments.iter().map(|a| a.id.as_str()));
        for a in &d.attachments {
            if let (Some(min), Some(max)) = (a.min_seconds, a.max_seconds) {
                p.refers(min <= max, || format!("attachment {:?}: min_seconds {min} > max_seconds {max}", a.id));
            }
            if let Some(max) = a.max_count {
                p.refers(a.min_count <= max, || {
                    format!("attachment {:?}: min_count {} > max_count {max}", a.id, a.min_count)
                });
            }
        }
    }
    p.refers(!m.forms.is_empty(), || "the manifest declares no form".into());
    p.unique("rule", m.rules.iter().map(|r| r.id.as_str()));
    p.unique("signal", m.signals.iter().map(|s| s.id.as_str()));
    p.unique("expert item", m.expert_items.iter().map(|s| s.id.as_str()));

    let g = &m.graph;
    let stages = p.unique("stage", g.stages.iter().map(|s| s.id.as_str()));
    let actions = p.unique("action", g.actions.iter().map(|a| a.id.as_str()));
    p.refers(stages.contains(g.initial.as_str()), || format!("graph: initial stage {:?} is not declared", g.initial));
    for s in &g.stages {
        if s.kind == shenbao_contract::StageKind::Terminal {
            p.refers(s.outcome.is_some(), || format!("graph: terminal stage {:?} has no outcome", s.id));
        }
    }
    for a in &g.actions {
        p.refers(!a.from_stages.is_empty(), || format!("graph: action {:?} is allowed at no stage", a.id));
        for s in &a.from_stages {
            p.refers(stages.contains(s.as_str()), || {
                format!("graph: action {:?} starts at undeclared stage {s:?}", a.id)
            });
        }
        if let Target::Stage(s) = &a.to {
            p.refers(stages.contains(s.as_str()), || {
                format!("graph: action {:?} leads to undeclared stage {s:?}", a.id)
            });
        }
    }
    for r in &g.routes {
        for s in &r.skip {
            p.refers(stages.contains(s.as_str()), || format!("graph: route {:?} skips undeclared stage {s:?}", r.id));
        }
    }
    p.unique("quota", m.quotas.iter().map(|q| q.id.as_str()));
    for q in &m.quotas {
        p.refers(actions.contains(q.action.as_str()), || {
            format!("quota {:?} counts undeclared action {:?}", q.id, q.action)
        });
        if let Some(s) = &q.stage {
            p.refers(stages.contains(s.as_str()), || format!("quota {:?} names undeclared stage {s:?}", q.id));
        }
    }
    p.unique("summary section", m.summary.sections.iter().map(|s| s.id.as_str()));
    let schemas: Vec<serde_json::Value> = m.forms.iter().filter_map(|f| serde_json::from_str(&f.schema).ok()).collect();
    for s in &m.summary.sections {
        if let Some(field) = &s.field {
            let found = schemas.iter().any(|x| crate::forms::schema_at_instance(x, field).is_some());
            p.refers(found || schemas.len() < m.forms.len(), || {
                format!(
                    "summary section {:?} splits by {field:?}, which no form has (every row would land in 其他): name a field as /section/field",
                    s.id
                )
            });
        }
    }
    for c in &m.summary.columns {
        if c.source.starts_with('/') {
            // A pointer names a field some form has (else the column would stay empty).
            let found = schemas.iter().any(|s| crate::forms::schema_at_instance(s, &c.source).is_some());
            p.refers(found || schemas.len() < m.forms.len(), || {
                let fields: Vec<String> = schemas
                    .iter()
                    .filter_map(|s| s.get("properties").and_then(serde_json::Value::as_object))
                    .flat_map(|props| props.keys().map(|k| format!("/{k}")))
                    .take(12)
                    .collect();
                format!(
                    "summary column {:?} names the field {:?}, which no form has (the forms' fields: {}; nested fields as /section/field)",
                    c.title.zh,
                    c.source,
                    fields.join(", ")
                )
            });
            continue;
        }
        let item = c.source.strip_prefix(crate::summary::ITEM_SCORE_SOURCE);
        let known = crate::summary::COLUMN_SOURCES.contains(&c.source.as_str())
            || c.source.starts_with('/')
            || item.is_some_and(|i| m.expert_items.iter().any(|e| e.id == i));
        p.refers(known, || {
            let items: Vec<&str> = m.expert_items.iter().map(|e| e.id.as_str()).collect();
            format!(
                "summary column {:?} names the source {:?}, which the kernel does not know (known: {}, expert:score:ITEM for an expert-review item ({}), or a JSON pointer into the form such as \"/contact/name\")",
                c.title.zh,
                c.source,
                crate::summary::COLUMN_SOURCES.join(", "),
                if items.is_empty() { "none declared".to_string() } else { items.join(", ") }
            )
        });
    }
    p.0
}

/// What keeps a form from rendering well in standard tools (react-jsonschema-form,
/// strict Ajv 2020 — the console's), each as `FORM/path: problem — what to do`:
/// a choice among constants without its `type` or an option without a Chinese
/// `title`; an `enum` of values a person cannot read; a `null` alternative or a list
/// of types (an optional field is left out instead); an integer not bounded both ways;
/// a `format` standard validators do not know; a keyword outside JSON Schema and
/// Shenbao's vocabulary (`x-public`, `x-project-key`); a title or help text that is
/// not Chinese; a `$ref` not into `#/$defs`. Install and `shenbao plugin test` print
/// these as warnings; the repository's own programs have none (`tests/examples.rs`).
pub fn form_problems(m: &Manifest) -> Vec<String> {
    use serde_json::Value;
    fn chinese(s: &str) -> bool {
        let cjk = s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        let mut run = 0;
        let mut english = false;
        for c in s.chars() {
            run = if c.is_ascii_alphabetic() { run + 1 } else { 0 };
            english |= run >= 3;
        }
        cjk && !english
    }
    /// Whether `at` (a path of keywords and names) is inside a condition: `if`, `then`,
    /// `else`, `not` or an `allOf` branch — whose properties constrain fields declared
    /// elsewhere. (A property named like a keyword only relaxes these two checks.)
    fn in_condition(at: &str) -> bool {
        at.split('/').any(|seg| ["if", "then", "else", "not", "allOf"].contains(&seg))
    }
    fn walk(v: &Value, at: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::Array(opts)) = m.get("oneOf").or_else(|| m.get("anyOf")) {
                    if !opts.is_empty() && opts.iter().all(|o| o.get("const").is_some()) {
                        if !m.contains_key("type") {
                            out.push(format!(
                                "{at}: a choice among constants without `type` — add \"type\": \"string\""
                            ));
                        }
                        for o in opts {
                            if !o.get("title").and_then(Value::as_str).is_some_and(chinese) {
                                out.push(format!(
                                    "{at}: option {} has no Chinese `title` — label each option (Rust: a `///` doc per variant; Python: Choice; JS: Type.Literal(v, {{ title }}))",
                                    o["const"]
                                ));
                            }
                        }
                    } else if opts.iter().any(|o| o.get("type") == Some(&Value::from("null"))) {
                        out.push(format!("{at}: a `null` alternative — leave an optional field out instead"));
                    } else if opts
                        .iter()
                        .filter_map(|o| o.get("type").map(Value::to_string))
                        .collect::<HashSet<_>>()
                        .len()
                        > 1
                    {
                        out.push(format!(
                            "{at}: a choice between types that forms cannot render — give the field one type"
                        ));
                    }
                }
                if let Some(Value::Array(vals)) = m.get("enum") {
                    if !at.contains("/if/") && !vals.iter().all(|x| x.as_str().is_some_and(chinese)) {
                        out.push(format!(
                            "{at}: an `enum` of values a person cannot read — use a choice with a title per option (oneOf of titled consts)"
                        ));
                    }
                }
                match m.get("type") {
                    // (In a condition, `type: null` says "absent" and `not: {type: null}` "present".)
                    Some(t) if t == "null" && !in_condition(at) => {
                        out.push(format!("{at}: a field that can only be null — leave it out"))
                    }
                    Some(Value::Array(_)) => {
                        out.push(format!("{at}: a list of types — give one type; leave an optional field out"))
                    }
                    Some(t) if t == "integer" && !(m.contains_key("minimum") && m.contains_key("maximum")) => {
                        out.push(format!(
                            "{at}: an integer without `minimum` and `maximum` — bound it (Rust u32/range, Python U32 or Field(minimum, maximum), JS Field.u32)"
                        ))
                    }
                    _ => {}
                }
                if let Some(f) = m.get("format").and_then(Value::as_str) {
                    if !["date", "date-time", "time", "email", "uri"].contains(&f) {
                        out.push(format!("{at}: format {f:?} that standard validators do not know"));
                    }
                }
                if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                    if !r.starts_with("#/$defs/") {
                        out.push(format!("{at}: $ref {r:?} points outside the form's `$defs`"));
                    }
                }
                for (k, x) in m {
                    if k.starts_with("x-") && !["x-public", "x-project-key"].contains(&k.as_str()) {
                        out.push(format!("{at}: keyword {k} outside Shenbao's vocabulary (x-public, x-project-key)"));
                    }
                    if (k == "title" || k == "description") && !x.as_str().is_some_and(chinese) {
                        out.push(format!("{at}/{k}: {x} is not Chinese — applicants read it"));
                    }
                    match (k.as_str(), x) {
                        ("const" | "enum" | "default" | "required" | "examples", _) => {}
                        // Maps of names to subschemas: the names are not keywords.
                        ("properties" | "$defs" | "patternProperties" | "dependentSchemas", Value::Object(named)) => {
                            if k == "patternProperties" {
                                out.push(format!(
                                    "{at}: `patternProperties` (a map of any keys) — forms cannot render it: list the fields"
                                ));
                            }
                            for (name, sub) in named {
                                let typed = ["type", "$ref", "oneOf", "anyOf", "allOf", "const", "enum"]
                                    .iter()
                                    .any(|key| sub.get(key).is_some());
                                // Conditions (`if`/`then`/`else`, `allOf` branches) constrain
                                // fields declared elsewhere: their properties need no type.
                                if k == "properties" && sub.is_object() && !typed && !in_condition(at) {
                                    out.push(format!(
                                        "{at}/{k}/{name}: a field of any type — give it one (string, number, a section …)"
                                    ));
                                }
                                walk(sub, &format!("{at}/{k}/{name}"), out);
                            }
                        }
                        _ => walk(x, &format!("{at}/{k}"), out),
                    }
                }
            }
            Value::Array(xs) => {
                for (i, x) in xs.iter().enumerate() {
                    walk(x, &format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut problems = Vec::new();
    for f in &m.forms {
        match serde_json::from_str::<Value>(&f.schema) {
            Ok(schema) => {
                if schema.get("type") != Some(&Value::from("object")) || schema.get("properties").is_none() {
                    problems.push(format!(
                        "{}: the form's root is not an object with `properties` — give the root type its fields (no $id or $ref at the root)",
                        f.id
                    ));
                }
                walk(&schema, &f.id, &mut problems);
            }
            Err(e) => problems.push(format!("{}: the schema is not JSON ({e})", f.id)),
        }
    }
    problems
}
