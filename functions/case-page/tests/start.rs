//! The function refuses to start without its configuration, and says which variable is missing,
//! never quoting a secret.

use std::process::Command;

fn run(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_case-page")).env_clear().envs(env.iter().copied()).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_missing_table_or_link_secret_stops_the_function_with_its_name() {
    let (code, stderr) = run(&[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("BATON_TABLE"), "{stderr}");

    let (code, stderr) = run(&[("BATON_TABLE", "cases")]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("BATON_LINK_SECRET_ARN") && stderr.contains("BATON_LINK_SECRET"), "{stderr}");

    let (code, stderr) = run(&[("BATON_TABLE", "cases"), ("BATON_LINK_SECRET", "hush-too-short")]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("too short") && !stderr.contains("hush"), "{stderr}");
}
