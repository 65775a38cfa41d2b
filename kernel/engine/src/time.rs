//! Instants and the injectable clock. Dates in Guangdong are read at UTC+08:00
//! (China has no daylight saving).

use serde::{Deserialize, Serialize};
use shenbao_contract::Date;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Seconds since the Unix epoch (UTC). Stored as that number; read from a number
/// or from Beijing time as people write it: `2024-08-10T17:30:00+08:00`,
/// `2024-08-10 17:30` or `2024-08-10` (midnight).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl std::str::FromStr for Timestamp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a Beijing time like 2024-08-10T17:30:00+08:00 or 2024-08-10 17:30");
        let s = s.trim();
        let rest = s.strip_suffix("+08:00").unwrap_or(s);
        let (date, time) = match rest.split_once(['T', ' ']) {
            Some((d, t)) => (d, t),
            None => (rest, "00:00"),
        };
        let date: Date = date.parse().map_err(|_| bad())?;
        let mut parts = time.split(':').map(|p| p.parse::<u32>());
        let (h, m, sec) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(Ok(h)), Some(Ok(m)), None, None) => (h, m, 0),
            (Some(Ok(h)), Some(Ok(m)), Some(Ok(s)), None) => (h, m, s),
            _ => return Err(bad()),
        };
        if h > 23 || m > 59 || sec > 59 {
            return Err(bad());
        }
        let at = Timestamp::at(date, h, m).plus_secs(i64::from(sec));
        if !at.in_range() {
            return Err(format!("{s:?} is not a Beijing time from 1900-01-01 to 9999-12-31"));
        }
        Ok(at)
    }
}

/// A timestamp as stored (seconds) or as people write it (text).
enum Raw {
    Secs(i64),
    Text(String),
}

/// Reads [`Raw`] straight from the deserializer's number or string: an
/// `#[serde(untagged)]` enum would buffer every value first (a third of reading an
/// application was its timestamps).
impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Raw;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("seconds since the Unix epoch, or a Beijing time like 2024-08-10T17:30:00+08:00")
            }
            // Any stored number reads back (a record written by an older version
            // must never become unreadable); people's numbers are range-checked where
            // they enter (`Kernel::check_round_spec`), their text by `from_str`.
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Raw, E> {
                Ok(Raw::Secs(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Raw, E> {
                match i64::try_from(v) {
                    Ok(v) => self.visit_i64(v),
                    Err(_) => Err(E::invalid_value(serde::de::Unexpected::Unsigned(v), &self)),
                }
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Raw, E> {
                Ok(Raw::Text(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Raw, E> {
                Ok(Raw::Text(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// An end or a deadline as people write it: a date alone (`2024-08-31`) means the
/// end of that day, 23:59:59 Beijing time; a time of day is taken as given. Use with
/// `#[serde(deserialize_with = "crate::time::end_of")]`.
///
/// # Errors
/// Text that is not a Beijing time or date.
pub fn end_of<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    match Raw::deserialize(d)? {
        Raw::Secs(s) => Ok(Timestamp(s)),
        Raw::Text(t) => {
            let at: Timestamp = t.parse().map_err(serde::de::Error::custom)?;
            let date_only = !t.trim().strip_suffix("+08:00").unwrap_or(t.trim()).contains(['T', ' ', ':']);
            Ok(if date_only { at.plus_secs(24 * 3600 - 1) } else { at })
        }
    }
}

/// [`end_of`] for an optional deadline (`null` or absent: none).
///
/// # Errors
/// As [`end_of`].
pub fn end_of_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "end_of")] Timestamp);
    Option::<Wrap>::deserialize(d).map(|w| w.map(|w| w.0))
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Raw::deserialize(d)? {
            Raw::Secs(s) => Ok(Timestamp(s)),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Seconds since the Unix epoch; accepted also as Beijing time text: 2024-08-10T17:30:00+08:00, 2024-08-10 17:30 or 2024-08-10",
            "oneOf": [{ "type": "integer" }, { "type": "string" }]
        })
    }
}

/// China Standard Time offset.
pub const CST_OFFSET_SECS: i64 = 8 * 3600;

impl Timestamp {
    /// The earliest instant people may give: 1900-01-01 00:00 Beijing time (text
    /// before it is refused by `from_str`, a round's times by `check_round_spec`).
    pub fn earliest() -> Timestamp {
        Timestamp::at(Date::new(1900, 1, 1), 0, 0)
    }

    /// The latest instant people may give: 9999-12-31 23:59:59 Beijing time.
    pub fn latest() -> Timestamp {
        Timestamp::end_of(Date::new(9999, 12, 31))
    }

    /// Within [`Timestamp::earliest`]..=[`Timestamp::latest`].
    pub fn in_range(self) -> bool {
        (Timestamp::earliest()..=Timestamp::latest()).contains(&self)
    }

    /// `hh:mm` on `date`, Beijing time.
    pub fn at(date: Date, hour: u32, minute: u32) -> Timestamp {
        Timestamp(date.to_days() * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 - CST_OFFSET_SECS)
    }
    /// The last second of `date`, Beijing time ("by 10 August" means through 23:59:59).
    pub fn end_of(date: Date) -> Timestamp {
        Timestamp(Timestamp::at(date, 0, 0).0 + 86_399)
    }
    /// The calendar date in Beijing.
    pub fn local_date(self) -> Date {
        Date::from_days(self.0.saturating_add(CST_OFFSET_SECS).div_euclid(86_400))
    }
    /// `s` seconds later (saturating: a stored time far out of range never overflows).
    pub fn plus_secs(self, s: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(s))
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let local = self.0.saturating_add(CST_OFFSET_SECS);
        let secs = local.rem_euclid(86_400);
        write!(f, "{}T{:02}:{:02}:{:02}+08:00", self.local_date(), secs / 3600, secs % 3600 / 60, secs % 60)
    }
}

/// Where the kernel reads "now". Injectable so tests control time.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64))
    }
}

/// A clock that stands still until moved. Clones share the same time.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(t: Timestamp) -> Self {
        ManualClock(Arc::new(AtomicI64::new(t.0)))
    }
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.0, Ordering::SeqCst);
    }
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_dates() {
        let t = Timestamp::at(Date::new(2024, 8, 10), 0, 30);
        assert_eq!(t.local_date(), Date::new(2024, 8, 10));
        assert_eq!(t.to_string(), "2024-08-10T00:30:00+08:00");
        assert_eq!("2024-08-10T00:30:00+08:00".parse::<Timestamp>(), Ok(t));
        assert_eq!("2024-08-10 00:30".parse::<Timestamp>(), Ok(t));
        assert_eq!(serde_json::from_str::<Timestamp>("\"2024-08-10 00:30\"").unwrap(), t);
        assert_eq!(serde_json::from_str::<Timestamp>(&t.0.to_string()).unwrap(), t);
        assert!("2024-08-10 24:00".parse::<Timestamp>().is_err());
        // 00:30 in Beijing is still the 9th in UTC.
        assert_eq!(Date::from_days(t.0.div_euclid(86_400)), Date::new(2024, 8, 9));
        assert_eq!(Timestamp::end_of(Date::new(2024, 8, 10)).to_string(), "2024-08-10T23:59:59+08:00");
    }

    /// A timestamp is read from an integer or from text, and nothing else.
    #[test]
    fn timestamps_read_from_numbers_and_text_only() {
        assert_eq!(serde_json::from_str::<Timestamp>("-5").unwrap(), Timestamp(-5));
        assert_eq!(
            serde_json::from_value::<Timestamp>(serde_json::json!(1_723_248_000u64)).unwrap(),
            Timestamp(1_723_248_000)
        );
        for bad in [
            "1.5",
            "null",
            "true",
            "[1]",
            "{}",
            "18446744073709551615",
            "\"2024-13-01\"",
            "\"1899-12-31 23:59\"",
            "\"0001-01-01\"",
        ] {
            let e = serde_json::from_str::<Timestamp>(bad).unwrap_err().to_string();
            assert!(e.contains("Beijing time"), "{bad}: {e}");
        }
        #[derive(serde::Deserialize)]
        struct Deadline {
            #[serde(deserialize_with = "end_of")]
            at: Timestamp,
        }
        let d: Deadline = serde_json::from_str(r#"{"at":"2024-08-31"}"#).unwrap();
        assert_eq!(d.at.to_string(), "2024-08-31T23:59:59+08:00");
        let d: Deadline = serde_json::from_str(r#"{"at":7}"#).unwrap();
        assert_eq!(d.at, Timestamp(7));
        // Any stored number reads back and prints, however far out (a record an
        // older version wrote never becomes unreadable); the bounds are text too.
        for secs in [i64::MAX, i64::MIN, 253_402_300_800, -2_209_017_601] {
            let t = serde_json::from_str::<Timestamp>(&secs.to_string()).unwrap();
            assert_eq!(t, Timestamp(secs));
            assert!(!t.in_range());
            let _ = (t.to_string(), t.local_date(), t.plus_secs(86_400));
        }
        for t in [Timestamp::earliest(), Timestamp::latest()] {
            assert_eq!(t.to_string().parse::<Timestamp>(), Ok(t));
        }
        assert_eq!(Timestamp::earliest().to_string(), "1900-01-01T00:00:00+08:00");
        assert_eq!(Timestamp::latest().to_string(), "9999-12-31T23:59:59+08:00");
    }
}
