//! Values: every JSON kind, sizes, and refused inputs.

use serde_json::json;

use crate::error::ErrorKind;
use crate::testkit::{Store, assert_kind, assert_same, obj, unique};
use crate::value::Value;

/// Objects holding every JSON kind, nested, round-trip.
pub async fn every_json_kind_round_trips(store: Store) {
    let c = unique("values");
    let v = obj(json!({
        "null": null, "t": true, "f": false,
        "int": 42, "neg": -7, "float": 3.25,
        "string": "text", "empty_string": "",
        "array": [1, "two", null, [3], {"four": 4}],
        "empty_array": [], "empty_object": {},
        "nested": {"deeper": {"deepest": [true, {"x": "y"}]}}
    }));
    store.put(&c, "k", v.clone(), None).await.unwrap();
    assert_same(store.get(&c, "k").await.unwrap().as_ref(), &v);
}

/// `{}` is a valid value.
pub async fn empty_object_round_trips(store: Store) {
    let c = unique("values");
    store.put(&c, "k", Value::empty(), None).await.unwrap();
    let got = store.get(&c, "k").await.unwrap().expect("hit");
    assert!(got.is_empty());
}

/// Unicode, escapes and control characters in strings survive.
pub async fn unicode_and_escapes_round_trip(store: Store) {
    let c = unique("values");
    let v = obj(json!({
        "emoji": "🔑🗄️", "cjk": "保存", "rtl": "مفتاح",
        "escapes": "quote \" backslash \\ slash / tab \t newline \n",
        "control": "\u{0001}\u{001f}", "nul": "a\u{0000}b",
        "ключ": "non-ASCII member name"
    }));
    store.put(&c, "k", v.clone(), None).await.unwrap();
    assert_same(store.get(&c, "k").await.unwrap().as_ref(), &v);
}

/// A value of 256 KiB (or the store's limit, if lower) round-trips.
pub async fn large_value_round_trips(store: Store) {
    let c = unique("values");
    let limit = store.capabilities().max_value_len.unwrap_or(usize::MAX);
    let len = (256 * 1024).min(limit.saturating_sub(64));
    let v = obj(json!({"blob": "x".repeat(len)}));
    store.put(&c, "k", v.clone(), None).await.unwrap();
    assert_same(store.get(&c, "k").await.unwrap().as_ref(), &v);
}

/// Integers and floats keep their values.
pub async fn numbers_keep_their_value(store: Store) {
    let c = unique("values");
    let v = obj(json!({
        "max": i64::MAX, "min": i64::MIN, "zero": 0,
        "tenth": 0.1, "big": 1.0e300, "small": -2.5e-300
    }));
    store.put(&c, "k", v.clone(), None).await.unwrap();
    let got = store.get(&c, "k").await.unwrap().expect("hit").to_map();
    assert_eq!(got["max"].as_i64(), Some(i64::MAX));
    assert_eq!(got["min"].as_i64(), Some(i64::MIN));
    assert_eq!(got["zero"].as_i64(), Some(0));
    assert_eq!(got["tenth"].as_f64(), Some(0.1));
    assert_eq!(got["big"].as_f64(), Some(1.0e300));
    assert_eq!(got["small"].as_f64(), Some(-2.5e-300));
}

/// A value past the store's declared limit is `ValueTooLarge` and leaves the old value.
pub async fn oversized_value_is_refused(store: Store) {
    let c = unique("values");
    let old = obj(json!({"old": true}));
    store.put(&c, "k", old.clone(), None).await.unwrap();
    match store.capabilities().max_value_len {
        Some(max) => {
            let big = obj(json!({"blob": "x".repeat(max)}));
            assert!(big.len() > max);
            assert_kind(
                store.put(&c, "k", big.clone(), None).await,
                ErrorKind::ValueTooLarge,
            );
            assert_kind(
                store
                    .put_many(&c, &[("other", old.clone()), ("k", big)], None)
                    .await,
                ErrorKind::ValueTooLarge,
            );
            assert_eq!(store.get(&c, "other").await.unwrap(), None);
        }
        None => {
            // No declared limit: a 1 MiB value must then be accepted.
            let big = obj(json!({"blob": "x".repeat(1 << 20)}));
            store.put(&c, "big", big.clone(), None).await.unwrap();
            assert_same(store.get(&c, "big").await.unwrap().as_ref(), &big);
        }
    }
    assert_same(store.get(&c, "k").await.unwrap().as_ref(), &old);
}

/// Values whose JSON form is not an object cannot be built, so cannot reach a store.
pub async fn non_objects_are_refused(store: Store) {
    let c = unique("values");
    let old = obj(json!({"old": true}));
    store.put(&c, "k", old.clone(), None).await.unwrap();
    assert_kind(Value::from_serialize(&5), ErrorKind::InvalidValue);
    assert_kind(Value::from_serialize(&vec![1, 2]), ErrorKind::InvalidValue);
    assert_kind(Value::from_serialize("text"), ErrorKind::InvalidValue);
    assert_kind(Value::from_serialize(&()), ErrorKind::InvalidValue);
    assert_kind(Value::try_from(json!([{"a": 1}])), ErrorKind::InvalidValue);
    assert_kind(Value::from_json("[1]"), ErrorKind::InvalidValue);
    assert_kind(Value::from_json("null"), ErrorKind::InvalidValue);
    assert_same(store.get(&c, "k").await.unwrap().as_ref(), &old);
}

/// Broken JSON text is refused with `InvalidValue`.
pub async fn invalid_json_text_is_refused(store: Store) {
    let c = unique("values");
    for text in [
        "",
        "{",
        "{\"a\": }",
        "{\"a\": 1} trailing",
        "{a: 1}",
        "{\"a\": 01}",
        "{\"a\": NaN}",
    ] {
        assert_kind(Value::from_json(text), ErrorKind::InvalidValue);
    }
    assert_eq!(store.get(&c, "k").await.unwrap(), None);
}
