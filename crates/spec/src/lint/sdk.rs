//! The mapping from the SDK's 37 methods to the spec's operations.
//!
//! An SDK method is implemented by the operation whose `operationId` is its
//! name, or by an operation that lists it in `x-sdk-methods` (for SDK methods
//! that share one HTTP call, like `startFlow` and `stopFlow`). The client, the
//! docs and the harness rely on each SDK method having exactly one operation.

use std::collections::BTreeMap;

use serde_json::Value;

use super::raw_operations;
use crate::{Problem, SDK_METHODS, Spec, is_sdk_method};

/// Finds SDK methods mapped by no operation or by several, names in
/// `x-sdk-methods` that are no SDK method, and operations named after an SDK
/// method whose `x-sdk-methods` leaves that name out.
pub fn sdk_mapping(spec: &Spec) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut mapped_by: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();

    for operation in raw_operations(spec.document()) {
        let Some(id) = operation.id else {
            continue;
        };
        let mut names = Vec::new();
        if is_sdk_method(id) {
            names.push(id.to_owned());
        }

        let listed_at = format!("{}/x-sdk-methods", operation.pointer);
        match operation.value.get("x-sdk-methods") {
            None => {}
            Some(Value::Array(listed)) => {
                let listed: Vec<Option<&str>> = listed.iter().map(Value::as_str).collect();
                if listed.iter().any(Option::is_none) {
                    problems.push(Problem::in_operation(
                        id,
                        &listed_at,
                        "`x-sdk-methods` must list SDK method names as strings",
                    ));
                }
                let listed: Vec<&str> = listed.into_iter().flatten().collect();
                for name in &listed {
                    if !is_sdk_method(name) {
                        problems.push(Problem::in_operation(
                            id,
                            &listed_at,
                            format!(
                                "`x-sdk-methods` lists `{name}`, which is not a method of the \
                                 SDK's appmixer.api; fix the name or remove it"
                            ),
                        ));
                    } else if !names.iter().any(|known| known == name) {
                        names.push((*name).to_owned());
                    }
                }
                if is_sdk_method(id) && !listed.contains(&id) {
                    problems.push(Problem::in_operation(
                        id,
                        &listed_at,
                        format!(
                            "the operationId `{id}` is an SDK method, so `x-sdk-methods` must \
                             list it too (it lists {})",
                            listed.join(", ")
                        ),
                    ));
                }
            }
            Some(_) => problems.push(Problem::in_operation(
                id,
                &listed_at,
                "`x-sdk-methods` must be a list of SDK method names",
            )),
        }

        for name in names {
            if let Some(&sdk_name) = SDK_METHODS.iter().find(|sdk| **sdk == name) {
                mapped_by
                    .entry(sdk_name)
                    .or_default()
                    .push((id.to_owned(), operation.pointer.clone()));
            }
        }
    }

    for name in SDK_METHODS {
        match mapped_by.get(name).map(Vec::as_slice) {
            None | Some([]) => problems.push(Problem::in_document(
                "/paths",
                format!(
                    "SDK method `{name}` is mapped by no operation; give one operation \
                     `operationId: {name}` or list `{name}` in its `x-sdk-methods`"
                ),
            )),
            Some([_]) => {}
            Some(several) => {
                let ids: Vec<&str> = several.iter().map(|(id, _)| id.as_str()).collect();
                for (id, at) in several {
                    problems.push(Problem::in_operation(
                        id,
                        at,
                        format!(
                            "SDK method `{name}` is mapped by {} operations ({}); exactly one \
                             may map it",
                            several.len(),
                            ids.join(", ")
                        ),
                    ));
                }
            }
        }
    }
    problems
}
