//! `baton replay`: runs a timeline through the same service, engine and ingest parsers as the
//! functions, with an in-memory store and a simulated clock that sweeps every simulated minute.
//!
//! Each line is `{"at": RFC 3339, "source": "ses"|"meta"|"x"|"webhook"|"api", "payload": ...}`.
//! Lines are read, parsed and applied one at a time ([`stream_on`]); a malformed line stops the
//! replay with its number and the reason. The command prints nothing then: it writes to a spool file
//! and copies it out only when the whole timeline ran.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::domain::alert::Alert;
use crate::domain::case::{Case, Event, EventKind, Whole};
use crate::domain::clock::ClockKind;
use crate::domain::digest::Digest;
use crate::domain::duration::human;
use crate::domain::ids::{CaseId, Identity, TeamId};
use crate::domain::policy::Policy;
use crate::domain::signal::SignalKind;
use crate::ingest::api::{self, Request};
use crate::ingest::{self, CaseRef, Inbound, Skipped};
use crate::notify::{Discard, Notifier};
use crate::service::{Baton, Outcome, ServiceError};
use crate::store::Store;
use crate::store::memory::MemoryStore;

/// How long the replay runs past the last line when `--until` is not given.
pub const DEFAULT_TAIL: SignedDuration = SignedDuration::from_hours(14 * 24);
const MINUTE: SignedDuration = SignedDuration::from_mins(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Ses,
    Meta,
    X,
    Webhook,
    Api,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine<'a> {
    at: Timestamp,
    source: Source,
    /// Left as text here, and read straight into the typed payload of its source.
    #[serde(borrow)]
    payload: &'a serde_json::value::RawValue,
}

/// A line of the timeline, parsed into what it asks for.
#[derive(Debug)]
pub struct Line {
    pub number: usize,
    pub at: Timestamp,
    pub input: Input,
}

#[derive(Debug)]
pub enum Input {
    Signals {
        inbound: Vec<Inbound>,
        skipped: Vec<Skipped>,
        /// Messages deleted at the source: their excerpts are erased.
        deleted: Vec<crate::domain::ids::MessageRef>,
    },
    Get(CaseRef),
    /// `DELETE /customers/{identity}`.
    Erase(Identity),
}

#[derive(Debug, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct LineError {
    pub line: usize,
    pub reason: String,
}

/// Parses a whole timeline; blank lines are allowed.
pub fn parse(text: &str, policy: &Policy) -> Result<Vec<Line>, LineError> {
    read(text.as_bytes(), policy)
}

/// [`parse`] reading line by line, so that a large timeline is never held whole as text.
pub fn read(reader: impl BufRead, policy: &Policy) -> Result<Vec<Line>, LineError> {
    lines(reader, policy).collect()
}

/// The lines of a timeline, parsed one at a time as they are read (blank lines skipped): what a
/// streaming replay runs on. The first error ends the lines.
pub fn lines<R: BufRead>(reader: R, policy: &Policy) -> Lines<'_, R> {
    Lines { reader, policy, number: 0, text: String::new(), failed: false }
}

/// See [`lines`].
pub struct Lines<'a, R> {
    reader: R,
    policy: &'a Policy,
    number: usize,
    text: String,
    failed: bool,
}

impl<R: BufRead> Iterator for Lines<'_, R> {
    type Item = Result<Line, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.failed {
            self.text.clear();
            self.number += 1;
            let number = self.number;
            match self.reader.read_line(&mut self.text) {
                Ok(0) => return None,
                Ok(_) if self.text.trim().is_empty() => {}
                Ok(_) => {
                    let line = parse_line(&self.text, number, self.policy);
                    self.failed = line.is_err();
                    return Some(line);
                }
                Err(e) => {
                    self.failed = true;
                    return Some(Err(LineError { line: number, reason: e.to_string() }));
                }
            }
        }
        None
    }
}

/// One line of a timeline, parsed into what it asks for.
///
/// The line is read in one pass, its payload straight into the type of its source (when `source`
/// comes before `payload`, as Baton's own timelines write it). A line that pass cannot read is read
/// again the plain way, as its envelope and then its payload, so that a bad line's error is the same
/// either way.
pub fn parse_line(text: &str, number: usize, policy: &Policy) -> Result<Line, LineError> {
    let Ok(OnePass { at, source, payload }) = serde_json::from_str::<OnePass>(text) else {
        return two_pass(text, number, policy);
    };
    let input = payload.input(source, number, at, policy).map_err(|reason| LineError { line: number, reason })?;
    Ok(Line { number, at, input })
}

/// The plain reading of a line: its envelope, with the payload left as text, then the payload.
fn two_pass(text: &str, number: usize, policy: &Policy) -> Result<Line, LineError> {
    let error = |reason: String| LineError { line: number, reason };
    let raw: RawLine = serde_json::from_str(text).map_err(|e| error(e.to_string()))?;
    let input = read_payload(raw.source, raw.payload.get(), number, raw.at, policy).map_err(error)?;
    Ok(Line { number, at: raw.at, input })
}

/// A payload's text, read into what it asks for.
fn read_payload(source: Source, payload: &str, number: usize, at: Timestamp, policy: &Policy) -> Result<Input, String> {
    match source {
        Source::Ses => signals(ingest::email::parse_str(payload, policy)),
        Source::Meta => signals(ingest::meta::parse_str(payload, policy)),
        Source::X => signals(ingest::x::parse_str(payload, policy)),
        Source::Webhook => signals(ingest::webhook::parse_str(payload, policy)),
        Source::Api => {
            let call: Call = serde_json::from_str(payload).map_err(|e| format!("api payload: {e}"))?;
            api_line(call, number, at, policy)
        }
    }
}

fn signals(parsed: Result<ingest::Parsed, ingest::IngestError>) -> Result<Input, String> {
    let parsed = parsed.map_err(|e| e.to_string())?;
    Ok(Input::Signals { inbound: parsed.inbound, skipped: parsed.skipped, deleted: parsed.deleted })
}

/// An `api` line's payload: a call of the case API.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Call {
    method: String,
    path: String,
    #[serde(default)]
    body: serde_json::Value,
}

fn api_line(call: Call, number: usize, at: Timestamp, policy: &Policy) -> Result<Input, String> {
    match api::parse(&call.method, &call.path, &call.body, format!("api:line{number}:{at}"), at, policy) {
        Ok(Request::Signal(inbound)) => {
            Ok(Input::Signals { inbound: vec![*inbound], skipped: Vec::new(), deleted: Vec::new() })
        }
        Ok(Request::Get(case)) => Ok(Input::Get(case)),
        Ok(Request::Erase(identity)) => Ok(Input::Erase(identity)),
        Err(e) => Err(e.to_string()),
    }
}

/// A line read in one pass: see [`parse_line`].
struct OnePass<'a> {
    at: Timestamp,
    source: Source,
    payload: Payload<'a>,
}

/// A line's payload read into the type its source reads.
enum Payload<'a> {
    Ses(Box<aws_lambda_events::event::ses::SimpleEmailEvent>),
    /// Meta and X bodies are read entry by entry, from a `Value` (see their modules).
    Meta(serde_json::Value),
    X(serde_json::Value),
    Webhook(Box<ingest::webhook::Body>),
    Api(Call),
    /// A payload met before the line's `source`: kept as text, read once the source is known.
    Text(&'a str),
}

impl Payload<'_> {
    fn input(self, source: Source, number: usize, at: Timestamp, policy: &Policy) -> Result<Input, String> {
        match self {
            Self::Ses(event) => signals(ingest::email::parse_event(&event, policy)),
            Self::Meta(body) => signals(ingest::meta::parse(&body, policy)),
            Self::X(body) => signals(ingest::x::parse(&body, policy)),
            Self::Webhook(body) => signals(ingest::webhook::parse_body(*body, policy)),
            Self::Api(call) => api_line(call, number, at, policy),
            Self::Text(text) => read_payload(source, text, number, at, policy),
        }
    }
}

impl<'de> Deserialize<'de> for OnePass<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(OnePassVisitor)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    At,
    Source,
    Payload,
}

struct OnePassVisitor;

impl<'de> serde::de::Visitor<'de> for OnePassVisitor {
    type Value = OnePass<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a timeline line")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error;
        let (mut at, mut source, mut payload) = (None, None, None::<Payload<'de>>);
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::At if at.is_none() => at = Some(map.next_value()?),
                Field::Source if source.is_none() => source = Some(map.next_value()?),
                Field::Payload if payload.is_none() => {
                    payload = Some(match source {
                        Some(Source::Ses) => Payload::Ses(map.next_value()?),
                        Some(Source::Meta) => Payload::Meta(map.next_value()?),
                        Some(Source::X) => Payload::X(map.next_value()?),
                        Some(Source::Webhook) => Payload::Webhook(map.next_value()?),
                        Some(Source::Api) => Payload::Api(map.next_value()?),
                        None => Payload::Text(map.next_value::<&serde_json::value::RawValue>()?.get()),
                    })
                }
                _ => return Err(A::Error::custom("a field given twice")),
            }
        }
        let (Some(at), Some(source), Some(payload)) = (at, source, payload) else {
            return Err(A::Error::custom("a field missing"));
        };
        Ok(OnePass { at, source, payload })
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub until: Option<Timestamp>,
    pub json: bool,
    /// Show the automatic acknowledgements the email function would send (off by default).
    pub auto_ack: bool,
    /// Signed links for the alerts (`BATON_LINK_SECRET` and `BATON_PUBLIC_URL`), as the sweep makes them.
    pub linker: Option<crate::link::Linker>,
    /// Keep the alerts and digests published, and the cases, in the [`Report`] (on by default: tests
    /// and `baton report` read them). The command's replay of a long timeline keeps none of them: it
    /// counts what its summary needs, and its memory does not grow with what it printed.
    pub keep: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self { until: None, json: false, auto_ack: false, linker: None, keep: true }
    }
}

/// What a replay did, for the summary and for tests.
#[derive(Debug, Default)]
pub struct Report {
    /// The alerts published, in order (when [`Options::keep`]).
    pub alerts: Vec<Published>,
    /// Every team's daily digests, in the order published (when [`Options::keep`]).
    pub digests: Vec<PublishedDigest>,
    /// The cases the replay opened, whole (when [`Options::keep`], or for the readable summary).
    pub cases: Vec<Case>,
    pub until: Option<Timestamp>,
    /// The continuations of full cases (no signal opens one, so they are not in `cases`), whole:
    /// what a report needs besides `cases` to see every case.
    pub continuations: Vec<Case>,
    /// What was published, counted whether or not it was kept.
    pub counts: Counts,
}

/// The alerts and digests a replay published, counted for its summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub alerts: usize,
    /// Alerts by kind (`warning`, `breach`, ...).
    pub kinds: BTreeMap<String, usize>,
    /// Breaches by team and clock.
    pub breaches: BTreeMap<(String, ClockKind), usize>,
    pub digests: usize,
    /// Digests that listed nothing.
    pub quiet_digests: usize,
}

impl Counts {
    fn alert(&mut self, alert: &Alert) {
        self.alerts += 1;
        *self.kinds.entry(alert.kind.clone()).or_default() += 1;
        if alert.kind == "breach" {
            *self.breaches.entry((alert.team.to_string(), alert.clock)).or_default() += 1;
        }
    }

    fn digest(&mut self, digest: &Digest) {
        self.digests += 1;
        if quiet(digest) {
            self.quiet_digests += 1;
        }
    }
}

/// Whether a digest lists nothing.
fn quiet(digest: &Digest) -> bool {
    digest.in_breach.is_empty() && digest.handoffs_waiting.is_empty() && digest.closure_risk.is_empty()
}

#[derive(Debug, Clone)]
pub struct Published {
    pub alert: Alert,
    pub published_at: Timestamp,
}

/// A daily digest as the replay published it.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedDigest {
    #[serde(flatten)]
    pub digest: Digest,
    pub published_at: Timestamp,
}

/// The `--json` line: the alert message plus `published_at`, written straight out (a replay of a
/// long timeline prints hundreds of thousands).
#[derive(Serialize)]
struct JsonLine<'a> {
    #[serde(flatten)]
    alert: &'a Alert,
    published_at: Timestamp,
}

impl Published {
    fn json_line(&self) -> JsonLine<'_> {
        JsonLine { alert: &self.alert, published_at: self.published_at }
    }

    /// The `--json` line, to serialise (as the replay writes it).
    pub fn to_json_line(&self) -> impl Serialize + '_ {
        self.json_line()
    }

    /// The `--json` line: the alert message plus `published_at`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.json_line()).expect("an alert serialises")
    }
}

/// Runs the timeline, writing the readable timeline or JSON alerts to `out`.
pub async fn run(
    lines: &[Line],
    policy: Arc<Policy>,
    options: &Options,
    out: &mut dyn Write,
) -> Result<Report, ReplayError> {
    run_on(Baton::new(MemoryStore::new(), Discard, policy), lines, options, out).await
}

/// [`run`] on a given store (empty: the replay makes its own cases), such as DynamoDB Local, and
/// notifier, such as SNS.
pub async fn run_on<S: Store + crate::store::Limiter, N: Notifier>(
    baton: Baton<S, N>,
    lines: &[Line],
    options: &Options,
    out: &mut dyn Write,
) -> Result<Report, ReplayError> {
    stream_on(&baton, lines.iter().map(Ok), options, out).await
}

/// The replay as it reads: each line is applied when it comes, with the sweeps due before it, and
/// never held. A line that fails to parse stops the replay with [`ReplayError::Line`]; what was
/// written to `out` by then is the caller's to discard (the command writes to a spool file and
/// prints it only when the replay succeeds).
pub async fn stream_on<S, N, L>(
    baton: &Baton<S, N>,
    lines: impl IntoIterator<Item = Result<L, LineError>>,
    options: &Options,
    out: &mut dyn Write,
) -> Result<Report, ReplayError>
where
    S: Store + crate::store::Limiter,
    N: Notifier,
    L: std::borrow::Borrow<Line>,
{
    let policy = baton.policy.clone();
    let mut opened = Vec::new();
    let printer = Printer { policy: &policy, json: options.json, linker: options.linker.as_ref(), keep: options.keep };
    let mut report = Report::default();
    let mut next_sweep: Option<Timestamp> = None;
    let mut last_at: Option<Timestamp> = None;
    let mut digests = NextDigest::default();

    for line in lines {
        let line = line?;
        let line: &Line = line.borrow();
        if options.until.is_some_and(|until| line.at > until) {
            continue;
        }
        last_at = Some(last_at.map_or(line.at, |last| last.max(line.at)));
        let next = next_sweep.get_or_insert_with(|| ceil_minute(line.at));
        while *next < line.at {
            *next = sweep(baton, *next, line.at, &mut digests, &printer, &mut report, out).await?;
        }
        apply(baton, line, options, &printer, &mut opened, out).await?;
    }
    let (Some(mut next_sweep), Some(last_at)) = (next_sweep, last_at) else {
        return Ok(report);
    };
    let until = options.until.unwrap_or(last_at + DEFAULT_TAIL);
    report.until = Some(until);
    while next_sweep <= until {
        next_sweep = sweep(baton, next_sweep, until + MINUTE, &mut digests, &printer, &mut report, out).await?;
    }
    if options.keep || !options.json {
        for id in opened {
            report.cases.extend(baton.store.load_whole(&id).await?.map(Whole::into_case));
        }
        report.cases.sort_by(|a, b| (a.opened_at(), &a.id()).cmp(&(b.opened_at(), &b.id())));
        let mut next: Vec<CaseId> = report.cases.iter().filter_map(|c| c.continued_in().cloned()).collect();
        while let Some(id) = next.pop() {
            if let Some(case) = baton.store.load_whole(&id).await? {
                next.extend(case.continued_in().cloned());
                report.continuations.push(case.into_case());
            }
        }
    }
    if !options.json {
        printer.summary(&report, until, out)?;
    }
    Ok(report)
}

/// Applies one line: its signals, reads and erasures, each printed as it happens.
async fn apply<S: Store + crate::store::Limiter, N: Notifier>(
    baton: &Baton<S, N>,
    line: &Line,
    options: &Options,
    printer: &Printer<'_>,
    opened: &mut Vec<CaseId>,
    out: &mut dyn Write,
) -> Result<(), ReplayError> {
    match &line.input {
        Input::Get(case) => {
            if let Some(case) = baton.show(case).await? {
                printer.case(line.at, &case, out)?;
            }
        }
        Input::Erase(identity) => {
            let erasure = baton.erase_customer(identity).await?;
            let cases: Vec<String> = erasure.cases.iter().map(ToString::to_string).collect();
            let text = format!(
                "customer erased: {} identities, cases anonymised: {}",
                erasure.identities.len(),
                if cases.is_empty() { "none".to_string() } else { cases.join(", ") }
            );
            printer.note(line.at, line.number, &text, out)?;
        }
        Input::Signals { inbound, skipped, deleted } => {
            for reason in skipped {
                printer.note(line.at, line.number, &format!("skipped: {reason:?}"), out)?;
            }
            for reference in deleted {
                if let Some(case) = baton.forget_message(reference).await? {
                    printer.note(
                        line.at,
                        line.number,
                        &format!("deleted at the source: {case} keeps its timing, not the text"),
                        out,
                    )?;
                }
            }
            for inbound in inbound {
                let outcome = baton.ingest(inbound).await?;
                if let Outcome::Applied { case, opened: true, .. } = &outcome {
                    opened.push(case.clone());
                }
                printer.outcome(baton, line, inbound, &outcome, out).await?;
                if let (Outcome::Applied { case, opened: true, .. }, true) = (&outcome, options.auto_ack) {
                    use crate::notify::mail::{AckDecision, decide};
                    let text = match decide(&baton.store, inbound, case, &baton.policy).await? {
                        AckDecision::NotOwed => None,
                        AckDecision::Send(ack) => {
                            Some(format!("auto-acknowledgement to {}: \"{}\"", ack.to, ack.subject()))
                        }
                        AckDecision::Withheld(reason) => Some(format!("auto-acknowledgement withheld: {reason:?}")),
                    };
                    if let Some(text) = text {
                        printer.note(inbound.signal.at, line.number, &text, out)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Sweeps at `at` if anything is due then, and returns the next minute worth sweeping before `limit`.
/// Minutes at which nothing is due are skipped: a sweep then would do nothing.
async fn sweep<S: Store, N: Notifier>(
    baton: &Baton<S, N>,
    at: Timestamp,
    limit: Timestamp,
    digests: &mut NextDigest,
    printer: &Printer<'_>,
    report: &mut Report,
    out: &mut dyn Write,
) -> Result<Timestamp, ReplayError> {
    let result = baton.sweep(at).await?;
    if let Some(e) = result.unpublished.first() {
        return Err(ReplayError::Sweep(e.to_string()));
    }
    if let Some((case, e)) = result.failed.first() {
        return Err(ReplayError::Sweep(format!("case {case}: {e}")));
    }
    for (mut alert, event) in result.alerts {
        // As the SNS notifier makes them: as of the alert's `at`.
        if let Some(linker) = printer.linker {
            alert.links = linker.for_alert(&alert, alert.at);
        }
        let published = Published { alert, published_at: at };
        printer.alert(&published, &event, out)?;
        report.counts.alert(&published.alert);
        if printer.keep {
            report.alerts.push(published);
        }
    }
    for (case, event) in result.events {
        printer.engine_event(&case.to_string(), &event, out)?;
    }
    for mut digest in result.digests {
        if let Some(linker) = printer.linker {
            digest.link(linker, digest.at);
        }
        let published = PublishedDigest { digest, published_at: at };
        printer.digest(&published, out)?;
        report.counts.digest(&published.digest);
        if printer.keep {
            report.digests.push(published);
        }
    }
    for case in result.purged {
        printer.purged(at, &case, out)?;
    }
    let next = at + MINUTE;
    let digest = digests.after(at, |at| baton.sweeper().next_digest(at)).map_or(limit, ceil_minute);
    let earliest = baton.store.earliest_due().await?.map_or(limit, ceil_minute).min(digest);
    Ok(next.max(earliest.min(ceil_minute(limit))))
}

/// The first digest due after an instant, kept from one sweep to the next: the answer for `at` holds
/// for every later instant before it, so it is worked out again (each team's calendar) only once a
/// sweep reaches it, not at each of the replay's sweeps (a fifth of a million in the bench timeline).
#[derive(Debug, Default)]
struct NextDigest {
    known: Option<(Timestamp, Timestamp)>,
}

impl NextDigest {
    /// The first digest after `at`, from `next` (the sweep's own answer) when not known.
    fn after(&mut self, at: Timestamp, next: impl FnOnce(Timestamp) -> Option<Timestamp>) -> Option<Timestamp> {
        if let Some((asked, due)) = self.known
            && asked <= at
            && at < due
        {
            return Some(due);
        }
        let due = next(at);
        self.known = due.map(|due| (at, due));
        due
    }
}

fn ceil_minute(t: Timestamp) -> Timestamp {
    let secs = t.as_second();
    let floor = secs.div_euclid(60) * 60;
    let ceil = if floor == secs && t.subsec_nanosecond() == 0 { floor } else { floor + 60 };
    Timestamp::from_second(ceil).unwrap_or(Timestamp::MAX)
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("the sweep failed: {0}")]
    Sweep(String),
    #[error("writing the output: {0}")]
    Output(#[from] std::io::Error),
    #[error(transparent)]
    Line(#[from] LineError),
}

struct Printer<'a> {
    policy: &'a Policy,
    json: bool,
    linker: Option<&'a crate::link::Linker>,
    /// Whether the report keeps what was published.
    keep: bool,
}

impl Printer<'_> {
    fn local(&self, at: Timestamp, team: &TeamId) -> String {
        at.to_zoned(self.policy.calendar(team).time_zone().clone()).strftime("%a %Y-%m-%d %H:%M %Z").to_string()
    }

    fn note(&self, at: Timestamp, line: usize, text: &str, out: &mut dyn Write) -> std::io::Result<()> {
        if self.json {
            return Ok(());
        }
        let team = self.policy.intake_team();
        writeln!(out, "{}  line {line}: {text}", self.local(at, team))
    }

    async fn outcome<S: Store, N: Notifier>(
        &self,
        baton: &Baton<S, N>,
        line: &Line,
        inbound: &Inbound,
        outcome: &Outcome,
        out: &mut dyn Write,
    ) -> Result<(), ReplayError> {
        if self.json {
            return Ok(());
        }
        let signal = &inbound.signal;
        let (id, opened) = match outcome {
            Outcome::Applied { case, opened, .. } => (case, *opened),
            Outcome::Duplicate => {
                return Ok(self.note(signal.at, line.number, "duplicate delivery: no effect", out)?);
            }
            Outcome::Unrouted(why) => return Ok(self.note(signal.at, line.number, &format!("ignored: {why}"), out)?),
            Outcome::UnknownCase => return Ok(self.note(signal.at, line.number, "refused: no such case", out)?),
            Outcome::Rejected(r) => return Ok(self.note(signal.at, line.number, &format!("refused: {r}"), out)?),
        };
        let Some(case) = baton.store.load_whole(id).await? else { return Ok(()) };
        let event = case
            .timeline()
            .iter()
            .rev()
            .find(|e| e.source == signal.source && matches!(e.kind, EventKind::Signal { .. }))
            .cloned();
        let Some(event) = event else { return Ok(()) };
        let mut notes = Vec::new();
        if opened {
            notes.push("new case".to_string());
        }
        notes.extend(event.marks.labels());
        if let EventKind::Signal { signal: SignalKind::Link { .. } } = &event.kind {
            for absorbed in case.timeline().iter().filter(|e| e.source == signal.source) {
                if let EventKind::Absorbed { case: other } = &absorbed.kind {
                    notes.push(format!("same customer as {other}: merged"));
                }
            }
            let hops: Vec<&Event> = case.timeline().iter().filter(|e| e.marks.channel_hop.is_some()).collect();
            for hop in hops {
                notes.push(format!("channel hop at {}", self.local(hop.at, &hop.owner)));
            }
        }
        let what = describe(&event);
        let notes = if notes.is_empty() { String::new() } else { format!("  [{}]", notes.join(", ")) };
        writeln!(
            out,
            "{}  {}  {:<11} {what}{notes}",
            self.local(signal.at, &event.owner),
            case.id(),
            event.owner.as_str()
        )?;
        Ok(())
    }

    fn alert(&self, published: &Published, event: &Event, out: &mut dyn Write) -> std::io::Result<()> {
        if self.json {
            // Written whole into a buffer first: serde_json writes a line in hundreds of small
            // pieces, each a call through `dyn Write`.
            let mut line = Vec::with_capacity(1024);
            serde_json::to_writer(&mut line, &published.json_line())?;
            line.push(b'\n');
            return out.write_all(&line);
        }
        let alert = &published.alert;
        let label = match alert.kind.as_str() {
            "escalation" => format!("LEVEL {}", alert.level),
            other => other.to_ascii_uppercase().replace('_', " "),
        };
        writeln!(
            out,
            "{}  {}  {:<11} !! {label} {}: {}",
            self.local(alert.at, &event.owner),
            alert.case_id,
            alert.team.as_str(),
            alert.clock,
            alert.summary
        )
    }

    /// A digest: its JSON line; in the readable timeline, its summary when it lists anything (a
    /// quiet day's digest is counted in the summary only).
    fn digest(&self, published: &PublishedDigest, out: &mut dyn Write) -> std::io::Result<()> {
        if self.json {
            serde_json::to_writer(&mut *out, published)?;
            return writeln!(out);
        }
        let digest = &published.digest;
        if quiet(digest) {
            return Ok(());
        }
        writeln!(
            out,
            "{}  digest      {:<11} == {}",
            self.local(digest.at, &digest.team),
            digest.team.as_str(),
            digest.summary
        )
    }

    fn purged(&self, at: Timestamp, case: &CaseId, out: &mut dyn Write) -> std::io::Result<()> {
        if self.json {
            return Ok(());
        }
        let team = self.policy.intake_team();
        writeln!(out, "{}  {case}  deleted: closed longer than the policy's data.retention", self.local(at, team))
    }

    fn engine_event(&self, case: &str, event: &Event, out: &mut dyn Write) -> std::io::Result<()> {
        if self.json {
            return Ok(());
        }
        writeln!(
            out,
            "{}  {case}  {:<11} {}",
            self.local(event.at, &event.owner),
            event.owner.as_str(),
            describe(event)
        )
    }

    fn case(&self, at: Timestamp, case: &Case, out: &mut dyn Write) -> std::io::Result<()> {
        if self.json {
            return Ok(());
        }
        writeln!(
            out,
            "{}  {}  {:<11} case is {}; held: {}",
            self.local(at, case.owner()),
            case.id(),
            case.owner().as_str(),
            case.state().as_str(),
            held(case, at)
        )
    }

    fn summary(&self, report: &Report, until: Timestamp, out: &mut dyn Write) -> std::io::Result<()> {
        let team = self.policy.intake_team();
        writeln!(out, "\nSummary at {}", self.local(until, team))?;
        let open = report.cases.iter().filter(|c| !c.is_closed()).count();
        let merged = report.cases.iter().filter(|c| c.merged_into().is_some()).count();
        writeln!(
            out,
            "  cases: {} in all, {open} still open, {} closed ({merged} merged into another)",
            report.cases.len(),
            report.cases.len() - open
        )?;
        for case in &report.cases {
            let state = match (&case.merged_into(), case.close_reason()) {
                (Some(into), _) => format!("merged into {into}"),
                (None, Some(reason)) => format!("closed ({reason:?})").to_lowercase(),
                _ => case.state().as_str().to_string(),
            };
            let channels: Vec<&str> = case.channels().iter().map(|c| c.as_str()).collect();
            writeln!(
                out,
                "  {}  {state:<20} owner {:<11} channels {:<16} held: {}",
                case.id(),
                case.owner().as_str(),
                channels.join(","),
                held(case, until)
            )?;
        }
        let counts = &report.counts;
        let kinds: Vec<String> = counts.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let kinds = if kinds.is_empty() { String::new() } else { format!(" ({})", kinds.join(", ")) };
        writeln!(out, "  alerts: {}{kinds}", counts.alerts)?;
        writeln!(
            out,
            "  daily digests: {} ({} with nothing listed, not shown above)",
            counts.digests, counts.quiet_digests
        )?;
        writeln!(out, "  breaches per team and clock:")?;
        if counts.breaches.is_empty() {
            writeln!(out, "    none")?;
        }
        for ((team, clock), n) in &counts.breaches {
            writeln!(out, "    {team:<11} {clock:<18} {n}")?;
        }
        let mut totals: BTreeMap<TeamId, SignedDuration> = BTreeMap::new();
        for case in report.cases.iter().filter(|c| c.merged_into().is_none()) {
            for (team, d) in case.time_held(until) {
                *totals.entry(team).or_default() += d;
            }
        }
        let totals: Vec<String> = totals.iter().map(|(t, d)| format!("{t} {}", human(d.as_secs()))).collect();
        writeln!(out, "  time held per team (all cases): {}", totals.join(", "))
    }
}

fn held(case: &Case, now: Timestamp) -> String {
    let held: Vec<String> = case.time_held(now).iter().map(|(t, d)| format!("{t} {}", human(d.as_secs()))).collect();
    held.join(", ")
}

fn describe(event: &Event) -> String {
    match &event.kind {
        EventKind::Signal { signal } => match signal {
            SignalKind::CustomerMessage { channel, public, .. } => {
                format!("customer wrote ({channel}{})", if *public { ", public" } else { "" })
            }
            SignalKind::AgentReply { channel, team, .. } => match team {
                Some(team) => format!("reply to the customer by {team} ({channel})"),
                None => format!("reply to the customer ({channel})"),
            },
            SignalKind::InternalNote { .. } => "internal note".into(),
            SignalKind::Handoff { to } => format!("handoff to {to}"),
            SignalKind::Accept { team } => format!("{team} accepts the case"),
            SignalKind::ResolutionProposed => "resolution proposed".into(),
            SignalKind::CustomerConfirmation => "customer confirms: solved".into(),
            SignalKind::CustomerRejection => "customer says: not solved".into(),
            SignalKind::Link { identity } => {
                format!("identity linked ({})", identity.to_string().split(':').next().unwrap_or("?"))
            }
            SignalKind::Acknowledge { clock, level, by, snooze } if by.is_empty() => {
                format!("{clock} level {level} acknowledged, snoozed {snooze}")
            }
            SignalKind::Acknowledge { clock, level, by, snooze } => {
                format!("{by} acknowledges {clock} level {level}, snoozed {snooze}")
            }
            SignalKind::SurveyRequested { channel } => format!("satisfaction survey sent ({channel})"),
            SignalKind::PriorityChange { priority } => format!("priority changed to {}", priority.as_str()),
        },
        EventKind::ConfirmationExpired => "confirmation window ran out: closed as unconfirmed".into(),
        EventKind::Absorbed { case } => format!("absorbed {case}"),
        EventKind::MergedInto { case } => format!("merged into {case}"),
        EventKind::ContinuedIn { case } => format!("full: goes on in {case}"),
        EventKind::Continues { case, .. } => format!("continues {case}, which is full"),
        EventKind::Alerted { alert, clock, .. } => format!("{} {clock}", alert.as_str()),
        EventKind::ClosureRisk { .. } => "closure risk".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_digest_is_worked_out_again_only_once_a_sweep_reaches_it() {
        let t = |s: &str| -> Timestamp { s.parse().unwrap() };
        let (nine, noon) = (t("2026-04-13T09:00:00Z"), t("2026-04-13T12:00:00Z"));
        let asked = std::cell::RefCell::new(Vec::new());
        let mut next = NextDigest::default();
        let mut after = |at: Timestamp, answer: Timestamp| {
            next.after(at, |at| {
                asked.borrow_mut().push(at);
                Some(answer)
            })
        };
        assert_eq!(after(nine, noon), Some(noon));
        // Before noon the answer stands, whatever the calendar would say now.
        assert_eq!(after(t("2026-04-13T11:59:00Z"), t("2026-04-14T12:00:00Z")), Some(noon));
        // At noon it is due, not after: asked again.
        assert_eq!(after(noon, t("2026-04-14T12:00:00Z")), Some(t("2026-04-14T12:00:00Z")));
        // An instant before the one asked is asked again too.
        assert_eq!(after(nine, noon), Some(noon));
        assert_eq!(*asked.borrow(), vec![nine, noon, nine]);
    }

    fn sample_lines() -> Vec<String> {
        let mut lines = Vec::new();
        for sample in ["velcro", "retailer"] {
            let text = std::fs::read_to_string(format!("{}/samples/{sample}.jsonl", env!("CARGO_MANIFEST_DIR")));
            lines.extend(text.unwrap().lines().filter(|l| !l.trim().is_empty()).map(str::to_string));
        }
        lines.push(
            r#"{"at":"2026-04-13T06:00:00Z","source":"webhook","payload":{"id":"evt_1","type":"customer_message","at":"2026-04-13T06:00:00Z","customer":{"channel":"chat","id":"visitor-7"},"channel":"chat","message":"other:chat-1","team":"support-de"}}"#.into(),
        );
        lines
    }

    /// The same line with its fields in another order (the payload first, then `at`, then `source`).
    fn reordered(line: &str) -> String {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        format!(r#"{{"payload":{},"at":{},"source":{}}}"#, value["payload"], value["at"], value["source"])
    }

    #[test]
    fn a_line_reads_the_same_in_one_pass_as_in_two() {
        let policy = Policy::default_policy();
        let lines = sample_lines();
        for source in ["ses", "meta", "x", "webhook", "api"] {
            assert!(lines.iter().any(|l| l.contains(&format!(r#""source":"{source}""#))), "no {source} line");
        }
        for (number, line) in lines.iter().enumerate() {
            let read = serde_json::from_str::<OnePass>(line);
            assert!(read.is_ok(), "line {number} is not read in one pass: {:?}", read.err());
            for text in [line.clone(), reordered(line)] {
                let (one, two) = (parse_line(&text, number, &policy), two_pass(&text, number, &policy));
                assert_eq!(format!("{one:?}"), format!("{two:?}"), "{text}");
            }
        }
    }

    #[test]
    fn a_bad_line_reads_as_the_two_pass_reading_reads_it() {
        let policy = Policy::default_policy();
        let at = r#""at":"2026-04-12T17:42:10Z""#;
        let get = r#""payload":{"method":"GET","path":"/cases/BTN-7K3QF9"}"#;
        let mut bad = vec![
            format!(r#"{{{at},"source":"ses","payload":{{"Records":3}}}}"#),
            format!(r#"{{{at},"source":"meta","payload":[1]}}"#),
            format!(r#"{{{at},"source":"x","payload":{{"for_user_id":}}}}"#),
            format!(r#"{{{at},"source":"webhook","payload":{{"id":"e","type":"customer_message","extra":1}}}}"#),
            format!(r#"{{{at},"source":"api","payload":{{"method":"POST"}}}}"#),
            format!(r#"{{{at},"source":"api","payload":{{"method":"GET","path":"/cases/BTN-7K3QF9"}},"more":1}}"#),
            // Lines that would read well but for their envelope.
            format!(r#"{{{at},"source":"api","source":"api",{get}}}"#),
            format!(r#"{{{at},{at},"source":"api",{get}}}"#),
            format!(r#"{{{at},"source":"api",{get},{get}}}"#),
            format!(r#"{{{at},"source":"api"}}"#),
            format!(r#"{{"source":"api",{get}}}"#),
            format!(r#"{{{at},{get}}}"#),
            format!(r#"{{{at},"source":"fax","payload":{{}}}}"#),
            format!(r#"{{{at},"source":"api","payload":{{"method":"GET","path":"/cases/BTN-7K3QF9"}}}} trailing"#),
            r#"{"at":"yesterday","source":"ses","payload":{}}"#.to_string(),
            "[1, 2]".to_string(),
            "not json".to_string(),
        ];
        bad.push(reordered(&bad[0]));
        let mut errors = 0;
        for text in &bad {
            let (one, two) = (parse_line(text, 7, &policy), two_pass(text, 7, &policy));
            errors += usize::from(two.is_err());
            // Errors and all: a Meta body that is not an object is skipped, not an error.
            assert_eq!(format!("{one:?}"), format!("{two:?}"), "{text}");
        }
        assert_eq!(errors, bad.len() - 1);
    }
}
