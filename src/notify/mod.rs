//! Where alerts go. The sweep publishes through this trait: SNS in the functions
//! ([`sns::SnsNotifier`]), a collector in the replay and the tests.

pub mod chat;
pub mod mail;
pub mod sns;

use std::future::Future;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::domain::alert::Alert;

/// An alert on its way out, with the id that deduplicates it: the id of the ladder step that raised
/// it (case, clock, step, clock run), so a second publish of the same step is recognisably the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outbound {
    pub id: String,
    pub alert: Alert,
}

#[derive(Debug, thiserror::Error)]
#[error("publishing alert {id} failed: {reason}")]
pub struct NotifyError {
    pub id: String,
    pub reason: String,
}

pub trait Notifier: Send + Sync {
    fn publish(&self, message: &Outbound) -> impl Future<Output = Result<(), NotifyError>> + Send;
}

/// Keeps what was published, in order.
#[derive(Debug, Default)]
pub struct Collect {
    messages: Mutex<Vec<Outbound>>,
}

impl Collect {
    /// Takes the messages published since the last call.
    pub fn drain(&self) -> Vec<Outbound> {
        std::mem::take(&mut *self.messages.lock().expect("collector lock"))
    }
}

impl Notifier for Collect {
    async fn publish(&self, message: &Outbound) -> Result<(), NotifyError> {
        self.messages.lock().expect("collector lock").push(message.clone());
        Ok(())
    }
}

/// Publishes each alert to `first`, then to `second` if there is one (the alert topic, then the
/// chat topic). A failure of either fails the message, so it stays in the outbox and the next sweep
/// publishes it to both again: on a FIFO alert topic that repeat is deduplicated by the alert's id;
/// the chat topic is not published to until the alert topic took the message.
#[derive(Debug, Clone)]
pub struct Fanout<A, B> {
    pub first: A,
    pub second: Option<B>,
}

impl<A: Notifier, B: Notifier> Notifier for Fanout<A, B> {
    async fn publish(&self, message: &Outbound) -> Result<(), NotifyError> {
        self.first.publish(message).await?;
        if let Some(second) = &self.second {
            second.publish(message).await?;
        }
        Ok(())
    }
}

/// Publishes nowhere and keeps nothing: the replay prints what each sweep reports it published.
#[derive(Debug, Default, Clone, Copy)]
pub struct Discard;

impl Notifier for Discard {
    async fn publish(&self, _message: &Outbound) -> Result<(), NotifyError> {
        Ok(())
    }
}
