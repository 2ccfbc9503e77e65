//! Tables exist: an item written by an earlier Baton must still load. `tests/fixtures/stored/` holds
//! every item of a DynamoDB table after the velcro and retailer replays, as DynamoDB JSON, and each
//! case as the case API showed it then, in two generations:
//! - `2026-11`: written by the code of 2026-11-24 (before the stored record type was split from the
//!   domain's case), every field of a case item an attribute;
//! - `2026-11-compact`: written since the case item holds its record deflated in one binary
//!   attribute (`c`, issue 19's write bill).
//!
//! Each test puts one generation's items into a fresh table on DynamoDB Local and checks every case
//! loads as it was, and that the sweep goes on from them.
//!
//! `BATON_CAPTURE_STORED=1 cargo test --test stored` writes the current generation's fixtures anew:
//! only for a new schema version, kept beside (never instead of) the old files.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::prelude::{BASE64_STANDARD, Engine as _};
use baton::domain::case::Case;
use baton::domain::ids::CaseId;
use baton::domain::policy::Policy;
use baton::handler::api::CaseView;
use baton::notify::Collect;
use baton::replay::{self, Options};
use baton::service::Baton;
use baton::store::dynamo::{DynamoStore, local_client};
use baton::store::{Cases, Schedule};
use common::dynamodb;
use serde_json::{Map, Value, json};

type Item = HashMap<String, AttributeValue>;

/// The generation the current code writes.
const CURRENT: &str = "2026-11-compact";

fn fixture_path(sample: &str, generation: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/stored/{sample}-{generation}.json"))
}

/// The cases as the case API showed them when the items were written: what they must load as.
fn views_path(sample: &str, generation: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/stored/{sample}-{generation}-cases.json"))
}

fn view(case: &Case) -> Value {
    serde_json::to_value(CaseView::of(case)).unwrap()
}

/// DynamoDB JSON (`{"S": "..."}`, `{"N": "..."}`, ...), as the AWS CLI prints items.
fn to_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::L(list) => json!({ "L": list.iter().map(to_json).collect::<Vec<_>>() }),
        AttributeValue::M(map) => {
            json!({ "M": map.iter().map(|(k, v)| (k.clone(), to_json(v))).collect::<Map<_, _>>() })
        }
        AttributeValue::Ss(set) => json!({ "SS": set }),
        AttributeValue::Ns(set) => json!({ "NS": set }),
        AttributeValue::B(bytes) => json!({ "B": BASE64_STANDARD.encode(bytes.as_ref()) }),
        other => panic!("no DynamoDB JSON for {other:?} in the fixtures"),
    }
}

fn from_json(value: &Value) -> AttributeValue {
    let (tag, inner) = value.as_object().and_then(|o| o.iter().next()).expect("a typed value");
    let strings = |v: &Value| v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect();
    match tag.as_str() {
        "S" => AttributeValue::S(inner.as_str().unwrap().into()),
        "N" => AttributeValue::N(inner.as_str().unwrap().into()),
        "BOOL" => AttributeValue::Bool(inner.as_bool().unwrap()),
        "NULL" => AttributeValue::Null(true),
        "L" => AttributeValue::L(inner.as_array().unwrap().iter().map(from_json).collect()),
        "M" => AttributeValue::M(inner.as_object().unwrap().iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
        "SS" => AttributeValue::Ss(strings(inner)),
        "NS" => AttributeValue::Ns(strings(inner)),
        "B" => AttributeValue::B(Blob::new(BASE64_STANDARD.decode(inner.as_str().unwrap()).unwrap())),
        other => panic!("unknown DynamoDB JSON type {other}"),
    }
}

fn lines(sample: &str, policy: &Policy) -> Vec<replay::Line> {
    let text = std::fs::read_to_string(format!("{}/samples/{sample}.jsonl", env!("CARGO_MANIFEST_DIR"))).unwrap();
    replay::parse(&text, policy).unwrap()
}

async fn scan(store: &DynamoStore) -> Vec<Item> {
    let client = local_client(dynamodb::endpoint());
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page =
            client.scan().table_name(store.table()).consistent_read(true).set_exclusive_start_key(start).send().await;
        let page = page.expect("the scan");
        items.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() {
            return items;
        }
    }
}

/// The items the replay of `sample` leaves in a table, by the current code.
async fn capture(sample: &str) {
    let policy = Arc::new(Policy::default_policy());
    let store = dynamodb::store(&format!("capture-{sample}")).await;
    let baton = Baton::new(store.clone(), Collect::default(), policy.clone());
    let report =
        replay::run_on(baton, &lines(sample, &policy), &Options::default(), &mut std::io::sink()).await.unwrap();
    let mut items: Vec<Value> = scan(&store)
        .await
        .iter()
        .map(|i| Value::Object(i.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()))
        .collect();
    items.sort_by_key(|i| (i["PK"].to_string(), i["SK"].to_string()));
    let path = fixture_path(sample, CURRENT);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, serde_json::to_string_pretty(&items).unwrap() + "\n").unwrap();
    let mut views = Vec::new();
    for case in &report.cases {
        let stored = store.load_whole(case.id()).await.unwrap().expect("the case was stored");
        views.push(view(&stored));
    }
    std::fs::write(views_path(sample, CURRENT), serde_json::to_string_pretty(&views).unwrap() + "\n").unwrap();
}

async fn stored_items_still_load(sample: &str, generation: &str) {
    if generation == CURRENT && std::env::var_os("BATON_CAPTURE_STORED").is_some() {
        capture(sample).await;
    }
    let path = fixture_path(sample, generation);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let items: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert!(!items.is_empty(), "{} holds no items", path.display());
    // Each generation's case items are in its own form, so each test reads the form it names.
    let case_items: Vec<&Value> = items.iter().filter(|i| i["SK"]["S"] == "CASE").collect();
    assert!(!case_items.is_empty());
    for item in &case_items {
        let compact = item.get("c").is_some_and(|c| c.get("B").is_some());
        assert_eq!(compact, generation.ends_with("compact"), "{generation}: {}", item["PK"]);
    }

    let store = dynamodb::store(&format!("stored-{sample}-{generation}")).await;
    let client = local_client(dynamodb::endpoint());
    for item in &items {
        let item: Item = item.as_object().unwrap().iter().map(|(k, v)| (k.clone(), from_json(v))).collect();
        client.put_item().table_name(store.table()).set_item(Some(item)).send().await.expect("the put");
    }

    // The cases as they were when written, seen through the case API.
    let text = std::fs::read_to_string(views_path(sample, generation)).unwrap();
    let views: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert!(!views.is_empty());
    for expected in &views {
        let id: CaseId = expected["id"].as_str().unwrap().parse().unwrap();
        let whole = store.load_whole(&id).await.unwrap().expect("the stored case loads whole");
        assert_eq!(&view(&whole), expected, "case {id} loads whole as it was stored");
        let recent = store.load(&id).await.unwrap().expect("the stored case loads");
        assert_eq!(recent.event_count(), whole.event_count());
        assert_eq!(recent.version(), whole.version());
        assert!(
            recent.timeline().iter().all(|e| whole.timeline().contains(e)),
            "case {id}: its recent events are its own"
        );
    }
    // And the sweep goes on from them: 400 days later it finds each due case and does not fail on
    // it (closed cases past their retention are deleted).
    let last = views
        .iter()
        .map(|v| {
            v["timeline"].as_array().unwrap().last().unwrap()["at"]
                .as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .unwrap()
        })
        .max()
        .unwrap();
    let baton = Baton::new(store.clone(), Collect::default(), Arc::new(Policy::default_policy()));
    let later = last + jiff::SignedDuration::from_hours(24 * 400);
    let due = store.due(later).await.unwrap();
    let swept = baton.sweep(later).await.unwrap();
    assert_eq!(swept.cases_due, due.len());
    assert!(swept.failed.is_empty(), "{:?}", swept.failed);
}

#[tokio::test]
async fn items_stored_by_the_velcro_replay_still_load() {
    stored_items_still_load("velcro", "2026-11").await;
}

#[tokio::test]
async fn items_stored_by_the_retailer_replay_still_load() {
    stored_items_still_load("retailer", "2026-11").await;
}

#[tokio::test]
async fn compact_items_stored_by_the_velcro_replay_load() {
    stored_items_still_load("velcro", "2026-11-compact").await;
}

#[tokio::test]
async fn compact_items_stored_by_the_retailer_replay_load() {
    stored_items_still_load("retailer", "2026-11-compact").await;
}
