//! Cargo builds the benchmark needs: the optimised binaries it runs, and the
//! build-cost measurement of `appmixer-client`.
//!
//! Everything measured is built once, in one cargo invocation, with the
//! `xbench` profile (release optimisations, quick to build); cargo's JSON
//! messages name the executables, so no path is guessed. The build-cost
//! measurement works on a copy of the workspace under `target/bench/` with a
//! scratch target directory, so the real spec is never touched.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

use super::process::run_bounded;

/// The profile the measured binaries are built with.
pub const PROFILE: &str = "xbench";

/// How long the optimised build may take on a fresh machine.
const BUILD_LIMIT: Duration = Duration::from_secs(30 * 60);

/// The cargo arguments of the optimised build.
pub fn optimised_args() -> Vec<String> {
    [
        "build",
        "--profile",
        PROFILE,
        "-p",
        "xtask",
        "-p",
        "appmixer-reference",
        "-p",
        "appmixer-conformance",
        "-p",
        "appmixer-client-bench",
        "--bins",
        "--message-format",
        "json-render-diagnostics",
    ]
    .map(String::from)
    .to_vec()
}

/// The optimised executables.
#[derive(Debug, Clone)]
pub struct Executables {
    /// This xtask, whose hidden `bench load` is the load generator.
    pub xtask: PathBuf,
    /// The reference server.
    pub reference: PathBuf,
    /// The conformance harness.
    pub conformance: PathBuf,
    /// The client's benchmark program.
    pub client_bench: PathBuf,
    /// Seconds the build took (little when it was up to date).
    pub seconds: f64,
}

/// Builds the optimised executables; cargo's progress goes to the terminal.
pub fn optimised(root: &Path, logs: &Path) -> anyhow::Result<Executables> {
    let mut command = Command::new(cargo());
    command.current_dir(root).args(optimised_args());
    let finished = run_bounded(&mut command, BUILD_LIMIT, None)?;
    if !finished.status.success() {
        bail!(
            "`cargo {}` failed ({}); see the compiler output above",
            optimised_args().join(" "),
            finished.status
        );
    }
    let found = parse_executables(&finished.stdout);
    let _ = std::fs::write(logs.join("build-messages.json"), &finished.stdout);
    let take = |kind: &str, name: &str| {
        found
            .get(&(kind.to_owned(), name.to_owned()))
            .cloned()
            .with_context(|| format!("the build produced no {kind} target `{name}`"))
    };
    Ok(Executables {
        xtask: take("bin", "xtask")?,
        reference: take("bin", "appmixer-reference")?,
        conformance: take("bin", "appmixer-conformance")?,
        client_bench: take("bin", "appmixer-client-bench")?,
        seconds: finished.elapsed.as_secs_f64(),
    })
}

/// The executables in cargo's JSON messages, by target kind and name.
pub fn parse_executables(messages: &str) -> BTreeMap<(String, String), PathBuf> {
    let mut found = BTreeMap::new();
    for line in messages.lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let Some(executable) = message["executable"].as_str() else {
            continue;
        };
        let name = message["target"]["name"].as_str().unwrap_or_default();
        let kinds = message["target"]["kind"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for kind in kinds.iter().filter_map(Value::as_str) {
            found.insert(
                (kind.to_owned(), name.to_owned()),
                PathBuf::from(executable),
            );
        }
    }
    found
}

/// The cargo to run: the one running this xtask, if cargo says so.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// What building `appmixer-client` costs.
#[derive(Debug, Clone)]
pub struct BuildCost {
    /// A debug build of `appmixer-client` and its dependencies, from an
    /// empty target directory.
    pub clean_seconds: f64,
    /// The rebuild after one description of the spec changed.
    pub rebuild_seconds: f64,
    /// The spec line that was changed, as it reads after the change.
    pub changed_line: String,
    /// The workspace copy the builds ran in, relative to the workspace.
    pub copy: String,
    /// The scratch target directory, relative to the workspace.
    pub target_dir: String,
}

/// How long each measured debug build may take.
const DEBUG_BUILD_LIMIT: Duration = Duration::from_secs(20 * 60);

/// The line whose text the rebuild measurement changes, and what it becomes.
const SPEC_EDIT: (&str, &str) = (
    "      summary: Get one flow.\n",
    "      summary: Get one flow by its id.\n",
);

/// Copies the workspace, builds `appmixer-client` in debug from scratch,
/// changes one description of the copy's spec and builds again.
pub fn measure_cost(root: &Path, bench_dir: &Path) -> anyhow::Result<BuildCost> {
    let copy = bench_dir.join("workspace");
    let target_dir = bench_dir.join("build-cost-target");
    for dir in [&copy, &target_dir] {
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("cannot empty {}", dir.display()))?;
        }
    }
    copy_workspace(root, &copy)?;

    let build = |log: &str| -> anyhow::Result<f64> {
        let mut command = Command::new(cargo());
        command
            .current_dir(&copy)
            .env("CARGO_TARGET_DIR", &target_dir)
            .args(["build", "--offline", "-p", "appmixer-client"]);
        let log = bench_dir.join("logs").join(log);
        let finished = run_bounded(&mut command, DEBUG_BUILD_LIMIT, Some(&log))?;
        if !finished.status.success() {
            bail!(
                "the measured build of appmixer-client failed ({}); its log is {}",
                finished.status,
                log.display()
            );
        }
        Ok(finished.elapsed.as_secs_f64())
    };
    let clean_seconds = build("build-clean.log")?;

    let spec_path = copy.join("spec/appmixer.yaml");
    let spec = std::fs::read_to_string(&spec_path)
        .with_context(|| format!("cannot read {}", spec_path.display()))?;
    let (before, after) = SPEC_EDIT;
    if !spec.contains(before) {
        bail!(
            "the spec no longer has the line `{}` that the rebuild measurement changes; \
             pick another description in SPEC_EDIT",
            before.trim()
        );
    }
    std::fs::write(&spec_path, spec.replacen(before, after, 1))
        .with_context(|| format!("cannot write {}", spec_path.display()))?;
    let rebuild_seconds = build("build-rebuild.log")?;

    let relative = |path: &Path| {
        path.strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    Ok(BuildCost {
        clean_seconds,
        rebuild_seconds,
        changed_line: after.trim().to_owned(),
        copy: relative(&copy),
        target_dir: relative(&target_dir),
    })
}

/// Copies what a build reads (manifests, lock file, cargo config, sources,
/// spec) from `root` to `to`; build outputs and git data stay behind.
fn copy_workspace(root: &Path, to: &Path) -> anyhow::Result<()> {
    const SKIPPED: [&str; 3] = ["target", "target-ci", ".git"];
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        let name = entry.file_name();
        if SKIPPED.iter().any(|skipped| name == *skipped) {
            continue;
        }
        copy_tree(&entry.path(), &to.join(&name))?;
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    let kind = std::fs::symlink_metadata(from)?.file_type();
    if kind.is_dir() {
        if from.file_name().is_some_and(|name| name == "target") {
            return Ok(());
        }
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else if kind.is_file() {
        std::fs::copy(from, to)
            .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executables_are_found_by_kind_and_name() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"xtask"},"#,
            r#""executable":"/w/target/xbench/xtask"}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"serde"},"#,
            r#""executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"kind":["bench"],"name":"client"},"#,
            r#""executable":"/w/target/xbench/deps/client-0123"}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
            "\nnot json\n",
        );

        let found = parse_executables(messages);

        assert_eq!(found.len(), 2);
        assert_eq!(
            found[&("bin".into(), "xtask".into())],
            PathBuf::from("/w/target/xbench/xtask")
        );
        assert_eq!(
            found[&("bench".into(), "client".into())],
            PathBuf::from("/w/target/xbench/deps/client-0123")
        );
    }

    #[test]
    fn the_spec_still_has_the_line_the_rebuild_changes() {
        let spec = std::fs::read_to_string(appmixer_spec::default_path()).unwrap();

        assert_eq!(spec.matches(SPEC_EDIT.0).count(), 1);
    }
}
