//! Building a manifest: forms from Rust types, rule tables, a default graph.

use crate::checker::RuleDef;
use schemars::JsonSchema;
use shenbao_contract::*;

/// The JSON Schema (draft 2020-12) of a form type, as JSON text.
///
/// Titles come from `#[schemars(title = "…")]` (Chinese, shown to applicants),
/// descriptions from doc comments (English, for integrators).
pub fn form_schema<T: JsonSchema>() -> String {
    let schema = schemars::generate::SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<T>();
    serde_json::to_string(&schema).expect("a schema is always JSON")
}

/// A [`Form`] whose schema is derived from `T`.
pub fn form<T: JsonSchema>(id: &str, title: Text) -> Form {
    Form { id: id.to_string(), title, schema: form_schema::<T>() }
}

/// A [`Form`] whose schema is derived from `T`, then deep-merged with `extra`:
/// objects merge key by key, anything else replaces. Use it for what derive
/// attributes cannot say — conditional requirements (`allOf` of `if`/`then`),
/// `dependentRequired`, or `"x-project-key": true` on the property that names the
/// project (history entries then carry its key).
pub fn form_with<T: JsonSchema>(id: &str, title: Text, extra: serde_json::Value) -> Form {
    let mut schema: serde_json::Value = serde_json::from_str(&form_schema::<T>()).expect("a schema is JSON");
    merge(&mut schema, extra);
    Form { id: id.to_string(), title, schema: schema.to_string() }
}

fn merge(into: &mut serde_json::Value, from: serde_json::Value) {
    match (into, from) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Builds a [`Manifest`] with sensible empties; every `Vec` field has an adder.
pub struct ManifestBuilder(Manifest);

impl ManifestBuilder {
    pub fn new(program: &str, name: Text, version: &str) -> Self {
        ManifestBuilder(Manifest {
            program: program.into(),
            name: name.clone(),
            version: version.into(),
            editions: Vec::new(),
            default_edition: String::new(),
            funded: false,
            forms: Vec::new(),
            categories: Vec::new(),
            directions: Vec::new(),
            directions_from_round: false,
            rules: Vec::new(),
            signals: Vec::new(),
            expert_items: Vec::new(),
            quotas: Vec::new(),
            graph: crate::graph::PlatformGraph::default().build(),
            summary: SummaryTable { title: name, sections: Vec::new(), columns: Vec::new() },
        })
    }
    pub fn edition(mut self, id: &str, year: u32, title: Text) -> Self {
        if self.0.default_edition.is_empty() {
            self.0.default_edition = id.into();
        }
        self.0.editions.push(Edition { id: id.into(), year, title });
        self
    }
    pub fn default_edition(mut self, id: &str) -> Self {
        self.0.default_edition = id.into();
        self
    }
    pub fn funded(mut self, funded: bool) -> Self {
        self.0.funded = funded;
        self
    }
    pub fn form(mut self, form: Form) -> Self {
        self.0.forms.push(form);
        self
    }
    pub fn category(mut self, category: Category) -> Self {
        self.0.categories.push(category);
        self
    }
    pub fn direction(mut self, direction: Direction) -> Self {
        self.0.directions.push(direction);
        self
    }
    pub fn directions_from_round(mut self, yes: bool) -> Self {
        self.0.directions_from_round = yes;
        self
    }
    pub fn rules(mut self, rules: &[RuleDef]) -> Self {
        self.0.rules.extend(rules.iter().map(RuleDef::to_rule));
        self
    }
    pub fn signal(mut self, id: &str, clause: &str, title: Text) -> Self {
        self.0.signals.push(SignalType { id: id.into(), clause: clause.into(), title });
        self
    }
    pub fn expert_item(mut self, id: &str, clause: &str, title: Text, directions: &[&str]) -> Self {
        self.0.expert_items.push(ExpertItem {
            id: id.into(),
            clause: clause.into(),
            title,
            directions: directions.iter().map(|d| d.to_string()).collect(),
        });
        self
    }
    pub fn quota(mut self, quota: Quota) -> Self {
        self.0.quotas.push(quota);
        self
    }
    pub fn graph(mut self, graph: Graph) -> Self {
        self.0.graph = graph;
        self
    }
    pub fn summary(mut self, summary: SummaryTable) -> Self {
        self.0.summary = summary;
        self
    }
    pub fn build(self) -> Manifest {
        self.0
    }
}
