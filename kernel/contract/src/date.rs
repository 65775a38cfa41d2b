//! Calendar dates without time zones: what the notices write and what date rules count in.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A proleptic Gregorian calendar date. Serialises as `"YYYY-MM-DD"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DateError {
    /// Not of the form `YYYY-MM-DD`.
    Format(String),
    /// Month or day out of range.
    Range(String),
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateError::Format(s) => write!(f, "日期格式应为 YYYY-MM-DD (date must be YYYY-MM-DD): {s:?}"),
            DateError::Range(s) => write!(f, "日期不存在 (no such date): {s:?}"),
        }
    }
}
impl std::error::Error for DateError {}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// Builds a date without checking it; use [`Date::checked`] or `parse` for input.
    pub const fn new(year: i32, month: u8, day: u8) -> Date {
        Date { year, month, day }
    }

    pub fn checked(year: i32, month: u8, day: u8) -> Option<Date> {
        if (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month) {
            Some(Date { year, month, day })
        } else {
            None
        }
    }

    pub fn is_valid(&self) -> bool {
        Date::checked(self.year, self.month, self.day).is_some()
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    pub fn to_days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146097 + doe - 719468
    }

    pub fn from_days(z: i64) -> Date {
        let z = z + 719468;
        let era = if z >= 0 { z } else { z - 146096 } / 146097;
        let doe = z - era * 146097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        Date { year: (y + i64::from(m <= 2)) as i32, month: m, day: d }
    }

    pub fn add_days(self, n: i64) -> Date {
        Date::from_days(self.to_days() + n)
    }

    /// Calendar months; the day is clamped to the month's end (2024-02-29 + 12 months = 2025-02-28).
    pub fn add_months(self, n: i32) -> Date {
        let total = self.year * 12 + i32::from(self.month) - 1 + n;
        let year = total.div_euclid(12);
        let month = (total.rem_euclid(12) + 1) as u8;
        let day = self.day.min(days_in_month(year, month));
        Date { year, month, day }
    }

    pub fn add_years(self, n: i32) -> Date {
        self.add_months(n * 12)
    }

    /// Day of week, 0 = Monday … 6 = Sunday.
    pub fn weekday(self) -> u8 {
        // 1970-01-01 was a Thursday (3).
        (self.to_days() + 3).rem_euclid(7) as u8
    }

    /// Whole years from `self` to `later` (birthday-style), negative if `later` is earlier.
    pub fn years_until(self, later: Date) -> i32 {
        let mut y = later.year - self.year;
        if (later.month, later.day) < (self.month, self.day) {
            y -= 1;
        }
        y
    }

    /// True if `self` lies in the `years` years before `as_of` (inclusive of both ends).
    pub fn within_years_before(self, as_of: Date, years: i32) -> bool {
        self <= as_of && self >= as_of.add_years(-years)
    }

    /// True if `self` lies in the `months` months before `as_of` (inclusive of both ends).
    pub fn within_months_before(self, as_of: Date, months: i32) -> bool {
        self <= as_of && self >= as_of.add_months(-months)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Date, DateError> {
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) || !digits(8..10) {
            return Err(DateError::Format(s.to_string()));
        }
        let year: i32 = s[0..4].parse().map_err(|_| DateError::Format(s.to_string()))?;
        let month: u8 = s[5..7].parse().map_err(|_| DateError::Format(s.to_string()))?;
        let day: u8 = s[8..10].parse().map_err(|_| DateError::Format(s.to_string()))?;
        Date::checked(year, month, day).ok_or_else(|| DateError::Range(s.to_string()))
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Date {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Date".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" })
    }
}

/// A day of the year, for yearly deadlines ("by 31 March").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct MonthDay {
    pub month: u8,
    pub day: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_across_four_centuries() {
        let mut d = Date::new(1900, 1, 1);
        let start = d.to_days();
        for i in 0..(400 * 366) {
            assert_eq!(d.to_days(), start + i);
            assert_eq!(Date::from_days(d.to_days()), d);
            assert!(d.is_valid(), "{d}");
            d = d.add_days(1);
        }
    }

    #[test]
    fn known_days_and_weekdays() {
        assert_eq!(Date::new(1970, 1, 1).to_days(), 0);
        assert_eq!(Date::new(2000, 3, 1).to_days(), 11017);
        assert_eq!(Date::new(2024, 8, 10).weekday(), 5); // a Saturday
        assert_eq!(Date::new(2026, 11, 21).weekday(), 5);
    }

    #[test]
    fn month_arithmetic_clamps() {
        assert_eq!(Date::new(2024, 2, 29).add_years(1), Date::new(2025, 2, 28));
        assert_eq!(Date::new(2024, 1, 31).add_months(1), Date::new(2024, 2, 29));
        assert_eq!(Date::new(2024, 3, 31).add_months(-13), Date::new(2023, 2, 28));
        assert_eq!(Date::new(2024, 8, 10).add_months(-60), Date::new(2019, 8, 10));
    }

    #[test]
    fn windows_are_inclusive() {
        let as_of = Date::new(2024, 8, 10);
        assert!(Date::new(2021, 8, 10).within_years_before(as_of, 3));
        assert!(!Date::new(2021, 8, 9).within_years_before(as_of, 3));
        assert!(!Date::new(2024, 8, 11).within_years_before(as_of, 3));
        assert_eq!(Date::new(2022, 8, 11).years_until(as_of), 1);
        assert_eq!(Date::new(2022, 8, 10).years_until(as_of), 2);
    }

    #[test]
    fn parse_refuses_bad_text() {
        assert_eq!("2024-02-30".parse::<Date>(), Err(DateError::Range("2024-02-30".into())));
        assert!(matches!("2024-2-3".parse::<Date>(), Err(DateError::Format(_))));
        assert!(matches!("２０２４-02-03".parse::<Date>(), Err(DateError::Format(_))));
        assert_eq!("2024-02-29".parse::<Date>(), Ok(Date::new(2024, 2, 29)));
        let j: Date = serde_json::from_str("\"2023-12-08\"").unwrap();
        assert_eq!(serde_json::to_string(&j).unwrap(), "\"2023-12-08\"");
    }
}
