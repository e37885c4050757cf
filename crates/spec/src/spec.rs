//! Loading the spec: syntax, version, the OpenAPI 3.0 model, operations.
//!
//! The text is parsed into a [`serde_json::Value`] (which keeps key order, so
//! operations come out in document order, lets the lints see every field as
//! written, and refuses a key repeated in one mapping), and that value into
//! [`openapiv3::OpenAPI`] (the model progenitor generates from). Errors name
//! the line and column of the text.

use std::fmt;
use std::path::Path;

use openapiv3::{Components, OpenAPI, ReferenceOr};
use serde_json::Value;

use crate::error::SpecError;
use crate::operation::{Auth, Operation};
use crate::{model, pointer, syntax};

/// How many `$ref` hops a typed resolution takes before it calls the chain a loop.
const MAX_HOPS: usize = 32;

/// The HTTP methods a path item may hold, lower-case as the document spells them.
pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A loaded OpenAPI 3.0 document.
#[derive(Clone)]
pub struct Spec {
    openapi: OpenAPI,
    document: Value,
}

impl fmt::Debug for Spec {
    // The whole document would drown any message it appears in.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spec")
            .field("title", &self.openapi.info.title)
            .field("version", &self.openapi.info.version)
            .field("paths", &self.openapi.paths.paths.len())
            .finish_non_exhaustive()
    }
}

impl Spec {
    /// Reads and parses the spec at `path`, YAML or JSON by content.
    pub fn load(path: &Path) -> Result<Spec, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse_with_origin(&text, &path.display().to_string())
    }

    /// Parses a spec from text: JSON when its first non-blank character is
    /// `{`, YAML otherwise.
    pub fn parse(text: &str) -> Result<Spec, SpecError> {
        Self::parse_with_origin(text, "spec text")
    }

    /// Parses the spec built into this crate, [`crate::EMBEDDED_SPEC`].
    pub fn embedded() -> Result<Spec, SpecError> {
        Self::parse_with_origin(
            crate::EMBEDDED_SPEC,
            "the embedded spec (spec/appmixer.yaml when this was built)",
        )
    }

    fn parse_with_origin(text: &str, origin: &str) -> Result<Spec, SpecError> {
        let format = syntax::format_of(text);
        let document = syntax::document(text, format, origin)?;
        check_version(&document, origin)?;
        let openapi = model::read(&document, text, format, origin)?;
        Ok(Spec { openapi, document })
    }

    /// The typed OpenAPI model.
    pub fn openapi(&self) -> &OpenAPI {
        &self.openapi
    }

    /// The raw document, with keys in document order.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// Every operation that has an `operationId`, in document order.
    ///
    /// Operations without one, and path items that are `$ref`s, are left out;
    /// [`lint::progenitor_subset`](crate::lint::progenitor_subset) reports them.
    pub fn operations(&self) -> Vec<Operation<'_>> {
        let Some(paths) = self.document.get("paths").and_then(Value::as_object) else {
            return Vec::new();
        };
        let mut operations = Vec::new();
        for (path, raw_item) in paths {
            let Some(ReferenceOr::Item(item)) = self.openapi.paths.paths.get(path) else {
                continue;
            };
            let Some(raw_item) = raw_item.as_object() else {
                continue;
            };
            // The raw item's keys give the document order of the methods;
            // the typed item only has one field per method.
            for method in raw_item.keys().filter_map(|key| method_name(key)) {
                let Some(operation) = typed_operation(item, method) else {
                    continue;
                };
                let Some(id) = operation.operation_id.as_deref() else {
                    continue;
                };
                operations.push(Operation::new(
                    self,
                    id,
                    method,
                    path,
                    item,
                    operation,
                    self.auth_of(operation),
                ));
            }
        }
        operations
    }

    /// The operation whose `operationId` is `operation_id`.
    pub fn operation(&self, operation_id: &str) -> Option<Operation<'_>> {
        self.operations()
            .into_iter()
            .find(|operation| operation.id == operation_id)
    }

    /// Follows a local `$ref` (and any chain of them) in the raw document;
    /// returns the target's pointer and value.
    pub fn resolve_ref(&self, reference: &str) -> Result<(String, &Value), SpecError> {
        let unresolved = |reason: String| SpecError::Unresolved {
            reference: reference.to_owned(),
            reason,
        };
        let target = pointer::ref_target(reference).ok_or_else(|| {
            unresolved("only references into this document (`#/…`) are supported".to_owned())
        })?;
        let value = self
            .document
            .pointer(target)
            .ok_or_else(|| unresolved(format!("nothing at {target}")))?;
        pointer::follow(&self.document, target, value)
            .map_err(|(reference, reason)| SpecError::Unresolved { reference, reason })
    }

    /// The schema `#/components/schemas/NAME`, resolved through `$ref`s.
    pub fn component_schema(&self, name: &str) -> Option<&openapiv3::Schema> {
        let schema = self.openapi.components.as_ref()?.schemas.get(name)?;
        self.resolve_schema(schema).ok()
    }

    /// Resolves a schema that may be a `$ref` to `#/components/schemas/…`.
    pub fn resolve_schema<'s>(
        &'s self,
        schema: &'s ReferenceOr<openapiv3::Schema>,
    ) -> Result<&'s openapiv3::Schema, SpecError> {
        self.resolve_typed(schema, String::new(), "schemas", |c, name| {
            c.schemas.get(name)
        })
        .map(|(_, schema)| schema)
    }

    /// Resolves `item` through `$ref`s to `#/components/{kind}/NAME`, looking
    /// each name up with `lookup`; returns the item and its pointer.
    pub(crate) fn resolve_typed<'s, T>(
        &'s self,
        item: &'s ReferenceOr<T>,
        declared_at: String,
        kind: &str,
        lookup: impl Fn(&'s Components, &str) -> Option<&'s ReferenceOr<T>>,
    ) -> Result<(String, &'s T), SpecError> {
        let mut current = item;
        let mut at = declared_at;
        for _ in 0..MAX_HOPS {
            let reference = match current {
                ReferenceOr::Item(item) => return Ok((at, item)),
                ReferenceOr::Reference { reference } => reference,
            };
            let unresolved = |reason: String| SpecError::Unresolved {
                reference: reference.clone(),
                reason,
            };
            let name = pointer::component_name(reference, kind)
                .ok_or_else(|| unresolved(format!("expected `#/components/{kind}/NAME`")))?;
            let components = self
                .openapi
                .components
                .as_ref()
                .ok_or_else(|| unresolved("the spec has no `components`".to_owned()))?;
            current = lookup(components, name)
                .ok_or_else(|| unresolved(format!("there is no `components.{kind}.{name}`")))?;
            at = format!("/components/{kind}/{name}");
        }
        Err(SpecError::Unresolved {
            reference: at,
            reason: format!("more than {MAX_HOPS} references in a row, probably a loop"),
        })
    }

    /// Who may call `operation`: its own `security`, else the document's.
    fn auth_of(&self, operation: &openapiv3::Operation) -> Auth {
        let requirements = operation
            .security
            .as_ref()
            .or(self.openapi.security.as_ref());
        match requirements {
            None => Auth::None,
            Some(requirements) if requirements.is_empty() => Auth::None,
            // An empty requirement (`{}`) beside a real one means "or nothing".
            Some(requirements) if requirements.iter().any(|r| r.is_empty()) => Auth::Optional,
            Some(_) => Auth::Required,
        }
    }
}

/// The `&'static str` spelling of a path item key that is an HTTP method.
fn method_name(key: &str) -> Option<&'static str> {
    METHODS.iter().copied().find(|method| *method == key)
}

/// The operation stored under `method` in a typed path item.
pub(crate) fn typed_operation<'i>(
    item: &'i openapiv3::PathItem,
    method: &str,
) -> Option<&'i openapiv3::Operation> {
    match method {
        "get" => item.get.as_ref(),
        "put" => item.put.as_ref(),
        "post" => item.post.as_ref(),
        "delete" => item.delete.as_ref(),
        "options" => item.options.as_ref(),
        "head" => item.head.as_ref(),
        "patch" => item.patch.as_ref(),
        "trace" => item.trace.as_ref(),
        _ => None,
    }
}

/// Rejects anything but an OpenAPI 3.0.x document, with the reason.
fn check_version(document: &Value, origin: &str) -> Result<(), SpecError> {
    if let Some(swagger) = document.get("swagger") {
        return Err(SpecError::Swagger2 {
            origin: origin.to_owned(),
            version: scalar_text(swagger),
        });
    }
    let found = match document.get("openapi") {
        Some(Value::String(version)) if version.trim().starts_with("3.0.") => return Ok(()),
        Some(Value::String(version)) => version.clone(),
        Some(Value::Number(number)) => {
            format!("the number {number} (quote the version, e.g. `openapi: '3.0.3'`)")
        }
        Some(other) => format!("`{other}`"),
        None if document.is_object() => "a document without an `openapi` field".to_owned(),
        None => "a document that is not a mapping".to_owned(),
    };
    Err(SpecError::Version {
        origin: origin.to_owned(),
        found,
    })
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
