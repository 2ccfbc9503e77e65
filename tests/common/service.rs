//! Starts a local service (DynamoDB Local, moto) as a child of the test binary on a free loopback
//! port. A shell runs it and reads a pipe from the test process: when the test binary exits, the
//! pipe closes and the shell stops the service, so nothing outlives the tests.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Running {
    pub endpoint: String,
    _lifeline: ChildStdin,
    _shell: Child,
}

/// A loopback port nobody listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// Runs `command` (a shell command line that reads `$PORT`) and waits until it listens.
pub fn start(name: &str, command: &str) -> Running {
    start_on(name, command, free_port())
}

/// Stops a service and waits until its port refuses connections.
pub fn stop(running: Running) {
    let port: u16 = running.endpoint.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port");
    let Running { _lifeline: lifeline, _shell: mut shell, .. } = running;
    drop(lifeline);
    let _ = shell.wait();
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(started.elapsed() < Duration::from_secs(60), "the service on port {port} did not stop within 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// [`start`] on a given port (to start a service again where its clients expect it).
pub fn start_on(name: &str, command: &str, port: u16) -> Running {
    let script = format!("{command} >&2 &\npid=$!\nread -r _ || true\nkill \"$pid\" 2>/dev/null");
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .env("PORT", port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {name}: {e}"));
    let stderr = child.stderr.take().expect("stderr");
    let log = Arc::new(Mutex::new(String::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{name} exited ({status}) before it listened:\n{}", log.lock().unwrap());
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{name} did not listen on port {port} within 60 s:\n{}",
            log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let lifeline = child.stdin.take().expect("stdin");
    Running { endpoint: format!("http://127.0.0.1:{port}"), _lifeline: lifeline, _shell: child }
}
