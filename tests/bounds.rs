//! Bounds: a case's timeline ([`MAX_EVENTS`]) and identities ([`MAX_IDENTITIES`]) are bounded, past
//! the bound nothing is lost (a full case goes on in a continuation that carries its state; one
//! identity too many opens a case of its own), and an erasure of a case too long for one DynamoDB
//! transaction (a case from before the bound) works in steps.

mod common;

use std::sync::Arc;

use baton::domain::case::{Case, CaseState, CloseReason, EventKind, MAX_EVENTS, MAX_IDENTITIES};
use baton::domain::clock::ClockKind;
use baton::domain::engine::{self, Rejection};
use baton::domain::ids::{CaseId, Channel, Identity, MessageRef, TeamId};
use baton::domain::policy::Policy;
use baton::domain::signal::{Signal, SignalKind};
use baton::ingest::{CaseRef, Inbound, Route};
use baton::notify::Collect;
use baton::service::{Baton, Outcome};
use baton::store::memory::MemoryStore;
use baton::store::{Cases, Change, Key, Record, Store, Write};
use common::dynamodb;
use jiff::{SignedDuration, Timestamp};

const LEA: &str = "lea.kunde@example.ch";

fn at(minutes: i64) -> Timestamp {
    "2026-04-13T06:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_mins(minutes)
}

fn lea() -> Identity {
    Identity::Email(LEA.into())
}

fn first_mail() -> Inbound {
    let kind = SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity: lea() };
    Inbound {
        signal: Signal::new(at(0), "ses:first", kind).with_excerpt(Some("Broken zipper on my jacket")),
        route: Route {
            customer: Some(lea()),
            own: vec![MessageRef::email("<first@example.ch>")],
            team: Some("central".parse().unwrap()),
            ..Route::default()
        },
    }
}

fn on_case(id: &CaseId, n: i64, kind: SignalKind) -> Inbound {
    Inbound {
        signal: Signal::new(at(n), format!("api:{n}"), kind),
        route: Route { case: Some(CaseRef::Id(id.clone())), ..Route::default() },
    }
}

fn note() -> SignalKind {
    SignalKind::InternalNote { team: None }
}

async fn applied<S: Store>(baton: &Baton<S, Collect>, inbound: &Inbound) -> CaseId {
    match baton.ingest(inbound).await.unwrap() {
        Outcome::Applied { case, .. } => case,
        other => panic!("{}: {other:?}", inbound.signal.source),
    }
}

/// A case handed to support-ch, then filled with notes up to the bound, through the service.
async fn full_case<S: Store>(baton: &Baton<S, Collect>) -> CaseId {
    let id = applied(baton, &first_mail()).await;
    applied(baton, &on_case(&id, 1, SignalKind::Handoff { to: "support-ch".parse().unwrap() })).await;
    for n in 2..MAX_EVENTS as i64 {
        applied(baton, &on_case(&id, n, note())).await;
    }
    id
}

#[tokio::test]
async fn a_full_case_goes_on_in_its_continuation_with_its_clocks_and_its_owner() {
    let baton = Baton::new(MemoryStore::new(), Collect::default(), Arc::new(Policy::default_policy()));
    let id = full_case(&baton).await;
    let before = baton.store.load(&id).await.unwrap().unwrap();
    assert_eq!(before.event_count(), MAX_EVENTS);
    let accept_due = before.clocks()[&ClockKind::HandoffAccept].due_at;

    // The customer writes again, answering the first mail.
    let kind = SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity: lea() };
    let again = Inbound {
        signal: Signal::new(at(MAX_EVENTS as i64), "ses:again", kind),
        route: Route {
            customer: Some(lea()),
            thread: vec![MessageRef::email("<first@example.ch>")],
            own: vec![MessageRef::email("<again@example.ch>")],
            ..Route::default()
        },
    };
    let next = applied(&baton, &again).await;
    assert_ne!(next, id, "the full case took one more event");

    let old = baton.store.load(&id).await.unwrap().unwrap();
    assert_eq!((old.state(), old.close_reason()), (CaseState::Closed, Some(CloseReason::Continued)));
    assert_eq!(old.continued_in(), Some(&next));
    assert!(old.clocks().is_empty(), "the full case would still raise alerts");
    assert!(old.event_count() <= MAX_EVENTS + 1);

    let new = baton.store.load_whole(&next).await.unwrap().unwrap();
    assert_eq!(new.continues(), Some(&id));
    assert_eq!(new.owner(), &"support-ch".parse::<TeamId>().unwrap());
    assert_eq!(new.state(), CaseState::HandedOff);
    assert_eq!(new.clocks()[&ClockKind::HandoffAccept].due_at, accept_due, "the quiet handoff's clock restarted");
    assert!(new.identities().contains(&lea()));
    assert_eq!(new.opened_at(), at(0));
    assert_eq!(new.follow_ups(), 1, "the follow-up counts as one on the same matter");
    // Rebuilt from its own timeline (as a late event would), it is the same case.
    let rebuilt = engine::rebuild(&new, new.timeline().to_vec(), &baton.policy);
    assert_eq!(rebuilt.clocks(), new.clocks());
    assert_eq!((rebuilt.owner(), rebuilt.state(), rebuilt.held()), (new.owner(), new.state(), new.held()));

    // Everything that named the full case leads to its continuation: its id, its messages.
    assert_eq!(baton.find(&CaseRef::Id(id.clone())).await.unwrap().unwrap().id(), &next);
    let accept = on_case(&id, MAX_EVENTS as i64 + 1, SignalKind::Accept { team: "support-ch".parse().unwrap() });
    assert_eq!(applied(&baton, &accept).await, next);
    // The sweep raises nothing for the full case.
    let report = baton.sweep(at(60 * 24 * 30)).await.unwrap();
    assert!(report.alerts.iter().all(|(alert, _)| alert.case_id == next.to_string()), "an alert for the full case");
    assert!(!report.alerts.is_empty());
}

#[tokio::test]
async fn a_case_holds_at_most_its_identities_and_one_more_opens_a_case_of_its_own() {
    let baton = Baton::new(MemoryStore::new(), Collect::default(), Arc::new(Policy::default_policy()));
    let id = applied(&baton, &first_mail()).await;
    for n in 1..MAX_IDENTITIES as i64 {
        let link = SignalKind::Link { identity: Identity::X(format!("{n}")) };
        applied(&baton, &on_case(&id, n, link)).await;
    }
    let case = baton.store.load(&id).await.unwrap().unwrap();
    assert_eq!(case.identities().len(), MAX_IDENTITIES);
    let one_more = on_case(&id, 100, SignalKind::Link { identity: Identity::X("100".into()) });
    assert_eq!(baton.ingest(&one_more).await.unwrap(), Outcome::Rejected(Rejection::TooManyIdentities(id.clone())));
    // A message from one identity more, naming the case by its tag, is not dropped: a case of its own.
    let stranger = Identity::Email("colleague@example.ch".into());
    let kind = SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity: stranger.clone() };
    let mail = Inbound {
        signal: Signal::new(at(200), "ses:colleague", kind),
        route: Route { tag: Some(id.clone()), customer: Some(stranger), ..Route::default() },
    };
    match baton.ingest(&mail).await.unwrap() {
        Outcome::Applied { case, opened: true, .. } => assert_ne!(case, id),
        other => panic!("{other:?}"),
    }
    assert_eq!(baton.store.load(&id).await.unwrap().unwrap().identities().len(), MAX_IDENTITIES);
}

#[tokio::test]
async fn a_full_case_continues_on_dynamodb_and_its_customer_is_erased_from_both() {
    let store = dynamodb::store("bounds_full").await;
    let baton = Baton::new(store, Collect::default(), Arc::new(Policy::default_policy()));
    // Built by the engine and stored in one write (its events in segments), as the service would
    // have written it over 2,000 signals.
    let policy = baton.policy.clone();
    let first = first_mail();
    let mut case =
        engine::open("BTN-7K3QF9".parse().unwrap(), "central".parse().unwrap(), first.signal, &policy).unwrap();
    for n in 1..MAX_EVENTS as i64 {
        engine::apply(&mut case, Signal::new(at(n), format!("api:{n}"), note()), &policy).unwrap();
    }
    let keys = vec![
        (Key::Customer(lea()), case.id().clone()),
        (Key::Message(MessageRef::email("<first@example.ch>")), case.id().clone()),
    ];
    baton.store.save(Write { cases: vec![Change::new(None, &case)], keys, ..Write::default() }).await.unwrap();

    let reply = SignalKind::AgentReply { channel: Channel::Email, team: None, awaiting_customer: false };
    let next = applied(
        &baton,
        &Inbound {
            signal: Signal::new(at(MAX_EVENTS as i64), "ses:reply", reply),
            route: Route { thread: vec![MessageRef::email("<first@example.ch>")], ..Route::default() },
        },
    )
    .await;
    assert_ne!(&next, case.id());
    let new = baton.store.load_whole(&next).await.unwrap().unwrap();
    assert!(matches!(new.timeline()[0].kind, EventKind::Continues { .. }));
    assert!(!new.clocks().contains_key(&ClockKind::FirstResponse), "the reply went nowhere");

    let erasure = baton.erase_customer(&lea()).await.unwrap();
    assert_eq!(erasure.cases.len(), 2, "{erasure:?}");
    for id in [case.id(), &next] {
        let erased = baton.store.load_whole(id).await.unwrap().unwrap();
        let text = serde_json::to_string(&*erased).unwrap();
        assert!(!text.contains(LEA) && !text.contains("zipper"), "{id} still names the customer");
    }
}

/// A case written before the bound, far longer than one transaction: its erasure writes the new
/// timeline in steps, switches to it on the case item, and deletes the old items.
#[tokio::test]
async fn erasing_a_case_longer_than_one_transaction_works_in_steps() {
    let store = dynamodb::store("bounds_erase").await;
    let policy = Arc::new(Policy::default_policy());
    let first = first_mail();
    let mut case =
        engine::open("BTN-9ABCDE".parse().unwrap(), "central".parse().unwrap(), first.signal, &policy).unwrap();
    let mut saved: Option<Case> = None;
    let total = 12_000;
    let text = "Lea Kunde writes again about the zipper of her jacket, which broke after a week";
    for n in 1..total {
        let kind = SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity: lea() };
        let signal = Signal::new(at(n), format!("ses:m{n}"), kind).with_excerpt(Some(text));
        engine::apply(&mut case, signal, &policy).unwrap();
        if n % 1_500 == 0 || n == total - 1 {
            let change = Change::new(saved.as_ref(), &case);
            let keys = vec![(Key::Customer(lea()), case.id().clone())];
            store.save(Write { cases: vec![change], keys, ..Write::default() }).await.unwrap();
            case = case.clone().with_version(case.version() + 1);
            saved = Some(case.clone());
        }
    }
    let stored = store.load_whole(case.id()).await.unwrap().unwrap();
    assert_eq!(stored.event_count(), total as u64);
    let size: usize = stored.timeline().iter().map(|e| serde_json::to_vec(e).unwrap().len()).sum();
    assert!(size > 3_500_000, "the case fits one transaction ({size} bytes): the test proves nothing");

    let baton = Baton::new(store, Collect::default(), policy);
    let erasure = baton.erase_customer(&lea()).await.unwrap();
    assert_eq!(erasure.cases.len(), 1);
    let erased = baton.store.load_whole(case.id()).await.unwrap().unwrap();
    assert_eq!(erased.event_count(), total as u64, "events were lost");
    let json = serde_json::to_string(&*erased).unwrap();
    assert!(!json.contains(LEA) && !json.contains("zipper"), "the erasure left the customer in the case");
    // Run again: nothing is left to erase, and the case is unchanged.
    assert!(baton.erase_customer(&lea()).await.unwrap().cases.is_empty());
    assert_eq!(baton.store.load_whole(case.id()).await.unwrap().unwrap().event_count(), total as u64);
}
