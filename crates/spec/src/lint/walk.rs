//! Finds the schemas of a raw document and the objects that carry examples.
//!
//! OpenAPI puts schemas in a handful of places: `components.schemas`, and the
//! `schema` of parameters, headers and media types, wherever those appear.
//! Inside a schema, subschemas sit under `properties`, `items`,
//! `additionalProperties`, `allOf`, `anyOf`, `oneOf` and `not`. A `$ref` is
//! not followed: its target is visited where it is declared.
//!
//! [`reached_refs`] walks the other way, from one operation through every
//! `$ref` it uses, to tell which operations a broken component affects.

use std::collections::HashSet;

use serde_json::Value;

use super::{RawOperation, raw_operations};
use crate::pointer;

/// Keys whose value maps names (properties, status codes, media types …) to
/// objects: every entry is walked, whatever it is called.
const NAMED_MAPS: [&str; 7] = [
    "properties",
    "responses",
    "content",
    "headers",
    "examples",
    "encoding",
    "links",
];

/// Keys whose value is data (an example, a default, an enum's values), where
/// an object with a `$ref` field is not a reference.
const DATA: [&str; 4] = ["example", "value", "default", "enum"];

/// A part of the document found by a walk.
pub(crate) struct Site<'d> {
    /// The operation it belongs to, `None` for components and path items.
    pub operation: Option<String>,
    /// Its JSON pointer.
    pub pointer: String,
    /// The object itself.
    pub value: &'d Value,
}

/// Every parameter, header and media type object (not `$ref`s), in document order.
///
/// These are the objects that may hold a `schema` beside `example` or
/// `examples`.
pub(crate) fn schema_holders(document: &Value) -> Vec<Site<'_>> {
    let mut sites = Vec::new();
    let parameters = components(document, "parameters");
    for (at, parameter) in parameters
        .into_iter()
        .chain(components(document, "headers"))
    {
        push_parameter(&mut sites, None, at, parameter);
    }
    for (at, body) in components(document, "requestBodies") {
        push_content(&mut sites, None, &at, body);
    }
    for (at, response) in components(document, "responses") {
        push_response(&mut sites, None, &at, response);
    }

    if let Some(paths) = document.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let at = pointer::join("/paths", path);
            push_parameter_list(&mut sites, None, &at, item);
        }
    }
    for operation in raw_operations(document) {
        let name = Some(operation.name.clone());
        push_parameter_list(
            &mut sites,
            name.clone(),
            &operation.pointer,
            operation.value,
        );
        if let Some(body) = operation.value.get("requestBody") {
            let at = operation.pointer.clone() + "/requestBody";
            push_content(&mut sites, name.clone(), &at, body);
        }
        let responses = operation.value.get("responses").and_then(Value::as_object);
        for (status, response) in responses.into_iter().flatten() {
            let at = pointer::join(&(operation.pointer.clone() + "/responses"), status);
            push_response(&mut sites, name.clone(), &at, response);
        }
    }
    sites
}

/// The schemas declared directly in `components.schemas` or in a holder's
/// `schema`; their subschemas are reached with [`subschemas`].
pub(crate) fn schema_roots(document: &Value) -> Vec<Site<'_>> {
    let mut roots: Vec<Site<'_>> = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, schema)| Site {
            operation: None,
            pointer: pointer::join("/components/schemas", name),
            value: schema,
        })
        .collect();
    for holder in schema_holders(document) {
        if let Some(schema) = holder.value.get("schema") {
            roots.push(Site {
                operation: holder.operation,
                pointer: holder.pointer + "/schema",
                value: schema,
            });
        }
    }
    roots
}

/// Every schema object of the document: the roots and everything inside them.
pub(crate) fn all_schemas(document: &Value) -> Vec<Site<'_>> {
    let mut sites = Vec::new();
    for root in schema_roots(document) {
        subschemas(&root.pointer, root.value, &mut |at, schema| {
            sites.push(Site {
                operation: root.operation.clone(),
                pointer: at.to_owned(),
                value: schema,
            });
        });
    }
    sites
}

/// Calls `visit` on `schema` and, depth first, on each of its subschemas.
pub(crate) fn subschemas<'d>(at: &str, schema: &'d Value, visit: &mut impl FnMut(&str, &'d Value)) {
    let Some(object) = schema.as_object() else {
        return;
    };
    visit(at, schema);
    if object.contains_key("$ref") {
        return;
    }
    let properties = object.get("properties").and_then(Value::as_object);
    for (name, member) in properties.into_iter().flatten() {
        subschemas(
            &pointer::join(&format!("{at}/properties"), name),
            member,
            visit,
        );
    }
    for keyword in ["items", "additionalProperties", "not"] {
        if let Some(member) = object.get(keyword).filter(|m| m.is_object()) {
            subschemas(&pointer::join(at, keyword), member, visit);
        }
    }
    for keyword in ["allOf", "anyOf", "oneOf"] {
        let members = object.get(keyword).and_then(Value::as_array);
        for (index, member) in members.into_iter().flatten().enumerate() {
            subschemas(&format!("{at}/{keyword}/{index}"), member, visit);
        }
    }
}

/// A `$ref` written in the document.
pub(crate) struct RefSite<'d> {
    /// JSON pointer of the object that holds the `$ref`.
    pub pointer: String,
    /// The reference as written, e.g. `#/components/schemas/Flow`.
    pub reference: &'d str,
}

/// Every `$ref` that `operation` reaches: those in its parameters (the path
/// item's too), request body and responses, and, for each reference that
/// resolves, those in its target, transitively; each target is entered once,
/// so reference cycles end.
pub(crate) fn reached_refs<'d>(
    document: &'d Value,
    operation: &RawOperation<'d>,
) -> Vec<RefSite<'d>> {
    let mut sites = Vec::new();
    if let Some(parameters) = operation.path_item.get("parameters") {
        let at = format!("{}/parameters", operation.path_pointer);
        refs_in(&at, parameters, false, &mut sites);
    }
    refs_in(&operation.pointer, operation.value, false, &mut sites);

    let mut entered = HashSet::new();
    let mut next = 0;
    while let Some(reference) = sites.get(next).map(|site| site.reference) {
        next += 1;
        let Some(target) = pointer::ref_target(reference) else {
            continue;
        };
        if !entered.insert(target) {
            continue;
        }
        if let Some(value) = document.pointer(target) {
            refs_in(target, value, false, &mut sites);
        }
    }
    sites
}

/// Every `$ref` written in the components, `#/components/{kind}/NAME/…`.
pub(crate) fn component_refs(document: &Value) -> Vec<RefSite<'_>> {
    let mut sites = Vec::new();
    let kinds = document.get("components").and_then(Value::as_object);
    for (kind, entries) in kinds.into_iter().flatten() {
        let Some(entries) = entries.as_object() else {
            continue;
        };
        let base = pointer::join("/components", kind);
        for (name, entry) in entries {
            refs_in(&pointer::join(&base, name), entry, false, &mut sites);
        }
    }
    sites
}

/// Collects the `$ref`s inside `value`, found at `at`, without following
/// them; `named` says that `value` maps names to objects.
fn refs_in<'d>(at: &str, value: &'d Value, named: bool, sites: &mut Vec<RefSite<'d>>) {
    match value {
        Value::Object(object) => {
            if !named && let Some(reference) = object.get("$ref").and_then(Value::as_str) {
                // OpenAPI 3.0 ignores the siblings of a `$ref`.
                sites.push(RefSite {
                    pointer: at.to_owned(),
                    reference,
                });
                return;
            }
            for (key, member) in object {
                let at = pointer::join(at, key);
                if named {
                    refs_in(&at, member, false, sites);
                } else if NAMED_MAPS.contains(&key.as_str()) {
                    refs_in(&at, member, true, sites);
                } else if !DATA.contains(&key.as_str()) && !key.starts_with("x-") {
                    refs_in(&at, member, false, sites);
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                refs_in(&format!("{at}/{index}"), item, false, sites);
            }
        }
        _ => {}
    }
}

/// The entries of `#/components/{kind}` with their pointers.
fn components<'d>(document: &'d Value, kind: &str) -> Vec<(String, &'d Value)> {
    let entries = document
        .get("components")
        .and_then(|components| components.get(kind))
        .and_then(Value::as_object);
    let base = format!("/components/{kind}");
    entries
        .into_iter()
        .flatten()
        .map(|(name, value)| (pointer::join(&base, name), value))
        .collect()
}

fn is_reference(value: &Value) -> bool {
    value.get("$ref").is_some()
}

fn push_parameter_list<'d>(
    sites: &mut Vec<Site<'d>>,
    operation: Option<String>,
    at: &str,
    owner: &'d Value,
) {
    let parameters = owner.get("parameters").and_then(Value::as_array);
    for (index, parameter) in parameters.into_iter().flatten().enumerate() {
        let at = format!("{at}/parameters/{index}");
        push_parameter(sites, operation.clone(), at, parameter);
    }
}

fn push_parameter<'d>(
    sites: &mut Vec<Site<'d>>,
    operation: Option<String>,
    at: String,
    parameter: &'d Value,
) {
    if is_reference(parameter) || !parameter.is_object() {
        return;
    }
    push_content(sites, operation.clone(), &at, parameter);
    sites.push(Site {
        operation,
        pointer: at,
        value: parameter,
    });
}

fn push_response<'d>(
    sites: &mut Vec<Site<'d>>,
    operation: Option<String>,
    at: &str,
    response: &'d Value,
) {
    if is_reference(response) {
        return;
    }
    push_content(sites, operation.clone(), at, response);
    let headers = response.get("headers").and_then(Value::as_object);
    for (name, header) in headers.into_iter().flatten() {
        let at = pointer::join(&format!("{at}/headers"), name);
        push_parameter(sites, operation.clone(), at, header);
    }
}

/// Pushes the media types of the `content` of `owner` (a body, response or parameter).
fn push_content<'d>(
    sites: &mut Vec<Site<'d>>,
    operation: Option<String>,
    at: &str,
    owner: &'d Value,
) {
    if is_reference(owner) {
        return;
    }
    let content = owner.get("content").and_then(Value::as_object);
    for (media_type, media) in content.into_iter().flatten() {
        if media.is_object() {
            sites.push(Site {
                operation: operation.clone(),
                pointer: pointer::join(&format!("{at}/content"), media_type),
                value: media,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn all_schemas_reaches_nested_properties_but_not_through_refs() {
        let document = json!({
            "components": {"schemas": {
                "A": {"type": "object", "properties": {
                    "b": {"type": "array", "items": {"type": "string"}},
                    "c": {"$ref": "#/components/schemas/C"}
                }},
                "C": {"type": "integer"}
            }}
        });

        let pointers: Vec<String> = all_schemas(&document)
            .into_iter()
            .map(|s| s.pointer)
            .collect();

        assert_eq!(
            pointers,
            [
                "/components/schemas/A",
                "/components/schemas/A/properties/b",
                "/components/schemas/A/properties/b/items",
                "/components/schemas/A/properties/c",
                "/components/schemas/C",
            ]
        );
    }

    fn pointers_reached_by(document: &Value, operation: &str) -> Vec<(String, String)> {
        let operations = raw_operations(document);
        let operation = operations
            .iter()
            .find(|candidate| candidate.name == operation)
            .expect("the operation exists");
        reached_refs(document, operation)
            .into_iter()
            .map(|site| (site.pointer, site.reference.to_owned()))
            .collect()
    }

    #[test]
    fn reached_refs_follow_references_through_components_once() {
        let document = json!({
            "paths": {"/x": {
                "parameters": [{"$ref": "#/components/parameters/Id"}],
                "get": {
                    "operationId": "getX",
                    "responses": {"200": {"description": "ok", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/A"},
                        "example": {"$ref": "data, not a reference"}
                    }}}}
                }
            }},
            "components": {
                "parameters": {"Id": {"name": "id", "in": "query", "schema": {"type": "string"}}},
                "schemas": {
                    "A": {"type": "object", "properties": {
                        "example": {"$ref": "#/components/schemas/B"},
                        "again": {"$ref": "#/components/schemas/A"}
                    }},
                    "B": {"type": "array", "items": {"$ref": "#/components/schemas/Missing"}}
                }
            }
        });

        let reached = pointers_reached_by(&document, "getX");

        let expected = [
            ("/paths/~1x/parameters/0", "#/components/parameters/Id"),
            (
                "/paths/~1x/get/responses/200/content/application~1json/schema",
                "#/components/schemas/A",
            ),
            (
                "/components/schemas/A/properties/example",
                "#/components/schemas/B",
            ),
            (
                "/components/schemas/A/properties/again",
                "#/components/schemas/A",
            ),
            (
                "/components/schemas/B/items",
                "#/components/schemas/Missing",
            ),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(at, reference)| (at.to_string(), reference.to_string()))
            .collect();
        assert_eq!(reached, expected);
    }

    #[test]
    fn schema_roots_include_operation_bodies_and_parameters() {
        let document = json!({
            "paths": {"/x/{id}": {
                "parameters": [{"name": "id", "in": "path", "schema": {"type": "string"}}],
                "post": {
                    "operationId": "postX",
                    "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                    "responses": {"200": {"description": "ok"}}
                }
            }}
        });

        let roots: Vec<(Option<String>, String)> = schema_roots(&document)
            .into_iter()
            .map(|s| (s.operation, s.pointer))
            .collect();

        assert_eq!(
            roots,
            [
                (None, "/paths/~1x~1{id}/parameters/0/schema".to_owned()),
                (
                    Some("postX".to_owned()),
                    "/paths/~1x~1{id}/post/requestBody/content/application~1json/schema".to_owned()
                ),
            ]
        );
    }
}
