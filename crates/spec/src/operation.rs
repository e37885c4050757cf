//! One operation of the spec, with what its users ask of it resolved.
//!
//! An [`Operation`] borrows from its [`Spec`]; its helpers follow `$ref`s into
//! `#/components` and merge what OpenAPI splits between the path item and the
//! operation (parameters), so that callers never walk references themselves.

use std::fmt;

use openapiv3::{ParameterData, ReferenceOr, Schema, StatusCode};
use serde_json::Value;

use crate::error::SpecError;
use crate::pointer;
use crate::spec::Spec;

/// Whether an operation needs the bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Every security requirement needs a credential.
    Required,
    /// `security` lists `{}` beside the bearer scheme: a token is optional.
    Optional,
    /// `security: []` (or no security anywhere): no token is needed.
    None,
}

/// The status key of a declared response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResponseStatus {
    /// An exact status code such as `200`.
    Code(u16),
    /// A range such as `4XX`; the value is the first digit.
    Range(u16),
    /// The `default` response.
    Default,
}

impl ResponseStatus {
    /// Reads a response key as the document spells it (`200`, `4XX`, `default`).
    pub fn parse(key: &str) -> Option<ResponseStatus> {
        if key == "default" {
            return Some(ResponseStatus::Default);
        }
        if let Some(class) = key.strip_suffix("XX").or_else(|| key.strip_suffix("xx")) {
            return class
                .parse::<u16>()
                .ok()
                .filter(|class| (1..=5).contains(class))
                .map(ResponseStatus::Range);
        }
        key.parse::<u16>()
            .ok()
            .filter(|code| (100..=599).contains(code))
            .map(ResponseStatus::Code)
    }

    /// Whether a response with HTTP status `status` falls under this key.
    pub fn matches(self, status: u16) -> bool {
        match self {
            ResponseStatus::Code(code) => code == status,
            ResponseStatus::Range(class) => status / 100 == class,
            ResponseStatus::Default => true,
        }
    }

    /// Whether this key declares a success (2XX) response.
    pub fn is_success(self) -> bool {
        match self {
            ResponseStatus::Code(code) => (200..300).contains(&code),
            ResponseStatus::Range(class) => class == 2,
            ResponseStatus::Default => false,
        }
    }

    /// Whether this key declares an error (4XX or 5XX) response.
    pub fn is_error(self) -> bool {
        match self {
            ResponseStatus::Code(code) => (400..600).contains(&code),
            ResponseStatus::Range(class) => class == 4 || class == 5,
            ResponseStatus::Default => false,
        }
    }

    fn to_status_code(self) -> Option<StatusCode> {
        match self {
            ResponseStatus::Code(code) => Some(StatusCode::Code(code)),
            ResponseStatus::Range(class) => Some(StatusCode::Range(class)),
            ResponseStatus::Default => None,
        }
    }
}

impl fmt::Display for ResponseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseStatus::Code(code) => write!(f, "{code}"),
            ResponseStatus::Range(class) => write!(f, "{class}XX"),
            ResponseStatus::Default => f.write_str("default"),
        }
    }
}

/// One media type of a body with its schema.
#[derive(Debug, Clone)]
pub struct MediaSchema<'a> {
    /// The media type as written, e.g. `application/json`.
    pub media_type: &'a str,
    /// The declared schema, if any (it may be a `$ref`).
    pub schema: Option<&'a ReferenceOr<Schema>>,
    /// JSON pointer of the schema in the document, for validation.
    pub pointer: String,
}

impl MediaSchema<'_> {
    /// Whether this media type carries JSON (`application/json` or `…+json`).
    pub fn is_json(&self) -> bool {
        is_json_media_type(self.media_type)
    }

    /// The name of the component schema, when the schema is a `$ref` to one.
    pub fn schema_name(&self) -> Option<&str> {
        match self.schema? {
            ReferenceOr::Reference { reference } => pointer::component_name(reference, "schemas"),
            ReferenceOr::Item(_) => None,
        }
    }
}

/// Whether `media_type` (parameters ignored, any case) carries JSON.
pub(crate) fn is_json_media_type(media_type: &str) -> bool {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// An operation's request body, resolved.
#[derive(Debug, Clone)]
pub struct RequestBody<'a> {
    /// Whether the body is `required`.
    pub required: bool,
    /// The first (for the progenitor subset: the only) media type and its schema.
    pub content: MediaSchema<'a>,
    /// The resolved request body object.
    pub body: &'a openapiv3::RequestBody,
}

/// One declared response of an operation, resolved.
#[derive(Debug, Clone)]
pub struct Response<'a> {
    /// The key it is declared under.
    pub status: ResponseStatus,
    /// The resolved response object.
    pub response: &'a openapiv3::Response,
    /// JSON pointer of the resolved response object.
    pub pointer: String,
}

impl<'a> Response<'a> {
    /// Whether the response declares any content.
    pub fn has_body(&self) -> bool {
        !self.response.content.is_empty()
    }

    /// Every declared media type with its schema, in document order.
    pub fn content(&self) -> Vec<MediaSchema<'a>> {
        self.response
            .content
            .iter()
            .map(|(media_type, media)| MediaSchema {
                media_type,
                schema: media.schema.as_ref(),
                pointer: pointer::join(&pointer::join(&self.pointer, "content"), media_type)
                    + "/schema",
            })
            .collect()
    }

    /// The first JSON media type and its schema, if any.
    pub fn json(&self) -> Option<MediaSchema<'a>> {
        self.content().into_iter().find(MediaSchema::is_json)
    }
}

/// One operation of the spec.
#[derive(Clone)]
pub struct Operation<'a> {
    /// The `operationId`, e.g. `getFlowsCount`.
    pub id: &'a str,
    /// The HTTP method in upper case: `GET`, `POST`, …
    pub method: &'static str,
    /// The path template, e.g. `/flows/{flowId}`.
    pub path: &'a str,
    /// The SDK methods this operation implements: its `operationId` if that
    /// is an SDK method, then the names in its `x-sdk-methods`.
    pub sdk_methods: Vec<String>,
    /// Whether it needs the bearer token.
    pub auth: Auth,
    /// The typed operation object.
    pub operation: &'a openapiv3::Operation,
    spec: &'a Spec,
    path_item: &'a openapiv3::PathItem,
    method_key: &'static str,
}

impl fmt::Debug for Operation<'_> {
    // The borrowed spec and operation objects are left out: they are large
    // and the id names them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Operation")
            .field("id", &self.id)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("sdk_methods", &self.sdk_methods)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl<'a> Operation<'a> {
    pub(crate) fn new(
        spec: &'a Spec,
        id: &'a str,
        method_key: &'static str,
        path: &'a str,
        path_item: &'a openapiv3::PathItem,
        operation: &'a openapiv3::Operation,
        auth: Auth,
    ) -> Operation<'a> {
        let mut sdk_methods = Vec::new();
        if crate::is_sdk_method(id) {
            sdk_methods.push(id.to_owned());
        }
        let listed = operation
            .extensions
            .get("x-sdk-methods")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str);
        for name in listed {
            if !sdk_methods.iter().any(|known| known == name) {
                sdk_methods.push(name.to_owned());
            }
        }
        Operation {
            id,
            method: upper_case(method_key),
            path,
            sdk_methods,
            auth,
            operation,
            spec,
            path_item,
            method_key,
        }
    }

    /// JSON pointer of the operation object, e.g. `/paths/~1flows/get`.
    pub fn pointer(&self) -> String {
        pointer::join(&pointer::join("/paths", self.path), self.method_key)
    }

    /// The operation's `summary`, if any.
    pub fn summary(&self) -> Option<&'a str> {
        self.operation.summary.as_deref()
    }

    /// The operation's tags, in document order.
    pub fn tags(&self) -> &'a [String] {
        &self.operation.tags
    }

    /// Whether the operation's names come from `x-sdk-methods` rather than its
    /// own `operationId` (the client offers hand-written wrappers for them).
    pub fn is_sdk_wrapper_target(&self) -> bool {
        !crate::is_sdk_method(self.id) && !self.sdk_methods.is_empty()
    }

    /// Every parameter, path-level and operation-level merged (an operation's
    /// parameter replaces the path item's of the same name and location),
    /// with `$ref`s resolved.
    pub fn parameters(&self) -> Result<Vec<&'a openapiv3::Parameter>, SpecError> {
        let resolve = |item: &'a ReferenceOr<openapiv3::Parameter>| {
            self.spec
                .resolve_typed(item, String::new(), "parameters", |c, name| {
                    c.parameters.get(name)
                })
                .map(|(_, parameter)| parameter)
        };
        let mut merged: Vec<&'a openapiv3::Parameter> = self
            .path_item
            .parameters
            .iter()
            .map(resolve)
            .collect::<Result<_, _>>()?;
        for item in &self.operation.parameters {
            let parameter = resolve(item)?;
            let key = parameter_key(parameter);
            match merged.iter_mut().find(|known| parameter_key(known) == key) {
                Some(slot) => *slot = parameter,
                None => merged.push(parameter),
            }
        }
        Ok(merged)
    }

    /// The path parameters, resolved and merged.
    pub fn path_parameters(&self) -> Result<Vec<&'a ParameterData>, SpecError> {
        Ok(self
            .parameters()?
            .into_iter()
            .filter(|p| matches!(p, openapiv3::Parameter::Path { .. }))
            .map(|p| p.parameter_data_ref())
            .collect())
    }

    /// The query parameters, resolved and merged.
    pub fn query_parameters(&self) -> Result<Vec<&'a ParameterData>, SpecError> {
        Ok(self
            .parameters()?
            .into_iter()
            .filter(|p| matches!(p, openapiv3::Parameter::Query { .. }))
            .map(|p| p.parameter_data_ref())
            .collect())
    }

    /// The request body, resolved, with its first media type.
    pub fn request_body(&self) -> Result<Option<RequestBody<'a>>, SpecError> {
        let Some(item) = &self.operation.request_body else {
            return Ok(None);
        };
        let declared_at = self.pointer() + "/requestBody";
        let (at, body) =
            self.spec
                .resolve_typed(item, declared_at, "requestBodies", |c, name| {
                    c.request_bodies.get(name)
                })?;
        let Some((media_type, media)) = body.content.first() else {
            return Ok(None);
        };
        Ok(Some(RequestBody {
            required: body.required,
            content: MediaSchema {
                media_type,
                schema: media.schema.as_ref(),
                pointer: pointer::join(&pointer::join(&at, "content"), media_type) + "/schema",
            },
            body,
        }))
    }

    /// Every declared response in document order, resolved.
    pub fn responses(&self) -> Result<Vec<Response<'a>>, SpecError> {
        let declared = self
            .spec
            .document()
            .pointer(&(self.pointer() + "/responses"));
        let keys = declared
            .and_then(Value::as_object)
            .map(|responses| responses.keys().collect::<Vec<_>>())
            .unwrap_or_default();
        let mut responses = Vec::new();
        for key in keys {
            let Some(status) = ResponseStatus::parse(key) else {
                continue;
            };
            let item = match status.to_status_code() {
                Some(code) => self.operation.responses.responses.get(&code),
                None => self.operation.responses.default.as_ref(),
            };
            let Some(item) = item else {
                continue;
            };
            let declared_at = pointer::join(&(self.pointer() + "/responses"), key);
            let (at, response) =
                self.spec
                    .resolve_typed(item, declared_at, "responses", |c, name| {
                        c.responses.get(name)
                    })?;
            responses.push(Response {
                status,
                response,
                pointer: at,
            });
        }
        Ok(responses)
    }

    /// The response that documents HTTP status `status`: an exact code wins
    /// over its range; `default` is not consulted.
    pub fn response_for_status(&self, status: u16) -> Result<Option<Response<'a>>, SpecError> {
        let responses = self.responses()?;
        let exact = responses
            .iter()
            .position(|r| r.status == ResponseStatus::Code(status));
        let range = || {
            responses
                .iter()
                .position(|r| r.status == ResponseStatus::Range(status / 100))
        };
        Ok(exact.or_else(range).map(|index| responses[index].clone()))
    }

    /// The first success (2XX) response, the one code generation types.
    pub fn success_response(&self) -> Result<Option<Response<'a>>, SpecError> {
        Ok(self
            .responses()?
            .into_iter()
            .find(|response| response.status.is_success()))
    }
}

fn parameter_key(parameter: &openapiv3::Parameter) -> (&str, &'static str) {
    let location = match parameter {
        openapiv3::Parameter::Query { .. } => "query",
        openapiv3::Parameter::Header { .. } => "header",
        openapiv3::Parameter::Path { .. } => "path",
        openapiv3::Parameter::Cookie { .. } => "cookie",
    };
    (parameter.parameter_data_ref().name.as_str(), location)
}

fn upper_case(method: &'static str) -> &'static str {
    match method {
        "get" => "GET",
        "put" => "PUT",
        "post" => "POST",
        "delete" => "DELETE",
        "options" => "OPTIONS",
        "head" => "HEAD",
        "patch" => "PATCH",
        _ => "TRACE",
    }
}
