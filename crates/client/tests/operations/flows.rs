//! Flows: listing, counting, reading, writing, starting and stopping, cloning,
//! and messages to a component of a running flow.

use appmixer_client::{FlowDescriptor, types};
use serde_json::{Value, json};

use crate::{Call, call, common};

const FLOW_ID: &str = "9089f275-f5a5-4796-ba23-365412c5666e";
const CLONE_ID: &str = "7f8d2a40-3b0e-4c8e-9a57-0c1f4d2b9e11";

pub fn calls() -> Vec<Call> {
    vec![
        call!("getFlows", GET "/flows", |c| c.get_flows()),
        call!("createFlow", POST "/flows", |c| c
            .create_flow()
            .body(types::FlowCreate::builder().name("n"))),
        call!("getFlowsCount", GET "/flows/count", |c| c.get_flows_count()),
        call!("getFlow", GET "/flows/f1", |c| c.get_flow().flow_id("f1")),
        call!("updateFlow", PUT "/flows/f1", |c| c
            .update_flow()
            .flow_id("f1")
            .body(types::FlowUpdate::builder())),
        call!("deleteFlow", DELETE "/flows/f1", |c| c.delete_flow().flow_id("f1")),
        call!("sendFlowCommand", POST "/flows/f1/coordinator", |c| c
            .send_flow_command()
            .flow_id("f1")
            .body(types::FlowCommand { command: types::FlowCommandCommand::Start })),
        call!("cloneFlow", POST "/flows/f1/clone", |c| c
            .clone_flow()
            .flow_id("f1")
            .body(types::CloneOptions::builder())),
        call!(public "sendComponentMessage", POST "/flows/f1/components/c1", |c| c
            .send_component_message()
            .flow_id("f1")
            .component_id("c1")
            .body(serde_json::Map::new())),
    ]
}

/// A flow as `getFlow` answers it, with fields the spec does not declare.
fn stored_flow() -> Value {
    json!({
        "flowId": FLOW_ID,
        "userId": "5c6fc9932ff3ff000747ead4",
        "name": "New contacts to Slack",
        "stage": "stopped",
        "btime": "2018-03-29T19:24:08.950Z",
        "mtime": "2018-04-05T12:50:15.952Z",
        "flow": {
            "b0": {"type": "appmixer.utils.controls.OnStart", "x": 0, "y": 0,
                   "source": {}, "config": {}},
            "a1": {"type": "appmixer.slack.list.SendChannelMessage", "x": 200, "y": 0,
                   "source": {"in": {"b0": ["out"]}}, "config": {"transform": {}},
                   "undeclared": [1, 2]}
        },
        "customFields": {"category": "crm"},
        "type": "integration-template",
        "wizard": {"fields": []}
    })
}

#[tokio::test]
async fn get_flows_sends_every_query_parameter_and_repeats_filter() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/flows").is_true(|request| {
                common::query_is(
                    request,
                    &[
                        ("limit", "10"),
                        ("offset", "20"),
                        ("pattern", "slack"),
                        ("sort", "mtime:-1"),
                        ("projection", "-flow,-thumbnail"),
                        ("sharedWithPermissions", "read,start"),
                        ("filter", "customFields.category:crm"),
                        ("filter", "userId:!5c6f"),
                    ],
                )
            });
            then.status(200).json_body(json!([stored_flow()]));
        })
        .await;
    let client = common::client(&server);

    let flows = client
        .get_flows()
        .limit(10u64)
        .offset(20u64)
        .pattern("slack")
        .sort("mtime:-1")
        .projection("-flow,-thumbnail")
        .shared_with_permissions("read,start")
        .filter(vec![
            String::from("customFields.category:crm"),
            String::from("userId:!5c6f"),
        ])
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].flow_id.to_string(), FLOW_ID);
}

#[tokio::test]
async fn get_flows_percent_encodes_query_values() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/flows").is_true(|request| {
                common::raw_query(request)
                    == "filter=customFields.category%3Aa+%26+b&pattern=50%25+off"
            });
            then.status(200).json_body(json!([]));
        })
        .await;
    let client = common::client(&server);

    let flows = client
        .get_flows()
        .pattern("50% off")
        .filter(vec![String::from("customFields.category:a & b")])
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert!(flows.is_empty());
}

#[tokio::test]
async fn get_flow_keeps_undeclared_fields_and_the_exact_descriptor() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET")
                .path(format!("/flows/{FLOW_ID}"))
                .query_param("projection", "-thumbnail");
            then.status(200).json_body(stored_flow());
        })
        .await;
    let client = common::client(&server);

    let flow = client
        .get_flow()
        .flow_id(FLOW_ID)
        .projection("-thumbnail")
        .send()
        .await
        .unwrap()
        .into_inner();

    mock.assert_async().await;
    assert_eq!(flow.stage, Some(types::FlowStage::Stopped));
    assert_eq!(flow.extra["type"], "integration-template");
    assert_eq!(flow.extra["wizard"], json!({"fields": []}));
    let descriptor = flow.flow.expect("a descriptor");
    assert_eq!(descriptor.component_ids().collect::<Vec<_>>(), ["b0", "a1"]);
    assert_eq!(
        serde_json::to_value(&descriptor).unwrap(),
        stored_flow()["flow"]
    );
    assert_eq!(
        serde_json::to_string(&descriptor).unwrap(),
        serde_json::to_string(&stored_flow()["flow"]).unwrap()
    );
}

#[tokio::test]
async fn create_flow_sends_the_descriptor_and_further_fields() {
    let descriptor: FlowDescriptor = serde_json::from_value(stored_flow()["flow"].clone()).unwrap();
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST").path("/flows").json_body(json!({
                "name": "New contacts to Slack",
                "flow": stored_flow()["flow"],
                "customFields": {"category": "crm"},
                "type": "integration-template"
            }));
            then.status(200).json_body(json!({"flowId": FLOW_ID}));
        })
        .await;
    let client = common::client(&server);
    let extra = serde_json::Map::from_iter([(String::from("type"), json!("integration-template"))]);
    let custom_fields = serde_json::Map::from_iter([(String::from("category"), json!("crm"))]);

    let created = client
        .create_flow()
        .body(
            types::FlowCreate::builder()
                .name("New contacts to Slack")
                .flow(descriptor)
                .custom_fields(Some(custom_fields))
                .extra(extra),
        )
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(created.flow_id.to_string(), FLOW_ID);
}

#[tokio::test]
async fn get_flows_count_sends_pattern_and_filters() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("GET").path("/flows/count").is_true(|request| {
                common::query_is(
                    request,
                    &[
                        ("pattern", "crm"),
                        ("filter", "stage:running"),
                        ("filter", "service:appmixer:slack"),
                    ],
                )
            });
            then.status(200).json_body(json!({"count": 3}));
        })
        .await;
    let client = common::client(&server);

    let count = client
        .get_flows_count()
        .pattern("crm")
        .filter(vec![
            String::from("stage:running"),
            String::from("service:appmixer:slack"),
        ])
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(count.count, 3);
}

#[tokio::test]
async fn update_flow_sends_force_update_and_empty_custom_fields() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("PUT")
                .path(format!("/flows/{FLOW_ID}"))
                .query_param("forceUpdate", "true")
                .json_body(json!({"name": "Renamed", "customFields": {}, "sharedWith": []}));
            then.status(200)
                .json_body(json!({"flowId": FLOW_ID, "result": "updated"}));
        })
        .await;
    let client = common::client(&server);

    let updated = client
        .update_flow()
        .flow_id(FLOW_ID)
        .force_update(true)
        .body(
            types::FlowUpdate::builder()
                .name(Some(String::from("Renamed")))
                .custom_fields(Some(serde_json::Map::new()))
                .shared_with(Some(Vec::new())),
        )
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(updated.result, types::FlowUpdatedResult::Updated);
}

#[tokio::test]
async fn delete_flow_decodes_the_id() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("DELETE").path(format!("/flows/{FLOW_ID}"));
            then.status(200).json_body(json!({"flowId": FLOW_ID}));
        })
        .await;
    let client = common::client(&server);

    let deleted = client.delete_flow().flow_id(FLOW_ID).send().await.unwrap();

    mock.assert_async().await;
    assert_eq!(deleted.flow_id.to_string(), FLOW_ID);
}

#[tokio::test]
async fn start_flow_sends_the_start_command() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path(format!("/flows/{FLOW_ID}/coordinator"))
                .header("authorization", common::bearer())
                .json_body(json!({"command": "start"}));
            then.status(200).json_body(json!({"flowId": FLOW_ID}));
        })
        .await;
    let client = common::client(&server);

    let started = client.start_flow(FLOW_ID).await.unwrap();

    mock.assert_async().await;
    assert_eq!(started.flow_id.to_string(), FLOW_ID);
    assert_eq!(started.ticket, None);
}

#[tokio::test]
async fn stop_flow_sends_the_stop_command() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path(format!("/flows/{FLOW_ID}/coordinator"))
                .json_body(json!({"command": "stop"}));
            then.status(200).json_body(json!({"flowId": FLOW_ID}));
        })
        .await;
    let client = common::client(&server);
    let flow_id: uuid::Uuid = FLOW_ID.parse().unwrap();

    let stopped = client.stop_flow(flow_id).await.unwrap();

    mock.assert_async().await;
    assert_eq!(stopped.flow_id, flow_id);
}

#[tokio::test]
async fn send_flow_command_in_the_background_decodes_the_ticket() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path(format!("/flows/{FLOW_ID}/coordinator"))
                .query_param("background", "true")
                .json_body(json!({"command": "stop"}));
            then.status(200)
                .json_body(json!({"flowId": FLOW_ID, "ticket": FLOW_ID}));
        })
        .await;
    let client = common::client(&server);

    let answer = client
        .send_flow_command()
        .flow_id(FLOW_ID)
        .background(true)
        .body(types::FlowCommand {
            command: types::FlowCommandCommand::Stop,
        })
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(answer.ticket.as_deref(), Some(FLOW_ID));
}

#[tokio::test]
async fn clone_flow_sends_the_options_and_decodes_the_clone_id() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path(format!("/flows/{FLOW_ID}/clone"))
                .json_body(json!({"prefix": "Copy of ", "connectAccounts": true}));
            then.status(200).json_body(json!({"cloneId": CLONE_ID}));
        })
        .await;
    let client = common::client(&server);

    let clone = client
        .clone_flow()
        .flow_id(FLOW_ID)
        .body(
            types::CloneOptions::builder()
                .prefix(Some(String::from("Copy of ")))
                .connect_accounts(Some(true)),
        )
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(clone.clone_id.to_string(), CLONE_ID);
}

#[tokio::test]
async fn send_component_message_encodes_the_component_id_and_sends_no_token() {
    let server = common::engine().await;
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path(format!("/flows/{FLOW_ID}/components/in%20box%2F1"))
                .header_missing("authorization")
                .json_body(json!({"email": "jane@example.com"}));
            then.status(202)
                .json_body(json!({"flowId": FLOW_ID, "componentId": "in box/1"}));
        })
        .await;
    let client = common::client(&server);
    let message = serde_json::Map::from_iter([(String::from("email"), json!("jane@example.com"))]);

    let accepted = client
        .send_component_message()
        .flow_id(FLOW_ID)
        .component_id("in box/1")
        .body(message)
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(accepted.status().as_u16(), 202);
    assert_eq!(accepted.component_id, "in box/1");
}
