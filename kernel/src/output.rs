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

/// The first 60 characters of `s`, for naming it in a message.
fn head(s: &str) -> String {
    let mut h: String = s.chars().take(60).collect();
    if h.len() < s.len() {
        h.push('…');
    }
    h
}

/// A message too long to show ([`crate::text::MAX_MESSAGE_CHARS`]), naming where.
fn message_problem(what: &str, t: &Text) -> Option<String> {
    let max = crate::text::MAX_MESSAGE_CHARS;
    [("Chinese", &t.zh), ("English", &t.en)].into_iter().find_map(|(lang, s)| {
        let n = s.chars().count();
        (n > max).then(|| format!("{what}: the {lang} message has {n} characters; the limit is {max}"))
    })
}

fn finding_problem(m: &Manifest, i: usize, f: &Finding) -> Option<String> {
    if m.rule(&f.rule_id).is_none() {
        return Some(format!("finding {i}: rule id {:?} is not declared in the manifest", head(&f.rule_id)));
    }
    if !f.path.starts_with('$') {
        return Some(format!("finding {i} ({}): path {:?} does not start with `$`", f.rule_id, head(&f.path)));
    }
    let n = f.path.chars().count();
    if n > crate::text::MAX_FINDING_PATH_CHARS {
        let max = crate::text::MAX_FINDING_PATH_CHARS;
        return Some(format!("finding {i} ({}): the path has {n} characters; the limit is {max}", f.rule_id));
    }
    if f.path.chars().any(crate::text::is_unsafe) {
        return Some(format!("finding {i} ({}): path {:?} holds control characters", f.rule_id, head(&f.path)));
    }
    if f.message.zh.trim().is_empty() {
        return Some(format!("finding {i} ({}): the Chinese message is empty", f.rule_id));
    }
    message_problem(&format!("finding {i} ({})", f.rule_id), &f.message)
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
            return Some(format!("signal {i}: id {:?} is not declared in the manifest", head(&s.id)));
        }
        if let Some(p) = message_problem(&format!("signal {i} ({})", s.id), &s.message) {
            return Some(p);
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
