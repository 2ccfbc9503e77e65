//! Prints what `Calendar::add` and `Calendar::between` cost for a 1-hour and a 30-day business target
//! on the shipped `support-ch` calendar (Swiss holidays). A benchmark prints figures; it never fails
//! on a number. Run: `cargo bench --bench calendar`.

use std::hint::black_box;
use std::time::Instant;

use baton::domain::policy::Policy;
use jiff::{SignedDuration, Timestamp};

fn main() {
    let policy = Policy::default_policy();
    let calendar = policy.calendar(&"support-ch".parse().unwrap());
    let start: Timestamp = "2026-04-02T14:00:00Z".parse().unwrap();
    let runs = 200_000u32;
    println!("{:<28} {:>12} {:>12}", "target", "add ns/op", "between ns/op");
    for (name, target) in [
        ("1 business hour", SignedDuration::from_hours(1)),
        ("30 business days (270h)", SignedDuration::from_hours(270)),
    ] {
        let clock = Instant::now();
        let mut end = start;
        for i in 0..runs {
            end = calendar.add(black_box(start + SignedDuration::from_secs(i64::from(i % 3600))), black_box(target));
        }
        let add = clock.elapsed().as_nanos() / u128::from(runs);
        let clock = Instant::now();
        let mut total = SignedDuration::ZERO;
        for i in 0..runs {
            total +=
                calendar.between(black_box(start + SignedDuration::from_secs(i64::from(i % 3600))), black_box(end));
        }
        let between = clock.elapsed().as_nanos() / u128::from(runs);
        black_box(total);
        println!("{name:<28} {add:>12} {between:>12}");
    }
}
