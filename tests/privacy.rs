//! Data protection: what is kept of a message (metadata and a short excerpt, never the body), the
//! erasure of a customer (`DELETE /customers/{identity}`) and the deletion of closed cases after the
//! policy's retention. Each story runs on the in-memory store and on DynamoDB Local; on DynamoDB the
//! whole table is then scanned for anything that names the customer.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use baton::domain::case::{Case, EventKind};
use baton::domain::ids::{CaseId, Channel, Identity, MessageRef};
use baton::domain::policy::Policy;
use baton::domain::signal::{Signal, SignalKind};
use baton::ingest::{CaseRef, Inbound, Route};
use baton::notify::Collect;
use baton::service::{Baton, Erasure, Outcome};
use baton::store::dynamo::DynamoStore;
use baton::store::memory::MemoryStore;
use baton::store::{Cases, Key, Store};
use common::dynamodb;
use common::{at, opened, policy, team};
use jiff::{SignedDuration, Timestamp};

fn max() -> Identity {
    Identity::Email("max.muster@example.ch".into())
}

fn max_on_x() -> Identity {
    Identity::X("4242001".into())
}

fn anna() -> Identity {
    Identity::Email("anna.beispiel@example.de".into())
}

/// What the stories' messages say: a body longer than any excerpt, with an order number in it.
const TEXT: &str = "Mein Paket mit der Bestellung 77123 ist nach drei Wochen immer noch nicht angekommen, \
                    und niemand antwortet auf meine Mails. Bitte melden Sie sich bei mir.";

/// A customer's email with its Message-ID, as the email function makes it (the subject or text is
/// the excerpt's source).
fn mail(who: &Identity, message_id: &str, when: Timestamp) -> Inbound {
    let text = if *who == anna() { "Meine Rechnung wurde doppelt abgebucht" } else { TEXT };
    let kind = SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity: who.clone() };
    Inbound {
        signal: Signal::new(when, format!("ses:{message_id}"), kind).with_excerpt(Some(text)),
        route: Route {
            customer: Some(who.clone()),
            own: vec![MessageRef::email(&format!("<{message_id}@mail.example.ch>"))],
            team: Some(team("central")),
            ..Route::default()
        },
    }
}

fn tweet(id: &str, when: Timestamp) -> Inbound {
    let kind = SignalKind::CustomerMessage { channel: Channel::X, public: true, identity: max_on_x() };
    Inbound {
        signal: Signal::new(when, format!("x:{id}"), kind).with_excerpt(Some("@brand wo ist mein Paket 77123?")),
        route: Route { customer: Some(max_on_x()), own: vec![MessageRef::x(id)], ..Route::default() },
    }
}

fn on_case(case: &CaseId, source: &str, when: Timestamp, kind: SignalKind) -> Inbound {
    Inbound {
        signal: Signal::new(when, source, kind),
        route: Route { case: Some(CaseRef::Id(case.clone())), ..Route::default() },
    }
}

/// Max writes by email, is linked to his X account and tweets, gets a resolution he confirms; weeks
/// later he writes again (a new case). Anna has a case of her own. Returns (Max's first case, his
/// second, Anna's).
async fn two_customers<S: Store>(baton: &Baton<S, Collect>) -> (CaseId, CaseId, CaseId) {
    let first = opened(baton.ingest(&mail(&max(), "m1", at("2026-04-13T08:00:00Z"))).await.unwrap());
    let reply =
        SignalKind::AgentReply { channel: Channel::Email, team: Some(team("central")), awaiting_customer: false };
    let link = SignalKind::Link { identity: max_on_x() };
    for inbound in [
        on_case(&first, "api:r1", at("2026-04-13T09:00:00Z"), reply),
        on_case(&first, "api:l1", at("2026-04-13T09:30:00Z"), link),
        tweet("1900000000000000001", at("2026-04-13T12:00:00Z")),
        on_case(&first, "api:h1", at("2026-04-13T13:00:00Z"), SignalKind::Handoff { to: team("support-ch") }),
        on_case(&first, "api:a1", at("2026-04-13T13:30:00Z"), SignalKind::Accept { team: team("support-ch") }),
        on_case(&first, "api:p1", at("2026-04-14T08:00:00Z"), SignalKind::ResolutionProposed),
        on_case(&first, "api:c1", at("2026-04-14T09:00:00Z"), SignalKind::CustomerConfirmation),
    ] {
        let outcome = baton.ingest(&inbound).await.unwrap();
        assert!(matches!(outcome, Outcome::Applied { .. }), "{outcome:?} for {:?}", inbound.signal);
    }
    let second = opened(baton.ingest(&mail(&max(), "m2", at("2026-05-04T08:00:00Z"))).await.unwrap());
    let annas = opened(baton.ingest(&mail(&anna(), "a1", at("2026-05-04T09:00:00Z"))).await.unwrap());
    (first, second, annas)
}

/// The keys that name Max or his messages.
fn maxs_keys() -> Vec<Key> {
    vec![
        Key::Customer(max()),
        Key::Customer(max_on_x()),
        Key::Message(MessageRef::email("<m1@mail.example.ch>")),
        Key::Message(MessageRef::email("<m2@mail.example.ch>")),
        Key::Message(MessageRef::x("1900000000000000001")),
    ]
}

/// What an anonymised case must look like: no identity, excerpt, reference or platform id left.
fn assert_anonymous(case: &Case) {
    assert!(case.identities().is_empty(), "{}: {:?}", case.id(), case.identities());
    for event in case.timeline() {
        assert_eq!((event.excerpt(), event.refs().len()), (None, 0), "{}: {event:?}", case.id());
        if let EventKind::Signal { signal } = &event.kind {
            assert!(event.source.starts_with("erased:"), "{event:?}");
            if let SignalKind::CustomerMessage { identity, .. } | SignalKind::Link { identity } = signal {
                assert_eq!(*identity, Identity::Erased);
            }
        }
    }
}

/// The timing a case keeps through an erasure: every instant, owner and kind, and its state.
fn timing(case: &Case) -> (Vec<(Timestamp, String, &'static str)>, String, Timestamp) {
    let events = case.timeline().iter().map(|e| (e.at, e.owner.to_string(), e.kind.name())).collect();
    (events, case.state().as_str().to_string(), case.opened_at())
}

/// Erases Max on a store holding the two customers' cases and checks what is left through the
/// store's own interface.
async fn erase_max<S: Store>(baton: &Baton<S, Collect>) -> (CaseId, CaseId, CaseId) {
    let (first, second, annas) = two_customers(baton).await;
    let store = &baton.store;
    let first_before = store.load_whole(&first).await.unwrap().unwrap();
    let second_before = store.load_whole(&second).await.unwrap().unwrap();
    let annas_before = store.load_whole(&annas).await.unwrap().unwrap();
    assert!(first_before.timeline().iter().any(|e| e.excerpt().is_some_and(|x| x.contains("77123"))));
    assert_eq!(BTreeSet::from(first_before.identities().clone()), BTreeSet::from([max(), max_on_x()]));

    let erasure = baton.erase_customer(&max()).await.unwrap();
    assert_eq!(
        erasure,
        Erasure {
            identities: BTreeSet::from([max(), max_on_x()]),
            cases: BTreeSet::from([first.clone(), second.clone()])
        }
    );
    for (id, before) in [(&first, &first_before), (&second, &second_before)] {
        let after = store.load_whole(id).await.unwrap().expect("the anonymous case stays");
        assert_anonymous(&after);
        assert_eq!(timing(&after), timing(before), "the timing stays");
        assert_eq!(after.time_held(at("2026-06-01T00:00:00Z")), before.time_held(at("2026-06-01T00:00:00Z")));
        assert_eq!(store.load(id).await.unwrap().unwrap().timeline(), after.recent(), "the case item agrees");
    }
    for key in maxs_keys() {
        assert_eq!(store.lookup(&key).await.unwrap(), None, "{key:?} still leads to a case");
    }
    for identity in [max(), max_on_x()] {
        assert_eq!(store.cases_of(&identity).await.unwrap(), Vec::<CaseId>::new());
    }
    assert!(!store.was_seen("ses:m1").await.unwrap() && !store.was_seen("x:1900000000000000001").await.unwrap());

    // Anna's case is untouched.
    assert_eq!(store.load_whole(&annas).await.unwrap().as_ref(), Some(&annas_before));
    assert_eq!(store.lookup(&Key::Customer(anna())).await.unwrap(), Some(annas.clone()));
    assert_eq!(store.cases_of(&anna()).await.unwrap(), vec![annas.clone()]);

    // Again: nothing left to erase.
    let again = baton.erase_customer(&max()).await.unwrap();
    assert_eq!(again.cases, BTreeSet::new());
    // Max writing again is a new customer with a new case.
    let new = opened(baton.ingest(&mail(&max(), "m3", at("2026-06-01T08:00:00Z"))).await.unwrap());
    assert!(new != first && new != second);
    (first, second, annas)
}

#[tokio::test]
async fn erasing_a_customer_keeps_only_anonymous_timing_in_memory() {
    let baton = Baton::new(MemoryStore::new(), Collect::default(), policy());
    erase_max(&baton).await;
}

/// Every item of a table as text, for a search of what it holds.
async fn table_text(store: &DynamoStore) -> Vec<String> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = store
            .client()
            .scan()
            .table_name(store.table())
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        // A case item holds its record deflated (`c`): searched opened, as it reads.
        items.extend(out.items().iter().map(|item| format!("{:?}", DynamoStore::readable(item).unwrap())));
        start = out.last_evaluated_key;
        if start.is_none() {
            return items;
        }
    }
}

/// What names Max: his addresses, ids, message ids, tweet id and his words.
const MAX_S_TRACES: [&str; 8] =
    ["max.muster", "4242001", "m1@mail", "m2@mail", "ses:m1", "ses:m2", "1900000000000000001", "77123"];

#[tokio::test]
async fn erasing_a_customer_leaves_nothing_of_them_in_any_dynamodb_item() {
    let store = dynamodb::store("erase").await;
    let baton = Baton::new(store.clone(), Collect::default(), policy());
    let (first, _, annas) = erase_max(&baton).await;
    // Max's new case (m3) holds his address again: erase it too, then search every item.
    baton.erase_customer(&max()).await.unwrap();
    let items = table_text(&store).await;
    for trace in MAX_S_TRACES {
        let holding: Vec<&String> = items.iter().filter(|i| i.contains(trace)).collect();
        assert!(holding.is_empty(), "`{trace}` is still stored: {holding:#?}");
    }
    // The anonymous cases and Anna's are there, her case item holding her address: the search
    // reads inside case items.
    assert!(items.iter().any(|i| i.contains(&format!("CASE#{first}"))));
    assert!(
        items.iter().any(|i| i.contains(&format!("CASE#{annas}"))
            && i.contains("\"SK\": S(\"CASE\")")
            && i.contains("anna.beispiel")),
        "Anna's case item holds her address"
    );
    assert!(items.iter().any(|i| i.contains("anna.beispiel@example.de")));
    assert!(items.iter().any(|i| i.contains(&format!("CASE#{annas}"))));
}

/// A closed case is deleted by the sweep when the retention is over, not a minute before; the
/// customer's other case keeps its keys.
async fn retention<S: Store>(baton: &Baton<S, Collect>) -> (CaseId, CaseId, CaseId) {
    let (first, second, annas) = two_customers(baton).await;
    let closed_at = at("2026-04-14T09:00:00Z");
    let over = closed_at + SignedDuration::from_hours(90 * 24);
    let report = baton.sweep(over - SignedDuration::from_mins(1)).await.unwrap();
    assert!(report.purged.is_empty());
    assert!(baton.store.load(&first).await.unwrap().is_some());

    let report = baton.sweep(over).await.unwrap();
    assert_eq!(report.purged, vec![first.clone()]);
    assert_eq!(baton.store.load_whole(&first).await.unwrap(), None);
    for key in
        [Key::Message(MessageRef::email("<m1@mail.example.ch>")), Key::Message(MessageRef::x("1900000000000000001"))]
    {
        assert_eq!(baton.store.lookup(&key).await.unwrap(), None, "{key:?}");
    }
    // Max's address leads to his open case still; his X account only to the deleted one.
    assert_eq!(baton.store.lookup(&Key::Customer(max())).await.unwrap(), Some(second.clone()));
    assert_eq!(baton.store.cases_of(&max()).await.unwrap(), vec![second.clone()]);
    assert_eq!(baton.store.cases_of(&max_on_x()).await.unwrap(), Vec::<CaseId>::new());
    assert!(baton.store.load(&second).await.unwrap().is_some_and(|c| !c.is_closed()));
    // Nothing is due for it any more.
    assert!(!baton.store.due(over + SignedDuration::from_hours(24 * 365)).await.unwrap().contains(&first));
    (first, second, annas)
}

#[tokio::test]
async fn closed_cases_are_deleted_when_their_retention_is_over_in_memory() {
    let baton = Baton::new(MemoryStore::new(), Collect::default(), policy());
    retention(&baton).await;
}

#[tokio::test]
async fn closed_cases_are_deleted_from_dynamodb_when_their_retention_is_over() {
    let store = dynamodb::store("retention").await;
    let baton = Baton::new(store.clone(), Collect::default(), policy());
    let (first, _, _) = retention(&baton).await;
    let items = table_text(&store).await;
    let left: Vec<&String> = items.iter().filter(|i| i.contains(first.as_str()) || i.contains("m1@mail")).collect();
    assert!(left.is_empty(), "items of the deleted case are left: {left:#?}");
}

/// By default a case keeps 80 characters of a message; with `excerpt_chars = 0`, none.
#[tokio::test]
async fn only_a_short_excerpt_of_a_message_is_kept_and_none_when_configured() {
    let baton = Baton::new(MemoryStore::new(), Collect::default(), policy());
    let id = opened(baton.ingest(&mail(&max(), "m1", at("2026-04-13T08:00:00Z"))).await.unwrap());
    let case = baton.store.load_whole(&id).await.unwrap().unwrap();
    let excerpt = case.timeline()[0].excerpt().expect("an excerpt").to_string();
    assert_eq!(excerpt.chars().count(), 80);
    assert!(TEXT.starts_with(excerpt.trim_end_matches('…')), "{excerpt}");
    assert!(!format!("{case:?}").contains("niemand antwortet"), "the rest of the body is not kept");

    let text = baton::domain::policy::DEFAULT_POLICY.replace("excerpt_chars = 80", "excerpt_chars = 0");
    let none = Arc::new(Policy::from_toml(&text, None).unwrap());
    let baton = Baton::new(MemoryStore::new(), Collect::default(), none);
    let id = opened(baton.ingest(&mail(&max(), "m1", at("2026-04-13T08:00:00Z"))).await.unwrap());
    let case = baton.store.load_whole(&id).await.unwrap().unwrap();
    assert_eq!(case.timeline()[0].excerpt(), None);
    assert!(!format!("{case:?}").contains("Paket"));
}
