//! The `email-ingest` Lambda function. Only a shell so far: the workspace builds it, but it is not wired to
//! AWS yet (see the open issues). It refuses to start rather than pretend to work.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "email-ingest is not implemented yet: baton {} provides the library it will run on",
        env!("CARGO_PKG_VERSION")
    );
    ExitCode::FAILURE
}
