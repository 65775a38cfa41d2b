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
