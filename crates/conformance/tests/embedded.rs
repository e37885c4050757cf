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

#[tokio::test]
async fn a_flow_file_read_back_from_a_server_round_trips_without_its_server_set_fields() {
    let dir = common::scratch_dir("read-back-flow");
    std::fs::write(
        dir.join("read-back.json"),
        serde_json::json!({
            "name": "saved from a server",
            "flow": {"a1": {"type": "appmixer.utils.controls.OnStart", "x": 1, "y": 2}},
            "customFields": {"team": "ops"},
            "flowId": "0b9a9d6e-5c1f-4c2e-9a57-3d2f1e0c7b11",
            "userId": "5f0c0ffee0000000000000u1",
            "stage": "running",
            "btime": "2024-01-01T10:00:00.000Z",
            "mtime": "2024-01-02T10:00:00.000Z",
            "started": "2024-01-02T10:00:01.000Z",
            "stopped": "2024-01-02T09:00:00.000Z",
            "_id": "5f0c0ffee0000000000000f1",
        })
        .to_string(),
    )
    .expect("write the flow file");
    let options = Options {
        descriptors: Some(dir.to_path_buf()),
        cases: 1,
        ..Options::default()
    };

    let report = appmixer_conformance::run(options)
        .await
        .expect("the run starts");

    assert!(report.failures.is_empty(), "unexpected failures:\n{report}");
    assert_eq!(report.descriptors.files_passed, 1, "{report}");
    let stripped = &report.descriptors.stripped;
    assert_eq!(stripped.len(), 1, "{stripped:?}");
    assert_eq!(stripped[0].0, "read-back.json");
    assert_eq!(
        stripped[0].1,
        [
            "flowId", "userId", "stage", "btime", "mtime", "started", "stopped", "_id"
        ]
    );
    let summary = report.to_string();
    assert!(
        summary.contains("read-back.json: stripped the server-set flowId, userId, stage"),
        "{summary}"
    );
    std::fs::remove_dir_all(dir).expect("remove the scratch directory");
}
