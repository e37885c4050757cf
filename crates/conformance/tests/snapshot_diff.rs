//! A behaviour change shows as a snapshot difference: a server whose
//! `getStore` answers a field under another name differs from the committed
//! transcripts in the stores scenario only, one that serves a list as text
//! differs in that list's scenario, and `appmixer-conformance snapshots`
//! prints the unified diff and exits 1.

mod common;

use std::process::Command;

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use serde_json::Value;

use appmixer_conformance::snapshots;

/// Renames `name` to `title` in the answers of `GET /stores/{storeId}`.
async fn rename_store_name(request: Request, next: Next) -> Response {
    let wanted = request.method() == Method::GET && request.uri().path().starts_with("/stores/");
    let response = next.run(request).await;
    if !wanted || !response.status().is_success() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let bytes = to_bytes(body, usize::MAX).await.unwrap();
    let mut value: Value = serde_json::from_slice(&bytes).unwrap();
    if let Some(name) = value.as_object_mut().and_then(|o| o.remove("name")) {
        value["title"] = name;
    }
    Response::from_parts(parts, Body::from(value.to_string()))
}

/// Serves the answers of `GET /charts` as `text/plain`, the body unchanged.
async fn serve_charts_as_text(request: Request, next: Next) -> Response {
    let wanted = request.method() == Method::GET && request.uri().path() == "/charts";
    let mut response = next.run(request).await;
    if wanted {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    response
}

async fn changed_server() -> String {
    common::serve(common::reference_router().layer(middleware::from_fn(rename_store_name))).await
}

#[tokio::test]
async fn a_renamed_field_differs_in_the_stores_transcript_only() {
    let base = changed_server().await;

    let transcripts = snapshots::record(&common::signup_options(&base))
        .await
        .expect("the transcripts are recorded");
    let differences = snapshots::compare(&snapshots::default_dir(), &transcripts);

    let names: Vec<&str> = differences.iter().map(|d| d.name).collect();
    assert_eq!(names, vec!["stores"]);
    let diff = &differences[0].diff;
    assert!(
        diff.contains("-  \"name\": \"<tag> snapshot store\""),
        "{diff}"
    );
    assert!(
        diff.contains("+  \"title\": \"<tag> snapshot store\""),
        "{diff}"
    );
}

#[tokio::test]
async fn the_snapshots_subcommand_prints_the_diff_and_exits_1() {
    let base = changed_server().await;

    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_appmixer-conformance"))
            .env_remove("APPMIXER_USERNAME")
            .env_remove("APPMIXER_PASSWORD")
            .args(["snapshots", "--url", &base, "--signup"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("+++ stores (this server)"), "{stdout}");
    assert!(stdout.contains("+  \"title\""), "{stdout}");
    assert!(
        stdout.contains("snapshots: 8 of 9 scenarios match"),
        "{stdout}"
    );
}

#[tokio::test]
async fn the_snapshots_subcommand_exits_0_against_the_reference_server() {
    let base = common::serve(common::reference_router()).await;

    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_appmixer-conformance"))
            .env_remove("APPMIXER_USERNAME")
            .env_remove("APPMIXER_PASSWORD")
            .args(["snapshots", "--url", &base, "--signup"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("snapshots: 9 of 9 scenarios match"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_list_served_as_text_differs_in_the_charts_transcript_only() {
    let app = common::reference_router().layer(middleware::from_fn(serve_charts_as_text));
    let base = common::serve(app).await;

    let transcripts = snapshots::record(&common::signup_options(&base))
        .await
        .expect("the transcripts are recorded");
    let differences = snapshots::compare(&snapshots::default_dir(), &transcripts);

    let names: Vec<&str> = differences.iter().map(|d| d.name).collect();
    assert_eq!(names, vec!["charts"]);
    let diff = &differences[0].diff;
    assert!(diff.contains("-→ 200 application/json"), "{diff}");
    assert!(diff.contains("+→ 200 text/plain"), "{diff}");
}
