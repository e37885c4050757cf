//! A server that gets one thing wrong on every answer of a kind is
//! reported once per departure, with a count and the first exchange, in
//! the text, JSON and JUnit forms alike; each failure names the number of
//! the request that showed it.

mod common;

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use serde_json::Value;

use appmixer_conformance::Report;
use appmixer_conformance::checks::CheckKind;
use appmixer_conformance::report::{json, junit};

/// Whether `path` is `/flows/{flowId}` (and not `/flows/count`).
fn is_one_flow(path: &str) -> bool {
    path.strip_prefix("/flows/")
        .is_some_and(|rest| !rest.is_empty() && !rest.contains('/') && rest != "count")
}

/// Every flow read by id comes without its `flowId`.
async fn drop_flow_id_from_get_flow(request: Request, next: Next) -> Response {
    let wanted = request.method() == Method::GET && is_one_flow(request.uri().path());
    let response = next.run(request).await;
    if !wanted || response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let bytes = to_bytes(body, usize::MAX).await.expect("a readable body");
    let mut value: Value = serde_json::from_slice(&bytes).expect("a JSON flow");
    value
        .as_object_mut()
        .expect("a flow object")
        .remove("flowId");
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(value.to_string()))
}

async fn run_against_a_server_without_flow_ids() -> Report {
    let app = common::reference_router().layer(middleware::from_fn(drop_flow_id_from_get_flow));
    let base = common::serve(app).await;
    appmixer_conformance::run(common::signup_options(&base))
        .await
        .expect("the run starts")
}

#[tokio::test]
async fn one_departure_seen_many_times_is_listed_once_with_its_count() {
    let report = run_against_a_server_without_flow_ids().await;
    let schema_failures = report.failures_of("getFlow", CheckKind::Schema).count();
    assert!(schema_failures > 1, "the departure repeats:\n{report}");

    let value = json::to_value(&report, false);
    let listed = value["failures"].as_array().expect("a failures array");
    let schema: Vec<&Value> = listed
        .iter()
        .filter(|f| f["operation"] == "getFlow" && f["property"] == "schema")
        .collect();
    let text = report.to_string();
    let xml = junit::render(&report);

    assert_eq!(schema.len(), 1, "{listed:#?}");
    assert_eq!(schema[0]["count"], schema_failures, "{:#?}", schema[0]);
    assert!(
        schema[0]["exchange"].is_object(),
        "the first exchange is kept"
    );
    assert!(listed.iter().all(|f| f["count"].as_u64() >= Some(1)));
    let counted: u64 = listed.iter().filter_map(|f| f["count"].as_u64()).sum();
    assert_eq!(counted, report.failures.len() as u64);
    assert!(
        text.contains(&format!(
            "getFlow · schema · spec.body-matches-schema ×{schema_failures}"
        )),
        "{text}"
    );
    assert_eq!(
        text.matches("getFlow · schema · spec.body-matches-schema")
            .count(),
        1,
        "{text}"
    );
    assert!(
        xml.contains(&format!("spec.body-matches-schema (×{schema_failures})")),
        "{xml}"
    );
}

#[tokio::test]
async fn a_failure_names_the_number_of_the_request_that_showed_it() {
    let report = run_against_a_server_without_flow_ids().await;

    let value = json::to_value(&report, false);
    let with_timings = json::to_value(&report, true);
    let total = value["requests"]["total"]
        .as_u64()
        .expect("a request total");
    let first = value["failures"]
        .as_array()
        .and_then(|failures| failures.iter().find(|f| f["exchange"].is_object()))
        .expect("a failure with its exchange");
    let number = first["request"].as_u64().expect("the request number");
    let text = report.to_string();

    assert!(number >= 1 && number <= total, "{number} of {total}");
    assert!(
        first.get("elapsed_s").is_none(),
        "no time without --timings"
    );
    let timed = with_timings["failures"]
        .as_array()
        .and_then(|failures| failures.iter().find(|f| f["exchange"].is_object()))
        .expect("a failure with its exchange");
    assert!(timed["elapsed_s"].as_f64().is_some(), "{timed:#}");
    assert!(text.contains(&format!("at request {number}")), "{text}");
}
