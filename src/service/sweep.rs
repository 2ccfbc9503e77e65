//! The sweep: every due case evaluated at `now`, the steps recorded with their alerts in the outbox
//! in one write, then published; the alerts an earlier run left in the outbox first; a closed case
//! past its retention purged; then each team's daily digest when it is due, recorded once in the
//! outbox and published the same way.

use futures::StreamExt;
use jiff::Timestamp;

use super::ServiceError;
use super::retry::retry_on_conflict;
use crate::domain::alert::Alert;
use crate::domain::case::{Case, Event};
use crate::domain::digest::{self, Digest};
use crate::domain::engine::{self, Due, NeedsHistory};
use crate::domain::ids::CaseId;
use crate::domain::ids::TeamId;
use crate::domain::measure::{DayFigures, Measure};
use crate::domain::policy::{Policy, Team};
use crate::notify::{Message, Notifier, NotifyError, Outbound};
use crate::probe::{self, Part};
use crate::store::{Change, OutboxEntry, Remove, Schedule, Teams, Write};

/// What one sweep did.
#[derive(Debug, Default)]
pub struct SweepReport {
    pub cases_due: usize,
    /// The alerts raised, each with the event that raised it (published, unless in `unpublished`).
    pub alerts: Vec<(Alert, Event)>,
    /// Alerts an earlier sweep left in the outbox, published now.
    pub recovered: Vec<Alert>,
    /// The daily digests published: recorded by this run, or left in the outbox by an earlier one.
    pub digests: Vec<Digest>,
    /// Alerts that could not be published: they stay in the outbox for the next sweep.
    pub unpublished: Vec<NotifyError>,
    /// Other events recorded (expired confirmation windows).
    pub events: Vec<(CaseId, Event)>,
    /// Due cases not started before the deadline: the next sweep takes them.
    pub left_for_next_run: usize,
    /// Outbox alerts not published before the deadline: the next sweep takes them.
    pub alerts_left_for_next_run: usize,
    /// Closed cases deleted because their retention was over.
    pub purged: Vec<CaseId>,
    /// Cases whose sweep failed, with the reason; the others went on.
    pub failed: Vec<(CaseId, String)>,
    /// Teams whose digest could not be built or recorded, with the reason: the others went on, and
    /// the next run tries these again.
    pub digests_failed: Vec<(TeamId, String)>,
    /// What the recorded steps did to the cases' clocks (breaches, a confirmation window's end):
    /// the function emits them as metrics.
    pub measures: Vec<Measure>,
}

/// How long a sweep holds the alerts it wrote or took from the outbox before another sweep may
/// publish them: longer than a publish takes, shorter than the minute between sweeps.
pub const OUTBOX_CLAIM: jiff::SignedDuration = jiff::SignedDuration::from_secs(30);

#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// How many cases are swept at once.
    pub concurrency: usize,
    /// No case is started after this instant (the function's deadline, less a margin).
    pub stop_at: Option<tokio::time::Instant>,
}

impl Default for SweepOptions {
    fn default() -> Self {
        Self { concurrency: 16, stop_at: None }
    }
}

/// What one attempt at a due case recorded: the alerts it put in the outbox (with the events that
/// raised them) and its other events, or that the case is to be purged.
enum Recorded {
    Nothing,
    Purge,
    Steps { alerts: Vec<(Outbound, Event)>, events: Vec<Event>, measures: Vec<Measure> },
}

/// What sweeping one case did: its alerts are recorded in the outbox, not yet published.
#[derive(Debug, Default)]
struct CaseSweep {
    purged: bool,
    measures: Vec<Measure>,
    alerts: Vec<(Outbound, Event)>,
    events: Vec<Event>,
}

/// How many due cases are read in one batch and published together: a `BatchGetItem` reads 100.
const CHUNK: usize = 100;

/// The sweep use case over a store with a due index and an outbox, publishing through `notifier`.
pub struct Sweep<'a, S, N> {
    store: &'a S,
    notifier: &'a N,
    policy: &'a Policy,
}

impl<'a, S: Schedule + Remove + Teams, N: Notifier> Sweep<'a, S, N> {
    pub fn new(store: &'a S, notifier: &'a N, policy: &'a Policy) -> Self {
        Self { store, notifier, policy }
    }

    /// Evaluates every due case at `now`, records what is due and publishes the alerts.
    pub async fn sweep(&self, now: Timestamp) -> Result<SweepReport, ServiceError> {
        self.sweep_with(now, &SweepOptions::default()).await
    }

    /// The sweep: first the alerts an earlier sweep left in the outbox, then every due case. Cases
    /// are swept `options.concurrency` at a time; none is started after `options.stop_at`, and those
    /// left wait for the next run (they stay due). A case that fails is reported and the others go on.
    pub async fn sweep_with(&self, now: Timestamp, options: &SweepOptions) -> Result<SweepReport, ServiceError> {
        let mut report = SweepReport::default();
        let stop_at = options.stop_at;
        let past = |stop: Option<tokio::time::Instant>| stop.is_some_and(|stop| tokio::time::Instant::now() >= stop);
        for message in self.store.claim_outbox(now, now + OUTBOX_CLAIM).await? {
            // After a long outage the outbox may hold more than one run can publish: past the
            // deadline, give the rest back at once for the next run.
            if past(stop_at) {
                self.store.release(&message, now + OUTBOX_CLAIM).await?;
                report.alerts_left_for_next_run += 1;
                continue;
            }
            match self.deliver(&message, now).await {
                Ok(()) => match message.body {
                    Message::Alert(alert) => report.recovered.push(alert),
                    Message::Digest(digest) => report.digests.push(digest),
                },
                Err(e) => report.unpublished.push(e),
            }
        }
        let due = self.store.due(now).await?;
        report.cases_due = due.len();
        // In chunks: the chunk's cases read in one batch, swept `concurrency` at a time, then their
        // alerts published in batches and cleared from the outbox in batches.
        for chunk in due.chunks(CHUNK) {
            if past(stop_at) {
                report.left_for_next_run += chunk.len();
                continue;
            }
            let loaded = match self.store.load_many(chunk).await {
                Ok(loaded) => loaded.into_iter().map(Some).collect(),
                // Each case then reads itself, and fails or not on its own.
                Err(e) => {
                    tracing::warn!(error = %e, cases = chunk.len(), "the batch read of due cases failed");
                    vec![None; chunk.len()]
                }
            };
            // Owned ids: a stream of borrowed ones is not `Send` enough for a spawned sweep.
            let mut sweeps = futures::stream::iter(chunk.iter().cloned().zip(loaded))
                .map(|(id, loaded)| async move {
                    if past(stop_at) {
                        return (id, None);
                    }
                    let result = self.sweep_case(&id, loaded, now).await;
                    (id, Some(result))
                })
                .buffered(options.concurrency.max(1));
            let mut outgoing = Vec::new();
            while let Some((id, result)) = sweeps.next().await {
                match result {
                    None => report.left_for_next_run += 1,
                    Some(Err(e)) => report.failed.push((id, e.to_string())),
                    Some(Ok(swept)) => {
                        report.events.extend(swept.events.into_iter().map(|e| (id.clone(), e)));
                        if swept.purged {
                            report.purged.push(id);
                        }
                        report.measures.extend(swept.measures);
                        outgoing.extend(swept.alerts);
                    }
                }
            }
            let (messages, events): (Vec<Outbound>, Vec<Event>) = outgoing.into_iter().unzip();
            let results = self.deliver_all(&messages, now).await;
            for ((message, event), result) in messages.into_iter().zip(events).zip(results) {
                if let Err(e) = result {
                    report.unpublished.push(e);
                }
                if let Message::Alert(alert) = message.body {
                    report.alerts.push((alert, event));
                }
            }
        }
        if !past(stop_at) {
            self.digests(now, &mut report).await;
        }
        Ok(report)
    }

    /// Each team's daily digest due by `now` and not recorded yet: built from its open cases and
    /// its figures of the previous business day, recorded in the outbox once (a second run, at
    /// once or later, finds it recorded), then published like an alert. A digest missed at its
    /// minute goes out at the next run that day; one whose day passed without a run is not sent.
    async fn digests(&self, now: Timestamp, report: &mut SweepReport) {
        for team in self.policy.teams.values() {
            match self.digest(team, now).await {
                Ok(None) => {}
                Ok(Some(message)) => match self.deliver(&message, now).await {
                    Ok(()) => {
                        if let Message::Digest(digest) = message.body {
                            report.digests.push(digest);
                        }
                    }
                    Err(e) => report.unpublished.push(e),
                },
                Err(e) => report.digests_failed.push((team.id.clone(), e.to_string())),
            }
        }
    }

    /// `team`'s digest, recorded in the outbox, when it is due by `now` and this run recorded it.
    async fn digest(&self, team: &Team, now: Timestamp) -> Result<Option<Outbound>, ServiceError> {
        let calendar = team.calendar.as_ref();
        let Some((day, due)) = calendar.todays_digest(now, team.digest_at) else { return Ok(None) };
        if self.store.digest_recorded(&digest::id(&team.id, day)).await? {
            return Ok(None);
        }
        let cases = self.store.attention_cases(&team.id).await?;
        let previous = calendar.previous_business_day(day);
        let figures = match previous {
            Some(previous) => self.store.figures(&team.id, previous).await?,
            None => DayFigures::default(),
        };
        let digest =
            probe::time(Part::Build, || Digest::build(&team.id, day, due, &cases, (previous, figures), self.policy));
        let message = Outbound::digest(digest);
        let entry = OutboxEntry { message: message.clone(), claimed_until: now + OUTBOX_CLAIM };
        Ok(self.store.record_digest(entry).await?.then_some(message))
    }

    /// When the next daily digest of any team is due after `after` (the replay sweeps then).
    pub fn next_digest(&self, after: Timestamp) -> Option<Timestamp> {
        self.policy.teams.values().filter_map(|t| t.calendar.next_digest(after, t.digest_at)).min()
    }

    /// One due case: what the engine says is due, recorded with its alerts (in the outbox) in one
    /// write; or, past its retention, the case deleted. `loaded` is the case as a batch read found
    /// it (`Some(None)`: gone), for the first attempt; a retry reads it again.
    async fn sweep_case(
        &self,
        id: &CaseId,
        loaded: Option<Option<Case>>,
        now: Timestamp,
    ) -> Result<CaseSweep, ServiceError> {
        let loaded = std::sync::Mutex::new(loaded);
        let loaded = &loaded;
        let recorded = retry_on_conflict(
            || format!("sweep of case {id}"),
            |_| async move {
                let first = loaded.lock().expect("the loaded case").take();
                let before = match first {
                    Some(case) => case,
                    None => self.store.load(id).await?,
                };
                let Some(mut before) = before else { return Ok(Recorded::Nothing) };
                let mut events = match probe::time(Part::Engine, || engine::due(&before, now, self.policy)) {
                    Due::Nothing => return Ok(Recorded::Nothing),
                    Due::Purge => return Ok(Recorded::Purge),
                    Due::Events(events) => events,
                };
                let mut case = before.clone();
                // Copied outside the timed call: the probe times the engine, not the copy.
                let copy = events.clone();
                if let Err(NeedsHistory) = probe::time(Part::Engine, || engine::commit(&mut case, copy, self.policy)) {
                    // A late event (an alert due before the last signal): the case is rebuilt
                    // from its whole past.
                    let Some(whole) = self.store.load_whole(id).await? else { return Ok(Recorded::Nothing) };
                    let Due::Events(due) = probe::time(Part::Engine, || engine::due(&whole, now, self.policy)) else {
                        return Ok(Recorded::Nothing);
                    };
                    let mut changed = whole.clone();
                    let copy = due.clone();
                    probe::time(Part::Engine, || engine::commit_whole(&mut changed, copy, self.policy));
                    (before, case, events) = (whole.into_case(), changed.into_case(), due);
                }
                let last = events.iter().map(|e| e.at).max().unwrap_or(now);
                let (measures, figures) = super::measured(&before, &case, last, self.policy);
                let (mut alerts, mut others) = (Vec::new(), Vec::new());
                for event in events {
                    match probe::time(Part::Build, || Alert::build(&case, &event, self.policy)) {
                        Some(alert) => alerts.push((Outbound::alert(event.source.to_string(), alert), event)),
                        None => others.push(event),
                    }
                }
                let outbox = alerts
                    .iter()
                    .map(|(message, _)| OutboxEntry { message: message.clone(), claimed_until: now + OUTBOX_CLAIM })
                    .collect();
                let change = Change::new(Some(&before), &case);
                self.store.save(Write { cases: vec![change], outbox, figures, ..Write::default() }).await?;
                Ok(Recorded::Steps { alerts, events: others, measures })
            },
        );
        match recorded.await? {
            Recorded::Nothing => Ok(CaseSweep::default()),
            Recorded::Purge => self.purge(id).await,
            Recorded::Steps { alerts, events, measures } => Ok(CaseSweep { events, measures, alerts, purged: false }),
        }
    }

    /// Deletes a closed case whose retention is over: the keys that point at it, the case and its
    /// timeline, then its entries in the customer index (so that an erasure still finds a case whose
    /// deletion failed half-way; the next sweep tries again, since the case stays due).
    async fn purge(&self, id: &CaseId) -> Result<CaseSweep, ServiceError> {
        retry_on_conflict(
            || format!("deletion of case {id}"),
            |_| async move {
                let Some(case) = self.store.load_whole(id).await? else { return Ok(CaseSweep::default()) };
                self.store.forget(&crate::store::keys_of(&case, []), Some(id)).await?;
                self.store.purge(&case).await?;
                for identity in case.identities() {
                    self.store.unindex(identity, std::slice::from_ref(id)).await?;
                }
                Ok(CaseSweep { purged: true, ..CaseSweep::default() })
            },
        )
        .await
    }

    /// [`deliver`](Self::deliver) for many messages: published in batches, the published ones
    /// cleared from the outbox in batches, the claims of the others given up.
    async fn deliver_all(&self, messages: &[Outbound], now: Timestamp) -> Vec<Result<(), NotifyError>> {
        if messages.is_empty() {
            return Vec::new();
        }
        let results = self.notifier.publish_all(messages).await;
        let sent: Vec<&Outbound> = messages.iter().zip(&results).filter(|(_, r)| r.is_ok()).map(|(m, _)| m).collect();
        // Published: a failure to clear them only means the next sweep publishes them again, which
        // SNS FIFO deduplication absorbs.
        if let Err(e) = self.store.sent_all(&sent).await {
            tracing::warn!(alerts = sent.len(), error = %e, "published, but not cleared from the outbox");
        }
        for (message, _) in messages.iter().zip(&results).filter(|(_, r)| r.is_err()) {
            if let Err(release) = self.store.release(message, now + OUTBOX_CLAIM).await {
                tracing::warn!(alert = %message.id, error = %release, "could not release the outbox claim");
            }
        }
        results
    }

    /// Publishes a claimed outbox message and removes it from the outbox; on failure, gives up the
    /// claim so that the next sweep tries again.
    async fn deliver(&self, message: &Outbound, now: Timestamp) -> Result<(), NotifyError> {
        match self.notifier.publish(message).await {
            Ok(()) => {
                // Published: a failure to clear it only means the next sweep publishes it again,
                // which SNS FIFO deduplication absorbs.
                if let Err(e) = self.store.sent(message).await {
                    tracing::warn!(alert = %message.id, error = %e, "published, but not cleared from the outbox");
                }
                Ok(())
            }
            Err(e) => {
                if let Err(release) = self.store.release(message, now + OUTBOX_CLAIM).await {
                    tracing::warn!(alert = %message.id, error = %release, "could not release the outbox claim");
                }
                Err(e)
            }
        }
    }
}
