//! The webhook body parsers (Meta, X, generic) and the SES event parser on arbitrary JSON: the first
//! byte picks the parser.
#![no_main]

use std::sync::LazyLock;

use baton::domain::policy::Policy;
use baton::ingest;
use libfuzzer_sys::fuzz_target;

static POLICY: LazyLock<Policy> = LazyLock::new(Policy::default_policy);

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(body) else { return };
    let _ = match which % 4 {
        0 => ingest::meta::parse(&body, &POLICY),
        1 => ingest::x::parse(&body, &POLICY),
        2 => ingest::webhook::parse(&body, &POLICY),
        _ => ingest::email::parse(&body, &POLICY),
    };
});
