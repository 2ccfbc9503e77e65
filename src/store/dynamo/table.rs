//! The table: its one definition, in the shape of a CloudFormation `AWS::DynamoDB::Table`'s
//! properties. `baton create-table` and the tests create the table from it, and a test holds the SAM
//! template's table to it, so the two cannot drift.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use serde_json::{Value, json};

pub const PARTITION_KEY: &str = "PK";
pub const SORT_KEY: &str = "SK";
/// The sparse due index: only cases with something pending carry its keys.
pub const DUE_INDEX: &str = "due";
pub const DUE_SHARD: &str = "due_shard";
pub const DUE_AT: &str = "due_at";
/// The sparse index of open cases by owning team: only open case items carry `open_team`, and
/// `attention` (`1#<case>` when a digest may list the case, `0#<case>` otherwise), so a team's
/// digest reads the `1#` half of its own partition: not the table, not its quiet cases.
pub const OPEN_INDEX: &str = "open";
pub const OPEN_TEAM: &str = "open_team";
pub const ATTENTION: &str = "attention";
/// Dedupe items expire through DynamoDB's TTL on this attribute (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// How many shards the due index is spread over (`DUE#0` .. `DUE#15`): enough that no index
/// partition runs hot, few enough that an idle sweep costs 16 small queries.
pub const DUE_SHARDS: u32 = 16;

/// The table's properties as CloudFormation writes them (`TableName` aside).
pub fn definition() -> Value {
    json!({
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            { "AttributeName": PARTITION_KEY, "AttributeType": "S" },
            { "AttributeName": SORT_KEY, "AttributeType": "S" },
            { "AttributeName": DUE_SHARD, "AttributeType": "S" },
            { "AttributeName": DUE_AT, "AttributeType": "S" },
            { "AttributeName": OPEN_TEAM, "AttributeType": "S" },
            { "AttributeName": ATTENTION, "AttributeType": "S" }
        ],
        "KeySchema": [
            { "AttributeName": PARTITION_KEY, "KeyType": "HASH" },
            { "AttributeName": SORT_KEY, "KeyType": "RANGE" }
        ],
        "GlobalSecondaryIndexes": [{
            "IndexName": DUE_INDEX,
            "KeySchema": [
                { "AttributeName": DUE_SHARD, "KeyType": "HASH" },
                { "AttributeName": DUE_AT, "KeyType": "RANGE" }
            ],
            "Projection": { "ProjectionType": "KEYS_ONLY" }
        }, {
            "IndexName": OPEN_INDEX,
            "KeySchema": [
                { "AttributeName": OPEN_TEAM, "KeyType": "HASH" },
                { "AttributeName": ATTENTION, "KeyType": "RANGE" }
            ],
            "Projection": { "ProjectionType": "KEYS_ONLY" }
        }],
        "TimeToLiveSpecification": { "AttributeName": TTL_ATTRIBUTE, "Enabled": true }
    })
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("creating table {table}: {reason}")]
    Create { table: String, reason: String },
    #[error("the table definition is malformed at {0}")]
    Definition(&'static str),
}

/// Creates the table (with its index and TTL) from [`definition`] and waits until it is active.
pub async fn create(client: &Client, table: &str) -> Result<(), TableError> {
    let def = definition();
    let fail = |reason: String| TableError::Create { table: table.to_string(), reason };
    let attributes = def["AttributeDefinitions"]
        .as_array()
        .ok_or(TableError::Definition("AttributeDefinitions"))?
        .iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(text(a, "AttributeName")?)
                .attribute_type(ScalarAttributeType::from(text(a, "AttributeType")?))
                .build()
                .map_err(|_| TableError::Definition("AttributeDefinitions"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::from(text(&def, "BillingMode")?))
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_schema(&def["KeySchema"])?));
    for index in def["GlobalSecondaryIndexes"].as_array().ok_or(TableError::Definition("GlobalSecondaryIndexes"))? {
        let projection =
            Projection::builder().projection_type(ProjectionType::from(text(&index["Projection"], "ProjectionType")?));
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(text(index, "IndexName")?)
                .set_key_schema(Some(key_schema(&index["KeySchema"])?))
                .projection(projection.build())
                .build()
                .map_err(|_| TableError::Definition("GlobalSecondaryIndexes"))?,
        );
    }
    request.send().await.map_err(|e| fail(DisplayErrorContext(e).to_string()))?;

    let ttl = &def["TimeToLiveSpecification"];
    let spec = TimeToLiveSpecification::builder()
        .attribute_name(text(ttl, "AttributeName")?)
        .enabled(ttl["Enabled"].as_bool().unwrap_or(false))
        .build()
        .map_err(|_| TableError::Definition("TimeToLiveSpecification"))?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(spec)
        .send()
        .await
        .map_err(|e| fail(format!("enabling TTL: {}", DisplayErrorContext(e))))?;

    for _ in 0..120 {
        let described = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| fail(DisplayErrorContext(e).to_string()))?;
        let status = described.table().and_then(|t| t.table_status()).map(|s| s.as_str().to_string());
        if status.as_deref() == Some("ACTIVE") {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    Err(fail("the table did not become active within a minute".to_string()))
}

fn text<'a>(value: &'a Value, field: &'static str) -> Result<&'a str, TableError> {
    value[field].as_str().ok_or(TableError::Definition(field))
}

fn key_schema(value: &Value) -> Result<Vec<KeySchemaElement>, TableError> {
    value
        .as_array()
        .ok_or(TableError::Definition("KeySchema"))?
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(text(k, "AttributeName")?)
                .key_type(KeyType::from(text(k, "KeyType")?))
                .build()
                .map_err(|_| TableError::Definition("KeySchema"))
        })
        .collect()
}
