//! The report as one self-contained HTML page: maud templates, inline CSS, charts as inline SVG
//! ([`super::chart`]), and the same Content-Security-Policy as the case page in a `<meta>`, so no
//! script, font, image or stylesheet is loaded from anywhere, even from a saved copy. One column,
//! phone first; tables scroll sideways inside their box on a narrow screen, never the page.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::chart::{self, Row};
use super::{Report, TeamReport};
use crate::domain::clock::ClockKind;
use crate::domain::duration::human;
use crate::page::META_CONTENT_SECURITY_POLICY;

const CSS: &str = r#"
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:#f4f4f5;color:#18181b;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:64rem;margin:0 auto;padding:.75rem}
header{padding:.5rem .25rem 1rem}
.brand{margin:0;color:#52525b;font-size:.85rem;letter-spacing:.04em;text-transform:uppercase}
h1{margin:.1rem 0 .4rem;font-size:1.75rem;line-height:1.15}
h2{margin:0 0 .75rem;font-size:1.15rem}
h3{margin:1rem 0 .4rem;font-size:1rem}
section{background:#fff;border:1px solid #e4e4e7;border-radius:12px;padding:1rem;margin:0 0 .9rem;min-width:0}
figure{margin:0}
figure svg{display:block;width:100%;height:auto;max-width:34rem}
figcaption,.small{font-size:.875rem;color:#52525b;margin:.5rem 0 0}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:.85rem;width:100%}
th,td{padding:.3rem .35rem;text-align:right;border-bottom:1px solid #e4e4e7;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
thead th{color:#52525b;font-weight:600}
.none{color:#a1a1aa}
footer{color:#52525b;font-size:.85rem;padding:0 .25rem 2rem}
@media (min-width:48rem){
 main{padding:1.5rem}
 h1{font-size:2.1rem}
 table{font-size:.9rem}
 th,td{padding:.3rem .6rem}
 .charts{display:grid;grid-template-columns:1fr 1fr;gap:0 .9rem;align-items:start}
 .charts section.wide{grid-column:1/-1}
}
"#;

/// The report page.
pub fn render(report: &Report) -> String {
    page(report).into_string()
}

fn instant(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

fn active(team: &TeamReport) -> bool {
    team.time_held_s > 0 || team.clocks.values().any(|c| c.started + c.met + c.breached + c.running > 0)
}

fn compliance_rows(report: &Report) -> Vec<Row> {
    let mut rows = Vec::new();
    for team in &report.teams {
        let decided: Vec<(ClockKind, f64, u64, u64)> = team
            .clocks
            .iter()
            .filter_map(|(kind, c)| Some((*kind, c.compliance?, c.met, c.met + c.breached)))
            .collect();
        if decided.is_empty() {
            continue;
        }
        rows.push(Row::Heading(team.team.clone()));
        for (kind, share, met, of) in decided {
            rows.push(Row::Bar {
                label: kind.as_str().to_string(),
                value: format!("{} · {met} of {of}", percent(share)),
                share,
                color: chart::compliance_color(share),
            });
        }
    }
    rows
}

fn held_rows(report: &Report) -> Vec<Row> {
    let longest = report.teams.iter().map(|t| t.time_held_s).max().unwrap_or(0).max(1);
    report
        .teams
        .iter()
        .filter(|t| t.time_held_s > 0)
        .map(|t| Row::Bar {
            label: format!("{} · {} case{}", t.team, t.cases_held, if t.cases_held == 1 { "" } else { "s" }),
            value: format!("{} ({} business)", human(t.time_held_s), human(t.time_held_business_s)),
            share: t.time_held_s as f64 / longest as f64,
            color: chart::BLUE,
        })
        .collect()
}

fn accept_rows(report: &Report) -> Vec<Row> {
    let longest = report.teams.iter().filter_map(|t| t.handoffs.p90_accept_s).max().unwrap_or(0).max(1);
    let mut rows = Vec::new();
    for team in &report.teams {
        let (Some(median), Some(p90)) = (team.handoffs.median_accept_s, team.handoffs.p90_accept_s) else { continue };
        rows.push(Row::Heading(format!("{} · {} accepted", team.team, team.handoffs.accepted)));
        for (label, seconds, color) in [("median", median, chart::BLUE), ("90th percentile", p90, chart::ORANGE)] {
            rows.push(Row::Bar {
                label: label.to_string(),
                value: human(seconds),
                share: seconds as f64 / longest as f64,
                color,
            });
        }
    }
    rows
}

fn chart(rows: &[Row], empty: &str) -> Markup {
    if rows.is_empty() {
        return html! { p.small { (empty) } };
    }
    match chart::bars(rows) {
        Ok(svg) => html! { (PreEscaped(svg)) },
        Err(e) => html! { p.small { "The chart could not be drawn: " (e) } },
    }
}

fn optional(value: Option<String>) -> Markup {
    match value {
        Some(text) => html! { (text) },
        None => html! { span.none { "–" } },
    }
}

fn page(report: &Report) -> Markup {
    let window = match report.from {
        Some(from) => format!("{} to {}", instant(from), instant(report.to)),
        None => format!("everything before {}", instant(report.to)),
    };
    let teams: Vec<&TeamReport> = report.teams.iter().filter(|t| active(t)).collect();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="Content-Security-Policy" content=(META_CONTENT_SECURITY_POLICY);
                meta name="referrer" content="no-referrer";
                meta name="robots" content="noindex, nofollow";
                title { "Baton SLA report · " (window) }
                style { (PreEscaped(CSS)) }
            }
            body { main {
                header {
                    p.brand { "Baton · SLA report" }
                    h1 { "Which team used up the time" }
                    p.small { (window) " · " (teams.len()) " of " (report.teams.len()) " teams active" }
                }
                div.charts {
                    section aria-labelledby="compliance" {
                        h2 #compliance { "Compliance per team and clock" }
                        figure {
                            (chart(&compliance_rows(report), "No clock stopped or breached in this window."))
                            figcaption { "Clocks met out of clocks met or breached." }
                        }
                    }
                    section aria-labelledby="held" {
                        h2 #held { "Time held per team" }
                        figure {
                            (chart(&held_rows(report), "No team held a case in this window."))
                            figcaption { "Calendar time each team held cases, its business hours in brackets." }
                        }
                    }
                    section.wide aria-labelledby="accept" {
                        h2 #accept { "Time to accept a handoff" }
                        figure {
                            (chart(&accept_rows(report), "No handoff was accepted in this window."))
                            figcaption { "Business time of the receiving team from the handoff to its acceptance." }
                        }
                        h3 { "Handoffs per receiving team" }
                        div.scroll { table {
                            thead { tr {
                                th { "team" } th { "received" } th { "accepted" } th { "in target" }
                                th { "open <4h" } th { "<1d" } th { "<1w" } th { "older" }
                            } }
                            tbody { @for t in &teams { tr {
                                td { (t.team) }
                                td { (t.handoffs.received) } td { (t.handoffs.accepted) }
                                td { (t.handoffs.accepted_in_target) }
                                td { (t.handoffs.open_by_age.under_4h) } td { (t.handoffs.open_by_age.under_1d) }
                                td { (t.handoffs.open_by_age.under_1w) } td { (t.handoffs.open_by_age.older) }
                            } } }
                        } }
                    }
                }
                @for t in &teams {
                    section aria-label=(t.team) {
                        h2 { (t.team) @if let Some(region) = &t.region { " (" (region) ")" } }
                        p.small {
                            "Held " (t.cases_held) " case" @if t.cases_held != 1 { "s" } " for "
                            (human(t.time_held_s)) " (" (human(t.time_held_business_s)) " in business hours)."
                        }
                        div.scroll { table {
                            thead { tr {
                                th { "clock" } th { "started" } th { "met" } th { "breached" } th { "running" }
                                th { "compliance" }
                            } }
                            tbody { @for (kind, c) in &t.clocks {
                                @if c.started + c.met + c.breached + c.running > 0 { tr {
                                    td { (kind.as_str()) } td { (c.started) } td { (c.met) } td { (c.breached) }
                                    td { (c.running) } td { (optional(c.compliance.map(percent))) }
                                } }
                            } }
                        } }
                    }
                }
                footer {
                    p {
                        "Runs count by the instant they started, stopped met, or breached in the window; running "
                        "clocks and open handoffs as of its end. Compliance is met / (met + breached). "
                        "Schema " code { (report.schema) } "; "
                        (report.teams.len() - teams.len()) " teams with nothing to show are left out here."
                    }
                }
            } }
        }
    }
}
