//! The function refuses to start without its configuration, and says which variable is missing.

use std::process::Command;

fn run(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sla-sweep")).env_clear().envs(env.iter().copied()).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_missing_variable_stops_the_function_with_its_name() {
    let (code, stderr) = run(&[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("BATON_TABLE"), "{stderr}");

    let (code, stderr) = run(&[("BATON_TABLE", "cases")]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("BATON_TOPIC_ARN"), "{stderr}");

    let (code, stderr) = run(&[
        ("BATON_TABLE", "cases"),
        ("BATON_TOPIC_ARN", "arn:aws:sns:eu-central-1:1:a"),
        ("BATON_POLICY", "[nonsense"),
    ]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("BATON_POLICY"), "{stderr}");

    // Signed links need the public URL and the secret together.
    let (code, stderr) = run(&[
        ("BATON_TABLE", "cases"),
        ("BATON_TOPIC_ARN", "arn:aws:sns:eu-central-1:1:a"),
        ("BATON_PUBLIC_URL", "https://api.example.com"),
    ]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("BATON_PUBLIC_URL is set but BATON_LINK_SECRET is not"), "{stderr}");
}

#[test]
fn the_scheduled_event_is_read_as_eventbridge_sends_it() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/eventbridge-scheduled.json");
    let text = std::fs::read_to_string(path).unwrap();
    let event: aws_lambda_events::eventbridge::EventBridgeEvent<serde_json::Value> =
        serde_json::from_str(&text).unwrap();
    assert_eq!(event.detail_type, "Scheduled Event");
    assert_eq!(event.source, "aws.events");
}
