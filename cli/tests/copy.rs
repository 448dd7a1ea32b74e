//! `copy`: disk → Redis and Redis → DynamoDB, keeping values and remaining TTLs, skipping
//! expired entries, and changing nothing when run again.

mod common;

use std::time::Duration;

use common::{run, unique};
use serde_json::json;

/// The expiry instant `stowage ttl --json` reports, in Unix seconds (`None`: never expires).
#[track_caller]
fn expires_at(url: &str, c: &str, key: &str) -> Option<f64> {
    run(&["ttl", url, c, key, "--json"]).ok().json()["expires_at"].as_f64()
}

/// Assert `key` has the same value in both stores, and the same expiry within a second: the
/// remaining TTL was carried over (compared as instants, so the time between the two reads
/// does not count).
#[track_caller]
fn assert_copied(src: &str, dst: &str, c: &str, key: &str) {
    assert_eq!(
        common::value_of(src, c, key),
        common::value_of(dst, c, key),
        "{key}"
    );
    match (expires_at(src, c, key), expires_at(dst, c, key)) {
        (None, None) => {}
        (Some(a), Some(b)) => assert!((a - b).abs() <= 1.0, "{key}: expiry {a} became {b}"),
        other => panic!("{key}: expiry {other:?}"),
    }
    let left = common::ttl_of(dst, c, key);
    assert!(left.is_none_or(|s| s > 200.0), "{key}: {left:?}");
}

/// Fill `url` with a mix: no expiry, a long TTL, a short TTL that will have passed.
fn fill(url: &str, c: &str) {
    for i in 0..25 {
        let v = json!({"i": i, "text": "é☃😀"}).to_string();
        run(&["put", url, c, &format!("plain-{i:02}"), &v]).ok();
    }
    for i in 0..5 {
        let v = json!({"i": i, "ttl": true}).to_string();
        run(&[
            "put",
            url,
            c,
            &format!("ttl-{i}"),
            &v,
            "--ttl",
            &format!("{}", 300 + i * 60),
        ])
        .ok();
    }
    run(&["put", url, c, "short", "{}", "--ttl", "0.5"]).ok();
}

#[test]
fn disk_to_redis_keeps_values_and_ttls_and_a_rerun_changes_nothing() {
    let (_dir, disk) = common::disk();
    let redis = common::redis();
    let (c1, c2) = (unique("cli-copy"), unique("cli-copy"));
    fill(&disk, &c1);
    run(&["put", &disk, &c2, "other", r#"{"c":2}"#]).ok();
    std::thread::sleep(Duration::from_millis(700)); // `short` expires

    // Dry run first: reports, writes nothing.
    let dry = run(&["copy", &disk, &redis, "--dry-run", "--json"])
        .ok()
        .json();
    assert_eq!(dry["copied"], 31, "{dry}");
    assert_eq!(run(&["keys", &redis, &c1]).ok().stdout, "");

    // Every collection of the source (there is no --collection).
    let first = run(&["copy", &disk, &redis, "--json", "--batch-size", "7"])
        .ok()
        .json();
    assert_eq!(first["copied"], 31, "{first}");
    assert_eq!(first["failed"], 0, "{first}");
    assert_eq!(first["collections"], 2, "{first}");
    for i in 0..25 {
        assert_copied(&disk, &redis, &c1, &format!("plain-{i:02}"));
    }
    for i in 0..5 {
        assert_copied(&disk, &redis, &c1, &format!("ttl-{i}"));
    }
    assert_copied(&disk, &redis, &c2, "other");
    run(&["get", &redis, &c1, "short"]).code(1);

    let second = run(&["copy", &disk, &redis, "--json"]).ok().json();
    assert_eq!(second["copied"], 0, "{second}");
    assert_eq!(second["unchanged"], 31, "{second}");

    // A changed value is copied again; nothing else.
    run(&["put", &disk, &c1, "plain-03", r#"{"changed":true}"#]).ok();
    let human = run(&["copy", &disk, &redis]).ok();
    assert!(
        human.stdout.starts_with("copied 1, skipped 30"),
        "{}",
        human.stdout
    );
    assert_eq!(
        common::value_of(&redis, &c1, "plain-03"),
        json!({"changed": true})
    );

    run(&["destroy", &redis, &c1, "--yes"]).ok();
    run(&["destroy", &redis, &c2, "--yes"]).ok();
}

#[test]
fn redis_to_dynamodb_by_collection() {
    let redis = common::redis();
    let (dynamo, _) = common::dynamodb();
    let (c, not_copied) = (unique("cli-copy"), unique("cli-copy"));
    fill(&redis, &c);
    run(&["put", &redis, &not_copied, "k", "{}"]).ok();
    std::thread::sleep(Duration::from_millis(700));

    let first = run(&["copy", &redis, &dynamo, "--collection", &c, "--json"])
        .ok()
        .json();
    assert_eq!(first["copied"], 30, "{first}");
    for i in 0..5 {
        assert_copied(&redis, &dynamo, &c, &format!("ttl-{i}"));
    }
    assert_copied(&redis, &dynamo, &c, "plain-07");
    run(&["get", &dynamo, &c, "short"]).code(1);
    run(&["get", &dynamo, &not_copied, "k"]).code(1);

    let second = run(&["copy", &redis, &dynamo, "--collection", &c, "--json"])
        .ok()
        .json();
    assert_eq!(
        (second["copied"].as_u64(), second["unchanged"].as_u64()),
        (Some(0), Some(30)),
        "{second}"
    );

    run(&["destroy", &redis, &c, "--yes"]).ok();
    run(&["destroy", &redis, &not_copied, "--yes"]).ok();
    run(&["destroy", &dynamo, "--yes"]).ok();
}

#[test]
fn copy_into_a_store_that_rejects_entries_reports_them_and_exits_3() {
    // Keys longer than the destination allows: DynamoDB's sort key holds at most 1024 bytes.
    let (_dir, disk) = common::disk();
    let (dynamo, _) = common::dynamodb();
    let c = unique("cli-copy");
    let long = "k".repeat(2000);
    run(&["put", &disk, &c, &long, "{}"]).ok();
    run(&["put", &disk, &c, "fine", "{}"]).ok();
    let out = run(&["copy", &disk, &dynamo, "--collection", &c]).code(3);
    assert!(
        out.stdout.contains("copied 1,") && out.stdout.contains("failed 1"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("1 entries failed"), "{}", out.stderr);
    run(&["get", &dynamo, &c, "fine"]).ok();
    run(&["destroy", &dynamo, "--yes"]).ok();
}
