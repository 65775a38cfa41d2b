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
    /// Position 1 is not a registration authority (登记管理部门码) of GB 32100-2015.
    Authority { found: char },
    /// Position 2 is not an organisation category (机构类别码) of the authority at position 1.
    Category { authority: char, found: char, allowed: &'static str },
    /// Positions 3–8 are not an administrative division code (GB/T 2260): the first
    /// two digits name no province-level division (`100000` stands for the nation).
    DivisionCode { found: String },
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
            Self::Authority { found } => format!(
                "统一社会信用代码第 1 位“{found}”不是登记管理部门码（GB 32100-2015 第 4.2 条：应为 1–9、A、N、Y 之一）"
            ),
            Self::Category { authority, found, allowed } => format!(
                "统一社会信用代码第 2 位“{found}”不是登记管理部门“{authority}”的机构类别码（GB 32100-2015 第 4.3 条：应为 {allowed} 之一）"
            ),
            Self::DivisionCode { found } => format!(
                "统一社会信用代码第 3–8 位“{found}”不是行政区划码（GB 32100-2015 第 4.4 条，GB/T 2260：前两位应为省级区划）"
            ),
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
            Self::Authority { found } => format!(
                "unified social credit code: position 1 {found:?} is not a registration authority (GB 32100-2015 4.2: one of 1-9, A, N, Y)"
            ),
            Self::Category { authority, found, allowed } => format!(
                "unified social credit code: position 2 {found:?} is not an organisation category of authority {authority:?} (GB 32100-2015 4.3: one of {allowed})"
            ),
            Self::DivisionCode { found } => format!(
                "unified social credit code: positions 3-8 {found:?} are not an administrative division code (GB 32100-2015 4.4, GB/T 2260: the first two digits name a province)"
            ),
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

/// The organisation categories (机构类别码, position 2) of each registration
/// authority (登记管理部门码, position 1), GB 32100-2015 as amended:
/// 1 机构编制 (1 机关, 2 事业单位, 3 群众团体, 9 其他), 2 外交, 3 司法行政, 4 文化,
/// 5 民政 (1 社会团体, 2 民办非企业单位, 3 基金会, 9 其他), 6 旅游, 7 宗教, 8 工会,
/// 9 工商 (1 企业, 2 个体工商户, 3 农民专业合作社), A 中央军委改革和编制办公室,
/// N 农业 (集体经济组织), Y 其他.
pub const CATEGORIES: &[(char, &str)] = &[
    ('1', "1239"),
    ('2', "19"),
    ('3', "123459"),
    ('4', "19"),
    ('5', "1239"),
    ('6', "129"),
    ('7', "129"),
    ('8', "19"),
    ('9', "123"),
    ('A', "19"),
    ('N', "1239"),
    ('Y', "1"),
];

/// First two digits of province-level divisions (GB/T 2260), and `10` for `100000`,
/// the national level.
const PROVINCES: &[u8] = &[
    10, 11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62,
    63, 64, 65, 71, 81, 82,
];

/// A code as people type it, in the one form every reader compares: surrounding
/// white space removed, full-width letters and digits (Ａ１) made ASCII, upper case.
/// Used wherever a code is read (imports, scopes, the API), so that the same code
/// is the same everywhere; [`validate`] then says whether it is valid.
pub fn normalise(code: &str) -> String {
    code.trim()
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect::<String>()
        .to_uppercase()
}

/// Validate a code: length, alphabet, registration authority and organisation
/// category (positions 1–2), division code (3–8), check character (18).
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
    let Some(&(authority, allowed)) = CATEGORIES.iter().find(|(a, _)| *a == chars[0]) else {
        return Err(CreditCodeError::Authority { found: chars[0] });
    };
    if !allowed.contains(chars[1]) {
        return Err(CreditCodeError::Category { authority, found: chars[1], allowed });
    }
    let division = &code[2..8];
    let province: u8 = division[..2].parse().unwrap_or(0);
    if !PROVINCES.contains(&province) || (province == 10 && division != "100000") {
        return Err(CreditCodeError::DivisionCode { found: division.to_string() });
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
        assert_eq!(validate("91350100M000100Y43"), Ok(()));
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
    fn the_standard_s_structure_is_checked_after_the_check_digit() {
        // Check digits right, structure wrong: each names its clause.
        for (first17, needle) in [
            ("00000000000000000", "第 1 位"),
            ("Z1440300MA5FXXXX0", "第 1 位"),
            ("94440300MA5FXXXX0", "第 2 位"),
            ("Y2440300MA5FXXXX0", "第 2 位"),
            ("91000000MA5FXXXX0", "第 3–8 位"),
            ("91990300MA5FXXXX0", "第 3–8 位"),
            ("91100001MA5FXXXX0", "第 3–8 位"),
        ] {
            let Some(code) = complete(first17) else { continue };
            let e = validate(&code).expect_err(&code);
            assert!(e.zh().contains(needle) && e.zh().contains("GB 32100-2015"), "{code}: {e}");
        }
        assert!(matches!(validate("000000000000000000"), Err(CreditCodeError::Authority { found: '0' })));
        for first17 in
            ["91441302MA4UXXXX0", "51441300MJ0000000", "12441300MB0000000", "N2440300MF0000000", "91100000MA0000000"]
        {
            let code = complete(first17).unwrap();
            assert_eq!(validate(&code), Ok(()), "{code}");
        }
    }

    #[test]
    fn codes_are_normalised_one_way() {
        assert_eq!(normalise(" ９１３５０１００m000100y43 "), "91350100M000100Y43");
        assert_eq!(validate(&normalise("91350100m000100y43")), Ok(()));
    }

    #[test]
    fn complete_makes_valid_codes() {
        let code = complete("91440300MA5FXXXX0").unwrap();
        assert_eq!(validate(&code), Ok(()));
    }
}
