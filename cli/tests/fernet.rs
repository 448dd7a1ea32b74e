//! Layers from flags: an encrypted store read with and without its key, prefixes, compression.

mod common;

use common::{run, run_with, unique};
use serde_json::json;

const KEY: &str = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
const OTHER_KEY: &str = "8Xp8fxbzNQYjtOm4c0Sz0DdLMmoEgVDC8-X3XXkh2m8=";

#[test]
fn an_encrypted_store_reads_with_its_key_and_fails_typed_without_it() {
    let redis = common::redis();
    let c = unique("cli-fernet");
    let value = r#"{"access_token":"very-private"}"#;
    let with_key = [("STOWAGE_FERNET_KEY", KEY)];
    run_with(&["put", &redis, &c, "alice", value], None, &with_key).ok();

    // With the key (default variable, or a named one): the value.
    let got = run_with(&["get", &redis, &c, "alice", "--json"], None, &with_key)
        .ok()
        .json();
    assert_eq!(got["value"], json!({"access_token": "very-private"}));
    let named = [("MY_TOKENS_KEY", KEY)];
    run_with(
        &[
            "get",
            &redis,
            &c,
            "alice",
            "--fernet-key-env",
            "MY_TOKENS_KEY",
        ],
        None,
        &named,
    )
    .ok();

    // At rest it is the envelope (`--raw`).
    let raw = run(&["get", &redis, &c, "alice", "--raw", "--json"])
        .ok()
        .json()["value"]
        .clone();
    assert!(raw["__encrypted_data__"].is_string(), "{raw}");
    assert!(!raw.to_string().contains("very-private"));

    // Without the key, or with another one: exit 77, a hint, no plaintext, no key printed.
    let wrong = [("STOWAGE_FERNET_KEY", OTHER_KEY)];
    for env in [&[][..], &wrong[..]] {
        let out = run_with(&["get", &redis, &c, "alice"], None, env).code(77);
        assert!(out.stderr.contains("decryption failed"), "{}", out.stderr);
        assert!(out.stderr.contains("--fernet-key-env"), "{}", out.stderr);
        assert!(!out.stderr.contains(OTHER_KEY) && !out.stdout.contains("very-private"));
    }
    // A variable named but unset, a malformed key: usage and configuration errors.
    run(&[
        "get",
        &redis,
        &c,
        "alice",
        "--fernet-key-env",
        "NOT_SET_ANYWHERE",
    ])
    .code(2);
    let bad = run_with(
        &["get", &redis, &c, "alice"],
        None,
        &[("STOWAGE_FERNET_KEY", "short")],
    )
    .code(78);
    assert!(!bad.stderr.contains("short\n"), "{}", bad.stderr);

    // A plain value read through the key is refused, not passed off as decrypted.
    run(&["put", &redis, &c, "plain", "{}"]).ok();
    run_with(&["get", &redis, &c, "plain"], None, &with_key).code(77);
    run(&["destroy", &redis, &c, "--yes"]).ok();
}

#[test]
fn prefixes_and_compression_are_visible_in_the_raw_store() {
    let (_dir, disk) = common::disk();
    let big = json!({"text": "x".repeat(4000)}).to_string();
    run(&[
        "put",
        &disk,
        "c",
        "k",
        &big,
        "--prefix",
        "app",
        "--key-prefix",
        "v1",
        "--compress",
    ])
    .ok();
    run(&["get", &disk, "c", "k"]).code(1);
    assert_eq!(run(&["collections", &disk]).ok().stdout, "app__c\n");
    assert_eq!(run(&["keys", &disk, "app__c"]).ok().stdout, "v1__k\n");
    let raw = common::value_of(&disk, "app__c", "v1__k");
    assert!(raw.to_string().len() < 1000, "not compressed: {raw}");
    let back = run(&[
        "get",
        &disk,
        "c",
        "k",
        "--prefix",
        "app",
        "--key-prefix",
        "v1",
        "--compress",
        "--json",
    ])
    .ok()
    .json();
    assert_eq!(back["value"].to_string(), big);
    run(&["put", &disk, "c", "k", "{}", "--prefix", "bad__prefix"]).code(78);
}
