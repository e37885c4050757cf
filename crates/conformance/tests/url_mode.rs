//! The harness against a server given by URL: a reference server started by
//! the test and reached over HTTP, with a signed-up user or with credentials.

mod common;

use appmixer_conformance::Options;
use serde_json::Value;

#[tokio::test]
async fn a_run_with_signup_against_a_url_passes() {
    let server = appmixer_reference::spawn()
        .await
        .expect("the reference server starts");

    let report = appmixer_conformance::run(common::signup_options(&server.base_url()))
        .await
        .expect("the run starts");

    assert!(report.failures.is_empty(), "unexpected failures:\n{report}");
    assert_eq!(report.exit_code(), 0);
    assert!(
        report.uncalled().is_empty(),
        "never called: {:?}",
        report.uncalled()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_run_with_credentials_passes_and_leaves_nothing_behind() {
    let server = appmixer_reference::spawn()
        .await
        .expect("the reference server starts");
    let base = server.base_url();
    let token = common::sign_up(&base, "operator@example.com", "s3cret-Passw0rd").await;
    let token_b = common::sign_up(&base, "second@example.com", "s3cret-Passw0rd-b").await;
    let options = Options {
        url: Some(base.clone()),
        username: Some("operator@example.com".into()),
        password: Some("s3cret-Passw0rd".into()),
        username_b: Some("second@example.com".into()),
        password_b: Some("s3cret-Passw0rd-b".into()),
        cases: 4,
        ..Options::default()
    };

    let report = appmixer_conformance::run(options)
        .await
        .expect("the run starts");

    assert!(report.failures.is_empty(), "unexpected failures:\n{report}");
    assert_eq!(report.exit_code(), 0);
    for path in ["/flows", "/stores", "/accounts", "/charts"] {
        for token in [&token, &token_b] {
            let listed = common::get_json(&base, path, token).await;
            assert_eq!(
                listed,
                Value::Array(Vec::new()),
                "{path} still lists objects of the run"
            );
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn credentials_mode_signs_no_new_user_up() {
    let server = appmixer_reference::spawn()
        .await
        .expect("the reference server starts");
    let base = server.base_url();
    common::sign_up(&base, "solo@example.com", "pw-solo-1234").await;
    let options = Options {
        url: Some(base.clone()),
        username: Some("solo@example.com".into()),
        password: Some("pw-solo-1234".into()),
        cases: 1,
        ..Options::default()
    };

    let report = appmixer_conformance::run(options)
        .await
        .expect("the run starts");

    assert!(
        report
            .cleanup
            .undeletable
            .iter()
            .all(|kept| kept.kind != appmixer_conformance::cleanup::Kind::User)
    );
    let signups = report.row("signupUser").expect("a signupUser row");
    assert_eq!(signups.calls, 1, "only the duplicate sign-up is sent");
    server.shutdown().await;
}

#[tokio::test]
async fn a_run_with_a_token_only_passes_and_waives_the_password_checks() {
    let server = appmixer_reference::spawn()
        .await
        .expect("the reference server starts");
    let base = server.base_url();
    common::sign_up(&base, "holder@example.com", "pw-holder-1234").await;
    common::sign_up(&base, "other@example.com", "pw-other-1234").await;
    let token = common::log_in(&base, "holder@example.com", "pw-holder-1234").await;
    // The second user is there for the isolation checks, which need one in
    // every mode but `--signup`.
    let options = Options {
        url: Some(base.clone()),
        token: Some(token),
        username_b: Some("other@example.com".into()),
        password_b: Some("pw-other-1234".into()),
        cases: 2,
        ..Options::default()
    };

    let report = appmixer_conformance::run(options)
        .await
        .expect("the run starts");

    assert!(report.failures.is_empty(), "unexpected failures:\n{report}");
    assert_eq!(report.exit_code(), 0, "{report}");
    let waived: Vec<(&str, &str)> = report
        .not_applicable
        .iter()
        .map(|n| (n.operation.as_str(), n.reason.as_str()))
        .collect();
    assert!(
        waived.contains(&("signupUser", "token mode: no password to log in with")),
        "{waived:?}"
    );
    assert_eq!(report.row("signupUser").expect("a row").calls, 0);
    assert!(
        report.to_string().contains("NOT APPLICABLE"),
        "the report names what does not apply:\n{report}"
    );
    server.shutdown().await;
}
