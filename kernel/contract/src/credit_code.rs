//! The unified social credit code (统一社会信用代码), GB 32100-2015.
//!
//! 18 characters from `0-9 A-H J-N P-R T-U W-Y` (no I, O, Z, S, V):
//! 1 registration authority, 2 organisation category, 3–8 administrative
//! division (digits), 9–17 organisation code, 18 check character, computed as
//! `31 - (Σ value(cᵢ)·3^(i-1) mod 31) mod 31`, with weights `3^(i-1) mod 31`.

use std::fmt;

/// The code's alphabet in value order: `ALPHABET[v]` is the character of value `v`.
pub const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// Why a code is not a valid unified social credit code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreditCodeError {
    /// Not 18 characters.
    Length { found: usize },
    /// A character outside the code's alphabet (position is 1-based).
    Character { position: usize, found: char },
    /// Positions 3–8 (the administrative division code) must be digits.
    Division { position: usize, found: char },
    /// The 18th character does not match the check computed from the first 17.
    CheckDigit { expected: char, found: char },
}

impl CreditCodeError {
    /// Chinese message for applicants and reviewers.
    pub fn zh(&self) -> String {
        match self {
            Self::Length { found } => format!("统一社会信用代码应为 18 位，当前为 {found} 位"),
            Self::Character { position, found } => {
                format!("统一社会信用代码第 {position} 位字符“{found}”无效（不得使用 I、O、Z、S、V 及小写字母）")
            }
            Self::Division { position, found } => {
                format!("统一社会信用代码第 {position} 位应为数字（第 3–8 位为行政区划码），当前为“{found}”")
            }
            Self::CheckDigit { expected, found } => {
                format!("统一社会信用代码校验位错误：第 18 位应为“{expected}”，当前为“{found}”")
            }
        }
    }
    /// English message for integrators.
    pub fn en(&self) -> String {
        match self {
            Self::Length { found } => format!("unified social credit code must have 18 characters, found {found}"),
            Self::Character { position, found } => {
                format!(
                    "unified social credit code: invalid character {found:?} at position {position} (I, O, Z, S, V and lower case are not used)"
                )
            }
            Self::Division { position, found } => {
                format!(
                    "unified social credit code: position {position} must be a digit (3-8 are the division code), found {found:?}"
                )
            }
            Self::CheckDigit { expected, found } => {
                format!("unified social credit code: check character should be {expected:?}, found {found:?}")
            }
        }
    }
}

impl fmt::Display for CreditCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.zh(), self.en())
    }
}
impl std::error::Error for CreditCodeError {}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|v| v as u32)
}

/// The check character for the first 17 characters, or `None` if one is outside the alphabet.
pub fn check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (i, &c) in b.iter().enumerate() {
        sum += value(c)? * WEIGHTS[i];
    }
    Some(ALPHABET[((31 - sum % 31) % 31) as usize] as char)
}

/// Validate a code: length, alphabet, division digits and check character.
pub fn validate(code: &str) -> Result<(), CreditCodeError> {
    let chars: Vec<char> = code.chars().collect();
    if chars.len() != 18 {
        return Err(CreditCodeError::Length { found: chars.len() });
    }
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii() || value(c as u8).is_none() {
            return Err(CreditCodeError::Character { position: i + 1, found: c });
        }
        if (2..8).contains(&i) && !c.is_ascii_digit() {
            return Err(CreditCodeError::Division { position: i + 1, found: c });
        }
    }
    let expected = check_char(&code[..17]).expect("alphabet checked above");
    if chars[17] != expected {
        return Err(CreditCodeError::CheckDigit { expected, found: chars[17] });
    }
    Ok(())
}

/// Complete 17 characters with their check character (for examples and tests).
pub fn complete(first17: &str) -> Option<String> {
    check_char(first17).map(|c| format!("{first17}{c}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_powers_of_three_mod_31() {
        let mut w = 1u32;
        for expected in WEIGHTS {
            assert_eq!(w, expected);
            w = w * 3 % 31;
        }
    }

    #[test]
    fn published_sample_codes_validate() {
        // The sample code printed with GB 32100-2015.
        for code in ["91350100M000100Y43"] {
            assert_eq!(validate(code), Ok(()), "{code}");
        }
    }

    #[test]
    fn each_error_is_named() {
        assert_eq!(validate("91350100M000100Y4"), Err(CreditCodeError::Length { found: 17 }));
        assert_eq!(validate("91350100M000100Y4I"), Err(CreditCodeError::Character { position: 18, found: 'I' }));
        assert_eq!(validate("913A0100M000100Y43"), Err(CreditCodeError::Division { position: 4, found: 'A' }));
        assert_eq!(validate("91350100M000100Y44"), Err(CreditCodeError::CheckDigit { expected: '3', found: '4' }));
        assert!(CreditCodeError::CheckDigit { expected: '3', found: '4' }.zh().contains("第 18 位应为“3”"));
    }

    #[test]
    fn any_single_substitution_is_caught() {
        let good = "91350100M000100Y43";
        for pos in 0..17 {
            for &c in ALPHABET {
                let mut b = good.as_bytes().to_vec();
                if b[pos] == c {
                    continue;
                }
                b[pos] = c;
                let s = String::from_utf8(b).unwrap();
                assert!(validate(&s).is_err(), "{s} should fail");
            }
        }
    }

    #[test]
    fn complete_makes_valid_codes() {
        let code = complete("91440300MA5FXXXX0").unwrap();
        assert_eq!(validate(&code), Ok(()));
    }
}
