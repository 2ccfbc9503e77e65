//! Reading cases in the tests.

use baton::domain::case::{Case, EventKind};
use baton::domain::clock::ClockKind;
use baton::domain::signal::SignalKind;

/// The acknowledgements on a case's timeline: clock, level and who acknowledged.
pub fn acknowledgements(case: &Case) -> Vec<(ClockKind, u8, String)> {
    case.timeline()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Signal { signal: SignalKind::Acknowledge { clock, level, by, .. } } => {
                Some((*clock, *level, by.clone()))
            }
            _ => None,
        })
        .collect()
}
