//! `health`: every step timed on live stores; a non-zero exit and a clear message, with the
//! password masked, for a store that does not answer.

mod common;

use common::run;

#[test]
fn live_stores_pass_every_step() {
    let (_dir, disk) = common::disk();
    let (mongo, _) = common::mongodb();
    let (dynamo, _) = common::dynamodb();
    let urls = [
        disk.as_str(),
        &common::redis(),
        &common::redis_cluster(),
        &mongo,
        &dynamo,
    ];
    let mut args = vec!["health", "--json"];
    args.extend(urls);
    let doc = run(&args).ok().json();
    assert_eq!(doc["ok"], true, "{doc}");
    let stores = doc["stores"].as_array().unwrap();
    assert_eq!(stores.len(), urls.len());
    for s in stores {
        let steps: Vec<&str> = s["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|st| st["step"].as_str().unwrap())
            .collect();
        assert_eq!(steps, ["open", "put", "get", "delete"], "{s}");
        assert!(s["steps"][1]["ms"].as_f64().unwrap() >= 0.0);
    }
    // The probe is removed: its collection holds nothing on the disk store.
    assert_eq!(run(&["keys", &disk, "stowage-health"]).ok().stdout, "");
    let human = run(&["health", &disk]).ok();
    assert!(
        human.stdout.contains("delete") && human.stdout.contains("ok"),
        "{}",
        human.stdout
    );
    run(&["destroy", &mongo, "--yes"]).ok();
    run(&["destroy", &dynamo, "--yes"]).ok();
}

#[test]
fn an_unreachable_server_fails_with_69_and_never_shows_the_password() {
    let out = run(&[
        "health",
        "redis://ops:hunter2-secret@127.0.0.1:1/",
        &common::redis(),
    ])
    .code(69);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(!all.contains("hunter2"), "{all}");
    assert!(
        out.stderr
            .contains("health check failed for 1 of 2 store(s)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("redis://ops:***@127.0.0.1:1/"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.to_lowercase().contains("unavailable"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("FAILED"), "{}", out.stdout);

    let json = run(&["health", "--json", "redis://:hunter2-secret@127.0.0.1:1/"]).code(69);
    assert!(!json.stdout.contains("hunter2") && !json.stderr.contains("hunter2"));
    assert_eq!(json.json()["ok"], false);

    // Logs at every level are masked too.
    let verbose = run(&[
        "-vvv",
        "get",
        "redis://ops:hunter2-secret@127.0.0.1:1/",
        "c",
        "k",
    ])
    .code(69);
    assert!(!verbose.stderr.contains("hunter2"), "{}", verbose.stderr);
}

#[test]
fn secrets_in_dynamodb_and_mongodb_urls_stay_hidden_in_errors() {
    let out = run(&[
        "get",
        "dynamodb://cli-unreachable?endpoint=http://127.0.0.1:1&timeout_ms=1000&region=us-east-1&access_key_id=AKIDSECRETID&secret_access_key=wJalrXUtnFEMI-secret",
        "c",
        "k",
    ]);
    assert_ne!(out.code, 0);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        !all.contains("wJalrXUtnFEMI") && !all.contains("AKIDSECRETID"),
        "{all}"
    );

    let out = run(&[
        "health",
        "--timeout",
        "2",
        "mongodb://admin:s3cr3t-pw@127.0.0.1:1/db?serverSelectionTimeoutMS=500",
    ]);
    assert_ne!(out.code, 0);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(!all.contains("s3cr3t-pw"), "{all}");
    assert!(all.contains("admin:***@"), "{all}");
}
