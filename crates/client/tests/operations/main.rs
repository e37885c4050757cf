//! Every operation of the spec against a mock engine.
//!
//! Each domain module lists one minimal call per operation ([`Call`]); the
//! tests here run the list to check what holds for every operation alike
//! (method and path, the token, Boom errors, no `api-version` header, that no
//! operation of the spec is missing), and the modules check what is particular
//! to each: query and body encoding, path escaping, the decoded answer.

#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod charts;
mod flows;
mod logs;
mod people_tasks;
mod records;
mod stores;
mod users;

use std::collections::BTreeSet;

use appmixer_client::{ApiError, ApiErrorExt, Client};
use futures::future::BoxFuture;

/// One operation called with minimal arguments, and the request it makes.
pub struct Call {
    /// The spec's `operationId`.
    pub operation: &'static str,
    /// The HTTP method, as httpmock names it (`GET`, `POST` …).
    pub method: &'static str,
    /// The path as it must arrive, percent-encoding included.
    pub path: &'static str,
    /// Whether the spec says `security: []`, so no token may be sent.
    pub public: bool,
    /// Makes the call on a client; the answer itself is dropped.
    pub send: for<'a> fn(&'a Client) -> BoxFuture<'a, Result<(), ApiError>>,
}

/// Builds a [`Call`] from a builder expression over the client `$c`.
#[macro_export]
macro_rules! call {
    ($operation:literal, $method:ident $path:literal, |$c:ident| $builder:expr) => {
        $crate::call!(@make $operation, $method $path, false, |$c| $builder)
    };
    (public $operation:literal, $method:ident $path:literal, |$c:ident| $builder:expr) => {
        $crate::call!(@make $operation, $method $path, true, |$c| $builder)
    };
    (@make $operation:literal, $method:ident $path:literal, $public:expr, |$c:ident| $builder:expr) => {{
        fn send(
            $c: &appmixer_client::Client,
        ) -> futures::future::BoxFuture<'_, Result<(), appmixer_client::ApiError>> {
            Box::pin(async move { $builder.send().await.map(|_| ()) })
        }
        $crate::Call {
            operation: $operation,
            method: stringify!($method),
            path: $path,
            public: $public,
            send,
        }
    }};
}

fn every_call() -> Vec<Call> {
    [
        users::calls(),
        flows::calls(),
        stores::calls(),
        records::calls(),
        accounts::calls(),
        logs::calls(),
        people_tasks::calls(),
        charts::calls(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[test]
fn every_spec_operation_is_called() {
    let spec = appmixer_spec::Spec::load(&appmixer_spec::default_path()).expect("the spec loads");
    let in_spec: BTreeSet<String> = spec
        .openapi()
        .operations()
        .filter_map(|(_, _, operation)| operation.operation_id.clone())
        .collect();

    let called: BTreeSet<String> = every_call()
        .iter()
        .map(|call| call.operation.to_owned())
        .collect();

    assert_eq!(called, in_spec);
}

#[test]
fn calls_are_public_exactly_where_the_spec_says_security_is_empty() {
    let spec = appmixer_spec::Spec::load(&appmixer_spec::default_path()).expect("the spec loads");
    let public_in_spec: BTreeSet<String> = spec
        .openapi()
        .operations()
        .filter(|(_, _, operation)| operation.security.as_ref().is_some_and(Vec::is_empty))
        .filter_map(|(_, _, operation)| operation.operation_id.clone())
        .collect();

    let public_calls: BTreeSet<String> = every_call()
        .iter()
        .filter(|call| call.public)
        .map(|call| call.operation.to_owned())
        .collect();

    assert_eq!(public_calls, public_in_spec);
}

/// Sends every call to a mock that answers `status` with a Boom body only if
/// the method, the path and the headers are right, and checks that the Boom
/// body comes back decoded.
async fn every_call_decodes_boom(status: u16, reason: &str) {
    let server = common::engine().await;
    let client = common::client(&server);

    for call in every_call() {
        let message = format!("{} refused", call.operation);
        let mock = server
            .mock_async(|when, then| {
                let when = when
                    .method(call.method)
                    .path(call.path)
                    .header_missing("api-version");
                if call.public {
                    when.header_missing("authorization");
                } else {
                    when.header("authorization", common::bearer());
                }
                then.status(status)
                    .json_body(common::boom(status, reason, &message));
            })
            .await;

        let error = (call.send)(&client)
            .await
            .expect_err("the mock answers with an error");

        assert_eq!(mock.calls_async().await, 1, "{}", call.operation);
        assert_eq!(
            error.status().map(|s| s.as_u16()),
            Some(status),
            "{}",
            call.operation
        );
        assert_eq!(
            error.message(),
            Some(message.as_str()),
            "{}",
            call.operation
        );
        let boom = error.boom().expect("a Boom body");
        assert_eq!(boom.error, reason, "{}", call.operation);
        mock.delete_async().await;
    }
}

#[tokio::test]
async fn every_operation_decodes_a_4xx_boom_error() {
    every_call_decodes_boom(404, "Not Found").await;
}

#[tokio::test]
async fn every_operation_decodes_a_5xx_boom_error() {
    every_call_decodes_boom(500, "Internal Server Error").await;
}

#[tokio::test]
async fn a_client_without_a_token_sends_no_authorization() {
    let server = common::engine().await;
    let client = common::anonymous(&server);

    for call in every_call() {
        let mock = server
            .mock_async(|when, then| {
                when.method(call.method)
                    .path(call.path)
                    .header_missing("authorization");
                then.status(401).json_body(common::boom(
                    401,
                    "Unauthorized",
                    "Missing authentication",
                ));
            })
            .await;

        let error = (call.send)(&client)
            .await
            .expect_err("the mock answers 401");

        assert_eq!(mock.calls_async().await, 1, "{}", call.operation);
        assert!(error.is_unauthorized(), "{}", call.operation);
        mock.delete_async().await;
    }
}
