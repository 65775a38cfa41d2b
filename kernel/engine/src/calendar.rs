//! Working days (工作日): weekends and public holidays off, the official make-up
//! working days (调休) on. The calendar is data, configured per year.

use serde::{Deserialize, Serialize};
use shenbao_contract::Date;
use std::collections::BTreeSet;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Calendar {
    /// Public holidays that would otherwise be working days.
    pub holidays: BTreeSet<Date>,
    /// Weekend days that are working days (调休).
    pub makeup_workdays: BTreeSet<Date>,
    /// The years whose calendars were set (filled when the kernel reads them; a
    /// date in another year counts weekends only, and a due date that reaches one
    /// is flagged).
    #[serde(skip)]
    #[schemars(skip)]
    pub years: BTreeSet<i32>,
}

impl Calendar {
    /// What cannot be meant in `year`'s calendar, each naming the date: a date of
    /// another year, a day both holiday and make-up day, a holiday on a weekend
    /// (only working days are given off), a make-up day on a weekday (only weekend
    /// days are worked instead).
    pub fn problems(&self, year: i32) -> Vec<String> {
        let weekday = |d: &Date| ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][d.weekday() as usize];
        let mut out = Vec::new();
        for d in self.holidays.iter().chain(&self.makeup_workdays) {
            if d.year != year {
                out.push(format!("{d} 不在 {year} 年 / {d} is not in {year}"));
            }
        }
        for d in self.holidays.intersection(&self.makeup_workdays) {
            out.push(format!("{d} 既是节假日又是调休上班日 / {d} is both a holiday and a make-up working day"));
        }
        for d in self.holidays.iter().filter(|d| d.weekday() >= 5) {
            out.push(format!(
                "节假日 {d} 是{}，本就休息：只需列出放假的工作日 / holiday {d} is a weekend day: list only weekdays given off",
                weekday(d)
            ));
        }
        for d in self.makeup_workdays.iter().filter(|d| d.weekday() < 5) {
            out.push(format!(
                "调休上班日 {d} 是{}，本就上班：只需列出要上班的周末 / make-up day {d} is a weekday: list only weekend days worked",
                weekday(d)
            ));
        }
        out
    }

    /// This calendar and `other` (another year's) as one.
    pub fn merge(&mut self, other: &Calendar) {
        self.holidays.extend(other.holidays.iter().copied());
        self.makeup_workdays.extend(other.makeup_workdays.iter().copied());
        self.years.extend(other.years.iter().copied());
    }

    /// The years from `from` to `to` (inclusive) with no calendar set, when at least
    /// one year is set (with none set, weekends alone are the rule everywhere).
    pub fn missing_years(&self, from: Date, to: Date) -> Vec<i32> {
        if self.years.is_empty() {
            return Vec::new();
        }
        (from.year..=to.year).filter(|y| !self.years.contains(y)).collect()
    }

    pub fn is_working_day(&self, d: Date) -> bool {
        if self.makeup_workdays.contains(&d) {
            return true;
        }
        d.weekday() < 5 && !self.holidays.contains(&d)
    }

    /// The date `n` working days after `start` (the day of arrival does not count).
    pub fn add_working_days(&self, start: Date, n: u32) -> Date {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d = d.add_days(1);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days after `from` up to and including `to` (0 if `to` ≤ `from`).
    pub fn working_days_between(&self, from: Date, to: Date) -> u32 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d = d.add_days(1);
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024 National Day: 1–7 October off, Sunday 29 September and Saturday 12 October worked.
    fn cal_2024() -> Calendar {
        Calendar {
            holidays: (1..=7).map(|d| Date::new(2024, 10, d)).collect(),
            makeup_workdays: [Date::new(2024, 9, 29), Date::new(2024, 10, 12)].into_iter().collect(),
            years: [2024].into_iter().collect(),
        }
    }

    #[test]
    fn national_day_with_makeup_days() {
        let c = cal_2024();
        assert!(c.is_working_day(Date::new(2024, 9, 29)), "a Sunday worked (调休)");
        assert!(!c.is_working_day(Date::new(2024, 10, 2)));
        assert!(!c.is_working_day(Date::new(2024, 10, 5)));
        // Arrival Friday 27 September; 10 working days: 29 Sep, 30 Sep, 8, 9, 10, 11, 12 (Sat, 调休), 14, 15, 16.
        assert_eq!(c.add_working_days(Date::new(2024, 9, 27), 10), Date::new(2024, 10, 16));
        assert_eq!(c.working_days_between(Date::new(2024, 9, 27), Date::new(2024, 10, 16)), 10);
        // Without the calendar: plain weekdays.
        assert_eq!(Calendar::default().add_working_days(Date::new(2024, 9, 27), 10), Date::new(2024, 10, 11));
    }

    #[test]
    fn a_due_date_across_new_year_uses_both_years_and_a_missing_year_is_named() {
        let mut c = Calendar { years: [2024].into_iter().collect(), ..Default::default() };
        let y2025 = Calendar {
            holidays: [Date::new(2025, 1, 1)].into_iter().collect(),
            years: [2025].into_iter().collect(),
            ..Default::default()
        };
        // Friday 27 December 2024 + 10 working days, New Year's Day off: 13 January 2025.
        assert_eq!(c.missing_years(Date::new(2024, 12, 27), Date::new(2025, 1, 10)), [2025]);
        c.merge(&y2025);
        assert_eq!(c.add_working_days(Date::new(2024, 12, 27), 10), Date::new(2025, 1, 13));
        assert!(c.missing_years(Date::new(2024, 12, 27), Date::new(2025, 1, 13)).is_empty());
    }

    #[test]
    fn what_cannot_be_meant_is_named() {
        let bad = Calendar {
            holidays: [Date::new(2025, 1, 1), Date::new(2024, 10, 5), Date::new(2024, 10, 8)].into_iter().collect(),
            makeup_workdays: [Date::new(2024, 10, 9), Date::new(2024, 10, 8)].into_iter().collect(),
            years: BTreeSet::new(),
        };
        let p = bad.problems(2024).join("\n");
        for needle in [
            "2025-01-01 不在 2024 年",
            "2024-10-08 既是节假日又是调休上班日",
            "节假日 2024-10-05 是周六",
            "调休上班日 2024-10-09 是周三",
        ] {
            assert!(p.contains(needle), "{needle}: {p}");
        }
        assert!(cal_2024_weekdays().problems(2024).is_empty());
    }

    fn cal_2024_weekdays() -> Calendar {
        Calendar {
            holidays: [1, 2, 3, 4, 7].into_iter().map(|d| Date::new(2024, 10, d)).collect(),
            makeup_workdays: [Date::new(2024, 9, 29), Date::new(2024, 10, 12)].into_iter().collect(),
            years: BTreeSet::new(),
        }
    }
}
