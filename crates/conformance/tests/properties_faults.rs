//! Each property fails on a server that breaks it, and names itself.
//!
//! The tests wrap the reference router in a middleware that breaks one rule
//! (a count off by one with `pattern`, `offset` ignored past 0, descending
//! sorts ignored, projections ignored, clones answering the original's id,
//! a negative `limit` accepted, text outside the BMP mangled) and expect a
//! failure of exactly the property that rule belongs to.

mod common;

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use serde_json::{Value, json};

use appmixer_conformance::{Options, Report};

async fn run_against(app: axum::Router) -> Report {
    let base = common::serve(app).await;
    let options = Options {
        url: Some(base),
        signup: true,
        cases: 1,
        steps: 3,
        seed: Some(5),
        save_failures: common::scratch_dir("properties"),
        ..Options::default()
    };
    appmixer_conformance::run(options)
        .await
        .expect("the run starts")
}

fn assert_fails(report: &Report, property: &str) {
    assert_eq!(report.exit_code(), 1);
    assert!(
        report.failures.iter().any(|f| f.expectation == property),
        "no {property} failure among {:?}",
        report
            .failures
            .iter()
            .map(|f| format!("{} {}", f.operation, f.expectation))
            .collect::<Vec<_>>()
    );
}

/// `request` with its query pairs passed through `change`.
fn rewrite_query(
    mut request: Request,
    change: impl Fn(Vec<(String, String)>) -> Vec<(String, String)>,
) -> Request {
    let uri = request.uri().clone();
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(change(pairs))
        .finish();
    let path_and_query = if query.is_empty() {
        uri.path().to_string()
    } else {
        format!("{}?{query}", uri.path())
    };
    *request.uri_mut() = Uri::builder()
        .path_and_query(path_and_query)
        .build()
        .expect("a valid URI");
    request
}

async fn json_of(response: Response) -> (axum::http::response::Parts, Value) {
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let bytes = to_bytes(body, usize::MAX).await.expect("a body");
    (parts, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn respond(parts: axum::http::response::Parts, value: &Value) -> Response {
    Response::from_parts(parts, Body::from(value.to_string()))
}

async fn count_one_more_with_pattern(request: Request, next: Next) -> Response {
    let wanted = request.uri().path() == "/flows/count"
        && request
            .uri()
            .query()
            .is_some_and(|q| q.contains("pattern="));
    let response = next.run(request).await;
    if !wanted || response.status() != StatusCode::OK {
        return response;
    }
    let (parts, value) = json_of(response).await;
    respond(
        parts,
        &json!({"count": value["count"].as_u64().unwrap_or(0) + 1}),
    )
}

async fn ignore_offsets_past_zero(request: Request, next: Next) -> Response {
    let request = if request.uri().path() == "/charts" {
        rewrite_query(request, |pairs| {
            pairs
                .into_iter()
                .filter(|(k, v)| !(k == "offset" && v != "0"))
                .collect()
        })
    } else {
        request
    };
    next.run(request).await
}

async fn ignore_descending_sorts(request: Request, next: Next) -> Response {
    let request = if request.uri().path() == "/charts" {
        rewrite_query(request, |pairs| {
            pairs
                .into_iter()
                .filter(|(k, v)| !(k == "sort" && v.ends_with(":-1")))
                .collect()
        })
    } else {
        request
    };
    next.run(request).await
}

async fn ignore_projections(request: Request, next: Next) -> Response {
    let request = if request.uri().path() == "/charts" {
        rewrite_query(request, |pairs| {
            pairs
                .into_iter()
                .filter(|(k, _)| k != "projection")
                .collect()
        })
    } else {
        request
    };
    next.run(request).await
}

async fn clone_answers_the_original(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let wanted = request.method() == Method::POST && path.ends_with("/clone");
    let response = next.run(request).await;
    if !wanted || response.status() != StatusCode::OK {
        return response;
    }
    let original = path
        .trim_start_matches("/flows/")
        .trim_end_matches("/clone");
    let (parts, _) = json_of(response).await;
    respond(parts, &json!({"cloneId": original}))
}

async fn accept_negative_limits(request: Request, next: Next) -> Response {
    let request = if request.uri().path() == "/flows" {
        rewrite_query(request, |pairs| {
            pairs
                .into_iter()
                .filter(|(k, v)| !(k == "limit" && v.starts_with('-')))
                .collect()
        })
    } else {
        request
    };
    next.run(request).await
}

async fn mangle_text_outside_the_bmp(request: Request, next: Next) -> Response {
    if request.method() != Method::POST || request.uri().path() != "/charts" {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.expect("a body");
    let text: String = String::from_utf8_lossy(&bytes)
        .chars()
        .map(|c| if u32::from(c) > 0xFFFF { '?' } else { c })
        .collect();
    next.run(Request::from_parts(parts, Body::from(text))).await
}

#[tokio::test]
async fn a_count_off_by_one_with_pattern_fails_counts_match_list() {
    let app = common::reference_router().layer(middleware::from_fn(count_one_more_with_pattern));

    assert_fails(&run_against(app).await, "counts.match-list");
}

#[tokio::test]
async fn an_offset_ignored_past_zero_fails_paging_partition() {
    let app = common::reference_router().layer(middleware::from_fn(ignore_offsets_past_zero));

    assert_fails(&run_against(app).await, "paging.partition");
}

#[tokio::test]
async fn descending_sorts_ignored_fail_sort_orders_by_field() {
    let app = common::reference_router().layer(middleware::from_fn(ignore_descending_sorts));

    assert_fails(&run_against(app).await, "sort.orders-by-field");
}

#[tokio::test]
async fn ignored_projections_fail_projection_fields() {
    let app = common::reference_router().layer(middleware::from_fn(ignore_projections));

    assert_fails(&run_against(app).await, "projection.fields");
}

#[tokio::test]
async fn a_clone_answering_the_original_id_fails_clone_new_id() {
    let app = common::reference_router().layer(middleware::from_fn(clone_answers_the_original));

    assert_fails(&run_against(app).await, "clone.new-id");
}

#[tokio::test]
async fn a_negative_limit_answered_200_fails_invalid_rejected_unchanged() {
    let app = common::reference_router().layer(middleware::from_fn(accept_negative_limits));

    assert_fails(&run_against(app).await, "invalid.rejected-unchanged");
}

#[tokio::test]
async fn text_outside_the_bmp_mangled_fails_strings_round_trip() {
    let app = common::reference_router().layer(middleware::from_fn(mangle_text_outside_the_bmp));

    assert_fails(&run_against(app).await, "strings.round-trip");
}

async fn ignore_account_filters(request: Request, next: Next) -> Response {
    let request = if request.uri().path() == "/accounts" {
        rewrite_query(request, |pairs| {
            pairs.into_iter().filter(|(k, _)| k != "filter").collect()
        })
    } else {
        request
    };
    next.run(request).await
}

#[tokio::test]
async fn an_ignored_filter_fails_selection_exact_match() {
    let app = common::reference_router().layer(middleware::from_fn(ignore_account_filters));

    assert_fails(&run_against(app).await, "selection.exact-match");
}
