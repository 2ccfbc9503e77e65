//! Golden files: the velcro and retailer replays, `--json` and readable, exactly as the `baton`
//! binary prints them. A change that alters what a lead reads must update these files on purpose:
//! `BATON_UPDATE_GOLDEN=1 cargo test --test golden` rewrites them, and the diff goes in the commit.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `baton replay samples/<sample>.jsonl <args>` with no policy or link settings from the
/// environment, and compares its standard output with `tests/golden/<golden>`.
fn check(sample: &str, args: &[&str], golden: &str) {
    let output = Command::new(env!("CARGO_BIN_EXE_baton"))
        .arg("replay")
        .arg(root().join("samples").join(format!("{sample}.jsonl")))
        .args(args)
        .env_remove("BATON_POLICY")
        .env_remove("BATON_LINK_SECRET")
        .env_remove("BATON_PUBLIC_URL")
        .output()
        .expect("the baton binary runs");
    assert!(output.status.success(), "baton replay {sample} failed: {}", String::from_utf8_lossy(&output.stderr));
    let path = root().join("tests/golden").join(golden);
    if std::env::var_os("BATON_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &output.stdout).expect("the golden file is writable");
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if output.stdout != expected {
        let got = String::from_utf8_lossy(&output.stdout);
        let want = String::from_utf8_lossy(&expected);
        let (line, (g, w)) = got
            .lines()
            .zip(want.lines())
            .enumerate()
            .find(|(_, (g, w))| g != w)
            .map(|(i, pair)| (i + 1, pair))
            .unwrap_or((got.lines().count().min(want.lines().count()) + 1, ("<end>", "<end>")));
        panic!(
            "the replay of {sample} {args:?} differs from tests/golden/{golden} ({} lines now, {} before), first at line {line}:\n  now:    {g}\n  golden: {w}\nIf the change is meant, run BATON_UPDATE_GOLDEN=1 cargo test --test golden and commit the diff.",
            got.lines().count(),
            want.lines().count(),
        );
    }
}

#[test]
fn the_velcro_replay_prints_its_golden_alerts() {
    check("velcro", &["--json"], "velcro.jsonl");
}

#[test]
fn the_velcro_replay_prints_its_golden_timeline() {
    check("velcro", &[], "velcro.txt");
}

#[test]
fn the_retailer_replay_prints_its_golden_alerts() {
    check("retailer", &["--json"], "retailer.jsonl");
}

#[test]
fn the_retailer_replay_prints_its_golden_timeline() {
    check("retailer", &[], "retailer.txt");
}
