//! SNS (and SQS, to read what SNS delivered) on moto's server, started once per test binary. When
//! moto is missing, the test fails and says how to install it.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

use super::service::{Running, start};

static MOTO: OnceLock<Running> = OnceLock::new();
static NAMES: AtomicU32 = AtomicU32::new(0);

/// `moto_server`: `BATON_MOTO_SERVER`, else where `scripts/install-moto` puts it.
fn server() -> PathBuf {
    std::env::var_os("BATON_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/moto/bin/moto_server"))
}

fn launch() -> Running {
    let server = server();
    assert!(
        server.is_file(),
        "moto is not installed: {} is missing. Run `bash scripts/install-moto` (the README's test command \
         does), or point BATON_MOTO_SERVER at a moto_server.",
        server.display()
    );
    let server = server.to_str().expect("a UTF-8 path").replace('\'', "'\\''");
    start("moto", &format!("'{server}' -H 127.0.0.1 -p \"$PORT\""))
}

/// The endpoint of this test binary's moto server.
pub fn endpoint() -> &'static str {
    &MOTO.get_or_init(launch).endpoint
}

pub fn sqs() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&baton::config::local_aws(endpoint()))
}

/// A new SNS topic with an SQS queue subscribed to it (FIFO both, if asked): (topic ARN, queue URL).
pub async fn topic_with_queue(test: &str, fifo: bool) -> (String, String) {
    let n = NAMES.fetch_add(1, Ordering::Relaxed);
    let suffix = if fifo { ".fifo" } else { "" };
    let name = format!("baton-{test}-{}-{n}", std::process::id());
    let sns = baton::notify::sns::local_client(endpoint());
    let mut topic = sns.create_topic().name(format!("{name}{suffix}"));
    if fifo {
        topic = topic.attributes("FifoTopic", "true");
    }
    let topic_arn = topic.send().await.expect("creating the topic").topic_arn.expect("a topic ARN");
    let queue_url = subscribe_queue(&topic_arn, &name, fifo, None).await;
    (topic_arn, queue_url)
}

/// A new queue `name` subscribed to the topic, with a filter policy if given; its URL.
pub async fn subscribe_queue(topic_arn: &str, name: &str, fifo: bool, filter_policy: Option<&str>) -> String {
    let suffix = if fifo { ".fifo" } else { "" };
    let sqs = sqs();
    let mut queue = sqs.create_queue().queue_name(format!("{name}{suffix}"));
    if fifo {
        queue = queue.attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true");
    }
    let queue_url = queue.send().await.expect("creating the queue").queue_url.expect("a queue URL");
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("the queue's ARN");
    let queue_arn = attributes.attributes.unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
    let sns = baton::notify::sns::local_client(endpoint());
    let mut subscribe = sns.subscribe().topic_arn(topic_arn).protocol("sqs").endpoint(queue_arn);
    if let Some(policy) = filter_policy {
        subscribe = subscribe.attributes("FilterPolicy", policy);
    }
    subscribe.send().await.expect("subscribing");
    queue_url
}

/// One SNS notification as the queue received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub subject: String,
    /// The message: the `baton.alert.v1` JSON.
    pub alert: Value,
    /// Message attributes by name: (type, value).
    pub attributes: Value,
}

/// The alerts in the queue (`baton.alert.v1`), until it is empty; the daily digests that came
/// with them are dropped.
pub async fn drain_alerts(queue_url: &str) -> Vec<Received> {
    drain(queue_url).await.into_iter().filter(|r| r.alert["schema"] == "baton.alert.v1").collect()
}

/// Everything in the queue, until it is empty.
pub async fn drain(queue_url: &str) -> Vec<Received> {
    let sqs = sqs();
    let mut received = Vec::new();
    loop {
        let out =
            sqs.receive_message().queue_url(queue_url).max_number_of_messages(10).send().await.expect("receiving");
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return received;
        }
        for message in messages {
            let envelope: Value = serde_json::from_str(message.body().unwrap()).expect("an SNS envelope");
            let alert = serde_json::from_str(envelope["Message"].as_str().unwrap()).expect("alert JSON");
            received.push(Received {
                subject: envelope["Subject"].as_str().unwrap_or_default().to_string(),
                alert,
                attributes: envelope["MessageAttributes"].clone(),
            });
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .expect("deleting");
        }
    }
}
