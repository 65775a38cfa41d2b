//! Bounds on a plugin's form schemas, checked before a schema is compiled (at
//! install and again at every load), so that no walk over a schema — the kernel's
//! own title and project-key lookups, or the validator's compilation — can
//! overflow the stack, run without end, or exhaust memory.
//!
//! A schema is refused when, with every local `$ref` expanded:
//! - a `$ref` leads back to a schema it is inside (a recursive form: the walks would not end);
//! - subschemas nest deeper than [`MAX_SCHEMA_DEPTH`];
//! - there are more than [`MAX_SCHEMA_NODES`] subschemas (exponential `$ref` fan-out);
//! - there are more than [`MAX_PATTERNS`] regular expressions (`pattern`, `patternProperties`)
//!   in the form, one is longer than [`MAX_PATTERN_CHARS`], or one compiles to more than
//!   [`PATTERN_SIZE_LIMIT`] bytes.
//!
//! Patterns are compiled by the linear-time `regex` engine ([`pattern_options`]), so
//! validating a document costs at most its length times the patterns' compiled size.

use serde_json::Value;

/// Deepest nesting of subschemas, counting each `$ref` followed as one level.
pub const MAX_SCHEMA_DEPTH: usize = 48;
/// Most subschemas one form may expand to (every `$ref` expanded where it is used).
pub const MAX_SCHEMA_NODES: usize = 20_000;
/// Most regular expressions (`pattern` values and `patternProperties` keys) in one form.
pub const MAX_PATTERNS: usize = 64;
/// Longest regular expression, in characters.
pub const MAX_PATTERN_CHARS: usize = 1_000;
/// Largest compiled regular expression, in bytes (the `regex` crate's `size_limit`).
pub const PATTERN_SIZE_LIMIT: usize = 256 << 10;
/// Largest lazy-DFA cache per regular expression, in bytes.
pub const PATTERN_DFA_SIZE_LIMIT: usize = 256 << 10;

/// The pattern engine and limits every form schema is compiled with.
pub fn pattern_options() -> jsonschema::PatternOptions<jsonschema::Regex> {
    jsonschema::PatternOptions::regex().size_limit(PATTERN_SIZE_LIMIT).dfa_size_limit(PATTERN_DFA_SIZE_LIMIT)
}

/// Check `root` against the bounds above.
///
/// # Errors
/// A message naming the schema location (a JSON pointer into the form's schema) and
/// the bound that was passed, e.g. `"$ref \"#/$defs/Node\" at /$defs/Node/oneOf/0
/// leads back to a schema it is inside (a recursive form)"`.
pub fn check(root: &Value) -> Result<(), String> {
    let mut w = Walk { root, nodes: 0, patterns: 0, refs: Vec::new() };
    w.node(root, "", 0)
}

struct Walk<'a> {
    root: &'a Value,
    nodes: usize,
    patterns: usize,
    /// The `$ref` targets being expanded on the current path.
    refs: Vec<&'a str>,
}

/// Keywords whose value is one subschema.
const ONE: &[&str] = &[
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
];
/// Keywords whose value is an array of subschemas.
const MANY: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
/// Keywords whose value is an object of subschemas.
const NAMED: &[&str] = &["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];

impl<'a> Walk<'a> {
    fn node(&mut self, v: &'a Value, at: &str, depth: usize) -> Result<(), String> {
        let Value::Object(m) = v else { return Ok(()) };
        self.nodes += 1;
        if self.nodes > MAX_SCHEMA_NODES {
            return Err(format!(
                "expands to more than {MAX_SCHEMA_NODES} subschemas (every $ref expanded where it is used); \
                 reached at {at}"
            ));
        }
        if depth > MAX_SCHEMA_DEPTH {
            return Err(format!("nests subschemas deeper than {MAX_SCHEMA_DEPTH} levels at {at}"));
        }
        if let Some(p) = m.get("pattern").and_then(Value::as_str) {
            self.pattern(p, &format!("{at}/pattern"))?;
        }
        for k in m.get("patternProperties").and_then(Value::as_object).into_iter().flat_map(|o| o.keys()) {
            self.pattern(k, &format!("{at}/patternProperties"))?;
        }
        for key in ONE {
            if let Some(s) = m.get(*key) {
                self.node(s, &format!("{at}/{key}"), depth + 1)?;
            }
        }
        for key in MANY {
            for (i, s) in m.get(*key).and_then(Value::as_array).into_iter().flatten().enumerate() {
                self.node(s, &format!("{at}/{key}/{i}"), depth + 1)?;
            }
        }
        for key in NAMED {
            for (name, s) in m.get(*key).and_then(Value::as_object).into_iter().flatten() {
                let name = name.replace('~', "~0").replace('/', "~1");
                self.node(s, &format!("{at}/{key}/{name}"), depth + 1)?;
            }
        }
        if let Some(r) = m.get("$ref").and_then(Value::as_str) {
            if let Some(target) = r.strip_prefix('#').and_then(|p| self.root.pointer(p)) {
                if self.refs.contains(&r) {
                    return Err(format!(
                        "$ref {r:?} at {at} leads back to a schema it is inside (a recursive form); \
                         a form's fields must be finite"
                    ));
                }
                self.refs.push(r);
                // From here on, locations are the referenced schema's own (what its author edits).
                let out = self.node(target, &r[1..], depth + 1);
                self.refs.pop();
                out?;
            }
        }
        Ok(())
    }

    fn pattern(&mut self, p: &str, at: &str) -> Result<(), String> {
        self.patterns += 1;
        if self.patterns > MAX_PATTERNS {
            return Err(format!(
                "has more than {MAX_PATTERNS} regular expressions (pattern, patternProperties); at {at}"
            ));
        }
        let chars = p.chars().count();
        if chars > MAX_PATTERN_CHARS {
            return Err(format!("regular expression at {at} has {chars} characters; the limit is {MAX_PATTERN_CHARS}"));
        }
        regex::RegexBuilder::new(p)
            .size_limit(PATTERN_SIZE_LIMIT)
            .dfa_size_limit(PATTERN_DFA_SIZE_LIMIT)
            .build()
            .map(drop)
            .map_err(|e| match e {
                regex::Error::CompiledTooBig(limit) => format!(
                    "regular expression at {at} compiles to more than {limit} bytes; \
                     use a narrower class or a shorter repetition"
                ),
                other => format!("regular expression at {at} does not compile: {other}"),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_finite_form_with_shared_definitions_passes() {
        let s = json!({"type": "object",
            "properties": {"a": {"$ref": "#/$defs/Addr"}, "b": {"$ref": "#/$defs/Addr"},
                           "name": {"type": "string", "pattern": "^[\\p{Han}]{2,50}$"}},
            "$defs": {"Addr": {"type": "object", "properties": {"zip": {"type": "string", "pattern": "^[0-9]{6}$"}}}}});
        check(&s).unwrap();
    }

    #[test]
    fn recursion_through_any_keyword_is_refused() {
        for via in [
            json!({"oneOf": [{"$ref": "#/$defs/N"}, {"type": "null"}]}),
            json!({"properties": {"child": {"$ref": "#/$defs/N"}}}),
            json!({"items": {"$ref": "#/$defs/N"}}),
            json!({"allOf": [{"not": {"$ref": "#"}}]}),
        ] {
            let s = json!({"type": "object", "properties": {"n": {"$ref": "#/$defs/N"}}, "$defs": {"N": via}});
            let e = check(&s).unwrap_err();
            assert!(e.contains("recursive form"), "{e}");
        }
        let e = check(&json!({"properties": {"me": {"$ref": "#"}}})).unwrap_err();
        assert!(e.contains("\"#\""), "{e}");
    }

    #[test]
    fn exponential_fan_out_depth_and_patterns_are_bounded() {
        // Each level refers to the next twice: 2^16 subschemas once expanded, 32 levels deep.
        let mut defs = serde_json::Map::new();
        for i in 0..16 {
            let next = format!("#/$defs/d{}", i + 1);
            defs.insert(format!("d{i}"), json!({"properties": {"x": {"$ref": next}, "y": {"$ref": next}}}));
        }
        defs.insert("d16".into(), json!({"type": "string"}));
        let e = check(&json!({"$ref": "#/$defs/d0", "$defs": defs})).unwrap_err();
        assert!(e.contains("more than 20000 subschemas"), "{e}");

        let mut deep = json!({"type": "string"});
        for _ in 0..60 {
            deep = json!({"properties": {"x": deep}});
        }
        assert!(check(&deep).unwrap_err().contains("deeper than 48"));

        let props: serde_json::Map<_, _> =
            (0..65).map(|i| (format!("f{i}"), json!({"type": "string", "pattern": "^a$"}))).collect();
        assert!(check(&json!({"properties": props})).unwrap_err().contains("more than 64 regular expressions"));

        let heavy = json!({"properties": {"x": {"type": "string", "pattern": "[\\p{L}\\p{N}]{150}"}}});
        let e = check(&heavy).unwrap_err();
        assert!(e.contains("/properties/x/pattern") && e.contains("compiles to more than"), "{e}");

        let long = json!({"patternProperties": {"a".repeat(1001): {}}});
        assert!(check(&long).unwrap_err().contains("1001 characters"));
    }
}
