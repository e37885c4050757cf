//! Examples must match their schemas.
//!
//! Examples are what readers copy and what tests send, so one that its own
//! schema rejects misleads both. Checked: `example` on any schema, and
//! `example` and every `examples` entry on parameters, headers and media
//! types (entries may be `$ref`s to `#/components/examples`).
//!
//! When the schemas do not compile, no example is checked; the problems say
//! why, for each operation concerned.

use serde_json::Value;

use super::walk::{all_schemas, schema_holders};
use super::{raw_operations, references};
use crate::schema::Validator;
use crate::{Problem, Spec, SpecError, pointer};

/// Validates every example of the spec against the schema it illustrates.
pub fn examples(spec: &Spec) -> Vec<Problem> {
    let validator = match Validator::new(spec) {
        Ok(validator) => validator,
        Err(error) => return uncompiled(spec, &error),
    };
    let document = spec.document();
    let mut problems = Vec::new();
    let check = |operation: Option<String>, location: String, schema_at: &str, example: &Value| {
        let errors = validator.validate_pointer(schema_at, example).err()?;
        Some(Problem {
            operation,
            location,
            message: format!(
                "example does not match its schema at {schema_at}: {}",
                errors.join("; ")
            ),
        })
    };

    for site in all_schemas(document) {
        if let Some(example) = site.value.get("example") {
            let location = format!("{}/example", site.pointer);
            problems.extend(check(site.operation, location, &site.pointer, example));
        }
    }

    for holder in schema_holders(document) {
        if holder.value.get("schema").is_none() {
            continue;
        }
        let schema_at = format!("{}/schema", holder.pointer);
        if let Some(example) = holder.value.get("example") {
            let location = format!("{}/example", holder.pointer);
            problems.extend(check(
                holder.operation.clone(),
                location,
                &schema_at,
                example,
            ));
        }
        let entries = holder.value.get("examples").and_then(Value::as_object);
        for (name, entry) in entries.into_iter().flatten() {
            let declared_at = pointer::join(&format!("{}/examples", holder.pointer), name);
            let (entry_at, entry) = match pointer::follow(document, &declared_at, entry) {
                Ok(found) => found,
                Err((reference, reason)) => {
                    problems.push(Problem {
                        operation: holder.operation.clone(),
                        location: declared_at,
                        message: format!("`$ref: {reference}` does not resolve: {reason}"),
                    });
                    continue;
                }
            };
            // An entry with `externalValue` instead of `value` lives elsewhere.
            if let Some(value) = entry.get("value") {
                let location = format!("{entry_at}/value");
                problems.extend(check(holder.operation.clone(), location, &schema_at, value));
            }
        }
    }
    problems
}

/// Why no example could be checked: every dangling `$ref`, for each
/// operation that reaches it, or else the schema that failed to compile.
fn uncompiled(spec: &Spec, error: &SpecError) -> Vec<Problem> {
    let mut problems = references(spec);
    for problem in &mut problems {
        problem
            .message
            .push_str("; no example is checked until it resolves");
    }
    if problems.is_empty() {
        let location = match error {
            SpecError::Schema { pointer, .. } => pointer.clone(),
            _ => String::new(),
        };
        // The operation whose subtree holds the schema, if any.
        let operation = raw_operations(spec.document())
            .into_iter()
            .find(|operation| location.starts_with(&(operation.pointer.clone() + "/")))
            .map(|operation| operation.name);
        problems.push(Problem {
            operation,
            location,
            message: format!("cannot check the examples, the schemas do not compile: {error}"),
        });
    }
    problems
}
