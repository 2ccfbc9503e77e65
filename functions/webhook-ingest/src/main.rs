//! `webhook-ingest`: `GET`/`POST /webhooks/meta`, `GET`/`POST /webhooks/x`, `POST /webhooks/generic`
//! behind an API Gateway HTTP API. Signatures are checked over the raw body before anything else.
//!
//! Environment: `BATON_TABLE`, `META_APP_SECRET`, `META_VERIFY_TOKEN`, `X_CONSUMER_SECRET`,
//! `WEBHOOK_SECRET` (`whsec_` + base64), optionally `BATON_POLICY`, and the AWS SDK's own.

use std::sync::Arc;

use baton::config::{self, required};
use baton::handler::{self, webhook::Secrets};
use baton::notify::NoAlerts;
use baton::service::Baton;
use baton::store::dynamo::DynamoStore;
use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let (table, secrets, policy) = config::or_exit("webhook-ingest", read_config());
    let aws = aws_config::load_from_env().await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
    let baton = Arc::new(Baton::new(store, NoAlerts, Arc::new(policy)));
    let secrets = Arc::new(secrets);
    lambda_http::run(service_fn(move |request: Request| {
        let (baton, secrets) = (baton.clone(), secrets.clone());
        async move {
            let (parts, body) = request.into_parts();
            let request = http::Request::from_parts(parts, body.to_vec());
            let response = handler::webhook::handle(&baton, &secrets, &request, jiff::Timestamp::now()).await;
            Ok::<Response<Body>, Error>(response.map(Body::from))
        }
    }))
    .await
}

fn read_config() -> Result<(String, Secrets, baton::domain::policy::Policy), config::ConfigError> {
    let secrets = Secrets {
        meta_app_secret: required("META_APP_SECRET", "the Meta app secret that signs webhook deliveries")?,
        meta_verify_token: required("META_VERIFY_TOKEN", "the token Meta's subscription check must present")?,
        x_consumer_secret: required("X_CONSUMER_SECRET", "the X app's consumer secret (signatures and CRC)")?,
        webhook_secret: config::webhook_secret()?,
    };
    Ok((config::table()?, secrets, config::policy()?))
}
