//! `cargo xtask`: the project's automation, run through the alias in
//! `.cargo/config.toml`.
//!
//! Each subcommand is a module with its own `Args` and `run`; `main` only
//! parses the command line and turns the outcome into an exit code.
//! `regen` lints `spec/appmixer.yaml` and rewrites the files derived from it
//! (or, with `--check`, fails when they are stale). `faults` runs the
//! conformance harness against reference servers with planted faults and
//! reports which it catches. `bench` measures the client, the reference
//! server and the harness next to what a user would pick instead, and writes
//! `docs/bench.md`.

mod bench;
mod faults;
mod reference_process;
mod regen;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Project automation for the Appmixer toolkit.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Lint the spec and rewrite the files derived from it (docs/api.md, docs/operations.md).
    Regen(regen::Args),
    /// Run the harness against planted faults and write docs/faults.md and docs/faults.json.
    Faults(faults::Args),
    /// Measure the client, the reference server and the harness; write docs/bench.md.
    Bench(bench::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    let outcome = match &cli.command {
        Command::Regen(args) => regen::run(&root, args),
        Command::Faults(args) => faults::run(&root, args),
        Command::Bench(args) => bench::run(&root, args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}
