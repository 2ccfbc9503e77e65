//! The SAM template's table is the table the store creates: one definition, no second copy to drift.

use baton::store::dynamo::table;
use serde_json::Value;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/infra/template.yaml");
    let yaml: serde_norway::Value = serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // CloudFormation's short-form tags (!Ref, !Sub, ...) become {"Ref": ...}-like maps; the table
    // itself uses none.
    serde_json::to_value(&yaml).unwrap()
}

#[test]
fn the_templates_table_is_the_stores_table() {
    let template = template();
    let properties = &template["Resources"]["CasesTable"]["Properties"];
    assert!(properties.is_object(), "no CasesTable in the template");
    let definition = table::definition();
    for (key, expected) in definition.as_object().unwrap() {
        assert_eq!(&properties[key], expected, "CasesTable.Properties.{key} differs from table::definition()");
    }
    // What the template adds is operational only: nothing that shapes keys, indexes or item expiry.
    let operational = ["PointInTimeRecoverySpecification", "DeletionProtectionEnabled", "SSESpecification"];
    for key in properties.as_object().unwrap().keys() {
        assert!(
            definition.get(key).is_some() || operational.contains(&key.as_str()),
            "CasesTable.Properties.{key} is not in table::definition(): add it there, or list it as operational"
        );
    }
}

#[test]
fn every_function_is_built_by_cargo_lambda_under_its_crate_name() {
    let template = template();
    let resources = template["Resources"].as_object().unwrap();
    let mut binaries: Vec<&str> = resources
        .values()
        .filter(|r| r["Type"] == "AWS::Serverless::Function")
        .map(|r| {
            assert_eq!(r["Metadata"]["BuildMethod"], "rust-cargolambda");
            r["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap()
        })
        .collect();
    binaries.sort_unstable();
    assert_eq!(binaries, ["case-api", "case-page", "email-ingest", "sla-sweep", "webhook-ingest"]);
    for binary in binaries {
        let manifest = format!("{}/functions/{binary}/Cargo.toml", env!("CARGO_MANIFEST_DIR"));
        assert!(std::path::Path::new(&manifest).is_file(), "{manifest}");
    }
}

/// The case API is IAM authorised on every route: API Gateway refuses an unsigned call before the
/// function runs. IAM is the API's default authorizer, so a route added later is closed unless it
/// says otherwise. Open (`Authorizer: NONE`), each for a reason:
/// - the webhook routes: the platforms cannot sign with IAM; the function verifies every delivery's
///   signature over the raw body in constant time (and answers Meta's and X's verification GETs);
/// - `GET`/`POST /l/{token}`: a lead's browser cannot sign with IAM; the signed token in the path
///   (HMAC-SHA256, one case, view or ack of one clock and level, 14 days) is the credential, checked
///   in constant time before anything is read, and the route reaches only the case page function.
#[test]
fn only_the_webhooks_and_the_case_page_are_open_and_every_other_route_needs_iam() {
    let template = template();
    let auth = &template["Resources"]["HttpApi"]["Properties"]["Auth"];
    assert_eq!(auth["EnableIamAuthorizer"], true);
    assert_eq!(auth["DefaultAuthorizer"], "AWS_IAM", "a route that names no authorizer must need IAM");
    let mut routes = Vec::new();
    for resource in template["Resources"].as_object().unwrap().values() {
        let Some(events) = resource["Properties"]["Events"].as_object() else { continue };
        for event in events.values().filter(|e| e["Type"] == "HttpApi") {
            let path = event["Properties"]["Path"].as_str().unwrap();
            routes.push(format!("{} {path}", event["Properties"]["Method"].as_str().unwrap()));
            let authorizer = &event["Properties"]["Auth"]["Authorizer"];
            if path.starts_with("/webhooks/") || path == "/l/{token}" {
                assert_eq!(authorizer, "NONE", "{path}");
            } else {
                assert!(authorizer.is_null() || authorizer == "AWS_IAM", "{path} must need IAM, not {authorizer}");
            }
        }
    }
    routes.sort();
    let expected = [
        "DELETE /customers/{identity}",
        "GET /cases/{case}",
        "GET /l/{token}",
        "GET /webhooks/meta",
        "GET /webhooks/x",
        "POST /cases/{case}/{action}",
        "POST /l/{token}",
        "POST /webhooks/generic",
        "POST /webhooks/meta",
        "POST /webhooks/x",
    ];
    assert_eq!(routes, expected);
}

/// `(method, path, authorizer)` of every HTTP API route in the template.
fn routes(template: &Value) -> Vec<(String, String, Value)> {
    let mut routes = Vec::new();
    for resource in template["Resources"].as_object().unwrap().values() {
        let Some(events) = resource["Properties"]["Events"].as_object() else { continue };
        for event in events.values().filter(|e| e["Type"] == "HttpApi") {
            let properties = &event["Properties"];
            routes.push((
                properties["Method"].as_str().unwrap().to_string(),
                properties["Path"].as_str().unwrap().to_string(),
                properties["Auth"]["Authorizer"].clone(),
            ));
        }
    }
    routes
}

/// The `execute-api:Invoke` resources of a managed policy, as what follows the API's ARN
/// (`*/GET/cases/*`); every statement must allow exactly that action on this template's API.
fn invoke_resources(template: &Value, policy: &str) -> Vec<String> {
    let resource = &template["Resources"][policy];
    assert_eq!(resource["Type"], "AWS::IAM::ManagedPolicy", "{policy}");
    let api = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/";
    let mut resources = Vec::new();
    for statement in resource["Properties"]["PolicyDocument"]["Statement"].as_array().unwrap() {
        assert_eq!(statement["Effect"], "Allow", "{policy}");
        assert_eq!(statement["Action"], "execute-api:Invoke", "{policy}: only calls to the API");
        for arn in statement["Resource"].as_array().unwrap() {
            let arn = arn["!Sub"].as_str().unwrap_or_else(|| panic!("{policy}: {arn} is not a !Sub"));
            let route = arn.strip_prefix(api).unwrap_or_else(|| panic!("{policy}: {arn} is not on this API"));
            resources.push(route.to_string());
        }
    }
    resources
}

/// IAM's wildcard match: `*` is any run of characters (`/` included), `?` any one.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob(&pattern[1..], text) || (!text.is_empty() && glob(pattern, &text[1..])),
        (Some(p), Some(t)) if *p == b'?' || p == t => glob(&pattern[1..], &text[1..]),
        _ => false,
    }
}

/// What API Gateway checks a call against: `<stage>/<METHOD>/<path>`, path parameters filled in.
fn invoked(method: &str, path: &str) -> String {
    let path: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|s| if s.starts_with('{') { "BTN-7K3QF9".to_string() } else { s.to_string() })
        .collect();
    format!("$default/{method}/{}", path.join("/"))
}

/// Agents and helpdesk integrations get every IAM route but the erasure; the data protection role
/// gets the erasure alone. A route added later (closed by the default authorizer) must be placed in
/// one of them, and neither policy grants a route the template does not have.
#[test]
fn the_agents_policy_covers_the_case_routes_and_only_the_data_protection_policy_the_erasure() {
    let template = template();
    let agents = invoke_resources(&template, "AgentsPolicy");
    let data_protection = invoke_resources(&template, "DataProtectionPolicy");
    let grants = |resources: &[String], call: &str| resources.iter().any(|r| glob(r.as_bytes(), call.as_bytes()));
    let iam_routes: Vec<(String, String)> = routes(&template)
        .into_iter()
        .filter(|(_, _, authorizer)| authorizer != "NONE")
        .map(|(method, path, _)| (method, path))
        .collect();
    assert!(iam_routes.len() >= 3, "{iam_routes:?}");
    for (method, path) in &iam_routes {
        let call = invoked(method, path);
        let erasure = path.starts_with("/customers/");
        assert_eq!(grants(&agents, &call), !erasure, "AgentsPolicy and {method} {path}");
        assert_eq!(grants(&data_protection, &call), erasure, "DataProtectionPolicy and {method} {path}");
    }
    for resource in agents.iter().chain(&data_protection) {
        assert!(
            iam_routes.iter().any(|(method, path)| glob(resource.as_bytes(), invoked(method, path).as_bytes())),
            "{resource} grants no route of the template"
        );
    }
    for (output, policy) in [("AgentsPolicyArn", "AgentsPolicy"), ("DataProtectionPolicyArn", "DataProtectionPolicy")] {
        assert_eq!(template["Outputs"][output]["Value"]["!Ref"], policy, "{output}");
    }
}

/// A service may use the alert key only on behalf of this account's own resources: every service
/// statement of the key policy names the account and the resources' ARNs (no confused deputy).
#[test]
fn the_keys_service_statements_carry_the_source_account_and_arn() {
    let template = template();
    let statements = template["Resources"]["AlertsKey"]["Properties"]["KeyPolicy"]["Statement"].as_array().unwrap();
    let services: Vec<&Value> = statements.iter().filter(|s| !s["Principal"]["Service"].is_null()).collect();
    assert!(!services.is_empty());
    for statement in services {
        let sid = &statement["Sid"];
        let condition = &statement["Condition"];
        assert_eq!(condition["StringEquals"]["aws:SourceAccount"]["!Ref"], "AWS::AccountId", "{sid}");
        let arn = condition["ArnLike"]["aws:SourceArn"]["!Sub"].as_str().unwrap_or_default();
        assert!(arn.contains(":${AWS::AccountId}:"), "{sid}: aws:SourceArn names this account's resources");
    }
}

/// The webhook secrets are read at start from one Secrets Manager secret, named by its ARN: no
/// secret is resolved into an environment variable at deploy, and only webhook-ingest may read it.
/// The link secret likewise, by the sweep (to sign) and the case page (to verify) alone. No
/// function reads anything else of Secrets Manager.
#[test]
fn each_secret_is_read_only_by_its_functions_and_no_secret_is_in_the_environment() {
    let template = template();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/infra/template.yaml")).unwrap();
    assert!(!text.contains("{{resolve:"), "a dynamic reference puts a secret into the deployed configuration");
    for (name, resource) in template["Resources"].as_object().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let variables = resource["Properties"]["Environment"]["Variables"].as_object();
        for variable in variables.into_iter().flat_map(|v| v.keys()) {
            let arns = ["BATON_SECRET_ARN", "BATON_LINK_SECRET_ARN"];
            assert!(!variable.contains("SECRET") || arns.contains(&variable.as_str()), "{name}: {variable}");
        }
        let statements: Vec<&Value> = resource["Properties"]["Policies"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|p| p["Statement"].as_array().into_iter().flatten())
            .collect();
        let secret_reads: Vec<&&Value> =
            statements.iter().filter(|s| s["Action"].to_string().contains("secretsmanager")).collect();
        if name == "WebhookIngestFunction" {
            assert_eq!(variables.unwrap()["BATON_SECRET_ARN"]["!Ref"], "WebhookSecretArn");
            assert_eq!(secret_reads.len(), 1, "{secret_reads:?}");
            assert_eq!(secret_reads[0]["Action"], "secretsmanager:GetSecretValue");
            assert_eq!(secret_reads[0]["Resource"]["!Ref"], "WebhookSecretArn");
        } else if name == "SlaSweepFunction" || name == "CasePageFunction" {
            assert_eq!(variables.unwrap()["BATON_LINK_SECRET_ARN"]["!Ref"], "LinkSecret", "{name}");
            assert_eq!(secret_reads.len(), 1, "{name}: {secret_reads:?}");
            assert_eq!(secret_reads[0]["Action"], "secretsmanager:GetSecretValue");
            assert_eq!(secret_reads[0]["Resource"]["!Ref"], "LinkSecret", "{name}");
        } else {
            assert!(secret_reads.is_empty(), "{name} reads secrets: {secret_reads:?}");
        }
    }
}

/// The open `/l/{token}` routes reach the case page function alone, and it may only read cases,
/// record (the ingest's transaction) and read the link secret: no erasure, no publishing.
#[test]
fn the_case_page_routes_reach_a_function_that_reads_records_and_reads_the_link_secret_only() {
    let template = template();
    let resources = template["Resources"].as_object().unwrap();
    for (name, resource) in resources {
        let Some(events) = resource["Properties"]["Events"].as_object() else { continue };
        for event in events.values().filter(|e| e["Properties"]["Path"] == "/l/{token}") {
            assert_eq!(name, "CasePageFunction", "{event}");
        }
    }
    let page = &template["Resources"]["CasePageFunction"]["Properties"];
    let mut actions = Vec::new();
    for statement in page["Policies"][0]["Statement"].as_array().unwrap() {
        match &statement["Action"] {
            Value::String(action) => actions.push(action.clone()),
            Value::Array(list) => actions.extend(list.iter().map(|a| a.as_str().unwrap().to_string())),
            other => panic!("{other}"),
        }
    }
    actions.sort();
    assert_eq!(
        actions,
        [
            "dynamodb:BatchGetItem",
            "dynamodb:ConditionCheckItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "secretsmanager:GetSecretValue"
        ]
    );
    let variables = page["Environment"]["Variables"].as_object().unwrap();
    assert!(variables.get("BATON_PUBLIC_URL").is_none(), "the case page makes no links (and would close a cycle)");
    // The sweep signs with the same secret under the HTTP API's URL.
    let sweep = &template["Resources"]["SlaSweepFunction"]["Properties"]["Environment"]["Variables"];
    let url = sweep["BATON_PUBLIC_URL"]["!If"][2]["!Sub"].as_str().unwrap();
    assert_eq!(url, "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}");
    assert_eq!(sweep["BATON_CHAT_TOPIC_ARN"]["!If"][0], "CreateChatTopic");
    // A generated secret of 64 characters under the key the functions read.
    let generate = &template["Resources"]["LinkSecret"]["Properties"]["GenerateSecretString"];
    assert_eq!(generate["GenerateStringKey"], "BATON_LINK_SECRET");
    assert!(generate["PasswordLength"].as_u64().unwrap() >= 32);
    // The chat topic it creates is standard (Amazon Q Developer takes no FIFO topic) and encrypted.
    let chat = &template["Resources"]["ChatTopic"]["Properties"];
    assert!(chat.get("FifoTopic").is_none());
    assert_eq!(chat["KmsMasterKeyId"]["!Ref"], "AlertsKey");
}

/// The string a CloudFormation `!Sub` holds, however the YAML reader renders the tag.
fn sub_text(value: &Value) -> &str {
    match value {
        Value::String(text) => text,
        Value::Object(map) if map.len() == 1 => sub_text(map.values().next().unwrap()),
        other => panic!("not a !Sub string: {other}"),
    }
}

#[test]
fn the_templates_dashboard_is_the_one_baton_dashboard_prints() {
    let template = template();
    let body = sub_text(&template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]);
    let body: Value = serde_json::from_str(body).expect("the DashboardBody is JSON");
    assert_eq!(body, baton::metrics::dashboard(), "run `baton dashboard` and paste it into infra/template.yaml");
}

/// (metric name, dimension names) of every metric an EMF line declares.
fn declared(lines: &[String]) -> std::collections::BTreeSet<(String, Vec<String>)> {
    let mut found = std::collections::BTreeSet::new();
    for line in lines {
        let line: Value = serde_json::from_str(line).unwrap();
        for directive in line["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            assert_eq!(directive["Namespace"], baton::metrics::NAMESPACE);
            for dimensions in directive["Dimensions"].as_array().unwrap() {
                let dimensions: Vec<String> =
                    dimensions.as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_string()).collect();
                for metric in directive["Metrics"].as_array().unwrap() {
                    found.insert((metric["Name"].as_str().unwrap().to_string(), dimensions.clone()));
                }
            }
        }
    }
    found
}

/// (metric name, dimension names) of every metric a dashboard widget shows: a metric row
/// `[namespace, name, dimension, value, ..., {options}]`, or a `SEARCH('{namespace,dims}
/// MetricName="name"', ...)` expression.
fn shown(dashboard: &Value) -> std::collections::BTreeSet<(String, Vec<String>)> {
    let mut found = std::collections::BTreeSet::new();
    for widget in dashboard["widgets"].as_array().unwrap() {
        for row in widget["properties"]["metrics"].as_array().unwrap() {
            let row = row.as_array().unwrap();
            if let Some(expression) = row[0].get("expression").and_then(Value::as_str) {
                let Some(search) = expression.strip_prefix("SEARCH('{") else { continue };
                let (schema, rest) = search.split_once('}').unwrap();
                let mut parts = schema.split(',');
                assert_eq!(parts.next(), Some(baton::metrics::NAMESPACE), "{expression}");
                let dimensions: Vec<String> = parts.map(str::to_string).collect();
                let name = rest.split("MetricName=\"").nth(1).unwrap().split('"').next().unwrap();
                found.insert((name.to_string(), dimensions));
                continue;
            }
            let texts: Vec<&str> = row.iter().filter_map(Value::as_str).collect();
            assert_eq!(texts[0], baton::metrics::NAMESPACE, "{row:?}");
            let dimensions = texts[2..].iter().step_by(2).map(|d| d.to_string()).collect();
            found.insert((texts[1].to_string(), dimensions));
        }
    }
    found
}

#[test]
fn every_metric_the_dashboard_shows_is_one_the_functions_emit() {
    use baton::domain::clock::ClockKind;
    use baton::domain::measure::Measure;
    let at: jiff::Timestamp = "2026-04-13T14:00:00Z".parse().unwrap();
    let team: baton::domain::ids::TeamId = "central".parse().unwrap();
    // What the sweep emits (with a breach, and a hold that ended), and what the ingest emits.
    let measures = vec![
        Measure::Breached { clock: ClockKind::FirstResponse, team: team.clone(), started_at: at, due_at: at },
        Measure::Held { team: team.clone(), from: at, to: at, business: jiff::SignedDuration::ZERO },
    ];
    let alert: baton::domain::alert::Alert = serde_json::from_value(serde_json::json!({
        "schema": "baton.alert.v1", "kind": "breach", "case_id": "BTN-7K3QF9", "clock": "first_response",
        "level": 1, "team": "central", "region": null, "priority": "normal", "channels": ["email"],
        "due_at": at, "at": at, "customer_waiting_since": at, "summary": "s", "timeline": []
    }))
    .unwrap();
    let event = baton::domain::case::Event::from(baton::domain::case::EventData {
        at,
        source: "s".into(),
        kind: baton::domain::case::EventKind::ConfirmationExpired,
        owner: team.clone(),
        marks: Default::default(),
        excerpt: None,
        refs: Vec::new(),
        by: None,
        request: None,
    });
    let report = baton::service::SweepReport { alerts: vec![(alert, event)], measures, ..Default::default() };
    let mut lines = baton::metrics::sweep(&report, std::time::Duration::from_millis(5), at);
    let stopped = Measure::Stopped {
        clock: ClockKind::FirstResponse,
        team,
        started_at: at,
        due_at: at,
        at,
        elapsed: jiff::SignedDuration::ZERO,
        met: true,
        accepted: false,
    };
    lines.extend(baton::metrics::measures(&[stopped], at));
    let emitted = declared(&lines);
    let shown = shown(&baton::metrics::dashboard());
    assert!(shown.len() >= 8, "{shown:?}");
    for metric in &shown {
        assert!(emitted.contains(metric), "the dashboard shows {metric:?}, which no function emits: {emitted:?}");
    }
    // The SLA metrics of the contract, with their dimensions.
    for (name, dimensions) in [("ClockMet", vec!["Team", "Clock"]), ("TimeHeld", vec!["Team"])] {
        let dimensions: Vec<String> = dimensions.into_iter().map(String::from).collect();
        assert!(shown.contains(&(name.to_string(), dimensions)), "{name} is not on the dashboard");
    }
}
