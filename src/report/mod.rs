//! `baton report`: what the clocks and holds of many cases add up to, per team and clock, over a
//! window of time (docs/design.md, "Reports and the daily digest"; the JSON is a contract).
//!
//! A report is computed from the measures of every whole case ([`measure::history`]), never from
//! alerts or stored counters, so the replay of a timeline and the cases read from the table give the
//! same figures. The counting rules on top of the measures' own:
//! - **Window** `[from, to)`: a run counts as started, met or breached by the instant it started,
//!   stopped met, or breached (its due time); `running` is every run started before `to` and not
//!   stopped by then, wherever it started. Holds are clipped to the window; a hold still going on at
//!   `to` counts up to `to`.
//! - Each measure counts for the team it names ([`Measure::team`]): a run started by `central` and
//!   stopped after a handoff to `support-ch` is started for `central` and met (or not) for
//!   `support-ch`. A running run counts for the team that holds it at `to` (the case's owner then).
//! - A run that breached and still runs counts as breached and as running; one that stopped counts
//!   as met or as breached, never both. So `compliance = met / (met + breached)` (`None` when
//!   neither), and a run can be started in one window and met in the next.
//! - Handoffs are the `handoff_accept` runs of the receiving team: `received` its starts, `accepted`
//!   the stops the team took up (`accepted` of [`Measure::Stopped`]), `accepted_in_target` those
//!   also met.
//!   Time to acceptance is the clock's own elapsed time (business time of the receiving team) of
//!   accepted runs; the median and 90th percentile use the nearest-rank method (the smallest value
//!   with at least p% of the values at or below it; the median of an even count is the lower
//!   middle value). Open handoffs are the runs still running at `to`, by their calendar age then.

pub mod chart;
pub mod csv;
pub mod html;
pub mod progress;
pub mod source;
pub mod table;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::domain::case::Whole;
use crate::domain::clock::ClockKind;
use crate::domain::ids::{CaseId, TeamId};
use crate::domain::measure::{self, Measure};
use crate::domain::policy::Policy;

/// The `schema` of the JSON report.
pub const SCHEMA: &str = "baton.report.v1";

/// The window a report counts: `[from, to)`, `from` unbounded when `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: Option<Timestamp>,
    pub to: Timestamp,
}

impl Window {
    pub fn contains(&self, at: Timestamp) -> bool {
        self.from.is_none_or(|from| at >= from) && at < self.to
    }

    /// The part of `[a, b)` inside the window, if any.
    fn clip(&self, a: Timestamp, b: Timestamp) -> Option<(Timestamp, Timestamp)> {
        let a = self.from.map_or(a, |from| a.max(from));
        let b = b.min(self.to);
        (b > a).then_some((a, b))
    }
}

/// Reads `--from`/`--to`: a date (`2026-04-20`, midnight UTC, the start of that day for every team
/// alike) or an RFC 3339 instant (`2026-04-20T08:00:00+02:00`).
pub fn parse_instant(text: &str) -> Result<Timestamp, String> {
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at);
    }
    match text.parse::<jiff::civil::Date>() {
        Ok(date) => date.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()).map_err(|e| format!("`{text}`: {e}")),
        Err(_) => {
            Err(format!("`{text}` is neither a date (2026-04-20) nor an RFC 3339 instant (2026-04-20T08:00:00Z)"))
        }
    }
}

/// The report: `baton.report.v1`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub schema: &'static str,
    /// The window's start; `null` when it is unbounded (everything before `to`).
    pub from: Option<Timestamp>,
    /// The window's end (excluded), and the instant running clocks and open handoffs are seen at.
    pub to: Timestamp,
    /// Every team of the policy, and any other team a case names (a team since removed from the
    /// policy), in the order of their names.
    pub teams: Vec<TeamReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamReport {
    pub team: String,
    /// The team's region in the policy (`null` when it has none).
    pub region: Option<String>,
    /// Calendar seconds the team held cases in the window.
    pub time_held_s: i64,
    /// The same, counting only the team's business hours (its calendar).
    pub time_held_business_s: i64,
    /// Distinct cases the team held at some point in the window.
    pub cases_held: u64,
    /// Every clock, in the order of [`ClockKind::ALL`].
    pub clocks: BTreeMap<ClockKind, ClockFigures>,
    pub handoffs: Handoffs,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ClockFigures {
    pub started: u64,
    pub met: u64,
    pub breached: u64,
    pub running: u64,
    /// `met / (met + breached)`, from 0 to 1; `null` when neither.
    pub compliance: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Handoffs {
    pub received: u64,
    pub accepted: u64,
    pub accepted_in_target: u64,
    /// Business seconds of the receiving team, nearest rank; `null` when none was accepted.
    pub median_accept_s: Option<i64>,
    pub p90_accept_s: Option<i64>,
    /// Handoffs to the team not accepted by `to`, by calendar age at `to`.
    pub open_by_age: OpenByAge,
}

/// Open handoffs by calendar age: under 4 hours, under a day, under a week, a week or more.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OpenByAge {
    pub under_4h: u64,
    pub under_1d: u64,
    pub under_1w: u64,
    pub older: u64,
}

impl OpenByAge {
    fn count(&mut self, age: SignedDuration) {
        let hours = age.as_hours();
        let bucket = match hours {
            h if h < 4 => &mut self.under_4h,
            h if h < 24 => &mut self.under_1d,
            h if h < 7 * 24 => &mut self.under_1w,
            _ => &mut self.older,
        };
        *bucket += 1;
    }

    pub fn total(&self) -> u64 {
        self.under_4h + self.under_1d + self.under_1w + self.older
    }
}

/// The nearest-rank `p`th percentile (0 < p <= 100) of `values` (sorted here): the value at rank
/// `ceil(p / 100 * n)`. `None` for no values.
pub fn percentile(values: &mut [i64], p: u32) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len() as u64;
    let rank = (u64::from(p) * n).div_ceil(100).clamp(1, n);
    values.get(usize::try_from(rank - 1).ok()?).copied()
}

#[derive(Default)]
struct Tally {
    held: SignedDuration,
    held_business: SignedDuration,
    cases: BTreeSet<CaseId>,
    clocks: BTreeMap<ClockKind, ClockFigures>,
    handoffs: Handoffs,
    accept_times: Vec<i64>,
}

impl Tally {
    fn clock(&mut self, kind: ClockKind) -> &mut ClockFigures {
        self.clocks.entry(kind).or_default()
    }
}

/// A run across a case and its continuations: the first case of the chain, the clock, its start.
type RunKey = (CaseId, ClockKind, Timestamp);

/// The first case of the chain `id` belongs to (a continuation continues a full case).
fn root<'a>(continues: &HashMap<&'a CaseId, &'a CaseId>, mut id: &'a CaseId) -> CaseId {
    // A chain is never longer than the cases; the bound only guards against a malformed loop.
    for _ in 0..=continues.len() {
        match continues.get(id) {
            Some(previous) => id = previous,
            None => break,
        }
    }
    id.clone()
}

/// The report over `cases` (each whole: a replay's cases, or the table's) in `window`.
pub fn compute(cases: &[Whole], policy: &Policy, window: Window) -> Report {
    let mut tallies: BTreeMap<TeamId, Tally> = policy.teams.keys().map(|t| (t.clone(), Tally::default())).collect();
    // A full case goes on in a continuation: its runs and holds are one chain's.
    let continues: HashMap<&CaseId, &CaseId> = cases.iter().filter_map(|c| Some((c.id(), c.continues()?))).collect();
    // Every run seen started before `to`: when it stopped, if it did.
    let mut runs: BTreeMap<RunKey, Option<Timestamp>> = BTreeMap::new();
    // Per chain, the owner at `to`: the owner after the chain's last event before `to`.
    let mut owners: BTreeMap<CaseId, (Timestamp, TeamId)> = BTreeMap::new();

    for case in cases {
        let chain = root(&continues, case.id());
        for m in measure::history(case, policy) {
            let tally = tallies.entry(m.team().clone()).or_default();
            match m {
                Measure::Started { clock, started_at, .. } => {
                    if window.contains(started_at) {
                        tally.clock(clock).started += 1;
                        if clock == ClockKind::HandoffAccept {
                            tally.handoffs.received += 1;
                        }
                    }
                    if started_at < window.to {
                        runs.entry((chain.clone(), clock, started_at)).or_insert(None);
                    }
                }
                Measure::Breached { clock, due_at, .. } => {
                    if window.contains(due_at) {
                        tally.clock(clock).breached += 1;
                    }
                }
                Measure::Stopped { clock, started_at, at, elapsed, met, accepted, .. } => {
                    if window.contains(at) {
                        if met {
                            tally.clock(clock).met += 1;
                        }
                        if clock == ClockKind::HandoffAccept && accepted {
                            tally.handoffs.accepted += 1;
                            tally.handoffs.accepted_in_target += u64::from(met);
                            tally.accept_times.push(elapsed.as_secs());
                        }
                    }
                    if started_at < window.to {
                        runs.insert((chain.clone(), clock, started_at), Some(at));
                    }
                }
                Measure::Retimed { clock, from, started_at, .. } => {
                    // The same run, known from here on by its new start.
                    if let Some(stopped) = runs.remove(&(chain.clone(), clock, from)) {
                        runs.insert((chain.clone(), clock, started_at), stopped);
                    }
                }
                Measure::Held { team, from, to, .. } => {
                    if let Some((a, b)) = window.clip(from, to) {
                        tally.held += b.duration_since(a);
                        tally.held_business += policy.calendar(&team).between(a, b);
                        tally.cases.insert(chain.clone());
                    }
                }
            }
        }
        // The hold going on at the end of the case's history counts up to `to`.
        if !case.is_closed()
            && let Some((a, b)) = window.clip(case.owner_since(), window.to)
        {
            let tally = tallies.entry(case.owner().clone()).or_default();
            tally.held += b.duration_since(a);
            tally.held_business += policy.calendar(case.owner()).between(a, b);
            tally.cases.insert(chain.clone());
        }
        if let Some(last) = case.timeline().iter().rev().find(|e| e.at < window.to) {
            let entry = owners.entry(chain).or_insert((last.at, last.owner.clone()));
            if last.at >= entry.0 {
                *entry = (last.at, last.owner.clone());
            }
        }
    }

    for ((chain, clock, started_at), stopped) in runs {
        if stopped.is_some_and(|at| at < window.to) {
            continue;
        }
        let Some((_, team)) = owners.get(&chain) else { continue };
        let tally = tallies.entry(team.clone()).or_default();
        tally.clock(clock).running += 1;
        if clock == ClockKind::HandoffAccept {
            tally.handoffs.open_by_age.count(window.to.duration_since(started_at));
        }
    }

    let teams = tallies
        .into_iter()
        .map(|(team, mut tally)| {
            let clocks = ClockKind::ALL
                .into_iter()
                .map(|kind| {
                    let mut figures = tally.clocks.get(&kind).copied().unwrap_or_default();
                    let decided = figures.met + figures.breached;
                    figures.compliance = (decided > 0).then(|| figures.met as f64 / decided as f64);
                    (kind, figures)
                })
                .collect();
            let mut handoffs = std::mem::take(&mut tally.handoffs);
            handoffs.median_accept_s = percentile(&mut tally.accept_times, 50);
            handoffs.p90_accept_s = percentile(&mut tally.accept_times, 90);
            TeamReport {
                region: policy.region(&team).map(str::to_string),
                team: team.to_string(),
                time_held_s: tally.held.as_secs(),
                time_held_business_s: tally.held_business.as_secs(),
                cases_held: tally.cases.len() as u64,
                clocks,
                handoffs,
            }
        })
        .collect();
    Report { schema: SCHEMA, from: window.from, to: window.to, teams }
}

/// The report's formats (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Csv,
    Html,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "table" => Ok(Self::Table),
            "json" => Ok(Self::Json),
            "csv" => Ok(Self::Csv),
            "html" => Ok(Self::Html),
            other => Err(format!("unknown format `{other}`: one of table, json, csv, html")),
        }
    }
}

/// Writes `report` in `format` to `out`.
pub fn write(report: &Report, format: Format, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    match format {
        Format::Table => out.write_all(table::render(report).as_bytes()),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report).map_err(std::io::Error::other)?;
            writeln!(out)
        }
        Format::Csv => csv::write(report, out),
        Format::Html => out.write_all(html::render(report).as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(percentile(&mut [], 50), None);
        assert_eq!(percentile(&mut [7], 90), Some(7));
        // n = 4: the median is rank ceil(2) = 2, the lower middle; p90 rank ceil(3.6) = 4.
        assert_eq!(percentile(&mut [40, 10, 30, 20], 50), Some(20));
        assert_eq!(percentile(&mut [40, 10, 30, 20], 90), Some(40));
        // n = 10: p90 is rank 9.
        let mut ten: Vec<i64> = (1..=10).rev().collect();
        assert_eq!(percentile(&mut ten, 90), Some(9));
        assert_eq!(percentile(&mut ten, 50), Some(5));
    }

    #[test]
    fn dates_are_midnight_utc_and_instants_are_read_as_written() {
        assert_eq!(parse_instant("2026-04-20").unwrap(), "2026-04-20T00:00:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(
            parse_instant("2026-04-20T08:00:00+02:00").unwrap(),
            "2026-04-20T06:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert!(parse_instant("20.4.2026").unwrap_err().contains("neither a date"));
        assert!(parse_instant("2026-02-30").is_err());
    }

    #[test]
    fn open_handoffs_fall_in_their_age_bucket() {
        let mut open = OpenByAge::default();
        for hours in [0, 3, 4, 23, 24, 167, 168, 1000] {
            open.count(SignedDuration::from_hours(hours));
        }
        assert_eq!(open, OpenByAge { under_4h: 2, under_1d: 2, under_1w: 2, older: 2 });
        assert_eq!(open.total(), 8);
    }

    #[test]
    fn the_window_is_half_open_and_clips_holds() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let w = Window { from: Some(t("2026-04-20T00:00:00Z")), to: t("2026-04-21T00:00:00Z") };
        assert!(w.contains(t("2026-04-20T00:00:00Z")) && !w.contains(t("2026-04-21T00:00:00Z")));
        assert_eq!(
            w.clip(t("2026-04-19T12:00:00Z"), t("2026-04-22T00:00:00Z")),
            Some((t("2026-04-20T00:00:00Z"), t("2026-04-21T00:00:00Z")))
        );
        assert_eq!(w.clip(t("2026-04-21T00:00:00Z"), t("2026-04-22T00:00:00Z")), None);
    }
}
