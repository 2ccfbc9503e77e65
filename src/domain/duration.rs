//! Policy durations: `4h`, `2d`, `90m`, `1d 4h`, `5d calendar`.
//!
//! A duration is either business time (the default), counted only while the owning team's calendar is
//! open, or calendar time (suffix `calendar`), which no holiday pauses. A business day is the team's
//! daily hours, so `2d` means twice the calendar's day length; that conversion happens where the
//! calendar is known ([`crate::domain::calendar::Calendar::business`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Whether a duration counts business time or calendar time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Business,
    Calendar,
}

/// A parsed policy duration. Days are kept apart from the rest because a business day's length
/// depends on the calendar and a calendar day's length on the time zone (23 h or 25 h across DST).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PolicyDuration {
    pub days: i64,
    pub seconds: i64,
    pub basis: Basis,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration: write e.g. `4h`, `2d` or `5d calendar`")]
    Empty,
    #[error("`{0}` is not a number followed by a unit (w, d, h, m, s)")]
    BadPart(String),
    #[error("unknown unit `{0}`: use w, d, h, m or s")]
    BadUnit(String),
    #[error("unknown qualifier `{0}`: only `business` or `calendar` may follow the amount")]
    BadQualifier(String),
    #[error("the duration is too large")]
    Overflow,
    #[error("a duration must be greater than zero")]
    Zero,
}

impl PolicyDuration {
    pub const fn business_hours(hours: i64) -> Self {
        Self { days: 0, seconds: hours * 3600, basis: Basis::Business }
    }

    pub const fn is_calendar(&self) -> bool {
        matches!(self.basis, Basis::Calendar)
    }
}

impl FromStr for PolicyDuration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut words: Vec<&str> = text.split_whitespace().collect();
        let basis = match words.last().copied() {
            Some("calendar") => {
                words.pop();
                Basis::Calendar
            }
            Some("business") => {
                words.pop();
                Basis::Business
            }
            _ => Basis::Business,
        };
        if words.is_empty() {
            return Err(DurationError::Empty);
        }
        let (mut days, mut seconds) = (0i64, 0i64);
        for word in words {
            // A word may hold several parts, as in `1d4h` or `1h30m`.
            let mut rest = word;
            while !rest.is_empty() {
                let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
                if digits == 0 {
                    if rest.chars().next().is_some_and(char::is_alphabetic) && word == rest {
                        return Err(DurationError::BadQualifier(word.to_string()));
                    }
                    return Err(DurationError::BadPart(word.to_string()));
                }
                let amount: i64 = rest[..digits].parse().map_err(|_| DurationError::Overflow)?;
                let unit_end = rest[digits..].find(|c: char| c.is_ascii_digit()).map_or(rest.len(), |i| digits + i);
                let unit = &rest[digits..unit_end];
                let (to_days, to_seconds) = match unit {
                    "w" => (7, 0),
                    "d" => (1, 0),
                    "h" => (0, 3600),
                    "m" => (0, 60),
                    "s" => (0, 1),
                    "" => return Err(DurationError::BadPart(word.to_string())),
                    other => return Err(DurationError::BadUnit(other.to_string())),
                };
                days = amount.checked_mul(to_days).and_then(|d| days.checked_add(d)).ok_or(DurationError::Overflow)?;
                seconds = amount
                    .checked_mul(to_seconds)
                    .and_then(|s| seconds.checked_add(s))
                    .ok_or(DurationError::Overflow)?;
                rest = &rest[unit_end..];
            }
        }
        // Keep durations within a century so that no arithmetic downstream can overflow.
        if days > 36_500 || seconds > 36_500 * 86_400 {
            return Err(DurationError::Overflow);
        }
        if days == 0 && seconds == 0 {
            return Err(DurationError::Zero);
        }
        Ok(Self { days, seconds, basis })
    }
}

impl fmt::Display for PolicyDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.days > 0 {
            parts.push(format!("{}d", self.days));
        }
        let (h, m, s) = (self.seconds / 3600, self.seconds % 3600 / 60, self.seconds % 60);
        if h > 0 {
            parts.push(format!("{h}h"));
        }
        if m > 0 {
            parts.push(format!("{m}m"));
        }
        if s > 0 {
            parts.push(format!("{s}s"));
        }
        let mut text = parts.join(" ");
        if self.is_calendar() {
            text.push_str(" calendar");
        }
        f.write_str(&text)
    }
}

impl Serialize for PolicyDuration {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PolicyDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Formats a span of seconds for people: `3d 4h`, `45m`, `0m`.
pub fn human(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (d, h, m) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60);
    match (d, h, m) {
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PolicyDuration, DurationError> {
        text.parse()
    }

    #[test]
    fn hours_are_business_time_by_default() {
        assert_eq!(parse("4h"), Ok(PolicyDuration { days: 0, seconds: 14_400, basis: Basis::Business }));
    }

    #[test]
    fn days_stay_days_until_a_calendar_says_how_long_they_are() {
        assert_eq!(parse("2d"), Ok(PolicyDuration { days: 2, seconds: 0, basis: Basis::Business }));
        assert_eq!(parse("1w"), Ok(PolicyDuration { days: 7, seconds: 0, basis: Basis::Business }));
    }

    #[test]
    fn calendar_suffix_marks_calendar_time() {
        let d = parse("5d calendar").unwrap();
        assert_eq!((d.days, d.basis), (5, Basis::Calendar));
        assert_eq!(d.to_string(), "5d calendar");
    }

    #[test]
    fn compound_amounts_add_up() {
        assert_eq!(parse("1h30m").unwrap().seconds, 5400);
        assert_eq!(parse("1d 4h").unwrap(), PolicyDuration { days: 1, seconds: 14_400, basis: Basis::Business });
    }

    #[test]
    fn bad_durations_say_what_is_wrong() {
        assert_eq!(parse(""), Err(DurationError::Empty));
        assert_eq!(parse("4"), Err(DurationError::BadPart("4".into())));
        assert_eq!(parse("4y"), Err(DurationError::BadUnit("y".into())));
        assert_eq!(parse("4h weekly"), Err(DurationError::BadQualifier("weekly".into())));
        assert_eq!(parse("0h"), Err(DurationError::Zero));
        assert_eq!(parse("99999999999999999999h"), Err(DurationError::Overflow));
        assert_eq!(parse("-4h"), Err(DurationError::BadPart("-4h".into())));
    }

    #[test]
    fn human_spans_read_naturally() {
        assert_eq!(human(0), "0m");
        assert_eq!(human(5400), "1h 30m");
        assert_eq!(human(3 * 86_400 + 4 * 3600 + 59), "3d 4h");
    }
}
