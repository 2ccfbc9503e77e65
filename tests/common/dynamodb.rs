//! DynamoDB Local for the tests: the real AWS jar, started once per test binary with Java on a free
//! loopback port, in memory. Each test gets its own table. Nothing here skips: when Java or the jar
//! is missing, the test fails and says how to install it.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use baton::store::dynamo::{DynamoStore, local_client, table};

use super::service::{Running, start};

static LOCAL: OnceLock<Running> = OnceLock::new();
static TABLES: AtomicU32 = AtomicU32::new(0);

/// The directory holding `DynamoDBLocal.jar`: `BATON_DYNAMODB_LOCAL`, else where
/// `scripts/install-dynamodb-local` puts it.
fn install_dir() -> PathBuf {
    std::env::var_os("BATON_DYNAMODB_LOCAL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/dynamodb-local"))
}

fn launch() -> Running {
    start("DynamoDB Local", &command("-inMemory"))
}

/// A DynamoDB Local of its own on `port`, keeping its tables in files under `data` rather than in
/// memory: stopped (see [`super::service::stop`]) and started again there, it still holds them.
pub fn start_on_disk(data: &std::path::Path, port: u16) -> Running {
    std::fs::create_dir_all(data).expect("the data directory");
    let data = data.to_str().expect("a UTF-8 path").replace('\'', "'\\''");
    super::service::start_on("DynamoDB Local (on disk)", &command(&format!("-dbPath '{data}'")), port)
}

/// The command line that runs DynamoDB Local with `storage` (`-inMemory` or `-dbPath DIR`).
fn command(storage: &str) -> String {
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
    let dir = dir.to_str().expect("a UTF-8 path").replace('\'', "'\\''");
    format!(
        "java -Djava.library.path='{dir}/DynamoDBLocal_lib' -jar '{dir}/DynamoDBLocal.jar' {storage} -port \"$PORT\""
    )
}

/// The endpoint of this test binary's DynamoDB Local.
pub fn endpoint() -> &'static str {
    &LOCAL.get_or_init(launch).endpoint
}

/// A store on a new table of its own, named after the test.
pub async fn store(test: &str) -> DynamoStore {
    let client = local_client(endpoint());
    let name = format!("baton-{test}-{}-{}", std::process::id(), TABLES.fetch_add(1, Ordering::Relaxed));
    table::create(&client, &name).await.expect("creating the test table");
    DynamoStore::new(client, name)
}
