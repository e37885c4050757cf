//! Generates the typed client from `spec/appmixer.yaml` into `OUT_DIR/codegen.rs`.
//!
//! The work happens in `codegen/generate.rs`, which the tests include too; this
//! script only reports. A spec progenitor cannot handle fails the build with
//! one `cargo:warning` per failing operation and a one-paragraph summary.

#[path = "codegen/generate.rs"]
mod generate;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let spec = manifest_dir.join("../../spec/appmixer.yaml");
    println!("cargo:rerun-if-changed={}", spec.display());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=codegen/generate.rs");

    let code = match generate::generate(&spec) {
        Ok(code) => code,
        Err(failure) => {
            for problem in &failure.problems {
                // One line per problem: cargo reads a warning to the line's end.
                let line = problem.to_string().replace('\n', " ");
                println!("cargo:warning={line}");
            }
            eprintln!("{failure}");
            return ExitCode::FAILURE;
        }
    };

    let Some(out_dir) = std::env::var_os("OUT_DIR") else {
        eprintln!("OUT_DIR is not set: run this build script through cargo");
        return ExitCode::FAILURE;
    };
    let out = PathBuf::from(out_dir).join("codegen.rs");
    if let Err(error) = std::fs::write(&out, code) {
        eprintln!(
            "cannot write the generated client to {}: {error}",
            out.display()
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
