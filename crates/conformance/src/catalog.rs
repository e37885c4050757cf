//! The operations of the spec, in the shape the harness needs to call them.
//!
//! The transport builds every request from this catalog (method, path
//! template, which parameters go in the path or the query and whether they
//! repeat, the request body's media type, whether a token is sent), and the
//! coverage check walks it to find operations nobody called. It is derived
//! from `appmixer_spec::Spec` at run time, so a different `--spec` gives a
//! different catalog; nothing here restates the spec by hand.

use std::collections::BTreeMap;

use appmixer_spec::{Auth, Spec, SpecError};
use openapiv3::{ParameterSchemaOrContent, ReferenceOr, SchemaKind, Type};
use reqwest::Method;

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// Substituted into the path template, percent-encoded.
    Path,
    /// Appended to the query string.
    Query,
}

/// One declared parameter of an operation.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// The parameter's name as the wire spells it.
    pub name: String,
    /// Path or query.
    pub location: Location,
    /// Whether the schema is an array, sent as repeated keys (`filter=a&filter=b`).
    pub repeated: bool,
}

/// Whether an operation wants a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPolicy {
    /// The operation requires a token.
    Required,
    /// A token is accepted but not needed (people tasks with a secret).
    Optional,
    /// The operation is public; no token is sent.
    None,
}

/// One operation of the spec.
#[derive(Debug, Clone)]
pub struct OperationShape {
    /// The `operationId`.
    pub id: String,
    /// The HTTP method.
    pub method: Method,
    /// The path template, e.g. `/flows/{flowId}`.
    pub path: String,
    /// Path-level and operation-level parameters, references resolved.
    pub parameters: Vec<Parameter>,
    /// The request body's media type, when the operation takes a body.
    pub body_media_type: Option<String>,
    /// Whether a token is sent.
    pub token: TokenPolicy,
}

impl OperationShape {
    /// The declared parameter called `name` at `location`, if any.
    pub fn parameter(&self, name: &str, location: Location) -> Option<&Parameter> {
        self.parameters
            .iter()
            .find(|p| p.name == name && p.location == location)
    }

    /// `METHOD /path`, for messages.
    pub fn route(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// Every operation of a spec, in the spec's order.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    operations: Vec<OperationShape>,
    index: BTreeMap<String, usize>,
}

impl Catalog {
    /// Builds the catalog of `spec`.
    pub fn from_spec(spec: &Spec) -> Result<Self, SpecError> {
        let operations = spec
            .operations()
            .iter()
            .map(shape_of)
            .collect::<Result<_, _>>()?;
        Ok(Self::from_operations(operations))
    }

    /// Builds a catalog from operations already shaped.
    pub fn from_operations(operations: Vec<OperationShape>) -> Self {
        let index = operations
            .iter()
            .enumerate()
            .map(|(i, op)| (op.id.clone(), i))
            .collect();
        Self { operations, index }
    }

    /// The operation with this `operationId`.
    pub fn get(&self, id: &str) -> Option<&OperationShape> {
        self.index.get(id).map(|&i| &self.operations[i])
    }

    /// All operations, in the spec's order.
    pub fn operations(&self) -> &[OperationShape] {
        &self.operations
    }
}

fn shape_of(op: &appmixer_spec::Operation<'_>) -> Result<OperationShape, SpecError> {
    let parameters = op
        .parameters()?
        .into_iter()
        .filter_map(|parameter| {
            let (data, location) = match parameter {
                openapiv3::Parameter::Path { parameter_data, .. } => {
                    (parameter_data, Location::Path)
                }
                openapiv3::Parameter::Query { parameter_data, .. } => {
                    (parameter_data, Location::Query)
                }
                // Headers and cookies are not part of this API; the harness
                // has no way to send them, so they are left out.
                _ => return None,
            };
            Some(Parameter {
                name: data.name.clone(),
                location,
                repeated: is_array(&data.format),
            })
        })
        .collect();
    let method = Method::from_bytes(op.method.as_bytes())
        .expect("the spec crate names methods with valid HTTP tokens");
    Ok(OperationShape {
        id: op.id.to_string(),
        method,
        path: op.path.to_string(),
        parameters,
        body_media_type: op
            .request_body()?
            .map(|body| body.content.media_type.to_string()),
        token: match op.auth {
            Auth::Required => TokenPolicy::Required,
            Auth::Optional => TokenPolicy::Optional,
            Auth::None => TokenPolicy::None,
        },
    })
}

fn is_array(format: &ParameterSchemaOrContent) -> bool {
    match format {
        ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) => {
            matches!(schema.schema_kind, SchemaKind::Type(Type::Array(_)))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let spec = Spec::load(&appmixer_spec::default_path()).expect("the workspace spec loads");
        Catalog::from_spec(&spec).expect("the workspace spec has a catalog")
    }

    #[test]
    fn path_level_parameters_are_part_of_each_operation() {
        let catalog = catalog();

        let get_flow = catalog.get("getFlow").expect("getFlow");

        assert!(get_flow.parameter("flowId", Location::Path).is_some());
        assert!(get_flow.parameter("projection", Location::Query).is_some());
        assert_eq!(get_flow.route(), "GET /flows/{flowId}");
    }

    #[test]
    fn array_query_parameters_are_marked_repeated() {
        let catalog = catalog();

        let get_logs = catalog.get("getLogs").expect("getLogs");

        assert!(
            get_logs
                .parameter("flowId", Location::Query)
                .unwrap()
                .repeated
        );
        assert!(
            !get_logs
                .parameter("query", Location::Query)
                .unwrap()
                .repeated
        );
    }

    #[test]
    fn body_media_types_and_token_policies_come_from_the_spec() {
        let catalog = catalog();

        let media = |id: &str| catalog.get(id).unwrap().body_media_type.clone();
        let token = |id: &str| catalog.get(id).unwrap().token;

        assert_eq!(media("createStoreItem").as_deref(), Some("text/plain"));
        assert_eq!(media("createFlow").as_deref(), Some("application/json"));
        assert_eq!(media("getFlows"), None);
        assert_eq!(token("sendComponentMessage"), TokenPolicy::None);
        assert_eq!(token("getPeopleTasks"), TokenPolicy::Optional);
        assert_eq!(token("getFlows"), TokenPolicy::Required);
    }
}
