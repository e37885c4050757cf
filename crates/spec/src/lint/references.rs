//! Every `$ref` must point at something in this document.
//!
//! A dangling reference breaks everything downstream: progenitor panics on
//! it, and the validator cannot compile the schemas, so no example can be
//! checked. Each one is reported for every operation that reaches it, through
//! its parameters, body and responses and the components those use, so that
//! the message says which calls are affected; one that no operation reaches
//! is reported where it is written.

use std::collections::HashSet;

use serde_json::Value;

use super::raw_operations;
use super::walk::{component_refs, reached_refs};
use crate::{Problem, Spec, pointer};

/// Finds every `$ref` that points at nothing, or outside the document.
pub fn references(spec: &Spec) -> Vec<Problem> {
    let document = spec.document();
    let mut problems = Vec::new();
    let mut reported = HashSet::new();
    for operation in raw_operations(document) {
        for site in reached_refs(document, &operation) {
            if let Some(message) = dangling(document, site.reference) {
                reported.insert(site.pointer.clone());
                problems.push(Problem::in_operation(
                    &operation.name,
                    site.pointer,
                    message,
                ));
            }
        }
    }
    for site in component_refs(document) {
        if reported.contains(&site.pointer) {
            continue;
        }
        if let Some(message) = dangling(document, site.reference) {
            problems.push(Problem::in_document(site.pointer, message));
        }
    }
    problems
}

/// What is wrong with `reference`, if it does not resolve.
fn dangling(document: &Value, reference: &str) -> Option<String> {
    let Some(target) = pointer::ref_target(reference) else {
        return Some(format!(
            "`$ref: {reference}` points outside this document, which neither the client \
             generator nor the validator follows; copy the target into `#/components` and \
             refer to it there"
        ));
    };
    document.pointer(target).is_none().then(|| {
        format!(
            "`$ref: {reference}` points at nothing: the document has no `{target}`; add it, \
             or point the `$ref` at an existing entry of `#/components`"
        )
    })
}
