//! Properties of business calendars: `between` inverts `add`, both are monotonic, and both stay
//! exact across DST changes (Europe/Zurich, America/New_York), holidays and closures.

use baton::domain::calendar::{Calendar, CalendarSpec, Hours, parse_weekdays};
use jiff::civil::date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

fn calendar(zone: &str, days: &str, hours: &[&str]) -> Calendar {
    let mut spec = CalendarSpec::default();
    for d in parse_weekdays(days).unwrap() {
        spec.week[d] = hours.iter().map(|h| Hours::parse(h).unwrap()).collect();
    }
    // Saturday mornings too where Saturday has no hours yet, so weeks are not all alike.
    if spec.week[5].is_empty() {
        spec.week[5].push(Hours::parse("09:00-12:00").unwrap());
    }
    spec.holidays =
        ["01-01", "easter-2", "easter+1", "12-25", "2026-03-30"].iter().map(|h| h.parse().unwrap()).collect();
    spec.closures = vec![(date(2026, 7, 20), date(2026, 8, 7)), (date(2026, 11, 2), date(2026, 11, 2))];
    Calendar::new(TimeZone::get(zone).unwrap(), spec).unwrap()
}

fn calendars() -> Vec<Calendar> {
    vec![
        calendar("Europe/Zurich", "mon-fri", &["08:00-12:00", "13:00-17:00"]),
        // Hours that cross the 02:00 DST transitions on both sides, every day.
        calendar("America/New_York", "daily", &["00:30-04:30", "09:00-17:00"]),
        calendar("Europe/Zurich", "daily", &["00:00-24:00"]),
    ]
}

/// Instants across 2025-2027, which hold both DST changes each year, Easter, the closures above.
fn instant() -> impl Strategy<Value = Timestamp> {
    (1_735_689_600i64..1_830_297_600i64).prop_map(|s| Timestamp::from_second(s).unwrap())
}

/// Up to 60 days of business time, to the second.
fn duration() -> impl Strategy<Value = SignedDuration> {
    (0i64..60 * 86_400).prop_map(SignedDuration::from_secs)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn between_inverts_add(a in instant(), d in duration(), which in 0usize..3) {
        let cal = &calendars()[which];
        let end = cal.add(a, d);
        prop_assert!(end >= a);
        prop_assert_eq!(cal.between(a, end), d);
    }

    #[test]
    fn add_and_between_are_monotonic(a in instant(), d1 in duration(), d2 in duration(), which in 0usize..3) {
        let cal = &calendars()[which];
        let (short, long) = if d1 <= d2 { (d1, d2) } else { (d2, d1) };
        prop_assert!(cal.add(a, short) <= cal.add(a, long));
        let (b1, b2) = (a + short, a + long);
        prop_assert!(cal.between(a, b1) <= cal.between(a, b2));
    }

    #[test]
    fn between_adds_up_over_a_split(a in instant(), x in duration(), y in duration(), which in 0usize..3) {
        let cal = &calendars()[which];
        let (m, b) = (a + x, a + x + y);
        prop_assert_eq!(cal.between(a, m) + cal.between(m, b), cal.between(a, b));
    }

    #[test]
    fn business_time_never_exceeds_wall_time(a in instant(), x in duration(), which in 0usize..3) {
        let cal = &calendars()[which];
        prop_assert!(cal.between(a, a + x) <= x);
    }
}

fn at(text: &str, zone: &str) -> Timestamp {
    text.parse::<jiff::civil::DateTime>().unwrap().to_zoned(TimeZone::get(zone).unwrap()).unwrap().timestamp()
}

#[test]
fn a_round_the_clock_day_is_23_hours_in_spring_and_25_in_autumn_in_zurich() {
    let cal = &calendars()[2];
    let z = "Europe/Zurich";
    assert_eq!(cal.between(at("2026-03-29T00:00", z), at("2026-03-30T00:00", z)), SignedDuration::from_hours(23));
    assert_eq!(cal.between(at("2026-10-25T00:00", z), at("2026-10-26T00:00", z)), SignedDuration::from_hours(25));
}

#[test]
fn new_york_night_hours_lose_an_hour_in_march_and_gain_one_in_november() {
    let cal = &calendars()[1];
    let ny = "America/New_York";
    // 00:30-04:30 local: 3 real hours on Sunday 8 March 2026 (clocks spring forward at 02:00), 5 on
    // Sunday 1 November 2026 (clocks fall back at 02:00), 4 on an ordinary night.
    let night = |day: &str| cal.between(at(&format!("{day}T00:00"), ny), at(&format!("{day}T05:00"), ny));
    assert_eq!(night("2026-03-08"), SignedDuration::from_hours(3));
    assert_eq!(night("2026-11-01"), SignedDuration::from_hours(5));
    assert_eq!(night("2026-03-09"), SignedDuration::from_hours(4));
    // add() agrees: 4 business hours from 00:30 on the short night end at 09:00 + 1h.
    assert_eq!(cal.add(at("2026-03-08T00:30", ny), SignedDuration::from_hours(4)), at("2026-03-08T10:00", ny));
}

#[test]
fn a_holiday_and_a_closure_inside_the_span_are_skipped() {
    let cal = &calendars()[0];
    let z = "Europe/Zurich";
    // Friday 17 July to Monday 10 August 2026: Saturday 18 July morning (3h), then the closure to 7 Aug,
    // Saturday 8 August morning (3h), Monday 10 August until 10:00 (2h).
    assert_eq!(cal.between(at("2026-07-17T17:00", z), at("2026-08-10T10:00", z)), SignedDuration::from_hours(8));
    // Easter Monday 6 April 2026 is off: Saturday 4 April morning counts, Monday does not.
    assert_eq!(cal.between(at("2026-04-02T17:00", z), at("2026-04-07T09:00", z)), SignedDuration::from_hours(3 + 1));
}

#[test]
fn a_thirty_day_target_lands_where_day_by_day_counting_says() {
    let cal = &calendars()[0];
    let z = "Europe/Zurich";
    let start = at("2026-09-01T08:00", z);
    let due = cal.add(start, SignedDuration::from_hours(30 * 8));
    assert_eq!(cal.between(start, due), SignedDuration::from_hours(240));
    assert!(due > at("2026-10-01T00:00", z) && due < at("2026-10-20T00:00", z), "{due}");
}
