//! Lints: what in the spec would break code generation, the SDK mapping,
//! the references between its parts, or the examples' promise to match their
//! schemas.
//!
//! Lints read the raw document rather than the typed model, so they see every
//! field as written (including operations without an `operationId`, which the
//! typed [`Spec::operations`] leaves out) and can name its JSON pointer.

mod progenitor;
mod references;
mod sdk;
pub(crate) mod walk;

#[cfg(feature = "validate")]
mod examples;

#[cfg(feature = "validate")]
pub use examples::examples;
pub use progenitor::progenitor_subset;
pub use references::references;
pub use sdk::sdk_mapping;

use serde_json::Value;

use crate::Spec;
use crate::pointer;
use crate::spec::METHODS;

/// Runs every lint the enabled features offer, in a stable order.
///
/// The examples are checked only when every reference resolves: before, their
/// schemas cannot compile, and [`examples`] would repeat what [`references`]
/// reports.
pub fn all(spec: &Spec) -> Vec<crate::Problem> {
    let mut problems = progenitor_subset(spec);
    let unresolved = references(spec);
    #[cfg(feature = "validate")]
    let check_examples = unresolved.is_empty();
    problems.extend(unresolved);
    problems.extend(sdk_mapping(spec));
    #[cfg(feature = "validate")]
    if check_examples {
        problems.extend(examples(spec));
    }
    problems
}

/// An operation as the raw document has it.
pub(crate) struct RawOperation<'d> {
    /// The `operationId`, or `METHOD /path` when there is none.
    pub name: String,
    /// The `operationId`, if any.
    pub id: Option<&'d str>,
    /// JSON pointer of the operation object.
    pub pointer: String,
    /// The operation object.
    pub value: &'d Value,
    /// The path item it belongs to.
    pub path_item: &'d Value,
    /// JSON pointer of the path item.
    pub path_pointer: String,
}

/// Every operation of every path item that is not a `$ref`, in document order.
pub(crate) fn raw_operations(document: &Value) -> Vec<RawOperation<'_>> {
    let Some(paths) = document.get("paths").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut operations = Vec::new();
    for (path, item) in paths {
        let Some(entries) = item.as_object() else {
            continue;
        };
        if entries.contains_key("$ref") {
            continue;
        }
        let path_pointer = pointer::join("/paths", path);
        for (method, value) in entries {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let id = value.get("operationId").and_then(Value::as_str);
            operations.push(RawOperation {
                name: id
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("{} {path}", method.to_uppercase())),
                id,
                pointer: pointer::join(&path_pointer, method),
                value,
                path_item: item,
                path_pointer: path_pointer.clone(),
            });
        }
    }
    operations
}
