//! The Appmixer OpenAPI description, `spec/appmixer.yaml`, as data.
//!
//! Three kinds of users load the spec through this crate: the client's build
//! script (which only needs [`Spec`] and the lints, and so compiles without
//! optional features), the `xtask` that derives documentation from the spec,
//! and the conformance harness, which enables the `validate` feature to check
//! live responses against the spec's schemas.
//!
//! [`Spec`] holds the typed [`openapiv3::OpenAPI`] model next to the raw
//! document; [`Operation`] presents one operation with its references
//! resolved; [`lint`] finds what would break code generation or the mapping to
//! the SDK's 37 methods ([`SDK_METHODS`]); `schema` (feature `validate`)
//! validates JSON values and HTTP answers against the spec.

mod error;
pub mod lint;
mod model;
mod operation;
pub mod pointer;
mod problem;
#[cfg(feature = "validate")]
pub mod schema;
mod spec;
mod syntax;

use std::path::PathBuf;

pub use error::{SpecError, SyntaxFormat};
pub use operation::{Auth, MediaSchema, Operation, RequestBody, Response, ResponseStatus};
pub use problem::Problem;
pub use spec::Spec;

/// The 37 methods of the SDK's `appmixer.api`, in the order of the SDK reference.
pub const SDK_METHODS: [&str; 37] = [
    "authenticateUser",
    "signupUser",
    "createFlow",
    "deleteFlow",
    "getFlow",
    "getFlows",
    "getFlowsCount",
    "updateFlow",
    "startFlow",
    "stopFlow",
    "cloneFlow",
    "getUser",
    "getStores",
    "getStore",
    "getStoreRecordsCount",
    "getStoreRecords",
    "createStore",
    "deleteStore",
    "renameStore",
    "createStoreItem",
    "deleteStoreItems",
    "createAccount",
    "getAccounts",
    "getComponentAccounts",
    "getAccountFlows",
    "setAccountName",
    "getLogs",
    "getLog",
    "getPeopleTasks",
    "getPeopleTasksCount",
    "getPeopleTask",
    "approveTask",
    "rejectTask",
    "getCharts",
    "getChart",
    "deleteChart",
    "getFlowAuthentication",
];

/// Whether `name` is one of the [`SDK_METHODS`].
pub fn is_sdk_method(name: &str) -> bool {
    SDK_METHODS.contains(&name)
}

/// The text of the workspace's `spec/appmixer.yaml` as it was when this
/// crate was built. A binary built with it carries its spec wherever it is
/// installed; [`default_path`] names a file of the build machine.
pub const EMBEDDED_SPEC: &str = include_str!("../../../spec/appmixer.yaml");

/// Absolute path of `spec/appmixer.yaml` in this workspace.
pub fn default_path() -> PathBuf {
    workspace_root().join("spec").join("appmixer.yaml")
}

/// Absolute path of the workspace root, the directory that holds `spec/`.
pub fn workspace_root() -> PathBuf {
    // This crate lives at `crates/spec`, two levels below the root.
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .and_then(|crates| crates.parent())
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}
