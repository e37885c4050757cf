//! Schemathesis, the tool a user would pick instead of the harness: installed
//! from PyPI into a virtual environment under `target/bench/venv`, and run
//! against the same server with the same request budget.
//!
//! Its requests are counted from the HAR file it writes (one entry per
//! request), its failures read from its JUnit report as
//! `operation: failure code` pairs, so that a run against a faulty server
//! can be compared with a run against a correct one. The token reaches it
//! through an environment variable that its configuration file names, never
//! through the command line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde_json::Value;

use super::process::run_bounded;

/// The Schemathesis release the comparison was written against.
pub const VERSION: &str = "4.32.5";

/// The environment variable that carries the token.
const TOKEN_VARIABLE: &str = "APPMIXER_BENCH_TOKEN";

/// How long installing may take.
const INSTALL_LIMIT: Duration = Duration::from_secs(600);

/// A virtual environment with Schemathesis installed.
#[derive(Debug, Clone)]
pub struct Installation {
    /// The `schemathesis` executable.
    pub executable: PathBuf,
    /// What `schemathesis --version` printed.
    pub version: String,
}

/// Creates `venv` (unless it exists) and installs Schemathesis into it.
pub fn install(venv: &Path, logs: &Path) -> anyhow::Result<Installation> {
    let executable = venv.join("bin/schemathesis");
    let log = logs.join("schemathesis-install.log");
    if !venv.join("bin/python").exists() {
        let mut command = Command::new("python3");
        command.arg("-m").arg("venv").arg(venv);
        let finished = run_bounded(&mut command, INSTALL_LIMIT, Some(&log))
            .context("python3 is needed to install Schemathesis")?;
        if !finished.status.success() {
            bail!(
                "`python3 -m venv {}` failed; see {}",
                venv.display(),
                log.display()
            );
        }
    }
    let version = version_of(&executable, logs);
    if version.as_deref() != Some(VERSION) {
        let mut command = Command::new(venv.join("bin/pip"));
        command
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("schemathesis=={VERSION}"));
        let finished = run_bounded(&mut command, INSTALL_LIMIT, Some(&log))?;
        if !finished.status.success() {
            bail!(
                "`pip install schemathesis=={VERSION}` failed ({}); see {}",
                finished.status,
                log.display()
            );
        }
    }
    let version = version_of(&executable, logs)
        .with_context(|| format!("{} does not run", executable.display()))?;
    Ok(Installation {
        executable,
        version,
    })
}

fn version_of(executable: &Path, logs: &Path) -> Option<String> {
    if !executable.exists() {
        return None;
    }
    let mut command = Command::new(executable);
    command.arg("--version");
    let log = logs.join("schemathesis-version.log");
    let finished = run_bounded(&mut command, Duration::from_secs(60), Some(&log)).ok()?;
    // `schemathesis, version 4.32.5`
    finished.stdout.trim().rsplit(' ').next().map(str::to_owned)
}

/// One Schemathesis run.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    /// The installation to run.
    pub installation: &'a Installation,
    /// The spec to test against.
    pub spec: &'a Path,
    /// The server's base URL.
    pub url: &'a str,
    /// A token of a user of that server.
    pub token: &'a str,
    /// Test cases per operation (`--max-examples`).
    pub max_examples: u64,
    /// Only the operations with this tag, if given.
    pub tag: Option<&'a str>,
    /// Where its reports go; emptied first.
    pub report_dir: PathBuf,
    /// How long it may run.
    pub limit: Duration,
}

/// What a run found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The exit status.
    pub exit_code: Option<i32>,
    /// Wall time.
    pub seconds: f64,
    /// Requests sent (HAR entries).
    pub requests: u64,
    /// `operation: code` of every failure.
    pub failures: BTreeSet<String>,
}

impl Run<'_> {
    /// The command line, without the token.
    pub fn command(&self, config: &Path) -> Command {
        let mut command = Command::new(&self.installation.executable);
        command
            .arg("--config-file")
            .arg(config)
            .arg("--no-color")
            .arg("run")
            .arg(self.spec)
            .args(["--url", self.url])
            .args(["--max-examples", &self.max_examples.to_string()])
            .args(["--seed", "1", "--workers", "1"])
            .args(["--generation-database", "none"])
            .args(["--report", "junit,har", "--report-dir"])
            .arg(&self.report_dir);
        if let Some(tag) = self.tag {
            command.args(["--include-tag", tag]);
        }
        command
    }

    /// Runs Schemathesis and reads its reports.
    pub fn execute(&self, logs: &Path, log_name: &str) -> anyhow::Result<Outcome> {
        if self.report_dir.exists() {
            std::fs::remove_dir_all(&self.report_dir)?;
        }
        std::fs::create_dir_all(&self.report_dir)?;
        let config = self.report_dir.join("schemathesis.toml");
        std::fs::write(&config, config_file())?;
        let mut command = self.command(&config);
        command.env(TOKEN_VARIABLE, self.token);
        let log = logs.join(log_name);
        let finished = run_bounded(&mut command, self.limit, Some(&log))?;
        let _ = std::fs::write(logs.join(format!("{log_name}.stdout")), &finished.stdout);
        let har = find_report(&self.report_dir, "har")?;
        let junit = find_report(&self.report_dir, "junit")?;
        let har: Value = serde_json::from_slice(&std::fs::read(&har)?)
            .with_context(|| format!("{} is not JSON", har.display()))?;
        let junit = std::fs::read_to_string(&junit)?;
        Ok(Outcome {
            exit_code: finished.status.code(),
            seconds: finished.elapsed.as_secs_f64(),
            requests: har_entries(&har),
            failures: junit_failures(&junit),
        })
    }
}

/// The configuration file: the bearer token from the environment.
fn config_file() -> String {
    format!("headers = {{ Authorization = \"Bearer ${{{TOKEN_VARIABLE}}}\" }}\n")
}

/// The report of `kind` (`har`, `junit`) Schemathesis wrote into `dir`.
fn find_report(dir: &Path, kind: &str) -> anyhow::Result<PathBuf> {
    std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with(&format!("{kind}-")))
        })
        .with_context(|| format!("Schemathesis wrote no {kind} report into {}", dir.display()))
}

/// How many requests a HAR document records.
pub fn har_entries(har: &Value) -> u64 {
    har["log"]["entries"]
        .as_array()
        .map_or(0, |entries| entries.len() as u64)
}

/// `operation: code` for every failure of a JUnit report.
pub fn junit_failures(junit: &str) -> BTreeSet<String> {
    let mut failures = BTreeSet::new();
    for case in junit.split("<testcase ").skip(1) {
        let Some(name) = attribute(case, "name") else {
            continue;
        };
        let case = case.split("</testcase>").next().unwrap_or(case);
        for failure in case.split("<failure ").skip(1) {
            let codes = attribute(failure, "message").unwrap_or_default();
            for code in codes
                .split(',')
                .map(str::trim)
                .filter(|code| !code.is_empty())
            {
                failures.insert(format!("{}: {code}", unescape(&name)));
            }
        }
    }
    failures
}

/// The value of `name="…"` at the start of an XML tag's attributes.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let head = tag.split('>').next()?;
    let start = head.find(&format!("{name}=\""))? + name.len() + 2;
    let end = head[start..].find('"')? + start;
    Some(head[start..end].to_owned())
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn failures_are_read_per_operation_and_code() {
        let junit = r#"<?xml version="1.0" encoding="utf-8"?>
<testsuites errors="0" failures="2" tests="3">
  <testsuite name="schemathesis">
    <testcase name="POST /accounts" time="0.63">
      <failure type="failure" message="ST202">1. Test Case ID: x
[400] Bad Request</failure>
    </testcase>
    <testcase name="GET /flows/{flowId}" time="0.1"/>
    <testcase name="GET /charts" time="0.2">
      <failure type="failure" message="ST101, ST301">details</failure>
    </testcase>
  </testsuite>
</testsuites>"#;

        let failures = junit_failures(junit);

        let expected: BTreeSet<String> = [
            "GET /charts: ST101",
            "GET /charts: ST301",
            "POST /accounts: ST202",
        ]
        .map(String::from)
        .into();
        assert_eq!(failures, expected);
    }

    #[test]
    fn har_entries_count_requests() {
        let har = json!({"log": {"entries": [{}, {}, {}]}});

        assert_eq!(har_entries(&har), 3);
        assert_eq!(har_entries(&json!({})), 0);
    }

    #[test]
    fn the_token_is_read_from_the_environment() {
        assert_eq!(
            config_file(),
            "headers = { Authorization = \"Bearer ${APPMIXER_BENCH_TOKEN}\" }\n"
        );
    }
}
