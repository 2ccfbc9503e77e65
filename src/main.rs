//! The `baton` command: replay a timeline, report on a timeline or a table, check a policy, create
//! the table.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use baton::domain::policy::Policy;
use baton::replay;
use baton::store::dynamo;
use clap::{Parser, Subcommand};
use jiff::Timestamp;

/// A replay of a long timeline allocates and frees a case's recent events for every signal and
/// sweep; with mimalloc the replay of 100,000 events takes a third less time than with the system
/// allocator (`scripts/bench replay` measures the replay).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "baton", version, about = "SLA monitor for customer support: no case dropped between teams")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a timeline (JSON lines) through the engine with a simulated clock that sweeps every minute.
    Replay {
        /// The timeline: one `{"at", "source", "payload"}` object per line.
        timeline: PathBuf,
        /// The policy file (default: $BATON_POLICY, else the shipped policy).
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Print one JSON line per alert published (baton.alert.v1 plus published_at), and one per
        /// daily digest (baton.digest.v1 plus published_at).
        #[arg(long)]
        json: bool,
        /// Run until this instant (RFC 3339; default: 14 days after the last line).
        #[arg(long)]
        until: Option<Timestamp>,
        /// Show the automatic acknowledgements the email function would send to new email cases.
        #[arg(long)]
        auto_ack: bool,
        /// Keep the cases in DynamoDB at this endpoint (DynamoDB Local) instead of in memory, in a
        /// new table that is deleted afterwards.
        #[arg(long, value_name = "URL")]
        dynamodb_endpoint: Option<String>,
    },
    /// Report per team and clock: started, met, breached, running, compliance, handoffs accepted and
    /// how fast, time held. From a timeline (replayed) or from a DynamoDB table (--table).
    Report {
        /// The timeline to replay: one `{"at", "source", "payload"}` object per line.
        #[arg(required_unless_present = "table", conflicts_with = "table")]
        timeline: Option<PathBuf>,
        /// Read the cases from this DynamoDB table instead (a parallel Scan, then each case whole).
        #[arg(long)]
        table: Option<String>,
        /// With --table: a local endpoint such as DynamoDB Local (default: AWS, from the environment).
        #[arg(long, value_name = "URL", requires = "table")]
        dynamodb_endpoint: Option<String>,
        /// With --table: how many segments the Scan runs in parallel.
        #[arg(long, default_value_t = 4, requires = "table", value_parser = clap::value_parser!(u32).range(1..=64))]
        segments: u32,
        /// The policy file (default: $BATON_POLICY, else the shipped policy).
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Count from this date (midnight UTC) or RFC 3339 instant (default: from the start).
        #[arg(long, value_parser = baton::report::parse_instant)]
        from: Option<Timestamp>,
        /// Count until this date or instant, excluded (default: the replay's end, or now for --table).
        #[arg(long, value_parser = baton::report::parse_instant)]
        to: Option<Timestamp>,
        /// table (for a terminal), json (baton.report.v1), csv (a spreadsheet) or html (one page).
        #[arg(long, default_value = "table")]
        format: baton::report::Format,
    },
    /// Create the table and its due index (for local development and tests).
    CreateTable {
        /// The table's name.
        #[arg(long)]
        table: String,
        /// A local endpoint such as DynamoDB Local (default: AWS, from the environment's configuration).
        #[arg(long, value_name = "URL")]
        dynamodb_endpoint: Option<String>,
    },
    /// Print the CloudWatch dashboard's body (the template's `Dashboard`, region as ${AWS::Region}).
    Dashboard,
    /// Validate a policy file and print every error with the key that is wrong.
    CheckPolicy {
        /// The policy file.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        // A closed pipe (`baton replay ... | head`) is the reader's choice, not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_policy(path: Option<&PathBuf>) -> anyhow::Result<Policy> {
    let loaded = match (path, std::env::var("BATON_POLICY")) {
        (Some(path), _) => Policy::load(path),
        (None, Ok(setting)) if !setting.trim().is_empty() => Policy::from_setting(&setting),
        _ => return Ok(Policy::default_policy()),
    };
    loaded.map_err(|errors| anyhow::anyhow!("the policy is invalid:\n{errors}"))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the runtime")
}

/// The replay on a fresh table at `endpoint`, deleted afterwards (also when the replay fails).
async fn replay_on_dynamodb(
    endpoint: &str,
    lines: impl IntoIterator<Item = Result<replay::Line, replay::LineError>>,
    policy: Arc<Policy>,
    options: &replay::Options,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    let client = aws_sdk_dynamodb::Client::new(&baton::config::local_aws_from_env(endpoint).await);
    let stamp = Timestamp::now().as_millisecond();
    let table = format!("baton-replay-{stamp}-{}", std::process::id());
    dynamo::table::create(&client, &table).await.with_context(|| format!("DynamoDB at {endpoint}"))?;
    let store = dynamo::DynamoStore::new(client.clone(), &table);
    let baton = baton::service::Baton::new(store.clone(), baton::notify::Collect::default(), policy);
    let result = replay::stream_on(&baton, lines, options, out).await;
    let usage = store.usage();
    let deleted = client.delete_table().table_name(&table).send().await;
    result?;
    eprintln!(
        "DynamoDB: {} requests, {:.1} read and {:.1} write capacity units",
        usage.requests, usage.read_units, usage.write_units
    );
    if let Err(e) = deleted {
        eprintln!("warning: could not delete table {table}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e));
    }
    Ok(())
}

/// Bad input to `baton report` (a missing or malformed timeline, an invalid policy, an empty
/// window): said in one line, exit code 2, like a bad argument.
fn input_error(message: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("error: {message}");
    Ok(ExitCode::from(2))
}

/// `baton report`: the cases of a timeline or a table, counted and written in `format`.
fn report(
    source: ReportSource,
    policy: Option<&PathBuf>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    format: baton::report::Format,
) -> anyhow::Result<ExitCode> {
    use baton::report::{self, progress, source};
    let policy = match load_policy(policy) {
        Ok(policy) => Arc::new(policy),
        Err(e) => return input_error(format!("{e:#}")),
    };
    if let (Some(from), Some(to)) = (from, to)
        && from >= to
    {
        return input_error(format!("--from ({from}) must be before --to ({to})"));
    }
    let (cases, end) = match source {
        ReportSource::Timeline(path) => {
            let file = match std::fs::File::open(&path) {
                Ok(file) => file,
                Err(e) => return input_error(format!("cannot read {}: {e}", path.display())),
            };
            let size = file.metadata().map(|m| m.len()).ok();
            let bar = progress::bar(size, "reading the timeline", true);
            let lines = replay::read(std::io::BufReader::new(bar.wrap_read(file)), &policy);
            bar.finish_and_clear();
            let lines = match lines {
                Ok(lines) => lines,
                Err(e) => return input_error(format!("{}: {e}", path.display())),
            };
            let bar = progress::bar(None, &format!("replaying {} lines", lines.len()), true);
            let replayed = runtime()?.block_on(source::replay(&lines, policy.clone(), to))?;
            bar.finish_and_clear();
            let end = to.or(replayed.until).unwrap_or_else(Timestamp::now);
            (replayed.cases, end)
        }
        ReportSource::Table { table, endpoint } => {
            let read = runtime()?.block_on(async {
                let client = match &endpoint {
                    Some(endpoint) => aws_sdk_dynamodb::Client::new(&baton::config::local_aws_from_env(endpoint).await),
                    None => aws_sdk_dynamodb::Client::new(&aws_config::load_from_env().await),
                };
                let store = dynamo::DynamoStore::new(client, &table.name);
                let bar = progress::bar(None, "scanning for cases", false);
                source::table(&store, table.segments, &bar).await
            })?;
            eprintln!(
                "scanned table {} in {} segments: {} items read, {} cases; {} requests, {:.1} read units; \
                 loading the cases whole: {} requests, {:.1} read units",
                table.name,
                table.segments,
                read.scanned_items,
                read.cases.len(),
                read.scan.requests,
                read.scan.read_units,
                read.load.requests,
                read.load.read_units
            );
            (read.cases, to.unwrap_or_else(Timestamp::now))
        }
    };
    if from.is_some_and(|from| from >= end) {
        return input_error(format!("--from must be before the report's end ({end})"));
    }
    let report = report::compute(&cases, &policy, report::Window { from, to: end });
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    report::write(&report, format, &mut out)?;
    std::io::Write::flush(&mut out)?;
    Ok(ExitCode::SUCCESS)
}

enum ReportSource {
    Timeline(PathBuf),
    Table { table: TableRef, endpoint: Option<String> },
}

struct TableRef {
    name: String,
    segments: u32,
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Report { timeline, table, dynamodb_endpoint, segments, policy, from, to, format } => {
            let source = match (timeline, table) {
                (Some(path), _) => ReportSource::Timeline(path),
                (None, Some(name)) => {
                    ReportSource::Table { table: TableRef { name, segments }, endpoint: dynamodb_endpoint }
                }
                (None, None) => return input_error("give a timeline or --table NAME"),
            };
            report(source, policy.as_ref(), from, to, format)
        }
        Command::Dashboard => {
            println!("{}", serde_json::to_string_pretty(&baton::metrics::dashboard())?);
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckPolicy { file } => match Policy::load(&file) {
            Ok(policy) => {
                println!(
                    "{}: valid ({} teams: {})",
                    file.display(),
                    policy.teams.len(),
                    policy.teams.keys().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(errors) => {
                for error in &errors.0 {
                    eprintln!("{}: {error}", file.display());
                }
                eprintln!("{} error(s)", errors.0.len());
                Ok(ExitCode::FAILURE)
            }
        },
        Command::Replay { timeline, policy, json, until, auto_ack, dynamodb_endpoint } => {
            let policy = Arc::new(load_policy(policy.as_ref())?);
            let file = std::fs::File::open(&timeline).with_context(|| format!("cannot read {}", timeline.display()))?;
            // The sweep's link settings, so the replay shows the links its alerts would carry.
            let linker = match baton::link::source_from_env()? {
                baton::link::LinkSource::Off => None,
                baton::link::LinkSource::Ready(linker) => Some(linker),
                baton::link::LinkSource::Manager { .. } => {
                    anyhow::bail!("the replay reads the link secret from BATON_LINK_SECRET, not BATON_LINK_SECRET_ARN")
                }
            };
            let options = replay::Options { until, json, auto_ack, linker, keep: false };
            // Progress on stderr when it is a terminal; nothing otherwise.
            let size = file.metadata().map(|m| m.len()).ok();
            let bar = baton::report::progress::bar(size, "replaying", true);
            let reading = policy.clone();
            let lines = replay::lines(std::io::BufReader::with_capacity(1 << 16, bar.wrap_read(file)), &reading);
            // The output goes to a spool file and is printed only once the whole timeline ran, so a
            // bad line leaves no partial output. A file, not memory: a long replay prints hundreds of MB.
            let mut spool = std::io::BufWriter::with_capacity(
                1 << 16,
                tempfile::tempfile().context("creating the replay's spool file")?,
            );
            let result = runtime()?.block_on(async {
                match dynamodb_endpoint {
                    None => {
                        let baton = baton::service::Baton::new(
                            baton::store::memory::MemoryStore::new(),
                            baton::notify::Discard,
                            policy,
                        );
                        let replayed = replay::stream_on(&baton, lines, &options, &mut spool).await;
                        // Nothing reads the store again before the process exits (on success or
                        // not): freeing its million objects one by one was 2% of a long replay's
                        // time, for memory the exit returns anyway. Nothing in it has a Drop with
                        // an effect (collections, a no-op notifier, the policy).
                        std::mem::forget(baton);
                        replayed.map(drop).map_err(Into::into)
                    }
                    Some(endpoint) => replay_on_dynamodb(&endpoint, lines, policy, &options, &mut spool).await,
                }
            });
            bar.finish_and_clear();
            if let Err(e) = result {
                return match e.downcast_ref::<replay::ReplayError>() {
                    Some(replay::ReplayError::Line(line)) => Err(anyhow::anyhow!("{}: {line}", timeline.display())),
                    _ => Err(e),
                };
            }
            let mut spool =
                spool.into_inner().map_err(|e| e.into_error()).context("writing the replay's spool file")?;
            std::io::Seek::rewind(&mut spool)?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            std::io::copy(&mut spool, &mut out)?;
            std::io::Write::flush(&mut out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::CreateTable { table, dynamodb_endpoint } => {
            runtime()?.block_on(async {
                let client = match &dynamodb_endpoint {
                    Some(endpoint) => aws_sdk_dynamodb::Client::new(&baton::config::local_aws_from_env(endpoint).await),
                    None => aws_sdk_dynamodb::Client::new(&aws_config::load_from_env().await),
                };
                dynamo::table::create(&client, &table).await
            })?;
            eprintln!("created table {table} with its index `{}`", dynamo::table::DUE_INDEX);
            Ok(ExitCode::SUCCESS)
        }
    }
}
