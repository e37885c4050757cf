//! `lint::references`: every `$ref` must resolve, and each one that does not
//! is blamed on the operations that reach it.

use appmixer_spec::{Problem, Spec, lint};
use serde_json::{Value, json};

/// Two operations that both return `Thing`, which holds a `Part`.
fn base() -> Value {
    let thing = json!({"description": "ok", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Thing"}
    }}});
    json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things": {"get": {"operationId": "getThings", "responses": {"200": thing}}},
            "/things/{id}": {
                "parameters": [{"$ref": "#/components/parameters/Id"}],
                "get": {"operationId": "getThing", "responses": {"200": thing}}
            },
            "/other": {"get": {"operationId": "getOther", "responses": {"204": {"description": "none"}}}}
        },
        "components": {
            "parameters": {"Id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}},
            "schemas": {
                "Thing": {"type": "object", "properties": {"part": {"$ref": "#/components/schemas/Part"}}},
                "Part": {"type": "string"}
            }
        }
    })
}

fn problems(document: &Value) -> Vec<Problem> {
    let spec = Spec::parse(&document.to_string()).expect("the test spec parses");
    lint::references(&spec)
}

fn operations(found: &[Problem]) -> Vec<Option<&str>> {
    found
        .iter()
        .map(|problem| problem.operation.as_deref())
        .collect()
}

#[test]
fn resolving_references_are_not_reported() {
    assert_eq!(problems(&base()), []);
}

#[test]
fn a_missing_schema_is_blamed_on_every_operation_that_reaches_it() {
    let mut document = base();
    document["components"]["schemas"]
        .as_object_mut()
        .unwrap()
        .remove("Part");

    let found = problems(&document);

    assert_eq!(
        operations(&found),
        [Some("getThings"), Some("getThing")],
        "{found:#?}"
    );
    for problem in &found {
        assert_eq!(
            problem.location,
            "/components/schemas/Thing/properties/part"
        );
        assert!(
            problem
                .message
                .contains("`$ref: #/components/schemas/Part` points at nothing"),
            "{}",
            problem.message
        );
        assert!(
            problem.message.contains("no `/components/schemas/Part`"),
            "{}",
            problem.message
        );
    }
}

#[test]
fn a_missing_path_parameter_is_blamed_on_its_operation() {
    let mut document = base();
    document["components"]
        .as_object_mut()
        .unwrap()
        .remove("parameters");

    let found = problems(&document);

    assert_eq!(operations(&found), [Some("getThing")], "{found:#?}");
    assert_eq!(found[0].location, "/paths/~1things~1{id}/parameters/0");
}

#[test]
fn a_dangling_reference_no_operation_reaches_is_reported_where_it_is() {
    let mut document = base();
    document["components"]["schemas"]["Unused"] =
        json!({"type": "array", "items": {"$ref": "#/components/schemas/Gone"}});

    let found = problems(&document);

    assert_eq!(operations(&found), [None], "{found:#?}");
    assert_eq!(found[0].location, "/components/schemas/Unused/items");
}

#[test]
fn a_reference_into_another_file_is_reported() {
    let mut document = base();
    document["components"]["schemas"]["Part"] = json!({"$ref": "parts.yaml#/Part"});

    let found = problems(&document);

    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].message.contains("points outside this document"),
        "{}",
        found[0].message
    );
}

#[test]
fn a_ref_field_in_an_example_is_data_not_a_reference() {
    let mut document = base();
    document["components"]["schemas"]["Thing"]["example"] = json!({"$ref": "#/nowhere"});
    document["components"]["schemas"]["Thing"]["properties"]["example"] =
        json!({"$ref": "#/components/schemas/Part"});

    assert_eq!(problems(&document), []);
}

#[test]
fn the_real_spec_has_no_dangling_reference() {
    let spec = Spec::load(&appmixer_spec::default_path()).expect("the spec loads");

    assert_eq!(lint::references(&spec), []);
}
