//! Small helpers the programs' clauses need.

use serde::de::DeserializeOwned;
use shenbao_contract::{Applicant, CheckRequest, PluginError, Qualification};
use std::fmt;

/// Parse the application's form data into the form's Rust type.
pub fn parse_form<T: DeserializeOwned>(request: &CheckRequest) -> Result<T, PluginError> {
    parse_json(&request.data, &request.form)
}

/// Parse JSON text; the error names what was being read.
pub fn parse_json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, PluginError> {
    serde_json::from_str(text).map_err(|e| {
        PluginError::new("bad-input", format!("无法读取“{what}”：{e}"), format!("cannot read {what:?}: {e}"))
    })
}

/// A JSON path into the form data, e.g. `$.cases[2].customer`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JsonPath(String);

impl JsonPath {
    pub fn root() -> Self {
        JsonPath("$".to_string())
    }
    pub fn key(&self, key: &str) -> Self {
        JsonPath(format!("{}.{key}", self.0))
    }
    pub fn index(&self, i: usize) -> Self {
        JsonPath(format!("{}[{i}]", self.0))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<JsonPath> for String {
    fn from(p: JsonPath) -> String {
        p.0
    }
}

/// `s` in double quotes, escaped as Rust's `{:?}` writes it (`"a\\"b"`, `"\\u{3000}"`)
/// — the quoting the Python and JavaScript SDKs' `quoted` copy, so a message reads
/// the same from every language. Use it in messages that quote applicants' text:
/// `format!("case {} lacks feedback", quoted(&case.customer))`.
///
/// Text that is plainly printable (ASCII, the CJK ideographs, fullwidth forms,
/// CJK brackets and stops — what names are made of) is written as it is, without
/// consulting the Unicode tables `{:?}` walks for every other character: in a
/// sandboxed plugin, where every step burns fuel, that walk cost a typical check
/// of enabling-resources more than its rules.
pub fn quoted(s: &str) -> Quoted<'_> {
    Quoted(s)
}

/// See [`quoted`].
#[derive(Clone, Copy, Debug)]
pub struct Quoted<'a>(&'a str);

/// Characters `{:?}` writes as they are, known without its tables.
fn plainly_printable(c: char) -> bool {
    matches!(c, ' '..='~' if c != '"' && c != '\\')
        || matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{FF01}'..='\u{FF5E}' | '\u{3001}'..='\u{3011}')
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.chars().all(plainly_printable) {
            f.write_str("\"")?;
            f.write_str(self.0)?;
            f.write_str("\"")
        } else {
            write!(f, "{:?}", self.0)
        }
    }
}

/// The result of an "at least N of" count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count {
    pub found: usize,
    pub required: usize,
}

impl Count {
    pub fn ok(&self) -> bool {
        self.found >= self.required
    }
}

/// "At least `n` of these satisfy `pred`."
pub fn at_least<T>(n: usize, items: impl IntoIterator<Item = T>, pred: impl FnMut(&T) -> bool) -> Count {
    Count { found: items.into_iter().filter(pred).count(), required: n }
}

/// "Holds one of these qualifications": the first qualification whose id is accepted.
pub fn one_of<'a>(held: &'a [Qualification], accepted: &[&str]) -> Option<&'a Qualification> {
    held.iter().find(|q| accepted.contains(&q.id.as_str()))
}

/// The request's attachments of one type.
pub fn attachments_of<'a>(request: &'a CheckRequest, kind: &str) -> Vec<&'a shenbao_contract::Attachment> {
    request.attachments.iter().filter(|a| a.kind == kind).collect()
}

/// Whether the applicant carries a tag (e.g. `innovative-sme`).
pub fn has_tag(applicant: &Applicant, tag: &str) -> bool {
    applicant.tags.iter().any(|t| t == tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_counts() {
        assert_eq!(JsonPath::root().key("cases").index(2).key("customer").as_str(), "$.cases[2].customer");
        let c = at_least(3, [1, 5, 7, 9], |x| *x > 4);
        assert_eq!(c, Count { found: 3, required: 3 });
        assert!(c.ok());
        assert!(!at_least(3, [1, 5], |x| *x > 4).ok());
    }

    /// `quoted` writes what `{:?}` writes: every character of the fast ranges and
    /// around them, alone and in names.
    #[test]
    fn quoted_is_debug() {
        let ranges =
            [(0u32, 0x80u32), (0x3000, 0x3040), (0x33F0, 0x3410), (0x4DB0, 0x4E10), (0x9FF0, 0xA010), (0xFF00, 0xFF70)];
        for c in ranges.iter().flat_map(|&(a, b)| a..b).filter_map(char::from_u32) {
            let s = c.to_string();
            assert_eq!(quoted(&s).to_string(), format!("{s:?}"), "U+{:04X}", c as u32);
            let s = format!("示例{c}标准（A\"1）{c}");
            assert_eq!(quoted(&s).to_string(), format!("{s:?}"), "U+{:04X} in a name", c as u32);
        }
        assert_eq!(quoted("一种注塑件表面缺陷检测方法（示例）").to_string(), "\"一种注塑件表面缺陷检测方法（示例）\"");
        assert_eq!(quoted("a\u{3000}b\u{301}").to_string(), "\"a\\u{3000}b\\u{301}\"");
    }

    #[test]
    fn one_of_matches_by_id() {
        let held = vec![
            Qualification { id: "x".into(), name: "X".into(), ..Default::default() },
            Qualification {
                id: "robot-backbone".into(), name: "省级机器人骨干企业".into(), ..Default::default()
            },
        ];
        assert_eq!(one_of(&held, &["robot-backbone", "ai-backbone"]).unwrap().name, "省级机器人骨干企业");
        assert!(one_of(&held, &["ai-backbone"]).is_none());
    }
}
