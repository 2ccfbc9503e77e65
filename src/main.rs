//! The `baton` command: replay a timeline, check a policy.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use baton::domain::policy::Policy;
use baton::replay;
use clap::{Parser, Subcommand};
use jiff::Timestamp;

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
        /// Print one JSON line per alert published (baton.alert.v1 plus published_at).
        #[arg(long)]
        json: bool,
        /// Run until this instant (RFC 3339; default: 14 days after the last line).
        #[arg(long)]
        until: Option<Timestamp>,
    },
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

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
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
        Command::Replay { timeline, policy, json, until } => {
            let policy = Arc::new(load_policy(policy.as_ref())?);
            let text =
                std::fs::read_to_string(&timeline).with_context(|| format!("cannot read {}", timeline.display()))?;
            let lines = replay::parse(&text, &policy).with_context(|| format!("{}", timeline.display()))?;
            let runtime = tokio::runtime::Builder::new_current_thread().build().context("starting the runtime")?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            runtime.block_on(replay::run(&lines, policy, &replay::Options { until, json }, &mut out))?;
            std::io::Write::flush(&mut out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
