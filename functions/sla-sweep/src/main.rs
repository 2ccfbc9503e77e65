//! `sla-sweep`: run every minute by an EventBridge schedule. It publishes what an earlier run left in
//! the outbox, then sweeps the due cases (16 at a time) and publishes their alerts to SNS. It starts
//! no case in the last 10 seconds before the Lambda deadline; those stay due for the next run.
//!
//! Environment: `BATON_TABLE`, `BATON_TOPIC_ARN`, optionally `BATON_POLICY`, the signed links'
//! `BATON_PUBLIC_URL` with `BATON_LINK_SECRET_ARN` (or `BATON_LINK_SECRET`; both or neither: without
//! them alerts carry no links), `BATON_CHAT_TOPIC_ARN` (a standard topic that also gets each alert in
//! Amazon Q Developer's chat format), and the AWS SDK's own.
//! Logs are JSON when the function's log format is JSON; metrics are CloudWatch EMF lines on stdout.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::eventbridge::EventBridgeEvent;
use baton::config;
use baton::handler;
use baton::link::LinkSource;
use baton::notify::Fanout;
use baton::notify::sns::{ChatNotifier, SnsNotifier};
use baton::service::Sweep;
use baton::store::dynamo::DynamoStore;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

type Notifier = Fanout<SnsNotifier, ChatNotifier>;
type State = (DynamoStore, Notifier, baton::domain::policy::Policy);
type Config = (String, String, baton::domain::policy::Policy, LinkSource, Option<String>);

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (table, topic, policy, links, chat_topic) = config::or_exit("sla-sweep", read_config());
    let aws = aws_config::load_from_env().await;
    let linker = match links {
        LinkSource::Off => None,
        LinkSource::Ready(linker) => Some(linker),
        LinkSource::Manager { arn, public_url } => {
            let client = aws_sdk_secretsmanager::Client::new(&aws);
            let read = baton::link::read_secret(&client, &arn, &public_url).await;
            Some(config::or_exit("sla-sweep", read.map_err(config::ConfigError::from)))
        }
    };
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
    let sns = aws_sdk_sns::Client::new(&aws);
    let chat = chat_topic.map(|arn| ChatNotifier::new(sns.clone(), arn, linker.clone()));
    let notifier = Fanout { first: SnsNotifier::new(sns, topic).with_linker(linker), second: chat };
    let state = Arc::new((store, notifier, policy));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<EventBridgeEvent<Value>>| {
        let state = state.clone();
        async move { sweep(&state, event).await }
    }))
    .await
}

fn read_config() -> Result<Config, config::ConfigError> {
    Ok((config::table()?, config::topic()?, config::policy()?, config::links()?, config::chat_topic()))
}

async fn sweep((store, notifier, policy): &State, event: LambdaEvent<EventBridgeEvent<Value>>) -> Result<Value, Error> {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let deadline = Duration::from_millis(event.context.deadline);
    // Lambda gives the deadline as an instant (milliseconds since the epoch); the emulator of
    // `cargo lambda watch` gives its invoke timeout (milliseconds) instead. A deadline that is
    // already past when the run starts is that timeout, capped at the function's 60 seconds.
    let time_left = match deadline.checked_sub(since_epoch) {
        Some(left) => left,
        None => deadline.min(Duration::from_secs(60)),
    };
    let run =
        handler::sweep::handle(&Sweep::new(store, notifier, policy), &event.payload, jiff::Timestamp::now(), time_left)
            .await?;
    for line in &run.metrics {
        println!("{line}");
    }
    if run.incomplete {
        // A failed invocation shows in the function's error metric; the work is kept for the next run.
        return Err(format!("sweep incomplete: {}", run.summary).into());
    }
    Ok(run.summary)
}
