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
    for c in &m.summary.columns {
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
