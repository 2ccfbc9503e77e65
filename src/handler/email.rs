//! `email-ingest`: the SES receipt rule's Lambda action. Each mail becomes its signals; a customer's
//! first email to a team that asks for it gets the automatic acknowledgement. Answers SES with
//! `{"disposition": "CONTINUE"}`.

use serde_json::{Value, json};

use super::Tally;
use crate::ingest;
use crate::notify::mail::{AckDecision, Mailer, decide};
use crate::service::{Ingest, Outcome, ServiceError};
use crate::store::{Limiter, Record};

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("the SES event is unreadable: {0}")]
    Event(#[from] ingest::IngestError),
    /// The invocation fails and SES (or Lambda's async retry) delivers the mail again; what was
    /// applied already is deduplicated.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

pub async fn handle<S: Record + Limiter, M: Mailer>(
    service: &Ingest<'_, S>,
    mailer: &M,
    event: &Value,
) -> Result<(Value, Tally), EmailError> {
    let parsed = ingest::email::parse(event, service.policy())?;
    let mut tally = Tally::default();
    tally.skipped(&parsed.skipped);
    for inbound in &parsed.inbound {
        let outcome = service.ingest(inbound).await?;
        tally.outcome(&outcome);
        let Outcome::Applied { case, opened: true, .. } = &outcome else { continue };
        match decide(service.store(), inbound, case, service.policy()).await.map_err(ServiceError::from)? {
            AckDecision::NotOwed => {}
            AckDecision::Withheld(reason) => {
                tracing::info!(case = %case, ?reason, "acknowledgement withheld");
                tally.acks_withheld += 1;
            }
            // The case is recorded either way; a failed acknowledgement is logged, not retried
            // (a retried delivery is a duplicate and would not send it either).
            AckDecision::Send(ack) => match mailer.send(&ack).await {
                Ok(()) => {
                    tracing::info!(case = %case, "acknowledgement sent");
                    tally.acks_sent += 1;
                }
                Err(e) => tracing::error!(case = %case, error = %e, "acknowledgement not sent"),
            },
        }
    }
    tracing::info!(?tally, "mail handled");
    Ok((json!({ "disposition": "CONTINUE" }), tally))
}
