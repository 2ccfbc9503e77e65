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
    assert_eq!(binaries, ["case-api", "email-ingest", "sla-sweep", "webhook-ingest"]);
    for binary in binaries {
        let manifest = format!("{}/functions/{binary}/Cargo.toml", env!("CARGO_MANIFEST_DIR"));
        assert!(std::path::Path::new(&manifest).is_file(), "{manifest}");
    }
}

/// The case API is IAM authorised on every route: API Gateway refuses an unsigned call before the
/// function runs. Only the webhook routes, whose bodies the function verifies by signature (and
/// Meta's and X's verification GETs), go without an authorizer.
#[test]
fn only_the_webhooks_are_open_and_every_other_route_needs_iam() {
    let template = template();
    assert_eq!(template["Resources"]["HttpApi"]["Properties"]["Auth"]["EnableIamAuthorizer"], true);
    let mut routes = Vec::new();
    for resource in template["Resources"].as_object().unwrap().values() {
        let Some(events) = resource["Properties"]["Events"].as_object() else { continue };
        for event in events.values().filter(|e| e["Type"] == "HttpApi") {
            let path = event["Properties"]["Path"].as_str().unwrap();
            routes.push(format!("{} {path}", event["Properties"]["Method"].as_str().unwrap()));
            let authorizer = &event["Properties"]["Auth"]["Authorizer"];
            if path.starts_with("/webhooks/") {
                assert_eq!(authorizer, "NONE", "{path}");
            } else {
                assert_eq!(authorizer, "AWS_IAM", "{path} must need IAM");
            }
        }
    }
    routes.sort();
    let expected = [
        "DELETE /customers/{identity}",
        "GET /cases/{case}",
        "GET /webhooks/meta",
        "GET /webhooks/x",
        "POST /cases/{case}/{action}",
        "POST /webhooks/generic",
        "POST /webhooks/meta",
        "POST /webhooks/x",
    ];
    assert_eq!(routes, expected);
}
