//! The policy: organisation, calendars, teams, targets and the escalation ladder, read from TOML.
//!
//! Parsing is two steps. Serde reads the TOML into raw structs (unknown keys and wrong types are
//! reported by `toml` with the line and key); then [`Policy::from_raw`] reads one section at a time
//! (`read_organisation`, `read_calendars`, `read_teams`, ...) into domain types, every section noting
//! its problems in one collector (`Problems`), each with the dotted key that is wrong, so
//! `baton check-policy` can list them all in one go.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::tz::TimeZone;
use serde::Deserialize;

use super::calendar::{Calendar, CalendarSpec, Hours, holidays_from_ics, parse_weekdays};
use super::clock::ClockKind;
use super::duration::PolicyDuration;
use super::ids::{ChannelClass, Identity, Priority, TeamId};

/// The policy shipped with Baton; `BATON_POLICY` or `--policy` replace it.
pub const DEFAULT_POLICY: &str = include_str!("../../config/policy.toml");

/// One problem in a policy, with the dotted key it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub key: String,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() { f.write_str(&self.message) } else { write!(f, "{}: {}", self.key, self.message) }
    }
}

/// Every problem found in a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "{}", lines.join("\n"))
    }
}

/// The one collector that every section of the policy notes its problems in, each with the dotted
/// key it concerns, in the order found; a section goes on after a problem, so that
/// `baton check-policy` can name every wrong key at once.
#[derive(Debug, Default)]
struct Problems(Vec<PolicyError>);

impl Problems {
    fn add(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(PolicyError { key: key.into(), message: message.into() });
    }

    /// The value read, or `None` with its error noted under `key`.
    fn check<T, E: fmt::Display>(&mut self, key: impl Into<String>, read: Result<T, E>) -> Option<T> {
        read.map_err(|e| self.add(key, e.to_string())).ok()
    }

    /// Every problem noted, if there is one.
    fn finish(self) -> Result<(), PolicyErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(PolicyErrors(self.0)) }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    organisation: RawOrganisation,
    calendars: BTreeMap<String, RawCalendar>,
    teams: BTreeMap<String, RawTeam>,
    targets: RawTargets,
    ladder: RawLadder,
    #[serde(default)]
    data: RawData,
    /// Priority name to the customers whose cases open at it: identities or `@domain`s.
    #[serde(default)]
    customers: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawData {
    #[serde(default)]
    excerpt_chars: Option<usize>,
    #[serde(default)]
    retention: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrganisation {
    name: String,
    domains: Vec<String>,
    case_prefix: String,
    #[serde(default)]
    default_priority: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    time_zone: String,
    hours: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    holidays_file: Option<String>,
    #[serde(default)]
    closures: Vec<RawClosure>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClosure {
    from: String,
    to: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTeam {
    calendar: String,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    mailboxes: Vec<String>,
    #[serde(default)]
    meta_page_ids: Vec<String>,
    #[serde(default)]
    x_account_ids: Vec<String>,
    #[serde(default)]
    x_screen_names: Vec<String>,
    #[serde(default)]
    auto_acknowledge: bool,
    /// When the team's daily digest goes out, local time (`"08:30"`); default: the start of its day.
    #[serde(default)]
    digest_at: Option<String>,
}

/// Unknown clock names land in `clocks` and are reported there (serde cannot deny unknown fields
/// beside a flattened map).
#[derive(Debug, Deserialize)]
struct RawTargets {
    #[serde(flatten)]
    clocks: BTreeMap<String, RawTarget>,
    #[serde(default)]
    priority: BTreeMap<String, BTreeMap<String, RawTarget>>,
}

/// A target: one duration for every channel class, or one per class
/// (`email`, `social`, `social_private`, `social_public`, `default`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawTarget {
    All(String),
    ByClass(BTreeMap<String, String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLadder {
    #[serde(default)]
    warning_at: Option<String>,
    level_2_after: String,
    level_3_after: String,
    #[serde(default)]
    repeat_every: Option<String>,
    #[serde(default)]
    reminders: Option<String>,
    #[serde(default)]
    closure_lookahead: Option<String>,
}

/// A team: who owns cases, on which calendar, reached through which mailboxes and social accounts.
#[derive(Debug, Clone)]
pub struct Team {
    pub id: TeamId,
    pub calendar: Arc<Calendar>,
    pub region: Option<String>,
    pub mailboxes: Vec<String>,
    pub meta_page_ids: Vec<String>,
    pub x_account_ids: Vec<String>,
    pub x_screen_names: Vec<String>,
    /// A customer's first email to this team is answered at once with the case number.
    pub auto_acknowledge: bool,
    /// When its daily digest goes out on each of its business days, local time (`None`: at the
    /// start of its business hours).
    pub digest_at: Option<jiff::civil::Time>,
}

/// Targets of one clock, per channel class.
#[derive(Debug, Clone, Default)]
struct ClassTargets {
    email: Option<PolicyDuration>,
    social_private: Option<PolicyDuration>,
    social_public: Option<PolicyDuration>,
}

impl ClassTargets {
    fn get(&self, class: ChannelClass) -> Option<PolicyDuration> {
        match class {
            ChannelClass::Email => self.email,
            ChannelClass::SocialPrivate => self.social_private,
            ChannelClass::SocialPublic => self.social_public,
        }
    }
}

/// The escalation ladder.
#[derive(Debug, Clone)]
pub struct Ladder {
    /// Share of the target at which the owning team is warned, in percent; `None`: no warning.
    pub warning_percent: Option<u8>,
    pub level_2_after: PolicyDuration,
    pub level_3_after: PolicyDuration,
    /// How often a case in breach is reminded of, at least (business time of the owning team; a
    /// reminder is at the start of a business day, so `1d` is every business day); `None`: never.
    pub repeat_every: Option<PolicyDuration>,
    /// Where reminders go (`reminders`).
    pub reminders: Reminders,
    /// How far ahead a closure is looked for to warn of cases that will breach over it.
    pub closure_lookahead: PolicyDuration,
}

/// Where a case still in breach is reminded of (`[ladder] reminders`, docs/design.md "One voice per
/// case"). Either way a clock's ladder ends at level 3, and warnings, breaches, escalations, closure
/// risks and `cleared` alerts are published as they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reminders {
    /// In the owning team's daily digest (the default): no reminder alerts; the digest lists every
    /// case in breach each business day.
    #[default]
    Digest,
    /// At most one `reminder` alert per case per business day of the owning team, at the start of
    /// that day, listing every clock of the case in breach and not acknowledged.
    Daily,
}

impl Reminders {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Digest => "digest",
            Self::Daily => "daily",
        }
    }

    /// Whether the sweep publishes reminders as alerts (else the digest carries them).
    pub fn as_alerts(self) -> bool {
        self == Self::Daily
    }
}

/// The validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    pub organisation: String,
    pub domains: Vec<String>,
    pub case_prefix: String,
    pub default_priority: Priority,
    pub teams: BTreeMap<TeamId, Team>,
    targets: BTreeMap<(Option<Priority>, ClockKind), ClassTargets>,
    pub ladder: Ladder,
    pub data: DataRules,
    /// Customers whose cases open at another priority (`[customers]`), most urgent first.
    pub customers: Vec<(Priority, CustomerMatch)>,
}

/// A customer named in `[customers]`: one identity, or everybody writing from an email domain
/// (`@key-account.example`, its subdomains too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerMatch {
    Identity(Identity),
    Domain(String),
}

impl CustomerMatch {
    fn parse(text: &str) -> Result<Self, String> {
        if let Some(domain) = text.strip_prefix('@') {
            if domain.is_empty() || domain.contains('@') || !domain.contains('.') {
                return Err(format!("`{text}` is not an email domain (`@example.com`)"));
            }
            return Ok(Self::Domain(domain.to_ascii_lowercase()));
        }
        match text.parse::<Identity>() {
            Ok(Identity::Erased) | Err(_) => Err(format!(
                "`{text}` is neither an identity (`email:<address>`, `x:<user id>`, `meta:<id>`, `other:<id>`) nor a domain (`@example.com`)"
            )),
            Ok(identity) => Ok(Self::Identity(identity)),
        }
    }

    fn matches(&self, identity: &Identity) -> bool {
        match (self, identity) {
            (Self::Domain(domain), Identity::Email(address)) => address.rsplit_once('@').is_some_and(|(_, d)| {
                let d = d.to_ascii_lowercase();
                d == *domain || d.ends_with(&format!(".{domain}"))
            }),
            (Self::Identity(Identity::Email(wanted)), Identity::Email(address)) => wanted.eq_ignore_ascii_case(address),
            (Self::Identity(wanted), identity) => wanted == identity,
            (Self::Domain(_), _) => false,
        }
    }
}

/// What Baton keeps of a customer's messages, and for how long (`[data]` in the policy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRules {
    /// How many characters of a message's text (an email's subject) the timeline keeps; 0 keeps none.
    /// The body itself is never stored.
    pub excerpt_chars: usize,
    /// How long a closed case is kept before the sweep deletes it (calendar time); `None`: forever.
    pub retention: Option<jiff::SignedDuration>,
}

impl Default for DataRules {
    fn default() -> Self {
        Self { excerpt_chars: DEFAULT_EXCERPT_CHARS, retention: Some(DEFAULT_RETENTION) }
    }
}

/// The defaults of `[data]`: a short excerpt, and closed cases kept for 90 days.
pub const DEFAULT_EXCERPT_CHARS: usize = 80;
pub const DEFAULT_RETENTION: jiff::SignedDuration = jiff::SignedDuration::from_hours(90 * 24);

impl DataRules {
    /// The excerpt kept of `text`: its first `excerpt_chars` characters, whitespace folded, with an
    /// ellipsis when cut; `None` when excerpts are off or the text is blank.
    pub fn excerpt(&self, text: &str) -> Option<String> {
        if self.excerpt_chars == 0 {
            return None;
        }
        let mut words = text.split_whitespace().peekable();
        words.peek()?;
        let mut out = String::new();
        let mut count = 0;
        for word in words {
            if !out.is_empty() {
                out.push(' ');
                count += 1;
            }
            for c in word.chars() {
                if count == self.excerpt_chars {
                    out.pop();
                    out.push('…');
                    return Some(out);
                }
                out.push(c);
                count += 1;
            }
        }
        Some(out)
    }
}

impl Policy {
    /// The shipped default policy.
    pub fn default_policy() -> Self {
        Self::from_toml(DEFAULT_POLICY, None).expect("the shipped policy is valid (checked by a test)")
    }

    /// Reads a policy file; relative `holidays_file` paths are taken from the file's folder.
    pub fn load(path: &Path) -> Result<Self, PolicyErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            PolicyErrors(vec![PolicyError {
                key: String::new(),
                message: format!("cannot read {}: {e}", path.display()),
            }])
        })?;
        Self::from_toml(&text, path.parent())
    }

    /// `BATON_POLICY` holds either a path or the policy text itself.
    pub fn from_setting(value: &str) -> Result<Self, PolicyErrors> {
        if value.contains('\n') || value.trim_start().starts_with('[') {
            Self::from_toml(value, None)
        } else {
            Self::load(Path::new(value))
        }
    }

    pub fn from_toml(text: &str, base: Option<&Path>) -> Result<Self, PolicyErrors> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| {
            PolicyErrors(vec![PolicyError { key: String::new(), message: e.to_string().trim_end().to_string() }])
        })?;
        Self::from_raw(raw, base)
    }

    /// Reads the sections one at a time, each noting its problems in one [`Problems`], so that every
    /// wrong key is named in one go (in the order of the sections below).
    fn from_raw(raw: RawPolicy, base: Option<&Path>) -> Result<Self, PolicyErrors> {
        let mut problems = Problems::default();
        let default_priority = read_organisation(&raw.organisation, &mut problems);
        let calendars = read_calendars(&raw.calendars, base, &mut problems);
        let teams = read_teams(raw.teams, &calendars, &mut problems);
        let targets = read_targets(&raw.targets, &mut problems);
        let ladder = read_ladder(&raw.ladder, &mut problems);
        let data = read_data(&raw.data, &mut problems);
        let customers = read_customers(&raw.customers, &mut problems);
        problems.finish()?;

        let org = raw.organisation;
        Ok(Self {
            organisation: org.name,
            domains: org.domains.iter().map(|d| d.to_ascii_lowercase()).collect(),
            case_prefix: org.case_prefix,
            default_priority,
            teams,
            targets,
            ladder: ladder.expect("a ladder that does not read has noted why"),
            data: data.expect("a [data] that does not read has noted why"),
            customers,
        })
    }

    /// The priority `[customers]` gives a case this customer opens: the most urgent that names them.
    pub fn customer_priority(&self, identity: &Identity) -> Option<Priority> {
        self.customers.iter().find(|(_, m)| m.matches(identity)).map(|(priority, _)| *priority)
    }

    pub fn team(&self, id: &TeamId) -> Option<&Team> {
        self.teams.get(id)
    }

    /// The team that takes a new case nobody addressed (no team's mailbox, page or account named):
    /// the first team in the order of their names that has a mailbox, else the first team.
    pub fn intake_team(&self) -> &TeamId {
        &self.intake().id
    }

    fn intake(&self) -> &Team {
        self.teams
            .values()
            .find(|t| !t.mailboxes.is_empty())
            .or_else(|| self.teams.values().next())
            .expect("a policy has teams")
    }

    /// The calendar of a team; an unknown team (say, from an old case after a policy change) falls back
    /// to the calendar of the intake team ([`Policy::intake_team`]) so that clocks keep running rather
    /// than stop.
    pub fn calendar(&self, id: &TeamId) -> &Calendar {
        self.teams.get(id).unwrap_or_else(|| self.intake()).calendar.as_ref()
    }

    pub fn region(&self, id: &TeamId) -> Option<&str> {
        self.teams.get(id).and_then(|t| t.region.as_deref())
    }

    /// The team whose mailbox this address is.
    pub fn team_for_mailbox(&self, address: &str) -> Option<&Team> {
        let address = address.to_ascii_lowercase();
        self.teams.values().find(|t| t.mailboxes.contains(&address))
    }

    pub fn team_for_meta_page(&self, page_id: &str) -> Option<&Team> {
        self.teams.values().find(|t| t.meta_page_ids.iter().any(|p| p == page_id))
    }

    pub fn team_for_x_account(&self, account_id: &str) -> Option<&Team> {
        self.teams.values().find(|t| t.x_account_ids.iter().any(|p| p == account_id))
    }

    /// Whether an address belongs to one of the organisation's domains.
    pub fn is_org_address(&self, address: &str) -> bool {
        let Some((_, domain)) = address.rsplit_once('@') else { return false };
        let domain = domain.to_ascii_lowercase();
        self.domains.iter().any(|d| domain == *d || domain.ends_with(&format!(".{d}")))
    }

    /// The target of a clock for a channel class and priority: the priority's own target if it has
    /// one, else the general one (validation made sure that one exists).
    pub fn target(&self, clock: ClockKind, class: ChannelClass, priority: Priority) -> PolicyDuration {
        self.targets
            .get(&(Some(priority), clock))
            .and_then(|t| t.get(class))
            .or_else(|| self.targets.get(&(None, clock)).and_then(|t| t.get(class)))
            .expect("validation requires a target for every clock and class")
    }
}

// The sections of the policy, one function each. Each reads its raw section into domain values and
// notes every problem in the one `Problems` it is handed, then goes on, so that later sections are
// checked too.

/// The calendars by name; `None` for one that is wrong (noted already), so that a team on it is not
/// reported a second time.
type Calendars = BTreeMap<String, Option<Arc<Calendar>>>;

type Targets = BTreeMap<(Option<Priority>, ClockKind), ClassTargets>;

/// `[organisation]`: checks the case prefix and the domains, and gives the default priority
/// (`normal` when it is not named, or wrong).
fn read_organisation(org: &RawOrganisation, problems: &mut Problems) -> Priority {
    let prefix_ok = super::ids::is_case_prefix(&org.case_prefix);
    if !prefix_ok {
        problems.add("organisation.case_prefix", "must be 2 to 8 capital letters");
    }
    if org.domains.is_empty() {
        problems.add("organisation.domains", "name at least one email domain of the organisation");
    }
    org.default_priority
        .as_deref()
        .and_then(|p| problems.check("organisation.default_priority", p.parse::<Priority>()))
        .unwrap_or(Priority::Normal)
}

/// `[calendars.NAME]`: each calendar; the first problem of a calendar is noted, with its key.
fn read_calendars(raw: &BTreeMap<String, RawCalendar>, base: Option<&Path>, problems: &mut Problems) -> Calendars {
    raw.iter()
        .map(|(name, cal)| {
            let calendar = match build_calendar(cal, base) {
                Ok(c) => Some(Arc::new(c)),
                Err((sub, message)) => {
                    problems.add(format!("calendars.{name}{sub}"), message);
                    None
                }
            };
            (name.clone(), calendar)
        })
        .collect()
}

/// `[teams.NAME]`: each team on a calendar of `calendars`, its mailboxes lowercased; a mailbox
/// belongs to one team only, and there is at least one team.
fn read_teams(
    raw: BTreeMap<String, RawTeam>,
    calendars: &Calendars,
    problems: &mut Problems,
) -> BTreeMap<TeamId, Team> {
    let mut teams = BTreeMap::new();
    for (name, team) in raw {
        let key = format!("teams.{name}");
        let Some(id) = problems.check(&key, name.parse::<TeamId>()) else { continue };
        let calendar = match calendars.get(&team.calendar) {
            Some(Some(calendar)) => calendar.clone(),
            Some(None) => continue,
            None => {
                problems.add(format!("{key}.calendar"), format!("no calendar named `{}`", team.calendar));
                continue;
            }
        };
        let digest_at = team.digest_at.as_deref().and_then(|text| {
            // Exactly `HH:MM`: jiff's own parser would also take a date, an offset or a zone and
            // drop them without a word.
            let parsed = jiff::civil::Time::strptime("%H:%M", text)
                .map_err(|_| format!("`{text}` is not a local time of day like \"08:30\""));
            problems.check(format!("{key}.digest_at"), parsed)
        });
        for mailbox in &team.mailboxes {
            if !mailbox.contains('@') {
                problems.add(format!("{key}.mailboxes"), format!("`{mailbox}` is not an email address"));
            }
        }
        teams.insert(
            id.clone(),
            Team {
                id,
                calendar,
                region: team.region,
                mailboxes: team.mailboxes.iter().map(|m| m.to_ascii_lowercase()).collect(),
                meta_page_ids: team.meta_page_ids,
                x_account_ids: team.x_account_ids,
                x_screen_names: team
                    .x_screen_names
                    .iter()
                    .map(|s| s.trim_start_matches('@').to_ascii_lowercase())
                    .collect(),
                auto_acknowledge: team.auto_acknowledge,
                digest_at,
            },
        );
    }
    if teams.is_empty() && calendars.values().all(Option::is_some) {
        problems.add("teams", "name at least one team");
    }
    let mut seen = BTreeMap::new();
    for team in teams.values() {
        for mailbox in &team.mailboxes {
            if let Some(other) = seen.insert(mailbox.clone(), team.id.clone()) {
                problems.add(
                    format!("teams.{}.mailboxes", team.id),
                    format!("`{mailbox}` is already the mailbox of `{other}`"),
                );
            }
        }
    }
    teams
}

/// `[targets]` and `[targets.priority.NAME]`: a general target for every clock and channel class,
/// which a priority's own targets override.
fn read_targets(raw: &RawTargets, problems: &mut Problems) -> Targets {
    let mut targets = Targets::new();
    read_clock_targets(None, "targets", &raw.clocks, &mut targets, problems);
    for (name, clocks) in &raw.priority {
        let key = format!("targets.priority.{name}");
        if let Some(priority) = problems.check(&key, name.parse::<Priority>()) {
            read_clock_targets(Some(priority), &key, clocks, &mut targets, problems);
        }
    }
    for clock in ClockKind::ALL {
        let key = format!("targets.{clock}");
        if !raw.clocks.contains_key(clock.as_str()) {
            problems.add(key, "missing: every clock needs a target");
        } else if let Some(t) = targets.get(&(None, clock)) {
            let classes = [ChannelClass::Email, ChannelClass::SocialPrivate, ChannelClass::SocialPublic];
            if let Some(class) = classes.into_iter().find(|c| t.get(*c).is_none()) {
                let message = format!(
                    "no target for {} messages: give one for every channel class or a `default`",
                    class_name(class)
                );
                problems.add(key, message);
            }
        }
    }
    targets
}

/// One table of clock targets under `key` (the general one, or a priority's) into `targets`.
fn read_clock_targets(
    priority: Option<Priority>,
    key: &str,
    clocks: &BTreeMap<String, RawTarget>,
    targets: &mut Targets,
    problems: &mut Problems,
) {
    for (clock_name, target) in clocks {
        let key = format!("{key}.{clock_name}");
        let Some(clock) = problems.check(&key, clock_name.parse::<ClockKind>()) else { continue };
        match class_targets(target) {
            Ok(t) => {
                if matches!(clock, ClockKind::CustomerSilence)
                    && [t.email, t.social_private, t.social_public].iter().flatten().any(|d| !d.is_calendar())
                {
                    problems.add(
                        key,
                        "customer_silence counts calendar time that no holiday pauses: write e.g. `5d calendar`",
                    );
                }
                targets.insert((priority, clock), t);
            }
            Err((sub, message)) => problems.add(format!("{key}{sub}"), message),
        }
    }
}

/// `[ladder]`: the warning share, the delays of levels 2 and 3 (3 not before 2), the reminders and
/// the closure lookahead; `None` when a delay it cannot do without is wrong.
fn read_ladder(raw: &RawLadder, problems: &mut Problems) -> Option<Ladder> {
    let mut duration =
        |name: &str, text: &str| problems.check(format!("ladder.{name}"), text.parse::<PolicyDuration>());
    let level_2_after = duration("level_2_after", &raw.level_2_after);
    let level_3_after = duration("level_3_after", &raw.level_3_after);
    let repeat_every = raw.repeat_every.as_deref().and_then(|t| duration("repeat_every", t));
    let closure_lookahead = match raw.closure_lookahead.as_deref() {
        Some(t) => duration("closure_lookahead", t),
        None => Some("7d calendar".parse().expect("valid literal")),
    };
    let reminders = match raw.reminders.as_deref().map(str::trim) {
        None | Some("digest") => Reminders::Digest,
        Some("daily") => Reminders::Daily,
        Some(other) => {
            problems.add("ladder.reminders", format!("`{other}` is not one of digest, daily"));
            Reminders::Digest
        }
    };
    let warning_percent = match raw.warning_at.as_deref() {
        None => None,
        Some(text) => match text.trim().trim_end_matches('%').parse::<u8>() {
            Ok(p) if (1..100).contains(&p) => Some(p),
            _ => {
                problems.add("ladder.warning_at", format!("`{text}` is not a share of the target between 1% and 99%"));
                None
            }
        },
    };
    if let (Some(l2), Some(l3)) = (level_2_after, level_3_after)
        && l2.days * 86_400 + l2.seconds > l3.days * 86_400 + l3.seconds
    {
        problems.add("ladder.level_3_after", "level 3 must come after level 2");
    }
    Some(Ladder {
        warning_percent,
        level_2_after: level_2_after?,
        level_3_after: level_3_after?,
        repeat_every,
        reminders,
        closure_lookahead: closure_lookahead?,
    })
}

/// `[data]`: the excerpt length and the retention (calendar time, or `forever`); `None` when the
/// retention is wrong.
fn read_data(raw: &RawData, problems: &mut Problems) -> Option<DataRules> {
    let retention = match raw.retention.as_deref().map(str::trim) {
        None => Some(DEFAULT_RETENTION),
        Some("forever") => None,
        Some(text) => match text.parse::<PolicyDuration>() {
            Ok(d) if d.is_calendar() || d.days == 0 => {
                Some(jiff::SignedDuration::from_secs(d.days * 86_400 + d.seconds))
            }
            Ok(_) => {
                problems.add(
                    "data.retention",
                    format!("`{text}` counts business days: write calendar time, e.g. `90d calendar`"),
                );
                return None;
            }
            Err(e) => {
                problems.add("data.retention", format!("{e}, or `forever`"));
                return None;
            }
        },
    };
    Some(DataRules { excerpt_chars: raw.excerpt_chars.unwrap_or(DEFAULT_EXCERPT_CHARS), retention })
}

/// `[customers]`: the customers whose cases open at another priority, most urgent first.
fn read_customers(raw: &BTreeMap<String, Vec<String>>, problems: &mut Problems) -> Vec<(Priority, CustomerMatch)> {
    let mut customers = Vec::new();
    for (name, list) in raw {
        let key = format!("customers.{name}");
        let Some(priority) = problems.check(&key, name.parse::<Priority>()) else { continue };
        for text in list {
            if let Some(customer) = problems.check(&key, CustomerMatch::parse(text)) {
                customers.push((priority, customer));
            }
        }
    }
    customers.sort_by_key(|(priority, _)| std::cmp::Reverse(*priority));
    customers
}

fn class_name(class: ChannelClass) -> &'static str {
    match class {
        ChannelClass::Email => "email",
        ChannelClass::SocialPrivate => "private social",
        ChannelClass::SocialPublic => "public social",
    }
}

fn class_targets(raw: &RawTarget) -> Result<ClassTargets, (String, String)> {
    let parse = |key: &str, text: &str| -> Result<PolicyDuration, (String, String)> {
        text.parse().map_err(|e: super::duration::DurationError| (key.to_string(), e.to_string()))
    };
    match raw {
        RawTarget::All(text) => {
            let d = parse("", text)?;
            Ok(ClassTargets { email: Some(d), social_private: Some(d), social_public: Some(d) })
        }
        RawTarget::ByClass(map) => {
            let mut t = ClassTargets::default();
            // Most general first, so the specific keys win.
            for key in ["default", "social", "email", "social_private", "social_public"] {
                let Some(text) = map.get(key) else { continue };
                let d = parse(&format!(".{key}"), text)?;
                match key {
                    "default" => (t.email, t.social_private, t.social_public) = (Some(d), Some(d), Some(d)),
                    "social" => (t.social_private, t.social_public) = (Some(d), Some(d)),
                    "email" => t.email = Some(d),
                    "social_private" => t.social_private = Some(d),
                    _ => t.social_public = Some(d),
                }
            }
            if let Some(unknown) = map
                .keys()
                .find(|k| !["default", "social", "email", "social_private", "social_public"].contains(&k.as_str()))
            {
                return Err((
                    format!(".{unknown}"),
                    "unknown channel class: use email, social, social_private, social_public or default".into(),
                ));
            }
            Ok(t)
        }
    }
}

fn build_calendar(raw: &RawCalendar, base: Option<&Path>) -> Result<Calendar, (String, String)> {
    let tz = TimeZone::get(&raw.time_zone)
        .map_err(|_| (".time_zone".to_string(), format!("`{}` is not an IANA time zone", raw.time_zone)))?;
    let mut spec = CalendarSpec::default();
    for (days, hours) in &raw.hours {
        let key = format!(".hours.{days}");
        let days = parse_weekdays(days).map_err(|e| (key.clone(), e.to_string()))?;
        let spans: Vec<&String> = match hours {
            OneOrMany::One(h) => vec![h],
            OneOrMany::Many(h) => h.iter().collect(),
        };
        for span in spans {
            let hours = Hours::parse(span).map_err(|e| (key.clone(), e.to_string()))?;
            for &d in &days {
                spec.week[d].push(hours);
            }
        }
    }
    for holiday in &raw.holidays {
        spec.holidays.push(
            holiday.parse().map_err(|e: super::calendar::CalendarError| (".holidays".to_string(), e.to_string()))?,
        );
    }
    if let Some(file) = &raw.holidays_file {
        let path = base.map_or_else(|| PathBuf::from(file), |b| b.join(file));
        let text = std::fs::read_to_string(&path)
            .map_err(|e| (".holidays_file".to_string(), format!("cannot read {}: {e}", path.display())))?;
        spec.holidays.extend(holidays_from_ics(&text).map_err(|e| (".holidays_file".to_string(), e.to_string()))?);
    }
    for (i, closure) in raw.closures.iter().enumerate() {
        let key = format!(".closures[{i}]");
        let date = |t: &str| {
            t.parse::<jiff::civil::Date>()
                .map_err(|_| (key.clone(), format!("`{t}` is not a date (YYYY-MM-DD){}", name_suffix(&closure.name))))
        };
        spec.closures.push((date(&closure.from)?, date(&closure.to)?));
    }
    Calendar::new(tz, spec).map_err(|e| (String::new(), e.to_string()))
}

fn name_suffix(name: &Option<String>) -> String {
    name.as_ref().map(|n| format!(" in closure `{n}`")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    #[test]
    fn the_shipped_policy_is_valid_and_holds_the_contracted_defaults() {
        let p = Policy::from_toml(DEFAULT_POLICY, None).unwrap();
        assert_eq!(p.case_prefix, "BTN");
        assert_eq!(p.domains, vec!["brand.example"]);
        let ids: Vec<&str> = p.teams.keys().map(TeamId::as_str).collect();
        assert_eq!(ids, vec!["central", "social", "support-ch", "support-de"]);
        let t = |c, class| p.target(c, class, Priority::Normal).to_string();
        assert_eq!(t(ClockKind::FirstResponse, ChannelClass::Email), "8h");
        assert_eq!(t(ClockKind::FirstResponse, ChannelClass::SocialPrivate), "2h");
        assert_eq!(t(ClockKind::FirstResponse, ChannelClass::SocialPublic), "1h");
        assert_eq!(t(ClockKind::NextResponse, ChannelClass::Email), "8h");
        assert_eq!(t(ClockKind::NextResponse, ChannelClass::SocialPublic), "2h");
        assert_eq!(t(ClockKind::HandoffAccept, ChannelClass::Email), "4h");
        assert_eq!(t(ClockKind::PeriodicUpdate, ChannelClass::Email), "2d");
        assert_eq!(t(ClockKind::CustomerSilence, ChannelClass::Email), "5d calendar");
        assert_eq!(t(ClockKind::ResolutionConfirm, ChannelClass::Email), "7d calendar");
        assert_eq!(p.ladder.warning_percent, Some(75));
        let social = p.team_for_meta_page("100000000000001").unwrap();
        assert_eq!(social.id.as_str(), "social");
        assert_eq!(p.team_for_x_account("1000000000000000001").unwrap().id.as_str(), "social");
        assert_eq!(p.team_for_mailbox("Support-CH@brand.example").unwrap().region.as_deref(), Some("CH"));
        assert_eq!(p.team_for_mailbox("talk-to-us@brand.example").unwrap().id.as_str(), "central");
        assert_eq!(p.region(&"support-de".parse().unwrap()), Some("DE"));
    }

    #[test]
    fn every_error_is_reported_with_its_key() {
        let text = DEFAULT_POLICY
            .replace("time_zone = \"Europe/Berlin\"", "time_zone = \"Europe/Nowhere\"")
            .replace("handoff_accept = \"4h\"", "handoff_accept = \"4 hours\"")
            .replace("level_2_after = \"1d\"", "level_2_after = \"soon\"")
            .replace("case_prefix = \"BTN\"", "case_prefix = \"btn\"");
        let errors = Policy::from_toml(&text, None).unwrap_err().0;
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert!(keys.contains(&"organisation.case_prefix"), "{errors:?}");
        assert!(keys.contains(&"calendars.de-office.time_zone"), "{errors:?}");
        assert!(keys.contains(&"targets.handoff_accept"), "{errors:?}");
        assert!(keys.contains(&"ladder.level_2_after"), "{errors:?}");
        assert!(keys.contains(&"teams.support-de.calendar") || errors.len() >= 4, "{errors:?}");
    }

    #[test]
    fn a_team_s_digest_time_is_a_local_time_of_day() {
        let with = |value: &str| {
            let text = DEFAULT_POLICY
                .replace("[teams.support-de]\n", &format!("[teams.support-de]\ndigest_at = \"{value}\"\n"));
            Policy::from_toml(&text, None)
        };
        let policy = with("07:30").unwrap();
        let team = policy.team(&"support-de".parse().unwrap()).unwrap();
        assert_eq!(team.digest_at, Some(jiff::civil::time(7, 30, 0, 0)));
        // Berlin, Monday 13 April 2026 (CEST): 07:30 local is 05:30 UTC, before the office opens.
        let due = team.calendar.digest_on(jiff::civil::date(2026, 4, 13), team.digest_at);
        assert_eq!(due, Some("2026-04-13T05:30:00Z".parse().unwrap()));
        assert_eq!(team.calendar.digest_on(jiff::civil::date(2026, 4, 12), team.digest_at), None, "a Sunday");
        for wrong in ["half past seven", "0730", "07:30+09:00", "2026-04-13T07:30"] {
            let errors = with(wrong).unwrap_err().0;
            assert_eq!(errors[0].key, "teams.support-de.digest_at", "{wrong}: {errors:?}");
            assert!(errors[0].message.contains(wrong), "{errors:?}");
        }
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_the_line() {
        let text = DEFAULT_POLICY.replace("[ladder]", "[ladder]\nwarning_at_percent = 75");
        let message = Policy::from_toml(&text, None).unwrap_err().to_string();
        assert!(message.contains("warning_at_percent"), "{message}");
        assert!(message.contains("line"), "{message}");
    }

    #[test]
    fn data_rules_default_to_a_short_excerpt_and_90_days_and_can_be_changed() {
        let shipped = Policy::from_toml(DEFAULT_POLICY, None).unwrap();
        assert_eq!(shipped.data, DataRules::default());
        assert_eq!(shipped.data.retention, Some(SignedDuration::from_hours(90 * 24)));
        let without: String = DEFAULT_POLICY.split("[data]").next().unwrap().to_string();
        assert_eq!(Policy::from_toml(&without, None).unwrap().data, DataRules::default());

        let custom = DEFAULT_POLICY
            .replace("excerpt_chars = 80", "excerpt_chars = 0")
            .replace("\"90d calendar\"", "\"forever\"");
        let custom = Policy::from_toml(&custom, None).unwrap();
        assert_eq!(custom.data, DataRules { excerpt_chars: 0, retention: None });
        assert_eq!(custom.data.excerpt("Mein Paket ist nicht angekommen"), None);

        let hours = DEFAULT_POLICY.replace("\"90d calendar\"", "\"36h\"");
        assert_eq!(Policy::from_toml(&hours, None).unwrap().data.retention, Some(SignedDuration::from_hours(36)));
        let business = DEFAULT_POLICY.replace("\"90d calendar\"", "\"30d\"");
        let error = Policy::from_toml(&business, None).unwrap_err().to_string();
        assert!(error.starts_with("data.retention: `30d` counts business days"), "{error}");
        let bad = DEFAULT_POLICY.replace("\"90d calendar\"", "\"a while\"");
        assert!(Policy::from_toml(&bad, None).unwrap_err().to_string().starts_with("data.retention: "));
    }

    #[test]
    fn an_excerpt_is_the_start_of_the_text_whitespace_folded_and_cut_with_an_ellipsis() {
        let rules = DataRules { excerpt_chars: 12, retention: None };
        assert_eq!(rules.excerpt("  Where is\n\n my   parcel?  ").as_deref(), Some("Where is my…"));
        assert_eq!(rules.excerpt("Short one").as_deref(), Some("Short one"));
        assert_eq!(rules.excerpt("Exactly 12 c").as_deref(), Some("Exactly 12 c"));
        assert_eq!(rules.excerpt("Grüße aus Zürich, bitte").as_deref(), Some("Grüße aus Z…"));
        assert_eq!(rules.excerpt(" \t\n"), None);
        assert_eq!(rules.excerpt("x".repeat(100).as_str()).map(|e| e.chars().count()), Some(12));
    }

    #[test]
    fn customer_silence_must_be_calendar_time() {
        let text = DEFAULT_POLICY.replace("customer_silence = \"5d calendar\"", "customer_silence = \"5d\"");
        let errors = Policy::from_toml(&text, None).unwrap_err().0;
        assert_eq!(errors[0].key, "targets.customer_silence");
    }

    #[test]
    fn a_team_on_a_missing_calendar_is_named() {
        let text = DEFAULT_POLICY.replace("calendar = \"de-office\"", "calendar = \"berlin\"");
        let errors = Policy::from_toml(&text, None).unwrap_err().0;
        assert_eq!(
            errors,
            vec![PolicyError { key: "teams.support-de.calendar".into(), message: "no calendar named `berlin`".into() }]
        );
    }

    #[test]
    fn priority_targets_override_the_general_ones() {
        let text = format!("{DEFAULT_POLICY}\n[targets.priority.high]\nfirst_response = {{ email = \"2h\" }}\n");
        let p = Policy::from_toml(&text, None).unwrap();
        assert_eq!(p.target(ClockKind::FirstResponse, ChannelClass::Email, Priority::High).to_string(), "2h");
        assert_eq!(p.target(ClockKind::FirstResponse, ChannelClass::SocialPublic, Priority::High).to_string(), "1h");
    }

    #[test]
    fn the_shipped_urgent_targets_are_shorter_and_normal_keeps_the_defaults() {
        let p = Policy::default_policy();
        let target = |clock, class, priority| p.target(clock, class, priority).to_string();
        assert_eq!(target(ClockKind::FirstResponse, ChannelClass::Email, Priority::Normal), "8h");
        assert_eq!(target(ClockKind::FirstResponse, ChannelClass::Email, Priority::Urgent), "2h");
        assert_eq!(target(ClockKind::HandoffAccept, ChannelClass::Email, Priority::Urgent), "1h");
        assert_eq!(target(ClockKind::HandoffAccept, ChannelClass::Email, Priority::Low), "4h");
    }

    #[test]
    fn customers_get_the_most_urgent_priority_that_names_them_by_identity_or_domain() {
        let shipped = "urgent = [\"@key-account.example\"]";
        assert!(DEFAULT_POLICY.contains(shipped));
        let text = DEFAULT_POLICY
            .replace(shipped, "high = [\"@big.example\", \"x:42\"]\nurgent = [\"email:CEO@big.example\"]");
        let p = Policy::from_toml(&text, None).unwrap();
        let of = |identity: Identity| p.customer_priority(&identity);
        assert_eq!(of(Identity::Email("ceo@big.example".into())), Some(Priority::Urgent));
        assert_eq!(of(Identity::Email("max@shop.big.example".into())), Some(Priority::High));
        assert_eq!(of(Identity::X("42".into())), Some(Priority::High));
        assert_eq!(of(Identity::Email("max@notbig.example".into())), None);
        let bad = DEFAULT_POLICY.replace(shipped, "urgent = [\"big.example\"]\nsoon = [\"x:1\"]");
        let errors = Policy::from_toml(&bad, None).unwrap_err().0;
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["customers.soon", "customers.urgent"], "{errors:?}");
    }

    #[test]
    fn a_case_nobody_addressed_goes_to_the_first_team_with_a_mailbox_else_the_first_team() {
        let intake = |text: &str| Policy::from_toml(text, None).unwrap().intake_team().as_str().to_string();
        assert_eq!(intake(DEFAULT_POLICY), "central");
        // `a-social` comes first by name but has no mailbox.
        assert_eq!(intake(&DEFAULT_POLICY.replace("[teams.social]", "[teams.a-social]")), "central");
        let no_mailboxes: String =
            DEFAULT_POLICY.lines().filter(|l| !l.starts_with("mailboxes")).collect::<Vec<_>>().join("\n");
        assert_eq!(intake(&no_mailboxes), "central");
        assert_eq!(intake(&no_mailboxes.replace("[teams.social]", "[teams.a-social]")), "a-social");
        // An unknown team's clocks run on the intake team's calendar.
        let p = Policy::from_toml(&DEFAULT_POLICY.replace("[teams.social]", "[teams.a-social]"), None).unwrap();
        let calendar = |team: &str| p.calendar(&team.parse().unwrap()) as *const Calendar;
        assert_eq!(calendar("gone"), calendar("central"));
        assert_ne!(calendar("gone"), calendar("a-social"));
    }

    #[test]
    fn org_addresses_include_subdomains_only_of_org_domains() {
        let p = Policy::default_policy();
        assert!(p.is_org_address("Agent@Brand.Example"));
        assert!(p.is_org_address("baton@inbound.brand.example"));
        assert!(!p.is_org_address("someone@notbrand.example"));
        assert!(!p.is_org_address("no-at-sign"));
    }
}
