//! The harness against the embedded reference server: a clean run passes,
//! calls every operation of the spec, and round-trips the real flow files.

mod common;

use appmixer_conformance::Options;
use appmixer_conformance::checks::CheckKind;

#[tokio::test]
async fn a_run_against_the_embedded_server_passes_and_calls_every_operation() {
    let options = Options {
        seed: Some(20240601),
        ..Options::default()
    };

    let report = appmixer_conformance::run(options)
        .await
        .expect("the run starts");

    assert!(report.failures.is_empty(), "unexpected failures:\n{report}");
    assert_eq!(report.exit_code(), 0, "{report}");
    assert!(
        report.uncalled().is_empty(),
        "never called: {:?}",
        report.uncalled()
    );
    let spec = appmixer_spec::Spec::load(&appmixer_spec::default_path()).expect("the spec loads");
    assert_eq!(
        report.rows.len(),
        spec.operations().len(),
        "one row per operation"
    );
    for row in &report.rows {
        assert!(
            row.tally(CheckKind::Status).total > 0,
            "{} has no status checks",
            row.operation
        );
        assert!(
            row.tally(CheckKind::Semantics).total > 1,
            "{} has no semantic checks",
            row.operation
        );
    }
    assert_eq!(report.descriptors.generated_checked, 16);
    assert_eq!(report.descriptors.generated_passed, 16);
    assert!(report.cleanup.leftovers.is_empty(), "{report}");
}

#[tokio::test]
async fn every_real_flow_file_round_trips_through_create_and_get() {
    let dir = common::flows_dir();
    let files = std::fs::read_dir(&dir)
        .expect("the flows directory is readable")
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "json"))
        .count();
    let options = Options {
        descriptors: Some(dir),
        cases: 1,
        ..Options::default()
    };

    let report = appmixer_conformance::run(options)
        .await
        .expect("the run starts");

    assert!(report.failures.is_empty(), "unexpected failures:\n{report}");
    assert_eq!(report.descriptors.files_checked, files);
    assert_eq!(report.descriptors.files_passed, files);
    let summary = report.to_string();
    assert!(
        summary.contains(&format!(
            "descriptor files: {files} checked, {files} round-tripped"
        )),
        "{summary}"
    );
}

#[tokio::test]
async fn the_seed_is_reported_so_a_run_can_be_repeated() {
    let options = Options {
        seed: Some(777),
        cases: 2,
        ..Options::default()
    };

    let report = appmixer_conformance::run(options)
        .await
        .expect("the run starts");

    assert_eq!(report.descriptors.seed, 777);
    assert!(report.to_string().contains("(seed 777)"));
}
