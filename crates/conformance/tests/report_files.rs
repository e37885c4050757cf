//! Report files that cannot be written: refused before the first request
//! when the path is wrong from the start, and when writing fails at the
//! end anyway, the other reports are still written and the run keeps its
//! own exit status.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::extract::Request;
use axum::middleware::{self, Next};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_appmixer-conformance"));
    for variable in [
        "APPMIXER_URL",
        "APPMIXER_USERNAME",
        "APPMIXER_PASSWORD",
        "APPMIXER_TOKEN",
        "APPMIXER_USERNAME_B",
        "APPMIXER_PASSWORD_B",
    ] {
        command.env_remove(variable);
    }
    command
}

/// A reference server that counts the requests it receives and, at the
/// first, runs `on_first`.
async fn counting_server(
    on_first: impl Fn() + Clone + Send + Sync + 'static,
) -> (String, Arc<AtomicU32>) {
    let received = Arc::new(AtomicU32::new(0));
    let counter = received.clone();
    let app = common::reference_router().layer(middleware::from_fn(
        move |request: Request, next: Next| {
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                on_first();
            }
            next.run(request)
        },
    ));
    (common::serve(app).await, received)
}

async fn run_binary(base: &str, args: &[&str]) -> Output {
    let mut command = binary();
    command
        .args(["--url", base, "--signup", "--cases", "1"])
        .args(args);
    tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("the binary runs")
}

#[tokio::test]
async fn a_report_path_that_is_a_directory_is_refused_before_any_request() {
    let (base, received) = counting_server(|| {}).await;
    let dir = common::scratch_dir("report-dir");
    let failures = dir.join("failures");
    let failures = failures.to_str().unwrap();

    let output = run_binary(
        &base,
        &[
            "--report",
            &format!("json={}", dir.display()),
            "--save-failures",
            failures,
        ],
    )
    .await;

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is a directory"), "{stderr}");
    assert!(stderr.contains(&dir.display().to_string()), "{stderr}");
    assert_eq!(received.load(Ordering::SeqCst), 0, "no request was sent");
}

#[tokio::test]
async fn a_report_in_a_missing_directory_is_refused_before_any_request() {
    let (base, received) = counting_server(|| {}).await;
    let dir = common::scratch_dir("report-missing");
    let path = dir.join("no-such-dir/report.xml");
    let failures = dir.join("failures");

    let output = run_binary(
        &base,
        &[
            "--report",
            &format!("junit={}", path.display()),
            "--save-failures",
            failures.to_str().unwrap(),
        ],
    )
    .await;

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(stderr.contains("no-such-dir"), "{stderr}");
    assert_eq!(received.load(Ordering::SeqCst), 0, "no request was sent");
}

#[tokio::test]
async fn a_failures_directory_under_a_file_is_refused_before_any_request() {
    let (base, received) = counting_server(|| {}).await;
    let dir = common::scratch_dir("failures-under-file");
    let plain = dir.join("plain");
    std::fs::write(&plain, "not a directory").unwrap();
    let failures = plain.join("failures");

    let output = run_binary(&base, &["--save-failures", failures.to_str().unwrap()]).await;

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--save-failures"), "{stderr}");
    assert!(stderr.contains(&plain.display().to_string()), "{stderr}");
    assert_eq!(received.load(Ordering::SeqCst), 0, "no request was sent");
}

#[tokio::test]
async fn a_report_that_cannot_be_written_at_the_end_keeps_the_runs_exit_status_and_the_other_reports()
 {
    // The directory of the JSON report disappears once the run has begun;
    // the run is stopped by its request budget, which is exit 4.
    let dir = common::scratch_dir("report-vanishes");
    let doomed = dir.join("doomed");
    std::fs::create_dir_all(&doomed).unwrap();
    let json = doomed.join("report.json");
    let junit = dir.join("report.xml");
    let failures = dir.join("failures");
    let removed = doomed.clone();
    let (base, _) = counting_server(move || {
        let _ = std::fs::remove_dir_all(&removed);
    })
    .await;

    let output = run_binary(
        &base,
        &[
            "--max-requests",
            "40",
            "--report",
            &format!("json={}", json.display()),
            "--report",
            &format!("junit={}", junit.display()),
            "--save-failures",
            failures.to_str().unwrap(),
        ],
    )
    .await;

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains(&json.display().to_string()), "{stderr}");
    assert!(!Path::new(&json).exists());
    let written = std::fs::read_to_string(&junit).expect("the JUnit report is written");
    assert!(written.contains("<testsuites"), "{written}");
}
