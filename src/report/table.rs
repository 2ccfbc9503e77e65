//! The report as text for a terminal: three aligned tables (teams, clocks, handoffs). Rows where
//! nothing happened are left out; the JSON and CSV keep every team and clock.

use std::fmt::Write;

use super::{Report, TeamReport};
use crate::domain::duration::human;

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "-".to_string(), |s| format!("{:.1}%", s * 100.0))
}

fn seconds(value: Option<i64>) -> String {
    value.map_or_else(|| "-".to_string(), human)
}

fn active(team: &TeamReport) -> bool {
    team.time_held_s > 0 || team.clocks.values().any(|c| c.started + c.met + c.breached + c.running > 0)
}

/// The report as aligned text.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let window = match report.from {
        Some(from) => {
            format!("{} to {}", from.strftime("%Y-%m-%d %H:%M UTC"), report.to.strftime("%Y-%m-%d %H:%M UTC"))
        }
        None => format!("everything before {}", report.to.strftime("%Y-%m-%d %H:%M UTC")),
    };
    let teams: Vec<&TeamReport> = report.teams.iter().filter(|t| active(t)).collect();
    let _ = writeln!(out, "SLA report: {window}");
    if teams.is_empty() {
        let _ = writeln!(out, "\nNothing happened in this window.");
        return out;
    }
    let _ = writeln!(out, "\n{:<12} {:<6} {:>12} {:>12} {:>6}", "team", "region", "time held", "business", "cases");
    for t in &teams {
        let _ = writeln!(
            out,
            "{:<12} {:<6} {:>12} {:>12} {:>6}",
            t.team,
            t.region.as_deref().unwrap_or("-"),
            human(t.time_held_s),
            human(t.time_held_business_s),
            t.cases_held
        );
    }
    let _ = writeln!(
        out,
        "\n{:<12} {:<18} {:>7} {:>5} {:>8} {:>7} {:>10}",
        "team", "clock", "started", "met", "breached", "running", "compliance"
    );
    for t in &teams {
        for (kind, c) in &t.clocks {
            if c.started + c.met + c.breached + c.running == 0 {
                continue;
            }
            let _ = writeln!(
                out,
                "{:<12} {:<18} {:>7} {:>5} {:>8} {:>7} {:>10}",
                t.team,
                kind.as_str(),
                c.started,
                c.met,
                c.breached,
                c.running,
                percent(c.compliance)
            );
        }
    }
    let handoffs: Vec<&&TeamReport> = teams
        .iter()
        .filter(|t| t.handoffs.received + t.handoffs.accepted + t.handoffs.open_by_age.total() > 0)
        .collect();
    if !handoffs.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<12} {:>8} {:>8} {:>9} {:>8} {:>8}   {:>4} {:>4} {:>4} {:>5}",
            "handoffs to", "received", "accepted", "in target", "median", "p90", "<4h", "<1d", "<1w", "older"
        );
        for t in handoffs {
            let h = &t.handoffs;
            let _ = writeln!(
                out,
                "{:<12} {:>8} {:>8} {:>9} {:>8} {:>8}   {:>4} {:>4} {:>4} {:>5}",
                t.team,
                h.received,
                h.accepted,
                h.accepted_in_target,
                seconds(h.median_accept_s),
                seconds(h.p90_accept_s),
                h.open_by_age.under_4h,
                h.open_by_age.under_1d,
                h.open_by_age.under_1w,
                h.open_by_age.older
            );
        }
        let _ = writeln!(out, "(time to accept: business time of the receiving team; open handoffs by age at the end)");
    }
    out
}
