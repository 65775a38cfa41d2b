//! Money as the forms write it: in 万元 (10,000 CNY).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount in 万元. `Wan(1500.0)` is 15 million CNY.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Wan(pub f64);

impl Wan {
    /// The mean of some yearly amounts; `None` for none.
    pub fn average(amounts: &[Wan]) -> Option<Wan> {
        (!amounts.is_empty()).then(|| Wan(amounts.iter().map(|w| w.0).sum::<f64>() / amounts.len() as f64))
    }
    /// In yuan.
    pub fn yuan(self) -> f64 {
        self.0 * 10_000.0
    }
    /// The amount in yuan as English messages write it: `Wan(80.0)` → `800,000 yuan`,
    /// `Wan(123.45678)` → `1,234,567.8 yuan` (two decimals at most, thousands separated).
    /// The Python SDK's `wan_en` and the JavaScript SDK's `wanEn` write the same.
    pub fn en(self) -> String {
        let s = format!("{:.2}", self.yuan());
        let s = s.trim_end_matches('0').trim_end_matches('.');
        let (sign, rest) = s.strip_prefix('-').map_or(("", s), |r| ("-", r));
        let (int, frac) = rest.split_once('.').map_or((rest, ""), |(i, f)| (i, f));
        let mut grouped = String::new();
        for (i, ch) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        let dot = if frac.is_empty() { "" } else { "." };
        format!("{sign}{grouped}{dot}{frac} yuan")
    }
}

impl fmt::Display for Wan {
    /// `1500 万元`, `987.5 万元`, `1234.57 万元` (two decimals at most).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = format!("{:.2}", self.0);
        let s = s.trim_end_matches('0').trim_end_matches('.');
        write!(f, "{s} 万元")
    }
}

impl JsonSchema for Wan {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Wan".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "number",
            "description": "单位：万元"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_and_display() {
        assert_eq!(Wan::average(&[Wan(900.0), Wan(1100.0)]), Some(Wan(1000.0)));
        assert_eq!(Wan::average(&[]), None);
        assert_eq!(Wan(1500.0).to_string(), "1500 万元");
        assert_eq!(Wan(987.5).to_string(), "987.5 万元");
        assert_eq!(Wan(1234.567).to_string(), "1234.57 万元");
        assert_eq!(Wan(2.5).yuan(), 25_000.0);
        assert_eq!(Wan(80.0).en(), "800,000 yuan");
        assert_eq!(Wan(123.45678).en(), "1,234,567.8 yuan");
        assert_eq!(Wan(0.0).en(), "0 yuan");
        assert_eq!(Wan(0.01).en(), "100 yuan");
        assert_eq!(Wan(-1500.5).en(), "-15,005,000 yuan");
        assert_eq!(Wan(0.000001).en(), "0.01 yuan");
    }
}
