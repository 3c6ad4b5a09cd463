//! Durations of modules, steps, exercises and breaks.
//!
//! Trainers write durations the way they say them: `45`, `45 min`, `1h30`,
//! `1 h 30`, `90m`, `2h`. They drive the agenda's clock times, so a duration we
//! cannot read is an error, never a silent zero.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A whole number of minutes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Minutes(pub u32);

impl Minutes {
    /// Parses `45`, `45 min`, `45min`, `45 minutes`, `1h30`, `1 h 30`, `1h 30min`, `90m`, `2h`.
    pub fn parse(text: &str) -> Option<Minutes> {
        let compact: String = text
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if compact.is_empty() {
            return None;
        }
        let (hours, rest) = match compact.find('h') {
            Some(at) => {
                let hours: u32 = compact[..at].parse().ok()?;
                let rest = compact[at + 1..]
                    .trim_start_matches("ours")
                    .trim_start_matches("our");
                (hours, rest)
            }
            None => (0, compact.as_str()),
        };
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (number, unit) = rest.split_at(digits_end);
        if !matches!(
            unit,
            "" | "m" | "min" | "mn" | "mins" | "minute" | "minutes"
        ) {
            return None;
        }
        let minutes: u32 = if number.is_empty() {
            if !unit.is_empty() || !compact.contains('h') {
                return None;
            }
            0
        } else {
            number.parse().ok()?
        };
        if compact.contains('h') && minutes >= 60 {
            return None;
        }
        hours.checked_mul(60)?.checked_add(minutes).map(Minutes)
    }

    /// Human label: `45 min`, `1 h 30`, `2 h` (French and English alike).
    pub fn label(self) -> String {
        let (h, m) = (self.0 / 60, self.0 % 60);
        match (h, m) {
            (0, m) => format!("{m} min"),
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m:02}"),
        }
    }
}

impl fmt::Display for Minutes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

impl Serialize for Minutes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.label())
    }
}

impl<'de> Deserialize<'de> for Minutes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MinutesVisitor;
        const EXPECTED: &str = "a duration such as 45, 45 min, 1h30, 1 h 30 or 90m";

        impl Visitor<'_> for MinutesVisitor {
            type Value = Minutes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Minutes, E> {
                u32::try_from(v)
                    .map(Minutes)
                    .map_err(|_| E::custom(format!("duration {v} is too large")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Minutes, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(format!("duration {v} is negative: {EXPECTED}")))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Minutes, E> {
                Minutes::parse(v)
                    .ok_or_else(|| E::custom(format!("invalid duration `{v}`: write {EXPECTED}")))
            }
        }
        deserializer.deserialize_any(MinutesVisitor)
    }
}

/// A clock time of day, for the agenda (`09:30`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime {
    /// Minutes since midnight.
    pub minutes: u32,
}

impl ClockTime {
    /// Parses `09:30`, `9:30`, `9h30`, `14h`.
    pub fn parse(text: &str) -> Option<ClockTime> {
        let text = text.trim().to_ascii_lowercase();
        let (h, m) = text.split_once([':', 'h']).unwrap_or((&text, "0"));
        let m = if m.is_empty() { "0" } else { m };
        if h.is_empty() || h.len() > 2 || m.len() > 2 {
            return None;
        }
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some(ClockTime {
            minutes: h * 60 + m,
        })
    }

    /// This time plus a duration (wrapping after midnight).
    pub fn plus(self, duration: Minutes) -> ClockTime {
        ClockTime {
            minutes: (self.minutes + duration.0) % (24 * 60),
        }
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.minutes / 60, self.minutes % 60)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ClockTime::parse(&text).ok_or_else(|| {
            de::Error::custom(format!(
                "invalid clock time `{text}`: write it as \"09:30\" (quoted)"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_listed_form() {
        for (text, minutes) in [
            ("45", 45),
            ("45 min", 45),
            ("45min", 45),
            ("1h30", 90),
            ("1 h 30", 90),
            ("1h 30min", 90),
            ("90m", 90),
            ("2h", 120),
            ("2 h", 120),
            ("1 hour", 60),
            ("0", 0),
        ] {
            assert_eq!(Minutes::parse(text), Some(Minutes(minutes)), "{text}");
        }
        for bad in [
            "",
            "abc",
            "1h90",
            "h",
            "-5",
            "5 sec",
            "1h30h",
            "99999999999",
        ] {
            assert_eq!(Minutes::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn labels() {
        assert_eq!(Minutes(45).label(), "45 min");
        assert_eq!(Minutes(90).label(), "1 h 30");
        assert_eq!(Minutes(125).label(), "2 h 05");
        assert_eq!(Minutes(120).label(), "2 h");
    }

    #[test]
    fn clock_times() {
        assert_eq!(ClockTime::parse("09:30").map(|t| t.minutes), Some(570));
        assert_eq!(ClockTime::parse("14h").map(|t| t.minutes), Some(840));
        assert_eq!(ClockTime::parse("25:00"), None);
        assert_eq!(
            ClockTime::parse("09:30")
                .unwrap()
                .plus(Minutes(45))
                .to_string(),
            "10:15"
        );
    }
}
