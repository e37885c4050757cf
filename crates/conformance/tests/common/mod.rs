//! Helpers shared by the harness's integration tests.
//!
//! Every server a test starts listens on 127.0.0.1, port 0; the helpers read
//! the port back and hand out the base URL. Users are created and read over
//! plain HTTP, the way an operator would, not through the harness.

#![allow(dead_code)]

use std::cell::RefCell;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use appmixer_conformance::Options;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// Serves `app` on 127.0.0.1 in the background and returns its base URL.
pub async fn serve(app: axum::Router) -> String {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        axum::serve(listener, app)
            .await
            .expect("test server failed");
    });
    format!("http://{addr}")
}

/// The reference server's router with a fresh state.
pub fn reference_router() -> axum::Router {
    appmixer_reference::router(appmixer_reference::Config::default())
}

/// Options that check `url`, signing a user up, with few generated cases;
/// a failing model case is saved in a directory of this call's own under
/// the system's temporary directory, not in the source tree, removed when
/// the test's thread ends.
pub fn signup_options(url: &str) -> Options {
    let failures = ScratchDir::at(fresh_path("failures"));
    let save_failures = failures.to_path_buf();
    REMOVED_AT_THREAD_END.with(|dirs| dirs.borrow_mut().push(failures));
    Options {
        url: Some(url.to_string()),
        signup: true,
        cases: 4,
        save_failures,
        ..Options::default()
    }
}

thread_local! {
    /// The directories handed out in options, which own no guard of their
    /// own: removed when the thread that asked for them, the test's, ends.
    static REMOVED_AT_THREAD_END: RefCell<Vec<ScratchDir>> = const { RefCell::new(Vec::new()) };
}

/// An HTTP client for the tests' own requests.
pub fn client() -> reqwest::Client {
    // reqwest is built without a TLS provider; it needs one to build a client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Signs `username` up at `base` and returns the token.
pub async fn sign_up(base: &str, username: &str, password: &str) -> String {
    let response = client()
        .post(format!("{base}/user"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("sign-up request");
    assert!(
        response.status().is_success(),
        "sign-up answered {}",
        response.status()
    );
    let body: Value = response.json().await.expect("sign-up body");
    body["token"].as_str().expect("a token").to_string()
}

/// Logs `username` in at `base` and returns the token.
pub async fn log_in(base: &str, username: &str, password: &str) -> String {
    let response = client()
        .post(format!("{base}/user/auth"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("log-in request");
    assert!(
        response.status().is_success(),
        "log-in answered {}",
        response.status()
    );
    let body: Value = response.json().await.expect("log-in body");
    body["token"].as_str().expect("a token").to_string()
}

/// The JSON answer of `GET base+path` with `token`.
pub async fn get_json(base: &str, path: &str, token: &str) -> Value {
    let response = client()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET request");
    assert!(
        response.status().is_success(),
        "GET {path} answered {}",
        response.status()
    );
    response.json().await.expect("a JSON body")
}

/// The directory of real flow files: `APPMIXER_FLOWS_DIR`, or the shared
/// data next to the workspace; `None`, after a notice, when neither is there.
///
/// The files live beside the repository, not in it (they carry no open
/// licence), so a test that needs them checks nothing without them, unless
/// `APPMIXER_REQUIRE_FLOWS` is set (CI sets it), which makes their absence a
/// failure.
pub fn flows_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("APPMIXER_FLOWS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| appmixer_spec::workspace_root().join("../shared/data/flows"));
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("APPMIXER_REQUIRE_FLOWS").is_none(),
        "the flow files are expected at {}; set APPMIXER_FLOWS_DIR to the directory of \
         real flow descriptors (*.json)",
        dir.display()
    );
    eprintln!(
        "skipped: the real flow files are not at {}; set APPMIXER_FLOWS_DIR to check them",
        dir.display()
    );
    None
}

/// A directory of a test's own, removed with everything in it when the
/// guard is dropped; it reads as the [`Path`] it is.
#[derive(Debug)]
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    /// A guard of `path`, which need not exist yet.
    fn at(path: PathBuf) -> Self {
        Self(path)
    }
}

impl Deref for ScratchDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for ScratchDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        // A directory the test never had created is simply not there.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A path under the system's temporary directory that nothing uses yet.
fn fresh_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "amxc-test-{name}-{}",
        uuid::Uuid::new_v4().simple()
    ))
}

/// A fresh empty directory under the system's temporary directory, removed
/// when the returned guard is dropped.
pub fn scratch_dir(name: &str) -> ScratchDir {
    let dir = fresh_path(name);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    ScratchDir::at(dir)
}

/// A fresh path under the system's temporary directory, not created: for a
/// directory a run writes only when something fails, held where no guard
/// can be (a `static`), so that a passing run leaves nothing behind.
pub fn unused_dir(name: &str) -> PathBuf {
    fresh_path(name)
}
