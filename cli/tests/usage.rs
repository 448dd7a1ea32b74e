//! Bad input gets a typed error and its documented exit code, never a panic; help carries
//! examples; completions are generated.

mod common;

use common::{run, run_with};

#[test]
fn bad_input_exits_with_its_documented_code() {
    let (_dir, disk) = common::disk();
    let cases: &[(&[&str], i32, &str)] = &[
        (&["put", &disk, "c", "k", "not json"], 2, "invalid value"),
        (&["put", &disk, "c", "k", "[1,2]"], 2, "invalid value"),
        (
            &["put", &disk, "c", "k", "{}", "--ttl", "0"],
            2,
            "more than zero",
        ),
        (&["put", &disk, "c", "k", "{}", "--ttl", "-5"], 2, ""),
        (
            &["put", &disk, "c", "k", "{}", "--ttl", "NaN"],
            2,
            "more than zero",
        ),
        (&["get", &disk, "", "k"], 2, "invalid collection"),
        (&["get", &disk, "a::b", "k"], 2, "invalid collection"),
        (&["get", &disk, "c", ""], 2, "invalid key"),
        (
            &["get", "postgres://db/x", "c", "k"],
            78,
            "unknown store URL scheme",
        ),
        (&["get", "no-scheme", "c", "k"], 78, "store URL"),
        (&["get", "disk://", "c", "k"], 78, "needs a path"),
        (
            &["get", "disk:///tmp/x.redb?cache=1", "c", "k"],
            78,
            "unknown option",
        ),
        (&["get", &disk, "c"], 2, "required"),
        (&["frobnicate"], 2, "unrecognized subcommand"),
        (&["copy", &disk, "memory://", "--batch-size", "0"], 2, ""),
        (
            &["keys", "memory://", "c", "--limit", "x"],
            2,
            "invalid value",
        ),
        (&["completions", "tcsh"], 2, "invalid value"),
        (&["health"], 2, "required"),
    ];
    for (args, code, needle) in cases {
        let out = run(args).code(*code);
        assert!(
            out.stderr.to_lowercase().contains(&needle.to_lowercase()),
            "{args:?}: expected `{needle}` in {}",
            out.stderr
        );
    }
    // Nothing was written by any of them.
    assert_eq!(run(&["collections", &disk]).ok().stdout, "");
    run_with(&["put", &disk, "c", "k"], Some("{oops"), &[]).code(2);
}

#[test]
fn with_json_an_error_is_a_json_document_on_standard_error() {
    let out = run(&[
        "get",
        "redis://u:hunter2-json@127.0.0.1:1/",
        "c",
        "k",
        "--json",
    ])
    .code(69);
    let doc: serde_json::Value = serde_json::from_str(out.stderr.trim()).unwrap();
    assert_eq!(doc["exit_code"], 69, "{doc}");
    let message = doc["error"].as_str().unwrap();
    assert!(message.contains("redis://u:***@127.0.0.1:1/"), "{message}");
    assert!(!out.stderr.contains("hunter2-json"));
}

#[test]
fn a_password_quoted_in_a_usage_error_is_masked() {
    let out = run(&["get", "redis://u:pa55word-x@127.0.0.1:1/", "--bogus"]).code(2);
    assert!(!out.stderr.contains("pa55word-x"), "{}", out.stderr);
    // clap quotes the bad value back: masked.
    let out = run(&[
        "keys",
        "memory://",
        "c",
        "--limit",
        "mongodb://u:pa55word-x@h/",
    ])
    .code(2);
    assert!(out.stderr.contains("mongodb://u:***@h/"), "{}", out.stderr);
    assert!(!out.stderr.contains("pa55word-x"), "{}", out.stderr);
}

#[test]
fn help_has_examples_and_exit_codes() {
    let root = run(&["--help"]).ok();
    for needle in [
        "Examples:",
        "Exit codes:",
        "69  backend unavailable",
        "65  corrupt stored data",
    ] {
        assert!(root.stdout.contains(needle), "{needle}: {}", root.stdout);
    }
    for sub in [
        "get",
        "put",
        "delete",
        "ttl",
        "keys",
        "collections",
        "copy",
        "health",
        "cull",
        "destroy",
        "bench",
        "completions",
    ] {
        let help = run(&[sub, "--help"]).ok();
        assert!(help.stdout.contains("Examples:"), "{sub}: {}", help.stdout);
        assert!(help.stdout.contains(&format!("stowage {sub} ")), "{sub}");
    }
    run(&["--version"]).ok();
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run(&["completions", shell]).ok();
        assert!(out.stdout.contains("stowage"), "{shell}");
        assert!(out.stdout.contains("health"), "{shell}");
    }
}

#[test]
fn memory_lists_and_a_store_without_a_capability_says_so() {
    // A fresh memory store per run: nothing to list, but it can.
    assert_eq!(run(&["collections", "memory://"]).ok().stdout, "");
    // Redis has no `cull` (expiry is the server's): a clear message and exit 4.
    let out = run(&["cull", &common::redis()]);
    if out.code != 0 {
        let out = out.code(4);
        assert!(out.stderr.contains("capability"), "{}", out.stderr);
    }
}
