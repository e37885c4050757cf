//! SIGTERM and SIGHUP stop a run the way Ctrl-C does: what `kill`,
//! `timeout`, a cancelled CI job, `docker stop` or a closed terminal send
//! still ends in cleanup, the report files and exit status 4.

#![cfg(unix)]

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::{self, Next};
use serde_json::{Value, json};

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

/// Runs the binary against a reference server whose first read of a
/// flow's authentication (in the isolation phase, when the run holds
/// objects of every kind) never gets an answer, sends `signal` once that
/// read arrives, and checks that the run cleaned up, wrote its report and
/// exited with 4.
async fn a_stop_signal_cleans_up_writes_the_report_and_exits_4(signal: &str, name: &str) {
    let reached = Arc::new(tokio::sync::Notify::new());
    let first = Arc::new(AtomicBool::new(true));
    let deletes = Arc::new(AtomicU32::new(0));
    let (signal_seen, first_seen, deletes_seen) = (reached.clone(), first.clone(), deletes.clone());
    let app = common::reference_router().layer(middleware::from_fn(
        move |request: Request, next: Next| {
            let (signal, first, deletes) = (
                signal_seen.clone(),
                first_seen.clone(),
                deletes_seen.clone(),
            );
            async move {
                if request.method() == Method::DELETE {
                    deletes.fetch_add(1, Ordering::SeqCst);
                }
                if request.uri().path().starts_with("/auth/flow/")
                    && first.swap(false, Ordering::SeqCst)
                {
                    signal.notify_one();
                    std::future::pending::<()>().await;
                }
                next.run(request).await
            }
        },
    ));
    let base = common::serve(app).await;
    let token = common::sign_up(&base, "op@example.com", "pw-op-123456").await;
    let token_b = common::sign_up(&base, "op-b@example.com", "pw-op-b-123456").await;
    let dir = common::scratch_dir("signal");
    let report = dir.join("report.json");
    let child = binary()
        .args(["--url", &base])
        .args(["--username", "op@example.com", "--password", "pw-op-123456"])
        .args([
            "--username-b",
            "op-b@example.com",
            "--password-b",
            "pw-op-b-123456",
        ])
        .args(["--cases", "1"])
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let pid = child.id().to_string();

    reached.notified().await;
    let held = common::get_json(&base, "/flows", &token).await;
    let deletes_before = deletes.load(Ordering::SeqCst);
    let killed = Command::new("kill")
        .args([signal, &pid])
        .status()
        .expect("kill runs");
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();

    assert!(killed.success());
    assert_ne!(held, json!([]), "the run held objects when it was stopped");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("run aborted: interrupted ({name})")),
        "{stdout}"
    );
    assert!(
        deletes.load(Ordering::SeqCst) > deletes_before,
        "no cleanup request reached the server after {name}"
    );
    for path in ["/flows", "/stores", "/accounts", "/charts"] {
        for token in [&token, &token_b] {
            assert_eq!(
                common::get_json(&base, path, token).await,
                json!([]),
                "{path} still lists objects of the run stopped by {name}"
            );
        }
    }
    let written: Value = serde_json::from_str(
        &std::fs::read_to_string(&report).expect("the report file is written"),
    )
    .expect("the report is JSON");
    assert_eq!(written["exit_code"], 4, "{written}");
    assert_eq!(written["stopped"]["guard"], "interrupted", "{written}");
}

#[tokio::test]
async fn sigterm_makes_the_binary_clean_up_write_its_report_and_exit_4() {
    a_stop_signal_cleans_up_writes_the_report_and_exits_4("-TERM", "SIGTERM").await;
}

#[tokio::test]
async fn sighup_makes_the_binary_clean_up_write_its_report_and_exit_4() {
    a_stop_signal_cleans_up_writes_the_report_and_exits_4("-HUP", "SIGHUP").await;
}

/// Starts the binary against the embedded server with the longest model
/// sequences and many cases, sends SIGTERM once the model phase began, and
/// checks that the process ends with exit status 4 within seconds: no
/// thread still drawing sequences holds it.
#[test]
fn sigterm_during_the_model_phase_ends_the_binary_within_seconds() {
    use std::io::{BufRead as _, BufReader, Read as _};
    use std::time::{Duration, Instant};

    let dir = common::scratch_dir("signal-model");
    let mut child = binary()
        .args(["--profile", "smoke", "--steps", "10000", "--cases", "200"])
        .args(["--max-requests", "1000000"])
        .arg("--save-failures")
        .arg(&*dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let pid = child.id().to_string();
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let printed = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let (model_began, began) = std::sync::mpsc::channel();
    let logged = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("model: generating sequences") {
                let _ = model_began.send(());
            }
            lines.push(line);
        }
        lines.join("\n")
    });
    if began.recv_timeout(Duration::from_secs(180)).is_err() {
        let _ = child.kill();
        panic!("the model phase never began:\n{}", logged.join().unwrap());
    }

    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    let sent = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            break Some(status);
        }
        if sent.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };

    assert!(killed.success());
    let (stdout, stderr) = (printed.join().unwrap(), logged.join().unwrap());
    let status = status.unwrap_or_else(|| {
        panic!("still running 10 s after SIGTERM:\n{stdout}\n{stderr}");
    });
    assert_eq!(status.code(), Some(4), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("run aborted: interrupted (SIGTERM)"),
        "{stdout}"
    );
}
