//! The report as CSV for a spreadsheet: one row per team and clock, every team and clock (zeros
//! included), with a header row. Columns:
//!
//! `team, region, clock, started, met, breached, running, compliance` (a fraction from 0 to 1, empty
//! when no run was met or breached), then the team's handoff figures on its `handoff_accept` row
//! only (`received, accepted, accepted_in_target, median_accept_s, p90_accept_s, open_under_4h,
//! open_under_1d, open_under_1w, open_older`; empty on the other rows), then the team's
//! `time_held_s, time_held_business_s, cases_held`, the same on each of its rows (take them from one
//! row, do not add them up). Instants are not repeated: the window is the JSON's.

use crate::domain::clock::ClockKind;

use super::Report;

const HEADER: [&str; 20] = [
    "team",
    "region",
    "clock",
    "started",
    "met",
    "breached",
    "running",
    "compliance",
    "received",
    "accepted",
    "accepted_in_target",
    "median_accept_s",
    "p90_accept_s",
    "open_under_4h",
    "open_under_1d",
    "open_under_1w",
    "open_older",
    "time_held_s",
    "time_held_business_s",
    "cases_held",
];

fn optional<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// Writes the rows to `out`.
pub fn write(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    writer.write_record(HEADER)?;
    for team in &report.teams {
        for (kind, c) in &team.clocks {
            let mut row = vec![
                team.team.clone(),
                team.region.clone().unwrap_or_default(),
                kind.as_str().to_string(),
                c.started.to_string(),
                c.met.to_string(),
                c.breached.to_string(),
                c.running.to_string(),
                optional(c.compliance),
            ];
            let h = &team.handoffs;
            if *kind == ClockKind::HandoffAccept {
                row.extend([
                    h.received.to_string(),
                    h.accepted.to_string(),
                    h.accepted_in_target.to_string(),
                    optional(h.median_accept_s),
                    optional(h.p90_accept_s),
                    h.open_by_age.under_4h.to_string(),
                    h.open_by_age.under_1d.to_string(),
                    h.open_by_age.under_1w.to_string(),
                    h.open_by_age.older.to_string(),
                ]);
            } else {
                row.extend(std::iter::repeat_n(String::new(), 9));
            }
            row.extend([
                team.time_held_s.to_string(),
                team.time_held_business_s.to_string(),
                team.cases_held.to_string(),
            ]);
            writer.write_record(&row)?;
        }
    }
    writer.flush()
}
