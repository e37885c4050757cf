//! Without `--spec` a run checks against the spec built into the binary,
//! which needs no file of the build machine; with it, against that file.
//! The report says which, and `--help` says what the default is.

mod common;

use std::process::Command;

use appmixer_conformance::Options;
use appmixer_conformance::report::json;
use appmixer_conformance::spec_source::SpecSource;

#[tokio::test]
async fn a_run_without_spec_uses_the_embedded_one_and_says_so() {
    let failures = common::scratch_dir("spec-embedded");
    let options = Options {
        cases: 1,
        seed: Some(3),
        save_failures: failures.to_path_buf(),
        ..Options::for_profile(appmixer_conformance::Profile::Smoke)
    };

    let report = appmixer_conformance::run(options)
        .await
        .expect("the run starts");

    assert_eq!(report.spec, SpecSource::Embedded);
    assert_eq!(json::to_value(&report, false)["spec"], "embedded");
    assert!(report.to_string().contains("spec: embedded\n"), "{report}");
}

#[tokio::test]
async fn a_run_with_spec_names_the_file_it_used() {
    let failures = common::scratch_dir("spec-path");
    let path = appmixer_spec::default_path();
    let options = Options {
        cases: 1,
        seed: Some(3),
        spec: Some(path.clone()),
        save_failures: failures.to_path_buf(),
        ..Options::for_profile(appmixer_conformance::Profile::Smoke)
    };

    let report = appmixer_conformance::run(options)
        .await
        .expect("the run starts");

    assert_eq!(report.spec, SpecSource::Path(path.clone()));
    assert_eq!(
        json::to_value(&report, false)["spec"],
        path.display().to_string()
    );
}

#[test]
fn help_says_the_default_spec_is_built_into_the_binary() {
    let output = Command::new(env!("CARGO_BIN_EXE_appmixer-conformance"))
        .arg("--help")
        .output()
        .expect("the binary runs");

    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("built into this"), "{help}");
}
