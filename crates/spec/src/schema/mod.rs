//! Validation of JSON values and HTTP answers against the spec's schemas.
//!
//! The spec is converted to JSON Schema once (see `convert`), registered as a
//! single resource, and each schema is compiled the first time it is needed:
//! the component schemas and every response schema up front in
//! [`Validator::new`], any other pointer on first use. Answers are judged in
//! three separate verdicts (status, content type, body) so that a report can
//! say which one failed.

mod convert;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use jsonschema::{Draft, Registry};
use serde_json::Value;

use crate::operation::{ResponseStatus, is_json_media_type};
use crate::{Spec, SpecError, pointer};

/// The URI the converted spec is registered under; never fetched.
const BASE_URI: &str = "urn:appmixer:spec";

/// The verdict on one aspect of an HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The answer agrees with the spec.
    Pass,
    /// The answer disagrees; the text says how.
    Fail(String),
    /// The spec says nothing to check here (e.g. a response without content).
    NotApplicable,
}

impl Verdict {
    /// Whether this verdict is a failure.
    pub fn is_fail(&self) -> bool {
        matches!(self, Verdict::Fail(_))
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Pass => f.write_str("pass"),
            Verdict::Fail(reason) => write!(f, "fail: {reason}"),
            Verdict::NotApplicable => f.write_str("not applicable"),
        }
    }
}

/// The three verdicts on one HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseCheck {
    /// Whether the status is documented (exactly or by its range).
    pub status: Verdict,
    /// Whether the `Content-Type` is one the matched response declares.
    pub content_type: Verdict,
    /// Whether the body parses and validates against the declared schema.
    pub body: Verdict,
}

impl ResponseCheck {
    /// Whether no verdict is a failure.
    pub fn passed(&self) -> bool {
        !(self.status.is_fail() || self.content_type.is_fail() || self.body.is_fail())
    }

    /// The failures, each prefixed with the aspect it concerns.
    pub fn failures(&self) -> Vec<String> {
        [
            ("status", &self.status),
            ("content type", &self.content_type),
            ("body", &self.body),
        ]
        .into_iter()
        .filter_map(|(aspect, verdict)| match verdict {
            Verdict::Fail(reason) => Some(format!("{aspect}: {reason}")),
            _ => None,
        })
        .collect()
    }

    fn undocumented(reason: String) -> ResponseCheck {
        ResponseCheck {
            status: Verdict::Fail(reason),
            content_type: Verdict::NotApplicable,
            body: Verdict::NotApplicable,
        }
    }
}

/// One declared media type of a response.
#[derive(Debug)]
struct DeclaredMedia {
    media_type: String,
    essence: String,
    schema_pointer: Option<String>,
}

/// One declared response of an operation.
#[derive(Debug)]
struct DeclaredResponse {
    status: ResponseStatus,
    content: Vec<DeclaredMedia>,
}

/// Validates values and answers against the schemas of one spec.
///
/// It owns what it needs, so it outlives the [`Spec`] it was made from, and
/// it is `Send + Sync`, so one validator can serve concurrent checks.
pub struct Validator {
    registry: Registry<'static>,
    document: Value,
    compiled: RwLock<HashMap<String, Arc<jsonschema::Validator>>>,
    operations: HashMap<String, Vec<DeclaredResponse>>,
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validator")
            .field("operations", &self.operations.len())
            .finish_non_exhaustive()
    }
}

impl Validator {
    /// Converts the spec's schemas and compiles the component and response
    /// schemas.
    pub fn new(spec: &Spec) -> Result<Validator, SpecError> {
        let document = convert::convert_document(spec.document());
        let registry = Registry::new()
            .draft(Draft::Draft4)
            .add(BASE_URI, document.clone())
            .and_then(|builder| builder.prepare())
            .map_err(|error| SpecError::Schema {
                pointer: String::new(),
                message: error.to_string(),
            })?;

        let mut operations = HashMap::new();
        for operation in spec.operations() {
            let declared = operation
                .responses()?
                .into_iter()
                .map(|response| DeclaredResponse {
                    status: response.status,
                    content: response
                        .content()
                        .into_iter()
                        .map(|media| DeclaredMedia {
                            media_type: media.media_type.to_owned(),
                            essence: essence(media.media_type),
                            schema_pointer: media.schema.map(|_| media.pointer),
                        })
                        .collect(),
                })
                .collect();
            operations.insert(operation.id.to_owned(), declared);
        }

        let validator = Validator {
            registry,
            document,
            compiled: RwLock::new(HashMap::new()),
            operations,
        };

        let components = spec
            .document()
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, _)| pointer::join("/components/schemas", name));
        let responses = validator
            .operations
            .values()
            .flatten()
            .flat_map(|response| &response.content)
            .filter_map(|media| media.schema_pointer.clone());
        for at in components.chain(responses).collect::<Vec<_>>() {
            validator.compiled(&at)?;
        }
        Ok(validator)
    }

    /// Checks one HTTP answer of an operation against the spec.
    ///
    /// The status is documented if its exact code or its range (`4XX`) is
    /// declared, the exact code winning. When the matched response declares
    /// content, the `Content-Type` (parameters and case ignored) must be one of
    /// its media types, and a JSON body must parse and validate against the
    /// schema; when it declares none, any body is accepted.
    pub fn check_response(
        &self,
        operation_id: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> ResponseCheck {
        self.check_parsed_response(operation_id, status, content_type, body, None)
    }

    /// Checks one HTTP answer like [`Validator::check_response`], given its
    /// body already parsed: `parsed` is `body` as JSON, when the caller has
    /// parsed it, so that a body is parsed once however many read it. With
    /// `None` the body is parsed here, as it may not be JSON at all.
    pub fn check_parsed_response(
        &self,
        operation_id: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
        parsed: Option<&Value>,
    ) -> ResponseCheck {
        let Some(declared) = self.operations.get(operation_id) else {
            return ResponseCheck::undocumented(format!(
                "operation `{operation_id}` is not in the spec; check the operationId"
            ));
        };
        let exact = declared
            .iter()
            .find(|r| r.status == ResponseStatus::Code(status));
        let range = || {
            declared
                .iter()
                .find(|r| r.status == ResponseStatus::Range(status / 100))
        };
        let Some(response) = exact.or_else(range) else {
            let listed: Vec<String> = declared.iter().map(|r| r.status.to_string()).collect();
            return ResponseCheck::undocumented(format!(
                "status {status} is not documented for `{operation_id}` (documented: {})",
                listed.join(", ")
            ));
        };
        if response.content.is_empty() {
            return ResponseCheck {
                status: Verdict::Pass,
                content_type: Verdict::NotApplicable,
                body: Verdict::NotApplicable,
            };
        }

        let declared_types = || {
            response
                .content
                .iter()
                .map(|media| media.media_type.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let label = || format!("`{operation_id}` {}", response.status);
        let matched = content_type.and_then(|sent| {
            let sent = essence_of(sent);
            response
                .content
                .iter()
                .find(|media| media.essence.eq_ignore_ascii_case(sent))
        });
        let content_type_verdict = match (content_type, matched) {
            (_, Some(_)) => Verdict::Pass,
            (None, None) => Verdict::Fail(format!(
                "no Content-Type header; {} declares {}",
                label(),
                declared_types()
            )),
            (Some(sent), None) => Verdict::Fail(format!(
                "Content-Type `{sent}` is not declared for {} (declared: {})",
                label(),
                declared_types()
            )),
        };

        // With a wrong content type the body is still judged against the
        // declared one when there is only one, as a report wants both facts.
        let media = matched.or(match response.content.as_slice() {
            [only] => Some(only),
            _ => None,
        });
        let body_verdict = match media {
            Some(media) if is_json_media_type(&media.media_type) => {
                self.check_json_body(media, body, parsed)
            }
            _ => Verdict::NotApplicable,
        };

        ResponseCheck {
            status: Verdict::Pass,
            content_type: content_type_verdict,
            body: body_verdict,
        }
    }

    fn check_json_body(
        &self,
        media: &DeclaredMedia,
        body: &[u8],
        parsed: Option<&Value>,
    ) -> Verdict {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Verdict::Fail(format!("body is empty; expected {}", media.media_type));
        }
        let parsed_here: Value;
        let value = match parsed {
            Some(value) => value,
            None => match serde_json::from_slice(body) {
                Ok(value) => {
                    parsed_here = value;
                    &parsed_here
                }
                Err(error) => return Verdict::Fail(format!("body is not JSON: {error}")),
            },
        };
        let Some(at) = &media.schema_pointer else {
            return Verdict::Pass;
        };
        match self.validate_pointer(at, value) {
            Ok(()) => Verdict::Pass,
            Err(errors) => Verdict::Fail(format!(
                "does not match the schema at {at}: {}",
                errors.join("; ")
            )),
        }
    }

    /// Validates `value` against `#/components/schemas/NAME` or any JSON
    /// pointer into the document (with or without the leading `#`).
    ///
    /// Each error names the instance path (`/stage`, or `(root)`) and why.
    pub fn validate_pointer(&self, pointer: &str, value: &Value) -> Result<(), Vec<String>> {
        let at = pointer.strip_prefix('#').unwrap_or(pointer);
        let compiled = self.compiled(at).map_err(|error| vec![error.to_string()])?;
        // Most values are valid, and telling so without collecting errors
        // is several times cheaper; the errors are collected for the rest.
        if compiled.is_valid(value) {
            return Ok(());
        }
        let errors: Vec<String> = compiled
            .iter_errors(value)
            .map(|error| {
                let path = error.instance_path().to_string();
                let path = if path.is_empty() {
                    "(root)".to_owned()
                } else {
                    path
                };
                format!("{path}: {error}")
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The compiled schema at `at`, compiling it on first use.
    fn compiled(&self, at: &str) -> Result<Arc<jsonschema::Validator>, SpecError> {
        let cached = self
            .compiled
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(at)
            .cloned();
        if let Some(compiled) = cached {
            return Ok(compiled);
        }
        let Some(schema) = self.document.pointer(at) else {
            return Err(SpecError::Schema {
                pointer: at.to_owned(),
                message: "there is nothing at this pointer in the spec; check its spelling \
                          (e.g. `#/components/schemas/Flow`)"
                    .to_owned(),
            });
        };
        // A schema that is nothing but a `$ref` validates exactly as the
        // schema it names (most response schemas name a component): that
        // one's compiled form is shared instead of compiled again. One hop
        // only, so that a cycle of references is left to the compiler.
        if let Some(target) = local_ref(schema)
            && target != at
            && self
                .document
                .pointer(target)
                .is_some_and(|t| local_ref(t).is_none())
        {
            let compiled = self.compiled(target)?;
            self.compiled
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .insert(at.to_owned(), Arc::clone(&compiled));
            return Ok(compiled);
        }

        let schema = serde_json::json!({ "$ref": format!("{BASE_URI}#{}", encode_fragment(at)) });
        let compiled = jsonschema::options()
            .with_draft(Draft::Draft4)
            .with_registry(&self.registry)
            .should_validate_formats(true)
            .with_format("uuid", is_uuid)
            .build(&schema)
            .map_err(|error| SpecError::Schema {
                pointer: at.to_owned(),
                message: error.to_string(),
            })?;
        let compiled = Arc::new(compiled);
        self.compiled
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(at.to_owned(), Arc::clone(&compiled));
        Ok(compiled)
    }
}

/// The JSON pointer a schema that is nothing but a local `$ref` names, if
/// it is one (and its fragment needs no percent-decoding to be a pointer).
fn local_ref(schema: &Value) -> Option<&str> {
    let object = schema.as_object()?;
    if object.len() != 1 {
        return None;
    }
    object
        .get("$ref")?
        .as_str()?
        .strip_prefix('#')
        .filter(|pointer| !pointer.contains('%'))
}

/// The media type without parameters, lower-case: `Application/JSON; charset=utf-8`
/// gives `application/json`.
fn essence(media_type: &str) -> String {
    essence_of(media_type).to_ascii_lowercase()
}

/// The media type without parameters, in its own case.
fn essence_of(media_type: &str) -> &str {
    media_type.split(';').next().unwrap_or_default().trim()
}

/// Percent-encodes a JSON pointer for use as a URI fragment.
fn encode_fragment(pointer: &str) -> String {
    let mut encoded = String::with_capacity(pointer.len());
    for byte in pointer.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Whether `text` is a UUID in its hyphenated form (8-4-4-4-12 hex digits).
fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => *byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_format_wants_the_hyphenated_form() {
        assert!(is_uuid("9089f275-f5a5-4796-ba23-365412c5666e"));
        assert!(!is_uuid("9089f275f5a54796ba23365412c5666e"));
        assert!(!is_uuid("9089f275-f5a5-4796-ba23-365412c5666g"));
    }

    #[test]
    fn fragments_escape_what_a_uri_does_not_allow() {
        assert_eq!(
            encode_fragment("/paths/~1flows~1{flowId}/get"),
            "/paths/~1flows~1%7BflowId%7D/get"
        );
    }

    #[test]
    fn a_body_parsed_by_the_caller_gets_the_verdicts_of_one_parsed_here() {
        let spec = crate::Spec::load(&crate::default_path()).expect("the workspace spec loads");
        let validator = Validator::new(&spec).expect("the workspace spec compiles");

        for body in [
            &b"[]"[..],
            br#"{"not": "a list"}"#,
            b"[{\"flowId\": 1}]",
            b"not json",
        ] {
            let parsed: Option<Value> = serde_json::from_slice(body).ok();
            let given = validator.check_parsed_response(
                "getFlows",
                200,
                Some("application/json"),
                body,
                parsed.as_ref(),
            );

            assert_eq!(
                given,
                validator.check_response("getFlows", 200, Some("application/json"), body),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let invalid = validator.check_response(
            "getFlows",
            200,
            Some("Application/JSON; charset=utf-8"),
            br#"{"not": "a list"}"#,
        );
        assert_eq!(invalid.content_type, Verdict::Pass);
        assert!(invalid.body.is_fail(), "{invalid:?}");
    }

    #[test]
    fn a_schema_that_only_refers_shares_the_compiled_form_of_the_one_it_names() {
        let spec = crate::Spec::load(&crate::default_path()).expect("the workspace spec loads");
        let validator = Validator::new(&spec).expect("the workspace spec compiles");
        let error = "/components/responses/ClientError/content/application~1json/schema";
        let boom = local_ref(validator.document.pointer(error).expect("the client error"))
            .expect("the client error's schema is a reference");

        let shared = validator.compiled(error).expect("compiles");

        assert!(Arc::ptr_eq(
            &shared,
            &validator.compiled(boom).expect("compiles")
        ));
        assert_eq!(
            validator.validate_pointer(error, &serde_json::json!({"statusCode": "four"})),
            validator.validate_pointer(boom, &serde_json::json!({"statusCode": "four"})),
        );
        assert!(
            validator
                .validate_pointer(error, &serde_json::json!({"statusCode": "four"}))
                .is_err()
        );
    }

    #[test]
    fn essence_drops_parameters_and_case() {
        assert_eq!(
            essence("Application/JSON; charset=utf-8"),
            "application/json"
        );
    }
}
