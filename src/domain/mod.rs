//! The domain: cases, signals, clocks, calendars and the policy. Nothing here reads a clock or does
//! I/O; the functions and the replay drive it with `now` as an argument.

pub mod calendar;
pub mod duration;
pub mod ids;
pub mod policy;
