//! `case-page`: `GET` and `POST /l/{token}` behind the API Gateway HTTP API, open (no IAM): the
//! signed token in the path is the credential, checked before anything else (see
//! `baton::handler::link`). It reads cases and records acknowledgements; nothing else.
//!
//! Environment: `BATON_TABLE`; the link secret from the Secrets Manager secret
//! `BATON_LINK_SECRET_ARN` (read at start; its `SecretString` a JSON object with
//! `BATON_LINK_SECRET`), else `BATON_LINK_SECRET` (local runs); optionally `BATON_POLICY`; and the
//! AWS SDK's own. It needs no `BATON_PUBLIC_URL`: it checks links and makes none.

use std::sync::Arc;

use baton::config;
use baton::handler;
use baton::link::SignerSource;
use baton::store::dynamo::DynamoStore;
use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let (table, policy, source) = config::or_exit("case-page", read_config());
    let aws = aws_config::load_from_env().await;
    let signer = match source {
        SignerSource::Ready(signer) => signer,
        SignerSource::Manager { arn } => {
            let client = aws_sdk_secretsmanager::Client::new(&aws);
            let read = baton::link::read_signer(&client, &arn).await;
            config::or_exit("case-page", read.map_err(config::ConfigError::from))
        }
    };
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
    let state = Arc::new((store, policy, signer));
    lambda_http::run(service_fn(move |request: Request| {
        let state = state.clone();
        async move {
            let (parts, body) = request.into_parts();
            let request = http::Request::from_parts(parts, body.to_vec());
            let (store, policy, signer) = &*state;
            let response = handler::link::handle(store, policy, signer, &request, jiff::Timestamp::now()).await;
            Ok::<Response<Body>, Error>(response.map(Body::from))
        }
    }))
    .await
}

fn read_config() -> Result<(String, baton::domain::policy::Policy, SignerSource), config::ConfigError> {
    Ok((config::table()?, config::policy()?, baton::link::signer_source_from_env()?))
}
