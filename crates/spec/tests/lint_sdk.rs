//! `lint::sdk_mapping`: every SDK method has exactly one operation.

use appmixer_spec::{Problem, SDK_METHODS, Spec, lint};
use serde_json::{Map, Value, json};

/// A spec with one `GET /m/{name}` operation per SDK method, except that
/// `startFlow` and `stopFlow` share `sendFlowCommand` through `x-sdk-methods`.
fn base() -> Value {
    let mut paths = Map::new();
    for name in SDK_METHODS {
        if name == "startFlow" || name == "stopFlow" {
            continue;
        }
        paths.insert(format!("/m/{name}"), json!({"get": operation(name)}));
    }
    let mut command = operation("sendFlowCommand");
    command["x-sdk-methods"] = json!(["startFlow", "stopFlow"]);
    paths.insert("/coordinator".to_owned(), json!({"post": command}));
    json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": paths
    })
}

fn operation(id: &str) -> Value {
    json!({"operationId": id, "responses": {"200": {"description": "ok"}}})
}

fn problems(document: &Value) -> Vec<Problem> {
    let spec = Spec::parse(&document.to_string()).expect("the test spec parses");
    lint::sdk_mapping(&spec)
}

#[test]
fn the_base_spec_maps_all_37_methods() {
    assert_eq!(problems(&base()), []);
}

#[test]
fn an_unmapped_sdk_method_is_reported_by_name() {
    let mut document = base();
    document["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/m/getCharts");

    let found = problems(&document);

    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].operation, None);
    assert!(
        found[0]
            .message
            .contains("SDK method `getCharts` is mapped by no operation")
    );
}

#[test]
fn an_sdk_method_mapped_twice_names_both_operations() {
    let mut document = base();
    let mut extra = operation("fetchCharts");
    extra["x-sdk-methods"] = json!(["getCharts"]);
    document["paths"]["/extra"] = json!({"get": extra});

    let found = problems(&document);

    let operations: Vec<Option<&str>> = found.iter().map(|p| p.operation.as_deref()).collect();
    assert_eq!(
        operations,
        [Some("getCharts"), Some("fetchCharts")],
        "{found:#?}"
    );
    assert!(
        found[0]
            .message
            .contains("mapped by 2 operations (getCharts, fetchCharts)")
    );
}

#[test]
fn a_listed_name_that_is_no_sdk_method_is_reported() {
    let mut document = base();
    document["paths"]["/coordinator"]["post"]["x-sdk-methods"] =
        json!(["startFlow", "stopFlow", "pauseFlow"]);

    let found = problems(&document);

    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].operation.as_deref(), Some("sendFlowCommand"));
    assert_eq!(found[0].location, "/paths/~1coordinator/post/x-sdk-methods");
    assert!(
        found[0]
            .message
            .contains("`pauseFlow`, which is not a method")
    );
}

#[test]
fn an_sdk_named_operation_must_list_itself_in_x_sdk_methods() {
    let mut document = base();
    document["paths"]["/m/getFlow"]["get"]["x-sdk-methods"] = json!(["getFlows"]);

    let found = problems(&document);

    let messages: Vec<&str> = found.iter().map(|p| p.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`getFlow` is an SDK method, so `x-sdk-methods` must list it")),
        "{messages:#?}"
    );
    // Listing `getFlows` there also maps it a second time.
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`getFlows` is mapped by 2 operations")),
        "{messages:#?}"
    );
}

#[test]
fn an_sdk_named_operation_that_lists_itself_is_fine() {
    let mut document = base();
    document["paths"]["/m/getFlow"]["get"]["x-sdk-methods"] = json!(["getFlow"]);

    assert_eq!(problems(&document), []);
}

#[test]
fn x_sdk_methods_must_be_a_list_of_strings() {
    let mut document = base();
    document["paths"]["/m/getFlow"]["get"]["x-sdk-methods"] = json!("getFlow");

    let found = problems(&document);

    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].message.contains("must be a list"));
}
