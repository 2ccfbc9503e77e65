//! `email-ingest`: the Lambda action of the SES receipt rule (headers only). Each mail becomes its
//! signals; a customer's first email to a team with `auto_acknowledge` gets the case number by SES.
//!
//! Environment: `BATON_TABLE`, optionally `BATON_POLICY`, and the AWS SDK's own.

use std::sync::Arc;

use baton::config;
use baton::handler;
use baton::notify::mail::SesMailer;
use baton::service::Ingest;
use baton::store::dynamo::DynamoStore;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (table, policy) = config::or_exit("email-ingest", config::table().and_then(|t| Ok((t, config::policy()?))));
    let aws = aws_config::load_from_env().await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
    let state = Arc::new((store, policy));
    let mailer = Arc::new(SesMailer::new(aws_sdk_sesv2::Client::new(&aws)));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let (state, mailer) = (state.clone(), mailer.clone());
        async move {
            let ingest = Ingest::new(&state.0, &state.1);
            Ok::<Value, Error>(handler::email::handle(&ingest, mailer.as_ref(), &event.payload).await?.0)
        }
    }))
    .await
}
