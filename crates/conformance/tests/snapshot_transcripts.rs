//! The normalised transcripts of the fixed scenarios, one per API area,
//! against the committed snapshots in `tests/snapshots/`.
//!
//! Runs against the embedded reference server, or against the server in
//! `APPMIXER_URL` (logging in with `APPMIXER_USERNAME` and
//! `APPMIXER_PASSWORD` when both are set, signing a user up otherwise). A
//! change of behaviour shows as a snapshot diff to review; accept it with
//! `cargo insta review` or `INSTA_UPDATE=always`.

use appmixer_conformance::{Options, snapshots};

fn options() -> Options {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match env("APPMIXER_URL") {
        None => Options::default(),
        Some(url) => {
            let username = env("APPMIXER_USERNAME");
            let password = env("APPMIXER_PASSWORD");
            let signup = username.is_none() || password.is_none();
            Options {
                url: Some(url),
                signup,
                username: username.filter(|_| !signup),
                password: password.filter(|_| !signup),
                ..Options::default()
            }
        }
    }
}

#[tokio::test]
async fn every_area_answers_as_its_committed_transcript() {
    let transcripts = snapshots::record(&options())
        .await
        .expect("the transcripts are recorded");

    assert_eq!(transcripts.len(), snapshots::SCENARIOS.len());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for recorded in &transcripts {
            let transcript = &recorded.text;
            insta::assert_snapshot!(recorded.name, transcript);
        }
    });
}
