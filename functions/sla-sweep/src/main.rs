//! `sla-sweep`: run every minute by an EventBridge schedule. It publishes what an earlier run left in
//! the outbox, then sweeps the due cases (16 at a time) and publishes their alerts to SNS. It starts
//! no case in the last 10 seconds before the Lambda deadline; those stay due for the next run.
//!
//! Environment: `BATON_TABLE`, `BATON_TOPIC_ARN`, optionally `BATON_POLICY`, and the AWS SDK's own.
//! Logs are JSON when the function's log format is JSON; metrics are CloudWatch EMF lines on stdout.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::eventbridge::EventBridgeEvent;
use baton::config;
use baton::notify::sns::SnsNotifier;
use baton::service::{Baton, SweepOptions};
use baton::store::dynamo::DynamoStore;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

/// No case is started this close to the deadline.
const DEADLINE_MARGIN: Duration = Duration::from_secs(10);

type Service = Baton<DynamoStore, SnsNotifier>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (table, topic, policy) = config::or_exit("sla-sweep", read_config());
    let aws = aws_config::load_from_env().await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
    let notifier = SnsNotifier::new(aws_sdk_sns::Client::new(&aws), topic);
    let baton = Arc::new(Baton::new(store, notifier, Arc::new(policy)));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<EventBridgeEvent<Value>>| {
        let baton = baton.clone();
        async move { sweep(&baton, event).await }
    }))
    .await
}

fn read_config() -> Result<(String, String, baton::domain::policy::Policy), config::ConfigError> {
    Ok((config::table()?, config::topic()?, config::policy()?))
}

async fn sweep(baton: &Service, event: LambdaEvent<EventBridgeEvent<Value>>) -> Result<Value, Error> {
    let started = tokio::time::Instant::now();
    tracing::debug!(scheduled = ?event.payload.time, "sweep");
    let now = jiff::Timestamp::now();
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let left = Duration::from_millis(event.context.deadline).saturating_sub(since_epoch);
    let options =
        SweepOptions { stop_at: Some(started + left.saturating_sub(DEADLINE_MARGIN)), ..SweepOptions::default() };
    let report = baton.sweep_with(now, &options).await?;
    for line in baton::metrics::sweep(&report, started.elapsed(), now) {
        println!("{line}");
    }
    for e in &report.unpublished {
        tracing::error!(alert = %e.id, reason = %e.reason, "alert not published; it stays in the outbox");
    }
    for (case, reason) in &report.failed {
        tracing::error!(case = %case, reason = %reason, "sweeping the case failed");
    }
    let summary = json!({
        "cases_due": report.cases_due,
        "alerts": report.alerts.len(),
        "recovered": report.recovered.len(),
        "unpublished": report.unpublished.len(),
        "left_for_next_run": report.left_for_next_run,
        "alerts_left_for_next_run": report.alerts_left_for_next_run,
        "failed": report.failed.len(),
    });
    tracing::info!(%summary, "sweep done");
    if !report.unpublished.is_empty() || !report.failed.is_empty() {
        // A failed invocation shows in the function's error metric; the work is kept for the next run.
        return Err(format!("sweep incomplete: {summary}").into());
    }
    Ok(summary)
}
