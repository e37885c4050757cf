//! Each property fails on a server that breaks it, and names itself.
//!
//! One run goes against the reference router wrapped in middlewares that
//! each break one rule (a count off by one with `pattern`, `offset` ignored
//! past 0, descending sorts ignored, projections ignored, clones answering
//! the original's id, a negative `limit` accepted, text outside the BMP
//! mangled, account filters ignored, malformed JSON parsed anyway, a body's
//! media type ignored), on different operations or
//! parameters so that none hides another; another goes against a reference
//! server with planted faults switched on. Each rule broken must show as a
//! failure of exactly the property it belongs to. The rules share runs
//! because a run is what costs time; each has its own test, reading the
//! shared report.

mod common;

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use serde_json::{Value, json};

use appmixer_conformance::checks::NO_SERVER_ERROR;
use appmixer_conformance::{Options, Report};
use appmixer_reference::{Config, Fault};
use tokio::sync::OnceCell;

async fn run_against(app: axum::Router) -> Report {
    let base = common::serve(app).await;
    let failures = common::scratch_dir("properties");
    let options = Options {
        url: Some(base),
        signup: true,
        cases: 1,
        steps: 3,
        seed: Some(5),
        save_failures: failures.to_path_buf(),
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

/// Parses a malformed JSON body of `createStore` as an object anyway.
async fn accept_malformed_store_bodies(request: Request, next: Next) -> Response {
    if request.method() != Method::POST || request.uri().path() != "/stores" {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.expect("a body");
    let body = match serde_json::from_slice::<Value>(&bytes) {
        Ok(_) => bytes.to_vec(),
        Err(_) => json!({"name": "parsed anyway"}).to_string().into_bytes(),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// Reads a `createFlow` body as JSON whatever its `Content-Type` says.
async fn ignore_flow_content_types(mut request: Request, next: Next) -> Response {
    if request.method() == Method::POST && request.uri().path() == "/flows" {
        request.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
    }
    next.run(request).await
}

/// The run against the reference router with every middleware of this
/// file around it.
static BROKEN_RULES: OnceCell<Report> = OnceCell::const_new();

async fn broken_rules() -> &'static Report {
    BROKEN_RULES
        .get_or_init(|| async {
            let app = common::reference_router()
                .layer(middleware::from_fn(count_one_more_with_pattern))
                .layer(middleware::from_fn(ignore_offsets_past_zero))
                .layer(middleware::from_fn(ignore_descending_sorts))
                .layer(middleware::from_fn(ignore_projections))
                .layer(middleware::from_fn(clone_answers_the_original))
                .layer(middleware::from_fn(accept_negative_limits))
                .layer(middleware::from_fn(mangle_text_outside_the_bmp))
                .layer(middleware::from_fn(ignore_account_filters))
                .layer(middleware::from_fn(accept_malformed_store_bodies))
                .layer(middleware::from_fn(ignore_flow_content_types));
            run_against(app).await
        })
        .await
}

/// The planted faults whose properties the tests below name.
const PLANTED: [Fault; 6] = [
    Fault::CrashOnNonAsciiPattern,
    Fault::CrashOnLongStoreName,
    Fault::DeletedRunningFlowStillListed,
    Fault::SameKeyReadsOtherStore,
    Fault::UnknownChartTypeAccepted,
    Fault::NoAuthComponentsAnswer204,
];

/// The run against a reference server with [`PLANTED`] switched on.
static PLANTED_FAULTS: OnceCell<Report> = OnceCell::const_new();

async fn planted_faults() -> &'static Report {
    PLANTED_FAULTS
        .get_or_init(|| async {
            let config = PLANTED
                .into_iter()
                .fold(Config::default(), Config::with_fault);
            run_against(appmixer_reference::router(config)).await
        })
        .await
}

fn assert_fails_on(report: &Report, property: &str, operation: &str) {
    assert_fails(report, property);
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.expectation == property && f.operation == operation),
        "no {property} failure of {operation} among {:?}",
        report
            .failures
            .iter()
            .map(|f| format!("{} {}", f.operation, f.expectation))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_count_off_by_one_with_pattern_fails_counts_match_list() {
    assert_fails_on(broken_rules().await, "counts.match-list", "getFlowsCount");
}

#[tokio::test]
async fn an_offset_ignored_past_zero_fails_paging_partition() {
    assert_fails_on(broken_rules().await, "paging.partition", "getCharts");
}

#[tokio::test]
async fn descending_sorts_ignored_fail_sort_orders_by_field() {
    assert_fails_on(broken_rules().await, "sort.orders-by-field", "getCharts");
}

#[tokio::test]
async fn ignored_projections_fail_projection_fields() {
    assert_fails_on(broken_rules().await, "projection.fields", "getCharts");
}

#[tokio::test]
async fn a_clone_answering_the_original_id_fails_clone_new_id() {
    assert_fails_on(broken_rules().await, "clone.new-id", "cloneFlow");
}

#[tokio::test]
async fn a_negative_limit_answered_200_fails_invalid_rejected_unchanged() {
    assert_fails_on(
        broken_rules().await,
        "invalid.rejected-unchanged",
        "getFlows",
    );
}

#[tokio::test]
async fn text_outside_the_bmp_mangled_fails_strings_round_trip() {
    assert_fails_on(broken_rules().await, "strings.round-trip", "createChart");
}

#[tokio::test]
async fn an_ignored_filter_fails_selection_exact_match() {
    assert_fails_on(broken_rules().await, "selection.exact-match", "getAccounts");
}

#[tokio::test]
async fn malformed_json_accepted_fails_invalid_rejected_unchanged() {
    let report = broken_rules().await;

    assert!(
        report.failures.iter().any(|f| f.operation == "createStore"
            && f.expectation == "invalid.rejected-unchanged"
            && f.expected.contains("malformed JSON")),
        "{report}"
    );
}

#[tokio::test]
async fn a_body_of_the_wrong_media_type_accepted_fails_invalid_rejected_unchanged() {
    let report = broken_rules().await;

    assert!(
        report.failures.iter().any(|f| f.operation == "createFlow"
            && f.expectation == "invalid.rejected-unchanged"
            && f.expected.contains("sent as `text/plain`")),
        "{report}"
    );
}

#[tokio::test]
async fn a_crash_on_a_valid_pattern_fails_no_server_error_of_the_search() {
    assert_fails_on(planted_faults().await, NO_SERVER_ERROR, "getFlows");
    assert_fails_on(planted_faults().await, NO_SERVER_ERROR, "getFlowsCount");
}

#[tokio::test]
async fn a_crash_on_a_long_store_name_fails_no_server_error_and_notes_the_property_not_exercised() {
    let report = planted_faults().await;

    assert_fails_on(report, NO_SERVER_ERROR, "createStore");
    assert!(
        report.unchecked.iter().any(|u| u.operation == "createStore"
            && u.expectation == "strings.round-trip"
            && u.reason.contains("answered 500")),
        "{report}"
    );
}

#[tokio::test]
async fn a_deleted_running_flow_left_in_the_list_fails_deletion_gone() {
    assert_fails_on(planted_faults().await, "deletion.gone", "deleteFlow");
}

#[tokio::test]
async fn one_key_read_from_the_wrong_store_fails_records_scoped_to_store() {
    assert_fails_on(
        planted_faults().await,
        "records.scoped-to-store",
        "getStoreItem",
    );
}

#[tokio::test]
async fn a_chart_type_outside_the_enum_accepted_fails_invalid_rejected_unchanged() {
    let report = planted_faults().await;

    assert_fails_on(report, "invalid.rejected-unchanged", "createChart");
    assert!(
        report.failures.iter().any(|f| f.operation == "createChart"
            && f.expectation == "invalid.rejected-unchanged"
            && f.expected.contains("not-bar")),
        "{report}"
    );
}

#[tokio::test]
async fn a_204_for_a_flow_without_accounts_fails_status_documented() {
    assert_fails_on(
        planted_faults().await,
        "spec.status-documented",
        "getFlowAuthentication",
    );
}

#[tokio::test]
async fn every_planted_fault_of_the_run_is_reported_by_its_catalogue_property() {
    let report = planted_faults().await;

    for fault in PLANTED {
        assert_fails(report, fault.info().property);
    }
}
