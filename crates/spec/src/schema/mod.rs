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
        let label = format!("`{operation_id}` {}", response.status);
        let matched = content_type
            .map(essence)
            .and_then(|sent| response.content.iter().find(|media| media.essence == sent));
        let content_type_verdict = match (content_type, matched) {
            (_, Some(_)) => Verdict::Pass,
            (None, None) => Verdict::Fail(format!(
                "no Content-Type header; {label} declares {}",
                declared_types()
            )),
            (Some(sent), None) => Verdict::Fail(format!(
                "Content-Type `{sent}` is not declared for {label} (declared: {})",
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
                self.check_json_body(media, body)
            }
            _ => Verdict::NotApplicable,
        };

        ResponseCheck {
            status: Verdict::Pass,
            content_type: content_type_verdict,
            body: body_verdict,
        }
    }

    fn check_json_body(&self, media: &DeclaredMedia, body: &[u8]) -> Verdict {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Verdict::Fail(format!("body is empty; expected {}", media.media_type));
        }
        let value: Value = match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(error) => return Verdict::Fail(format!("body is not JSON: {error}")),
        };
        let Some(at) = &media.schema_pointer else {
            return Verdict::Pass;
        };
        match self.validate_pointer(at, &value) {
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
        if self.document.pointer(at).is_none() {
            return Err(SpecError::Schema {
                pointer: at.to_owned(),
                message: "there is nothing at this pointer in the spec; check its spelling \
                          (e.g. `#/components/schemas/Flow`)"
                    .to_owned(),
            });
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

/// The media type without parameters, lower-case: `Application/JSON; charset=utf-8`
/// gives `application/json`.
fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
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
    fn essence_drops_parameters_and_case() {
        assert_eq!(
            essence("Application/JSON; charset=utf-8"),
            "application/json"
        );
    }
}
