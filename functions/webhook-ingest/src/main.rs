//! `webhook-ingest`: `GET`/`POST /webhooks/meta`, `GET`/`POST /webhooks/x`, `POST /webhooks/generic`
//! behind an API Gateway HTTP API. Signatures are checked over the raw body before anything else.
//!
//! Environment: `BATON_TABLE`; the secrets from the Secrets Manager secret `BATON_SECRET_ARN` (read
//! at start), else from `META_APP_SECRET`, `META_VERIFY_TOKEN`, `X_CONSUMER_SECRET`, `WEBHOOK_SECRET`
//! (`whsec_` + base64); optionally `BATON_POLICY`; and the AWS SDK's own.

use std::sync::Arc;

use baton::config::{self, SecretSource};
use baton::handler;
use baton::service::Ingest;
use baton::store::dynamo::DynamoStore;
use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let (source, table, policy) = config::or_exit("webhook-ingest", read_config());
    let aws = aws_config::load_from_env().await;
    let secrets = match source {
        SecretSource::Environment(secrets) => secrets,
        SecretSource::Manager(arn) => {
            let client = aws_sdk_secretsmanager::Client::new(&aws);
            config::or_exit("webhook-ingest", config::read_secret(&client, &arn).await)
        }
    };
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
    let state = Arc::new((store, policy, secrets));
    lambda_http::run(service_fn(move |request: Request| {
        let state = state.clone();
        async move {
            let (parts, body) = request.into_parts();
            let request = http::Request::from_parts(parts, body.to_vec());
            let (store, policy, secrets) = &*state;
            let response =
                handler::webhook::handle(&Ingest::new(store, policy), secrets, &request, jiff::Timestamp::now()).await;
            Ok::<Response<Body>, Error>(response.map(Body::from))
        }
    }))
    .await
}

fn read_config() -> Result<(SecretSource, String, baton::domain::policy::Policy), config::ConfigError> {
    Ok((config::webhook_secret_source()?, config::table()?, config::policy()?))
}
