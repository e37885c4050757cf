//! The tests' own directories go away when the tests are done with them,
//! and no two tests share one.

mod common;

#[test]
fn a_scratch_directory_is_removed_when_its_guard_is_dropped() {
    let dir = common::scratch_dir("guard");
    std::fs::write(dir.join("file"), "x").unwrap();
    let path = dir.to_path_buf();
    assert!(path.is_dir());

    drop(dir);

    assert!(!path.exists(), "{} is left behind", path.display());
}

#[test]
fn each_options_get_a_failures_directory_removed_when_the_test_thread_ends() {
    let (first, second) = std::thread::spawn(|| {
        let first = common::signup_options("http://127.0.0.1:9").save_failures;
        let second = common::signup_options("http://127.0.0.1:9").save_failures;
        std::fs::create_dir_all(&first).unwrap();
        std::fs::write(first.join("case.json"), "{}").unwrap();
        (first, second)
    })
    .join()
    .unwrap();

    assert_ne!(first, second, "tests in parallel do not share one");
    assert!(!first.exists(), "{} is left behind", first.display());
}
