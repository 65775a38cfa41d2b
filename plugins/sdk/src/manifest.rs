//! Building a manifest: forms from Rust types, rule tables, a default graph.

use crate::checker::RuleDef;
use schemars::JsonSchema;
use shenbao_contract::*;

/// The JSON Schema (draft 2020-12) of a form type, as JSON text, in the shape
/// standard form renderers and strict validators take ([`for_people`]).
///
/// Titles come from `#[schemars(title = "…")]` and help text from doc comments or
/// `#[schemars(description = "…")]`: both are shown to applicants, so both are
/// Chinese. Properties keep the order the fields are declared in (the order of the
/// seed form), which is the order a form renders them in: on `wasm32` the SDK builds
/// `serde_json` with `preserve_order`.
pub fn form_schema<T: JsonSchema>() -> String {
    let schema = schemars::generate::SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<T>();
    let mut v = serde_json::Value::from(schema);
    for_people(&mut v);
    serde_json::to_string(&v).expect("a schema is always JSON")
}

/// Rewrite a generated schema into what form renderers (react-jsonschema-form)
/// and strict validators (Ajv 2020 in strict mode, with ajv-formats and the
/// vocabulary `x-public`, `x-project-key`) take, without changing what it accepts
/// beyond the points below:
/// - a choice among constants (`oneOf` of `const`s, from a documented Rust enum)
///   gets its `type`, and each option its label as `title` (from the variant's doc);
/// - an optional value is *absent* rather than `null`: `anyOf [X, {"type": "null"}]`
///   becomes `X` and `"type": [T, "null"]` becomes `T` (the field stays optional by
///   not being `required`);
/// - Rust's integer formats (`uint32`, `int64` …) become `minimum`/`maximum` (so
///   5,000,000,000 in a `u32` field is refused at the field, not by the plugin), and
///   the float formats (`double`, `float`) are dropped.
pub fn for_people(v: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let Value::Object(m) = v else {
        if let Value::Array(xs) = v {
            xs.iter_mut().for_each(for_people);
        }
        return;
    };
    // `anyOf [X, null]` → X.
    if let Some(Value::Array(opts)) = m.get("anyOf") {
        let is_null = |o: &Value| o.as_object().is_some_and(|o| o.len() == 1 && o.get("type") == Some(&json!("null")));
        if opts.len() == 2 && opts.iter().filter(|o| is_null(o)).count() == 1 {
            let Some(Value::Array(opts)) = m.remove("anyOf") else { unreachable!() };
            if let Some(Value::Object(x)) = opts.into_iter().find(|o| !is_null(o)) {
                for (k, val) in x {
                    m.entry(k).or_insert(val);
                }
            }
        }
    }
    // `type: [T, "null"]` → T.
    if let Some(Value::Array(ts)) = m.get("type") {
        let rest: Vec<Value> = ts.iter().filter(|t| *t != "null").cloned().collect();
        if rest.len() == 1 && ts.len() == 2 {
            m.insert("type".into(), rest.into_iter().next().expect("one type"));
        }
    }
    // A choice among constants: typed, each option titled.
    if let Some(Value::Array(opts)) = m.get_mut("oneOf") {
        if !opts.is_empty() && opts.iter().all(|o| o.get("const").is_some()) {
            let mut types = std::collections::BTreeSet::new();
            for o in opts.iter_mut() {
                let o = o.as_object_mut().expect("a const option is an object");
                if !o.contains_key("title") {
                    if let Some(d) = o.remove("description") {
                        o.insert("title".into(), d);
                    }
                }
                types.insert(match o.get("const") {
                    Some(Value::String(_)) => "string",
                    Some(Value::Number(n)) if n.is_i64() || n.is_u64() => "integer",
                    Some(Value::Number(_)) => "number",
                    Some(Value::Bool(_)) => "boolean",
                    _ => "",
                });
            }
            if types.len() == 1 && !types.contains("") && !m.contains_key("type") {
                let t = types.into_iter().next().expect("one type");
                m.insert("type".into(), json!(t));
            }
        }
    }
    // Integer and float formats → bounds.
    if let Some(Value::String(f)) = m.get("format") {
        let bounds: Option<(f64, f64)> = match f.as_str() {
            "uint8" => Some((0.0, u8::MAX as f64)),
            "uint16" => Some((0.0, u16::MAX as f64)),
            "uint32" | "uint" => Some((0.0, u32::MAX as f64)),
            "uint64" => Some((0.0, 9_007_199_254_740_991.0)),
            "int8" => Some((i8::MIN as f64, i8::MAX as f64)),
            "int16" => Some((i16::MIN as f64, i16::MAX as f64)),
            "int32" | "int" => Some((i32::MIN as f64, i32::MAX as f64)),
            "int64" => Some((-9_007_199_254_740_991.0, 9_007_199_254_740_991.0)),
            "double" | "float" => Some((f64::NEG_INFINITY, f64::INFINITY)),
            _ => None,
        };
        if let Some((lo, hi)) = bounds {
            m.remove("format");
            let num = |x: f64| if x.fract() == 0.0 { json!(x as i64) } else { json!(x) };
            if lo.is_finite() {
                let cur = m.get("minimum").and_then(Value::as_f64);
                if cur.is_none_or(|c| c < lo) {
                    m.insert("minimum".into(), num(lo));
                }
            }
            if hi.is_finite() {
                let cur = m.get("maximum").and_then(Value::as_f64);
                if cur.is_none_or(|c| c > hi) {
                    m.insert("maximum".into(), num(hi));
                }
            }
        }
    }
    for (_, x) in m.iter_mut() {
        for_people(x);
    }
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
    for_people(&mut schema);
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
