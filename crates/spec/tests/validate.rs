//! Schema validation and response checks (feature `validate`).
#![cfg(feature = "validate")]

use appmixer_spec::schema::{ResponseCheck, Validator, Verdict};
use appmixer_spec::{Spec, default_path};
use serde_json::{Value, json};

fn real_validator() -> Validator {
    let spec = Spec::load(&default_path()).expect("spec/appmixer.yaml loads");
    Validator::new(&spec).expect("the real spec compiles")
}

/// A spec with one schema `Thing` and one operation `getThing`.
fn small_validator(thing: Value) -> Validator {
    let document = json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/things/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "get": {
                "operationId": "getThing",
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Thing"}
                    }}},
                    "204": {"description": "nothing"},
                    "4XX": {"$ref": "#/components/responses/Error"}
                }
            }
        }},
        "components": {
            "responses": {"Error": {"description": "e", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}
            }}}},
            "schemas": {
                "Thing": thing,
                "Error": {"type": "object", "required": ["message"], "properties": {
                    "message": {"type": "string"}
                }}
            }
        }
    });
    let spec = Spec::parse(&document.to_string()).expect("the small spec parses");
    Validator::new(&spec).expect("the small spec compiles")
}

fn thing() -> Value {
    json!({
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "at": {"type": "string", "format": "date-time"},
            "note": {"type": "string", "nullable": true},
            "count": {"type": "integer", "minimum": 0}
        }
    })
}

const THING: &str = "#/components/schemas/Thing";

#[test]
fn an_invalid_date_time_fails() {
    let validator = small_validator(thing());
    let value = json!({"id": "9089f275-f5a5-4796-ba23-365412c5666e", "at": "yesterday"});

    let errors = validator.validate_pointer(THING, &value).unwrap_err();

    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("/at: "), "{errors:?}");
    assert!(errors[0].contains("date-time"), "{errors:?}");
}

#[test]
fn an_invalid_uuid_fails() {
    let validator = small_validator(thing());
    let value = json!({"id": "not-a-uuid"});

    let errors = validator.validate_pointer(THING, &value).unwrap_err();

    assert!(errors[0].starts_with("/id: "), "{errors:?}");
    assert!(errors[0].contains("uuid"), "{errors:?}");
}

#[test]
fn an_iso_8601_timestamp_with_milliseconds_and_z_passes() {
    let validator = small_validator(thing());
    let value =
        json!({"id": "9089f275-f5a5-4796-ba23-365412c5666e", "at": "2018-03-29T19:24:08.950Z"});

    let result = validator.validate_pointer(THING, &value);

    assert_eq!(result, Ok(()));
}

#[test]
fn nullable_allows_null_and_other_fields_do_not() {
    let validator = small_validator(thing());
    let id = "9089f275-f5a5-4796-ba23-365412c5666e";

    let null_note = validator.validate_pointer(THING, &json!({"id": id, "note": null}));
    let null_count = validator.validate_pointer(THING, &json!({"id": id, "count": null}));

    assert_eq!(null_note, Ok(()));
    let errors = null_count.unwrap_err();
    assert!(errors[0].starts_with("/count: "), "{errors:?}");
}

#[test]
fn extra_fields_pass_unless_additional_properties_is_false() {
    let open = small_validator(thing());
    let mut closed_schema = thing();
    closed_schema["additionalProperties"] = json!(false);
    let closed = small_validator(closed_schema);
    let value = json!({"id": "9089f275-f5a5-4796-ba23-365412c5666e", "extra": 1});

    assert_eq!(open.validate_pointer(THING, &value), Ok(()));
    assert!(closed.validate_pointer(THING, &value).is_err());
}

#[test]
fn a_missing_required_field_is_reported_at_the_root() {
    let validator = small_validator(thing());

    let errors = validator.validate_pointer(THING, &json!({})).unwrap_err();

    assert!(errors[0].starts_with("(root): "), "{errors:?}");
    assert!(errors[0].contains("id"), "{errors:?}");
}

#[test]
fn validate_pointer_reaches_schemas_inside_paths() {
    let validator = real_validator();
    let pointer = "/paths/~1flows~1{flowId}/get/responses/200/content/application~1json/schema";

    let good = validator.validate_pointer(
        pointer,
        &json!({"flowId": "9089f275-f5a5-4796-ba23-365412c5666e"}),
    );
    let bad = validator.validate_pointer(
        pointer,
        &json!({"flowId": "9089f275-f5a5-4796-ba23-365412c5666e", "stage": "paused"}),
    );

    assert_eq!(good, Ok(()));
    let errors = bad.unwrap_err();
    assert!(errors[0].starts_with("/stage: "), "{errors:?}");
}

#[test]
fn refs_between_components_resolve() {
    let validator = real_validator();
    let flow = json!({
        "flowId": "9089f275-f5a5-4796-ba23-365412c5666e",
        "flow": {"c1": {"label": "no type"}}
    });

    let errors = validator
        .validate_pointer("#/components/schemas/Flow", &flow)
        .unwrap_err();

    assert!(errors[0].starts_with("/flow/c1: "), "{errors:?}");
}

#[test]
fn a_pointer_to_nothing_is_an_error_naming_it() {
    let validator = real_validator();

    let errors = validator
        .validate_pointer("#/components/schemas/Nope", &json!({}))
        .unwrap_err();

    assert!(errors[0].contains("/components/schemas/Nope"), "{errors:?}");
}

#[test]
fn a_documented_answer_passes_every_verdict() {
    let validator = small_validator(thing());
    let body = br#"{"id": "9089f275-f5a5-4796-ba23-365412c5666e"}"#;

    let check = validator.check_response(
        "getThing",
        200,
        Some("Application/JSON; charset=utf-8"),
        body,
    );

    assert_eq!(
        check,
        ResponseCheck {
            status: Verdict::Pass,
            content_type: Verdict::Pass,
            body: Verdict::Pass
        }
    );
    assert!(check.passed());
}

#[test]
fn an_undocumented_status_fails_only_the_status() {
    let validator = small_validator(thing());

    let check = validator.check_response("getThing", 500, Some("application/json"), b"{}");

    assert!(
        matches!(&check.status, Verdict::Fail(reason) if reason.contains("500") && reason.contains("4XX"))
    );
    assert_eq!(check.content_type, Verdict::NotApplicable);
    assert_eq!(check.body, Verdict::NotApplicable);
}

#[test]
fn a_range_documents_its_statuses() {
    let validator = small_validator(thing());

    let check = validator.check_response(
        "getThing",
        404,
        Some("application/json"),
        br#"{"message": "no"}"#,
    );
    let wrong = validator.check_response(
        "getThing",
        404,
        Some("application/json"),
        br#"{"msg": "no"}"#,
    );

    assert!(check.passed(), "{check:?}");
    assert!(wrong.body.is_fail(), "{wrong:?}");
}

#[test]
fn a_response_without_content_accepts_any_body() {
    let validator = small_validator(thing());

    let check = validator.check_response("getThing", 204, Some("text/html"), b"<html>");

    assert_eq!(
        check,
        ResponseCheck {
            status: Verdict::Pass,
            content_type: Verdict::NotApplicable,
            body: Verdict::NotApplicable
        }
    );
}

#[test]
fn a_wrong_content_type_fails_and_the_body_is_still_judged() {
    let validator = small_validator(thing());
    let body = br#"{"id": "9089f275-f5a5-4796-ba23-365412c5666e"}"#;

    let check = validator.check_response("getThing", 200, Some("text/plain"), body);
    let missing = validator.check_response("getThing", 200, None, body);

    assert!(matches!(&check.content_type, Verdict::Fail(reason) if reason.contains("text/plain")));
    assert_eq!(check.body, Verdict::Pass);
    assert!(missing.content_type.is_fail());
}

#[test]
fn a_body_that_is_not_json_or_breaks_the_schema_fails_the_body() {
    let validator = small_validator(thing());

    let garbage = validator.check_response("getThing", 200, Some("application/json"), b"{oops");
    let empty = validator.check_response("getThing", 200, Some("application/json"), b"");
    let invalid =
        validator.check_response("getThing", 200, Some("application/json"), br#"{"id": 5}"#);

    assert!(matches!(&garbage.body, Verdict::Fail(reason) if reason.contains("not JSON")));
    assert!(matches!(&empty.body, Verdict::Fail(reason) if reason.contains("empty")));
    assert!(matches!(&invalid.body, Verdict::Fail(reason) if reason.contains("/id")));
    assert_eq!(invalid.status, Verdict::Pass);
}

#[test]
fn an_unknown_operation_fails_the_status_naming_it() {
    let validator = small_validator(thing());

    let check = validator.check_response("getNothing", 200, Some("application/json"), b"{}");

    assert!(matches!(&check.status, Verdict::Fail(reason) if reason.contains("getNothing")));
}

#[test]
fn the_real_empty_200_bodies_are_accepted() {
    let validator = real_validator();

    let check = validator.check_response("deleteStore", 200, None, b"");

    assert!(check.passed(), "{check:?}");
}

#[test]
fn validator_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}

    assert_send_sync::<Validator>();
}

#[test]
fn a_schema_that_cannot_compile_is_an_error_naming_its_pointer() {
    let document = json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {},
        "components": {"schemas": {"Broken": {"type": "string", "pattern": "(unclosed"}}}
    });
    let spec = Spec::parse(&document.to_string()).unwrap();

    let error = Validator::new(&spec).unwrap_err();

    assert!(
        error.to_string().contains("/components/schemas/Broken"),
        "{error}"
    );
}
