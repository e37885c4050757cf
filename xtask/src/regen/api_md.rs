//! `docs/api.md`: the SDK's 37 methods against operations and client methods.
//!
//! The first table follows the SDK's order, so a reader of the SDK docs finds
//! each method in the same place; the second lists the operations that no
//! SDK method maps, which the client offers under their generated names.

use anyhow::Context as _;
use appmixer_spec::{SDK_METHODS, Spec};

use super::markdown::{cell, code, generated_note, generated_notice, table};
use super::names::client_method;

/// Renders `docs/api.md` for `spec`.
pub fn render(spec: &Spec) -> anyhow::Result<String> {
    let operations = spec.operations();
    let info = &spec.openapi().info;
    let mut out = generated_notice();

    out.push_str("\n# Appmixer API: SDK methods and client methods\n\n");
    out.push_str(&generated_note());
    out.push_str(&format!(
        "\nThe {count} methods of the SDK's `appmixer.api` module, in the SDK's order, each with \
         the\noperation of {title} {version} that implements it and the method of the Rust \
         client\n(`appmixer-client`) that calls it. SDK methods that share one operation are \
         hand-written\nwrappers over its generated method.\n\n",
        count = SDK_METHODS.len(),
        title = info.title,
        version = info.version,
    ));

    let mut rows = Vec::new();
    for (index, sdk_method) in SDK_METHODS.iter().enumerate() {
        let operation = operations
            .iter()
            .find(|operation| operation.sdk_methods.iter().any(|name| name == sdk_method))
            .with_context(|| {
                format!("SDK method `{sdk_method}` is mapped by no operation of the spec")
            })?;
        let mut rust = code(&client_method(sdk_method));
        if operation.id != *sdk_method {
            rust.push_str(&format!(" (wraps {})", code(&client_method(operation.id))));
        }
        rows.push(vec![
            (index + 1).to_string(),
            code(sdk_method),
            operation.method.to_owned(),
            code(operation.path),
            rust,
            code(operation.id),
        ]);
    }
    out.push_str(&table(
        &[
            "#",
            "SDK method",
            "HTTP method",
            "Path",
            "Rust client method",
            "Operation",
        ],
        &rows,
    ));

    out.push_str("\n## Operations no SDK method maps\n\n");
    out.push_str(
        "The spec also describes these operations, which the SDK does not call; the client \
         offers them\nunder their generated names.\n\n",
    );
    let rows: Vec<Vec<String>> = operations
        .iter()
        .filter(|operation| operation.sdk_methods.is_empty())
        .map(|operation| {
            vec![
                code(operation.id),
                operation.method.to_owned(),
                code(operation.path),
                code(&client_method(operation.id)),
                cell(operation.summary().unwrap_or_default()),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "Operation",
            "HTTP method",
            "Path",
            "Rust client method",
            "Summary",
        ],
        &rows,
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real() -> String {
        let spec = Spec::load(&appmixer_spec::default_path()).unwrap();
        render(&spec).unwrap()
    }

    #[test]
    fn starts_with_the_generated_notice() {
        let text = real();

        assert!(text.starts_with("<!-- Generated from spec/appmixer.yaml by `cargo xtask regen`"));
    }

    #[test]
    fn sdk_rows_follow_the_sdk_order_with_snake_case_methods() {
        let text = real();

        let first = text.lines().find(|line| line.starts_with("| 1 |")).unwrap();
        let seventh = text.lines().find(|line| line.starts_with("| 7 |")).unwrap();
        assert_eq!(
            first,
            "| 1 | `authenticateUser` | POST | `/user/auth` | `authenticate_user` | `authenticateUser` |"
        );
        assert_eq!(
            seventh,
            "| 7 | `getFlowsCount` | GET | `/flows/count` | `get_flows_count` | `getFlowsCount` |"
        );
    }

    #[test]
    fn sdk_methods_behind_x_sdk_methods_are_wrappers() {
        let text = real();

        let start = text.lines().find(|line| line.starts_with("| 9 |")).unwrap();
        assert_eq!(
            start,
            "| 9 | `startFlow` | POST | `/flows/{flowId}/coordinator` | `start_flow` (wraps \
             `send_flow_command`) | `sendFlowCommand` |"
        );
    }

    #[test]
    fn unmapped_operations_are_listed_after_the_sdk_table() {
        let text = real();

        let (_, unmapped) = text.split_once("## Operations no SDK method maps").unwrap();
        assert!(unmapped.contains(
            "| `createPeopleTask` | POST | `/people-task/tasks` | `create_people_task` |"
        ));
        assert!(!unmapped.contains("`getFlow`"));
    }
}
