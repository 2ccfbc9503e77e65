//! Each function's start: release binary size, the time from process start to its first request
//! to the Lambda runtime API (`GET /2018-06-01/runtime/invocation/next`, the moment it is ready for
//! work), and its peak memory (VmHWM) then. The runtime API is a stand-in on a loopback port, the
//! AWS configuration comes from the environment (as in Lambda), and nothing is called over the
//! network before the first request. Median and slowest of 25 starts each.
//!
//! Run: `cargo build --release --workspace --bins && cargo bench --bench start` (or `scripts/bench`).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const STARTS: usize = 25;
const FUNCTIONS: [&str; 4] = ["email-ingest", "webhook-ingest", "case-api", "sla-sweep"];

fn main() {
    let release = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release");
    println!(
        "{:<16} {:>12} {:>14} {:>14} {:>14}",
        "function", "binary", "start median", "start slowest", "peak memory"
    );
    for function in FUNCTIONS {
        let binary = release.join(function);
        let size = std::fs::metadata(&binary)
            .unwrap_or_else(|e| {
                panic!("{}: {e}; build it first: cargo build --release --workspace --bins", binary.display())
            })
            .len();
        let mut times = Vec::new();
        let mut peak = 0;
        for _ in 0..STARTS {
            let (time, memory) = start(&binary);
            times.push(time);
            peak = peak.max(memory);
        }
        times.sort();
        println!(
            "{function:<16} {:>9.1} MB {:>11.2} ms {:>11.2} ms {:>11.1} MB",
            size as f64 / 1e6,
            times[STARTS / 2].as_secs_f64() * 1e3,
            times[STARTS - 1].as_secs_f64() * 1e3,
            peak as f64 / 1024.0
        );
    }
}

/// One start: the time to the first runtime API request, and VmHWM (KiB) at that moment.
fn start(binary: &PathBuf) -> (Duration, u64) {
    let api = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = api.local_addr().expect("an address").to_string();
    let clock = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .envs([
            ("AWS_LAMBDA_RUNTIME_API", address.as_str()),
            ("AWS_LAMBDA_FUNCTION_NAME", "baton-bench"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/baton-bench"),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
            ("AWS_REGION", "eu-central-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDBENCH"),
            ("AWS_SECRET_ACCESS_KEY", "bench"),
            ("AWS_SESSION_TOKEN", "bench"),
            ("BATON_TABLE", "cases"),
            ("BATON_TOPIC_ARN", "arn:aws:sns:eu-central-1:123456789012:alerts.fifo"),
            ("META_APP_SECRET", "bench"),
            ("META_VERIFY_TOKEN", "bench"),
            ("X_CONSUMER_SECRET", "bench"),
            ("WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts the function");
    let (stream, _) = api.accept().expect("the function connects to the runtime API");
    let mut request = String::new();
    BufReader::new(&stream).read_line(&mut request).expect("reads the request line");
    let elapsed = clock.elapsed();
    assert!(
        request.starts_with("GET /2018-06-01/runtime/invocation/next"),
        "the first request to the runtime API was {request:?}"
    );
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).expect("the process status");
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status");
    child.kill().expect("stops the function");
    child.wait().expect("reaps the function");
    (elapsed, peak)
}
