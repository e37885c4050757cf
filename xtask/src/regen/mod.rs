//! `cargo xtask regen [--check]`: lint the spec, then rewrite or check the
//! files derived from it.
//!
//! Generation is pure (spec in, file contents out) and deterministic, so
//! `--check` can compare what is committed with what would be written and
//! print a unified diff when they differ. A spec with lint problems derives
//! nothing: every problem is printed and no file is touched.

mod api_md;
mod markdown;
mod names;
mod operations_md;

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use appmixer_spec::{Problem, Spec, lint};
use similar::TextDiff;

/// Where the spec lives, relative to the workspace root.
const SPEC_PATH: &str = "spec/appmixer.yaml";

/// The hint printed when a derived file is stale.
const HINT: &str = "run `cargo xtask regen` and commit the result";

/// Options of `cargo xtask regen`.
#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// Write nothing; fail with a diff if a derived file is missing or stale.
    #[arg(long)]
    pub check: bool,
}

/// One file derived from the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedFile {
    /// Path relative to the workspace root, with `/` separators.
    pub path: &'static str,
    /// The full contents it should have.
    pub contents: String,
}

/// What generation produced.
#[derive(Debug)]
pub enum Generated {
    /// The spec is clean; these are the derived files.
    Files(Vec<DerivedFile>),
    /// The spec has lint problems; nothing may be derived from it.
    Problems(Vec<Problem>),
}

/// A derived file whose committed contents differ from the generated ones.
#[derive(Debug)]
pub struct Stale {
    /// Path relative to the workspace root.
    pub path: &'static str,
    /// Whether the file does not exist at all.
    pub missing: bool,
    /// A unified diff from the committed to the generated contents.
    pub diff: String,
}

/// Runs `regen` (or `regen --check`) on the workspace at `root`.
pub fn run(root: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let files = match generate(root)? {
        Generated::Files(files) => files,
        Generated::Problems(problems) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            eprintln!(
                "{SPEC_PATH} has {} lint problem(s); nothing was written",
                problems.len()
            );
            return Ok(ExitCode::FAILURE);
        }
    };

    if args.check {
        let stale = stale_files(root, &files)?;
        if stale.is_empty() {
            let paths: Vec<&str> = files.iter().map(|file| file.path).collect();
            println!("derived files are current: {}", paths.join(", "));
            return Ok(ExitCode::SUCCESS);
        }
        for file in &stale {
            let state = if file.missing { "missing" } else { "stale" };
            println!("{} is {state}:", file.path);
            print!("{}", file.diff);
        }
        println!("{HINT}");
        return Ok(ExitCode::FAILURE);
    }

    for (path, changed) in write_files(root, &files)? {
        if changed {
            println!("wrote {path}");
        } else {
            println!("{path} is up to date");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads and lints the spec of the workspace at `root` and renders the
/// derived files.
pub fn generate(root: &Path) -> anyhow::Result<Generated> {
    let spec = Spec::load(&root.join(SPEC_PATH))?;
    let problems = lint::all(&spec);
    if !problems.is_empty() {
        return Ok(Generated::Problems(problems));
    }
    Ok(Generated::Files(vec![
        DerivedFile {
            path: "docs/api.md",
            contents: api_md::render(&spec)?,
        },
        DerivedFile {
            path: "docs/operations.md",
            contents: operations_md::render(&spec)?,
        },
    ]))
}

/// The files whose contents on disk differ from `files`, with diffs.
pub fn stale_files(root: &Path, files: &[DerivedFile]) -> anyhow::Result<Vec<Stale>> {
    let mut stale = Vec::new();
    for file in files {
        let (current, missing) = match read_if_exists(&root.join(file.path))? {
            Some(current) => (current, false),
            None => (String::new(), true),
        };
        if current == file.contents {
            continue;
        }
        let before = if missing {
            "/dev/null".to_owned()
        } else {
            format!("a/{}", file.path)
        };
        let diff = TextDiff::from_lines(&current, &file.contents)
            .unified_diff()
            .header(&before, &format!("b/{}", file.path))
            .to_string();
        stale.push(Stale {
            path: file.path,
            missing,
            diff,
        });
    }
    Ok(stale)
}

/// Writes each file whose contents differ; returns each path and whether it changed.
pub fn write_files(
    root: &Path,
    files: &[DerivedFile],
) -> anyhow::Result<Vec<(&'static str, bool)>> {
    let mut written = Vec::new();
    for file in files {
        let path = root.join(file.path);
        if read_if_exists(&path)?.as_deref() == Some(file.contents.as_str()) {
            written.push((file.path, false));
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create the directory {}", parent.display()))?;
        }
        fs::write(&path, &file.contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push((file.path, true));
    }
    Ok(written)
}

fn read_if_exists(path: &Path) -> anyhow::Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// A scratch workspace holding a copy of the real spec, removed on drop.
    struct Scratch {
        root: PathBuf,
    }

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let root = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
            if root.exists() {
                fs::remove_dir_all(&root).unwrap();
            }
            fs::create_dir_all(root.join("spec")).unwrap();
            fs::copy(
                crate::workspace_root().join(SPEC_PATH),
                root.join(SPEC_PATH),
            )
            .unwrap();
            Scratch { root }
        }

        fn files(&self) -> Vec<DerivedFile> {
            match generate(&self.root).unwrap() {
                Generated::Files(files) => files,
                Generated::Problems(problems) => panic!("unexpected problems: {problems:#?}"),
            }
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.root);
        }
    }

    fn describe(stale: &[Stale]) -> String {
        stale
            .iter()
            .map(|file| format!("{} is stale:\n{}", file.path, file.diff))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn derived_files_of_the_workspace_are_current() {
        let root = crate::workspace_root();
        let files = match generate(&root).unwrap() {
            Generated::Files(files) => files,
            Generated::Problems(problems) => panic!("the spec has lint problems: {problems:#?}"),
        };

        let stale = stale_files(&root, &files).unwrap();

        assert!(stale.is_empty(), "{}\n{HINT}", describe(&stale));
    }

    #[test]
    fn a_stale_file_is_detected_and_its_diff_names_it() {
        let scratch = Scratch::new("stale");
        let files = scratch.files();
        write_files(&scratch.root, &files).unwrap();
        let api = scratch.root.join("docs/api.md");
        let edited = fs::read_to_string(&api)
            .unwrap()
            .replace("get_flows_count", "count_flows");
        fs::write(&api, edited).unwrap();

        let stale = stale_files(&scratch.root, &files).unwrap();

        assert_eq!(stale.len(), 1, "{}", describe(&stale));
        assert_eq!(stale[0].path, "docs/api.md");
        assert!(!stale[0].missing);
        assert!(
            stale[0].diff.contains("--- a/docs/api.md"),
            "{}",
            stale[0].diff
        );
        assert!(
            stale[0].diff.contains("+++ b/docs/api.md"),
            "{}",
            stale[0].diff
        );
        assert!(
            stale[0].diff.contains("-| 7 | `getFlowsCount`"),
            "{}",
            stale[0].diff
        );
    }

    #[test]
    fn a_missing_file_is_stale_and_diffed_from_nothing() {
        let scratch = Scratch::new("missing");
        let files = scratch.files();

        let stale = stale_files(&scratch.root, &files).unwrap();

        let paths: Vec<&str> = stale.iter().map(|file| file.path).collect();
        assert_eq!(paths, ["docs/api.md", "docs/operations.md"]);
        assert!(stale.iter().all(|file| file.missing));
        assert!(
            stale[0]
                .diff
                .starts_with("--- /dev/null\n+++ b/docs/api.md"),
            "{}",
            stale[0].diff
        );
    }

    #[test]
    fn regen_twice_is_a_no_op() {
        let scratch = Scratch::new("twice");
        let first = write_files(&scratch.root, &scratch.files()).unwrap();
        let after_first = fs::read(scratch.root.join("docs/api.md")).unwrap();

        let second = write_files(&scratch.root, &scratch.files()).unwrap();

        assert!(first.iter().all(|(_, changed)| *changed));
        assert!(second.iter().all(|(_, changed)| !changed), "{second:?}");
        assert_eq!(
            fs::read(scratch.root.join("docs/api.md")).unwrap(),
            after_first
        );
        assert!(
            stale_files(&scratch.root, &scratch.files())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_spec_with_problems_derives_nothing() {
        let scratch = Scratch::new("problems");
        let spec = scratch.root.join(SPEC_PATH);
        let broken = fs::read_to_string(&spec)
            .unwrap()
            .replace("operationId: getCharts\n", "operationId: listCharts\n");
        fs::write(&spec, broken).unwrap();

        let generated = generate(&scratch.root).unwrap();
        let code = run(&scratch.root, &Args::default()).unwrap();

        let Generated::Problems(problems) = generated else {
            panic!("expected lint problems");
        };
        assert!(
            problems
                .iter()
                .any(|p| p.message.contains("`getCharts` is mapped by no operation")),
            "{problems:#?}"
        );
        assert_eq!(code, ExitCode::FAILURE);
        assert!(!scratch.root.join("docs").exists());
    }

    #[test]
    fn check_mode_writes_nothing() {
        let scratch = Scratch::new("check");

        let code = run(&scratch.root, &Args { check: true }).unwrap();

        assert_eq!(code, ExitCode::FAILURE);
        assert!(!scratch.root.join("docs").exists());
    }
}
