//! Auth probes against servers that break authentication: one that accepts
//! tokens signed with any key, and one that serves a list without a token.

mod common;

use std::sync::{Arc, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::Value;

use appmixer_conformance::checks::CheckKind;
use appmixer_conformance::{Options, Report};

const SERVER_KEY: &[u8] = b"the reference server's own signing key";

async fn run_against(app: axum::Router) -> Report {
    let base = common::serve(app).await;
    appmixer_conformance::run(Options {
        cases: 1,
        ..common::signup_options(&base)
    })
    .await
    .expect("the run starts")
}

fn auth_failures(report: &Report) -> Vec<(String, String)> {
    report
        .failures
        .iter()
        .filter(|f| f.kind == CheckKind::Auth)
        .map(|f| (f.operation.clone(), f.expectation.clone()))
        .collect()
}

fn operations_needing_a_token() -> Vec<String> {
    let spec = appmixer_spec::Spec::load(&appmixer_spec::default_path()).unwrap();
    spec.operations()
        .iter()
        .filter(|op| op.auth == appmixer_spec::Auth::Required)
        .map(|op| op.id.to_string())
        .collect()
}

/// Re-signs, with the server's key, any well-formed token whose signature
/// the server would refuse: the server then accepts tokens signed with
/// any key at all.
async fn accept_any_signature(mut request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    if let Some(token) = token {
        let key = DecodingKey::from_secret(SERVER_KEY).unwrap();
        let genuine =
            jsonwebtoken::decode::<Value>(&token, &key, &Validation::new(Algorithm::HS256)).is_ok();
        let signed = token.rsplit('.').next().is_some_and(|s| !s.is_empty());
        if !genuine
            && signed
            && let Ok(claims) = jsonwebtoken::dangerous::insecure_decode_claims::<Value>(&token)
        {
            let key = EncodingKey::from_secret(SERVER_KEY).unwrap();
            let resigned =
                jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap();
            request.headers_mut().insert(
                header::AUTHORIZATION,
                HeaderValue::from_str(&format!("Bearer {resigned}")).unwrap(),
            );
        }
    }
    next.run(request).await
}

#[tokio::test]
async fn a_server_accepting_forged_tokens_fails_the_forged_probe_of_every_operation() {
    let config = appmixer_reference::Config::default().with_jwt_secret(SERVER_KEY);
    let app = appmixer_reference::router(config).layer(middleware::from_fn(accept_any_signature));

    let report = run_against(app).await;

    assert_eq!(report.exit_code(), 1, "{report}");
    let failures = auth_failures(&report);
    let mut forged: Vec<String> = failures
        .iter()
        .filter(|(_, expectation)| expectation == "auth.forged-token-is-401")
        .map(|(operation, _)| operation.clone())
        .collect();
    forged.sort();
    forged.dedup();
    let mut expected = operations_needing_a_token();
    expected.sort();
    assert_eq!(forged, expected, "every operation that needs a token");
    assert!(
        failures
            .iter()
            .all(|(_, expectation)| expectation == "auth.forged-token-is-401"),
        "only the forged probes fail: {failures:?}"
    );
}

#[tokio::test]
async fn a_list_served_without_a_token_fails_the_no_token_probe_of_that_operation_only() {
    // Any valid token the server issued serves a request without one.
    let issued: Arc<Mutex<Option<HeaderValue>>> = Arc::default();
    let app = common::reference_router().layer(middleware::from_fn(
        move |mut request: Request, next: Next| {
            let issued = issued.clone();
            async move {
                let path = request.uri().path().to_string();
                let anonymous_charts = request.method() == Method::GET
                    && path == "/charts"
                    && !request.headers().contains_key(header::AUTHORIZATION);
                if anonymous_charts && let Some(token) = issued.lock().unwrap().clone() {
                    request.headers_mut().insert(header::AUTHORIZATION, token);
                }
                let signs_in = request.method() == Method::POST && path.starts_with("/user");
                let response = next.run(request).await;
                if !signs_in || !response.status().is_success() {
                    return response;
                }
                let (mut parts, body) = response.into_parts();
                parts.headers.remove(header::CONTENT_LENGTH);
                let bytes = to_bytes(body, usize::MAX).await.unwrap();
                let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                if let Some(token) = value["token"].as_str() {
                    *issued.lock().unwrap() =
                        HeaderValue::from_str(&format!("Bearer {token}")).ok();
                }
                Response::from_parts(parts, Body::from(bytes))
            }
        },
    ));

    let report = run_against(app).await;

    assert_eq!(report.exit_code(), 1, "{report}");
    assert_eq!(
        auth_failures(&report),
        vec![("getCharts".to_string(), "auth.no-token-is-401".to_string())]
    );
    let row = report.row("getFlows").unwrap();
    assert_eq!(
        row.tally(CheckKind::Auth).total,
        3,
        "getFlows got all three probes"
    );
    assert!(row.tally(CheckKind::Auth).all_passed());
}
