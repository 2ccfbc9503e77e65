//! `sla-sweep`: the EventBridge schedule's target. One run of the sweep with the Lambda deadline
//! (less a margin) as its stop, its metrics as CloudWatch EMF lines, and its failures logged.

use std::time::Duration;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::notify::Notifier;
use crate::service::{ServiceError, Sweep, SweepOptions};
use crate::store::{Remove, Schedule, Teams};

/// No case is started this close to the deadline.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(10);

/// What one run did.
#[derive(Debug)]
pub struct SweepRun {
    /// Counts, for the invocation's result and the log.
    pub summary: Value,
    /// CloudWatch EMF lines, to print on stdout.
    pub metrics: Vec<String>,
    /// Alerts left unpublished or cases failed: the work waits for the next run, and the invocation
    /// should fail so the function's error metric shows it.
    pub incomplete: bool,
}

/// Sweeps at `now`, starting nothing once less than [`DEADLINE_MARGIN`] of `time_left` remains.
pub async fn handle<S: Schedule + Remove + Teams, N: Notifier>(
    sweep: &Sweep<'_, S, N>,
    event: &EventBridgeEvent<Value>,
    now: Timestamp,
    time_left: Duration,
) -> Result<SweepRun, ServiceError> {
    let started = tokio::time::Instant::now();
    tracing::debug!(scheduled = ?event.time, "sweep");
    let options =
        SweepOptions { stop_at: Some(started + time_left.saturating_sub(DEADLINE_MARGIN)), ..SweepOptions::default() };
    let report = sweep.sweep_with(now, &options).await?;
    let metrics = crate::metrics::sweep(&report, started.elapsed(), now);
    for e in &report.unpublished {
        tracing::error!(id = %e.id, reason = %e.reason, "not published; it stays in the outbox");
    }
    for (case, reason) in &report.failed {
        tracing::error!(case = %case, reason = %reason, "sweeping the case failed");
    }
    for (team, reason) in &report.digests_failed {
        tracing::error!(team = %team, reason = %reason, "the team's daily digest failed; the next run tries again");
    }
    let summary = json!({
        "cases_due": report.cases_due,
        "alerts": report.alerts.len(),
        "recovered": report.recovered.len(),
        "digests": report.digests.len(),
        "unpublished": report.unpublished.len(),
        "left_for_next_run": report.left_for_next_run,
        "alerts_left_for_next_run": report.alerts_left_for_next_run,
        "failed": report.failed.len(),
        "digests_failed": report.digests_failed.len(),
    });
    tracing::info!(%summary, "sweep done");
    let incomplete = !report.unpublished.is_empty() || !report.failed.is_empty() || !report.digests_failed.is_empty();
    Ok(SweepRun { summary, metrics, incomplete })
}
