//! The harness against the embedded reference server round-trips the real
//! flow files. (The clean runs of `report_formats` pass and call every
//! operation of the spec.)

mod common;

use appmixer_conformance::Options;

#[tokio::test]
async fn every_real_flow_file_round_trips_through_create_and_get() {
    let Some(dir) = common::flows_dir() else {
        return;
    };
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
