//! Form data validated against the program's JSON Schemas by the kernel, so every
//! program gets the same standard validation and findings in the same shape as
//! the plugin's (`schema.<keyword>` rule ids, JSON paths, Chinese and English).

use crate::manifest_check::compile_schema;
use serde_json::Value;
use shenbao_contract::{Finding, Manifest, Severity, Text};
use std::collections::HashMap;

/// The compiled schemas of one manifest.
pub struct FormSet {
    forms: HashMap<String, (Value, jsonschema::Validator)>,
    /// Per form, the JSON pointer of the property marked `"x-project-key": true`.
    project_keys: HashMap<String, String>,
    /// Per form, the JSON pointers of the properties marked `"x-public": true`.
    public_fields: HashMap<String, Vec<String>>,
}

impl FormSet {
    /// Compile every form; the manifest was validated at install, so failures are rare.
    pub fn compile(m: &Manifest) -> Result<FormSet, String> {
        Self::compile_forms(&m.forms)
    }

    fn compile_forms(list: &[shenbao_contract::Form]) -> Result<FormSet, String> {
        let mut forms = HashMap::new();
        let mut project_keys = HashMap::new();
        let mut public_fields = HashMap::new();
        for f in list {
            let v = compile_schema(&f.schema).map_err(|e| format!("form {:?}: {e}", f.id))?;
            let schema: Value = serde_json::from_str(&f.schema).expect("compiled above");
            if let Some(ptr) = project_key_pointer(&schema, &schema, "", 0) {
                project_keys.insert(f.id.clone(), ptr);
            }
            let mut public = Vec::new();
            public_pointers(&schema, &schema, "", 0, &mut public);
            public_fields.insert(f.id.clone(), public);
            forms.insert(f.id.clone(), (schema, v));
        }
        Ok(FormSet { forms, project_keys, public_fields })
    }

    pub fn contains(&self, form: &str) -> bool {
        self.forms.contains_key(form)
    }

    /// The project key of `data`: the value of the property (at any depth of
    /// nested objects) the form's schema marks with `"x-project-key": true`,
    /// normalised by [`shenbao_contract::project_key`]. History entries carry it, so
    /// a program can refuse the same project twice.
    pub fn project_key(&self, form: &str, data: &Value) -> Option<String> {
        let key = shenbao_contract::project_key(data.pointer(self.project_keys.get(form)?)?.as_str()?);
        (!key.is_empty()).then_some(key)
    }

    /// The project's name as the applicant wrote it: the string at the field of
    /// `form` marked `"x-project-key": true` (trimmed), if there is one and it is not empty.
    pub fn project_name(&self, form: &str, data: &Value) -> Option<String> {
        let name = data.pointer(self.project_keys.get(form)?)?.as_str()?.trim();
        (!name.is_empty()).then(|| name.to_string())
    }

    /// The JSON pointers of the fields of `form` that its schema marks `"x-public": true`:
    /// what the public notice (公示) shows of the form, besides the unit, project,
    /// direction and stage. Empty for an unknown form or one that marks none.
    pub fn public_fields(&self, form: &str) -> &[String] {
        self.public_fields.get(form).map_or(&[], Vec::as_slice)
    }

    /// Findings for `data` against form `form` (empty when valid). `None` if no such form.
    pub fn validate(&self, form: &str, data: &Value) -> Option<Vec<Finding>> {
        let (schema, validator) = self.forms.get(form)?;
        Some(
            validator
                .iter_errors(data)
                .map(|e| {
                    let pointer = e.instance_path().as_str().to_string();
                    let schema_path = e.schema_path().as_str().to_string();
                    finding(schema, &schema_path, &pointer, e.kind(), e.instance(), &e.to_string())
                })
                .chain(control_characters(schema, data))
                .collect(),
        )
    }
}

/// Text a person reads (officers, the public, a spreadsheet) carries no control
/// characters but line breaks and tabs, and no bidirectional controls (U+202E makes
/// “gnp.exe” read “exe.png”): one blocking finding per such text, at its field.
fn control_characters(schema: &Value, data: &Value) -> Vec<Finding> {
    fn walk(schema: &Value, v: &Value, at: &mut String, out: &mut Vec<Finding>) {
        match v {
            Value::String(s) => {
                let bad = s.chars().find(|c| shenbao_engine::text::unreadable(*c));
                if let Some(c) = bad {
                    let title = title_at_instance(schema, at).unwrap_or_else(|| "文字".into());
                    out.push(Finding {
                        rule_id: "schema.control-characters".into(),
                        severity: Severity::Blocking,
                        path: pointer_to_path(at),
                        message: Text::new(
                            format!(
                                "「{title}」含有不可见的控制字符或文字方向控制字符（U+{:04X}），请删除后重新填写",
                                c as u32
                            ),
                            format!(
                                "{} holds a control or bidirectional-control character (U+{:04X})",
                                pointer_to_path(at),
                                c as u32
                            ),
                        ),
                    });
                }
            }
            Value::Array(xs) => {
                for (i, x) in xs.iter().enumerate() {
                    let len = at.len();
                    at.push_str(&format!("/{i}"));
                    walk(schema, x, at, out);
                    at.truncate(len);
                }
            }
            Value::Object(m) => {
                for (k, x) in m {
                    let len = at.len();
                    at.push('/');
                    at.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    walk(schema, x, at, out);
                    at.truncate(len);
                }
            }
            _ => {}
        }
    }
    fn unreadable(s: &str) -> bool {
        s.chars().any(shenbao_engine::text::unreadable)
    }
    // A scan without paths first: almost all data has none, and pays only this.
    fn any(v: &Value) -> bool {
        match v {
            Value::String(s) => unreadable(s),
            Value::Array(xs) => xs.iter().any(any),
            Value::Object(m) => m.iter().any(|(k, x)| unreadable(k) || any(x)),
            _ => false,
        }
    }
    let mut out = Vec::new();
    if any(data) {
        walk(schema, data, &mut String::new(), &mut out);
    }
    out
}

/// The JSON pointer of the first property marked `"x-project-key": true`, following
/// `properties` through `$ref` (and the `anyOf` optional fields come out as), not into arrays.
fn project_key_pointer(root: &Value, node: &Value, at: &str, depth: usize) -> Option<String> {
    if depth > 8 {
        return None;
    }
    let node = resolve(root, node);
    for (name, prop) in node.get("properties").and_then(Value::as_object).into_iter().flatten() {
        let here = format!("{at}/{}", name.replace('~', "~0").replace('/', "~1"));
        if prop.get("x-project-key") == Some(&Value::Bool(true)) {
            return Some(here);
        }
        if let Some(found) = project_key_pointer(root, prop, &here, depth + 1) {
            return Some(found);
        }
    }
    node.get("anyOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(|alt| project_key_pointer(root, alt, at, depth + 1))
}

/// Collect the pointers of properties marked `"x-public": true` (through `properties`,
/// `$ref` and `anyOf`, not into arrays), depth-bounded like every schema walk.
fn public_pointers(root: &Value, node: &Value, at: &str, depth: usize, out: &mut Vec<String>) {
    if depth > 8 {
        return;
    }
    let node = resolve(root, node);
    for (name, prop) in node.get("properties").and_then(Value::as_object).into_iter().flatten() {
        let here = format!("{at}/{}", name.replace('~', "~0").replace('/', "~1"));
        if prop.get("x-public") == Some(&Value::Bool(true)) {
            out.push(here);
        } else {
            public_pointers(root, prop, &here, depth + 1, out);
        }
    }
    for alt in node.get("anyOf").and_then(Value::as_array).into_iter().flatten() {
        public_pointers(root, alt, at, depth + 1, out);
    }
}

/// `/cases/2/customer` → `$.cases[2].customer`.
pub fn pointer_to_path(pointer: &str) -> String {
    let mut out = String::from("$");
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            out.push('.');
            out.push_str(&seg);
        }
    }
    out
}

/// Follow a JSON pointer into the schema, resolving local `$ref`s on the way.
fn walk<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    let mut cur = root;
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        cur = resolve(root, cur);
        cur = match cur {
            Value::Object(m) => m.get(&seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(resolve(root, cur))
}

fn resolve<'a>(root: &'a Value, v: &'a Value) -> &'a Value {
    let mut v = v;
    for _ in 0..8 {
        match v.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
            Some(ptr) => match root.pointer(ptr) {
                Some(t) => v = t,
                None => break,
            },
            None => break,
        }
    }
    v
}

/// The title the schema gives the value at an instance location, found by
/// following `properties` / `items` from the root (through `$ref` and the
/// `anyOf` that optional fields come out as). For keywords that fail inside
/// `allOf`/`if`/`then`, whose own subschema carries no titles.
fn title_at_instance(root: &Value, pointer: &str) -> Option<String> {
    let node = schema_at_instance(root, pointer)?;
    node.get("title").or_else(|| resolve(root, node).get("title")).and_then(Value::as_str).map(str::to_string)
}

/// The subschema that describes the value at instance location `pointer` (`/a/0/b`),
/// found by following `properties` / `items` from the root through `$ref`, the
/// `anyOf`/`oneOf` that optional fields come out as, and the `allOf`/`if`/`then`/`else`
/// that conditional fields are declared in. `None` when no field is there.
pub(crate) fn schema_at_instance<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    // Bounded even though install refuses recursive schemas (`schema_bounds`): a
    // schema installed before that check must not overflow the stack here.
    fn step<'a>(root: &'a Value, node: &'a Value, seg: &str, depth: usize) -> Option<&'a Value> {
        if depth > crate::schema_bounds::MAX_SCHEMA_DEPTH {
            return None;
        }
        let node = resolve(root, node);
        if let Some(p) = node.get("properties").and_then(|p| p.get(seg)) {
            return Some(p);
        }
        if seg.chars().all(|c| c.is_ascii_digit()) {
            if let Some(i) = node.get("items") {
                return Some(i);
            }
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            for alt in node.get(key).and_then(Value::as_array).into_iter().flatten() {
                if let Some(found) = step(root, alt, seg, depth + 1) {
                    return Some(found);
                }
            }
        }
        for key in ["then", "else"] {
            if let Some(found) = node.get(key).and_then(|alt| step(root, alt, seg, depth + 1)) {
                return Some(found);
            }
        }
        None
    }
    let mut node = root;
    for seg in pointer.split('/').skip(1) {
        node = step(root, node, &seg.replace("~1", "/").replace("~0", "~"), 0)?;
    }
    Some(node)
}

/// The labels of a choice field (`oneOf` of titled constants): value → title (zh).
/// Empty when the field is not such a choice.
pub(crate) fn choice_labels(root: &Value, node: &Value) -> HashMap<String, String> {
    let node = resolve(root, node);
    let mut out = HashMap::new();
    for o in node.get("oneOf").or_else(|| node.get("anyOf")).and_then(Value::as_array).into_iter().flatten() {
        if let (Some(c), Some(t)) = (o.get("const"), o.get("title").and_then(Value::as_str)) {
            let key = match c {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.insert(key, t.to_string());
        }
    }
    out
}

/// A JSON Schema type as an applicant reads it: 「营业收入」应为数字, not `Single(Number)`.
fn type_zh(kind: &jsonschema::error::TypeKind) -> String {
    use jsonschema::JsonType as T;
    let one = |t: T| match t {
        T::Null => "空值",
        T::Boolean => "“是”或“否”",
        T::Integer => "整数",
        T::Number => "数字",
        T::String => "文字",
        T::Array => "列表",
        T::Object => "一组填写项",
    };
    match kind {
        jsonschema::error::TypeKind::Single(t) => one(*t).to_string(),
        jsonschema::error::TypeKind::Multiple(set) => set.iter().map(one).collect::<Vec<_>>().join("或"),
    }
}

fn title_of(schema: Option<&Value>, fallback: &str) -> String {
    schema
        .and_then(|s| s.get("title"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| if fallback.is_empty() { "申报表".to_string() } else { fallback.to_string() })
}

fn other_keyword(kind: &jsonschema::error::ValidationErrorKind) -> &'static str {
    if matches!(kind, jsonschema::error::ValidationErrorKind::AnyOf { .. }) { "anyOf" } else { "oneOf" }
}

/// The allowed values when every alternative of a `oneOf`/`anyOf` is a `const` (how
/// documented Rust enums come out of schemars).
fn const_alternatives(root: &Value, schema: Option<&Value>, keyword: &str) -> Option<Vec<String>> {
    let alts = schema?.get(keyword)?.as_array()?;
    alts.iter()
        .map(|a| {
            let a = resolve(root, a);
            // The label people read: the alternative's title, else its description
            // (schemars writes a variant's doc comment there), else the value.
            let label = a.get("title").or_else(|| a.get("description")).and_then(Value::as_str);
            a.get("const").map(|c| label.map_or_else(|| plain(c), str::to_string))
        })
        .collect()
}

/// Longest piece of an applicant's value quoted in a message, in characters.
const QUOTED_CHARS: usize = 40;

/// A value as a person reads it in a message: text in “quotes” (cut after
/// [`QUOTED_CHARS`] characters with …), a list joined with 、, anything else as JSON.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) if s.chars().count() > QUOTED_CHARS => {
            format!("“{}…”", s.chars().take(QUOTED_CHARS).collect::<String>())
        }
        Value::String(s) => format!("“{s}”"),
        Value::Array(xs) => xs.iter().map(shown).collect::<Vec<_>>().join("、"),
        other => cut_json(other),
    }
}

/// `v` as [`shown`], with every text that is a labelled `const` somewhere in
/// `root` (an enum value) written as its label: an applicant reads 电子商务, not
/// `e-commerce`.
fn shown_labelled(root: &Value, v: &Value) -> String {
    fn collect<'a>(v: &'a Value, out: &mut std::collections::HashMap<&'a str, &'a str>) {
        match v {
            Value::Object(m) => {
                // A title wins over a description (a doc comment may carry a clause number).
                if let Some(Value::String(c)) = m.get("const") {
                    if let Some(t) = m.get("title").and_then(Value::as_str) {
                        out.insert(c, t);
                    } else if let Some(d) = m.get("description").and_then(Value::as_str) {
                        out.entry(c).or_insert(d);
                    }
                }
                m.values().for_each(|x| collect(x, out));
            }
            Value::Array(xs) => xs.iter().for_each(|x| collect(x, out)),
            _ => {}
        }
    }
    let mut labels = std::collections::HashMap::new();
    collect(root, &mut labels);
    match v {
        Value::String(s) => labels.get(s.as_str()).map_or_else(|| shown(v), |l| format!("“{l}”")),
        Value::Array(xs) => xs.iter().map(|x| shown_labelled(root, x)).collect::<Vec<_>>().join("、"),
        other => shown(other),
    }
}

/// `v` as JSON, cut after [`QUOTED_CHARS`] characters with ….
fn cut_json(v: &Value) -> String {
    let t = v.to_string();
    if t.chars().count() > QUOTED_CHARS {
        format!("{}…", t.chars().take(QUOTED_CHARS).collect::<String>())
    } else {
        t
    }
}

/// An allowed value as listed in a message: text as it is, lists joined with 、.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(xs) => xs.iter().map(plain).collect::<Vec<_>>().join("、"),
        other => other.to_string(),
    }
}

/// A JSON Schema `format` as people call it.
fn format_zh(format: &str) -> String {
    match format {
        "date" => "日期（YYYY-MM-DD）".into(),
        "date-time" => "日期时间".into(),
        "time" => "时间".into(),
        "email" => "电子邮箱地址".into(),
        "uri" | "url" => "网址".into(),
        "ipv4" | "ipv6" => "IP 地址".into(),
        "uuid" => "UUID".into(),
        other => other.to_string(),
    }
}

fn finding(
    schema: &Value,
    schema_path: &str,
    pointer: &str,
    kind: &jsonschema::error::ValidationErrorKind,
    instance: &Value,
    en: &str,
) -> Finding {
    use jsonschema::error::ValidationErrorKind as K;
    // jsonschema's English quotes the whole value: an applicant's megabyte stays out.
    let en_cut: String;
    let en = if en.chars().count() > 300 {
        en_cut = format!("{}…", en.chars().take(300).collect::<String>());
        en_cut.as_str()
    } else {
        en
    };
    // The subschema that holds the failing keyword (its own title first, then its $ref's).
    let parent_ptr = schema_path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    let unresolved = schema.pointer(parent_ptr).filter(|v| v.get("title").is_some());
    let parent = unresolved.or_else(|| walk(schema, parent_ptr));
    let last = pointer.rsplit('/').next().unwrap_or("");
    let field = match parent.and_then(|p| p.get("title")) {
        Some(_) => title_of(parent, last),
        None => title_at_instance(schema, pointer).unwrap_or_else(|| title_of(parent, last)),
    };
    let (rule, path, zh) = match kind {
        K::Required { property } => {
            let prop = property.as_str().unwrap_or_default();
            let own = parent.and_then(|p| p.get("properties")).and_then(|p| p.get(prop)).map(|v| resolve(schema, v));
            let title = match own.and_then(|o| o.get("title")) {
                Some(_) => title_of(own, prop),
                None => title_at_instance(schema, &format!("{pointer}/{prop}")).unwrap_or_else(|| title_of(own, prop)),
            };
            let path = pointer_to_path(&format!("{pointer}/{prop}"));
            ("required", path, format!("缺少必填项「{title}」"))
        }
        K::Type { kind } => ("type", pointer_to_path(pointer), format!("「{field}」应为{}", type_zh(kind))),
        K::Minimum { limit } => {
            ("minimum", pointer_to_path(pointer), format!("「{field}」不得小于 {limit}，当前为 {}", shown(instance)))
        }
        K::Maximum { limit } => {
            ("maximum", pointer_to_path(pointer), format!("「{field}」不得大于 {limit}，当前为 {}", shown(instance)))
        }
        K::ExclusiveMinimum { limit } => (
            "exclusiveMinimum",
            pointer_to_path(pointer),
            format!("「{field}」须大于 {limit}，当前为 {}", shown(instance)),
        ),
        K::ExclusiveMaximum { limit } => (
            "exclusiveMaximum",
            pointer_to_path(pointer),
            format!("「{field}」须小于 {limit}，当前为 {}", shown(instance)),
        ),
        K::MinLength { limit } => {
            ("minLength", pointer_to_path(pointer), format!("「{field}」不得少于 {limit} 个字符"))
        }
        K::MaxLength { limit } => {
            ("maxLength", pointer_to_path(pointer), format!("「{field}」不得多于 {limit} 个字符"))
        }
        K::MinItems { limit } => {
            let n = instance.as_array().map_or(0, Vec::len);
            ("minItems", pointer_to_path(pointer), format!("「{field}」至少需要 {limit} 项，当前 {n} 项"))
        }
        K::MaxItems { limit } => {
            let n = instance.as_array().map_or(0, Vec::len);
            ("maxItems", pointer_to_path(pointer), format!("「{field}」至多 {limit} 项，当前 {n} 项"))
        }
        K::Enum { options } => (
            "enum",
            pointer_to_path(pointer),
            format!("「{field}」须为以下之一：{}；当前为{}", plain(options), shown_labelled(schema, instance)),
        ),
        K::Constant { expected_value } => {
            ("const", pointer_to_path(pointer), format!("「{field}」须为{}", shown(expected_value)))
        }
        K::Pattern { .. } => {
            ("pattern", pointer_to_path(pointer), format!("「{field}」格式不正确：{}", shown(instance)))
        }
        K::Format { format } => (
            "format",
            pointer_to_path(pointer),
            format!("「{field}」不是有效的{}：{}", format_zh(format), shown(instance)),
        ),
        K::AdditionalProperties { unexpected } => {
            ("additionalProperties", pointer_to_path(pointer), format!("不允许的字段：{}", unexpected.join("、")))
        }
        K::OneOfNotValid { .. } | K::AnyOf { .. }
            if const_alternatives(schema, walk(schema, parent_ptr), other_keyword(kind)).is_some() =>
        {
            let options = const_alternatives(schema, walk(schema, parent_ptr), other_keyword(kind)).unwrap_or_default();
            // jsonschema's own English names only the keyword here: name the values.
            let values: Vec<String> = walk(schema, parent_ptr)
                .and_then(|p| p.get(other_keyword(kind)))
                .and_then(Value::as_array)
                .map(|alts| {
                    alts.iter().filter_map(|a| resolve(schema, a).get("const").map(|c| c.to_string())).collect()
                })
                .unwrap_or_default();
            return Finding {
                rule_id: "schema.enum".into(),
                severity: Severity::Blocking,
                path: pointer_to_path(pointer),
                message: Text::new(
                    format!(
                        "「{field}」须为以下之一：{}；当前为{}",
                        options.join("、"),
                        shown_labelled(schema, instance)
                    ),
                    format!("{} is not one of {}", cut_json(instance), values.join(", ")),
                ),
            };
        }
        K::UniqueItems => ("uniqueItems", pointer_to_path(pointer), format!("「{field}」中有重复项")),
        other => {
            let kw = other.keyword();
            return Finding {
                rule_id: format!("schema.{kw}"),
                severity: Severity::Blocking,
                path: pointer_to_path(pointer),
                message: Text::new(format!("「{field}」不符合要求（{kw}）"), en.to_string()),
            };
        }
    };
    Finding {
        rule_id: format!("schema.{rule}"),
        severity: Severity::Blocking,
        path,
        message: Text::new(zh, en.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_key_is_found_at_any_depth_and_normalised() {
        let schema = serde_json::json!({
            "type": "object",
            "properties": {"pilot": {"$ref": "#/$defs/Pilot"}, "other": {"type": "string"}},
            "$defs": {"Pilot": {"type": "object", "properties": {"name": {"type": "string", "x-project-key": true}}}}
        });
        let form = shenbao_contract::Form { id: "f".into(), title: Text::default(), schema: schema.to_string() };
        let set = FormSet::compile_forms(&[form]).unwrap();
        let data = serde_json::json!({"pilot": {"name": " 示例 Ａ项目 "}, "other": "x"});
        assert_eq!(set.project_key("f", &data).as_deref(), Some("示例a项目"));
        assert_eq!(set.project_key("f", &serde_json::json!({"other": "x"})), None);
        assert_eq!(set.project_key("g", &data), None);
    }

    #[test]
    fn a_type_error_reads_as_chinese_not_debug_text() {
        let schema = serde_json::json!({"type": "object", "properties": {
            "revenue": {"type": "number", "title": "营业收入（万元）"},
            "note": {"type": ["string", "null"], "title": "备注"}}});
        let form = shenbao_contract::Form { id: "f".into(), title: Text::default(), schema: schema.to_string() };
        let set = FormSet::compile_forms(&[form]).unwrap();
        let found = set.validate("f", &serde_json::json!({"revenue": "很多", "note": 3})).unwrap();
        let zh: Vec<&str> = found.iter().map(|f| f.message.zh.as_str()).collect();
        assert!(zh.contains(&"「营业收入（万元）」应为数字"), "{zh:?}");
        assert!(zh.contains(&"「备注」应为空值或文字") || zh.contains(&"「备注」应为文字或空值"), "{zh:?}");
    }

    #[test]
    fn pointers_become_json_paths() {
        assert_eq!(pointer_to_path(""), "$");
        assert_eq!(pointer_to_path("/cases/2/customer"), "$.cases[2].customer");
        assert_eq!(pointer_to_path("/a~1b/c~0d"), "$.a/b.c~d");
    }
}
