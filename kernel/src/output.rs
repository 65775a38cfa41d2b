//! What a plugin returns is checked before the kernel believes it: sizes, and that
//! every finding and signal names something the manifest declared.

use shenbao_contract::{CheckResult, Finding, Manifest, RoundCheck, Text};

fn text_len(t: &Text) -> usize {
    t.zh.len() + t.en.len()
}

/// Bytes of text in a check result.
pub fn check_result_size(r: &CheckResult) -> u64 {
    let f: usize = r.findings.iter().map(|f| f.rule_id.len() + f.path.len() + text_len(&f.message) + 8).sum();
    let s: usize = r.signals.iter().map(|s| s.id.len() + text_len(&s.message) + 8).sum();
    (f + s) as u64
}

fn finding_problem(m: &Manifest, i: usize, f: &Finding) -> Option<String> {
    if m.rule(&f.rule_id).is_none() {
        return Some(format!("finding {i}: rule id {:?} is not declared in the manifest", f.rule_id));
    }
    if !f.path.starts_with('$') {
        return Some(format!("finding {i} ({}): path {:?} does not start with `$`", f.rule_id, f.path));
    }
    if f.message.zh.trim().is_empty() {
        return Some(format!("finding {i} ({}): the Chinese message is empty", f.rule_id));
    }
    None
}

/// The first thing wrong with a check result, if any.
pub fn check_result_problem(m: &Manifest, r: &CheckResult) -> Option<String> {
    for (i, f) in r.findings.iter().enumerate() {
        if let Some(p) = finding_problem(m, i, f) {
            return Some(p);
        }
    }
    for (i, s) in r.signals.iter().enumerate() {
        if !m.signals.iter().any(|t| t.id == s.id) {
            return Some(format!("signal {i}: id {:?} is not declared in the manifest", s.id));
        }
    }
    None
}

/// The first thing wrong with a round check, if any.
pub fn round_check_problem(m: &Manifest, r: &RoundCheck) -> Option<String> {
    for (i, f) in r.findings.iter().enumerate() {
        if let Some(p) = finding_problem(m, i, f) {
            return Some(p);
        }
    }
    let mut seen = std::collections::HashSet::new();
    for d in &r.directions {
        if !seen.insert(d.id.as_str()) {
            return Some(format!("direction {:?} is listed twice", d.id));
        }
        if m.form(&d.form).is_none() {
            return Some(format!("direction {:?} uses form {:?}, which the manifest does not declare", d.id, d.form));
        }
    }
    None
}
