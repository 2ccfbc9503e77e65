//! The domain: cases, signals, clocks, calendars and the policy. Nothing here reads a clock or does
//! I/O; the functions and the replay drive it with `now` as an argument.

pub mod alert;
pub mod calendar;
pub mod case;
pub mod clock;
pub mod digest;
pub mod duration;
pub mod engine;
pub mod ids;
pub mod measure;
pub mod policy;
pub mod signal;
pub mod sorted;
