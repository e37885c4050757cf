//! `docs/operations.md`: every operation by tag, with its parameters and bodies.
//!
//! A reference to read beside the generated client: for each operation its
//! summary, method and path, whether it needs a token, its parameters, and the
//! schemas of its request body and answers (by component name where the spec
//! names one).

use appmixer_spec::{Auth, Operation, Spec, pointer};
use openapiv3::ParameterSchemaOrContent;
use serde_json::Value;

use super::markdown::{cell, code, generated_note, generated_notice, table};
use super::names::client_method;

/// Renders `docs/operations.md` for `spec`.
pub fn render(spec: &Spec) -> anyhow::Result<String> {
    let operations = spec.operations();
    let mut out = generated_notice();
    out.push_str("\n# Appmixer API: operations by tag\n\n");
    out.push_str(&generated_note());

    for tag in tag_order(spec, &operations) {
        out.push_str(&format!("\n## {tag}\n"));
        for operation in operations.iter().filter(|o| first_tag(o) == tag) {
            out.push_str(&section(spec, operation)?);
        }
    }
    Ok(out)
}

/// The tags in the order the spec declares them, then any others in order of use.
fn tag_order(spec: &Spec, operations: &[Operation<'_>]) -> Vec<String> {
    let mut tags: Vec<String> = spec.openapi().tags.iter().map(|t| t.name.clone()).collect();
    for operation in operations {
        let tag = first_tag(operation);
        if !tags.iter().any(|known| *known == tag) {
            tags.push(tag.to_owned());
        }
    }
    tags.retain(|tag| operations.iter().any(|o| first_tag(o) == tag));
    tags
}

/// The tag an operation is listed under: its first, so it appears once.
fn first_tag<'o>(operation: &'o Operation<'_>) -> &'o str {
    operation
        .tags()
        .first()
        .map(String::as_str)
        .unwrap_or("untagged")
}

fn section(spec: &Spec, operation: &Operation<'_>) -> anyhow::Result<String> {
    let mut out = format!("\n### {}\n\n", code(operation.id));
    if let Some(summary) = operation.summary() {
        out.push_str(&format!("{summary}\n\n"));
    }

    out.push_str(&format!(
        "- {}\n",
        code(&format!("{} {}", operation.method, operation.path))
    ));
    let mut names = format!("- Rust client: {}", code(&client_method(operation.id)));
    if !operation.sdk_methods.is_empty() {
        let sdk: Vec<String> = operation
            .sdk_methods
            .iter()
            .map(|name| code(name))
            .collect();
        names.push_str(&format!("; SDK: {}", sdk.join(", ")));
    }
    out.push_str(&format!("{names}\n"));
    out.push_str(&format!(
        "- Token: {}\n",
        match operation.auth {
            Auth::Required => "required",
            Auth::Optional => "optional",
            Auth::None => "none",
        }
    ));

    let body = match operation.request_body()? {
        Some(body) => format!(
            "{} ({}{})",
            describe_at(spec, &body.content.pointer),
            body.content.media_type,
            if body.required { "" } else { ", optional" }
        ),
        None => "none".to_owned(),
    };
    out.push_str(&format!("- Request body: {body}\n"));

    let responses = operation.responses()?;
    let (successes, errors): (Vec<_>, Vec<_>) = responses
        .iter()
        .filter(|r| r.status.is_success() || r.status.is_error())
        .partition(|r| r.status.is_success());
    for (label, group) in [("Success", successes), ("Errors", errors)] {
        let described: Vec<(String, String)> = group
            .iter()
            .map(|response| {
                let schema = match response
                    .json()
                    .or_else(|| response.content().into_iter().next())
                {
                    Some(media) => describe_at(spec, &media.pointer),
                    None => "no body".to_owned(),
                };
                (response.status.to_string(), schema)
            })
            .collect();
        if !described.is_empty() {
            out.push_str(&format!("- {label}: {}\n", group_by_schema(&described)));
        }
    }

    let parameters = operation.parameters()?;
    if !parameters.is_empty() {
        let rows: Vec<Vec<String>> = parameters
            .iter()
            .map(|parameter| {
                let (location, data) = match parameter {
                    openapiv3::Parameter::Query { parameter_data, .. } => ("query", parameter_data),
                    openapiv3::Parameter::Header { parameter_data, .. } => {
                        ("header", parameter_data)
                    }
                    openapiv3::Parameter::Path { parameter_data, .. } => ("path", parameter_data),
                    openapiv3::Parameter::Cookie { parameter_data, .. } => {
                        ("cookie", parameter_data)
                    }
                };
                let kind = match &data.format {
                    ParameterSchemaOrContent::Schema(schema) => serde_json::to_value(schema)
                        .map(|schema| describe(&schema))
                        .unwrap_or_else(|_| "any".to_owned()),
                    ParameterSchemaOrContent::Content(_) => "content".to_owned(),
                };
                vec![
                    code(&data.name),
                    location.to_owned(),
                    kind,
                    if data.required { "yes" } else { "no" }.to_owned(),
                    cell(data.description.as_deref().unwrap_or_default()),
                ]
            })
            .collect();
        out.push('\n');
        out.push_str(&table(
            &["Parameter", "In", "Type", "Required", "Description"],
            &rows,
        ));
    }
    Ok(out)
}

/// `200, 201: X; 404: Y`: statuses with the same schema joined.
fn group_by_schema(described: &[(String, String)]) -> String {
    let mut groups: Vec<(Vec<&str>, &str)> = Vec::new();
    for (status, schema) in described {
        match groups
            .iter_mut()
            .find(|(_, known)| *known == schema.as_str())
        {
            Some((statuses, _)) => statuses.push(status),
            None => groups.push((vec![status.as_str()], schema.as_str())),
        }
    }
    groups
        .iter()
        .map(|(statuses, schema)| format!("{} {schema}", statuses.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Describes the schema at `at` in the raw document.
fn describe_at(spec: &Spec, at: &str) -> String {
    spec.document()
        .pointer(at)
        .map_or_else(|| "no schema".to_owned(), describe)
}

/// A short name for a schema: its component name, or its shape.
fn describe(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return code(pointer::component_name(reference, "schemas").unwrap_or(reference));
    }
    let kind = schema.get("type").and_then(Value::as_str);
    let format = schema.get("format").and_then(Value::as_str);
    let additional = schema.get("additionalProperties").filter(|a| a.is_object());
    match (kind, format) {
        (Some("array"), _) => format!(
            "array of {}",
            schema
                .get("items")
                .map_or_else(|| "any".to_owned(), describe)
        ),
        (Some("object"), _)
            if additional.is_some_and(|a| a.get("type").is_some() || a.get("$ref").is_some()) =>
        {
            format!("map of {}", additional.map(describe).unwrap_or_default())
        }
        (Some(kind), _) if schema.get("enum").is_some() => {
            let values: Vec<String> = schema["enum"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|value| match value.as_str() {
                    Some(text) => code(text),
                    None => code(&value.to_string()),
                })
                .collect();
            format!("{kind}: {}", values.join(", "))
        }
        (Some(kind), Some(format)) => format!("{kind} ({format})"),
        (Some(kind), None) => kind.to_owned(),
        (None, _) => "any".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn schemas_are_described_by_name_or_shape() {
        assert_eq!(
            describe(&json!({"$ref": "#/components/schemas/Flow"})),
            "`Flow`"
        );
        assert_eq!(
            describe(&json!({"type": "array", "items": {"$ref": "#/components/schemas/Flow"}})),
            "array of `Flow`"
        );
        assert_eq!(
            describe(&json!({"type": "object", "additionalProperties": {"type": "string"}})),
            "map of string"
        );
        assert_eq!(
            describe(&json!({"type": "object", "additionalProperties": true})),
            "object"
        );
        assert_eq!(
            describe(&json!({"type": "string", "format": "uuid"})),
            "string (uuid)"
        );
        assert_eq!(
            describe(&json!({"type": "string", "enum": ["a", "b"]})),
            "string: `a`, `b`"
        );
    }

    #[test]
    fn statuses_sharing_a_schema_are_grouped() {
        let described = [
            ("200".to_owned(), "`A`".to_owned()),
            ("201".to_owned(), "`A`".to_owned()),
            ("404".to_owned(), "`B`".to_owned()),
        ];

        assert_eq!(group_by_schema(&described), "200, 201 `A`; 404 `B`");
    }

    #[test]
    fn each_operation_appears_once_under_its_first_tag() {
        let spec = Spec::load(&appmixer_spec::default_path()).unwrap();

        let text = render(&spec).unwrap();

        for operation in spec.operations() {
            let heading = format!("\n### `{}`\n", operation.id);
            assert_eq!(text.matches(&heading).count(), 1, "{}", operation.id);
        }
        let flows = text.find("\n## flows\n").unwrap();
        let get_flows = text.find("\n### `getFlows`\n").unwrap();
        let stores = text.find("\n## stores\n").unwrap();
        assert!(flows < get_flows && get_flows < stores);
    }
}
