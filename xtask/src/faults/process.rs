//! The processes a benchmark run starts: a reference server on 127.0.0.1
//! and the conformance harness aimed at it.
//!
//! Both are `tokio` children spawned with `kill_on_drop`, so whatever ends a
//! run early (an error, a timeout, Ctrl-C dropping the whole benchmark) also
//! kills them. The server's stderr is read as it comes: the fault middleware
//! logs `fault fired for the first time` with the request's number, and the
//! time that line arrives is when the fault became visible.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::reference_process;

/// How long a server may take to print its address.
const STARTUP: Duration = Duration::from_secs(20);

/// The line the fault middleware logs when a fault first changes an answer.
const FIRED: &str = "fault fired for the first time";

/// When a planted fault first changed an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    /// The fault's name.
    pub fault: String,
    /// The number of the request it changed, counting from 1.
    pub request: u64,
    /// That request's method and path, ids replaced by `{id}`.
    pub route: String,
    /// When the server logged it.
    pub at: Instant,
}

/// A reference server running as a child process.
pub struct Server {
    child: Child,
    /// The base URL it serves, `http://127.0.0.1:PORT`.
    pub url: String,
    fired: Arc<Mutex<Vec<Fired>>>,
}

impl Server {
    /// Starts `binary --port 0` with `faults` switched on, logging its
    /// stderr to `log`, and waits for its `listening on` line.
    pub async fn start(binary: &Path, faults: &[&str], log: PathBuf) -> anyhow::Result<Self> {
        // The fault middleware logs its first firings at info.
        let mut command = Command::from(reference_process::command(binary, "info"));
        command.stderr(Stdio::piped()).kill_on_drop(true);
        for fault in faults {
            command.args(["--fault", fault]);
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start `{}`", binary.display()))?;

        let stdout = child
            .stdout
            .take()
            .context("the server's stdout is piped")?;
        let stderr = child
            .stderr
            .take()
            .context("the server's stderr is piped")?;
        let fired = Arc::new(Mutex::new(Vec::new()));
        tokio::spawn(watch_stderr(stderr, log, Arc::clone(&fired)));

        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(STARTUP, lines.next_line())
            .await
            .with_context(|| {
                format!(
                    "`{}` printed no address within {}s",
                    binary.display(),
                    STARTUP.as_secs()
                )
            })?
            .context("reading the server's stdout failed")?;
        let Some(url) = first
            .as_deref()
            .and_then(reference_process::parse_listening_line)
        else {
            bail!(
                "`{}` did not start: its first line was {first:?}, not `… listening on http://…`",
                binary.display()
            );
        };
        // Keep reading, so that the server never writes into a closed pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { child, url, fired })
    }

    /// Every first firing the server has logged so far.
    pub fn fired(&self) -> Vec<Fired> {
        self.fired
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops the server and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The fault, request number and route of a `fault fired for the first
/// time` line.
pub fn parse_fired(line: &str) -> Option<(String, u64, String)> {
    if !line.contains(FIRED) {
        return None;
    }
    let field = |name: &str| {
        let start = line.find(&format!(" {name}="))? + name.len() + 2;
        let rest = &line[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        Some(rest[..end].trim_matches('"').to_owned())
    };
    let route = match (field("method"), field("path")) {
        (Some(method), Some(path)) => format!("{method} {}", generic_path(&path)),
        _ => String::new(),
    };
    Some((field("fault")?, field("request")?.parse().ok()?, route))
}

/// `path` with each segment that is an id (24 hex digits, a UUID, or a log
/// entry's 20-character `_id`) replaced by `{id}`, so that it reads the same
/// in every run.
pub fn generic_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            let hex = segment.len() == 24 && segment.bytes().all(|b| b.is_ascii_hexdigit());
            let uuid = segment.len() == 36 && segment.bytes().filter(|b| *b == b'-').count() == 4;
            let log_id = segment.len() == 20
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if hex || uuid || log_id {
                "{id}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn watch_stderr(
    stderr: tokio::process::ChildStderr,
    log: PathBuf,
    fired: Arc<Mutex<Vec<Fired>>>,
) {
    // A few lines per run: plain blocking writes are cheap enough here.
    let mut file = std::fs::File::create(&log).ok();
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some((fault, request, route)) = parse_fired(&line) {
            fired
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Fired {
                    fault,
                    request,
                    route,
                    at: Instant::now(),
                });
        }
        if let Some(file) = file.as_mut() {
            let _ = writeln!(file, "{line}");
        }
    }
}

/// How a command run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this code (`None` when a signal ended it).
    Exited(Option<i32>),
    /// It ran out of time and was killed.
    TimedOut,
}

/// Runs `binary args…` with stdout and stderr written to `stdout` and
/// `stderr`, killing it after `deadline`.
pub async fn run_command(
    binary: &Path,
    args: &[String],
    stdout: &Path,
    stderr: &Path,
    deadline: Duration,
) -> anyhow::Result<Ended> {
    let out = std::fs::File::create(stdout)
        .with_context(|| format!("cannot create `{}`", stdout.display()))?;
    let err = std::fs::File::create(stderr)
        .with_context(|| format!("cannot create `{}`", stderr.display()))?;
    let mut child = Command::new(binary)
        .args(args)
        .env_remove("APPMIXER_URL")
        .env_remove("APPMIXER_USERNAME")
        .env_remove("APPMIXER_PASSWORD")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start `{}`", binary.display()))?;
    match tokio::time::timeout(deadline, child.wait()).await {
        Ok(status) => Ok(Ended::Exited(status?.code())),
        Err(_) => {
            let _ = child.kill().await;
            Ok(Ended::TimedOut)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fired_line_gives_the_fault_and_the_request() {
        let line = "2026-01-01T00:00:00.000Z  WARN appmixer_reference::faults::layer: \
                    fault fired for the first time fault=\"flows.count-off-by-one-with-pattern\" \
                    request=12 method=GET path=/flows/count";

        assert_eq!(
            parse_fired(line),
            Some((
                "flows.count-off-by-one-with-pattern".into(),
                12,
                "GET /flows/count".into()
            ))
        );
        assert_eq!(parse_fired("fault fired fault=x request=1"), None);
    }

    #[test]
    fn ids_in_a_fired_path_are_made_generic() {
        assert_eq!(
            generic_path("/store/5c6fc9932ff3ff000747ead4/order-1"),
            "/store/{id}/order-1"
        );
        assert_eq!(
            generic_path("/flows/9089f275-f5a5-4796-ba23-365412c5666e/coordinator"),
            "/flows/{id}/coordinator"
        );
        assert_eq!(
            generic_path("/logs/appmixer-202601/AbCdEfGhIj0123456789"),
            "/logs/appmixer-202601/{id}"
        );
    }
}
