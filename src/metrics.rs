//! CloudWatch Embedded Metric Format: JSON lines on stdout that CloudWatch Logs turns into metrics,
//! with no API call from the function. Namespace `Baton`.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::domain::measure::Measure;
use crate::service::SweepReport;

pub const NAMESPACE: &str = "Baton";

/// The sweep's metrics: cases due, alerts and digests sent, alerts left unpublished, cases and outbox alerts left
/// for the next run, cases failed and the sweep's duration (dimension `Function`), then breaches per team and clock
/// (dimensions `Team`, `Clock`).
pub fn sweep(report: &SweepReport, duration: Duration, at: Timestamp) -> Vec<String> {
    let digests_failed = report.unpublished.iter().filter(|e| e.id.starts_with("baton:digest:")).count();
    let alerts_failed = report.unpublished.len() - digests_failed;
    let sent = (report.alerts.len() + report.recovered.len()).saturating_sub(alerts_failed);
    let mut lines = vec![line(
        at,
        &[("Function", "sla-sweep")],
        &[
            ("CasesDue", "Count", report.cases_due as f64),
            ("AlertsSent", "Count", sent as f64),
            ("DigestsSent", "Count", report.digests.len() as f64),
            ("AlertsUnpublished", "Count", report.unpublished.len() as f64),
            ("CasesLeftForNextRun", "Count", report.left_for_next_run as f64),
            ("AlertsLeftForNextRun", "Count", report.alerts_left_for_next_run as f64),
            ("CasesFailed", "Count", report.failed.len() as f64),
            ("SweepDuration", "Milliseconds", duration.as_secs_f64() * 1000.0),
        ],
    )];
    let mut breaches: BTreeMap<(String, String), u32> = BTreeMap::new();
    for (alert, _) in report.alerts.iter().filter(|(a, _)| a.kind == "breach") {
        *breaches.entry((alert.team.to_string(), alert.clock.to_string())).or_default() += 1;
    }
    for ((team, clock), count) in breaches {
        lines.push(line(at, &[("Team", &team), ("Clock", &clock)], &[("Breaches", "Count", f64::from(count))]));
    }
    lines.extend(measures(&report.measures, at));
    lines
}

/// The SLA metrics of what changes did to cases ([`Measure`]s): `ClockMet` (1 when a clock stopped
/// in time, 0 when it breached; dimensions `Team`, `Clock`), so its average is the compliance; and
/// `TimeHeld` and `TimeHeldBusiness` (seconds of a team's hold that ended, calendar and in its
/// hours; dimension `Team`). Starts and tightened clocks emit nothing.
pub fn measures(measures: &[Measure], at: Timestamp) -> Vec<String> {
    measures
        .iter()
        .filter_map(|m| match m {
            Measure::Breached { clock, team, .. } => {
                Some(line(at, &[("Team", team.as_str()), ("Clock", clock.as_str())], &[("ClockMet", "None", 0.0)]))
            }
            Measure::Stopped { clock, team, met: true, .. } => {
                Some(line(at, &[("Team", team.as_str()), ("Clock", clock.as_str())], &[("ClockMet", "None", 1.0)]))
            }
            Measure::Held { team, from, to, business, .. } => Some(line(
                at,
                &[("Team", team.as_str())],
                &[
                    ("TimeHeld", "Seconds", to.duration_since(*from).as_secs_f64()),
                    ("TimeHeldBusiness", "Seconds", business.as_secs_f64()),
                ],
            )),
            Measure::Started { .. } | Measure::Retimed { .. } | Measure::Stopped { .. } => None,
        })
        .collect()
}

/// Prints [`measures`]' lines on stdout, where CloudWatch Logs reads them (the ingest functions).
pub fn print_measures(measures: &[Measure]) {
    for line in self::measures(measures, Timestamp::now()) {
        println!("{line}");
    }
}

/// The CloudWatch dashboard (the `DashboardBody` of the template's `Dashboard`, with the region as
/// `${AWS::Region}` for `!Sub`): compliance per team and clock, time held per team, alerts and
/// digests sent, breaches, and the sweep's duration and cases due. Its one definition: `baton
/// dashboard` prints it, and a test holds the template to it and checks every metric it shows is
/// one the functions emit.
pub fn dashboard() -> Value {
    let region = "${AWS::Region}";
    let search = |dimensions: &str, metric: &str, stat: &str, period: u32| {
        format!("SEARCH('{{{NAMESPACE},{dimensions}}} MetricName=\"{metric}\"', '{stat}', {period})")
    };
    let graph = |x: u32, y: u32, title: &str, metrics: Value, extra: Value| {
        let mut properties = json!({"title": title, "region": region, "view": "timeSeries", "metrics": metrics});
        if let (Some(p), Some(e)) = (properties.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        json!({"type": "metric", "x": x, "y": y, "width": 12, "height": 6, "properties": properties})
    };
    let day = 86_400;
    json!({
        "widgets": [
            graph(0, 0, "Compliance per team and clock (share of clocks met, per day)", json!([[{
                "expression": search("Team,Clock", "ClockMet", "Average", day), "id": "compliance", "period": day
            }]]), json!({"period": day, "stat": "Average", "yAxis": {"left": {"min": 0, "max": 1}}})),
            graph(12, 0, "Time held per team (hours a day)", json!([
                [{"expression": "held / 3600", "id": "hours", "label": ""}],
                [{"expression": search("Team", "TimeHeld", "Sum", day), "id": "held", "visible": false, "period": day}]
            ]), json!({"period": day, "stat": "Sum"})),
            graph(0, 6, "Alerts and digests sent", json!([
                [NAMESPACE, "AlertsSent", "Function", "sla-sweep", {"stat": "Sum"}],
                [NAMESPACE, "DigestsSent", "Function", "sla-sweep", {"stat": "Sum"}],
                [{"expression": search("Team,Clock", "Breaches", "Sum", 3600), "id": "breaches", "period": 3600}]
            ]), json!({"period": 3600, "stat": "Sum"})),
            graph(12, 6, "The sweep: duration and cases due", json!([
                [NAMESPACE, "SweepDuration", "Function", "sla-sweep", {"stat": "Maximum"}],
                [NAMESPACE, "CasesDue", "Function", "sla-sweep", {"stat": "Maximum", "yAxis": "right"}],
                [NAMESPACE, "CasesLeftForNextRun", "Function", "sla-sweep", {"stat": "Maximum", "yAxis": "right"}]
            ]), json!({"period": 300}))
        ]
    })
}

fn line(at: Timestamp, dimensions: &[(&str, &str)], metrics: &[(&str, &str, f64)]) -> String {
    let mut body = json!({
        "_aws": {
            "Timestamp": at.as_millisecond(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions.iter().map(|(name, _)| *name).collect::<Vec<_>>()],
                "Metrics": metrics.iter().map(|(name, unit, _)| json!({"Name": name, "Unit": unit})).collect::<Vec<_>>(),
            }]
        }
    });
    let object = body.as_object_mut().expect("an object");
    for (name, value) in dimensions {
        object.insert((*name).to_string(), Value::from(*value));
    }
    for (name, _, value) in metrics {
        object.insert((*name).to_string(), json!(value));
    }
    body.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::alert::Alert;
    use crate::domain::case::{Event, EventKind};

    fn alert(kind: &str, team: &str) -> (Alert, Event) {
        let at: Timestamp = "2026-04-13T14:00:00Z".parse().unwrap();
        let alert: Alert = serde_json::from_value(json!({
            "schema": "baton.alert.v1", "kind": kind, "case_id": "BTN-7K3QF9", "clock": "first_response",
            "level": 1, "team": team, "region": null, "priority": "normal", "channels": ["email"],
            "due_at": at, "at": at, "customer_waiting_since": at, "summary": "s", "timeline": []
        }))
        .unwrap();
        let event = Event::from(crate::domain::case::EventData {
            at,
            source: "s".into(),
            kind: EventKind::ConfirmationExpired,
            owner: team.parse().unwrap(),
            marks: Default::default(),
            excerpt: None,
            refs: Vec::new(),
            by: None,
            request: None,
        });
        (alert, event)
    }

    #[test]
    fn the_sweep_emits_embedded_metric_lines() {
        let report = SweepReport {
            cases_due: 3,
            alerts: vec![alert("breach", "central"), alert("breach", "central"), alert("warning", "social")],
            ..SweepReport::default()
        };
        let at: Timestamp = "2026-04-13T14:00:30Z".parse().unwrap();
        let lines: Vec<Value> =
            sweep(&report, Duration::from_millis(250), at).iter().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        let totals = &lines[0];
        assert_eq!(totals["_aws"]["Timestamp"], at.as_millisecond());
        assert_eq!(totals["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Baton");
        assert_eq!(totals["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Function"]]));
        assert_eq!((totals["CasesDue"].as_f64(), totals["AlertsSent"].as_f64()), (Some(3.0), Some(3.0)));
        assert_eq!(totals["SweepDuration"].as_f64(), Some(250.0));
        // Every metric the directive names is in the line.
        for metric in totals["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap() {
            assert!(totals[metric["Name"].as_str().unwrap()].is_number(), "{metric}");
        }
        let breaches = &lines[1];
        assert_eq!(breaches["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Team", "Clock"]]));
        assert_eq!((breaches["Team"].as_str(), breaches["Clock"].as_str()), (Some("central"), Some("first_response")));
        assert_eq!(breaches["Breaches"].as_f64(), Some(2.0));
    }
}
