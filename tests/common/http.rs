//! HTTP requests for the handlers as API Gateway's HTTP API hands them over: a payload 2.0 event
//! (the AWS sample's shape) turned into an `http` request by lambda_http itself, as the runtime does,
//! and signed deliveries for the webhook routes.

use baton::handler;
use baton::ingest::signature;
use baton::notify::Notifier;
use baton::service::Baton;
use baton::store::Store;
use jiff::Timestamp;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::request::LambdaRequest;
use lambda_http::{RequestExt, request::RequestContext};
use serde_json::{Value, json};

use super::{WEBHOOK_SECRET, fixture, secrets};

/// An API Gateway HTTP API event (the AWS sample's shape) for this request, turned into an `http`
/// request by lambda_http, and its request id.
pub fn apigw(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> (http::Request<Vec<u8>>, String) {
    let mut event = fixture("apigw-v2-request.json");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!(query);
    event["queryStringParameters"] = json!({});
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    event["requestContext"]["requestId"] = json!(format!("req-{}", fastrand::u64(..)));
    for (name, value) in headers {
        event["headers"][name.to_ascii_lowercase()] = json!(value);
    }
    event["body"] = json!(String::from_utf8(body.to_vec()).unwrap());
    let event: ApiGatewayV2httpRequest = serde_json::from_value(event).unwrap();
    let request: http::Request<lambda_http::Body> = LambdaRequest::ApiGatewayV2(event).into();
    let request_id = match request.request_context() {
        RequestContext::ApiGatewayV2(context) => context.request_id.unwrap_or_default(),
        other => panic!("not an HTTP API request: {other:?}"),
    };
    let (parts, body) = request.into_parts();
    (http::Request::from_parts(parts, body.to_vec()), request_id)
}

pub fn body_json(response: &http::Response<String>) -> Value {
    serde_json::from_str(response.body()).unwrap_or_else(|_| json!({"text": response.body()}))
}

pub async fn post_meta<S: Store, N: Notifier>(baton: &Baton<S, N>, body: &Value) -> http::Response<String> {
    let raw = serde_json::to_vec(body).unwrap();
    let signature = signature::sign_meta("meta-app-secret", &raw);
    let (request, _) = apigw("POST", "/webhooks/meta", &[("X-Hub-Signature-256", &signature)], &raw);
    handler::webhook::handle(&baton.intake(), &secrets(), &request, Timestamp::now()).await
}

pub async fn post_x<S: Store, N: Notifier>(baton: &Baton<S, N>, body: &Value) -> http::Response<String> {
    let raw = serde_json::to_vec(body).unwrap();
    let signature = signature::sign_x("x-consumer-secret", &raw);
    let (request, _) = apigw("POST", "/webhooks/x", &[("x-twitter-webhooks-signature", &signature)], &raw);
    handler::webhook::handle(&baton.intake(), &secrets(), &request, Timestamp::now()).await
}

pub async fn post_generic<S: Store, N: Notifier>(
    baton: &Baton<S, N>,
    body: &[u8],
    id: &str,
    timestamp: i64,
    now: Timestamp,
) -> http::Response<String> {
    let signature = signature::sign_standard(WEBHOOK_SECRET, id, timestamp, body).unwrap();
    let stamp = timestamp.to_string();
    let headers =
        [("webhook-id", id), ("webhook-timestamp", stamp.as_str()), ("webhook-signature", signature.as_str())];
    let (request, _) = apigw("POST", "/webhooks/generic", &headers, body);
    handler::webhook::handle(&baton.intake(), &secrets(), &request, now).await
}
