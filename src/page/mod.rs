//! The case page of `GET /l/<token>` (docs/design.md, "The lead's side"): one self-contained HTML
//! document, no scripts, fonts or images from anywhere, inline CSS and inline SVG only, readable on
//! a 360-pixel-wide phone and on a desktop, and complete without JavaScript. It shows the case as a
//! lead needs it from an alert: who holds it and since when, the customer waiting since, the clocks
//! with their due times and levels, the marks, time held per team as a chart, and the timeline in
//! the owning team's local time. An `ack` link's page also has the acknowledge form, which posts
//! back to the same URL.
//!
//! Everything here is pure: a [`view::CaseView`] is read from the case at `now`, and the pages are
//! strings of HTML (maud templates, escaped at compile time). The handler sends them with
//! [`HEADERS`]; the document also carries its policy in a `<meta>` so a saved copy keeps it.
//! Nothing on a page quotes the token.

pub mod chart;
mod html;
pub mod view;

use jiff::Timestamp;

use crate::domain::case::Case;
use crate::domain::clock::ClockKind;
use crate::domain::duration::PolicyDuration;
use crate::domain::policy::Policy;
use crate::link::Grant;

pub use view::CaseView;

/// The Content-Security-Policy of every page: nothing may be loaded from anywhere (no scripts,
/// fonts, images, frames or connections), the inline `<style>` is allowed, data: images only (none
/// are used; the charts are inline `<svg>`, which needs no source), forms post to this origin only,
/// and no other site may frame the page.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The same policy in the document's `<meta>`, which cannot carry `frame-ancestors` (browsers ignore
/// it there and complain).
pub const META_CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'";

/// The headers every page is sent with: the policy, no referrer (the URL holds the token), no
/// caching of a page that shows a case, and no content sniffing.
pub const HEADERS: [(&str, &str); 5] = [
    ("content-type", "text/html; charset=utf-8"),
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
];

/// How long an acknowledgement from the form silences the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnoozeChoice {
    /// One business day of the team holding the clock.
    BusinessDay,
    /// A calendar week.
    Week,
    /// Until the clock stops: the longest snooze the case API allows (30 calendar days). A clock
    /// that stops (the reply, the acceptance) takes its snooze with it.
    UntilStopped,
}

impl SnoozeChoice {
    pub const ALL: [Self; 3] = [Self::BusinessDay, Self::Week, Self::UntilStopped];

    /// The form's value.
    pub fn form_value(self) -> &'static str {
        match self {
            Self::BusinessDay => "day",
            Self::Week => "week",
            Self::UntilStopped => "stop",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::BusinessDay => "1 business day",
            Self::Week => "1 week",
            Self::UntilStopped => "Until the clock stops (at most 30 days)",
        }
    }

    /// The `snooze` of `POST /cases/{case}/ack`: `1d`, `7d calendar`, `30d calendar`.
    pub fn api_value(self) -> &'static str {
        match self {
            Self::BusinessDay => "1d",
            Self::Week => "7d calendar",
            Self::UntilStopped => "30d calendar",
        }
    }

    pub fn duration(self) -> PolicyDuration {
        self.api_value().parse().expect("the snooze choices are valid durations")
    }
}

/// The acknowledge form as posted (`application/x-www-form-urlencoded`): who acknowledges, and for
/// how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckForm {
    /// Trimmed, 1 to [`MAX_NAME_CHARS`] characters, no control characters.
    pub name: String,
    pub snooze: SnoozeChoice,
}

/// The longest name the form takes.
pub const MAX_NAME_CHARS: usize = 80;

/// What is wrong with a posted form; the page says it back (never quoting the token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("please give your name (at most {MAX_NAME_CHARS} characters)")]
    Name,
    #[error("please choose how long to snooze")]
    Snooze,
}

impl AckForm {
    /// Reads a posted form body. Fields other than `name` and `snooze` are ignored; a field given
    /// twice counts once, the first time.
    pub fn parse(body: &[u8]) -> Result<Self, FormError> {
        let mut name = None;
        let mut snooze = None;
        for (key, value) in form_urlencoded::parse(body) {
            match key.as_ref() {
                "name" if name.is_none() => name = Some(value.into_owned()),
                "snooze" if snooze.is_none() => snooze = Some(value.into_owned()),
                _ => {}
            }
        }
        let name = name.map(|n| n.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(FormError::Name);
        }
        let snooze = SnoozeChoice::ALL
            .into_iter()
            .find(|c| Some(c.form_value()) == snooze.as_deref())
            .ok_or(FormError::Snooze)?;
        Ok(Self { name, snooze })
    }
}

/// The case page for a verified `grant` on `case` at `now`: the case, and for an `ack` grant whose
/// clock still runs, the acknowledge form. The caller loads the case the grant names.
pub fn case_page(case: &Case, policy: &Policy, now: Timestamp, grant: &Grant) -> String {
    render_case(&CaseView::of(case, policy, now), grant, None)
}

/// [`case_page`] from a view, with an error to show above the form (a form posted with a field
/// missing is shown again with it).
pub fn render_case(view: &CaseView, grant: &Grant, form_error: Option<&FormError>) -> String {
    html::case(view, grant, form_error).into_string()
}

/// The page after a successful acknowledgement.
pub fn ack_done_page(case_id: &str, clock: ClockKind, level: u8, form: &AckForm) -> String {
    html::ack_done(case_id, clock, level, form).into_string()
}

/// The page after an acknowledgement that was refused (the clock stopped, the case closed): the
/// reason, for people.
pub fn ack_refused_page(case_id: &str, reason: &str) -> String {
    html::ack_refused(case_id, reason).into_string()
}

/// The 403 page of a bad, altered or expired link. It says nothing of the token.
pub fn forbidden_page() -> String {
    html::forbidden().into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_takes_a_name_and_a_snooze_and_refuses_either_missing() {
        let form = AckForm::parse(b"name=Ana+M%C3%BCller&snooze=week").unwrap();
        assert_eq!(form, AckForm { name: "Ana Müller".into(), snooze: SnoozeChoice::Week });
        let form = AckForm::parse(b"snooze=stop&name=%20%20Li%0A%20Wei%20&extra=1&name=second").unwrap();
        assert_eq!((form.name.as_str(), form.snooze), ("Li Wei", SnoozeChoice::UntilStopped));
        assert_eq!(AckForm::parse(b"snooze=day"), Err(FormError::Name));
        assert_eq!(AckForm::parse(b"name=+&snooze=day"), Err(FormError::Name));
        assert_eq!(AckForm::parse(format!("name={}&snooze=day", "a".repeat(81)).as_bytes()), Err(FormError::Name));
        assert_eq!(AckForm::parse(b"name=Ana&snooze=forever"), Err(FormError::Snooze));
        assert_eq!(AckForm::parse(b"name=Ana%01&snooze=day"), Err(FormError::Name));
    }

    #[test]
    fn the_snooze_choices_are_durations_the_case_api_takes() {
        for choice in SnoozeChoice::ALL {
            let d = choice.duration();
            assert!(d.days * 86_400 + d.seconds <= 30 * 86_400, "{choice:?}");
        }
        assert_eq!(SnoozeChoice::Week.duration().to_string(), "7d calendar");
        assert_eq!(SnoozeChoice::BusinessDay.duration().to_string(), "1d");
    }

    #[test]
    fn the_policy_loads_nothing_from_anywhere_and_the_headers_carry_it() {
        for directive in ["default-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"] {
            assert!(CONTENT_SECURITY_POLICY.contains(directive), "{directive}");
        }
        assert!(!CONTENT_SECURITY_POLICY.contains("script-src") && !CONTENT_SECURITY_POLICY.contains('*'));
        assert!(HEADERS.contains(&("content-security-policy", CONTENT_SECURITY_POLICY)));
        assert!(HEADERS.contains(&("referrer-policy", "no-referrer")));
        assert!(CONTENT_SECURITY_POLICY.starts_with(META_CONTENT_SECURITY_POLICY));
    }
}
