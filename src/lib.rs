//! Baton: an SLA monitor for customer support that keeps every case owned until the customer says
//! it is solved.
//!
//! The library holds the domain (pure: time is always an argument), the ingest parsers that turn
//! source events into signals, the store and notifier traits with their adapters, the replay and the
//! reports.
//! The Lambda functions in `functions/` are thin shells over it.

pub mod config;
pub mod domain;
pub mod handler;
pub mod hash;
pub mod ingest;
pub mod link;
pub mod metrics;
pub mod notify;
pub mod page;
pub mod probe;
pub mod replay;
pub mod report;
pub mod service;
pub mod store;
