//! Servers that break one thing are caught, and the failure names the
//! operation and the check that broke.
//!
//! Each test wraps the reference router in a small middleware that spoils
//! one kind of answer, runs the harness against it by URL, and expects exit
//! status 1 with a failure of exactly that operation and check.

mod common;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use serde_json::{Value, json};

use appmixer_conformance::Report;
use appmixer_conformance::checks::CheckKind;

/// Whether `path` is `/flows/{flowId}` (and not `/flows/count`).
fn is_one_flow(path: &str) -> bool {
    path.strip_prefix("/flows/")
        .is_some_and(|rest| !rest.is_empty() && !rest.contains('/') && rest != "count")
}

async fn body_of(response: Response) -> (axum::http::response::Parts, Bytes) {
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let bytes = to_bytes(body, usize::MAX)
        .await
        .expect("the body is readable");
    (parts, bytes)
}

fn json_response(mut parts: axum::http::response::Parts, value: &Value) -> Response {
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(value.to_string()))
}

async fn drop_flow_id_from_get_flow(request: Request, next: Next) -> Response {
    let wanted = request.method() == Method::GET && is_one_flow(request.uri().path());
    let response = next.run(request).await;
    if !wanted || response.status() != StatusCode::OK {
        return response;
    }
    let (parts, bytes) = body_of(response).await;
    let mut value: Value = serde_json::from_slice(&bytes).expect("a JSON flow");
    value
        .as_object_mut()
        .expect("a flow object")
        .remove("flowId");
    json_response(parts, &value)
}

async fn answer_deleted_flows_with_200(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let wanted = request.method() == Method::GET && is_one_flow(&path);
    let response = next.run(request).await;
    if !wanted || response.status() != StatusCode::NOT_FOUND {
        return response;
    }
    let (mut parts, _) = body_of(response).await;
    parts.status = StatusCode::OK;
    let flow_id = path.trim_start_matches("/flows/");
    json_response(
        parts,
        &json!({"flowId": flow_id, "name": "ghost", "stage": "stopped"}),
    )
}

async fn serve_stores_as_html(request: Request, next: Next) -> Response {
    let wanted = request.method() == Method::GET && request.uri().path() == "/stores";
    let mut response = next.run(request).await;
    if wanted {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
    }
    response
}

async fn count_one_record_too_many(request: Request, next: Next) -> Response {
    let wanted = request.method() == Method::GET && request.uri().path() == "/store/count";
    let response = next.run(request).await;
    if !wanted || response.status() != StatusCode::OK {
        return response;
    }
    let (parts, bytes) = body_of(response).await;
    let value: Value = serde_json::from_slice(&bytes).expect("a JSON count");
    let count = value["count"].as_u64().expect("a count") + 1;
    json_response(parts, &json!({"count": count}))
}

async fn run_against(app: axum::Router) -> Report {
    let base = common::serve(app).await;
    appmixer_conformance::run(common::signup_options(&base))
        .await
        .expect("the run starts")
}

fn failures(report: &Report) -> Vec<(String, CheckKind, String)> {
    report
        .failures
        .iter()
        .map(|f| (f.operation.clone(), f.kind, f.expectation.clone()))
        .collect()
}

#[tokio::test]
async fn a_get_flow_without_flow_id_fails_get_flow_schema_and_nothing_else() {
    let app = common::reference_router().layer(middleware::from_fn(drop_flow_id_from_get_flow));

    let report = run_against(app).await;

    assert_eq!(report.exit_code(), 1);
    assert!(
        report
            .failures_of("getFlow", CheckKind::Schema)
            .next()
            .is_some(),
        "{report}"
    );
    assert!(
        report
            .failures_of("getFlow", CheckKind::Semantics)
            .any(|f| f.expectation == "flows.get-answers-id"),
        "{report}"
    );
    assert!(
        report.failures.iter().all(|f| f.operation == "getFlow"),
        "failures beyond getFlow: {:?}",
        failures(&report)
    );
}

#[tokio::test]
async fn a_deleted_flow_that_still_answers_200_fails_get_after_delete() {
    let app = common::reference_router().layer(middleware::from_fn(answer_deleted_flows_with_200));

    let report = run_against(app).await;

    assert_eq!(report.exit_code(), 1);
    let failure = report
        .failures_of("getFlow", CheckKind::Semantics)
        .find(|f| f.expectation == "flows.get-after-delete-is-404")
        .unwrap_or_else(|| panic!("no get-after-delete failure: {:?}", failures(&report)));
    assert_eq!(failure.expected, "status 404");
    assert_eq!(failure.actual, "status 200");
    let exchange = failure
        .exchange
        .as_ref()
        .expect("the failure keeps its exchange");
    assert_eq!(exchange.method, "GET");
    assert!(exchange.url.contains("/flows/"), "{}", exchange.url);
    // The broken read shows on `getFlow`; the deletion property names the delete whose
    // effect did not stick. Nothing else may be blamed.
    assert!(
        report.failures.iter().all(|f| f.operation == "getFlow"
            || (f.operation == "deleteFlow" && f.expectation == "deletion.gone")),
        "failures beyond getFlow and deleteFlow's deletion.gone: {:?}",
        failures(&report)
    );
}

#[tokio::test]
async fn stores_served_as_html_fail_get_stores_content_type() {
    let app = common::reference_router().layer(middleware::from_fn(serve_stores_as_html));

    let report = run_against(app).await;

    assert_eq!(report.exit_code(), 1);
    let failure = report
        .failures_of("getStores", CheckKind::ContentType)
        .next()
        .unwrap_or_else(|| panic!("no content-type failure: {:?}", failures(&report)));
    assert!(failure.actual.contains("text/html"), "{}", failure.actual);
    assert!(
        report
            .failures
            .iter()
            .all(|f| f.operation == "getStores" && f.kind == CheckKind::ContentType),
        "other failures: {:?}",
        failures(&report)
    );
    let printed = report.to_string();
    assert!(
        printed.contains("getStores · content-type · spec.content-type-documented"),
        "{printed}"
    );
}

#[tokio::test]
async fn a_record_count_off_by_one_fails_count_matches_list_and_blames_the_count_alone() {
    let app = common::reference_router().layer(middleware::from_fn(count_one_record_too_many));

    let report = run_against(app).await;

    assert_eq!(report.exit_code(), 1);
    assert!(
        report
            .failures_of("getStoreRecordsCount", CheckKind::Semantics)
            .any(|f| f.expectation == "records.count-matches-list"),
        "{:?}",
        failures(&report)
    );
    // The writes behaved; only the count was wrong.
    assert!(
        report
            .failures
            .iter()
            .all(|f| f.operation == "getStoreRecordsCount"),
        "failures blamed on other operations: {:?}",
        failures(&report)
    );
    let printed = report.to_string();
    assert!(!printed.contains("Some("), "{printed}");
    assert!(printed.contains("actual:   count 3"), "{printed}");
}

async fn refuse_charts_with_404(request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/charts") {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"statusCode": 404, "error": "Not Found", "message": "Not Found"})
                    .to_string(),
            ))
            .expect("a 404 response");
    }
    next.run(request).await
}

/// Whether `request` is the flows scenario's customFields filter.
fn is_run_filter(request: &Request) -> bool {
    request.method() == Method::GET
        && request.uri().path() == "/flows"
        && request
            .uri()
            .query()
            .is_some_and(|query| query.contains("conformanceRun"))
}

/// Spoils the answers to the run's customFields filter with `spoil`.
async fn spoil_run_filter(request: Request, next: Next, spoil: fn(&mut Vec<Value>)) -> Response {
    let wanted = is_run_filter(&request);
    let response = next.run(request).await;
    if !wanted || response.status() != StatusCode::OK {
        return response;
    }
    let (parts, bytes) = body_of(response).await;
    let mut value: Value = serde_json::from_slice(&bytes).expect("a JSON list");
    spoil(value.as_array_mut().expect("a list of flows"));
    json_response(parts, &value)
}

fn add_a_flow(flows: &mut Vec<Value>) {
    let mut extra = flows.first().cloned().unwrap_or_else(|| json!({}));
    extra["flowId"] = json!("5f0c0ffee0000000000000e1");
    flows.push(extra);
}

fn drop_a_flow(flows: &mut Vec<Value>) {
    flows.pop();
}

#[tokio::test]
async fn charts_answering_404_leave_the_flow_filter_unblamed() {
    let app = common::reference_router().layer(middleware::from_fn(refuse_charts_with_404));
    let base = common::serve(app).await;

    let report = appmixer_conformance::run(appmixer_conformance::Options {
        seed: Some(4414354029605880082),
        ..common::signup_options(&base)
    })
    .await
    .expect("the run starts");

    assert!(
        report.failures.iter().any(|f| f.operation == "createChart"),
        "the charts are blamed: {:?}",
        failures(&report)
    );
    assert!(
        report
            .failures
            .iter()
            .all(|f| f.expectation != "flows.filter-finds-exactly-matching"
                && f.operation != "getFlows"),
        "the flow listing is blamed: {:?}",
        failures(&report)
    );
}

#[tokio::test]
async fn a_flow_filter_with_an_extra_or_a_missing_flow_fails_filter_finds_exactly_matching() {
    for spoil in [add_a_flow as fn(&mut Vec<Value>), drop_a_flow] {
        let app = common::reference_router().layer(middleware::from_fn(
            move |request: Request, next: Next| spoil_run_filter(request, next, spoil),
        ));

        let report = run_against(app).await;

        assert_eq!(report.exit_code(), 1, "{report}");
        assert!(
            report
                .failures_of("getFlows", CheckKind::Semantics)
                .any(|f| f.expectation == "flows.filter-finds-exactly-matching"),
            "{:?}",
            failures(&report)
        );
    }
}
