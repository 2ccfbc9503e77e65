//! Business time between two instants, Baton's calendar against the PyPI package `business-duration`
//! (what support analysts use for the same job), on 100,000 random spans over a calendar both can
//! express: weekdays 08:00-17:00, UTC, with a list of holidays. Prints how many answers agree,
//! lists the disagreements (the first 20), and the speed ratio of the two loops (parsing and process start are
//! left out on both sides).
//!
//! Run: `cargo bench --bench business_time` (needs `.tools/bench`, which `scripts/bench` installs,
//! or a Python with business-duration in `BATON_BENCH_PYTHON`).

use std::hint::black_box;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use baton::domain::calendar::{Calendar, CalendarSpec, Hours};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

const SPANS: usize = 100_000;
const HOLIDAYS: [&str; 16] = [
    "2026-01-01",
    "2026-04-03",
    "2026-04-06",
    "2026-05-14",
    "2026-05-25",
    "2026-08-01",
    "2026-12-25",
    "2026-12-26",
    "2027-01-01",
    "2027-03-26",
    "2027-03-29",
    "2027-05-06",
    "2027-05-17",
    "2027-08-01",
    "2027-12-25",
    "2027-12-26",
];

fn main() {
    let hours = Hours::parse("08:00-17:00").expect("hours");
    let mut week: [Vec<Hours>; 7] = Default::default();
    for day in &mut week[..5] {
        day.push(hours);
    }
    let holidays = HOLIDAYS.iter().map(|d| d.parse().expect("a holiday rule")).collect();
    let calendar =
        Calendar::new(TimeZone::UTC, CalendarSpec { week, holidays, closures: Vec::new() }).expect("calendar");

    // Spans of whole seconds across 2026 and 2027, from minutes to two months long.
    let mut rng = fastrand::Rng::with_seed(7);
    let base: Timestamp = "2026-01-01T00:00:00Z".parse().expect("an instant");
    let spans: Vec<(Timestamp, Timestamp)> = (0..SPANS)
        .map(|_| {
            let start = base + SignedDuration::from_secs(rng.i64(0..650 * 86_400));
            let length = match rng.u8(0..3) {
                0 => rng.i64(0..8 * 3600),
                1 => rng.i64(0..7 * 86_400),
                _ => rng.i64(0..60 * 86_400),
            };
            (start, start + SignedDuration::from_secs(length))
        })
        .collect();

    let clock = Instant::now();
    let ours: Vec<i64> = spans.iter().map(|&(a, b)| calendar.between(black_box(a), black_box(b)).as_secs()).collect();
    let rust = clock.elapsed();

    let dir = tempfile::tempdir().expect("a temporary directory");
    let spans_file = dir.path().join("spans.txt");
    let holidays_file = dir.path().join("holidays.txt");
    let mut text = Vec::new();
    for (a, b) in &spans {
        writeln!(text, "{} {}", naive(*a), naive(*b)).expect("writes");
    }
    std::fs::write(&spans_file, text).expect("writes the spans");
    std::fs::write(&holidays_file, HOLIDAYS.join("\n")).expect("writes the holidays");
    let python = std::env::var_os("BATON_BENCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/bench/bin/python3"));
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/python_business_time.py");
    let output = Command::new(&python).arg(&script).arg(&spans_file).arg(&holidays_file).output().unwrap_or_else(|e| {
        panic!(
            "cannot run {}: {e}. Run `bash scripts/bench` (it installs business-duration in .tools/bench)",
            python.display()
        )
    });
    assert!(output.status.success(), "business-duration failed: {}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let mut lines: Vec<&str> = stdout.lines().collect();
    let elapsed = lines.pop().and_then(|l| l.strip_prefix("elapsed ")).expect("the elapsed line");
    let python_secs: f64 = elapsed.parse().expect("seconds");
    let theirs: Vec<i64> = lines.iter().map(|l| l.parse().expect("an integer")).collect();
    assert_eq!(theirs.len(), SPANS, "business-duration answered for every span");

    let differ: Vec<usize> = (0..SPANS).filter(|&i| ours[i] != theirs[i]).collect();
    println!("calendar: weekdays 08:00-17:00 UTC, {} holidays; {SPANS} random spans", HOLIDAYS.len());
    println!("{:<24} {:>14} {:>14}", "", "baton", "business-duration");
    println!(
        "{:<24} {:>14.1} {:>14.1}",
        "ns per span",
        rust.as_nanos() as f64 / SPANS as f64,
        python_secs * 1e9 / SPANS as f64
    );
    println!("{:<24} {:>14.3} {:>14.3}", "seconds for all", rust.as_secs_f64(), python_secs);
    println!("speed ratio: baton {:.0}x faster", python_secs / rust.as_secs_f64());
    println!("agreement: {} of {SPANS} identical, {} differ", SPANS - differ.len(), differ.len());
    for &i in differ.iter().take(20) {
        let (a, b) = spans[i];
        println!("  {} .. {}: baton {}s, business-duration {}s", naive(a), naive(b), ours[i], theirs[i]);
    }
}

fn naive(t: Timestamp) -> String {
    t.to_zoned(TimeZone::UTC).datetime().strftime("%Y-%m-%dT%H:%M:%S").to_string()
}
