//! An in-memory, Appmixer-compatible HTTP server.
//!
//! It implements every operation of `spec/appmixer.yaml` with Appmixer's
//! semantics (users and tokens, flows, data stores and records, accounts,
//! logs, people tasks, Insights charts, flow authentication) and keeps all
//! state in memory, so each server starts empty. It is the conformance
//! harness's default target and a fake for tests of anything that talks to
//! Appmixer.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let server = appmixer_reference::spawn().await?;
//! println!("serving at {}", server.base_url());
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! [`serve`] runs the same server on a listener of the caller's until a
//! shutdown signal, as the `appmixer-reference` binary does.
//!
//! Each API area is one module. Shared rules live once: `query` (paging,
//! sorting, projection, filters), `document` (objects kept as the JSON text
//! that answers them, as flows are), `errors` (Boom bodies), `extractors`
//! (requests refused with Boom bodies), `state` (one lock per area) and
//! `clock` (timestamps that never repeat). Only the entry points below are
//! public: clients meet the server over HTTP, never through its internals.
//!
//! [`Fault`]s make a deliberately wrong server, to show that a conformance
//! harness catches what it should: `Config::default().with_fault(…)`. They
//! are a separate layer that a server without faults never runs.

#![warn(missing_docs)]

mod accounts;
mod charts;
mod clock;
mod config;
mod document;
mod errors;
mod extractors;
mod faults;
mod flow_auth;
mod flows;
mod ids;
mod logs;
mod payload;
mod people_tasks;
mod query;
mod records;
mod server;
mod state;
mod stores;
mod users;

use std::any::Any;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use config::Config;
pub use faults::{Area, Fault, FaultClass, FaultInfo, UnknownFault, catalogue};
pub use server::{Server, serve, spawn, spawn_with};

use errors::ApiError;
use state::AppState;

/// The server's routes with empty state and `config`, ready to serve.
///
/// The fault middleware is added only when `config.faults` names some, so a
/// correct server never consults it.
pub fn router(config: Config) -> Router {
    let body_limit = config.body_limit;
    let faults = config.faults.clone();
    let state = Arc::new(AppState::new(config));
    let routes = Router::new()
        .merge(users::routes())
        .merge(flows::routes())
        .merge(stores::routes())
        .merge(records::routes())
        .merge(accounts::routes())
        .merge(flow_auth::routes())
        .merge(logs::routes())
        .merge(people_tasks::routes())
        .merge(charts::routes())
        .with_state(state.clone());
    let app = with_protocol(routes, body_limit);
    if faults.is_empty() {
        app
    } else {
        faults::wrap(app, state, &faults)
    }
}

/// Wraps `routes` in what every operation shares: Boom bodies for unknown
/// routes, wrong methods and panics, the body limit, and request spans.
fn with_protocol(routes: Router, body_limit: usize) -> Router {
    routes
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(panic_response))
        // Spans name the method and path only: query strings may carry secrets.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
        }))
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "No operation at `{}`; the API's paths are listed in spec/appmixer.yaml",
            uri.path()
        ),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "`{method}` is not allowed on `{}`; the `Allow` header lists the methods that are",
            uri.path()
        ),
    )
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    tracing::error!(panic = detail, "a handler panicked");
    ApiError::internal().into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    async fn panics() -> &'static str {
        panic!("a handler bug")
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_a_boom_500() {
        let routes = Router::new().route("/panic", get(panics));
        let app = with_protocol(routes, 1024);

        let request = Request::get("/panic").body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();

        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(response.into_body(), 4096).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["statusCode"], 500);
        assert_eq!(body["error"], "Internal Server Error");
        assert_eq!(body["message"], "An internal server error occurred");
    }
}
