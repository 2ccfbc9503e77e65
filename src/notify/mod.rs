//! Where alerts go. The sweep publishes through this trait: SNS in the functions
//! ([`sns::SnsNotifier`]), a collector in the replay and the tests.

pub mod chat;
pub mod mail;
pub mod sns;

use std::future::Future;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::domain::alert::Alert;
use crate::domain::digest::Digest;

/// A message on its way out, with the id that deduplicates it: for an alert, the id of the ladder
/// step that raised it (case, clock, step, clock run); for a digest, its team and day. A second
/// publish of the same message is recognisably the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outbound {
    pub id: String,
    /// Stored as `"alert": {...}` or `"digest": {...}` beside the id (the outbox items written
    /// before digests existed hold `"alert"`, and still load).
    #[serde(flatten)]
    pub body: Message,
}

/// What goes out: an alert (`baton.alert.v1`) or a team's daily digest (`baton.digest.v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Message {
    Alert(Alert),
    Digest(Digest),
}

impl Outbound {
    pub fn alert(id: String, alert: Alert) -> Self {
        Self { id, body: Message::Alert(alert) }
    }

    pub fn digest(digest: Digest) -> Self {
        Self { id: digest.id(), body: Message::Digest(digest) }
    }

    /// When the message is about: the alert's instant, the digest's due time.
    pub fn at(&self) -> jiff::Timestamp {
        match &self.body {
            Message::Alert(alert) => alert.at,
            Message::Digest(digest) => digest.at,
        }
    }

    pub fn as_alert(&self) -> Option<&Alert> {
        match &self.body {
            Message::Alert(alert) => Some(alert),
            Message::Digest(_) => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("publishing {id} failed: {reason}")]
pub struct NotifyError {
    pub id: String,
    pub reason: String,
}

pub trait Notifier: Send + Sync {
    fn publish(&self, message: &Outbound) -> impl Future<Output = Result<(), NotifyError>> + Send;

    /// Publishes `messages`, with a result for each, in their order: one request per message unless
    /// the notifier batches them (SNS: `PublishBatch`, 10 a request).
    fn publish_all(&self, messages: &[Outbound]) -> impl Future<Output = Vec<Result<(), NotifyError>>> + Send {
        async move {
            let mut results = Vec::with_capacity(messages.len());
            for message in messages {
                results.push(self.publish(message).await);
            }
            results
        }
    }
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

    /// All to `first`; those it took, to `second`.
    async fn publish_all(&self, messages: &[Outbound]) -> Vec<Result<(), NotifyError>> {
        let mut results = self.first.publish_all(messages).await;
        let Some(second) = &self.second else { return results };
        let taken: Vec<usize> = (0..messages.len()).filter(|&i| results[i].is_ok()).collect();
        let onward: Vec<Outbound> = taken.iter().map(|&i| messages[i].clone()).collect();
        for (i, result) in taken.into_iter().zip(second.publish_all(&onward).await) {
            results[i] = result;
        }
        results
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
