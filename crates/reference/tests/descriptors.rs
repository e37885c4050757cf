//! Every real flow descriptor in `shared/data/flows/` round-trips exactly
//! through `createFlow` and `getFlow`, and `getFlowAuthentication` lists
//! exactly the components that need an account.

mod common;

use std::path::{Path, PathBuf};

use common::{Api, Body, keys};
use reqwest::Method;
use serde_json::{Map, Value, json};

const SERVER_FIELDS: [&str; 7] = [
    "flowId", "userId", "stage", "btime", "mtime", "started", "stopped",
];

/// The real descriptors, as `(file name, bytes)`, or `None` when they are not on this machine.
///
/// They live beside the repository, not in it (they carry no open licence):
/// `APPMIXER_FLOWS_DIR`, else `../shared/data/flows` next to the checkout. Without them the
/// tests that need them say so and check nothing, unless `APPMIXER_REQUIRE_FLOWS` is set (CI
/// sets it), which makes their absence a failure.
fn descriptors() -> Option<Vec<(String, Vec<u8>)>> {
    let dir = std::env::var_os("APPMIXER_FLOWS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/flows")
        });
    if !dir.is_dir() {
        assert!(
            std::env::var_os("APPMIXER_REQUIRE_FLOWS").is_none(),
            "APPMIXER_REQUIRE_FLOWS is set but the real descriptors are not at {}; \
             set APPMIXER_FLOWS_DIR to their directory",
            dir.display()
        );
        eprintln!(
            "skipped: the real descriptors are not at {}; set APPMIXER_FLOWS_DIR",
            dir.display()
        );
        return None;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("the real descriptors live in {}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 35, "shared/data/flows holds 35 descriptors");
    let files = files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    Some(files)
}

async fn create_raw(api: &Api, token: &str, bytes: Vec<u8>) -> String {
    let answer = api
        .send(
            Method::POST,
            "/flows",
            Some(token),
            Body::Raw("application/json", bytes),
        )
        .await;
    answer.ok()["flowId"].as_str().unwrap().to_owned()
}

/// The service the brief's rule gives a component type, written out here
/// independently of the server's implementation.
fn expected_service(component_type: &str) -> Option<String> {
    let parts: Vec<&str> = component_type.split('.').collect();
    if parts.len() < 4 {
        None
    } else if component_type.starts_with("appmixer.utils.ftp.") {
        Some("appmixer:utils:ftp".to_owned())
    } else if component_type.starts_with("appmixer.utils.") {
        None
    } else {
        Some(format!("{}:{}", parts[0], parts[1]))
    }
}

#[tokio::test]
async fn every_real_descriptor_round_trips_exactly() {
    let api = Api::start().await;
    let token = api.user("jane").await;

    let Some(files) = descriptors() else { return };
    for (name, bytes) in files {
        let original: Value = serde_json::from_slice(&bytes).unwrap();
        let flow_id = create_raw(&api, &token, bytes).await;

        let mut stored = api.get(&format!("/flows/{flow_id}"), &token).await.ok();
        let server: Map<String, Value> = SERVER_FIELDS
            .iter()
            .filter_map(|field| {
                stored
                    .as_object_mut()
                    .unwrap()
                    .shift_remove(*field)
                    .map(|v| (field.to_string(), v))
            })
            .collect();

        assert_eq!(stored, original, "{name}: the stored fields differ");
        assert_eq!(
            serde_json::to_string(&stored).unwrap(),
            serde_json::to_string(&original).unwrap(),
            "{name}: key order differs"
        );
        assert_eq!(server["flowId"], flow_id, "{name}");
        assert_eq!(server["stage"], "stopped", "{name}");
    }
}

#[tokio::test]
async fn flow_authentication_lists_exactly_the_components_that_need_an_account() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let mut entries_seen = 0;

    let Some(files) = descriptors() else { return };
    for (name, bytes) in files {
        let original: Value = serde_json::from_slice(&bytes).unwrap();
        let flow_id = create_raw(&api, &token, bytes).await;

        let answer = api.get(&format!("/auth/flow/{flow_id}"), &token).await.ok();

        let expected: Vec<(String, String, String)> = original["flow"]
            .as_object()
            .unwrap()
            .iter()
            .filter_map(|(id, component)| {
                let kind = component["type"].as_str().unwrap();
                expected_service(kind).map(|service| (id.clone(), kind.to_owned(), service))
            })
            .collect();
        let expected_ids: Vec<String> = expected.iter().map(|(id, _, _)| id.clone()).collect();
        assert_eq!(
            keys(&answer),
            expected_ids,
            "{name}: components, in descriptor order"
        );
        for (id, kind, service) in expected {
            let entry = &answer[&id];
            assert_eq!(
                entry,
                &json!({ "componentId": id, "componentType": kind, "service": service, "accounts": {} }),
                "{name}"
            );
        }
        entries_seen += keys(&answer).len();
    }

    assert!(
        entries_seen > 100,
        "the real flows have many connector components"
    );
}

#[tokio::test]
async fn slack_components_see_slack_accounts_and_the_assigned_one() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let Some(files) = descriptors() else { return };
    let (_, bytes) = files
        .into_iter()
        .find(|(name, _)| name == "slack--test-flow-messages.json")
        .unwrap();
    let original: Value = serde_json::from_slice(&bytes).unwrap();
    let flow_id = create_raw(&api, &token, bytes).await;
    let slack = api
        .post(
            "/accounts",
            &token,
            json!({ "service": "appmixer:slack", "token": { "accessToken": "x" } }),
        )
        .await
        .ok();
    api.post(
        "/accounts",
        &token,
        json!({ "service": "appmixer:jira", "token": {} }),
    )
    .await
    .ok();
    let account_id = slack["accountId"].as_str().unwrap();
    let sender = original["flow"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, c)| c["type"] == "appmixer.slack.list.SendChannelMessage")
        .map(|(id, _)| id.clone())
        .unwrap();

    api.put(
        &format!("/auth/component/{sender}/{account_id}"),
        &token,
        json!({}),
    )
    .await
    .ok();
    let answer = api.get(&format!("/auth/flow/{flow_id}"), &token).await.ok();

    let entries = answer.as_object().unwrap();
    assert!(entries.len() > 1);
    for (component_id, entry) in entries {
        assert_eq!(entry["service"], "appmixer:slack");
        assert_eq!(
            keys(&entry["accounts"]),
            [account_id.to_owned()],
            "only slack accounts"
        );
        let account = &entry["accounts"][account_id];
        assert_eq!(account["componentId"], json!(component_id));
        assert_eq!(
            account["componentAssigned"],
            *component_id == sender,
            "{component_id}"
        );
    }
}

#[tokio::test]
async fn ftp_utilities_need_the_ftp_service_and_other_utilities_none() {
    let api = Api::start().await;
    let token = api.user("jane").await;
    let Some(files) = descriptors() else { return };
    let by_name = |wanted: &str| {
        files
            .iter()
            .find(|&(name, _)| name == wanted)
            .cloned()
            .unwrap()
            .1
    };
    let ftp = create_raw(&api, &token, by_name("utils-ftp--test-flow.json")).await;
    let csv = create_raw(&api, &token, by_name("utils-csv--test-flow.json")).await;

    let ftp_answer = api.get(&format!("/auth/flow/{ftp}"), &token).await.ok();
    let csv_answer = api.get(&format!("/auth/flow/{csv}"), &token).await.ok();

    let ftp_entries = ftp_answer.as_object().unwrap();
    assert!(!ftp_entries.is_empty());
    assert!(
        ftp_entries
            .values()
            .all(|entry| entry["service"] == "appmixer:utils:ftp")
    );
    assert_eq!(csv_answer, json!({}));
}
