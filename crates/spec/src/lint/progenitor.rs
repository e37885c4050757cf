//! The subset of OpenAPI 3.0 that progenitor 0.15.1 generates a client from.
//!
//! Progenitor rejects some constructs with an error and panics on others
//! (often without naming the operation), so the client's build script runs
//! this lint first and reports every problem at once, each with its operation
//! and JSON pointer. The rules follow what progenitor's generator accepts:
//! one typed success body per operation, one kind of error body, one request
//! media type of a supported kind, no cookie parameters, and so on.

use std::collections::HashMap;

use serde_json::Value;

use super::walk::{all_schemas, reached_refs};
use super::{RawOperation, raw_operations};
use crate::operation::ResponseStatus;
use crate::{Problem, Spec, pointer};

/// Finds what progenitor 0.15.1 could not generate a client from.
///
/// Checks: the version is 3.0.x; every operation has a unique `operationId`;
/// success (2XX) responses share one body schema or all have none, and so do
/// error (4XX/5XX) responses; no `default` response; each request body has
/// exactly one media type, of a kind progenitor sends; parameters are not
/// cookies and use their location's default style; path templates and path
/// parameters agree; path items are not `$ref`s; no boolean schema has a
/// string default; no component schema is nothing but a `$ref` cycle.
pub fn progenitor_subset(spec: &Spec) -> Vec<Problem> {
    let document = spec.document();
    let mut problems = Vec::new();

    check_version(document, &mut problems);
    check_path_items(document, &mut problems);

    let mut first_use: HashMap<&str, String> = HashMap::new();
    for operation in raw_operations(document) {
        check_operation_id(&operation, &mut first_use, &mut problems);
        check_parameters(document, &operation, &mut problems);
        check_request_body(document, &operation, &mut problems);
        check_responses(document, &operation, &mut problems);
    }

    check_boolean_defaults(document, &mut problems);
    check_reference_cycles(document, &mut problems);
    problems
}

fn check_version(document: &Value, problems: &mut Vec<Problem>) {
    let version = document.get("openapi").and_then(Value::as_str);
    if !version.is_some_and(|v| v.trim().starts_with("3.0.")) {
        let found = version.map_or_else(|| "nothing".to_owned(), |v| format!("`{v}`"));
        problems.push(Problem::in_document(
            "/openapi",
            format!("expected openapi 3.0.x, got {found}; progenitor reads 3.0 only"),
        ));
    }
}

fn check_path_items(document: &Value, problems: &mut Vec<Problem>) {
    let paths = document.get("paths").and_then(Value::as_object);
    for (path, item) in paths.into_iter().flatten() {
        if item.get("$ref").is_some() {
            problems.push(Problem::in_document(
                pointer::join("/paths", path),
                format!("path item `{path}` is a `$ref`, which progenitor rejects; inline it"),
            ));
        }
    }
}

fn check_operation_id<'d>(
    operation: &RawOperation<'d>,
    first_use: &mut HashMap<&'d str, String>,
    problems: &mut Vec<Problem>,
) {
    let Some(id) = operation.id else {
        problems.push(Problem::in_operation(
            &operation.name,
            &operation.pointer,
            "has no `operationId`; progenitor names client methods after it, so add one",
        ));
        return;
    };
    if let Some(first) = first_use.get(id) {
        problems.push(Problem::in_operation(
            id,
            format!("{}/operationId", operation.pointer),
            format!("`operationId: {id}` is already used at {first}; operationIds must be unique"),
        ));
    } else {
        first_use.insert(id, operation.pointer.clone());
    }
}

fn check_parameters(document: &Value, operation: &RawOperation<'_>, problems: &mut Vec<Problem>) {
    let declared = [
        (&operation.path_pointer, operation.path_item),
        (&operation.pointer, operation.value),
    ];
    let mut path_parameters = Vec::new();
    for (owner_pointer, owner) in declared {
        let list = owner.get("parameters").and_then(Value::as_array);
        for (index, item) in list.into_iter().flatten().enumerate() {
            let at = format!("{owner_pointer}/parameters/{index}");
            let Some(parameter) = resolve(document, &at, item, &operation.name, problems) else {
                continue;
            };
            let name = parameter.get("name").and_then(Value::as_str).unwrap_or("?");
            let location = parameter.get("in").and_then(Value::as_str).unwrap_or("?");
            let style = parameter.get("style").and_then(Value::as_str);
            let expected_style = match location {
                "cookie" => {
                    problems.push(Problem::in_operation(
                        &operation.name,
                        &at,
                        format!(
                            "cookie parameter `{name}`: progenitor does not support cookie \
                             parameters; send it as a header or query parameter"
                        ),
                    ));
                    continue;
                }
                "query" => "form",
                "path" => {
                    path_parameters.push(name.to_owned());
                    "simple"
                }
                _ => "simple",
            };
            if let Some(style) = style.filter(|style| *style != expected_style) {
                problems.push(Problem::in_operation(
                    &operation.name,
                    format!("{at}/style"),
                    format!(
                        "{location} parameter `{name}` has `style: {style}`; progenitor supports \
                         only `{expected_style}` there (or no `style`)"
                    ),
                ));
            }
        }
    }
    check_path_template(operation, &path_parameters, problems);
}

/// Every `{name}` of the path template needs a path parameter, and back.
fn check_path_template(
    operation: &RawOperation<'_>,
    path_parameters: &[String],
    problems: &mut Vec<Problem>,
) {
    let path = operation
        .path_pointer
        .strip_prefix("/paths/")
        .map(|escaped| escaped.replace("~1", "/").replace("~0", "~"))
        .unwrap_or_default();
    let template: Vec<&str> = path
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect();
    for name in &template {
        if !path_parameters.iter().any(|declared| declared == name) {
            problems.push(Problem::in_operation(
                &operation.name,
                &operation.pointer,
                format!(
                    "path `{path}` has `{{{name}}}` but no path parameter `{name}`; declare it"
                ),
            ));
        }
    }
    for name in path_parameters {
        if !template.contains(&name.as_str()) {
            problems.push(Problem::in_operation(
                &operation.name,
                &operation.pointer,
                format!(
                    "path parameter `{name}` does not appear in the path `{path}`; remove it or \
                     add `{{{name}}}` to the path"
                ),
            ));
        }
    }
}

fn check_request_body(document: &Value, operation: &RawOperation<'_>, problems: &mut Vec<Problem>) {
    let Some(item) = operation.value.get("requestBody") else {
        return;
    };
    let declared_at = format!("{}/requestBody", operation.pointer);
    let Some(body) = resolve(document, &declared_at, item, &operation.name, problems) else {
        return;
    };
    let content = body.get("content").and_then(Value::as_object);
    let media_types: Vec<(&String, &Value)> = content.into_iter().flatten().collect();
    let [(media_type, media)] = media_types.as_slice() else {
        let names: Vec<&str> = media_types.iter().map(|(name, _)| name.as_str()).collect();
        problems.push(Problem::in_operation(
            &operation.name,
            format!("{declared_at}/content"),
            format!(
                "request body has {} media types ({}); progenitor takes exactly one",
                names.len(),
                names.join(", ")
            ),
        ));
        return;
    };

    let at = pointer::join(&format!("{declared_at}/content"), media_type);
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    let schema = media.get("schema");
    let schema_problem = |message: String| Problem::in_operation(&operation.name, &at, message);
    match essence {
        "application/json" | "application/x-www-form-urlencoded" => {
            if media
                .get("encoding")
                .and_then(Value::as_object)
                .is_some_and(|e| !e.is_empty())
            {
                problems.push(schema_problem(format!(
                    "{essence} body has an `encoding`, which progenitor cannot generate; remove it"
                )));
            }
            if schema.is_none() {
                problems.push(schema_problem(format!(
                    "{essence} body has no `schema`; progenitor needs one to type the body"
                )));
            }
        }
        "text/plain" | "application/octet-stream" => {
            let format = (essence == "application/octet-stream").then_some("binary");
            let resolved = schema.and_then(|s| pointer::follow(document, &at, s).ok());
            let plain = resolved.is_some_and(|(_, s)| is_plain_string(s, format));
            if !plain {
                let wanted = match format {
                    Some(format) => format!("`type: string, format: {format}`"),
                    None => "`type: string` without `format`".to_owned(),
                };
                problems.push(schema_problem(format!(
                    "{essence} body needs a schema that is exactly {wanted} (no pattern, enum, \
                     length limits, default or nullable); got {}",
                    schema.map_or_else(|| "no schema".to_owned(), Value::to_string)
                )));
            }
        }
        other => problems.push(schema_problem(format!(
            "request media type `{other}` is not one progenitor sends; use application/json, \
             application/x-www-form-urlencoded, text/plain or application/octet-stream"
        ))),
    }
}

/// Whether `schema` is a bare string schema with exactly `format`.
fn is_plain_string(schema: &Value, format: Option<&str>) -> bool {
    let Some(object) = schema.as_object() else {
        return false;
    };
    let constrained = [
        "pattern",
        "enum",
        "minLength",
        "maxLength",
        "default",
        "discriminator",
    ]
    .iter()
    .any(|keyword| object.contains_key(*keyword));
    let nullable = object.get("nullable").and_then(Value::as_bool) == Some(true);
    object.get("type").and_then(Value::as_str) == Some("string")
        && object.get("format").and_then(Value::as_str) == format
        && !constrained
        && !nullable
}

/// How progenitor sees a response body: the types it generates must agree.
#[derive(PartialEq)]
enum BodyKind<'d> {
    /// A JSON body, typed from this schema.
    Typed(Option<&'d Value>),
    /// A body of another media type, handed over as a byte stream.
    Raw,
    /// No content.
    None,
}

impl BodyKind<'_> {
    fn describe(&self) -> String {
        match self {
            BodyKind::Typed(Some(schema)) => match schema.get("$ref").and_then(Value::as_str) {
                Some(reference) => format!("schema `{reference}`"),
                None => format!("inline schema {schema}"),
            },
            BodyKind::Typed(None) => "JSON without a schema".to_owned(),
            BodyKind::Raw => "a non-JSON body".to_owned(),
            BodyKind::None => "no body".to_owned(),
        }
    }
}

fn check_responses(document: &Value, operation: &RawOperation<'_>, problems: &mut Vec<Problem>) {
    let responses_at = format!("{}/responses", operation.pointer);
    let Some(responses) = operation.value.get("responses").and_then(Value::as_object) else {
        problems.push(Problem::in_operation(
            &operation.name,
            &operation.pointer,
            "has no `responses`; declare at least the success response",
        ));
        return;
    };

    let mut successes: Vec<(&str, BodyKind<'_>)> = Vec::new();
    let mut errors: Vec<(&str, BodyKind<'_>)> = Vec::new();
    for (key, item) in responses {
        let at = pointer::join(&responses_at, key);
        let status = match ResponseStatus::parse(key) {
            Some(ResponseStatus::Default) => {
                problems.push(Problem::in_operation(
                    &operation.name,
                    &at,
                    "has a `default` response, which progenitor treats as both success and \
                     error; declare `4XX` and `5XX` (and the success codes) instead",
                ));
                continue;
            }
            Some(status) => status,
            None => {
                problems.push(Problem::in_operation(
                    &operation.name,
                    &at,
                    format!("`{key}` is not a status code, a range like `4XX`, or `default`"),
                ));
                continue;
            }
        };
        let Some(response) = resolve(document, &at, item, &operation.name, problems) else {
            continue;
        };
        let kind = body_kind(response, &at, &operation.name, problems);
        if status.is_success() || status == ResponseStatus::Code(101) {
            successes.push((key, kind));
        } else if status.is_error() {
            errors.push((key, kind));
        }
    }

    for (group, hint, kinds) in [
        ("success (2XX)", "one typed success body", &successes),
        ("error (4XX/5XX)", "one error type", &errors),
    ] {
        let Some((_, first)) = kinds.first() else {
            continue;
        };
        if kinds.iter().any(|(_, kind)| kind != first) {
            let listed: Vec<String> = kinds
                .iter()
                .map(|(key, kind)| format!("{key} has {}", kind.describe()))
                .collect();
            problems.push(Problem::in_operation(
                &operation.name,
                &responses_at,
                format!(
                    "{group} responses must all share one schema or all have no body, because \
                     progenitor generates {hint} per operation; here {}",
                    listed.join(", ")
                ),
            ));
        }
    }
}

fn body_kind<'d>(
    response: &'d Value,
    at: &str,
    operation: &str,
    problems: &mut Vec<Problem>,
) -> BodyKind<'d> {
    let content = response.get("content").and_then(Value::as_object);
    let Some(content) = content.filter(|content| !content.is_empty()) else {
        return BodyKind::None;
    };
    let json = content.iter().find(|(media_type, _)| {
        *media_type == "application/json" || media_type.starts_with("application/json;")
    });
    let Some((media_type, media)) = json else {
        return BodyKind::Raw;
    };
    let media_at = pointer::join(&format!("{at}/content"), media_type);
    if media
        .get("encoding")
        .and_then(Value::as_object)
        .is_some_and(|e| !e.is_empty())
    {
        problems.push(Problem::in_operation(
            operation,
            &media_at,
            "JSON response has an `encoding`, on which progenitor panics; remove it",
        ));
    }
    let schema = media.get("schema");
    if schema.is_none() {
        problems.push(Problem::in_operation(
            operation,
            &media_at,
            "JSON response has no `schema`, on which progenitor panics; declare one",
        ));
    }
    BodyKind::Typed(schema)
}

fn check_boolean_defaults(document: &Value, problems: &mut Vec<Problem>) {
    for site in all_schemas(document) {
        let is_boolean = site.value.get("type").and_then(Value::as_str) == Some("boolean");
        let Some(default) = site.value.get("default").and_then(Value::as_str) else {
            continue;
        };
        if is_boolean {
            let message = format!(
                "boolean schema has the string default `\"{default}\"`, which progenitor \
                 rejects; write `default: {default}` without quotes"
            );
            problems.push(Problem {
                operation: site.operation,
                location: format!("{}/default", site.pointer),
                message,
            });
        }
    }
}

/// Finds component schemas that are only a `$ref` to a schema that is only a
/// `$ref` … back to the first: such a schema has no type at all, and
/// progenitor generates code for it that does not compile (for one that
/// names itself, conflicting `From` impls for its `Box`). Each cycle is
/// reported once, at its member first in the document, for every operation
/// that uses one of its members.
fn check_reference_cycles(document: &Value, problems: &mut Vec<Problem>) {
    let Some(schemas) = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return;
    };
    let position: HashMap<&str, usize> = schemas
        .keys()
        .enumerate()
        .map(|(index, name)| (name.as_str(), index))
        .collect();
    // The schema a bare `$ref` names; OpenAPI 3.0 ignores a `$ref`'s siblings.
    let named_by = |name: &str| {
        let reference = schemas.get(name)?.get("$ref")?.as_str()?;
        pointer::component_name(reference, "schemas")
    };
    let operations = raw_operations(document);

    for first in schemas.keys().map(String::as_str) {
        let mut cycle = vec![first];
        let closed = loop {
            let Some(next) = cycle.last().and_then(|current| named_by(current)) else {
                break false;
            };
            if next == first {
                break true;
            }
            // A chain into another cycle, or to a missing schema, is not
            // this cycle; the other one is reported from its own members.
            if cycle.contains(&next) || !position.contains_key(next) {
                break false;
            }
            cycle.push(next);
        };
        if !closed
            || cycle
                .iter()
                .any(|member| position[member] < position[first])
        {
            continue;
        }

        let chain = format!("{} → {first}", cycle.join(" → "));
        let at = pointer::join("/components/schemas", first);
        let message = format!(
            "schema `{first}` is nothing but a `$ref` cycle ({chain}), so it has no type, and \
             progenitor generates code for it that does not compile; give one schema of the \
             cycle a real definition, or point the `$ref` at a schema that has one"
        );
        let in_cycle = |reference: &str| {
            pointer::component_name(reference, "schemas").is_some_and(|name| cycle.contains(&name))
        };
        let users: Vec<&RawOperation<'_>> = operations
            .iter()
            .filter(|operation| {
                reached_refs(document, operation)
                    .iter()
                    .any(|site| in_cycle(site.reference))
            })
            .collect();
        if users.is_empty() {
            problems.push(Problem::in_document(&at, &message));
        }
        for operation in users {
            problems.push(Problem::in_operation(&operation.name, &at, &message));
        }
    }
}

/// Follows `item`'s `$ref`s; on failure records a problem and gives `None`.
fn resolve<'d>(
    document: &'d Value,
    at: &str,
    item: &'d Value,
    operation: &str,
    problems: &mut Vec<Problem>,
) -> Option<&'d Value> {
    match pointer::follow(document, at, item) {
        Ok((_, value)) => Some(value),
        Err((reference, reason)) => {
            problems.push(Problem::in_operation(
                operation,
                at,
                format!("`$ref: {reference}` does not resolve: {reason}"),
            ));
            None
        }
    }
}
