//! Text from outside — a plugin's findings, an applicant's form data — as a person
//! reads it: on a terminal, in a CSV file, in the console. Control characters
//! (C0, DEL, C1: ANSI escapes, NUL, carriage returns, newlines) and the Unicode
//! bidirectional controls (which reorder what is shown, "Trojan Source") are shown
//! as `\u{…}` escapes, so text can neither clear a screen, forge a line, nor hide
//! what it says. The limits on a finding's size are enforced when a plugin's
//! result is accepted ([`crate::output`]).

use std::borrow::Cow;

/// Longest JSON path a finding may carry, in characters.
pub const MAX_FINDING_PATH_CHARS: usize = 256;
/// Longest message (each of Chinese and English) a finding, signal or plugin error
/// may carry, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2_000;

/// Whether `c` is shown escaped: a control character or a bidirectional control.
pub use shenbao_engine::text::is_unsafe;

/// `s` with every [`is_unsafe`] character written as `\u{hex}`; borrowed when
/// there is none.
pub fn display(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `s` as a CSV cell a spreadsheet opens safely: [`display`], and text that a
/// spreadsheet would take for a formula (starting with `=`, `+`, `-` or `@`, and
/// not a number) gets a leading `'` (OWASP, CSV injection).
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    let shown = display(s);
    let formula = shown.starts_with(['=', '+', '-', '@']) && shown.parse::<f64>().is_err();
    if formula { Cow::Owned(format!("'{shown}")) } else { shown }
}

/// What in the Chinese half of a message a person should not have to read: Rust
/// debug syntax (`Some(`, `None`, `Single(`, braces, escaped quotes) and lower-case
/// identifiers (`key-software`, `resource_name`, `factory-2`) where a name belongs.
/// Empty when the text reads as Chinese. The example sets, the demo and the refusal
/// tests hold every message to it.
pub fn message_problems(zh: &str) -> Vec<String> {
    let mut out = Vec::new();
    for debug in ["Some(", "None", "Single(", "\\\"", "{", "}"] {
        if zh.contains(debug) {
            out.push(format!("debug syntax {debug:?}"));
        }
    }
    let is_id_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    for word in zh.split(|c: char| !is_id_char(c)).filter(|w| !w.is_empty()) {
        let joined = word.trim_matches(['-', '_']).contains(['-', '_']);
        let lower = word.chars().any(|c| c.is_ascii_lowercase()) && !word.chars().any(|c| c.is_ascii_uppercase());
        if joined && lower {
            out.push(format!("identifier {word:?}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_are_escaped_and_the_rest_kept() {
        assert!(matches!(display("示例科技（深圳）有限公司 A-1"), Cow::Borrowed(_)));
        assert_eq!(display("\u{1b}[2J\u{1b}[Hok"), "\\u{1b}[2J\\u{1b}[Hok");
        assert_eq!(display("a\nok   forged\r\0"), "a\\u{a}ok   forged\\u{d}\\u{0}");
        assert_eq!(display("\u{202e}gnp.exe\u{2066}"), "\\u{202e}gnp.exe\\u{2066}");
        assert_eq!(display("\u{85}\u{9b}31m"), "\\u{85}\\u{9b}31m");
    }

    #[test]
    fn messages_are_read_for_debug_syntax_and_identifiers() {
        assert!(message_problems("申报表所填赋能范围“品牌建设”与申报方向“人工智能应用赋能”不一致").is_empty());
        assert!(message_problems("日期格式为 YYYY-MM-DD，申报编号 A0000012，5G 全连接").is_empty());
        assert_eq!(message_problems("方向“key-software”"), ["identifier \"key-software\""]);
        assert_eq!(message_problems("「resource_name」应为 Some(1)").len(), 2);
        assert_eq!(message_problems("须为 {\"a\"}").len(), 2);
    }

    #[test]
    fn formulas_are_defused_in_csv_but_numbers_are_not() {
        assert_eq!(csv_cell("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("+86 20 1234"), "'+86 20 1234");
        assert_eq!(csv_cell("-5"), "-5");
        assert_eq!(csv_cell("1200.5"), "1200.5");
        assert_eq!(csv_cell("示例"), "示例");
    }
}
