//! The case API as API Gateway calls it: HTTP API payload 2.0 requests, turned into `http` requests
//! by lambda_http and given the caller from their request context the way `case-api` does. Who made
//! a call is the IAM ARN API Gateway vouches for; an `Idempotency-Key` is bound to its request.

mod common;

use std::sync::Arc;

use baton::domain::ids::{Channel, Identity};
use baton::domain::policy::Policy;
use baton::domain::signal::{Signal, SignalKind};
use baton::handler::{self, api::Caller};
use baton::ingest::{Inbound, Route};
use baton::notify::Collect;
use baton::service::{Baton, Outcome};
use baton::store::memory::MemoryStore;
use baton::store::{Limiter, Store};
use common::{dynamodb, fixture};
use http::StatusCode;
use jiff::Timestamp;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::request::LambdaRequest;
use lambda_http::{RequestExt, request::RequestContext};
use serde_json::{Value, json};

const AGENT: &str = "arn:aws:sts::123456789012:assumed-role/baton-agents/lea.meier@brand.example";
const LEAD: &str = "arn:aws:iam::123456789012:user/lead-ch";

/// A payload 2.0 request as API Gateway sends it for a SigV4-signed call that IAM allowed (`caller`),
/// or for an unsigned one (`None`, as in a local run): the request context carries the route and,
/// under `authorizer.iam`, who signed.
fn event(caller: Option<&str>, method: &str, path: &str, headers: &[(&str, &str)], body: &Value) -> Value {
    let mut event = fixture("apigw-v2-request.json");
    let route = if path.starts_with("/customers/") {
        "/customers/{identity}"
    } else if path.matches('/').count() == 3 {
        "/cases/{case}/{action}"
    } else {
        "/cases/{case}"
    };
    event["routeKey"] = json!(format!("{method} {route}"));
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!("");
    event["queryStringParameters"] = json!({});
    event["cookies"] = json!([]);
    event["requestContext"]["routeKey"] = json!(format!("{method} {route}"));
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    event["requestContext"]["requestId"] = json!(format!("req-{}", fastrand::u64(..)));
    if let Some(arn) = caller {
        let principal = arn.rsplit('/').next().unwrap();
        event["requestContext"]["authorizer"] = json!({
            "iam": {
                "accessKey": "ASIAEXAMPLEKEY000001",
                "accountId": "123456789012",
                "callerId": format!("AROAEXAMPLEROLE00001:{principal}"),
                "cognitoIdentity": null,
                "principalOrgId": "o-example01",
                "userArn": arn,
                "userId": format!("AROAEXAMPLEROLE00001:{principal}")
            }
        });
    }
    for (name, value) in headers {
        event["headers"][name.to_ascii_lowercase()] = json!(value);
    }
    event["body"] = json!(if body.is_null() { String::new() } else { body.to_string() });
    event
}

/// Calls the handler as `case-api` does: request id and caller from the request context.
async fn call<S: Store>(baton: &Baton<S, Collect>, event: Value) -> (StatusCode, Value) {
    let event: ApiGatewayV2httpRequest = serde_json::from_value(event).expect("a payload 2.0 request");
    let request: http::Request<lambda_http::Body> = LambdaRequest::ApiGatewayV2(event).into();
    let (request_id, caller) = match request.request_context() {
        RequestContext::ApiGatewayV2(context) => (context.request_id.clone().unwrap_or_default(), Caller::of(&context)),
        other => panic!("not an HTTP API request: {other:?}"),
    };
    let (parts, body) = request.into_parts();
    let mut request = http::Request::from_parts(parts, body.to_vec());
    if let Some(caller) = caller {
        request.extensions_mut().insert(caller);
    }
    let response = handler::api::handle(&baton.store, &baton.policy, &request, &request_id, Timestamp::now()).await;
    let status = response.status();
    (status, serde_json::from_str(response.body()).unwrap_or(Value::Null))
}

async fn signed<S: Store>(baton: &Baton<S, Collect>, caller: &str, method: &str, path: &str, body: Value) -> Value {
    let (status, answer) = call(baton, event(Some(caller), method, path, &[], &body)).await;
    assert_eq!(status, StatusCode::OK, "{method} {path}: {answer}");
    answer
}

/// A case opened by the customer's email (the SES fixture); its id.
async fn email_case<S: Store + Limiter>(baton: &Baton<S, Collect>) -> String {
    let mail = baton::notify::mail::CollectMail::default();
    handler::email::handle(&baton.intake(), &mail, &fixture("ses-customer.json")).await.expect("the email");
    let path = "/cases/email:%3CCAFlea1-x9%40mail.example.ch%3E";
    signed(baton, AGENT, "GET", path, Value::Null).await["id"].as_str().unwrap().to_string()
}

/// A case opened by another customer's chat message; its id.
async fn chat_case<S: Store>(baton: &Baton<S, Collect>) -> String {
    let signal = Signal::new(
        "2026-04-13T08:00:00Z".parse().unwrap(),
        "other:chat-1",
        SignalKind::CustomerMessage { channel: Channel::Chat, public: false, identity: Identity::Other("v-9".into()) },
    );
    let route = Route { customer: Some(Identity::Other("v-9".into())), ..Route::default() };
    match baton.ingest(&Inbound { signal, route }).await.expect("the chat message") {
        Outcome::Applied { case, .. } => case.to_string(),
        other => panic!("{other:?}"),
    }
}

fn memory() -> Baton<MemoryStore, Collect> {
    Baton::new(MemoryStore::new(), Collect::default(), Arc::new(Policy::default_policy()))
}

#[tokio::test]
async fn every_case_api_call_records_the_callers_iam_arn_on_the_timeline() {
    let baton = memory();
    let id = email_case(&baton).await;
    let case = format!("/cases/{id}");
    signed(&baton, AGENT, "POST", &format!("{case}/handoff"), json!({"to_team": "support-ch", "note": "CH order"}))
        .await;
    signed(&baton, LEAD, "POST", &format!("{case}/ack"), json!({"clock": "handoff_accept", "level": 0})).await;
    // A name in the body is no identity: the timeline keeps who signed the call.
    let body = json!({"clock": "first_response", "level": 0, "by": "somebody else"});
    signed(&baton, LEAD, "POST", &format!("{case}/ack"), body).await;
    signed(&baton, AGENT, "POST", &format!("{case}/reply"), json!({"channel": "email", "team": "support-ch"})).await;

    let timeline = signed(&baton, AGENT, "GET", &case, Value::Null).await["timeline"].as_array().unwrap().clone();
    let by: Vec<(&str, Option<&str>)> = timeline
        .iter()
        .filter(|e| e["type"] == "signal")
        .map(|e| (e["signal"]["type"].as_str().unwrap(), e["by"].as_str()))
        .collect();
    assert_eq!(
        by,
        [
            ("customer_message", None),
            ("handoff", Some(AGENT)),
            ("acknowledge", Some(LEAD)),
            ("acknowledge", Some(LEAD)),
            ("agent_reply", Some(AGENT)),
        ]
    );
    let acks: Vec<&Value> = timeline.iter().filter(|e| e["signal"]["type"] == "acknowledge").collect();
    assert!(acks.iter().all(|a| a["signal"]["by"] == LEAD), "{acks:?}");
    assert!(!Value::Array(timeline.clone()).to_string().contains("somebody else"));
}

#[tokio::test]
async fn a_call_without_an_iam_caller_records_nobody() {
    let baton = memory();
    let id = email_case(&baton).await;
    let body = json!({"to_team": "support-ch"});
    let (status, answer) = call(&baton, event(None, "POST", &format!("/cases/{id}/handoff"), &[], &body)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let case = signed(&baton, AGENT, "GET", &format!("/cases/{id}"), Value::Null).await;
    let handoff = case["timeline"].as_array().unwrap().iter().find(|e| e["signal"]["type"] == "handoff").unwrap();
    assert!(handoff.get("by").is_none(), "{handoff}");
}

/// The same key on the same request is a retry; on another case, another action or another body it
/// is a mistake (a client reusing keys), answered 422, and nothing is applied. On DynamoDB Local.
#[tokio::test]
async fn an_idempotency_key_is_bound_to_its_route_and_body() {
    let baton =
        Baton::new(dynamodb::store("idempotency").await, Collect::default(), Arc::new(Policy::default_policy()));
    let first = email_case(&baton).await;
    let second = chat_case(&baton).await;
    assert_ne!(first, second);
    let keyed = |case: &str, action: &str, body: Value| {
        event(Some(AGENT), "POST", &format!("/cases/{case}/{action}"), &[("Idempotency-Key", "key-7")], &body)
    };
    let handoff = json!({"to_team": "support-ch"});

    let (status, answer) = call(&baton, keyed(&first, "handoff", handoff.clone())).await;
    assert_eq!((status, answer["applied"].clone()), (StatusCode::OK, json!(true)), "{answer}");
    // The retry, with the body written differently but the same fields and values.
    let mut retry = keyed(&first, "handoff", Value::Null);
    retry["body"] = json!("{ \"to_team\" :  \"support-ch\" }");
    let (status, answer) = call(&baton, retry).await;
    assert_eq!((status, answer), (StatusCode::OK, json!({"duplicate": true})));

    for (what, event) in [
        ("another body", keyed(&first, "handoff", json!({"to_team": "support-de"}))),
        ("another action", keyed(&first, "reply", json!({"channel": "email"}))),
        ("another case", keyed(&second, "handoff", handoff.clone())),
    ] {
        let (status, answer) = call(&baton, event).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {answer}");
        let reason = answer["error"].as_str().unwrap();
        assert!(reason.contains("Idempotency-Key `key-7` was used for another request"), "{what}: {reason}");
    }
    let first_case = signed(&baton, AGENT, "GET", &format!("/cases/{first}"), Value::Null).await;
    assert_eq!(first_case["owner"], "support-ch");
    let signals = |case: &Value| case["timeline"].as_array().unwrap().iter().filter(|e| e["type"] == "signal").count();
    assert_eq!(signals(&first_case), 2, "the customer's mail and one handoff: {first_case}");
    let second_case = signed(&baton, AGENT, "GET", &format!("/cases/{second}"), Value::Null).await;
    assert_eq!(signals(&second_case), 1, "{second_case}");

    // Another key is another request.
    let other =
        event(Some(AGENT), "POST", &format!("/cases/{second}/handoff"), &[("Idempotency-Key", "key-8")], &handoff);
    assert_eq!(call(&baton, other).await.1["applied"], true);
}

#[tokio::test]
async fn the_priority_route_retargets_the_running_clock_and_refuses_what_it_cannot_do() {
    let baton = memory();
    let id = email_case(&baton).await;
    let case = format!("/cases/{id}");
    let before = signed(&baton, AGENT, "GET", &case, Value::Null).await;
    let due = |case: &Value| case["clocks"]["first_response"]["due_at"].as_str().unwrap().to_string();
    signed(&baton, AGENT, "POST", &format!("{case}/priority"), json!({"priority": "urgent"})).await;
    let after = signed(&baton, AGENT, "GET", &case, Value::Null).await;
    assert_eq!(after["priority"], "urgent");
    let change = after["timeline"].as_array().unwrap().iter().find(|e| e["signal"]["type"] == "priority_change");
    let change = change.expect("the change on the timeline");
    assert_eq!((&change["signal"]["priority"], &change["by"]), (&json!("urgent"), &json!(AGENT)));
    // The mail is from April and the call from now: the urgent 2 hours were used up long ago, so the
    // re-targeted clock is due at the change (it was due on the April afternoon before).
    assert_eq!(due(&before), "2026-04-13T14:30:00Z");
    assert_eq!(due(&after), change["at"].as_str().unwrap());

    for (body, status) in [
        (json!({"priority": "urgent"}), StatusCode::CONFLICT),
        (json!({"priority": "soon"}), StatusCode::BAD_REQUEST),
        (json!({}), StatusCode::BAD_REQUEST),
    ] {
        let (got, answer) = call(&baton, event(Some(AGENT), "POST", &format!("{case}/priority"), &[], &body)).await;
        assert_eq!(got, status, "{body}: {answer}");
    }
}
