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
}

impl Calendar {
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
}
