//! `lint::progenitor_subset`: each rule, broken by a small spec.

use appmixer_spec::{Problem, Spec, lint};
use serde_json::{Value, json};

/// A spec progenitor accepts: one operation `getThing` on `/things/{id}`.
fn base() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/things/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "get": {
                "operationId": "getThing",
                "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Thing"}
                    }}},
                    "4XX": {"$ref": "#/components/responses/Error"},
                    "5XX": {"$ref": "#/components/responses/Error"}
                }
            }
        }},
        "components": {
            "responses": {"Error": {"description": "e", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}
            }}}},
            "schemas": {
                "Thing": {"type": "object", "properties": {"on": {"type": "boolean", "default": false}}},
                "Other": {"type": "object"},
                "Error": {"type": "object"}
            }
        }
    })
}

fn problems(document: &Value) -> Vec<Problem> {
    let spec = Spec::parse(&document.to_string()).expect("the test spec parses");
    lint::progenitor_subset(&spec)
}

fn get_thing(document: &mut Value) -> &mut Value {
    &mut document["paths"]["/things/{id}"]["get"]
}

/// Asserts exactly one problem, in `operation`, whose message contains `needle`.
fn assert_one(problems: &[Problem], operation: Option<&str>, needle: &str) {
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].operation.as_deref(), operation, "{problems:#?}");
    assert!(
        problems[0].message.contains(needle),
        "{:?} lacks {needle:?}",
        problems[0].message
    );
}

#[test]
fn the_base_spec_has_no_problem() {
    assert_eq!(problems(&base()), []);
}

#[test]
fn a_missing_operation_id_is_named_by_method_and_path() {
    let mut document = base();
    get_thing(&mut document)
        .as_object_mut()
        .unwrap()
        .remove("operationId");

    let found = problems(&document);

    assert_one(&found, Some("GET /things/{id}"), "operationId");
}

#[test]
fn a_duplicate_operation_id_is_reported_at_the_second_use() {
    let mut document = base();
    document["paths"]["/things/{id}"]["delete"] = json!({
        "operationId": "getThing",
        "responses": {"200": {"description": "gone"}}
    });

    let found = problems(&document);

    assert_one(
        &found,
        Some("getThing"),
        "already used at /paths/~1things~1{id}/get",
    );
    assert_eq!(
        found[0].location,
        "/paths/~1things~1{id}/delete/operationId"
    );
}

#[test]
fn two_success_schemas_are_one_too_many() {
    let mut document = base();
    get_thing(&mut document)["responses"]["201"] = json!({"description": "made", "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Other"}}
    }});

    let found = problems(&document);

    assert_one(
        &found,
        Some("getThing"),
        "success (2XX) responses must all share one schema",
    );
    assert!(
        found[0].message.contains("#/components/schemas/Other"),
        "{found:?}"
    );
}

#[test]
fn a_typed_success_beside_an_empty_one_is_reported() {
    let mut document = base();
    get_thing(&mut document)["responses"]["204"] = json!({"description": "nothing"});

    let found = problems(&document);

    assert_one(&found, Some("getThing"), "204 has no body");
}

#[test]
fn success_codes_sharing_one_schema_are_fine() {
    let mut document = base();
    let ok = get_thing(&mut document)["responses"]["200"].clone();
    get_thing(&mut document)["responses"]["201"] = ok;

    assert_eq!(problems(&document), []);
}

#[test]
fn error_responses_of_different_kinds_are_reported() {
    let mut document = base();
    get_thing(&mut document)["responses"]["5XX"] = json!({"description": "no body"});

    let found = problems(&document);

    assert_one(&found, Some("getThing"), "error (4XX/5XX) responses");
}

#[test]
fn a_default_response_is_reported() {
    let mut document = base();
    get_thing(&mut document)["responses"]["default"] = json!({"description": "anything"});

    let found = problems(&document);

    assert_one(&found, Some("getThing"), "`default` response");
    assert_eq!(
        found[0].location,
        "/paths/~1things~1{id}/get/responses/default"
    );
}

#[test]
fn a_request_body_with_two_media_types_is_reported() {
    let mut document = base();
    get_thing(&mut document)["requestBody"] = json!({"content": {
        "application/json": {"schema": {"type": "object"}},
        "text/plain": {"schema": {"type": "string"}}
    }});

    let found = problems(&document);

    assert_one(
        &found,
        Some("getThing"),
        "2 media types (application/json, text/plain)",
    );
}

#[test]
fn a_multipart_request_body_is_reported() {
    let mut document = base();
    get_thing(&mut document)["requestBody"] =
        json!({"content": {"multipart/form-data": {"schema": {"type": "object"}}}});

    let found = problems(&document);

    assert_one(
        &found,
        Some("getThing"),
        "`multipart/form-data` is not one progenitor sends",
    );
}

#[test]
fn a_text_body_needs_a_plain_string_schema() {
    let mut document = base();
    get_thing(&mut document)["requestBody"] =
        json!({"content": {"text/plain": {"schema": {"type": "string", "maxLength": 10}}}});
    let mut plain = base();
    get_thing(&mut plain)["requestBody"] =
        json!({"content": {"text/plain": {"schema": {"type": "string"}}}});

    let found = problems(&document);

    assert_one(
        &found,
        Some("getThing"),
        "text/plain body needs a schema that is exactly `type: string`",
    );
    assert_eq!(problems(&plain), []);
}

#[test]
fn an_octet_stream_body_needs_a_binary_string_schema() {
    let mut document = base();
    get_thing(&mut document)["requestBody"] =
        json!({"content": {"application/octet-stream": {"schema": {"type": "string"}}}});
    let mut binary = base();
    get_thing(&mut binary)["requestBody"] = json!({"content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
    }});

    let found = problems(&document);

    assert_one(&found, Some("getThing"), "format: binary");
    assert_eq!(problems(&binary), []);
}

#[test]
fn form_and_json_bodies_are_accepted() {
    for media_type in ["application/json", "application/x-www-form-urlencoded"] {
        let mut document = base();
        get_thing(&mut document)["requestBody"] =
            json!({"content": {media_type: {"schema": {"type": "object"}}}});

        assert_eq!(problems(&document), [], "{media_type}");
    }
}

#[test]
fn a_cookie_parameter_is_reported() {
    let mut document = base();
    get_thing(&mut document)["parameters"] =
        json!([{"name": "session", "in": "cookie", "schema": {"type": "string"}}]);

    let found = problems(&document);

    assert_one(&found, Some("getThing"), "cookie parameter `session`");
    assert_eq!(found[0].location, "/paths/~1things~1{id}/get/parameters/0");
}

#[test]
fn a_query_parameter_with_another_style_is_reported() {
    let mut document = base();
    get_thing(&mut document)["parameters"] = json!([{
        "name": "q", "in": "query", "style": "deepObject", "schema": {"type": "object"}
    }]);

    let found = problems(&document);

    assert_one(&found, Some("getThing"), "`style: deepObject`");
}

#[test]
fn a_query_parameter_with_form_style_is_fine() {
    let mut document = base();
    get_thing(&mut document)["parameters"] = json!([{
        "name": "q", "in": "query", "style": "form", "explode": true,
        "schema": {"type": "array", "items": {"type": "string"}}
    }]);

    assert_eq!(problems(&document), []);
}

#[test]
fn a_referenced_path_item_is_reported() {
    let mut document = base();
    document["paths"]["/elsewhere"] = json!({"$ref": "#/paths/~1things~1{id}"});

    let found = problems(&document);

    assert_one(&found, None, "path item `/elsewhere` is a `$ref`");
}

#[test]
fn a_boolean_with_a_string_default_is_reported() {
    let mut document = base();
    document["components"]["schemas"]["Thing"]["properties"]["on"]["default"] = json!("false");

    let found = problems(&document);

    assert_one(&found, None, "string default `\"false\"`");
    assert_eq!(
        found[0].location,
        "/components/schemas/Thing/properties/on/default"
    );
}

#[test]
fn a_boolean_string_default_inside_an_operation_names_it() {
    let mut document = base();
    get_thing(&mut document)["parameters"] = json!([{
        "name": "all", "in": "query", "schema": {"type": "boolean", "default": "true"}
    }]);

    let found = problems(&document);

    assert_one(&found, Some("getThing"), "string default");
}

#[test]
fn a_path_template_without_its_parameter_is_reported() {
    let mut document = base();
    document["paths"]["/things/{id}"]
        .as_object_mut()
        .unwrap()
        .remove("parameters");

    let found = problems(&document);

    assert_one(&found, Some("getThing"), "no path parameter `id`");
}

#[test]
fn an_unresolvable_parameter_reference_is_reported() {
    let mut document = base();
    get_thing(&mut document)["parameters"] = json!([{"$ref": "#/components/parameters/Nope"}]);

    let found = problems(&document);

    assert_one(&found, Some("getThing"), "does not resolve");
}

#[test]
fn problems_display_operation_first() {
    let mut document = base();
    get_thing(&mut document)["responses"]["default"] = json!({"description": "anything"});

    let line = problems(&document)[0].to_string();

    assert!(
        line.starts_with("getThing: /paths/~1things~1{id}/get/responses/default: "),
        "{line}"
    );
}

#[test]
fn a_version_other_than_3_0_is_refused_before_any_lint_runs() {
    let mut document = base();
    document["openapi"] = json!("3.1.0");

    let error = Spec::parse(&document.to_string()).unwrap_err();

    assert!(
        error
            .to_string()
            .contains("expected openapi 3.0.x, got 3.1.0"),
        "{error}"
    );
}

#[test]
fn a_schema_that_refers_to_itself_is_blamed_on_the_operations_using_it() {
    let mut document = base();
    document["components"]["schemas"]["Loop"] = json!({"$ref": "#/components/schemas/Loop"});
    get_thing(&mut document)["responses"]["200"]["content"]["application/json"]["schema"] =
        json!({"$ref": "#/components/schemas/Loop"});

    let found = problems(&document);

    assert_one(
        &found,
        Some("getThing"),
        "nothing but a `$ref` cycle (Loop → Loop)",
    );
    assert_eq!(found[0].location, "/components/schemas/Loop");
}

#[test]
fn a_cycle_is_found_through_the_schemas_that_lead_into_it() {
    let mut document = base();
    let schemas = &mut document["components"]["schemas"];
    schemas["Thing"]["properties"]["link"] = json!({"$ref": "#/components/schemas/Alias"});
    schemas["Alias"] = json!({"$ref": "#/components/schemas/Ping"});
    schemas["Ping"] = json!({"$ref": "#/components/schemas/Pong"});
    schemas["Pong"] = json!({"$ref": "#/components/schemas/Ping"});

    let found = problems(&document);

    assert_one(&found, Some("getThing"), "(Ping → Pong → Ping)");
    assert_eq!(found[0].location, "/components/schemas/Ping");
}

#[test]
fn a_cycle_no_operation_uses_is_reported_in_the_components() {
    let mut document = base();
    document["components"]["schemas"]["Unused"] =
        json!({"$ref": "#/components/schemas/Unused", "description": "ignored beside $ref"});

    let found = problems(&document);

    assert_one(&found, None, "`$ref` cycle (Unused → Unused)");
}

#[test]
fn a_schema_that_contains_itself_is_not_a_cycle() {
    let mut document = base();
    document["components"]["schemas"]["Thing"]["properties"]["parent"] =
        json!({"$ref": "#/components/schemas/Thing"});
    document["components"]["schemas"]["Alias"] = json!({"$ref": "#/components/schemas/Thing"});

    assert_eq!(problems(&document), []);
}
