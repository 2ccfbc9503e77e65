//! Engine rules and the stories of docs/stories.md, in given/when/then form. Pure: no store, no clock;
//! the sweep is simulated by calling `evaluate` at each `next_due`.

use baton::domain::case::{Case, CaseState, CloseReason, EventKind};
use baton::domain::clock::{ClockKind, ClockLevel};
use baton::domain::engine::{self, Rejection};
use baton::domain::ids::{CaseId, Channel, Identity, Priority, TeamId};
use baton::domain::policy::Policy;
use baton::domain::signal::{Signal, SignalKind};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// Local wall-clock time in a zone.
fn local(text: &str, zone: &str) -> Timestamp {
    text.parse::<DateTime>().unwrap().to_zoned(TimeZone::get(zone).unwrap()).unwrap().timestamp()
}

fn zurich(text: &str) -> Timestamp {
    local(text, "Europe/Zurich")
}

fn team(name: &str) -> TeamId {
    name.parse().unwrap()
}

/// An alert as the tests compare it: (kind, clock, level, instant).
type Seen = (String, ClockKind, u8, Timestamp);

struct Scenario {
    policy: Policy,
    case: Option<Case>,
    seq: u32,
    alerts: Vec<Seen>,
    /// Each reminder's instant and the clocks it listed.
    reminders: Vec<(Timestamp, Vec<ClockLevel>)>,
}

fn given() -> Scenario {
    Scenario { policy: Policy::default_policy(), case: None, seq: 0, alerts: Vec::new(), reminders: Vec::new() }
}

impl Scenario {
    /// Reminders as alerts, one per case per business day (`[ladder] reminders = "daily"`); by
    /// default the daily digest carries them and the engine raises none.
    fn daily_reminders(mut self) -> Self {
        self.policy.ladder.reminders = baton::domain::policy::Reminders::Daily;
        self
    }

    fn with_policy(mut self, extra: &str) -> Self {
        let text = format!("{}\n{extra}", baton::domain::policy::DEFAULT_POLICY);
        self.policy = Policy::from_toml(&text, None).unwrap();
        self
    }

    fn signal(&mut self, at: Timestamp, kind: SignalKind) -> Result<(), Rejection> {
        self.seq += 1;
        let signal = Signal::new(at, format!("test:{}", self.seq), kind);
        self.sweep_until(at);
        match &mut self.case {
            None => {
                let owner = team("central");
                self.case = Some(engine::open(CaseId::derive("BTN", "test", 0), owner, signal, &self.policy)?);
                Ok(())
            }
            Some(case) => engine::apply(case, signal, &self.policy),
        }
    }

    /// Runs the engine's evaluate at every due instant up to `until`, like the sweep does.
    fn sweep_until(&mut self, until: Timestamp) {
        let Some(case) = &mut self.case else { return };
        while let Some(due) = engine::next_due(case).filter(|d| *d <= until) {
            let events = engine::evaluate(case, due, &self.policy);
            assert!(!events.is_empty(), "next_due {due} promised something and evaluate gave nothing");
            for e in &events {
                if let EventKind::Alerted { alert, clock, level, clocks, .. } = &e.kind {
                    self.alerts.push((alert.as_str().to_string(), *clock, *level, e.at));
                    if alert.as_str() == "reminder" {
                        self.reminders.push((e.at, clocks.clone()));
                    }
                }
                if let EventKind::ClosureRisk { .. } = &e.kind {
                    self.alerts.push(("closure_risk".into(), ClockKind::CustomerSilence, 1, e.at));
                }
            }
            engine::commit(case, events, &self.policy).expect("a case built in memory holds its whole timeline");
        }
    }

    fn customer_email(mut self, at: Timestamp) -> Self {
        let identity = Identity::Email("max@example.ch".into());
        self.signal(at, SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity }).unwrap();
        self
    }

    fn customer_on(mut self, channel: Channel, public: bool, at: Timestamp) -> Self {
        let identity = Identity::X("42".into());
        self.signal(at, SignalKind::CustomerMessage { channel, public, identity }).unwrap();
        self
    }

    fn reply(mut self, by: &str, at: Timestamp) -> Self {
        let kind = SignalKind::AgentReply { channel: Channel::Email, team: Some(team(by)), awaiting_customer: false };
        self.signal(at, kind).unwrap();
        self
    }

    fn handoff(mut self, to: &str, at: Timestamp) -> Self {
        self.signal(at, SignalKind::Handoff { to: team(to) }).unwrap();
        self
    }

    fn priority(mut self, priority: Priority, at: Timestamp) -> Self {
        self.signal(at, SignalKind::PriorityChange { priority }).unwrap();
        self
    }

    fn then(&mut self) -> &Case {
        self.case.as_ref().expect("a case was opened")
    }

    fn alerts_until(&mut self, until: Timestamp) -> Vec<Seen> {
        self.sweep_until(until);
        std::mem::take(&mut self.alerts)
    }

    fn alerts_of(&mut self, clock: ClockKind, until: Timestamp) -> Vec<(String, u8, Timestamp)> {
        self.alerts_until(until).into_iter().filter(|a| a.1 == clock).map(|(k, _, l, at)| (k, l, at)).collect()
    }
}

fn alert(kind: &str, level: u8, at: Timestamp) -> (String, u8, Timestamp) {
    (kind.to_string(), level, at)
}

#[test]
fn first_response_is_eight_business_hours_of_the_owning_team_with_a_warning_at_75_percent() {
    // Sunday evening: central's clock starts Monday 08:00.
    let mut s = given().customer_email(zurich("2026-04-12T19:42"));
    assert_eq!(s.then().clock(ClockKind::FirstResponse).unwrap().due_at, zurich("2026-04-13T16:00"));
    let alerts = s.alerts_of(ClockKind::FirstResponse, zurich("2026-04-13T16:00"));
    assert_eq!(
        alerts,
        vec![alert("warning", 0, zurich("2026-04-13T14:00")), alert("breach", 1, zurich("2026-04-13T16:00"))]
    );
}

#[test]
fn the_ladder_climbs_to_level_3_then_reminds_at_the_start_of_every_business_day_until_acknowledged() {
    let mut s = given().daily_reminders().customer_email(zurich("2026-04-13T08:00"));
    let alerts = s.alerts_of(ClockKind::FirstResponse, zurich("2026-04-21T07:59"));
    assert_eq!(
        alerts,
        vec![
            alert("warning", 0, zurich("2026-04-13T14:00")),
            alert("breach", 1, zurich("2026-04-13T16:00")),
            alert("escalation", 2, zurich("2026-04-14T16:00")),
            alert("escalation", 3, zurich("2026-04-16T16:00")),
            // One reminder for the case at central's opening (08:00), none over the weekend.
            alert("reminder", 3, zurich("2026-04-17T08:00")),
            alert("reminder", 3, zurich("2026-04-20T08:00")),
        ]
    );
}

#[test]
fn a_reply_stops_the_response_clock_and_its_ladder() {
    let mut s = given().customer_email(zurich("2026-04-13T08:00")).reply("central", zurich("2026-04-13T12:00"));
    assert!(s.then().clock(ClockKind::FirstResponse).is_none());
    assert!(s.alerts_of(ClockKind::FirstResponse, zurich("2026-04-30T00:00")).is_empty());
}

#[test]
fn an_acknowledged_level_is_snoozed_not_forgotten() {
    let mut s = given().daily_reminders().customer_email(zurich("2026-04-13T08:00"));
    s.sweep_until(zurich("2026-04-13T16:30"));
    let ack = SignalKind::Acknowledge {
        clock: ClockKind::FirstResponse,
        level: 1,
        by: "lead@brand.example".into(),
        snooze: "2d".parse().unwrap(),
    };
    s.signal(zurich("2026-04-13T16:30"), ack).unwrap();
    s.alerts.clear();
    // Level 2 (due Tue 16:00) waits for the snooze to end two business days later (Wed 16:30).
    let alerts = s.alerts_of(ClockKind::FirstResponse, zurich("2026-04-17T17:00"));
    assert_eq!(
        alerts,
        vec![
            alert("escalation", 2, zurich("2026-04-15T16:30")),
            alert("escalation", 3, zurich("2026-04-16T16:00")),
            alert("reminder", 3, zurich("2026-04-17T08:00")),
        ]
    );
}

#[test]
fn acknowledging_a_clock_that_is_not_running_is_refused() {
    let mut s = given().customer_email(zurich("2026-04-13T08:00"));
    let ack = SignalKind::Acknowledge {
        clock: ClockKind::HandoffAccept,
        level: 1,
        by: "x".into(),
        snooze: "1d".parse().unwrap(),
    };
    assert_eq!(s.signal(zurich("2026-04-13T09:00"), ack), Err(Rejection::ClockNotRunning(ClockKind::HandoffAccept)));
}

#[test]
fn a_handoff_never_pauses_the_customers_clocks() {
    // The customer wrote Monday 08:00; central hands off at 12:00 without answering.
    let mut s = given().customer_email(zurich("2026-04-13T08:00")).handoff("support-de", zurich("2026-04-13T12:00"));
    let case = s.then();
    assert_eq!(case.state(), CaseState::HandedOff);
    assert_eq!(case.owner(), &team("support-de"));
    // 4 business hours used at central; the other 4 run on support-de's calendar (09:00-17:00 Berlin).
    assert_eq!(case.clock(ClockKind::FirstResponse).unwrap().due_at, local("2026-04-13T16:00", "Europe/Berlin"));
    assert_eq!(case.clock(ClockKind::CustomerSilence).unwrap().due_at, zurich("2026-04-18T08:00"));
    assert!(case.clock(ClockKind::HandoffAccept).is_some());
}

#[test]
fn handoff_accept_runs_on_the_receiving_teams_calendar_and_breaches_when_it_stays_quiet() {
    let mut s = given()
        .customer_email(zurich("2026-04-16T09:00"))
        .reply("central", zurich("2026-04-16T10:00"))
        .handoff("support-de", local("2026-04-17T16:00", "Europe/Berlin"));
    // Friday 16:00-17:00 and Monday 09:00-12:00 in Berlin.
    let alerts = s.alerts_of(ClockKind::HandoffAccept, local("2026-04-20T12:00", "Europe/Berlin"));
    assert_eq!(
        alerts,
        vec![
            alert("warning", 0, local("2026-04-20T11:00", "Europe/Berlin")),
            alert("breach", 1, local("2026-04-20T12:00", "Europe/Berlin")),
        ]
    );
}

#[test]
fn the_receiving_teams_reply_accepts_the_handoff_but_the_handing_teams_does_not() {
    let mut s = given().customer_email(zurich("2026-04-13T08:00")).handoff("support-ch", zurich("2026-04-13T09:00"));
    s = s.reply("central", zurich("2026-04-13T09:30"));
    assert!(s.then().clock(ClockKind::HandoffAccept).is_some(), "central's reply is not support-ch taking the case up");
    s = s.reply("support-ch", zurich("2026-04-13T10:00"));
    assert!(s.then().clock(ClockKind::HandoffAccept).is_none());
    assert_eq!(s.then().state(), CaseState::Open);
}

#[test]
fn accepting_stops_handoff_accept_and_only_the_receiving_team_may_accept() {
    let mut s = given().customer_email(zurich("2026-04-13T08:00")).handoff("support-ch", zurich("2026-04-13T09:00"));
    assert_eq!(
        s.signal(zurich("2026-04-13T09:10"), SignalKind::Accept { team: team("support-de") }),
        Err(Rejection::NotHandedTo(team("support-de")))
    );
    s.signal(zurich("2026-04-13T09:20"), SignalKind::Accept { team: team("support-ch") }).unwrap();
    assert!(s.then().clock(ClockKind::HandoffAccept).is_none());
    assert_eq!(s.then().state(), CaseState::Open);
    assert_eq!(s.then().owner(), &team("support-ch"));
}

#[test]
fn handing_a_case_to_an_unknown_team_or_its_owner_is_refused() {
    let mut s = given().customer_email(zurich("2026-04-13T08:00"));
    let at = zurich("2026-04-13T09:00");
    assert_eq!(s.signal(at, SignalKind::Handoff { to: team("nobody") }), Err(Rejection::UnknownTeam(team("nobody"))));
    assert_eq!(
        s.signal(at, SignalKind::Handoff { to: team("central") }),
        Err(Rejection::AlreadyOwner(team("central")))
    );
}

#[test]
fn every_moment_has_one_owner_and_the_timeline_says_which_team_used_the_time_budget() {
    // Story 5: many hands. Time held per team adds up to the case's whole life.
    let start = zurich("2026-04-13T08:00");
    let mut s = given()
        .customer_email(start)
        .handoff("support-ch", zurich("2026-04-13T10:00"))
        .handoff("support-de", zurich("2026-04-14T10:00"))
        .handoff("central", zurich("2026-04-16T10:00"));
    let now = zurich("2026-04-17T10:00");
    let held = s.then().time_held(now);
    assert_eq!(held[&team("central")], jiff::SignedDuration::from_hours(2 + 24));
    assert_eq!(held[&team("support-ch")], jiff::SignedDuration::from_hours(24));
    assert_eq!(held[&team("support-de")], jiff::SignedDuration::from_hours(48));
    let total: jiff::SignedDuration = held.values().copied().sum();
    assert_eq!(total, now.duration_since(start));
    let owners: Vec<&str> = s
        .then()
        .timeline()
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Signal { .. }))
        .map(|e| e.owner.as_str())
        .collect();
    assert_eq!(owners, vec!["central", "support-ch", "support-de", "central"]);
}

#[test]
fn a_case_closes_when_the_customer_confirms_not_when_it_is_passed_on() {
    let mut s = given()
        .customer_email(zurich("2026-04-13T08:00"))
        .reply("central", zurich("2026-04-13T09:00"))
        .handoff("support-ch", zurich("2026-04-13T09:05"));
    assert!(!s.then().is_closed());
    s.signal(zurich("2026-04-13T11:00"), SignalKind::ResolutionProposed).unwrap();
    assert_eq!(s.then().state(), CaseState::ResolutionProposed);
    s.signal(zurich("2026-04-14T08:00"), SignalKind::CustomerConfirmation).unwrap();
    assert_eq!((s.then().state(), s.then().close_reason()), (CaseState::Closed, Some(CloseReason::Confirmed)));
    // Nothing is due on a closed case but its deletion, when the policy's retention (90 days) is over.
    let retention_over = zurich("2026-04-14T08:00") + SignedDuration::from_hours(90 * 24);
    assert_eq!(engine::next_due(s.then()), Some(retention_over));
}

#[test]
fn an_unconfirmed_resolution_closes_when_the_window_runs_out() {
    let mut s = given().customer_email(zurich("2026-04-13T08:00"));
    s.signal(zurich("2026-04-13T09:00"), SignalKind::ResolutionProposed).unwrap();
    s.sweep_until(zurich("2026-04-20T08:59"));
    assert!(!s.then().is_closed());
    s.sweep_until(zurich("2026-04-20T09:00"));
    assert_eq!(s.then().close_reason(), Some(CloseReason::Unconfirmed));
}

#[test]
fn not_solved_reopens_the_case_and_asks_for_an_answer() {
    // Story 4: the telecom line still does not work.
    let mut s = given().customer_email(zurich("2026-04-13T08:00"));
    s.signal(zurich("2026-04-13T09:00"), SignalKind::ResolutionProposed).unwrap();
    s.signal(zurich("2026-04-14T09:00"), SignalKind::CustomerConfirmation).unwrap();
    s.signal(zurich("2026-04-15T09:00"), SignalKind::CustomerRejection).unwrap();
    let case = s.then();
    assert_eq!(case.state(), CaseState::Open);
    assert!(case.timeline().last().unwrap().marks.reopened);
    assert_eq!(case.clock(ClockKind::NextResponse).unwrap().due_at, zurich("2026-04-15T17:00"));
}

#[test]
fn a_survey_before_the_customer_confirmed_is_a_defect_and_after_it_is_not() {
    let mut s = given().customer_email(zurich("2026-04-13T08:00"));
    s.signal(zurich("2026-04-13T09:00"), SignalKind::SurveyRequested { channel: Channel::Email }).unwrap();
    assert!(s.then().timeline().last().unwrap().marks.premature_survey);
    s.signal(zurich("2026-04-13T10:00"), SignalKind::ResolutionProposed).unwrap();
    s.signal(zurich("2026-04-13T11:00"), SignalKind::CustomerConfirmation).unwrap();
    s.signal(zurich("2026-04-13T12:00"), SignalKind::SurveyRequested { channel: Channel::Email }).unwrap();
    assert!(!s.then().timeline().last().unwrap().marks.premature_survey);
}

#[test]
fn customer_silence_is_calendar_time_that_a_closure_does_not_pause() {
    // Story 2: acknowledged, then the summer closure. Business clocks stand still; silence does not.
    let mut s = given()
        .with_policy("")
        .customer_email(zurich("2026-07-17T10:00"))
        .reply("central", zurich("2026-07-17T10:30"))
        .handoff("support-ch", zurich("2026-07-17T10:31"));
    let silence = s.then().clock(ClockKind::CustomerSilence).unwrap().due_at;
    assert_eq!(silence, zurich("2026-07-22T10:30"));
    let breaches: Vec<_> = s.alerts_until(zurich("2026-07-23T00:00")).into_iter().filter(|a| a.0 == "breach").collect();
    assert!(breaches.contains(&("breach".into(), ClockKind::CustomerSilence, 1, silence)), "{breaches:?}");
}

#[test]
fn a_closure_ahead_is_warned_before_it_starts() {
    let closure = "[calendars.ch-office]\n";
    let text = baton::domain::policy::DEFAULT_POLICY.replace(
        closure,
        "[calendars.ch-office]\nclosures = [{ from = \"2026-07-20\", to = \"2026-08-07\", name = \"summer\" }]\n",
    );
    let mut s = given();
    s.policy = Policy::from_toml(&text, None).unwrap();
    // Thursday before the closure: silence would breach on Tuesday, while support-ch is away.
    s = s.customer_email(zurich("2026-07-16T10:00")).handoff("support-ch", zurich("2026-07-16T10:05"));
    let risks: Vec<_> =
        s.alerts_until(zurich("2026-07-18T00:00")).into_iter().filter(|a| a.0 == "closure_risk").collect();
    assert_eq!(risks, vec![("closure_risk".into(), ClockKind::CustomerSilence, 1, zurich("2026-07-16T10:05"))]);
    let case = s.then();
    assert!(
        case.closure_warnings().contains(&zurich("2026-07-17T17:00")),
        "warned for the closure that starts Friday 17:00"
    );
}

#[test]
fn a_public_post_tightens_the_running_response_target() {
    // Story 1: the email waits 8 business hours, the public tweet only 1.
    let mut s = given().customer_email(zurich("2026-04-13T08:00"));
    s = s.customer_on(Channel::X, true, zurich("2026-04-13T09:00"));
    let case = s.then();
    assert_eq!(case.clock(ClockKind::FirstResponse).unwrap().due_at, zurich("2026-04-13T10:00"));
    let last = case.timeline().last().unwrap();
    assert!(last.marks.public && last.marks.follow_up);
    assert_eq!(last.marks.channel_hop, Some(Channel::Email));
}

#[test]
fn a_chase_of_a_handed_off_case_is_an_unanswered_follow_up_that_starts_next_response() {
    // Story 1, 19 May: "Nachgefasst, unbeantwortet".
    let mut s = given()
        .customer_email(zurich("2026-04-22T18:30"))
        .reply("central", zurich("2026-04-23T10:12"))
        .handoff("support-ch", zurich("2026-04-23T10:13"))
        .customer_email(zurich("2026-05-19T08:05"));
    let case = s.then();
    assert!(case.timeline().last().unwrap().marks.follow_up);
    assert_eq!(case.follow_ups(), 1);
    assert_eq!(case.clock(ClockKind::NextResponse).unwrap().due_at, zurich("2026-05-19T16:05"));
}

#[test]
fn the_social_teams_reply_counts_as_first_response_but_the_case_goes_on() {
    // Story 6: a quick, fair answer on social; the email that follows belongs to the same case.
    let mut s = given().customer_on(Channel::Facebook, true, zurich("2026-04-13T09:00"));
    let reply =
        SignalKind::AgentReply { channel: Channel::Facebook, team: Some(team("social")), awaiting_customer: false };
    s.signal(zurich("2026-04-13T09:20"), reply).unwrap();
    assert!(s.then().first_response_done());
    assert!(!s.then().is_closed());
    s = s.customer_email(zurich("2026-04-13T11:00"));
    assert!(s.then().clock(ClockKind::NextResponse).is_some());
    assert_eq!(s.then().timeline().last().unwrap().marks.channel_hop, Some(Channel::Facebook));
}

#[test]
fn the_good_example_raises_no_alert() {
    // Story 3: answered at once and personally; satisfaction asked after confirmation.
    let mut s = given().customer_email(zurich("2026-03-02T09:12")).reply("central", zurich("2026-03-02T10:05"));
    s.signal(zurich("2026-03-02T10:30"), SignalKind::ResolutionProposed).unwrap();
    s.signal(zurich("2026-03-03T08:15"), SignalKind::CustomerConfirmation).unwrap();
    assert!(s.alerts_until(zurich("2026-04-01T00:00")).is_empty());
}

#[test]
fn waiting_for_the_customer_stops_the_clocks_that_measure_our_silence() {
    let mut s = given().customer_email(zurich("2026-04-13T08:00"));
    let ask = SignalKind::AgentReply { channel: Channel::Email, team: Some(team("central")), awaiting_customer: true };
    s.signal(zurich("2026-04-13T09:00"), ask).unwrap();
    assert_eq!(s.then().state(), CaseState::AwaitingCustomer);
    assert!(s.then().clocks().is_empty());
    s = s.customer_email(zurich("2026-04-14T09:00"));
    assert_eq!(s.then().state(), CaseState::Open);
    assert!(s.then().clock(ClockKind::NextResponse).is_some());
}

#[test]
fn merging_another_case_of_the_same_customer_puts_its_messages_on_the_timeline_with_a_channel_hop() {
    let policy = Policy::default_policy();
    let email = Signal::new(
        zurich("2026-04-12T19:42"),
        "ses:1",
        SignalKind::CustomerMessage {
            channel: Channel::Email,
            public: false,
            identity: Identity::Email("max@example.ch".into()),
        },
    );
    let tweet = Signal::new(
        zurich("2026-04-21T09:15"),
        "x:1",
        SignalKind::CustomerMessage { channel: Channel::X, public: true, identity: Identity::X("42".into()) },
    );
    let into = engine::open(CaseId::derive("BTN", "a", 0), team("central"), email, &policy).unwrap();
    let from = engine::open(CaseId::derive("BTN", "b", 0), team("social"), tweet, &policy).unwrap();
    let (mut into, mut from) = (into.into_whole().unwrap(), from.into_whole().unwrap());
    engine::merge(&mut into, &mut from, zurich("2026-04-21T10:20"), "api:link", &policy);
    let (into, mut from) = (into.into_case(), from.into_case());
    assert_eq!(from.merged_into().as_ref(), Some(&into.id()));
    assert_eq!(from.close_reason(), Some(CloseReason::Merged));
    assert_eq!(into.owner(), &team("central"), "only a handoff changes the owner");
    let hop = into.timeline().iter().find(|e| &*e.source == "x:1").unwrap();
    assert_eq!(hop.marks.channel_hop, Some(Channel::Email));
    assert!(into.identities().contains(&Identity::X("42".into())));
    assert_eq!(
        engine::apply(
            &mut from,
            Signal::new(zurich("2026-04-22T00:00"), "t", SignalKind::CustomerConfirmation),
            &policy
        ),
        Err(Rejection::Merged(from.id().clone(), into.id().clone()))
    );
}

#[test]
fn a_late_signal_is_placed_at_its_own_time_and_the_clocks_are_recomputed() {
    let mut in_order = given().customer_email(zurich("2026-04-13T08:00")).reply("central", zurich("2026-04-13T09:00"));
    in_order = in_order.customer_email(zurich("2026-04-13T10:00"));
    // The same three signals, the reply arriving last.
    let mut late = given().customer_email(zurich("2026-04-13T08:00")).customer_email(zurich("2026-04-13T10:00"));
    late.seq = 10;
    let reply =
        SignalKind::AgentReply { channel: Channel::Email, team: Some(team("central")), awaiting_customer: false };
    let signal = Signal::new(zurich("2026-04-13T09:00"), "late", reply);
    engine::apply(late.case.as_mut().unwrap(), signal, &late.policy).unwrap();
    let (a, b) = (in_order.then().clone(), late.then().clone());
    assert_eq!(a.clocks(), b.clocks());
    assert_eq!(a.state(), b.state());
    let times: Vec<Timestamp> = b.timeline().iter().map(|e| e.at).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "timeline in time order");
}

#[test]
fn only_a_customer_message_opens_a_case() {
    let policy = Policy::default_policy();
    let reply = Signal::new(zurich("2026-04-13T08:00"), "s", SignalKind::ResolutionProposed);
    assert_eq!(
        engine::open(CaseId::derive("BTN", "x", 0), team("central"), reply, &policy).unwrap_err(),
        Rejection::NotAnOpening("resolution_proposed")
    );
}

// --- Priority: a change re-targets the running clocks, keeping the time they used -----------------

#[test]
fn raising_the_priority_retargets_the_running_clock_and_keeps_the_time_used() {
    // Given an email at 08:00 (8 business hours: due 16:00), when it becomes urgent at 09:00 (2h for
    // email), then the hour used counts: one hour is left, the warning is at 75% of 2h.
    let mut s =
        given().customer_email(zurich("2026-04-13T08:00")).priority(Priority::Urgent, zurich("2026-04-13T09:00"));
    assert_eq!(s.then().priority(), Priority::Urgent);
    assert_eq!(s.then().clock(ClockKind::FirstResponse).unwrap().due_at, zurich("2026-04-13T10:00"));
    let alerts = s.alerts_of(ClockKind::FirstResponse, zurich("2026-04-13T10:00"));
    assert_eq!(
        alerts,
        vec![alert("warning", 0, zurich("2026-04-13T09:30")), alert("breach", 1, zurich("2026-04-13T10:00"))]
    );
    // Calendar clocks the urgent targets do not name keep theirs.
    assert_eq!(s.then().clock(ClockKind::CustomerSilence).unwrap().due_at, zurich("2026-04-18T08:00"));
}

#[test]
fn lowering_the_priority_again_gives_back_the_general_target_with_the_time_used_in_between() {
    let mut s = given()
        .customer_email(zurich("2026-04-13T08:00"))
        .priority(Priority::Urgent, zurich("2026-04-13T09:00"))
        .priority(Priority::Normal, zurich("2026-04-13T09:15"));
    assert_eq!(s.then().clock(ClockKind::FirstResponse).unwrap().due_at, zurich("2026-04-13T16:00"));
    assert_eq!(s.alerts_of(ClockKind::FirstResponse, zurich("2026-04-13T13:59")), vec![]);
}

#[test]
fn a_priority_raised_after_its_shorter_target_was_used_up_is_in_breach_at_once() {
    let mut s =
        given().customer_email(zurich("2026-04-13T08:00")).priority(Priority::Urgent, zurich("2026-04-13T12:00"));
    let alerts = s.alerts_of(ClockKind::FirstResponse, zurich("2026-04-13T12:00"));
    assert_eq!(alerts, vec![alert("breach", 1, zurich("2026-04-13T12:00"))]);
}

#[test]
fn a_priority_change_is_on_the_timeline_and_survives_a_rebuild() {
    let mut s =
        given().customer_email(zurich("2026-04-13T08:00")).priority(Priority::Urgent, zurich("2026-04-13T09:00"));
    let change = s.then().timeline().iter().find(|e| &*e.source == "test:2").expect("the change's event");
    assert!(matches!(
        change.kind,
        EventKind::Signal { signal: SignalKind::PriorityChange { priority: Priority::Urgent } }
    ));
    // A late note, placed before the change, rebuilds the case from its opening priority.
    s.signal(zurich("2026-04-13T08:30"), SignalKind::InternalNote { team: Some(team("central")) }).unwrap();
    assert_eq!((s.then().priority(), s.then().first_priority()), (Priority::Urgent, Some(Priority::Normal)));
    assert_eq!(s.then().clock(ClockKind::FirstResponse).unwrap().due_at, zurich("2026-04-13T10:00"));
}

#[test]
fn the_same_priority_again_or_a_closed_case_refuses_the_change() {
    let mut s = given().customer_email(zurich("2026-04-13T08:00"));
    let same = s.signal(zurich("2026-04-13T09:00"), SignalKind::PriorityChange { priority: Priority::Normal });
    assert_eq!(same, Err(Rejection::AlreadyPriority(Priority::Normal)));
    s.signal(zurich("2026-04-13T10:00"), SignalKind::ResolutionProposed).unwrap();
    s.signal(zurich("2026-04-13T11:00"), SignalKind::CustomerConfirmation).unwrap();
    let closed = s.signal(zurich("2026-04-13T12:00"), SignalKind::PriorityChange { priority: Priority::High });
    assert!(matches!(closed, Err(Rejection::Closed(_))), "{closed:?}");
}

#[test]
fn a_customer_the_policy_lists_opens_the_case_at_their_priority() {
    // The shipped policy lists the domain key-account.example as urgent.
    let mut s = given();
    let identity = Identity::Email("ceo@key-account.example".into());
    s.signal(
        zurich("2026-04-13T08:00"),
        SignalKind::CustomerMessage { channel: Channel::Email, public: false, identity },
    )
    .unwrap();
    assert_eq!(s.then().priority(), Priority::Urgent);
    assert_eq!(s.then().clock(ClockKind::FirstResponse).unwrap().due_at, zurich("2026-04-13T10:00"));
    // Anybody else opens at the default.
    let other = given().customer_email(zurich("2026-04-13T08:00")).then().priority();
    assert_eq!(other, Priority::Normal);
}

fn cleared(s: &mut Scenario, until: Timestamp) -> Vec<(ClockKind, u8, Timestamp)> {
    s.alerts_until(until).into_iter().filter(|a| a.0 == "cleared").map(|(_, c, l, at)| (c, l, at)).collect()
}

#[test]
fn a_case_in_breach_gets_one_reminder_a_business_day_listing_every_clock_in_breach_the_most_severe_first() {
    // Given an email nobody answers: first_response reaches level 3 on Thursday, customer_silence
    // breaches on Saturday (five calendar days).
    let mut s = given().daily_reminders().customer_email(zurich("2026-04-13T08:00"));
    // When the sweep runs to Tuesday noon.
    let reminders: Vec<Seen> =
        s.alerts_until(zurich("2026-04-21T12:00")).into_iter().filter(|a| a.0 == "reminder").collect();
    // Then one reminder on each of central's business days from Friday, at its opening, none at the weekend.
    let days: Vec<Timestamp> = reminders.iter().map(|r| r.3).collect();
    assert_eq!(days, vec![zurich("2026-04-17T08:00"), zurich("2026-04-20T08:00"), zurich("2026-04-21T08:00")]);
    // And each lists every clock in breach: the most severe is the alert's own clock and level.
    assert_eq!((reminders[1].1, reminders[1].2), (ClockKind::FirstResponse, 3));
    let listed: Vec<(ClockKind, u8)> = s.reminders[1].1.iter().map(|c| (c.clock, c.level)).collect();
    assert_eq!(listed, vec![(ClockKind::FirstResponse, 3), (ClockKind::CustomerSilence, 1)]);
    assert_eq!(s.reminders[1].1[1].due_at, zurich("2026-04-18T08:00"));
    assert_eq!(s.reminders[0].1.len(), 1, "customer_silence had not breached on Friday");
}

#[test]
fn by_default_the_digest_carries_reminders_and_no_reminder_alert_is_raised() {
    // Given the same unanswered email as above, with the default policy (`reminders = "digest"`).
    let mut s = given().customer_email(zurich("2026-04-13T08:00"));
    let alerts = s.alerts_until(zurich("2026-04-21T12:00"));
    // Then the ladder climbs as before, and no reminder follows it.
    assert!(alerts.iter().any(|a| a.0 == "escalation" && a.2 == 3), "{alerts:?}");
    assert!(alerts.iter().all(|a| a.0 != "reminder"), "{alerts:?}");
}

#[test]
fn no_reminder_on_a_holiday_of_the_owning_team() {
    // Given a case handed to support-ch, which takes it up only... never: handoff_accept reaches
    // level 3 on Thursday 7 May.
    let mut s = given()
        .daily_reminders()
        .customer_email(zurich("2026-05-04T08:00"))
        .reply("central", zurich("2026-05-04T08:30"))
        .handoff("support-ch", zurich("2026-05-04T09:00"));
    // When the sweep runs over Ascension (Thursday 14 May, a holiday of ch-office).
    let days: Vec<Timestamp> =
        s.alerts_until(zurich("2026-05-16T00:00")).into_iter().filter(|a| a.0 == "reminder").map(|a| a.3).collect();
    // Then support-ch's business days get one reminder each at 08:00, and the holiday none.
    let expected: Vec<Timestamp> = ["2026-05-08", "2026-05-11", "2026-05-12", "2026-05-13", "2026-05-15"]
        .iter()
        .map(|d| zurich(&format!("{d}T08:00")))
        .collect();
    assert_eq!(days, expected);
}

#[test]
fn an_acknowledged_clock_is_not_reminded_of_until_its_snooze_ends() {
    // Given first_response at level 3 since Thursday, reminded of on Friday at 08:00.
    let mut s = given().daily_reminders().customer_email(zurich("2026-04-13T08:00"));
    s.sweep_until(zurich("2026-04-17T09:00"));
    // When a lead acknowledges level 3 for two business days (to Tuesday 09:00).
    let ack = SignalKind::Acknowledge {
        clock: ClockKind::FirstResponse,
        level: 3,
        by: "lead@brand.example".into(),
        snooze: "2d".parse().unwrap(),
    };
    s.signal(zurich("2026-04-17T09:00"), ack).unwrap();
    s.reminders.clear();
    s.sweep_until(zurich("2026-04-22T12:00"));
    // Then no reminder until the first business day that starts after the snooze: Wednesday.
    let days: Vec<Timestamp> = s.reminders.iter().map(|r| r.0).collect();
    assert_eq!(days, vec![zurich("2026-04-22T08:00")]);
    // And an acknowledged clock is not listed while it is snoozed; customer_silence, in breach since
    // Saturday, does not call for a reminder below level 3 (its escalations are the news).
    assert!(s.reminders[0].1.iter().any(|c| c.clock == ClockKind::FirstResponse));
}

#[test]
fn a_reply_clears_a_clock_that_breached_once_at_the_level_it_reached() {
    // Given first_response in breach since Monday 16:00 and at level 2 since Tuesday 16:00.
    let mut s = given().customer_email(zurich("2026-04-13T08:00"));
    s.sweep_until(zurich("2026-04-15T09:59"));
    s.alerts.clear();
    // When central replies on Wednesday at 10:00.
    s = s.reply("central", zurich("2026-04-15T10:00"));
    // Then the case is due at once, and one `cleared` alert at level 2 is raised at the reply.
    assert_eq!(engine::next_due(s.then()), Some(zurich("2026-04-15T10:00")));
    assert_eq!(
        cleared(&mut s, zurich("2026-05-15T00:00")),
        vec![(ClockKind::FirstResponse, 2, zurich("2026-04-15T10:00"))]
    );
    // And a second sweep at the same instant finds nothing more.
    let case = s.then().clone();
    assert!(engine::evaluate(&case, zurich("2026-04-15T10:00"), &s.policy).is_empty());
    assert!(s.then().cleared().is_empty());
}

#[test]
fn a_clock_that_never_breached_is_never_cleared() {
    // Given a warning for first_response (Monday 14:00) but no breach.
    let mut s = given().customer_email(zurich("2026-04-13T08:00"));
    // When central replies before the breach, and the case runs for weeks.
    s = s.reply("central", zurich("2026-04-13T15:00"));
    // Then no clock is cleared: none breached.
    assert!(cleared(&mut s, zurich("2026-04-15T00:00")).is_empty());
}

#[test]
fn accepting_a_handoff_that_breached_clears_handoff_accept() {
    // Given a handoff to support-ch that breached (4 business hours) on Monday 13:00.
    let mut s = given()
        .customer_email(zurich("2026-04-13T08:00"))
        .reply("central", zurich("2026-04-13T08:30"))
        .handoff("support-ch", zurich("2026-04-13T09:00"));
    s.sweep_until(zurich("2026-04-13T14:00"));
    s.alerts.clear();
    // When support-ch accepts.
    s.signal(zurich("2026-04-13T14:00"), SignalKind::Accept { team: team("support-ch") }).unwrap();
    // Then handoff_accept is cleared at level 1, and nothing else.
    assert_eq!(
        cleared(&mut s, zurich("2026-04-14T00:00")),
        vec![(ClockKind::HandoffAccept, 1, zurich("2026-04-13T14:00"))]
    );
}

#[test]
fn closing_clears_what_breached_and_the_closed_case_raises_the_alert() {
    // Given next_response in breach (the customer chased after the first answer).
    let mut s = given()
        .customer_email(zurich("2026-04-13T08:00"))
        .reply("central", zurich("2026-04-13T09:00"))
        .customer_email(zurich("2026-04-13T10:00"));
    s.sweep_until(zurich("2026-04-14T11:00"));
    s.alerts.clear();
    // When the customer confirms, which closes the case.
    s.signal(zurich("2026-04-14T11:00"), SignalKind::CustomerConfirmation).unwrap();
    assert!(s.then().is_closed());
    // Then the closed case still raises the `cleared` alert, at once.
    assert_eq!(
        cleared(&mut s, zurich("2026-04-15T00:00")),
        vec![(ClockKind::NextResponse, 1, zurich("2026-04-14T11:00"))]
    );
}

/// A case's collections are shared between its copies (the in-memory store hands out a copy on every
/// load); a signal applied to one copy must change that copy alone.
#[test]
fn a_signal_applied_to_a_copy_of_a_case_changes_the_copy_alone() {
    let policy = Policy::default_policy();
    let at = zurich("2026-04-13T09:00:00");
    let customer = |identity: Identity, channel| SignalKind::CustomerMessage { channel, public: false, identity };
    let email = Signal::new(at, "t:1", customer(Identity::Email("max@example.ch".into()), Channel::Email));
    let original = engine::open(CaseId::derive("BTN", "copy", 0), team("central"), email, &policy).unwrap();
    let before = original.clone();

    let mut copy = original.clone();
    let x = Signal::new(at + SignedDuration::from_mins(5), "t:2", customer(Identity::X("42".into()), Channel::X));
    engine::apply(&mut copy, x, &policy).unwrap();
    let handoff = SignalKind::Handoff { to: team("support-ch") };
    engine::apply(&mut copy, Signal::new(at + SignedDuration::from_mins(30), "t:3", handoff), &policy).unwrap();

    // The copy changed where the signals say ...
    assert_ne!(copy.channels(), original.channels());
    assert_ne!(copy.identities(), original.identities());
    assert_ne!(copy.held(), original.held());
    assert_ne!(copy.clocks(), original.clocks());
    // ... and the original is as it was, collections and all.
    assert_eq!(original, before);
    assert_eq!(original.channels().iter().collect::<Vec<_>>(), vec![&Channel::Email]);
    assert!(original.held().is_empty());
    assert!(!original.clocks().contains_key(&ClockKind::HandoffAccept));
}

/// What a write stores of a case's timeline (`Change::new`): the events no stored event equals.
/// Events shared with the loaded case are found by address, the rest by value; both must give what
/// comparing every event by value gives, for short timelines and long ones (searched another way),
/// for a signal appended, events made anew equal (as a rebuild makes them) and events a late
/// handoff changed.
#[test]
fn a_change_writes_exactly_the_events_no_stored_event_equals() {
    use baton::domain::case::Event;
    use baton::store::Change;

    let policy = Policy::default_policy();
    let start = zurich("2026-04-13T09:00:00");
    let note = SignalKind::InternalNote { team: None };
    // By value, every event against every stored one.
    let oracle = |before: &Case, after: &Case| -> Vec<Event> {
        after.timeline().iter().filter(|e| !before.timeline().contains(e)).cloned().collect()
    };
    let written = |before: &Case, after: &Case| -> Vec<Event> {
        Change::new(Some(before), after).events.into_iter().cloned().collect()
    };
    // The same events, each made anew: equal, at another address.
    let anew = |case: &Case| -> Case {
        let copies = case.timeline().iter().map(|e| serde_json::from_value(serde_json::to_value(e).unwrap()).unwrap());
        case.with_timeline(copies.collect(), 0)
    };
    for events in [5, 31, 32, 33, 120] {
        let email = Signal::new(
            start,
            "c:0",
            SignalKind::CustomerMessage {
                channel: Channel::Email,
                public: false,
                identity: Identity::Email("max@example.ch".into()),
            },
        );
        let mut case = engine::open(CaseId::derive("BTN", "change", 0), team("central"), email, &policy).unwrap();
        for i in 1..events {
            let signal = Signal::new(start + SignedDuration::from_mins(i as i64), format!("c:{i}"), note.clone());
            engine::apply(&mut case, signal, &policy).unwrap();
        }
        let n = case.timeline().len();

        // A signal appended to a copy: its event alone.
        let mut next = case.clone();
        let later = start + SignedDuration::from_hours(10);
        engine::apply(&mut next, Signal::new(later, "c:last", note.clone()), &policy).unwrap();
        assert_eq!(written(&case, &next), oracle(&case, &next), "{n} events, one appended");
        assert_eq!(written(&case, &next).len(), 1, "{n} events, one appended");

        // The same case made anew, and a signal appended to that: still its event alone.
        let mut rebuilt = anew(&case);
        assert!(written(&case, &rebuilt).is_empty(), "{n} events made anew");
        engine::apply(&mut rebuilt, Signal::new(later, "c:last", note.clone()), &policy).unwrap();
        assert_eq!(written(&case, &rebuilt), oracle(&case, &rebuilt), "{n} events made anew, one appended");
        assert_eq!(written(&case, &rebuilt).len(), 1, "{n} events made anew, one appended");

        // A late handoff changes the owner of every later event: those and the handoff.
        let mut handed = case.clone();
        let handoff = SignalKind::Handoff { to: team("support-ch") };
        engine::apply(&mut handed, Signal::new(start + SignedDuration::from_secs(30), "c:late", handoff), &policy)
            .unwrap();
        let expected = oracle(&case, &handed);
        assert!(expected.len() >= n, "{n} events: the later ones change owner ({} do)", expected.len());
        assert_eq!(written(&case, &handed), expected, "{n} events, a late handoff");

        // A new case: every event.
        assert_eq!(Change::new(None, &case).events.len(), n);
    }
}
