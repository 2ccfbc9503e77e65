//! `baton report`: a timeline whose every figure is computed by hand below, the velcro sample in each
//! format through the binary, the HTML page in headless Chromium (screenshots under
//! `target/screenshots/`), and the same report read back from DynamoDB Local with `--table`.

#[allow(dead_code)] // the ack form of the case page's tests
#[path = "common/browser.rs"]
mod browser;
#[allow(dead_code)]
#[path = "common/dynamodb.rs"]
mod dynamodb;
#[allow(dead_code)]
#[path = "common/service.rs"]
mod service;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use baton::domain::policy::Policy;
use baton::notify::Collect;
use baton::replay::{self, Options};
use baton::report::{self, Window, source};
use baton::service::Baton;
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

fn zurich(text: &str) -> Timestamp {
    text.parse::<DateTime>().unwrap().to_zoned(TimeZone::get("Europe/Zurich").unwrap()).unwrap().timestamp()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().expect("target/tmp is in the target directory").to_path_buf()
}

fn sample(name: &str) -> String {
    format!("{}/samples/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A generic webhook line (docs/design.md, "Replay"): `fields` added to the event `id` at `local`
/// (Zurich wall-clock time), delivered at that instant.
fn event(id: &str, kind: &str, local: &str, fields: Value) -> Value {
    let at = zurich(local);
    let mut body = json!({"id": id, "type": kind, "at": at, "channel": "email"});
    body.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    json!({"at": at, "source": "webhook", "payload": body})
}

/// The report of `lines` (replayed with the shipped policy) over `window`.
fn report_of(lines: &[Value], window: Window) -> report::Report {
    let policy = Arc::new(Policy::default_policy());
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    let lines = replay::parse(&text.join("\n"), &policy).unwrap();
    let replayed = runtime().block_on(source::replay(&lines, policy.clone(), Some(window.to))).unwrap();
    report::compute(&replayed.cases, &policy, window)
}

/// Three email cases in the week of Monday 8 June 2026 (no holiday in CH or DE), every reply made
/// "awaiting the customer" so that no periodic update runs:
/// - A (central): the customer writes Mon 08:00; central replies 10:00; hands it to support-ch at
///   11:00, which accepts at 12:30 (in target) and replies at 13:00.
/// - B (central): the customer writes Mon 09:00; nobody answers, first_response breaches at 17:00;
///   central hands it to support-de Tue 09:00, which accepts at 15:00 (late: due 13:00) and replies
///   at 15:30.
/// - C (central): the customer writes Mon 14:00, central replies 14:30 and hands it to support-ch
///   Wed 09:00, which never accepts.
fn week() -> Vec<Value> {
    let customer = |id: &str, local: &str, who: &str, message: &str| {
        event(
            id,
            "customer_message",
            local,
            json!({"customer": {"channel": "email", "id": who},
            "message": message, "team": "central"}),
        )
    };
    let on = |id: &str, kind: &str, local: &str, case: &str, team: &str| {
        let mut fields = json!({"case": case, "team": team});
        if kind == "agent_reply" {
            fields["awaiting_customer"] = json!(true);
        }
        event(id, kind, local, fields)
    };
    vec![
        customer("a1", "2026-06-08T08:00", "a@example.ch", "other:a-1"),
        customer("b1", "2026-06-08T09:00", "b@example.de", "other:b-1"),
        on("a2", "agent_reply", "2026-06-08T10:00", "other:a-1", "central"),
        on("a3", "handoff", "2026-06-08T11:00", "other:a-1", "support-ch"),
        on("a4", "accept", "2026-06-08T12:30", "other:a-1", "support-ch"),
        on("a5", "agent_reply", "2026-06-08T13:00", "other:a-1", "support-ch"),
        customer("c1", "2026-06-08T14:00", "c@example.ch", "other:c-1"),
        on("c2", "agent_reply", "2026-06-08T14:30", "other:c-1", "central"),
        on("b2", "handoff", "2026-06-09T09:00", "other:b-1", "support-de"),
        on("b3", "accept", "2026-06-09T15:00", "other:b-1", "support-de"),
        on("b4", "agent_reply", "2026-06-09T15:30", "other:b-1", "support-de"),
        on("c3", "handoff", "2026-06-10T09:00", "other:c-1", "support-ch"),
    ]
}

const CLOCKS: [&str; 6] =
    ["first_response", "next_response", "handoff_accept", "periodic_update", "customer_silence", "resolution_confirm"];

/// A team's expected JSON: zeros and nulls, then what the test sets.
fn team(name: &str, region: Value) -> Value {
    let zero = json!({"started": 0, "met": 0, "breached": 0, "running": 0, "compliance": null});
    let clocks: serde_json::Map<String, Value> = CLOCKS.iter().map(|c| (c.to_string(), zero.clone())).collect();
    json!({
        "team": name, "region": region, "time_held_s": 0, "time_held_business_s": 0, "cases_held": 0,
        "clocks": clocks,
        "handoffs": {"received": 0, "accepted": 0, "accepted_in_target": 0, "median_accept_s": null,
            "p90_accept_s": null, "open_by_age": {"under_4h": 0, "under_1d": 0, "under_1w": 0, "older": 0}}
    })
}

fn clock(started: u64, met: u64, breached: u64, running: u64, compliance: Option<f64>) -> Value {
    json!({"started": started, "met": met, "breached": breached, "running": running, "compliance": compliance})
}

const HOUR: i64 = 3600;

#[test]
fn every_figure_of_a_small_week_matches_the_hand_count() {
    // The report runs to Thu 11 June 08:00 in Zurich, before anyone's hours start that day.
    let from = zurich("2026-06-08T00:00");
    let to = zurich("2026-06-11T08:00");
    let report = report_of(&week(), Window { from: Some(from), to });
    let actual = serde_json::to_value(&report).unwrap();

    // central (Zurich, Mon-Fri 08:00-17:00) held A Mon 08:00-11:00 (3h), B Mon 09:00-Tue 09:00 (24h;
    // business Mon 09-17 8h + Tue 08-09 1h = 9h), C Mon 14:00-Wed 09:00 (43h; business Mon 14-17 3h
    // + Tue 9h + Wed 08-09 1h = 13h).
    let mut central = team("central", Value::Null);
    central["time_held_s"] = json!((3 + 24 + 43) * HOUR);
    central["time_held_business_s"] = json!((3 + 9 + 13) * HOUR);
    central["cases_held"] = json!(3);
    // first_response started Mon 08:00 (A), 09:00 (B), 14:00 (C); A met at 10:00 (2h of 8h), C met
    // at 14:30; B's 8 business hours ran out Mon 17:00 in central's hands: breached for central. B's
    // run then stopped at support-de's reply, not met, which counts nothing more. 2 / (2 + 1).
    central["clocks"]["first_response"] = clock(3, 2, 1, 0, Some(2.0 / 3.0));
    // customer_silence (5 calendar days) started with each first message; A's and C's stopped met at
    // central's replies; B's went with the case to support-de and stopped there.
    central["clocks"]["customer_silence"] = clock(3, 2, 0, 0, Some(1.0));

    // support-ch (Zurich, Mon-Fri 08:00-17:00) has held A since Mon 11:00 (69h to Thu 08:00; business
    // Mon 11-17 6h + Tue 9h + Wed 9h = 24h) and C since Wed 09:00 (23h; business Wed 09-17 8h).
    let mut support_ch = team("support-ch", json!("CH"));
    support_ch["time_held_s"] = json!((69 + 23) * HOUR);
    support_ch["time_held_business_s"] = json!((24 + 8) * HOUR);
    support_ch["cases_held"] = json!(2);
    // handoff_accept: A's started Mon 11:00, accepted 12:30 (1h30 of 4h): met. C's started Wed 09:00,
    // due 13:00: breached, still running at the end. 1 / (1 + 1).
    support_ch["clocks"]["handoff_accept"] = clock(2, 1, 1, 1, Some(0.5));
    // customer_silence restarts with each handoff of a case awaiting the customer: A's (Mon 11:00)
    // stopped met at support-ch's reply at 13:00; C's (Wed 09:00) runs to Mon 15 June.
    support_ch["clocks"]["customer_silence"] = clock(2, 1, 0, 1, Some(1.0));
    // One accepted, in target, after 1h30 of support-ch's business time: median and p90 are it. C's
    // handoff is open, 23 hours old at Thu 08:00: under a day.
    support_ch["handoffs"] = json!({"received": 2, "accepted": 1, "accepted_in_target": 1,
        "median_accept_s": 90 * 60, "p90_accept_s": 90 * 60,
        "open_by_age": {"under_4h": 0, "under_1d": 1, "under_1w": 0, "older": 0}});

    // support-de (Berlin, Mon-Fri 09:00-17:00, the same offset as Zurich in June) has held B since
    // Tue 09:00 (47h to Thu 08:00; business Tue 8h + Wed 8h + Thu 0h, before 09:00 = 16h).
    let mut support_de = team("support-de", json!("DE"));
    support_de["time_held_s"] = json!(47 * HOUR);
    support_de["time_held_business_s"] = json!(16 * HOUR);
    support_de["cases_held"] = json!(1);
    // handoff_accept started Tue 09:00, due 13:00 (4 business hours), breached; accepted 15:00.
    support_de["clocks"]["handoff_accept"] = clock(1, 0, 1, 0, Some(0.0));
    // B's customer_silence (started Mon 09:00 by central) stopped met at support-de's reply Tue 15:30.
    support_de["clocks"]["customer_silence"] = clock(0, 1, 0, 0, Some(1.0));
    // Accepted late, after 6 business hours (09:00-15:00).
    support_de["handoffs"] = json!({"received": 1, "accepted": 1, "accepted_in_target": 0,
        "median_accept_s": 6 * HOUR, "p90_accept_s": 6 * HOUR,
        "open_by_age": {"under_4h": 0, "under_1d": 0, "under_1w": 0, "older": 0}});

    let expected = json!({
        "schema": "baton.report.v1",
        "from": "2026-06-07T22:00:00Z",
        "to": "2026-06-11T06:00:00Z",
        // Every team of the policy, in the order of their names; social did nothing.
        "teams": [central, team("social", Value::Null), support_ch, support_de],
    });
    assert_eq!(actual, expected, "\nactual: {}", serde_json::to_string_pretty(&actual).unwrap());
}

#[test]
fn a_window_counts_what_happened_in_it_and_clips_the_holds() {
    // Tuesday 9 June only, in Zurich: [Tue 00:00, Wed 00:00).
    let window = Window { from: Some(zurich("2026-06-09T00:00")), to: zurich("2026-06-10T00:00") };
    let report = report_of(&week(), window);
    let team = |name: &str| report.teams.iter().find(|t| t.team == name).unwrap();
    use baton::domain::clock::ClockKind::*;
    // central: B from Tue 00:00 to its handoff at 09:00 (9h, business 08-09 1h) and C all day (24h,
    // business 9h); A was support-ch's by Tuesday. Nothing started, stopped or breached on Tuesday.
    assert_eq!((team("central").time_held_s, team("central").time_held_business_s), (33 * HOUR, 10 * HOUR));
    assert_eq!(team("central").cases_held, 2);
    assert_eq!(team("central").clocks[&FirstResponse].started + team("central").clocks[&FirstResponse].breached, 0);
    // support-de: the handoff (started), its breach at 13:00 and late acceptance at 15:00, the silence
    // clock stopped met at 15:30; B held from 09:00 to the window's end (15h; business 09-17 8h).
    let de = team("support-de");
    assert_eq!(de.clocks[&HandoffAccept], clock_figures(1, 0, 1, 0, Some(0.0)));
    assert_eq!(de.clocks[&CustomerSilence], clock_figures(0, 1, 0, 0, Some(1.0)));
    assert_eq!((de.handoffs.received, de.handoffs.accepted, de.handoffs.median_accept_s), (1, 1, Some(6 * HOUR)));
    assert_eq!((de.time_held_s, de.time_held_business_s), (15 * HOUR, 8 * HOUR));
    // support-ch: A held all day; nothing happened to its clocks; A's silence clock stopped on Monday.
    let ch = team("support-ch");
    assert_eq!((ch.time_held_s, ch.time_held_business_s, ch.cases_held), (24 * HOUR, 9 * HOUR, 1));
    assert_eq!(ch.clocks[&HandoffAccept], clock_figures(0, 0, 0, 0, None));
    // Monday's runs still going at the window's end count as running: none for support-ch (A's
    // handoff was accepted Monday), C's first response was met Monday.
    assert_eq!(ch.handoffs.open_by_age.total(), 0);
}

fn clock_figures(started: u64, met: u64, breached: u64, running: u64, compliance: Option<f64>) -> report::ClockFigures {
    report::ClockFigures { started, met, breached, running, compliance }
}

fn baton() -> Command {
    Command::new(env!("CARGO_BIN_EXE_baton"))
}

/// Runs `baton report` with `args`: (stdout, stderr), asserting it succeeded.
fn run_report(args: &[&str]) -> (String, String) {
    let out = baton().arg("report").args(args).output().unwrap();
    let (stdout, stderr) = (String::from_utf8(out.stdout).unwrap(), String::from_utf8_lossy(&out.stderr).to_string());
    assert!(out.status.success(), "baton report {args:?}: {stderr}");
    (stdout, stderr)
}

fn keys(value: &Value) -> Vec<&str> {
    value.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn the_velcro_sample_reports_in_each_format_with_the_contracts_names() {
    let velcro = sample("velcro.jsonl");
    let (json, stderr) = run_report(&[&velcro, "--format", "json"]);
    assert!(stderr.is_empty(), "no progress bar when stderr is not a terminal: {stderr:?}");
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(keys(&json), ["schema", "from", "to", "teams"]);
    assert_eq!((json["schema"].as_str(), &json["from"]), (Some("baton.report.v1"), &Value::Null));
    // The replay's end: 14 days after the last line (30 May 2026 10:02:12Z), at the minute.
    assert_eq!(json["to"], "2026-06-13T10:03:00Z");
    let teams = json["teams"].as_array().unwrap();
    assert_eq!(
        teams.iter().map(|t| t["team"].as_str().unwrap()).collect::<Vec<_>>(),
        ["central", "social", "support-ch", "support-de"]
    );
    for team in teams {
        for key in ["team", "region", "time_held_s", "cases_held", "clocks", "handoffs"] {
            assert!(team.get(key).is_some(), "{key} in {team}");
        }
        assert_eq!(keys(&team["clocks"]), CLOCKS);
        for figures in team["clocks"].as_object().unwrap().values() {
            assert_eq!(keys(figures), ["started", "met", "breached", "running", "compliance"]);
        }
        assert_eq!(
            keys(&team["handoffs"])[..5],
            ["received", "accepted", "accepted_in_target", "median_accept_s", "p90_accept_s"]
        );
    }
    // The story's figures: support-ch (region CH) never accepted the handoff, still open at the end
    // more than a week later; central's first response breached.
    let ch = &teams[2];
    assert_eq!(
        (ch["region"].as_str(), &ch["handoffs"]["received"], &ch["handoffs"]["accepted"]),
        (Some("CH"), &json!(1), &json!(0))
    );
    assert_eq!(ch["handoffs"]["open_by_age"]["older"], 1);
    assert_eq!(ch["clocks"]["handoff_accept"]["breached"], 1);
    assert_eq!(
        teams[0]["clocks"]["first_response"],
        json!({"started": 1, "met": 0, "breached": 1, "running": 0, "compliance": 0.0})
    );
    assert!(ch["time_held_s"].as_i64().unwrap() > 50 * 86_400, "23 Apr to 13 Jun: {}", ch["time_held_s"]);

    let (table, _) = run_report(&[&velcro]);
    assert!(table.starts_with("SLA report: everything before 2026-06-13 10:03 UTC"), "{table}");
    assert!(table.contains("support-ch   handoff_accept           1     0        1       1       0.0%"), "{table}");
    assert!(table.contains("handoffs to"), "{table}");

    let (csv, _) = run_report(&[&velcro, "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header[..8], ["team", "region", "clock", "started", "met", "breached", "running", "compliance"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4 * 6, "a row per team and clock");
    let accept = rows.iter().find(|r| &r[0] == "support-ch" && &r[2] == "handoff_accept").unwrap();
    assert_eq!((&accept[1], &accept[5], &accept[8], &accept[9]), ("CH", "1", "1", "0"));

    let (html, _) = run_report(&[&velcro, "--format", "html"]);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg").count(), 2, "compliance and time held; no handoff was accepted: a note");
}

#[test]
fn bad_input_is_one_line_and_exit_code_two() {
    let velcro = sample("velcro.jsonl");
    for (args, says) in [
        (vec![velcro.as_str(), "--format", "xml"], "unknown format `xml`"),
        (vec!["/nonexistent/timeline.jsonl"], "cannot read /nonexistent/timeline.jsonl"),
        (vec![velcro.as_str(), "--from", "April"], "neither a date"),
        (vec![velcro.as_str(), "--from", "2026-05-01", "--to", "2026-04-01"], "must be before --to"),
    ] {
        let out = baton().arg("report").args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.lines().next().unwrap().contains(says), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"at\": \"2026-04-12T17:42:10Z\", \"source\": \"fax\", \"payload\": {}}\n").unwrap();
    let out = baton().arg("report").arg(&bad).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!((out.status.code(), stderr.lines().count()), (Some(2), 1), "{stderr}");
    assert!(stderr.contains("line 1: unknown variant `fax`"), "{stderr}");
}

#[test]
fn the_report_page_in_chromium_at_phone_and_desktop_width_loads_nothing_and_draws_its_charts() {
    // A report with every chart drawn: the hand-counted week (handoffs accepted) beside velcro.
    let policy = Arc::new(Policy::default_policy());
    let text = std::fs::read_to_string(sample("velcro.jsonl")).unwrap();
    let week: Vec<String> = week().iter().map(Value::to_string).collect();
    let text = format!("{}\n{}", text.trim_end(), week.join("\n"));
    let lines = replay::parse(&text, &policy).unwrap();
    let replayed = runtime().block_on(source::replay(&lines, policy.clone(), None)).unwrap();
    let report = report::compute(&replayed.cases, &policy, Window { from: None, to: replayed.until.unwrap() });
    let html = report::html::render(&report);
    for forbidden in ["<script", "<link", "<img", "<iframe", "@import", "url(", " src=", " href="] {
        assert!(!html.contains(forbidden), "{forbidden}");
    }
    let path = target_dir().join("report").join("report.html");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &html).unwrap();
    let url = format!("file://{}", path.display());
    let shots = target_dir().join("screenshots");

    for (name, width, height) in [("phone", 390, 844), ("desktop", 1280, 800)] {
        let browser = browser::launch(width, height);
        let tab = browser::open(&browser, &url, (width, height));
        let scroll_width = browser::eval(&tab, "document.documentElement.scrollWidth").as_u64().unwrap();
        assert!(scroll_width <= u64::from(width), "{name}: the page is {scroll_width} px wide");
        let charts = browser::eval(
            &tab,
            "[...document.querySelectorAll('figure svg')].map(s => { const r = s.getBoundingClientRect(); \
             return [r.width, r.height]; })",
        );
        let charts: Vec<(f64, f64)> = serde_json::from_value(charts).unwrap();
        assert_eq!(charts.len(), 3, "{name}: compliance, time held, acceptance: {charts:?}");
        assert!(charts.iter().all(|(w, h)| *w >= 300.0 && *h > 50.0), "{name}: charts {charts:?}");
        // Nothing was loaded but the document itself, and its policy forbids loading anything.
        assert_eq!(browser::eval(&tab, "performance.getEntriesByType('resource').length"), 0, "{name}");
        let csp = browser::eval(&tab, "document.querySelector('meta[http-equiv=Content-Security-Policy]').content");
        assert!(csp.as_str().unwrap().starts_with("default-src 'none'"), "{csp}");
        let text = browser::text(&tab);
        for heading in ["Compliance per team and clock", "Time held per team", "Time to accept a handoff"] {
            assert!(text.contains(heading), "{name}: {heading}");
        }
        let shot = shots.join(format!("report-{name}.png"));
        browser::screenshot(&tab, &shot);
        assert_eq!(browser::png_size(&shot), (width, height), "{}", shot.display());
        browser::screenshot_full(&tab, width, &shots.join(format!("report-{name}-full.png")));
    }
}

#[test]
fn the_report_from_the_table_equals_the_report_from_the_timeline() {
    let runtime = runtime();
    let policy = Arc::new(Policy::default_policy());
    let text = std::fs::read_to_string(sample("velcro.jsonl")).unwrap();
    let week: Vec<String> = week().iter().map(Value::to_string).collect();
    let lines = replay::parse(&format!("{}\n{}", text.trim_end(), week.join("\n")), &policy).unwrap();

    let store = runtime.block_on(dynamodb::store("report"));
    let baton = Baton::new(store.clone(), Collect::default(), policy.clone());
    let played = runtime.block_on(replay::run_on(baton, &lines, &Options::default(), &mut Vec::new())).unwrap();
    let to = played.until.unwrap();

    let read = runtime.block_on(source::table(&store, 3, &indicatif::ProgressBar::hidden())).unwrap();
    let in_memory = runtime.block_on(source::replay(&lines, policy.clone(), Some(to))).unwrap();
    assert_eq!(read.cases.len(), in_memory.cases.len(), "every case, the merged one included");
    for window in
        [Window { from: None, to }, Window { from: Some(zurich("2026-04-20T00:00")), to: zurich("2026-06-10T12:00") }]
    {
        let from_table = report::compute(&read.cases, &policy, window);
        let from_timeline = report::compute(&in_memory.cases, &policy, window);
        assert_eq!(from_table, from_timeline, "{window:?}");
    }
    // The scan read every item of the table (events, references, dedupe items), a page per segment
    // at least, and said what it used; loading is a query per case at least.
    assert!(read.scanned_items > read.cases.len() as u64, "{read:?}");
    assert!(read.scan.requests >= 3 && read.scan.read_units > 0.0, "{:?}", read.scan);
    assert!(read.load.requests >= read.cases.len() as u64 && read.load.read_units > 0.0, "{:?}", read.load);

    // The command says the same, and what it cost, on stderr.
    let to_text = to.to_string();
    let (json, stderr) = run_report(&[
        "--table",
        store.table(),
        "--dynamodb-endpoint",
        dynamodb::endpoint(),
        "--to",
        &to_text,
        "--format",
        "json",
    ]);
    assert!(stderr.starts_with(&format!("scanned table {} in 4 segments: ", store.table())), "{stderr}");
    assert!(stderr.contains("read units") && stderr.contains("requests"), "{stderr}");
    // The README quotes this line (`--nocapture` shows it).
    eprintln!("{stderr}");
    let from_timeline = report::compute(&in_memory.cases, &policy, Window { from: None, to });
    assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), serde_json::to_value(&from_timeline).unwrap());
}

#[test]
fn a_full_case_and_its_continuation_count_as_one_case() {
    // One customer message Monday 8 June 08:00, then more internal notes (one a minute) than a case
    // may hold (2,000 events): the case goes on in a continuation.
    let mut lines = vec![event(
        "f0",
        "customer_message",
        "2026-06-08T08:00",
        json!({
        "customer": {"channel": "email", "id": "full@example.ch"}, "message": "other:f-0", "team": "central"}),
    )];
    let start = zurich("2026-06-08T08:00");
    for n in 1..=2_050 {
        let at = start + jiff::SignedDuration::from_mins(n);
        lines.push(json!({"at": at, "source": "webhook", "payload": {"id": format!("f{n}"), "type": "internal_note",
            "at": at, "case": "other:f-0", "team": "central"}}));
    }
    let to = zurich("2026-06-11T08:00");
    let policy = Arc::new(Policy::default_policy());
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    let parsed = replay::parse(&text.join("\n"), &policy).unwrap();
    let replayed = runtime().block_on(source::replay(&parsed, policy.clone(), Some(to))).unwrap();
    assert_eq!(replayed.cases.len(), 2, "the full case and its continuation");
    assert!(replayed.cases.iter().any(|c| c.continues().is_some()));
    let report = report::compute(&replayed.cases, &policy, Window { from: None, to });
    let central = report.teams.iter().find(|t| t.team == "central").unwrap();
    // One hold, Monday 08:00 to Thursday 08:00: 72 hours, 27 of them business (9 a day).
    assert_eq!((central.time_held_s, central.time_held_business_s, central.cases_held), (72 * HOUR, 27 * HOUR, 1));
    use baton::domain::clock::ClockKind::*;
    // first_response started once, breached Monday 16:00, still running (in the continuation).
    assert_eq!(central.clocks[&FirstResponse], clock_figures(1, 0, 1, 1, Some(0.0)));
    assert_eq!(central.clocks[&CustomerSilence], clock_figures(1, 0, 0, 1, None));
}
