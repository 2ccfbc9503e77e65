//! DynamoDB Local for the tests: the real AWS jar, started once per test binary with Java on a free
//! loopback port, in memory. Each test gets its own table. Nothing here skips: when Java or the jar
//! is missing, the test fails and says how to install it.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use baton::store::dynamo::{DynamoStore, local_client, table};

struct Local {
    endpoint: String,
    /// The shell that runs Java reads this pipe; when the test binary exits, the pipe closes and
    /// the shell stops Java. Held for the life of the process.
    _lifeline: ChildStdin,
    _shell: Child,
}

static LOCAL: OnceLock<Local> = OnceLock::new();
static TABLES: AtomicU32 = AtomicU32::new(0);

/// The directory holding `DynamoDBLocal.jar`: `BATON_DYNAMODB_LOCAL`, else where
/// `scripts/install-dynamodb-local` puts it.
fn install_dir() -> PathBuf {
    std::env::var_os("BATON_DYNAMODB_LOCAL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/dynamodb-local"))
}

fn start() -> Local {
    let dir = install_dir();
    let jar = dir.join("DynamoDBLocal.jar");
    assert!(
        jar.is_file(),
        "DynamoDB Local is not installed: {} is missing. Run `bash scripts/install-dynamodb-local` \
         (the README's test command does), or point BATON_DYNAMODB_LOCAL at the directory holding the jar.",
        jar.display()
    );
    let java = Command::new("java").arg("-version").stderr(Stdio::null()).status();
    assert!(
        java.is_ok_and(|s| s.success()),
        "DynamoDB Local needs Java 17 or newer, and `java` could not be run: install a JRE (Debian: openjdk-17-jre-headless)"
    );
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let script = r#"java -Djava.library.path="$1/DynamoDBLocal_lib" -jar "$1/DynamoDBLocal.jar" -inMemory -port "$2" >&2 &
pid=$!
read -r _ || true
kill "$pid" 2>/dev/null"#;
    let mut child = Command::new("sh")
        .args(["-c", script, "dynamodb-local"])
        .arg(&dir)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting DynamoDB Local");
    let stderr = child.stderr.take().expect("stderr");
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("DynamoDB Local exited ({status}) before it listened:\n{}", log.lock().unwrap());
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "DynamoDB Local did not listen on port {port} within 60 s:\n{}",
            log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let lifeline = child.stdin.take().expect("stdin");
    Local { endpoint: format!("http://127.0.0.1:{port}"), _lifeline: lifeline, _shell: child }
}

/// The endpoint of this test binary's DynamoDB Local.
pub fn endpoint() -> &'static str {
    &LOCAL.get_or_init(start).endpoint
}

/// A store on a new table of its own, named after the test.
pub async fn store(test: &str) -> DynamoStore {
    let client = local_client(endpoint());
    let name = format!("baton-{test}-{}-{}", std::process::id(), TABLES.fetch_add(1, Ordering::Relaxed));
    table::create(&client, &name).await.expect("creating the test table");
    DynamoStore::new(client, name)
}
