//! Business calendars: when a team is at work.
//!
//! A calendar is an IANA time zone, weekly hours per weekday, holidays (fixed dates, yearly dates,
//! days relative to Easter, or an iCalendar file) and closures (date ranges). It answers two questions,
//! exactly across DST changes and holidays:
//!
//! - [`Calendar::add`]: the instant a business duration after a start;
//! - [`Calendar::between`]: the business time between two instants.
//!
//! Neither walks minute by minute. They visit one day at a time and skip a whole week at once when the
//! week holds no holiday, closure or time-zone transition, so a 30-day target costs about as much as a
//! 1-hour one.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::duration::{Basis, PolicyDuration};

/// Seconds since local midnight; `86_400` stands for the end of the day (24:00).
type DaySecond = i32;

const WEEK: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

/// Years for which yearly and Easter-relative holidays are laid out as dates.
const FIRST_YEAR: i16 = 1970;
const LAST_YEAR: i16 = 2200;

/// How a holiday is given in the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HolidayRule {
    /// One date: `2026-12-24`.
    Date(Date),
    /// The same day every year: `12-25`.
    Yearly { month: i8, day: i8 },
    /// Days after (or before) Western Easter Sunday: `easter-2` is Good Friday, `easter+39` Ascension.
    Easter(i16),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("`{0}` is not a holiday: write `YYYY-MM-DD`, `MM-DD` (every year) or `easter+N`/`easter-N`")]
    BadHoliday(String),
    #[error("`{0}` is not a span of hours: write `08:00-17:00`")]
    BadHours(String),
    #[error("`{0}` is not a weekday or range of weekdays: write `mon`, `mon-fri` or `sat,sun`")]
    BadWeekdays(String),
    #[error("hours {0} overlap on {1}")]
    Overlap(String, String),
    #[error("the calendar has no working hours in the week")]
    NeverOpen,
    #[error("closure from {from} to {to} ends before it starts")]
    BackwardsClosure { from: Date, to: Date },
    #[error("iCalendar file: {0}")]
    Ics(String),
}

impl std::str::FromStr for HolidayRule {
    type Err = CalendarError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || CalendarError::BadHoliday(text.to_string());
        let text = text.trim();
        if let Some(offset) = text.strip_prefix("easter") {
            if offset.is_empty() {
                return Ok(Self::Easter(0));
            }
            let days: i16 = offset.strip_prefix('+').unwrap_or(offset).parse().map_err(|_| bad())?;
            if days.abs() > 200 {
                return Err(bad());
            }
            return Ok(Self::Easter(days));
        }
        if let Ok(date) = text.parse::<Date>() {
            return Ok(Self::Date(date));
        }
        let (month, day) = text.split_once('-').ok_or_else(bad)?;
        let (month, day): (i8, i8) = (month.parse().map_err(|_| bad())?, day.parse().map_err(|_| bad())?);
        // 2024 is a leap year, so `02-29` is accepted (and simply missing in other years).
        Date::new(2024, month, day).map_err(|_| bad())?;
        Ok(Self::Yearly { month, day })
    }
}

/// A span of opening hours within one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    start: DaySecond,
    end: DaySecond,
}

impl Hours {
    /// Parses `08:00-17:00`; `24:00` is allowed as an end.
    pub fn parse(text: &str) -> Result<Self, CalendarError> {
        let bad = || CalendarError::BadHours(text.to_string());
        let (a, b) = text.trim().split_once('-').ok_or_else(bad)?;
        let second = |t: &str| -> Result<DaySecond, CalendarError> {
            let (h, m) = t.trim().split_once(':').ok_or_else(bad)?;
            let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
            if !(0..=24).contains(&h) || !(0..60).contains(&m) || (h == 24 && m != 0) {
                return Err(bad());
            }
            Ok(h * 3600 + m * 60)
        };
        let (start, end) = (second(a)?, second(b)?);
        if start >= end {
            return Err(bad());
        }
        Ok(Self { start, end })
    }

    fn seconds(&self) -> i64 {
        i64::from(self.end - self.start)
    }
}

/// Parses `mon`, `mon-fri`, `sat,sun`, `daily` into Monday-based weekday indexes.
pub fn parse_weekdays(text: &str) -> Result<Vec<usize>, CalendarError> {
    let bad = || CalendarError::BadWeekdays(text.to_string());
    let index = |name: &str| -> Result<usize, CalendarError> {
        let name = name.trim().to_ascii_lowercase();
        ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
            .iter()
            .position(|full| name == *full || name == full[..3])
            .ok_or_else(bad)
    };
    if matches!(text.trim(), "daily" | "every day" | "mon-sun") {
        return Ok((0..7).collect());
    }
    let mut days = Vec::new();
    for part in text.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (index(a)?, index(b)?);
                if a > b {
                    return Err(bad());
                }
                days.extend(a..=b);
            }
            None => days.push(index(part)?),
        }
    }
    Ok(days)
}

/// A team's working calendar.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: TimeZone,
    /// Opening hours per weekday, Monday first, sorted and disjoint.
    week: [Vec<Hours>; 7],
    /// Holidays and closure days, laid out as dates for fast range queries.
    days_off: BTreeSet<Date>,
    week_seconds: i64,
    day_seconds: i64,
    /// Each day's business hours as instants, by year from `FIRST_YEAR`, worked out for a whole year
    /// when one of its days is first asked: the engine asks for the same days over and over, and
    /// each answer is two time-zone conversions. Shared by the calendar's clones.
    openings: Arc<[OnceLock<Year>]>,
}

/// A year's [`Calendar::opening`], by day of the year.
type Year = Box<[Box<[(Timestamp, Timestamp)]>]>;

/// What a calendar is built from; the policy fills it in.
#[derive(Debug, Clone, Default)]
pub struct CalendarSpec {
    pub week: [Vec<Hours>; 7],
    pub holidays: Vec<HolidayRule>,
    /// Inclusive date ranges.
    pub closures: Vec<(Date, Date)>,
}

impl Calendar {
    pub fn new(tz: TimeZone, spec: CalendarSpec) -> Result<Self, CalendarError> {
        let CalendarSpec { mut week, holidays, closures } = spec;
        for (day, hours) in week.iter_mut().enumerate() {
            hours.sort_by_key(|h| h.start);
            for pair in hours.windows(2) {
                if pair[0].end > pair[1].start {
                    return Err(CalendarError::Overlap(
                        format!(
                            "{}-{} and {}-{}",
                            hm(pair[0].start),
                            hm(pair[0].end),
                            hm(pair[1].start),
                            hm(pair[1].end)
                        ),
                        format!("{:?}", WEEK[day]),
                    ));
                }
            }
        }
        let daily: Vec<i64> = week.iter().map(|h| h.iter().map(Hours::seconds).sum()).collect();
        let week_seconds: i64 = daily.iter().sum();
        if week_seconds == 0 {
            return Err(CalendarError::NeverOpen);
        }
        let mut days_off = BTreeSet::new();
        for rule in &holidays {
            match *rule {
                HolidayRule::Date(date) => {
                    days_off.insert(date);
                }
                HolidayRule::Yearly { month, day } => {
                    days_off.extend((FIRST_YEAR..=LAST_YEAR).filter_map(|y| Date::new(y, month, day).ok()));
                }
                HolidayRule::Easter(offset) => {
                    for year in FIRST_YEAR..=LAST_YEAR {
                        let easter = easter_sunday(year);
                        if let Ok(date) = easter.checked_add(jiff::Span::new().days(offset)) {
                            days_off.insert(date);
                        }
                    }
                }
            }
        }
        for &(from, to) in &closures {
            if to < from {
                return Err(CalendarError::BackwardsClosure { from, to });
            }
            let mut day = from;
            while day <= to {
                days_off.insert(day);
                day = day.tomorrow().map_err(|_| CalendarError::BackwardsClosure { from, to })?;
            }
        }
        let openings = (FIRST_YEAR..=LAST_YEAR).map(|_| OnceLock::new()).collect();
        Ok(Self { tz, week, days_off, week_seconds, day_seconds: daily.into_iter().max().unwrap_or(0), openings })
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// Converts a policy duration's business days into business time on this calendar.
    pub fn business(&self, d: PolicyDuration) -> SignedDuration {
        SignedDuration::from_secs(d.days * self.day_seconds + d.seconds)
    }

    /// The instant `d` after `start`: business time on this calendar, or calendar time in its zone.
    pub fn after(&self, start: Timestamp, d: PolicyDuration) -> Timestamp {
        match d.basis {
            Basis::Business => self.add(start, self.business(d)),
            Basis::Calendar => {
                let span = jiff::Span::new().days(d.days).seconds(d.seconds);
                start.to_zoned(self.tz.clone()).checked_add(span).map_or(Timestamp::MAX, |z| z.timestamp())
            }
        }
    }

    pub fn is_day_off(&self, date: Date) -> bool {
        self.days_off.contains(&date)
    }

    /// The first start of a business day at or after `t`: the first opening of a day that is not off
    /// (`None` past a year of days off).
    pub fn day_start_from(&self, t: Timestamp) -> Option<Timestamp> {
        let mut day = t.to_zoned(self.tz.clone()).date();
        for _ in 0..400 {
            if let Some((open, _)) = self.opening(day).next()
                && open >= t
            {
                return Some(open);
            }
            day = day.tomorrow().ok()?;
        }
        None
    }

    /// Whether `day` has business hours (not a weekend day, holiday or closure).
    pub fn is_business_day(&self, day: Date) -> bool {
        self.opening(day).next().is_some()
    }

    /// When a digest of `day` is due: at local time `at` on that day, or at the start of its business
    /// hours; `None` when `day` is not a business day.
    pub fn digest_on(&self, day: Date, at: Option<Time>) -> Option<Timestamp> {
        let (open, _) = self.opening(day).next()?;
        Some(at.map_or(open, |at| self.tz.to_timestamp(DateTime::from_parts(day, at)).unwrap_or(Timestamp::MAX)))
    }

    /// Today's digest (its day and instant) when it is due by `now`: today in this calendar's zone,
    /// a business day, and past its time. A digest not sent on its own day is not sent later: the
    /// next business day's says it all again.
    pub fn todays_digest(&self, now: Timestamp, at: Option<Time>) -> Option<(Date, Timestamp)> {
        let day = now.to_zoned(self.tz.clone()).date();
        self.digest_on(day, at).filter(|due| *due <= now).map(|due| (day, due))
    }

    /// The first digest due after `after`.
    pub fn next_digest(&self, after: Timestamp, at: Option<Time>) -> Option<Timestamp> {
        let mut day = after.to_zoned(self.tz.clone()).date();
        for _ in 0..400 {
            if let Some(due) = self.digest_on(day, at).filter(|due| *due > after) {
                return Some(due);
            }
            day = day.tomorrow().ok()?;
        }
        None
    }

    /// The business day before `day`, looking back a year at most.
    pub fn previous_business_day(&self, day: Date) -> Option<Date> {
        let mut day = day.yesterday().ok()?;
        for _ in 0..366 {
            if self.is_business_day(day) {
                return Some(day);
            }
            day = day.yesterday().ok()?;
        }
        None
    }

    /// The local date of an instant in this calendar's zone.
    pub fn date_of(&self, at: Timestamp) -> Date {
        at.to_zoned(self.tz.clone()).date()
    }

    /// The instant `d` before `t`, counted as calendar time in this calendar's zone (used to look ahead
    /// of a closure, where business time would stand still).
    pub fn before(&self, t: Timestamp, d: PolicyDuration) -> Timestamp {
        let span = jiff::Span::new().days(d.days).seconds(d.seconds);
        t.to_zoned(self.tz.clone()).checked_sub(span).map_or(Timestamp::MIN, |z| z.timestamp())
    }

    /// When `t` falls while the team is away over a holiday or closure (not an ordinary night or
    /// weekend): the instant the team closed before it and the instant it reopens.
    pub fn closure_around(&self, t: Timestamp) -> Option<(Timestamp, Timestamp)> {
        let first = t.to_zoned(self.tz.clone()).date();
        let mut closes = None;
        let mut day = first;
        for _ in 0..400 {
            let spans: Vec<_> = self.opening(day).collect();
            for &(open, close) in spans.iter().rev() {
                if open <= t && t < close {
                    return None;
                }
                if close <= t {
                    closes = Some(close);
                    break;
                }
            }
            if closes.is_some() {
                break;
            }
            day = day.yesterday().ok()?;
        }
        let closes = closes?;
        let mut reopens = None;
        let mut day = first;
        for _ in 0..400 {
            if let Some((open, _)) = self.opening(day).find(|&(_, close)| close > t) {
                reopens = Some(open.max(t));
                break;
            }
            day = day.tomorrow().ok()?;
        }
        let reopens = reopens?;
        let (from, to) = (closes.to_zoned(self.tz.clone()).date(), reopens.to_zoned(self.tz.clone()).date());
        self.days_off.range(from..=to).next().map(|_| (closes, reopens))
    }

    /// The instant that is `duration` of business time after `start`.
    ///
    /// When the duration runs out exactly at closing time, that closing instant is the answer (not the
    /// next opening), so `between(a, add(a, d)) == d` always holds.
    pub fn add(&self, start: Timestamp, duration: SignedDuration) -> Timestamp {
        if duration <= SignedDuration::ZERO {
            return start;
        }
        let mut remaining = duration.as_secs() as i128 * 1_000_000_000 + i128::from(duration.subsec_nanos());
        let first = start.to_zoned(self.tz.clone()).date();
        let mut day = first;
        loop {
            if day > first && day.weekday() == Weekday::Monday {
                let week_nanos = i128::from(self.week_seconds) * 1_000_000_000;
                if remaining > week_nanos && self.is_plain_week(day) {
                    remaining -= week_nanos;
                    day = match day.checked_add(jiff::Span::new().days(7)) {
                        Ok(d) => d,
                        Err(_) => return Timestamp::MAX,
                    };
                    continue;
                }
            }
            for (open, close) in self.opening(day) {
                let open = open.max(start);
                if close <= open {
                    continue;
                }
                let length = nanos(open, close);
                if remaining <= length {
                    return open.checked_add(SignedDuration::from_nanos_i128(remaining)).unwrap_or(Timestamp::MAX);
                }
                remaining -= length;
            }
            day = match day.tomorrow() {
                Ok(d) if d.year() <= LAST_YEAR + 100 => d,
                _ => return Timestamp::MAX,
            };
        }
    }

    /// The business time between `a` and `b` (zero when `b` is not after `a`).
    pub fn between(&self, a: Timestamp, b: Timestamp) -> SignedDuration {
        if b <= a {
            return SignedDuration::ZERO;
        }
        let first = a.to_zoned(self.tz.clone()).date();
        let last = b.to_zoned(self.tz.clone()).date();
        let mut total: i128 = 0;
        let mut day = first;
        while day <= last {
            if day > first
                && day.weekday() == Weekday::Monday
                && let Ok(next_week) = day.checked_add(jiff::Span::new().days(7))
                && next_week <= last
                && self.is_plain_week(day)
            {
                total += i128::from(self.week_seconds) * 1_000_000_000;
                day = next_week;
                continue;
            }
            for (open, close) in self.opening(day) {
                let (open, close) = (open.max(a), close.min(b));
                if close > open {
                    total += nanos(open, close);
                }
            }
            match day.tomorrow() {
                Ok(d) => day = d,
                Err(_) => break,
            }
        }
        SignedDuration::from_nanos_i128(total)
    }

    /// The opening spans of one day as instants (none on a day off).
    fn opening(&self, day: Date) -> impl Iterator<Item = (Timestamp, Timestamp)> + '_ {
        let year = usize::try_from(day.year() - FIRST_YEAR).ok().and_then(|i| self.openings.get(i));
        let known = year.map(|year| {
            let days = year.get_or_init(|| {
                let first = Date::new(day.year(), 1, 1).unwrap_or(day);
                let days = first.days_in_year();
                first
                    .series(jiff::Span::new().days(1))
                    .take(days as usize)
                    .map(|d| self.work_out(d).collect())
                    .collect()
            });
            &days[usize::from(day.day_of_year().unsigned_abs()) - 1][..]
        });
        // A day outside the years kept is worked out each time.
        let other = if known.is_none() { Some(self.work_out(day)) } else { None };
        known.into_iter().flatten().copied().chain(other.into_iter().flatten())
    }

    /// A day's business hours as instants, from its weekday's hours and the days off.
    fn work_out(&self, day: Date) -> impl Iterator<Item = (Timestamp, Timestamp)> + '_ {
        let hours: &[Hours] = if self.is_day_off(day) { &[] } else { &self.week[weekday_index(day)] };
        hours.iter().map(move |h| (self.instant(day, h.start), self.instant(day, h.end)))
    }

    /// Local wall-clock time on `day` as an instant. A time inside a DST gap moves forward and an
    /// ambiguous one takes the earlier offset (jiff's "compatible" choice, as RFC 5545 prescribes).
    fn instant(&self, day: Date, second: DaySecond) -> Timestamp {
        let (day, second) =
            if second >= 86_400 { (day.tomorrow().unwrap_or(day), second - 86_400) } else { (day, second) };
        let time = Time::new((second / 3600) as i8, (second % 3600 / 60) as i8, (second % 60) as i8, 0)
            .unwrap_or(Time::midnight());
        self.tz.to_timestamp(DateTime::from_parts(day, time)).unwrap_or(Timestamp::MAX)
    }

    /// A week (from Monday `monday`) whose business time is exactly the nominal weekly hours: no day off
    /// in it and no time-zone transition between its first and last local midnight.
    fn is_plain_week(&self, monday: Date) -> bool {
        let Ok(next) = monday.checked_add(jiff::Span::new().days(7)) else {
            return false;
        };
        if self.days_off.range(monday..next).next().is_some() {
            return false;
        }
        let (from, to) = (self.instant(monday, 0), self.instant(next, 0));
        match self.tz.following(from).next() {
            Some(transition) => transition.timestamp() > to,
            None => true,
        }
    }
}

fn weekday_index(day: Date) -> usize {
    day.weekday().to_monday_zero_offset() as usize
}

fn nanos(a: Timestamp, b: Timestamp) -> i128 {
    b.as_nanosecond() - a.as_nanosecond()
}

fn hm(second: DaySecond) -> String {
    format!("{:02}:{:02}", second / 3600, second % 3600 / 60)
}

/// Western (Gregorian) Easter Sunday.
fn easter_sunday(year: i16) -> Date {
    computus::gregorian(i32::from(year))
        .ok()
        .and_then(|e| Date::new(year, e.month as i8, e.day as i8).ok())
        .unwrap_or_else(|| Date::new(year, 4, 1).expect("April 1st exists every year"))
}

/// Reads the all-day events of an iCalendar file as holidays (each day an event covers).
pub fn holidays_from_ics(text: &str) -> Result<Vec<HolidayRule>, CalendarError> {
    use icalendar::{Calendar as Ics, CalendarDateTime, Component, DatePerhapsTime};
    let calendar: Ics =
        text.parse().map_err(|e: String| CalendarError::Ics(e.lines().next().unwrap_or("unreadable").to_string()))?;
    let date_of = |d: DatePerhapsTime| -> Option<Date> {
        let naive = match d {
            DatePerhapsTime::Date(d) => d,
            DatePerhapsTime::DateTime(CalendarDateTime::Floating(dt)) => dt.date(),
            DatePerhapsTime::DateTime(CalendarDateTime::Utc(dt)) => dt.date_naive(),
            DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, .. }) => date_time.date(),
        };
        format!("{naive}").parse().ok()
    };
    let mut days = Vec::new();
    for event in calendar.components.iter().filter_map(|c| c.as_event()) {
        let Some(start) = event.get_start().and_then(date_of) else {
            return Err(CalendarError::Ics(format!(
                "event `{}` has no readable DTSTART",
                event.get_summary().unwrap_or("?")
            )));
        };
        // DTEND of an all-day event is exclusive; a missing one means a single day.
        let end =
            event.get_end().and_then(date_of).filter(|end| *end > start).unwrap_or(start.tomorrow().unwrap_or(start));
        let mut day = start;
        while day < end {
            days.push(HolidayRule::Date(day));
            day = match day.tomorrow() {
                Ok(d) => d,
                Err(_) => break,
            };
        }
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn office(zone: &str, hours: &str, days: &str, holidays: &[&str], closures: &[(Date, Date)]) -> Calendar {
        let mut spec = CalendarSpec::default();
        for d in parse_weekdays(days).unwrap() {
            spec.week[d].push(Hours::parse(hours).unwrap());
        }
        spec.holidays = holidays.iter().map(|h| h.parse().unwrap()).collect();
        spec.closures = closures.to_vec();
        Calendar::new(TimeZone::get(zone).unwrap(), spec).unwrap()
    }

    fn at(text: &str, zone: &str) -> Timestamp {
        text.parse::<DateTime>().unwrap().to_zoned(TimeZone::get(zone).unwrap()).unwrap().timestamp()
    }

    fn zurich() -> Calendar {
        office("Europe/Zurich", "08:00-17:00", "mon-fri", &["01-01", "easter-2", "easter+1", "08-01", "12-25"], &[])
    }

    #[test]
    fn the_openings_kept_per_year_are_those_worked_out_day_by_day() {
        // Two openings a day, a holiday, a closure, DST changes (Zurich, New York) and a day open
        // to midnight; every day of the years the bench timelines span, a leap year, and a day past
        // the years kept.
        let lunch = {
            let mut spec = CalendarSpec::default();
            for d in 0..5 {
                spec.week[d] = vec![Hours::parse("08:00-12:00").unwrap(), Hours::parse("13:00-17:30").unwrap()];
            }
            spec.holidays = vec!["12-25".parse().unwrap()];
            spec.closures = vec![(date(2026, 12, 24), date(2027, 1, 2))];
            Calendar::new(TimeZone::get("Europe/Zurich").unwrap(), spec).unwrap()
        };
        let calendars = [zurich(), lunch, office("America/New_York", "00:00-24:00", "daily", &[], &[])];
        for calendar in &calendars {
            let mut day = date(2023, 12, 25);
            while day <= date(2028, 1, 5) {
                let kept: Vec<_> = calendar.opening(day).collect();
                assert_eq!(kept, calendar.work_out(day).collect::<Vec<_>>(), "{day}");
                day = day.tomorrow().unwrap();
            }
            let far = date(2300, 6, 1);
            assert_eq!(calendar.opening(far).collect::<Vec<_>>(), calendar.work_out(far).collect::<Vec<_>>());
        }
        assert_eq!(calendars[1].opening(date(2026, 4, 13)).count(), 2);
        assert_eq!(calendars[1].opening(date(2026, 12, 28)).count(), 0, "a closure");
    }

    #[test]
    fn four_business_hours_from_friday_afternoon_end_on_monday_morning() {
        let due = zurich().add(at("2026-04-24T15:00", "Europe/Zurich"), SignedDuration::from_hours(4));
        assert_eq!(due, at("2026-04-27T10:00", "Europe/Zurich"));
    }

    #[test]
    fn a_start_outside_hours_counts_from_the_next_opening() {
        let cal = zurich();
        assert_eq!(
            cal.add(at("2026-04-12T19:42", "Europe/Zurich"), SignedDuration::from_hours(8)),
            at("2026-04-13T16:00", "Europe/Zurich")
        );
    }

    #[test]
    fn a_duration_ending_at_closing_time_ends_there() {
        let cal = zurich();
        assert_eq!(
            cal.add(at("2026-04-13T08:00", "Europe/Zurich"), SignedDuration::from_hours(9)),
            at("2026-04-13T17:00", "Europe/Zurich")
        );
    }

    #[test]
    fn easter_holidays_are_skipped() {
        // Good Friday 2026 is 3 April and Easter Monday 6 April.
        let cal = zurich();
        assert_eq!(
            cal.add(at("2026-04-02T16:00", "Europe/Zurich"), SignedDuration::from_hours(2)),
            at("2026-04-07T09:00", "Europe/Zurich")
        );
        assert_eq!(
            cal.between(at("2026-04-02T08:00", "Europe/Zurich"), at("2026-04-08T08:00", "Europe/Zurich")),
            SignedDuration::from_hours(18)
        );
    }

    #[test]
    fn a_closure_pauses_business_time_but_not_calendar_time() {
        let cal = office("Europe/Zurich", "08:00-17:00", "mon-fri", &[], &[(date(2026, 7, 20), date(2026, 8, 2))]);
        let start = at("2026-07-17T16:00", "Europe/Zurich");
        assert_eq!(cal.add(start, SignedDuration::from_hours(2)), at("2026-08-03T09:00", "Europe/Zurich"));
        let five_days: PolicyDuration = "5d calendar".parse().unwrap();
        assert_eq!(cal.after(start, five_days), at("2026-07-22T16:00", "Europe/Zurich"));
    }

    #[test]
    fn business_days_are_the_calendars_daily_hours() {
        let cal = zurich();
        assert_eq!(cal.business("2d".parse().unwrap()), SignedDuration::from_hours(18));
        let berlin = office("Europe/Berlin", "09:00-17:00", "mon-fri", &[], &[]);
        assert_eq!(berlin.business("1d".parse().unwrap()), SignedDuration::from_hours(8));
    }

    #[test]
    fn hours_over_a_dst_change_count_real_elapsed_time() {
        // Night shift over the spring-forward night in New York: 01:00-04:00 local is only 2 real hours.
        let cal = office("America/New_York", "01:00-04:00", "daily", &[], &[]);
        let night = at("2026-03-08T00:00", "America/New_York");
        assert_eq!(cal.between(night, at("2026-03-08T05:00", "America/New_York")), SignedDuration::from_hours(2));
    }

    #[test]
    fn long_spans_match_day_by_day_counting() {
        let cal = zurich();
        let a = at("2026-01-01T00:00", "Europe/Zurich");
        let b = at("2026-12-31T23:00", "Europe/Zurich");
        // 2026 has 261 weekdays; Jan 1, Good Friday, Easter Monday, Aug 1 (a Saturday) and Dec 25 (a Friday).
        assert_eq!(cal.between(a, b), SignedDuration::from_hours(9 * (261 - 4)));
    }

    #[test]
    fn holiday_rules_parse_and_reject_nonsense() {
        assert_eq!("easter+39".parse(), Ok(HolidayRule::Easter(39)));
        assert_eq!("12-25".parse(), Ok(HolidayRule::Yearly { month: 12, day: 25 }));
        assert_eq!("2026-12-24".parse(), Ok(HolidayRule::Date(date(2026, 12, 24))));
        assert!("13-01".parse::<HolidayRule>().is_err());
        assert!("christmas".parse::<HolidayRule>().is_err());
    }

    #[test]
    fn weekdays_and_hours_reject_what_they_cannot_read() {
        assert_eq!(parse_weekdays("mon-fri").unwrap(), vec![0, 1, 2, 3, 4]);
        assert_eq!(parse_weekdays("sat,sun").unwrap(), vec![5, 6]);
        assert!(parse_weekdays("fri-mon").is_err());
        assert!(parse_weekdays("funday").is_err());
        assert!(Hours::parse("17:00-08:00").is_err());
        assert!(Hours::parse("8-17").is_err());
        assert_eq!(Hours::parse("00:00-24:00").unwrap().seconds(), 86_400);
    }

    #[test]
    fn an_ics_file_gives_all_day_holidays() {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Summer closure\r\nDTSTART;VALUE=DATE:20260720\r\nDTEND;VALUE=DATE:20260722\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        assert_eq!(
            holidays_from_ics(ics).unwrap(),
            vec![HolidayRule::Date(date(2026, 7, 20)), HolidayRule::Date(date(2026, 7, 21))]
        );
    }
}
