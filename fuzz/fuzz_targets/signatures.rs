//! The signature checks on arbitrary headers and bodies: they refuse, never panic.
#![no_main]

use baton::ingest::signature::{StandardHeaders, verify_meta, verify_standard, verify_x};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, &str, &str, &[u8])| {
    let (signature, id, timestamp, secret, body) = input;
    let _ = verify_meta(secret, Some(signature), body);
    let _ = verify_x(secret, Some(signature), body);
    let headers = StandardHeaders { id: Some(id), timestamp: Some(timestamp), signature: Some(signature) };
    let _ = verify_standard(secret, headers, body, jiff::Timestamp::UNIX_EPOCH);
    let _ = verify_standard("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", headers, body, jiff::Timestamp::UNIX_EPOCH);
});
