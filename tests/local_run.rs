//! `baton create-table --dynamodb-endpoint` takes the AWS settings a function run in the same
//! environment takes (the SDK's chain), with stand-ins only for what nothing configures. DynamoDB
//! Local (here, as the README's local run starts it: without `-sharedDb`) keeps one database per
//! access key and region, so a table made with other settings is a table the function never sees.
//! `scripts/local-run` (in the test command) runs the whole local setup end to end.

mod common;

use aws_credential_types::Credentials;
use common::dynamodb;

fn client(endpoint: &str, region: &'static str, key: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version_latest()
        .endpoint_url(endpoint)
        .region(aws_sdk_dynamodb::config::Region::new(region))
        .credentials_provider(Credentials::new(key, "secret", None, None, "test"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

async fn tables(client: &aws_sdk_dynamodb::Client) -> Vec<String> {
    client.list_tables().send().await.expect("listing tables").table_names.unwrap_or_default()
}

/// `baton create-table` with only `env` set (and an empty home: no profile).
fn create_table(name: &str, env: &[(&str, &str)]) {
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["create-table", "--table", name, "--dynamodb-endpoint", dynamodb::endpoint()])
        .env_clear()
        .env("HOME", home.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn create_table_uses_the_users_region_and_keys_as_the_functions_do() {
    let endpoint = dynamodb::endpoint();
    let name = format!("baton-users-{}", std::process::id());
    let user =
        [("AWS_REGION", "eu-west-1"), ("AWS_ACCESS_KEY_ID", "AKIAUSERKEY00000001"), ("AWS_SECRET_ACCESS_KEY", "s")];
    create_table(&name, &user);
    assert!(tables(&client(endpoint, "eu-west-1", "AKIAUSERKEY00000001")).await.contains(&name));
    // With fixed stand-ins instead, a function run with the user's settings would find no table.
    assert!(!tables(&client(endpoint, "us-east-1", "baton")).await.contains(&name));
}

#[tokio::test]
async fn with_nothing_configured_create_table_falls_back_to_the_stand_ins() {
    let endpoint = dynamodb::endpoint();
    let name = format!("baton-nothing-{}", std::process::id());
    create_table(&name, &[]);
    let stand_ins = aws_sdk_dynamodb::Client::new(&baton::config::local_aws(endpoint));
    assert!(tables(&stand_ins).await.contains(&name));
    // A region alone is the user's; the keys are still the stand-ins.
    let regional = format!("baton-region-{}", std::process::id());
    create_table(&regional, &[("AWS_REGION", "eu-west-1")]);
    assert!(tables(&client(endpoint, "eu-west-1", "baton")).await.contains(&regional));
}
