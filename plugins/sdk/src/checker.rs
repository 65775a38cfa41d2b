//! Rules and the collector of findings.

use shenbao_contract::{CheckResult, Finding, Rule, Severity, Signal, Text};

/// One machine-checkable clause: the row of a plugin's rule table.
#[derive(Clone, Copy, Debug)]
pub struct RuleDef {
    /// Stable id, e.g. `er.revenue.avg-2y-min-1000`. Never reuse one for another clause.
    pub id: &'static str,
    pub severity: Severity,
    /// Where the clause is: seed file and section.
    pub clause: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

impl RuleDef {
    pub fn to_rule(&self) -> Rule {
        Rule {
            id: self.id.to_string(),
            severity: self.severity,
            clause: self.clause.to_string(),
            title: Text::new(self.zh, self.en),
        }
    }
}

/// A rule table as `pub const RULES: &[RuleDef]`, one line per clause:
/// `id, Severity, clause, zh, en;`.
///
/// ```
/// use shenbao_sdk::prelude::*;
/// use Severity::Blocking;
/// shenbao_sdk::rules! {
///     "demo.staff.min-20", Blocking, "demo 第三条", "研发团队不少于 20 人", "an R&D team of at least 20";
/// }
/// assert_eq!(RULES[0].severity, Severity::Blocking);
/// ```
#[macro_export]
macro_rules! rules {
    ($($id:literal, $sev:ident, $clause:literal, $zh:literal, $en:literal;)*) => {
        pub const RULES: &[$crate::RuleDef] =
            &[$($crate::RuleDef { id: $id, severity: $sev, clause: $clause, zh: $zh, en: $en }),*];
    };
}

/// A message in Chinese and English.
pub fn msg(zh: impl Into<String>, en: impl Into<String>) -> Text {
    Text::new(zh, en)
}

/// Collects findings and signals for one check, taking each rule's severity from the table.
pub struct Checker {
    rules: &'static [RuleDef],
    findings: Vec<Finding>,
    signals: Vec<Signal>,
}

impl Checker {
    pub fn new(rules: &'static [RuleDef]) -> Self {
        Checker { rules, findings: Vec::new(), signals: Vec::new() }
    }

    fn severity(&self, id: &str) -> Severity {
        match self.rules.iter().find(|r| r.id == id) {
            Some(r) => r.severity,
            None => {
                // The kernel refuses findings with undeclared rule ids; catch it in native tests.
                debug_assert!(false, "rule {id:?} is not in the rule table");
                Severity::Blocking
            }
        }
    }

    /// Record that rule `id` fails at `path`.
    pub fn fail(&mut self, id: &str, path: impl Into<String>, message: Text) {
        let severity = self.severity(id);
        self.findings.push(Finding { rule_id: id.to_string(), severity, path: path.into(), message });
    }

    /// Check `ok`; when it is false, record rule `id` at `path` with the message.
    /// Returns `ok`.
    pub fn ensure(&mut self, id: &str, path: impl Into<String>, ok: bool, message: impl FnOnce() -> Text) -> bool {
        if !ok {
            self.fail(id, path, message());
        }
        ok
    }

    /// Add a ranking signal (declared in the manifest's `signals`).
    pub fn signal(&mut self, id: &str, weight: i32, message: Text) {
        self.signals.push(Signal { id: id.to_string(), weight, message });
    }

    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    pub fn finish(self) -> CheckResult {
        CheckResult { findings: self.findings, signals: self.signals }
    }
}
