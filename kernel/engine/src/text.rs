//! Which characters text people read may not carry as they are: the one set the
//! kernel's display escaping (`shenbao::text`), its form check and the engine's
//! opinion check share.

/// Whether `c` is a control character (C0, DEL, C1) or a Unicode bidirectional
/// control (which reorders what is shown: “gnp.exe” reads “exe.png”).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` may not be stored in text people read: [`is_unsafe`], but line
/// breaks and tabs are text.
pub fn unreadable(c: char) -> bool {
    !matches!(c, '\n' | '\r' | '\t') && is_unsafe(c)
}
