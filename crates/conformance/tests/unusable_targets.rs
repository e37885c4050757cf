//! Runs that cannot check anything end with a one-line error and exit
//! status 2: a bad option (a URL with credentials or a port out of range
//! among them), an unreachable, garbled, failing or silent server, refused
//! credentials, or a descriptor file that is not a flow.

mod common;

use std::process::Command;
use std::time::Duration;

use appmixer_conformance::{Options, RunError};
use axum::http::header;
use axum::response::IntoResponse;
use tokio::net::TcpListener;

async fn run_error(options: Options) -> RunError {
    match appmixer_conformance::run(options).await {
        Ok(report) => panic!("the run was expected to fail to start, but reported:\n{report}"),
        Err(error) => error,
    }
}

#[tokio::test]
async fn an_unreachable_url_is_a_connection_error() {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);

    let error = run_error(common::signup_options(&format!("http://127.0.0.1:{port}"))).await;

    assert!(matches!(error, RunError::Connection { .. }), "{error:?}");
    assert_eq!(error.exit_code(), 2);
    assert!(error.to_string().contains("could not connect"), "{error}");
}

#[tokio::test]
async fn a_server_answering_html_is_a_connection_error() {
    let garbage = axum::Router::new().fallback(|| async {
        (
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>It works!</body></html>",
        )
            .into_response()
    });
    let base = common::serve(garbage).await;

    let error = run_error(common::signup_options(&base)).await;

    assert!(matches!(error, RunError::Connection { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("signupUser") && message.contains("text/html"),
        "{message}"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_as_a_connection_error() {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // Accepts connections and holds them open without ever answering.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let options = Options {
        timeout: Duration::from_millis(300),
        ..common::signup_options(&base)
    };

    let error = run_error(options).await;

    assert!(matches!(error, RunError::Connection { .. }), "{error:?}");
    assert!(error.to_string().contains("timed out"), "{error}");
}

/// A server on 127.0.0.1 that reads each request and answers `answer`,
/// whatever was asked, then closes the connection.
async fn answering_raw(answer: &'static [u8]) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = vec![0; 64 * 1024];
                let _ = socket.read(&mut request).await;
                let _ = socket.write_all(answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    base
}

#[tokio::test]
async fn a_server_speaking_another_protocol_is_named_a_protocol_error_not_a_slow_server() {
    let base = answering_raw(b"SSH-2.0-OpenSSH_9.6\r\nProtocol mismatch.\r\n").await;

    let error = run_error(common::signup_options(&base)).await;

    assert!(matches!(error, RunError::Connection { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("the server answered, but not in HTTP")
            && message.contains("a protocol error, not a slow server"),
        "{message}"
    );
    assert!(!message.contains("--timeout"), "{message}");
}

#[tokio::test]
async fn a_head_too_large_to_read_is_named_a_protocol_error_not_a_slow_server() {
    static ANSWER: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
        let mut answer = b"HTTP/1.1 200 OK\r\nX-Padding: ".to_vec();
        answer.extend(std::iter::repeat_n(b'a', 1 << 20));
        answer.extend_from_slice(b"\r\nContent-Length: 2\r\n\r\n{}");
        answer
    });
    let base = answering_raw(ANSWER.as_slice()).await;

    let error = run_error(common::signup_options(&base)).await;

    let message = error.to_string();
    assert!(
        message.contains("the server answered, but not in HTTP")
            && message.contains("message head is too large"),
        "{message}"
    );
    assert!(!message.contains("--timeout"), "{message}");
}

#[tokio::test]
async fn a_server_error_on_sign_up_is_reported_as_a_server_error() {
    let failing = axum::Router::new().fallback(|| async {
        (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"statusCode":500,"error":"Internal Server Error","message":"database down"}"#,
        )
            .into_response()
    });
    let base = common::serve(failing).await;

    let error = run_error(common::signup_options(&base)).await;

    let message = error.to_string();
    assert!(
        message.contains("failed with a server error (500: database down)"),
        "{message}"
    );
    assert!(!message.contains("restrict user creation"), "{message}");
}

#[tokio::test]
async fn an_endless_sign_up_answer_is_a_connection_error_naming_the_limit() {
    let endless = axum::Router::new().fallback(|| async {
        let chunk = axum::body::Bytes::from(vec![b' '; 64 * 1024]);
        let chunks = futures::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
        (
            [(header::CONTENT_TYPE, "application/json")],
            axum::body::Body::from_stream(chunks),
        )
            .into_response()
    });
    let base = common::serve(endless).await;
    let options = Options {
        max_body: 256 * 1024,
        ..common::signup_options(&base)
    };

    let error = run_error(options).await;

    assert!(matches!(error, RunError::Connection { .. }), "{error:?}");
    assert!(
        error.to_string().contains("longer than 262144 bytes"),
        "{error}"
    );
}

#[tokio::test]
async fn wrong_credentials_are_a_login_error() {
    let server = appmixer_reference::spawn().await.unwrap();
    common::sign_up(&server.base_url(), "known@example.com", "right-password-1").await;
    let options = Options {
        url: Some(server.base_url()),
        username: Some("known@example.com".into()),
        password: Some("wrong-password-1".into()),
        ..Options::default()
    };

    let error = run_error(options).await;

    let RunError::Login {
        username, status, ..
    } = &error
    else {
        panic!("expected a login error, got {error:?}");
    };
    assert_eq!(username, "known@example.com");
    assert!((400..500).contains(status), "{status}");
    assert!(
        !error.to_string().contains("wrong-password-1"),
        "the password is never printed"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_descriptor_file_without_flow_is_a_usage_error_naming_it() {
    let dir = common::scratch_dir("descriptors");
    std::fs::write(dir.join("fine.json"), r#"{"name": "ok", "flow": {}}"#).unwrap();
    std::fs::write(dir.join("broken.json"), r#"{"name": "no descriptor here"}"#).unwrap();
    let options = Options {
        descriptors: Some(dir.to_path_buf()),
        ..Options::default()
    };

    let error = run_error(options).await;

    assert!(matches!(error, RunError::Descriptors { .. }), "{error:?}");
    assert!(error.to_string().contains("broken.json"), "{error}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_url_that_is_not_http_is_refused_with_the_value() {
    let options = Options {
        url: Some("ftp://x".into()),
        signup: true,
        ..Options::default()
    };

    let error = run_error(options).await;

    assert_eq!(
        error.to_string(),
        "`--url` must be an http(s) URL, got `ftp://x`: only http and https are supported"
    );
}

#[tokio::test]
async fn a_url_without_credentials_or_signup_is_a_usage_error() {
    let options = Options {
        url: Some("http://127.0.0.1:9".into()),
        ..Options::default()
    };

    let error = run_error(options).await;

    assert!(matches!(error, RunError::Usage(_)), "{error:?}");
    assert!(error.to_string().contains("--signup"), "{error}");
}

#[tokio::test]
async fn a_missing_spec_is_an_error_naming_the_path() {
    let options = Options {
        spec: Some("/nonexistent/appmixer.yaml".into()),
        ..Options::default()
    };

    let error = run_error(options).await;

    assert!(matches!(error, RunError::Spec(_)), "{error:?}");
    assert!(
        error.to_string().contains("/nonexistent/appmixer.yaml"),
        "{error}"
    );
}

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_appmixer-conformance"));
    for variable in ["APPMIXER_URL", "APPMIXER_USERNAME", "APPMIXER_PASSWORD"] {
        command.env_remove(variable);
    }
    command
}

#[test]
fn the_binary_exits_2_with_one_line_for_a_bad_url() {
    let output = binary()
        .args(["--url", "ftp://x", "--signup"])
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: `--url` must be an http(s) URL, got `ftp://x`"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn a_url_with_credentials_is_refused_without_printing_the_password() {
    let output = binary()
        .args(["--url", "http://jane:hunter2@127.0.0.1:9", "--signup"])
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(
        stderr.contains("must not carry credentials")
            && stderr.contains("`--username` and `--password`"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn a_port_out_of_range_is_named_as_the_problem() {
    let output = binary()
        .args(["--url", "http://127.0.0.1:99999", "--signup"])
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`--url` has an invalid port `99999`"),
        "{stderr}"
    );
    assert!(!stderr.contains("must be an http(s) URL"), "{stderr}");
}

#[test]
fn the_help_documents_the_exit_statuses() {
    let output = binary().arg("--help").output().unwrap();

    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8_lossy(&output.stdout);
    for line in [
        "0  every check passed",
        "1  a check failed",
        "2  usage, spec or connection error",
    ] {
        assert!(help.contains(line), "missing `{line}` in:\n{help}");
    }
}

#[test]
fn the_binary_exits_0_against_the_embedded_server_when_appmixer_url_is_empty() {
    // An empty variable is as good as none: the embedded server is checked.
    let output = binary()
        .env("APPMIXER_URL", "")
        .args(["--cases", "2"])
        .output()
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("PASSED"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("phase 1/") && stderr.contains(": target"),
        "{stderr}"
    );
}

#[test]
fn zero_cases_is_refused_like_zero_steps() {
    for flag in ["--cases", "--steps"] {
        let output = binary().args([flag, "0"]).output().unwrap();

        assert_eq!(output.status.code(), Some(2), "{flag} 0");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("invalid value '0' for '{flag} <N>'"))
                && stderr.contains("0 is too few: give from 1 to 10000"),
            "{stderr}"
        );
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn cases_or_steps_above_their_maxima_are_usage_errors_naming_the_largest_value() {
    for (flag, other) in [("--steps", "--cases"), ("--cases", "--steps")] {
        let output = binary()
            .args([flag, "4294967295", other, "1", "--profile", "smoke"])
            .output()
            .unwrap();

        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flag}: {stderr}");
        assert!(
            stderr.contains(&format!("invalid value '4294967295' for '{flag} <N>'"))
                && stderr.contains("the largest accepted value is 10000"),
            "{stderr}"
        );
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn the_help_names_the_largest_cases_and_steps() {
    let output = binary().arg("--help").output().unwrap();

    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.contains("How many generated cases to send, from 1 to 10000"),
        "{help}"
    );
    assert!(help.contains("from 1 to 10000 steps"), "{help}");
}

#[test]
fn a_request_budget_of_zero_is_a_usage_error_naming_the_smallest_useful_value() {
    let output = binary().args(["--max-requests", "0"]).output().unwrap();

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--max-requests") && stderr.contains("the smallest useful budget is 1"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

/// The message of the error a signed-up run against `app` ends with.
async fn setup_message(app: axum::Router, path: &str) -> String {
    let base = common::serve(app).await;
    let error = run_error(common::signup_options(&format!("{base}{path}"))).await;
    assert!(matches!(error, RunError::Connection { .. }), "{error:?}");
    assert_eq!(error.exit_code(), 2);
    error.to_string()
}

#[tokio::test]
async fn a_sign_up_answered_404_at_a_wrong_base_path_suggests_checking_the_base_url() {
    let app = axum::Router::new().nest("/v1", common::reference_router());

    let message = setup_message(app, "/api").await;

    assert!(message.contains("check the base URL"), "{message}");
    assert!(message.contains("/api/user"), "{message}");
    assert!(!message.contains("restrict user creation"), "{message}");
}

#[tokio::test]
async fn a_log_in_answered_404_at_a_wrong_base_path_blames_the_url_not_the_password() {
    let base = common::serve(common::reference_router()).await;
    let options = Options {
        url: Some(format!("{base}/api")),
        username: Some("jane@example.com".into()),
        password: Some("secret-password".into()),
        ..Options::default()
    };

    let error = run_error(options).await;

    let message = error.to_string();
    assert!(matches!(error, RunError::Connection { .. }), "{error:?}");
    assert!(message.contains("check the base URL"), "{message}");
    assert!(message.contains("/api/user/auth"), "{message}");
    assert!(!message.contains("check `--username`"), "{message}");
}

#[tokio::test]
async fn a_token_answered_404_at_a_wrong_base_path_names_the_url_first() {
    let base = common::serve(common::reference_router()).await;
    let token = common::sign_up(&base, "token-404@example.com", "secret-password").await;
    let options = Options {
        url: Some(format!("{base}/api")),
        token: Some(token),
        ..Options::default()
    };

    let error = run_error(options).await;

    let message = error.to_string();
    assert!(message.contains("/api/user"), "{message}");
    assert!(message.contains("check the base URL first"), "{message}");
}

#[tokio::test]
async fn a_sign_up_answered_403_says_the_server_may_restrict_user_creation() {
    let app = axum::Router::new().fallback(|| async {
        (
            axum::http::StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"statusCode":403,"error":"Forbidden","message":"sign-up is disabled"}"#,
        )
            .into_response()
    });

    let message = setup_message(app, "").await;

    assert!(message.contains("restrict user creation"), "{message}");
}

#[tokio::test]
async fn a_429_at_sign_up_names_its_retry_after() {
    let app = axum::Router::new().fallback(|| async {
        (
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "0")],
            "slow down",
        )
            .into_response()
    });

    let message = setup_message(app, "").await;

    assert!(message.contains("429"), "{message}");
    assert!(message.contains("Retry-After: 0"), "{message}");
}

#[tokio::test]
async fn a_redirect_at_sign_up_names_its_location_and_is_not_followed() {
    for status in [301u16, 302, 307, 308] {
        let followed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = followed.clone();
        let app = axum::Router::new()
            .route(
                "/elsewhere/user",
                axum::routing::any(move || {
                    seen.store(true, std::sync::atomic::Ordering::SeqCst);
                    async { "followed" }
                }),
            )
            .fallback(move || async move {
                (
                    axum::http::StatusCode::from_u16(status).unwrap(),
                    [(header::LOCATION, "http://127.0.0.1:9/elsewhere/user")],
                )
                    .into_response()
            });

        let message = setup_message(app, "").await;

        assert!(message.contains(&format!("answered {status}")), "{message}");
        assert!(
            message.contains("a redirect to `http://127.0.0.1:9/elsewhere/user`"),
            "{message}"
        );
        assert!(message.contains("does not follow redirects"), "{message}");
        assert!(!followed.load(std::sync::atomic::Ordering::SeqCst));
    }
}

#[tokio::test]
async fn a_log_in_answering_a_numeric_token_says_the_token_has_the_wrong_type() {
    let app = axum::Router::new().fallback(|| async {
        (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"token": 12345}"#,
        )
            .into_response()
    });
    let base = common::serve(app).await;

    let error = run_error(Options {
        url: Some(base),
        username: Some("jane@example.com".into()),
        password: Some("pw".into()),
        ..Options::default()
    })
    .await;

    let message = error.to_string();
    assert!(
        message.contains("wrong type (a number, expected a string)"),
        "{message}"
    );
    assert!(!message.contains("without a `token`"), "{message}");
}

#[tokio::test]
async fn a_200_html_setup_answer_is_described_as_not_json() {
    let app = axum::Router::new().fallback(|| async {
        (
            [(header::CONTENT_TYPE, "text/html")],
            "<html>maintenance</html>",
        )
            .into_response()
    });

    let message = setup_message(app, "").await;

    assert!(
        message.contains("not JSON (text/html): is this an Appmixer API URL?"),
        "{message}"
    );
    assert!(!message.contains("refus"), "{message}");
}

#[tokio::test]
async fn a_spec_without_paths_is_a_spec_error_naming_the_file() {
    let dir = common::scratch_dir("no-paths");
    let path = dir.join("nopaths.yaml");
    std::fs::write(
        &path,
        "openapi: 3.0.3\ninfo:\n  title: empty\n  version: '1'\npaths: {}\n",
    )
    .unwrap();

    let error = run_error(Options {
        spec: Some(path.clone()),
        ..Options::default()
    })
    .await;

    assert_eq!(error.exit_code(), 2);
    assert!(
        !matches!(error, RunError::Connection { .. }),
        "not a server problem: {error:?}"
    );
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_spec_that_is_a_directory_says_so_and_asks_for_the_yaml_file() {
    let dir = common::scratch_dir("spec-dir");

    let error = run_error(Options {
        spec: Some(dir.to_path_buf()),
        ..Options::default()
    })
    .await;

    let message = error.to_string();
    assert!(message.contains("is a directory"), "{message}");
    assert!(message.contains("YAML file"), "{message}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_url_without_a_host_or_with_another_scheme_says_which() {
    let no_host = binary()
        .args(["--url", "http://", "--signup"])
        .output()
        .unwrap();
    let ftp = binary()
        .args(["--url", "ftp://x", "--signup"])
        .output()
        .unwrap();

    assert_eq!(no_host.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&no_host.stderr);
    assert!(stderr.contains("has no host"), "{stderr}");
    assert_eq!(ftp.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&ftp.stderr);
    assert!(stderr.contains("only http and https"), "{stderr}");
}
