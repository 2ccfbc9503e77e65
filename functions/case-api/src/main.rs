//! `case-api`: the case API behind an API Gateway HTTP API (IAM authorised):
//! `POST /cases/{case}/{handoff,accept,reply,resolve,confirm,link,ack,survey,priority}`,
//! `GET /cases/{case}`, `DELETE /customers/{identity}`. The caller's IAM ARN from the request
//! context goes with the request to the handler, which records it on the case's timeline.
//!
//! Environment: `BATON_TABLE`, optionally `BATON_POLICY`, and the AWS SDK's own.

use std::sync::Arc;

use baton::config;
use baton::handler::{self, api::Caller};
use baton::store::dynamo::DynamoStore;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let (table, policy) = config::or_exit("case-api", config::table().and_then(|t| Ok((t, config::policy()?))));
    let aws = aws_config::load_from_env().await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
    let state = Arc::new((store, policy));
    lambda_http::run(service_fn(move |request: Request| {
        let state = state.clone();
        async move {
            let (request_id, caller) = match request.request_context_ref() {
                Some(RequestContext::ApiGatewayV2(context)) => (context.request_id.clone(), Caller::of(context)),
                _ => (None, None),
            };
            let request_id = request_id.unwrap_or_else(|| request.lambda_context().request_id);
            let (parts, body) = request.into_parts();
            let mut request = http::Request::from_parts(parts, body.to_vec());
            if let Some(caller) = caller {
                request.extensions_mut().insert(caller);
            }
            let response =
                handler::api::handle(&state.0, &state.1, &request, &request_id, jiff::Timestamp::now()).await;
            Ok::<Response<Body>, Error>(response.map(Body::from))
        }
    }))
    .await
}
