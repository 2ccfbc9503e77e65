//! The replay of the sample timelines, through the library and through the `baton` binary.

use std::process::Command;
use std::sync::Arc;

use baton::domain::case::{CaseState, EventKind};
use baton::domain::clock::ClockKind;
use baton::domain::ids::Channel;
use baton::domain::policy::Policy;
use baton::replay::{self, Options, Published, Report};
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

fn zurich(text: &str) -> Timestamp {
    text.parse::<DateTime>().unwrap().to_zoned(TimeZone::get("Europe/Zurich").unwrap()).unwrap().timestamp()
}

fn run(sample: &str) -> Report {
    run_with(sample, Policy::default_policy())
}

fn run_with(sample: &str, policy: Policy) -> Report {
    let policy = Arc::new(policy);
    let text = std::fs::read_to_string(format!("{}/samples/{sample}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let lines = replay::parse(&text, &policy).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let mut out = Vec::new();
    runtime.block_on(replay::run(&lines, policy, &Options::default(), &mut out)).unwrap()
}

fn find<'a>(alerts: &'a [Published], kind: &str, clock: ClockKind, level: u8) -> Vec<&'a Published> {
    alerts.iter().filter(|p| p.alert.kind == kind && p.alert.clock == clock && p.alert.level == level).collect()
}

#[test]
fn the_velcro_story_escalates_every_silence_and_leaves_the_case_open() {
    let report = run("velcro.jsonl");
    let email_case = report.cases.iter().find(|c| c.channels().contains(&Channel::Email)).unwrap();
    let id = email_case.id().to_string();
    let alerts: Vec<Published> = report.alerts.iter().filter(|p| p.alert.case_id == id).cloned().collect();

    // The email's first response breaches Monday 16:00 and climbs central's ladder.
    let breach = find(&alerts, "breach", ClockKind::FirstResponse, 1);
    assert_eq!(breach.len(), 1);
    assert_eq!((breach[0].alert.at, breach[0].alert.team.as_str()), (zurich("2026-04-13T16:00"), "central"));
    assert_eq!(find(&alerts, "escalation", ClockKind::FirstResponse, 2)[0].alert.at, zurich("2026-04-14T16:00"));
    assert_eq!(find(&alerts, "escalation", ClockKind::FirstResponse, 3)[0].alert.at, zurich("2026-04-16T16:00"));

    // The tweets are the same customer once linked: merged, with a channel hop on the timeline.
    let tweet_case = report.cases.iter().find(|c| c.merged_into().is_some()).expect("the tweet case was merged");
    assert_eq!(tweet_case.merged_into().as_ref(), Some(&email_case.id()));
    let hop = email_case.timeline().iter().find(|e| e.marks.channel_hop == Some(Channel::Email)).unwrap();
    assert_eq!(hop.at, zurich("2026-04-21T09:15"));
    assert!(email_case.timeline().iter().any(|e| matches!(e.kind, EventKind::Absorbed { .. })));

    // The handoff to support-ch starts handoff_accept, which breaches as the team stays quiet.
    let quiet = find(&alerts, "breach", ClockKind::HandoffAccept, 1);
    assert_eq!((quiet[0].alert.at, quiet[0].alert.team.as_str()), (zurich("2026-04-23T14:10"), "support-ch"));
    assert_eq!(quiet[0].alert.region.as_deref(), Some("CH"));

    // customer_silence breaches five calendar days after the brand's last message (23 Apr 10:12).
    let silence: Vec<Timestamp> =
        find(&alerts, "breach", ClockKind::CustomerSilence, 1).iter().map(|p| p.alert.at).collect();
    assert!(silence.contains(&zurich("2026-04-28T10:12")), "{silence:?}");

    // The follow-up of 19 May starts next_response, on support-ch's hours.
    let chase = find(&alerts, "breach", ClockKind::NextResponse, 1);
    assert_eq!((chase[0].alert.at, chase[0].alert.team.as_str()), (zurich("2026-05-19T16:05"), "support-ch"));
    assert!(chase[0].alert.summary.contains("follow-up"), "{}", chase[0].alert.summary);

    // Still open at the end, held by support-ch, and no alert was published twice.
    assert_eq!(email_case.state(), CaseState::HandedOff);
    let mut keys: Vec<String> =
        alerts.iter().map(|p| format!("{}{}{}{}", p.alert.clock, p.alert.level, p.alert.kind, p.alert.at)).collect();
    keys.sort();
    let before = keys.len();
    keys.dedup();
    assert_eq!(before, keys.len());
}

#[test]
fn the_good_example_raises_no_alert_and_closes_confirmed() {
    let report = run("retailer.jsonl");
    assert!(report.alerts.is_empty(), "{:?}", report.alerts.first().map(|p| &p.alert.summary));
    assert_eq!(report.cases.len(), 1);
    assert_eq!(report.cases[0].state(), CaseState::Closed);
}

#[test]
fn every_alert_keeps_the_v1_contract() {
    for p in run("velcro.jsonl").alerts {
        let json = p.to_json();
        for field in [
            "schema",
            "kind",
            "case_id",
            "clock",
            "level",
            "team",
            "region",
            "priority",
            "channels",
            "due_at",
            "at",
            "customer_waiting_since",
            "summary",
            "timeline",
            "published_at",
        ] {
            assert!(json.get(field).is_some(), "missing {field} in {json}");
        }
        assert_eq!(json["schema"], "baton.alert.v1");
        assert!(
            ["warning", "breach", "escalation", "reminder", "closure_risk", "cleared"]
                .contains(&json["kind"].as_str().unwrap())
        );
        assert!(p.published_at >= p.alert.at && p.published_at.as_second() - p.alert.at.as_second() < 60);
        assert!(p.alert.subject().chars().count() < 100, "{}", p.alert.subject());
        assert!(!json["timeline"].as_array().unwrap().is_empty());
    }
}

#[test]
fn a_malformed_line_is_an_error_with_its_number_and_reason() {
    let policy = Policy::default_policy();
    let good = std::fs::read_to_string(format!("{}/samples/velcro.jsonl", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let first = good.lines().next().unwrap();
    for (bad, reason) in [
        ("{\"at\": \"yesterday\", \"source\": \"ses\", \"payload\": {}}", "year"),
        ("{\"at\": \"2026-04-12T17:42:10Z\", \"source\": \"fax\", \"payload\": {}}", "fax"),
        ("{\"at\": \"2026-04-12T17:42:10Z\", \"source\": \"ses\", \"payload\": {\"Records\": 3}}", "SES event"),
        (
            "{\"at\": \"2026-04-12T17:42:10Z\", \"source\": \"api\", \"payload\": {\"method\": \"POST\", \"path\": \"/cases/BTN-7K3QF9/handoff\", \"body\": {\"to_team\": \"mars\"}}}",
            "mars",
        ),
        ("not json", "expected"),
    ] {
        let text = format!("{first}\n\n{bad}\n");
        let error = replay::parse(&text, &policy).unwrap_err();
        assert_eq!(error.line, 3, "{error}");
        assert!(error.to_string().starts_with("line 3: ") && error.to_string().contains(reason), "{error}");
    }
}

fn baton() -> Command {
    Command::new(env!("CARGO_BIN_EXE_baton"))
}

#[test]
fn a_bad_last_line_stops_the_command_with_its_number_and_no_partial_output() {
    // The velcro story publishes alerts long before its end; a bad line after it all must still
    // leave stdout empty, in both output forms: the replay streams, and prints only at the end.
    let sample = std::fs::read_to_string(format!("{}/samples/velcro.jsonl", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let lines = sample.lines().count();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    std::fs::write(
        &path,
        format!("{sample}{{\"at\": \"2026-06-30T08:00:00Z\", \"source\": \"fax\", \"payload\": {{}}}}\n"),
    )
    .unwrap();
    for json in [true, false] {
        let mut command = baton();
        command.args(["replay", path.to_str().unwrap()]);
        if json {
            command.arg("--json");
        }
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success());
        assert!(output.stdout.is_empty(), "{} bytes of output", output.stdout.len());
        assert!(stderr.contains(&format!("bad.jsonl: line {}: ", lines + 1)) && stderr.contains("fax"), "{stderr}");
    }
}

#[test]
fn the_command_prints_json_alerts_and_a_readable_timeline() {
    let sample = format!("{}/samples/velcro.jsonl", env!("CARGO_MANIFEST_DIR"));
    let json = baton().args(["replay", &sample, "--json"]).output().unwrap();
    assert!(json.status.success(), "{}", String::from_utf8_lossy(&json.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(json.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let report = run("velcro.jsonl");
    assert_eq!(lines.len(), report.alerts.len() + report.digests.len());
    assert!(lines.iter().all(|l| l["published_at"].is_string()));
    // Alerts and digests, each a line of its own, told apart by their schema.
    let alerts = lines.iter().filter(|l| l["schema"] == "baton.alert.v1").count();
    let digests = lines.iter().filter(|l| l["schema"] == "baton.digest.v1").count();
    assert_eq!((alerts, digests), (report.alerts.len(), report.digests.len()));
    assert!(alerts > 0 && digests > 0);

    let readable = baton().args(["replay", &sample, "--until", "2026-04-24T00:00:00Z"]).output().unwrap();
    let text = String::from_utf8(readable.stdout).unwrap();
    assert!(text.contains("Sun 2026-04-12 19:42 CEST"), "{text}");
    assert!(text.contains("handoff to support-ch"), "{text}");
    assert!(text.contains("Summary at"), "{text}");
    assert!(text.contains("time held per team"), "{text}");
    assert!(!text.contains("2026-05-19"), "--until stops the replay");
}

#[test]
fn the_command_reports_a_bad_line_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    // (An X or Meta body whose entries cannot be read is not a bad line: the functions skip such
    // entries and count them, and so does the replay. An SES event that is not one is.)
    std::fs::write(&path, "{\"at\": \"2026-04-12T17:42:10Z\", \"source\": \"ses\", \"payload\": {\"Records\": 1}}\n")
        .unwrap();
    let output = baton().args(["replay", path.to_str().unwrap()]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("line 1:") && stderr.contains("SES event"), "{stderr}");
}

#[test]
fn check_policy_names_every_wrong_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    let text = baton::domain::policy::DEFAULT_POLICY
        .replace("handoff_accept = \"4h\"", "handoff_accept = \"4 hours\"")
        .replace("time_zone = \"Europe/Berlin\"", "time_zone = \"Mars/Olympus\"");
    std::fs::write(&path, text).unwrap();
    let output = baton().args(["check-policy", path.to_str().unwrap()]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("targets.handoff_accept"), "{stderr}");
    assert!(stderr.contains("calendars.de-office.time_zone"), "{stderr}");

    let shipped = format!("{}/config/policy.toml", env!("CARGO_MANIFEST_DIR"));
    let ok = baton().args(["check-policy", &shipped]).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
}

#[test]
fn an_alert_reads_on_a_phone_as_text() {
    let report = run("velcro.jsonl");
    let breach = find(&report.alerts, "breach", ClockKind::HandoffAccept, 1)[0];
    let text = breach.alert.text();
    println!("{}\n{text}", breach.alert.subject());
    let case = &breach.alert.case_id;
    for expected in [
        "Breach: support-ch has not taken up the case handed to it 4h ago.",
        "Customer waiting since Sun 12 Apr 19:42 CEST",
        &format!("Case:     {case} (normal priority; email, x)"),
        "Held by:  support-ch (region CH)",
        "Clock:    handoff_accept, level 1, due Thu 23 Apr 12:10 UTC",
        "handoff, owner support-ch",
        &format!("Acknowledge: POST /cases/{case}/ack {{\"clock\": \"handoff_accept\", \"level\": 1"),
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
}

#[test]
fn webhook_lines_and_auto_acknowledgements_replay() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("helpdesk.jsonl");
    let lines = [
        r#"{"at":"2026-04-13T06:00:00Z","source":"webhook","payload":{"id":"evt_1","type":"customer_message","at":"2026-04-13T06:00:00Z","customer":{"channel":"chat","id":"visitor-7"},"channel":"chat","message":"other:chat-1","team":"support-de"}}"#,
        r#"{"at":"2026-04-13T07:00:00Z","source":"webhook","payload":{"id":"evt_2","type":"internal_note","at":"2026-04-13T07:00:00Z","case":"other:chat-1","team":"support-de"}}"#,
        r#"{"at":"2026-04-13T07:05:00Z","source":"webhook","payload":{"id":"evt_3","type":"ticket_tagged","at":"2026-04-13T07:05:00Z"}}"#,
    ];
    std::fs::write(&path, lines.join("\n")).unwrap();
    let out = baton().args(["replay", path.to_str().unwrap(), "--until", "2026-04-14T00:00:00Z"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("support-de  customer wrote (chat)  [new case]"), "{text}");
    assert!(text.contains("skipped: UnknownType(\"ticket_tagged\")"), "{text}");
    // support-de's first_response (8 business hours from 09:00 Berlin) breaches at 17:00.
    assert!(text.contains("Mon 2026-04-13 17:00 CEST") && text.contains("BREACH first_response"), "{text}");
    assert!(!text.contains("auto-acknowledgement"), "off unless asked for");

    let sample = format!("{}/samples/velcro.jsonl", env!("CARGO_MANIFEST_DIR"));
    let out = baton().args(["replay", &sample, "--auto-ack", "--until", "2026-04-13T00:00:00Z"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("auto-acknowledgement to max.muster@example.ch: \"[BTN-"), "{text}");
}

#[test]
fn the_velcro_story_has_one_voice_per_case_and_no_state_change_is_lost() {
    // Given the velcro story with the shipped policy (`reminders = "digest"`).
    let report = run("velcro.jsonl");
    // Then no reminder is published as an alert: the state changes (warnings, breaches,
    // escalations, cleared) are all there is, where per-clock reminders made 134 messages.
    let kinds = |kind: &str| report.alerts.iter().filter(|p| p.alert.kind == kind).count();
    assert!(report.alerts.len() <= 45, "{} alerts", report.alerts.len());
    assert_eq!(kinds("reminder"), 0);
    // No warning, breach or escalation is lost: the same ones as with daily reminders, at the same minutes.
    let daily = run_with("velcro.jsonl", daily_reminders());
    let state_changes = |r: &Report| -> Vec<(String, String, ClockKind, u8, Timestamp)> {
        r.alerts
            .iter()
            .filter(|p| p.alert.kind != "reminder")
            .map(|p| (p.alert.case_id.clone(), p.alert.kind.clone(), p.alert.clock, p.alert.level, p.alert.at))
            .collect()
    };
    assert_eq!(state_changes(&report), state_changes(&daily));
    // And the case stays in front of its lead: every business day support-ch holds it in breach,
    // support-ch's digest lists it, with the handoff it never took up.
    let case = report.cases.iter().find(|c| c.channels().contains(&Channel::Email)).unwrap().id().to_string();
    let support: Vec<&replay::PublishedDigest> =
        report.digests.iter().filter(|d| d.digest.team.as_str() == "support-ch").collect();
    let listing: Vec<String> = support
        .iter()
        .filter(|d| d.digest.in_breach.iter().any(|row| row.case_id == case))
        .map(|d| d.digest.day.to_string())
        .collect();
    assert!(listing.contains(&"2026-04-24".to_string()) && listing.contains(&"2026-06-01".to_string()), "{listing:?}");
    let june = support.iter().find(|d| d.digest.day.to_string() == "2026-06-01").unwrap();
    assert_eq!(june.digest.handoffs_waiting[0].case_id, case);
    assert_eq!(june.published_at, zurich("2026-06-01T08:00"));
}

fn daily_reminders() -> Policy {
    let mut policy = Policy::default_policy();
    policy.ladder.reminders = baton::domain::policy::Reminders::Daily;
    policy
}

#[test]
fn with_daily_reminders_a_case_is_reminded_of_once_a_business_day() {
    // Given the velcro story with `reminders = "daily"`.
    let report = run_with("velcro.jsonl", daily_reminders());
    // Then a case gets at most one reminder per business day, at the start of the owning team's day
    // (08:00 in Zurich for support-ch and the social desk), and none on its weekends or holidays.
    let reminders: Vec<&Published> = report.alerts.iter().filter(|p| p.alert.kind == "reminder").collect();
    assert!(!reminders.is_empty());
    assert!(report.alerts.len() - reminders.len() <= 45);
    let mut days: Vec<(String, String)> = reminders
        .iter()
        .map(|p| {
            (p.alert.case_id.clone(), p.alert.at.to_zoned(TimeZone::get("Europe/Zurich").unwrap()).date().to_string())
        })
        .collect();
    let before = days.len();
    days.dedup();
    assert_eq!(before, days.len(), "two reminders of a case on one day");
    for p in &reminders {
        let local = p.alert.at.to_zoned(TimeZone::get("Europe/Zurich").unwrap());
        assert_eq!((local.hour(), local.minute()), (8, 0), "{}", p.alert.summary);
        if p.alert.team.as_str() == "support-ch" {
            assert!(local.weekday().to_monday_one_offset() <= 5, "a weekend reminder: {local}");
            assert_ne!(local.date().to_string(), "2026-05-14", "Ascension is a holiday of ch-office");
            assert_ne!(local.date().to_string(), "2026-05-25", "Whit Monday is a holiday of ch-office");
        }
        // Each lists every clock in breach, the most severe first: the alert's own.
        let first = &p.alert.clocks[0];
        assert_eq!((first.clock, first.level), (p.alert.clock, p.alert.level));
        assert!(p.alert.clocks.windows(2).all(|w| w[0].level >= w[1].level));
    }
    // Once support-ch's case is past level 3 on every quiet clock, a reminder lists them all.
    let late = reminders.iter().find(|p| p.alert.at == zurich("2026-06-01T08:00")).expect("a reminder on Mon 1 June");
    let listed: Vec<ClockKind> = late.alert.clocks.iter().map(|c| c.clock).collect();
    for clock in [ClockKind::HandoffAccept, ClockKind::CustomerSilence, ClockKind::NextResponse] {
        assert!(listed.contains(&clock), "{clock} not in {listed:?}");
    }
}

#[test]
fn a_breached_clock_that_stops_is_cleared_and_one_that_never_breached_is_not() {
    let report = run("velcro.jsonl");
    let email_case = report.cases.iter().find(|c| c.channels().contains(&Channel::Email)).unwrap();
    let alerts: Vec<&Published> =
        report.alerts.iter().filter(|p| p.alert.case_id == email_case.id().to_string()).collect();
    let cleared: Vec<(ClockKind, u8, Timestamp)> = alerts
        .iter()
        .filter(|p| p.alert.kind == "cleared")
        .map(|p| (p.alert.clock, p.alert.level, p.alert.at))
        .collect();
    // The social desk's answer on X (merged in at 10:20) stops central's first_response (level 3)
    // and customer_silence (level 2): both are cleared when the merge brings the answer to light.
    assert_eq!(
        cleared,
        vec![
            (ClockKind::CustomerSilence, 2, zurich("2026-04-21T10:20")),
            (ClockKind::FirstResponse, 3, zurich("2026-04-21T10:20")),
        ]
    );
    let first = alerts.iter().find(|p| p.alert.kind == "cleared" && p.alert.clock == ClockKind::FirstResponse).unwrap();
    assert!(first.alert.summary.starts_with("Cleared: social replied after"), "{}", first.alert.summary);
    assert!(first.alert.subject().contains(": cleared, first_response"), "{}", first.alert.subject());
    assert!(!first.alert.text().contains("Acknowledge:"), "nothing to acknowledge");
    // Every cleared alert comes after its clock's breach; handoff_accept never stops (support-ch
    // never takes the case up), so it is never cleared.
    for (clock, _, at) in &cleared {
        assert!(find(&report.alerts, "breach", *clock, 1).iter().any(|b| b.alert.at < *at));
    }
    assert!(find(&report.alerts, "cleared", ClockKind::HandoffAccept, 3).is_empty());
    // The retailer answers everything in time: nothing breached, nothing cleared.
    assert!(run("retailer.jsonl").alerts.iter().all(|p| p.alert.kind != "cleared"));
}

#[test]
fn with_the_link_settings_the_replay_shows_the_links_its_alerts_would_carry() {
    let sample = format!("{}/samples/velcro.jsonl", env!("CARGO_MANIFEST_DIR"));
    let secret = "a replay's link secret, 32 bytes or more";
    let out = baton()
        .args(["replay", &sample, "--json", "--until", "2026-04-24T00:00:00Z"])
        .env("BATON_PUBLIC_URL", "https://cases.example.com/")
        .env("BATON_LINK_SECRET", secret)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let signer = baton::link::LinkSigner::new(secret.as_bytes()).unwrap();
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!lines.is_empty());
    // A digest's rows carry the links of their cases: the case page, and acknowledging a breach.
    let digests: Vec<&serde_json::Value> = lines.iter().filter(|l| l["schema"] == "baton.digest.v1").collect();
    let rows: Vec<(Timestamp, &serde_json::Value)> = digests
        .iter()
        .flat_map(|d| {
            d["in_breach"].as_array().unwrap().iter().map(|row| (d["at"].as_str().unwrap().parse().unwrap(), row))
        })
        .collect();
    assert!(!rows.is_empty());
    for (at, row) in rows {
        let url = row["links"]["ack"].as_str().unwrap();
        let grant = signer.verify(url.strip_prefix("https://cases.example.com/l/").unwrap(), at).unwrap();
        assert_eq!(grant.case.as_str(), row["case_id"].as_str().unwrap());
        let level = u8::try_from(row["level"].as_u64().unwrap()).unwrap();
        let clock: ClockKind = row["clock"].as_str().unwrap().parse().unwrap();
        assert_eq!(grant.allows, baton::link::Allows::Ack { clock, level });
    }
    for line in lines.iter().filter(|l| l["schema"] == "baton.alert.v1") {
        let at: Timestamp = line["at"].as_str().unwrap().parse().unwrap();
        let token = |url: &serde_json::Value| {
            let url = url.as_str().unwrap_or_else(|| panic!("no link in {line}"));
            url.strip_prefix("https://cases.example.com/l/").unwrap().to_string()
        };
        let case = signer.verify(&token(&line["links"]["case"]), at).unwrap();
        assert_eq!((case.case.as_str(), case.allows), (line["case_id"].as_str().unwrap(), baton::link::Allows::View));
        if line["kind"] == "cleared" {
            assert!(line["links"].get("ack").is_none(), "{line}");
        } else {
            let ack = signer.verify(&token(&line["links"]["ack"]), at).unwrap();
            let level = u8::try_from(line["level"].as_u64().unwrap()).unwrap();
            let clock: ClockKind = line["clock"].as_str().unwrap().parse().unwrap();
            assert_eq!(ack.allows, baton::link::Allows::Ack { clock, level });
        }
    }
    // One setting without the other is an error that names both, not a replay without links.
    let out = baton().args(["replay", &sample, "--json"]).env("BATON_LINK_SECRET", secret).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("BATON_LINK_SECRET is set but BATON_PUBLIC_URL is not") && !stderr.contains(secret));
}
