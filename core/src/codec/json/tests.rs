//! Tests of the JSON envelope.
use super::decode::{decode_canonical, decode_general};
use super::*;
use crate::error::ErrorKind;
use std::time::{Duration, UNIX_EPOCH};

// Written by py-key-value-aio 0.4.6:
// BasicSerializationAdapter(date_format="isoformat", value_format="dict").dump_json(...)
const PY_FULL: &str = r#"{"collection": "coll", "created_at": "2026-11-22T03:16:48.123456+00:00", "expires_at": "2026-11-22T03:17:48.123456+00:00", "key": "k\u20acy", "value": {"a": "\u00e9\u2603\ud83d\ude00\n", "b": [1, 2.5, null, true], "z": {"x": 2, "y": 1}}, "version": 1}"#;
const PY_NO_EXPIRY: &str = r#"{"collection": "c", "created_at": "2026-01-02T03:04:05+00:00", "key": "k", "value": {}, "version": 1}"#;

fn at(text: &str) -> SystemTime {
    parse_timestamp(text).unwrap()
}

#[test]
fn python_documents_decode() {
    let env = decode(PY_FULL.as_bytes()).unwrap();
    assert_eq!(env.collection.as_deref(), Some("coll"));
    assert_eq!(env.key.as_deref(), Some("k€y"));
    let map = env.value.to_map();
    assert_eq!(map["a"], "é☃😀\n");
    assert_eq!(map["z"]["x"], 2);
    let created = UNIX_EPOCH + Duration::from_micros(1_795_317_408_123_456);
    assert_eq!(env.created_at, Some(created));
    assert_eq!(env.expires_at, Some(created + Duration::from_secs(60)));

    let env = decode(PY_NO_EXPIRY.as_bytes()).unwrap();
    assert_eq!(env.expires_at, None);
    assert_eq!(env.value.as_str(), "{}");
    assert_eq!(
        env.created_at,
        Some(UNIX_EPOCH + Duration::from_secs(1_767_323_045))
    );
}

#[test]
fn the_canonical_reader_takes_what_stowage_writes_and_agrees_with_the_general_one() {
    let created = at("2026-11-22T03:16:48.123456+00:00");
    let values = [
        Value::empty(),
        Value::from_json(r#"{"a": [1, {"b": "\"}\u00e9"}], "c": null}"#).unwrap(),
        Value::from_json(r#"{"k": "\", \"version\": 1}"}"#).unwrap(),
    ];
    for value in &values {
        for (created_at, expires_at) in [
            (None, None),
            (Some(created), None),
            (Some(created), Some(created + Duration::from_millis(1500))),
        ] {
            let text = encode("coll", "key", value, created_at, expires_at);
            let (fast, fast_created, fast_expires) =
                decode_canonical(&text, Value::from_valid_object).expect("canonical");
            let general = decode_general(text.as_bytes()).unwrap();
            assert_eq!(fast.value, *value, "{text}");
            assert_eq!(fast.value, general.value);
            assert_eq!(fast.collection.as_deref(), Some("coll"));
            assert_eq!(fast.key.as_deref(), Some("key"));
            assert_eq!((fast_created, fast_expires), (created_at, expires_at));
            assert_eq!(decode(text.as_bytes()).unwrap().into_entry().value, *value);
        }
    }
    // Non-ASCII names are written escaped, which the general reader handles.
    let text = encode("coll", "k€y", &values[1], None, None);
    assert!(decode_canonical(&text, Value::from_valid_object).is_none());
    assert_eq!(decode(text.as_bytes()).unwrap().key.as_deref(), Some("k€y"));
}

#[test]
fn what_the_canonical_reader_refuses_still_reads_or_fails_as_before() {
    // Looks canonical around the value, but the "value" holds two members' worth of text.
    let canonical = |bytes: &[u8]| {
        std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| decode_canonical(text, Value::from_valid_object))
            .is_some()
    };
    let text = br#"{"collection": "c", "key": "k", "value": {}, "other": {}, "version": 1}"#;
    assert!(!canonical(text));
    let env = decode(text).unwrap();
    assert_eq!(env.value, Value::empty());
    // Broken JSON inside a canonical frame is corrupt, not a panic.
    for text in [
        &br#"{"collection": "c", "key": "k", "value": {"a": }, "version": 1}"#[..],
        br#"{"collection": "c", "key": "k", "value": {"a": 1}}, "version": 1}"#,
        br#"{"collection": "c", "created_at": "soon", "key": "k", "value": {}, "version": 1}"#,
        b"{\"collection\": \"c\", \"key\": \"\xff\", \"value\": {}, \"version\": 1}",
    ] {
        assert!(!canonical(text));
        let err = decode(text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupted, "{err}");
        let err = decode_entry_owned(text.to_vec()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupted, "{err}");
    }
}

#[test]
fn an_owned_read_keeps_a_large_value_in_its_buffer_and_copies_a_small_one() {
    let created = at("2026-11-22T03:16:48.123456+00:00");
    let big = Value::from_serialize(&serde_json::json!({ "d": "x".repeat(1000) })).unwrap();
    let small = Value::from_json(r#"{"a": 1}"#).unwrap();
    for (value, shared) in [(&big, true), (&small, false)] {
        let bytes = encode("c", "k", value, Some(created), None).into_bytes();
        let buffer = bytes.as_ptr_range();
        let entry = decode_entry_owned(bytes.clone()).unwrap();
        assert_eq!(entry, decode_entry(&bytes).unwrap());
        assert_eq!(entry.value, *value);
        // `bytes.clone()` moved into the call is a different buffer from `bytes`: compare
        // against a fresh one, moved in, whose address is known.
        let moved = bytes.clone();
        let moved_range = moved.as_ptr_range();
        let entry = decode_entry_owned(moved).unwrap();
        let at = entry.value.as_str().as_ptr();
        assert_eq!(moved_range.contains(&at), shared, "shared: {shared}");
        assert!(!buffer.contains(&at));
    }
    // Text beyond ASCII is read the same way, copied out of the buffer.
    let text = format!(r#"{{"d": "{}"}}"#, "h\u{e9}llo \u{2603} ".repeat(80));
    let accents = Value::from_json(text).unwrap();
    let bytes = encode("c", "k", &accents, None, None).into_bytes();
    let range = bytes.as_ptr_range();
    let entry = decode_entry_owned(bytes).unwrap();
    assert_eq!(entry.value, accents);
    assert!(!range.contains(&entry.value.as_str().as_ptr()));
    // Not canonical, or not UTF-8: the general reader, same answers as the borrowed one.
    let other = br#"{"value": "{\"a\": 1}", "key": "k"}"#.to_vec();
    assert_eq!(
        decode_entry_owned(other.clone()).unwrap(),
        decode_entry(&other).unwrap()
    );
}

#[test]
fn encoding_matches_python_bytes() {
    // With a value in Python's own rendering, the whole document is byte-identical.
    let value = Value::from_json(
        r#"{"a": "\u00e9\u2603\ud83d\ude00\n", "b": [1, 2.5, null, true], "z": {"x": 2, "y": 1}}"#,
    )
    .unwrap();
    let created = at("2026-11-22T03:16:48.123456+00:00");
    let text = encode(
        "coll",
        "k€y",
        &value,
        Some(created),
        Some(created + Duration::from_secs(60)),
    );
    assert_eq!(text, PY_FULL);

    let text = encode(
        "c",
        "k",
        &Value::empty(),
        Some(at("2026-01-02T03:04:05+00:00")),
        None,
    );
    assert_eq!(text, PY_NO_EXPIRY);
}

#[test]
fn round_trip_keeps_everything() {
    let value = Value::from_json(r#"{"z":1,"a":[{"q":"\"quoted\""}]}"#).unwrap();
    let created = UNIX_EPOCH + Duration::from_micros(1_700_000_000_000_001);
    let expires = created + Duration::from_millis(1500);
    for (collection, key) in [
        ("c", "k"),
        ("tab\there", "new\nline"),
        ("ü", "😀::x"),
        ("q\"b\\", "\u{7f}\u{1}\u{8}\u{c}\r"),
    ] {
        let text = encode(collection, key, &value, Some(created), Some(expires));
        assert!(text.is_ascii(), "{text}");
        let env = decode(text.as_bytes()).unwrap();
        assert_eq!(env.collection.as_deref(), Some(collection));
        assert_eq!(env.key.as_deref(), Some(key));
        assert_eq!(env.value, value);
        assert_eq!(env.created_at, Some(created));
        assert_eq!(env.expires_at, Some(expires));
    }
}

#[test]
fn timestamps_follow_python_isoformat() {
    let base = UNIX_EPOCH + Duration::from_secs(1_795_317_408);
    assert_eq!(format_timestamp(base), "2026-11-22T03:16:48+00:00");
    assert_eq!(
        format_timestamp(base + Duration::from_nanos(123_456_789)),
        "2026-11-22T03:16:48.123456+00:00"
    );
    assert_eq!(
        format_timestamp(base + Duration::from_micros(100)),
        "2026-11-22T03:16:48.000100+00:00"
    );
    assert_eq!(
        format_timestamp(base + Duration::from_nanos(999)),
        "2026-11-22T03:16:48+00:00"
    );
    assert_eq!(
        format_timestamp(UNIX_EPOCH - Duration::from_micros(1)),
        "1969-12-31T23:59:59.999999+00:00"
    );
}

#[test]
fn timestamps_parse_what_python_accepts() {
    let t = at("2026-11-22T03:16:48.5+00:00");
    assert_eq!(t, at("2026-11-22T03:16:48.500000+00:00"));
    assert_eq!(t, at("2026-11-22T03:16:48.5Z"));
    assert_eq!(t, at("2026-11-22T05:16:48.5+02:00"));
    assert_eq!(t, at("2026-11-22 03:16:48.500+00:00"));
    for bad in [
        "",
        "2026-11-22",
        "2026-11-22T03:16:48",
        "not a date",
        "2026-13-01T00:00:00+00:00",
    ] {
        let err = parse_timestamp(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupted, "{bad:?}");
    }
}

#[test]
fn lenient_reading() {
    // Value stored as a JSON string (py-key-value's value_format="string"), members in any
    // order, unknown members, no version, empty or null timestamps.
    let env =
        decode(br#"{"value": "{\"a\": 1}", "extra": [1], "created_at": "", "expires_at": null}"#)
            .unwrap();
    assert_eq!(env.value.to_map()["a"], 1);
    assert_eq!(env.created_at, None);
    assert_eq!(env.expires_at, None);
    assert_eq!(env.collection, None);
}

#[test]
fn damaged_bytes_are_corrupted() {
    for bad in [
        &b""[..],
        b"\xff\xfe",
        b"not json",
        b"[1, 2]",
        b"{\"value\": {\"a\": 1}",
        b"{\"key\": \"k\"}",
        b"{\"value\": [1]}",
        b"{\"value\": 5}",
        b"{\"value\": \"[1]\"}",
        b"{\"value\": \"{broken\"}",
        b"{\"value\": {}, \"version\": 2}",
        b"{\"value\": {}, \"version\": \"1\"}",
        b"{\"value\": {}, \"created_at\": \"soon\"}",
        b"{\"value\": {}, \"expires_at\": 12}",
        b"{\"value\": {}, \"key\": 3}",
    ] {
        let err = decode(bad).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Corrupted,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn expiry_check() {
    let env = decode(PY_FULL.as_bytes()).unwrap();
    let expires = env.expires_at.unwrap();
    assert!(!env.is_expired_at(expires - Duration::from_micros(1)));
    assert!(env.is_expired_at(expires));
    let entry = env.into_entry();
    assert_eq!(entry.expires_at, Some(expires));
}
