//! `--record FILE`: every exchange of a run, one JSON line each, with no
//! password or token in it.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Runs the harness (smoke profile) against a reference server with
/// `--record record`.
async fn recorded_run(name: &str, record: &Path) -> Output {
    let base = common::serve(common::reference_router()).await;
    let dir = common::scratch_dir(name);
    let mut command = Command::new(env!("CARGO_BIN_EXE_appmixer-conformance"));
    command
        .args([
            "--url",
            &base,
            "--signup",
            "--profile",
            "smoke",
            "--cases",
            "1",
        ])
        .args(["--save-failures", dir.join("failures").to_str().unwrap()])
        .arg("--record")
        .arg(record)
        .env_remove("APPMIXER_TOKEN");
    tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("the binary runs")
}

#[tokio::test]
async fn a_recorded_run_holds_every_request_and_no_secret() {
    let dir = common::scratch_dir("recording");
    let file = dir.join("run.jsonl");

    let output = recorded_run("recording-run", &file).await;

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let sent: usize = stdout
        .lines()
        .find_map(|line| {
            line.strip_suffix(" requests")?
                .rsplit(", ")
                .next()?
                .parse()
                .ok()
        })
        .expect("the verdict line counts the requests");
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), sent);
    assert!(
        lines
            .iter()
            .all(|line| line["status"].is_u64() && line["target"].is_string())
    );
    // The reference server's tokens are JWTs, which all start alike.
    assert!(!text.contains("eyJ"), "a token reached the recording");
    let signup = &lines[0];
    assert_eq!(signup["target"], "/user");
    let body: Value = serde_json::from_str(signup["body"].as_str().unwrap()).unwrap();
    assert!(body["password"].as_str().unwrap().starts_with("SECRET-"));
    let answer: Value = serde_json::from_str(signup["response"].as_str().unwrap()).unwrap();
    assert!(answer["token"].as_str().unwrap().starts_with("SECRET-"));
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_recording_that_cannot_be_written_fails_a_passing_run_with_exit_2() {
    let output = recorded_run("recording-full", Path::new("/dev/full")).await;

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write the recording to /dev/full"),
        "{stderr}"
    );
}
