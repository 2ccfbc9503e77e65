//! The policy parser (TOML, calendars, holidays, targets) and the duration parser.
#![no_main]

use baton::domain::duration::PolicyDuration;
use baton::domain::policy::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = text.parse::<PolicyDuration>();
    let _ = Policy::from_toml(text, None);
});
