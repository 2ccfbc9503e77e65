//! The automatic acknowledgement (the sports retailer of docs/stories.md): a customer's first email to a
//! team that asks for it is answered at once with the case number in the subject, so every later mail
//! threads to the case. It is marked `Auto-Submitted: auto-replied` (RFC 3834): when the organisation's
//! capture copy (a BCC or transport rule) brings it back to Baton, ingest skips it, so it never counts as a reply.

use std::future::Future;
use std::sync::Mutex;

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::DisplayErrorContext;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageHeader};

use crate::domain::ids::CaseId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    pub case: CaseId,
    /// The customer's address.
    pub to: String,
    /// The team mailbox the customer wrote to.
    pub from: String,
    /// The customer's Message-ID, to thread the answer under it.
    pub in_reply_to: Option<String>,
}

impl Acknowledgement {
    pub fn subject(&self) -> String {
        format!("[{}] We have your message", self.case)
    }

    pub fn text(&self) -> String {
        format!(
            "Thank you for writing to us. Your message is now case {case}, and a person will answer it.\n\n\
             If you write again about the same matter, please keep [{case}] in the subject, or simply reply \
             to this email, so that everything stays in one place.\n\n\
             This message was sent automatically; there is no need to answer it.\n",
            case = self.case
        )
    }

    /// The headers that mark it automatic and thread it.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![("Auto-Submitted", "auto-replied".to_string())];
        if let Some(id) = &self.in_reply_to {
            headers.push(("In-Reply-To", id.clone()));
            headers.push(("References", id.clone()));
        }
        headers
    }
}

#[derive(Debug, thiserror::Error)]
#[error("sending the acknowledgement of {case} failed: {reason}")]
pub struct MailError {
    pub case: String,
    pub reason: String,
}

pub trait Mailer: Send + Sync {
    fn send(&self, ack: &Acknowledgement) -> impl Future<Output = Result<(), MailError>> + Send;
}

/// Sends with SES v2 `SendEmail`.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
}

impl SesMailer {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl Mailer for SesMailer {
    async fn send(&self, ack: &Acknowledgement) -> Result<(), MailError> {
        let fail = |reason: String| MailError { case: ack.case.to_string(), reason };
        let text =
            |data: String| Content::builder().data(data).charset("UTF-8").build().map_err(|e| fail(e.to_string()));
        let mut message =
            Message::builder().subject(text(ack.subject())?).body(Body::builder().text(text(ack.text())?).build());
        for (name, value) in ack.headers() {
            message = message
                .headers(MessageHeader::builder().name(name).value(value).build().map_err(|e| fail(e.to_string()))?);
        }
        self.client
            .send_email()
            .from_email_address(&ack.from)
            .destination(Destination::builder().to_addresses(&ack.to).build())
            .content(EmailContent::builder().simple(message.build()).build())
            .send()
            .await
            .map_err(|e| fail(DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}

/// Sends nothing (acknowledgements off).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoMail;

impl Mailer for NoMail {
    async fn send(&self, _: &Acknowledgement) -> Result<(), MailError> {
        Ok(())
    }
}

/// Keeps what would have been sent (the replay with `--auto-ack`, tests).
#[derive(Debug, Default)]
pub struct CollectMail {
    sent: Mutex<Vec<Acknowledgement>>,
}

impl CollectMail {
    pub fn drain(&self) -> Vec<Acknowledgement> {
        std::mem::take(&mut *self.sent.lock().expect("mail lock"))
    }
}

impl Mailer for CollectMail {
    async fn send(&self, ack: &Acknowledgement) -> Result<(), MailError> {
        self.sent.lock().expect("mail lock").push(ack.clone());
        Ok(())
    }
}

/// The acknowledgement a newly opened case owes its customer: for a customer's email to a team that
/// asks for it (`auto_acknowledge`), from that team's mailbox. Social channels get none, and neither
/// does a mail the email parser marked (`Sender::Mail { no_ack: Some(..) }`: spoofable, spam, bulk,
/// list or bounce); the per-address and per-domain limits are the email function's.
pub fn acknowledgement(
    inbound: &crate::ingest::Inbound,
    case: &CaseId,
    policy: &crate::domain::policy::Policy,
) -> Option<Acknowledgement> {
    use crate::domain::ids::{Channel, Identity};
    use crate::domain::signal::SignalKind;
    let SignalKind::CustomerMessage { channel: Channel::Email, identity: Identity::Email(to), .. } =
        &inbound.signal.kind
    else {
        return None;
    };
    let team = policy.team(inbound.route.team.as_ref()?)?;
    let from = team.mailboxes.first().filter(|_| team.auto_acknowledge)?;
    // The message reference went through the one Message-ID normalisation (no CR or LF survives it),
    // so it cannot add a header of its own.
    let in_reply_to = inbound.route.own.iter().find_map(|r| r.as_str().strip_prefix("email:").map(str::to_string));
    Some(Acknowledgement { case: case.clone(), to: to.clone(), from: from.clone(), in_reply_to })
}

/// At most this many acknowledgements go to one address a day, and to one domain an hour: a flood
/// of mails, even authenticated ones, does not turn the brand's domain into a mail cannon.
pub const ACKS_PER_ADDRESS_PER_DAY: u32 = 3;
pub const ACKS_PER_DOMAIN_PER_HOUR: u32 = 20;

/// What becomes of a newly opened case's acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckDecision {
    /// None is owed (not an email, or the team does not ask for one).
    NotOwed,
    /// Send it.
    Send(Acknowledgement),
    /// Owed, but not sent: the reason is counted.
    Withheld(crate::ingest::NoAck),
}

/// Decides the acknowledgement of a case `inbound` opened: owed ([`acknowledgement`]), then the
/// sender's verdict from the parser, then the limits, each use counted in `limiter` at the mail's
/// own instant (SES's timestamp, which the sender does not set).
pub async fn decide<L: crate::store::Limiter>(
    limiter: &L,
    inbound: &crate::ingest::Inbound,
    case: &CaseId,
    policy: &crate::domain::policy::Policy,
) -> Result<AckDecision, crate::store::StoreError> {
    use crate::ingest::{NoAck, Sender};
    let Some(ack) = acknowledgement(inbound, case, policy) else { return Ok(AckDecision::NotOwed) };
    if let Sender::Mail { no_ack: Some(reason), .. } = &inbound.route.sender {
        return Ok(AckDecision::Withheld(*reason));
    }
    let at = inbound.signal.at;
    let domain = ack.to.rsplit_once('@').map_or("", |(_, d)| d);
    let day = std::time::Duration::from_secs(86_400);
    let hour = std::time::Duration::from_secs(3_600);
    if !limiter.take(&format!("ack-address:{}", ack.to), ACKS_PER_ADDRESS_PER_DAY, day, at).await?
        || !limiter.take(&format!("ack-domain:{domain}"), ACKS_PER_DOMAIN_PER_HOUR, hour, at).await?
    {
        return Ok(AckDecision::Withheld(NoAck::RateLimited));
    }
    Ok(AckDecision::Send(ack))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{Channel, Identity, MessageRef};
    use crate::domain::policy::Policy;
    use crate::domain::signal::{Signal, SignalKind};
    use crate::ingest::{Inbound, Route};

    fn inbound(channel: Channel, team: &str) -> Inbound {
        let identity = match channel {
            Channel::Email => Identity::Email("max@example.ch".into()),
            _ => Identity::X("42".into()),
        };
        Inbound {
            signal: Signal::new(
                "2026-04-13T06:00:00Z".parse().unwrap(),
                "ses:1",
                SignalKind::CustomerMessage { channel, public: false, identity },
            ),
            route: Route {
                own: vec![MessageRef::email("<m1@example.ch>")],
                team: Some(team.parse().unwrap()),
                ..Route::default()
            },
        }
    }

    #[test]
    fn a_first_email_to_central_is_acknowledged_with_the_case_number() {
        let policy = Policy::default_policy();
        let case: CaseId = "BTN-7K3QF9".parse().unwrap();
        let ack = acknowledgement(&inbound(Channel::Email, "central"), &case, &policy).unwrap();
        assert_eq!(ack.from, "talk-to-us@brand.example");
        assert_eq!(ack.to, "max@example.ch");
        assert_eq!(ack.subject(), "[BTN-7K3QF9] We have your message");
        assert!(ack.text().contains("[BTN-7K3QF9]"));
        assert!(ack.headers().contains(&("Auto-Submitted", "auto-replied".to_string())));
        assert!(ack.headers().contains(&("In-Reply-To", "<m1@example.ch>".to_string())));
        // support-ch does not ask for it; social channels never get one.
        assert_eq!(acknowledgement(&inbound(Channel::Email, "support-ch"), &case, &policy), None);
        assert_eq!(acknowledgement(&inbound(Channel::X, "social"), &case, &policy), None);
    }
}
