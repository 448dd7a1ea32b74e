//! Data written by the real Python `py-key-value-aio` (Redis, MongoDB, DynamoDB, and Fernet
//! encrypted) read with the command line: values, remaining TTLs, listings.

mod common;

use common::{run, run_with, unique};
use serde_json::{Value as Json, json};

const KEY: &str = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";

/// Have Python write `entries` into `collection` of the store `target` describes.
fn python_writes(target: Json, collection: &str, fernet_key: Option<&str>) {
    let mut args = target;
    args["collection"] = json!(collection);
    args["fernet_key"] = json!(fernet_key);
    args["entries"] = json!([
        {"key": "plain", "value": {"a": 1, "b": [true, null, 2.5]}, "ttl": null},
        {"key": "with-ttl", "value": {"token": "abc", "n": {"deep": [1, 2]}}, "ttl": 300.0},
        {"key": "ключ🔑", "value": {"text": "é☃😀 \"quoted\"\n"}, "ttl": 3600.0},
    ]);
    let script = stowage_core::testkit::python::package_file("tests/py/pykv_write.py");
    let out = stowage_core::testkit::python::run_json(&script, &[&args.to_string()], None);
    assert_eq!(out, json!({"ok": true}));
}

/// Read back what [`python_writes`] wrote, through `stowage` with `env`.
fn stowage_reads(url: &str, c: &str, env: &[(&str, &str)]) {
    let get = |key: &str| {
        run_with(&["get", url, c, key, "--json"], None, env)
            .ok()
            .json()["value"]
            .clone()
    };
    let ttl = |key: &str| {
        run_with(&["ttl", url, c, key, "--json"], None, env)
            .ok()
            .json()["ttl"]
            .as_f64()
    };
    assert_eq!(get("plain"), json!({"a": 1, "b": [true, null, 2.5]}));
    assert_eq!(
        get("with-ttl"),
        json!({"token": "abc", "n": {"deep": [1, 2]}})
    );
    assert_eq!(get("ключ🔑"), json!({"text": "é☃😀 \"quoted\"\n"}));
    assert_eq!(ttl("plain"), None);
    let left = ttl("with-ttl").expect("written with a TTL");
    assert!(left > 270.0 && left <= 300.0, "remaining {left}");
    let left = ttl("ключ🔑").expect("written with a TTL");
    assert!(left > 3570.0 && left <= 3600.0, "remaining {left}");
    let keys = run_with(&["keys", url, c], None, env).ok();
    assert_eq!(keys.stdout, "plain\nwith-ttl\nключ🔑\n");
}

#[test]
fn redis() {
    let url = common::redis();
    let c = unique("cli-pykv");
    python_writes(json!({"store": "redis", "url": url}), &c, None);
    stowage_reads(&url, &c, &[]);
    run(&["destroy", &url, &c, "--yes"]).ok();
}

#[test]
fn redis_fernet() {
    let url = common::redis();
    let c = unique("cli-pykv");
    python_writes(json!({"store": "redis", "url": url}), &c, Some(KEY));
    stowage_reads(&url, &c, &[("STOWAGE_FERNET_KEY", KEY)]);
    // Without the key, or with another: a typed failure; `--raw` shows the envelope.
    run(&["get", &url, &c, "plain"]).code(77);
    let raw = run(&["get", &url, &c, "plain", "--raw", "--json"])
        .ok()
        .json();
    assert!(raw["value"]["__encrypted_data__"].is_string(), "{raw}");
    let wrong = [(
        "STOWAGE_FERNET_KEY",
        "8Xp8fxbzNQYjtOm4c0Sz0DdLMmoEgVDC8-X3XXkh2m8=",
    )];
    run_with(&["get", &url, &c, "plain"], None, &wrong).code(77);
    run(&["destroy", &url, &c, "--yes"]).ok();
}

#[test]
fn mongodb() {
    let (url, db) = common::mongodb();
    let c = unique("cli-pykv");
    python_writes(
        json!({"store": "mongodb", "url": common::mongodb_server(), "db": db}),
        &c,
        None,
    );
    stowage_reads(&url, &c, &[]);
    run(&["destroy", &url, "--yes"]).ok();
}

#[test]
fn dynamodb_fernet() {
    let (url, table) = common::dynamodb();
    let c = unique("cli-pykv");
    let target =
        json!({"store": "dynamodb", "endpoint": common::dynamodb_endpoint(), "table": table});
    python_writes(target.clone(), &c, None);
    stowage_reads(&url, &c, &[]);
    let encrypted = unique("cli-pykv");
    python_writes(target, &encrypted, Some(KEY));
    stowage_reads(&url, &encrypted, &[("STOWAGE_FERNET_KEY", KEY)]);
    run(&["destroy", &url, "--yes"]).ok();
}
