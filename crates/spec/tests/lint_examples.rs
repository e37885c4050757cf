//! `lint::examples`: examples must match the schemas they illustrate.
#![cfg(feature = "validate")]

use appmixer_spec::{Problem, Spec, lint};
use serde_json::{Value, json};

fn base() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/things": {"post": {
            "operationId": "createThing",
            "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}, "example": 5}],
            "requestBody": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Thing"},
                "example": {"name": "a"},
                "examples": {
                    "inline": {"value": {"name": "b"}},
                    "shared": {"$ref": "#/components/examples/Named"}
                }
            }}},
            "responses": {"200": {"description": "ok"}}
        }}},
        "components": {
            "examples": {"Named": {"value": {"name": "c"}}},
            "schemas": {"Thing": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "example": "d"},
                    "at": {"type": "string", "format": "date-time", "nullable": true, "example": null}
                },
                "example": {"name": "e", "at": "2019-02-22T13:34:54.215Z"}
            }}
        }
    })
}

fn problems(document: &Value) -> Vec<Problem> {
    let spec = Spec::parse(&document.to_string()).expect("the test spec parses");
    lint::examples(&spec)
}

fn assert_one_at(found: &[Problem], location: &str, operation: Option<&str>) {
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].location, location);
    assert_eq!(found[0].operation.as_deref(), operation);
}

#[test]
fn matching_examples_are_not_reported() {
    assert_eq!(problems(&base()), []);
}

#[test]
fn a_wrong_schema_example_is_reported_where_it_is() {
    let mut document = base();
    document["components"]["schemas"]["Thing"]["example"] = json!({"name": 7});

    let found = problems(&document);

    assert_one_at(&found, "/components/schemas/Thing/example", None);
    assert!(
        found[0].message.contains("/name: 7 is not of type"),
        "{}",
        found[0].message
    );
}

#[test]
fn a_wrong_property_example_is_reported_where_it_is() {
    let mut document = base();
    document["components"]["schemas"]["Thing"]["properties"]["at"]["example"] = json!("soon");

    let found = problems(&document);

    assert_one_at(
        &found,
        "/components/schemas/Thing/properties/at/example",
        None,
    );
}

#[test]
fn a_wrong_media_type_example_names_the_operation() {
    let mut document = base();
    document["paths"]["/things"]["post"]["requestBody"]["content"]["application/json"]["example"] =
        json!({});

    let found = problems(&document);

    assert_one_at(
        &found,
        "/paths/~1things/post/requestBody/content/application~1json/example",
        Some("createThing"),
    );
    assert!(found[0].message.contains("name"), "{}", found[0].message);
}

#[test]
fn a_wrong_inline_examples_entry_is_reported() {
    let mut document = base();
    document["paths"]["/things"]["post"]["requestBody"]["content"]["application/json"]["examples"]
        ["inline"]["value"] = json!({"name": null});

    let found = problems(&document);

    assert_one_at(
        &found,
        "/paths/~1things/post/requestBody/content/application~1json/examples/inline/value",
        Some("createThing"),
    );
}

#[test]
fn a_wrong_referenced_example_is_reported_at_its_component() {
    let mut document = base();
    document["components"]["examples"]["Named"]["value"] = json!([]);

    let found = problems(&document);

    assert_one_at(
        &found,
        "/components/examples/Named/value",
        Some("createThing"),
    );
}

#[test]
fn a_wrong_parameter_example_is_reported() {
    let mut document = base();
    document["paths"]["/things"]["post"]["parameters"][0]["example"] = json!("five");

    let found = problems(&document);

    assert_one_at(
        &found,
        "/paths/~1things/post/parameters/0/example",
        Some("createThing"),
    );
}

#[test]
fn a_missing_schema_names_each_operation_and_the_target_instead_of_the_root() {
    let mut document = base();
    document["paths"]["/things"]["get"] = json!({
        "operationId": "getThing",
        "responses": {"200": {"description": "ok", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Thing"}
        }}}}
    });
    document["components"]["schemas"]["Thing"]["properties"]["owner"] =
        json!({"$ref": "#/components/schemas/NoSuchSchema"});

    let found = problems(&document);

    let operations: Vec<Option<&str>> = found.iter().map(|p| p.operation.as_deref()).collect();
    assert_eq!(
        operations,
        [Some("createThing"), Some("getThing")],
        "{found:#?}"
    );
    for problem in &found {
        assert_eq!(
            problem.location,
            "/components/schemas/Thing/properties/owner"
        );
        assert!(
            problem
                .message
                .contains("#/components/schemas/NoSuchSchema"),
            "{}",
            problem.message
        );
        assert!(
            !problem.to_string().contains("(document root)"),
            "{problem}"
        );
    }
}

#[test]
fn all_lints_report_a_missing_schema_once_per_operation() {
    let mut document = base();
    document["components"]["schemas"]["Thing"]["properties"]["owner"] =
        json!({"$ref": "#/components/schemas/NoSuchSchema"});
    let spec = Spec::parse(&document.to_string()).unwrap();

    let found: Vec<Problem> = lint::all(&spec)
        .into_iter()
        .filter(|problem| problem.message.contains("NoSuchSchema"))
        .collect();

    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].operation.as_deref(), Some("createThing"));
}
