//! Where alerts go. The sweep publishes through this trait: SNS in the functions, a collector in
//! the replay and the tests.

use std::future::Future;
use std::sync::Mutex;

use crate::domain::alert::Alert;

#[derive(Debug, thiserror::Error)]
#[error("publishing the alert failed: {0}")]
pub struct NotifyError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

pub trait Notifier: Send + Sync {
    fn publish(&self, alert: &Alert) -> impl Future<Output = Result<(), NotifyError>> + Send;
}

/// Keeps what was published, in order.
#[derive(Debug, Default)]
pub struct Collect {
    alerts: Mutex<Vec<Alert>>,
}

impl Collect {
    /// Takes the alerts published since the last call.
    pub fn drain(&self) -> Vec<Alert> {
        std::mem::take(&mut *self.alerts.lock().expect("collector lock"))
    }
}

impl Notifier for Collect {
    async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        self.alerts.lock().expect("collector lock").push(alert.clone());
        Ok(())
    }
}
