//! The workspace's own `spec/appmixer.yaml` passes every lint and resolves,
//! and the copy built into the crate is the same spec.

use appmixer_spec::{Auth, SDK_METHODS, Spec, default_path, lint};

fn real_spec() -> Spec {
    Spec::load(&default_path()).expect("spec/appmixer.yaml loads")
}

#[test]
fn progenitor_subset_finds_nothing_in_the_real_spec() {
    let spec = real_spec();

    let problems = lint::progenitor_subset(&spec);

    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn sdk_mapping_finds_nothing_in_the_real_spec() {
    let spec = real_spec();

    let problems = lint::sdk_mapping(&spec);

    assert!(problems.is_empty(), "{problems:#?}");
}

#[cfg(feature = "validate")]
#[test]
fn examples_of_the_real_spec_match_their_schemas() {
    let spec = real_spec();

    let problems = lint::examples(&spec);

    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_sdk_method_is_mapped_by_exactly_one_operation() {
    let spec = real_spec();

    let operations = spec.operations();

    for name in SDK_METHODS {
        let mapping: Vec<&str> = operations
            .iter()
            .filter(|operation| operation.sdk_methods.iter().any(|sdk| sdk == name))
            .map(|operation| operation.id)
            .collect();
        assert_eq!(mapping.len(), 1, "{name} is mapped by {mapping:?}");
    }
    let mapped: usize = operations.iter().map(|o| o.sdk_methods.len()).sum();
    assert_eq!(mapped, 37);
}

#[test]
fn every_response_of_every_operation_resolves() {
    let spec = real_spec();

    for operation in spec.operations() {
        let responses = operation
            .responses()
            .unwrap_or_else(|e| panic!("{}: {e}", operation.id));

        assert!(
            !responses.is_empty(),
            "{} declares no response",
            operation.id
        );
        for response in responses {
            for media in response.content() {
                let schema = media.schema.expect("every declared body has a schema");
                spec.resolve_schema(schema)
                    .unwrap_or_else(|e| panic!("{} {}: {e}", operation.id, response.status));
            }
        }
        operation
            .parameters()
            .unwrap_or_else(|e| panic!("{}: {e}", operation.id));
        operation
            .request_body()
            .unwrap_or_else(|e| panic!("{}: {e}", operation.id));
    }
}

#[test]
fn operations_come_in_document_order_with_their_methods() {
    let spec = real_spec();

    let first: Vec<(&str, &str, &str)> = spec
        .operations()
        .iter()
        .take(4)
        .map(|o| (o.id, o.method, o.path))
        .collect();

    assert_eq!(
        first,
        [
            ("authenticateUser", "POST", "/user/auth"),
            ("getUser", "GET", "/user"),
            ("signupUser", "POST", "/user"),
            ("getFlows", "GET", "/flows"),
        ]
    );
}

#[test]
fn start_and_stop_flow_map_to_the_coordinator_operation() {
    let spec = real_spec();

    let operation = spec
        .operation("sendFlowCommand")
        .expect("sendFlowCommand exists");

    assert_eq!(operation.sdk_methods, ["startFlow", "stopFlow"]);
    assert!(operation.is_sdk_wrapper_target());
    assert_eq!(operation.path, "/flows/{flowId}/coordinator");
}

#[test]
fn auth_follows_each_operations_security() {
    let spec = real_spec();
    let auth = |id: &str| spec.operation(id).expect(id).auth;

    assert_eq!(auth("getFlows"), Auth::Required);
    assert_eq!(auth("authenticateUser"), Auth::None);
    assert_eq!(auth("getPeopleTasks"), Auth::Optional);
}

#[test]
fn path_level_parameters_merge_with_the_operations_own() {
    let spec = real_spec();
    let operation = spec.operation("getFlow").expect("getFlow exists");

    let path: Vec<&str> = operation
        .path_parameters()
        .unwrap()
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    let query: Vec<&str> = operation
        .query_parameters()
        .unwrap()
        .iter()
        .map(|p| p.name.as_str())
        .collect();

    assert_eq!(path, ["flowId"]);
    assert_eq!(query, ["projection"]);
}

#[test]
fn request_body_reports_its_media_type_and_schema_name() {
    let spec = real_spec();

    let create = spec
        .operation("createFlow")
        .unwrap()
        .request_body()
        .unwrap()
        .unwrap();
    let item = spec
        .operation("createStoreItem")
        .unwrap()
        .request_body()
        .unwrap()
        .unwrap();

    assert_eq!(create.content.media_type, "application/json");
    assert_eq!(create.content.schema_name(), Some("FlowCreate"));
    assert_eq!(item.content.media_type, "text/plain");
    assert_eq!(item.content.schema_name(), None);
}

#[test]
fn an_exact_status_wins_over_its_range() {
    let spec = real_spec();
    let operation = spec.operation("signupUser").unwrap();

    let created = operation.response_for_status(201).unwrap().unwrap();
    let conflict = operation.response_for_status(409).unwrap().unwrap();
    let redirect = operation.response_for_status(302).unwrap();

    assert_eq!(created.status.to_string(), "201");
    assert_eq!(conflict.status.to_string(), "4XX");
    assert_eq!(conflict.pointer, "/components/responses/ClientError");
    assert!(redirect.is_none());
}

#[test]
fn the_embedded_spec_is_the_workspace_spec_and_needs_no_file() {
    let on_disk = std::fs::read_to_string(default_path()).expect("spec/appmixer.yaml reads");

    let embedded = Spec::embedded().expect("the embedded spec parses");

    assert_eq!(appmixer_spec::EMBEDDED_SPEC, on_disk);
    assert_eq!(embedded.document(), real_spec().document());
    assert_eq!(embedded.operations().len(), real_spec().operations().len());
}
