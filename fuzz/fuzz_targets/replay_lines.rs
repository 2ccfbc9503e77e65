//! The replay line parser on arbitrary timelines.
#![no_main]

use std::sync::LazyLock;

use baton::domain::policy::Policy;
use libfuzzer_sys::fuzz_target;

static POLICY: LazyLock<Policy> = LazyLock::new(Policy::default_policy);

fuzz_target!(|text: &str| {
    let _ = baton::replay::parse(text, &POLICY);
});
