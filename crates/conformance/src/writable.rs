//! Whether the files and directories a run writes at its end can be
//! written, asked before the run sends its first request.
//!
//! A report that cannot be written is found out only after a run of many
//! minutes has sent thousands of requests; checking first turns a wrong
//! path into a usage error that costs nothing. The checks try what the run
//! will do (open the file for writing, create a file in the directory) and
//! undo it, since permission bits alone do not say what a process may write.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

/// Why a file cannot be written at `path`, or `Ok` when it can: the path
/// is not a directory, its directory exists, and the file can be opened
/// (or created) for writing. An existing file is left as it is.
pub fn file(path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err(format!(
            "`{}` is a directory; give the path of a file in it",
            path.display()
        ));
    }
    let parent = parent_of(path);
    if !parent.exists() {
        return Err(format!(
            "the directory `{}` does not exist; create it or give another path",
            parent.display()
        ));
    }
    if !parent.is_dir() {
        return Err(format!("`{}` is not a directory", parent.display()));
    }
    if path.exists() {
        return OpenOptions::new()
            .write(true)
            .open(path)
            .map(drop)
            .map_err(|error| format!("cannot write `{}`: {error}", path.display()));
    }
    probe(path)
}

/// Why files cannot be written in the directory `dir`, or `Ok` when they
/// can: `dir` is a directory, or does not exist yet and can be created
/// under its nearest existing ancestor, which is a writable directory.
/// Nothing is created but a probe file, removed again.
pub fn dir(dir: &Path) -> Result<(), String> {
    let mut existing = dir.to_path_buf();
    while !existing.exists() {
        let parent = parent_of(&existing);
        if parent == existing {
            return Err(format!(
                "no directory on the way to `{}` exists",
                dir.display()
            ));
        }
        existing = parent;
    }
    if !existing.is_dir() {
        return Err(format!(
            "`{}` is not a directory, so `{}` cannot be created",
            existing.display(),
            dir.display()
        ));
    }
    let probe_file = existing.join(format!(
        ".amxc-write-check-{}",
        uuid::Uuid::new_v4().simple()
    ));
    probe(&probe_file).map_err(|_| {
        format!(
            "cannot write in `{}`: permission denied or read-only",
            existing.display()
        )
    })
}

/// The directory `path` is in: `.` for a bare file name.
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates `path`, which does not exist, and removes it again.
fn probe(path: &Path) -> Result<(), String> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|error| format!("cannot create `{}`: {error}", path.display()))?;
    // The probe is gone or it is not: either way the check has its answer.
    let _ = std::fs::remove_file(path);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("amxc-writable-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_directory_is_not_a_report_file() {
        let dir = scratch();

        let reason = file(&dir).unwrap_err();

        assert!(reason.contains("is a directory"), "{reason}");
        assert!(reason.contains(&dir.display().to_string()), "{reason}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_report_file_needs_an_existing_directory_and_is_not_left_behind() {
        let dir = scratch();
        let missing = dir.join("no-such-dir/report.json");
        let fine = dir.join("report.json");

        let reason = file(&missing).unwrap_err();

        assert!(reason.contains("does not exist"), "{reason}");
        assert!(reason.contains("no-such-dir"), "{reason}");
        assert_eq!(file(&fine), Ok(()));
        assert!(!fine.exists(), "the check leaves no file behind");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_failures_directory_may_be_created_but_not_under_a_file() {
        let dir = scratch();
        let plain = dir.join("plain");
        std::fs::write(&plain, "x").unwrap();

        assert_eq!(super::dir(&dir.join("a/b")), Ok(()));
        let reason = super::dir(&plain.join("failures")).unwrap_err();

        assert!(reason.contains("is not a directory"), "{reason}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "only `plain`");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
