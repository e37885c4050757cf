//! Turns OpenAPI 3.0 schema objects into JSON Schema (draft 4) for `jsonschema`.
//!
//! OpenAPI 3.0 schemas are a dialect of JSON Schema draft 4/5: `exclusiveMinimum`
//! is a boolean as in draft 4, but `nullable: true` stands for "or null",
//! `example` and `x-*` are annotations JSON Schema does not know, and
//! `format` is open-ended. The conversion keeps the document's shape, so a
//! JSON pointer into the spec is also a pointer into the converted document
//! and `$ref: '#/components/schemas/X'` resolves unchanged.

use serde_json::{Map, Value, json};

use crate::lint::walk::schema_roots;

/// The formats whose values are checked; others are annotations only, as
/// OpenAPI formats such as `int64` or `binary` are not JSON Schema formats.
const CHECKED_FORMATS: [&str; 2] = ["date-time", "uuid"];

/// Keywords that annotate and would only confuse a JSON Schema validator.
const DROPPED: [&str; 8] = [
    "example",
    "nullable",
    "discriminator",
    "xml",
    "externalDocs",
    "deprecated",
    "readOnly",
    "writeOnly",
];

/// A copy of `document` with every schema converted and the rest untouched.
pub(crate) fn convert_document(document: &Value) -> Value {
    let mut converted = document.clone();
    for root in schema_roots(document) {
        if let Some(slot) = converted.pointer_mut(&root.pointer) {
            *slot = convert_schema(root.value);
        }
    }
    converted
}

/// Converts one schema and, recursively, its subschemas.
pub(crate) fn convert_schema(schema: &Value) -> Value {
    let Some(object) = schema.as_object() else {
        return schema.clone();
    };
    // OpenAPI 3.0 ignores the siblings of `$ref`, and so does draft 4.
    if let Some(reference) = object.get("$ref") {
        return json!({ "$ref": reference });
    }

    let mut converted = Map::new();
    for (keyword, value) in object {
        if DROPPED.contains(&keyword.as_str()) || keyword.starts_with("x-") {
            continue;
        }
        let value = match keyword.as_str() {
            "format" if !value.as_str().is_some_and(|f| CHECKED_FORMATS.contains(&f)) => continue,
            // Draft 4 demands at least one name in `required`; none means none.
            "required" if value.as_array().is_some_and(Vec::is_empty) => continue,
            "properties" => Value::Object(
                value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, member)| (name.clone(), convert_schema(member)))
                    .collect(),
            ),
            "items" | "additionalProperties" | "not" if value.is_object() => convert_schema(value),
            "allOf" | "anyOf" | "oneOf" => Value::Array(
                value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(convert_schema)
                    .collect(),
            ),
            _ => value.clone(),
        };
        converted.insert(keyword.clone(), value);
    }

    if object.get("nullable").and_then(Value::as_bool) == Some(true) {
        allow_null(converted)
    } else {
        Value::Object(converted)
    }
}

/// Makes a converted schema accept `null` as well.
fn allow_null(mut schema: Map<String, Value>) -> Value {
    let Some(Value::String(kind)) = schema.get("type").cloned() else {
        // Without a single `type` there is no list to add "null" to; say
        // "null, or whatever the schema allows" instead.
        return json!({ "anyOf": [{ "type": "null" }, Value::Object(schema)] });
    };
    schema.insert("type".to_owned(), json!([kind, "null"]));
    if let Some(Value::Array(values)) = schema.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    Value::Object(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_type_becomes_a_type_list_with_null() {
        let schema = json!({"type": "string", "nullable": true, "enum": ["a"]});

        let converted = convert_schema(&schema);

        assert_eq!(
            converted,
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
    }

    #[test]
    fn nullable_without_type_is_wrapped_in_any_of() {
        let schema = json!({"allOf": [{"$ref": "#/components/schemas/A"}], "nullable": true});

        let converted = convert_schema(&schema);

        assert_eq!(
            converted,
            json!({"anyOf": [{"type": "null"}, {"allOf": [{"$ref": "#/components/schemas/A"}]}]})
        );
    }

    #[test]
    fn annotations_and_unchecked_formats_are_dropped() {
        let schema = json!({
            "type": "object",
            "example": {"id": 1},
            "x-rust-type": "Foo",
            "properties": {
                "n": {"type": "integer", "format": "int64"},
                "at": {"type": "string", "format": "date-time"}
            }
        });

        let converted = convert_schema(&schema);

        assert_eq!(
            converted,
            json!({
                "type": "object",
                "properties": {
                    "n": {"type": "integer"},
                    "at": {"type": "string", "format": "date-time"}
                }
            })
        );
    }

    #[test]
    fn ref_siblings_are_dropped() {
        let schema = json!({"$ref": "#/components/schemas/A", "description": "ignored"});

        assert_eq!(
            convert_schema(&schema),
            json!({"$ref": "#/components/schemas/A"})
        );
    }
}
