//! `bench`: a short run through the harness's runner, leaving nothing behind.

mod common;

use common::run;

#[test]
fn a_short_run_reports_every_workload_and_cleans_up() {
    let (_dir, disk) = common::disk();
    run(&["put", &disk, "mine", "k", "{}"]).ok();
    let doc = run(&[
        "bench",
        &disk,
        "--duration",
        "0.3",
        "--keys",
        "200",
        "--value-size",
        "64",
        "--json",
        "--workloads",
        "a,b",
    ])
    .ok()
    .json();
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{doc}");
    for r in results {
        assert!(r["ops_per_sec"].as_f64().unwrap() > 0.0, "{r}");
        assert_eq!(r["backend"], "disk");
    }
    // Only the data that was there before.
    assert_eq!(run(&["collections", &disk]).ok().stdout, "mine\n");

    let human = run(&[
        "bench",
        &common::redis(),
        "--duration",
        "0.3",
        "--keys",
        "100",
    ])
    .ok();
    assert!(
        human.stdout.contains("ops/s") && human.stdout.contains("read-heavy"),
        "{}",
        human.stdout
    );
    run(&["bench", &disk, "--workloads", "nope"]).code(2);
}
