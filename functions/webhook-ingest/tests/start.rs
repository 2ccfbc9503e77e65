//! The function refuses to start without its configuration, and names each missing variable.

fn stderr(env: &[(&str, &str)]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_webhook-ingest"))
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn each_missing_secret_is_named() {
    let mut env = vec![];
    for name in ["META_APP_SECRET", "META_VERIFY_TOKEN", "X_CONSUMER_SECRET", "WEBHOOK_SECRET", "BATON_TABLE"] {
        assert!(stderr(&env).contains(name), "{name}");
        env.push((name, "set"));
    }
}
