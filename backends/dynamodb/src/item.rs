//! The stored item, as `py-key-value-aio`'s `DynamoDBStore` writes and reads it.
//!
//! ```text
//! collection (S, partition key) | key (S, sort key) | value (S) | ttl (N, optional)
//! ```
//!
//! - `value` holds the whole JSON envelope of [`stowage_core::codec::json`] (collection, key,
//!   timestamps, value and version), not only the stored object.
//! - `ttl` is the expiry as whole epoch seconds, truncated (`int(expires_at.timestamp())`), and is
//!   absent when the entry never expires. DynamoDB's TTL sweeper deletes by it.
//! - On read, `ttl` takes precedence over the envelope's `expires_at`, as in Python; when both
//!   agree to the second, the envelope's microsecond-precise instant is used.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use stowage_core::codec::json;
use stowage_core::{Entry, Error, ErrorKind, Result, Value};

/// An item as the SDK carries it.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// The partition key attribute.
pub(crate) const COLLECTION: &str = "collection";
/// The sort key attribute.
pub(crate) const KEY: &str = "key";
/// The envelope attribute.
pub(crate) const VALUE: &str = "value";
/// The TTL attribute.
pub const TTL_ATTRIBUTE: &str = "ttl";

/// DynamoDB's item size limit: 400 KiB, counting attribute names and values.
pub const MAX_ITEM_LEN: usize = 400 * 1024;
/// Longest partition key value (the collection), in bytes.
pub(crate) const MAX_COLLECTION_LEN: usize = 2048;
/// Longest sort key value (the key), in bytes.
pub(crate) const MAX_KEY_LEN: usize = 1024;
/// Largest value accepted: the item limit less room for the longest names, written twice (as
/// key attributes and, escaped up to three times longer, inside the envelope), and the
/// envelope's own members.
pub(crate) const MAX_VALUE_LEN: usize = MAX_ITEM_LEN - 16 * 1024;

/// The `ttl` attribute for an expiry instant: whole seconds, truncated like Python's `int()`.
pub(crate) fn ttl_seconds(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        // Before 1970: truncate toward zero, as int() does.
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// The key of an item.
pub(crate) fn item_key(collection: &str, key: &str) -> Item {
    HashMap::from([
        (
            COLLECTION.to_owned(),
            AttributeValue::S(collection.to_owned()),
        ),
        (KEY.to_owned(), AttributeValue::S(key.to_owned())),
    ])
}

/// The size DynamoDB charges for an item: names plus values, numbers counted generously.
pub(crate) fn item_len(item: &Item) -> usize {
    item.iter()
        .map(|(name, v)| {
            name.len()
                + match v {
                    AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
                    _ => 0,
                }
        })
        .sum()
}

/// The item for one entry, checked against [`MAX_ITEM_LEN`].
pub(crate) fn encode_item(
    collection: &str,
    key: &str,
    value: &Value,
    created_at: SystemTime,
    expires_at: Option<SystemTime>,
) -> Result<Item> {
    let envelope = json::encode(collection, key, value, Some(created_at), expires_at);
    let mut item = item_key(collection, key);
    item.insert(VALUE.to_owned(), AttributeValue::S(envelope));
    if let Some(at) = expires_at {
        item.insert(
            TTL_ATTRIBUTE.to_owned(),
            AttributeValue::N(ttl_seconds(at).to_string()),
        );
    }
    let len = item_len(&item);
    if len > MAX_ITEM_LEN {
        return Err(Error::new(
            ErrorKind::ValueTooLarge,
            format!(
                "the DynamoDB item for this entry is {len} bytes; DynamoDB stores at most {MAX_ITEM_LEN}"
            ),
        ));
    }
    Ok(item)
}

fn corrupted(message: String) -> Error {
    Error::new(ErrorKind::Corrupted, message)
}

fn string_attr<'a>(item: &'a Item, name: &str) -> Result<Option<&'a str>> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(s)) => Ok(Some(s)),
        Some(_) => Err(corrupted(format!(
            "stored `{name}` is not a string attribute"
        ))),
    }
}

/// The `ttl` attribute in whole seconds, when present.
pub(crate) fn ttl_attr(item: &Item) -> Result<Option<i64>> {
    match item.get(TTL_ATTRIBUTE) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(n)) => n
            .parse::<i64>()
            .ok()
            .or_else(|| {
                n.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f.trunc() as i64)
            })
            .map(Some)
            .ok_or_else(|| corrupted(format!("stored `ttl` is not a number: {n}"))),
        Some(_) => Err(corrupted(
            "stored `ttl` is not a number attribute".to_owned(),
        )),
    }
}

/// The instant of a stored `ttl`, or `None` when this platform cannot represent it (checked
/// arithmetic: stored data never panics).
fn instant(secs: i64) -> Option<SystemTime> {
    stowage_core::rules::instant_from_unix_secs(secs)
}

/// The expiry of an entry: the `ttl` attribute wins, but the envelope's precise instant is kept
/// when it falls within that second. A `ttl` no time of this platform can hold is corrupt.
pub(crate) fn resolve_expiry(
    envelope: Option<SystemTime>,
    ttl: Option<i64>,
) -> Result<Option<SystemTime>> {
    Ok(match (ttl, envelope) {
        (Some(t), Some(e)) if ttl_seconds(e) == t => Some(e),
        (Some(t), _) => Some(
            instant(t).ok_or_else(|| corrupted(format!("stored `ttl` is out of range: {t}")))?,
        ),
        (None, e) => e,
    })
}

/// Decode a stored item. Errors with [`ErrorKind::Corrupted`] when it is not in the format
/// `py-key-value-aio` writes.
pub(crate) fn decode_item(item: &Item) -> Result<Entry> {
    let text = string_attr(item, VALUE)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| corrupted("stored item has no `value` string".to_owned()))?;
    let entry = json::decode_entry(text.as_bytes())?;
    let expires_at = resolve_expiry(entry.expires_at, ttl_attr(item)?)?;
    Ok(Entry::new(entry.value, entry.created_at, expires_at))
}

/// The key attribute of an item.
pub(crate) fn key_of(item: &Item) -> Result<&str> {
    string_attr(item, KEY)?.ok_or_else(|| corrupted("stored item has no `key`".to_owned()))
}

/// The collection attribute of an item.
pub(crate) fn collection_of(item: &Item) -> Result<&str> {
    string_attr(item, COLLECTION)?
        .ok_or_else(|| corrupted("stored item has no `collection`".to_owned()))
}

/// What the `ttl` attribute alone says about liveness at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Liveness {
    Live,
    Expired,
    /// Within the second of expiry: the envelope decides.
    Unsure,
}

pub(crate) fn liveness(ttl: Option<i64>, now: SystemTime) -> Liveness {
    match ttl {
        None => Liveness::Live,
        // Beyond what this platform's clock holds: far future is live, far past expired.
        Some(t) => match (instant(t), instant(t.saturating_add(1))) {
            (None, _) if t > 0 => Liveness::Live,
            (None, _) => Liveness::Expired,
            (Some(at), _) if at > now => Liveness::Live,
            (_, Some(next)) if next <= now => Liveness::Expired,
            _ => Liveness::Unsure,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ttl_truncates_like_python_int() {
        assert_eq!(ttl_seconds(UNIX_EPOCH + Duration::from_millis(10_999)), 10);
        assert_eq!(ttl_seconds(UNIX_EPOCH - Duration::from_millis(1_500)), -1);
    }

    #[test]
    fn expiry_resolution() {
        let precise = UNIX_EPOCH + Duration::from_millis(100_250);
        assert_eq!(
            resolve_expiry(Some(precise), Some(100)).unwrap(),
            Some(precise)
        );
        // The attribute was changed by someone else: it wins, as in Python.
        assert_eq!(
            resolve_expiry(Some(precise), Some(200)).unwrap(),
            instant(200)
        );
        assert_eq!(resolve_expiry(None, Some(5)).unwrap(), instant(5));
        assert_eq!(resolve_expiry(Some(precise), None).unwrap(), Some(precise));
    }

    #[test]
    fn extreme_ttl_attributes_never_panic() {
        let now = SystemTime::now();
        for (ttl, live) in [
            ("1e300", true),
            ("-1e300", false),
            ("9223372036854775807", true),
            ("-9223372036854775808", false),
        ] {
            let mut item = encode_item("c", "k", &Value::empty(), now, None).unwrap();
            item.insert(TTL_ATTRIBUTE.to_owned(), AttributeValue::N(ttl.to_owned()));
            let secs = ttl_attr(&item).unwrap();
            let expected = if live {
                Liveness::Live
            } else {
                Liveness::Expired
            };
            assert_eq!(liveness(secs, now), expected, "{ttl}");
            // Where SystemTime holds the instant it is the expiry; elsewhere a typed error.
            match decode_item(&item) {
                Ok(entry) => assert_eq!(entry.expires_at, instant(secs.unwrap()), "{ttl}"),
                Err(e) => assert_eq!(e.kind(), ErrorKind::Corrupted, "{ttl}"),
            }
        }
    }

    #[test]
    fn liveness_by_attribute() {
        let now = UNIX_EPOCH + Duration::from_millis(100_500);
        assert_eq!(liveness(None, now), Liveness::Live);
        assert_eq!(liveness(Some(101), now), Liveness::Live);
        assert_eq!(liveness(Some(100), now), Liveness::Unsure);
        assert_eq!(liveness(Some(99), now), Liveness::Expired);
    }

    #[test]
    fn items_round_trip() {
        let created = UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
        let expires = created + Duration::from_millis(2_500);
        let value = Value::from_json(r#"{"a": [1, "é"]}"#).unwrap();
        let item = encode_item("c", "k", &value, created, Some(expires)).unwrap();
        assert_eq!(item[TTL_ATTRIBUTE], AttributeValue::N("1700000002".into()));
        let AttributeValue::S(envelope) = &item[VALUE] else {
            panic!()
        };
        assert!(
            envelope.starts_with(
                r#"{"collection": "c", "created_at": "2023-11-14T22:13:20.123456+00:00""#
            ),
            "{envelope}"
        );
        let entry = decode_item(&item).unwrap();
        assert_eq!(entry.value, value);
        assert_eq!(entry.created_at, Some(created));
        assert_eq!(entry.expires_at, Some(expires));
        assert_eq!(key_of(&item).unwrap(), "k");
        assert_eq!(collection_of(&item).unwrap(), "c");
    }

    #[test]
    fn oversized_items_are_refused() {
        let value =
            Value::from_json(format!(r#"{{"b": "{}"}}"#, "x".repeat(MAX_ITEM_LEN))).unwrap();
        let err = encode_item("c", "k", &value, SystemTime::now(), None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ValueTooLarge);
        // The declared value limit always fits, even with the longest names in 4-byte characters.
        let value =
            Value::from_json(format!(r#"{{"b": "{}"}}"#, "x".repeat(MAX_VALUE_LEN - 10))).unwrap();
        let c = "😀".repeat(MAX_COLLECTION_LEN / 4);
        let k = "😀".repeat(MAX_KEY_LEN / 4);
        let now = SystemTime::now();
        encode_item(&c, &k, &value, now, Some(now + Duration::from_secs(1))).unwrap();
    }

    #[test]
    fn foreign_items_are_corrupted() {
        let mut item = item_key("c", "k");
        assert_eq!(decode_item(&item).unwrap_err().kind(), ErrorKind::Corrupted);
        item.insert(VALUE.into(), AttributeValue::S("not json".into()));
        assert_eq!(decode_item(&item).unwrap_err().kind(), ErrorKind::Corrupted);
        item.insert(VALUE.into(), AttributeValue::S(r#"{"value": {}}"#.into()));
        item.insert(TTL_ATTRIBUTE.into(), AttributeValue::S("soon".into()));
        assert_eq!(decode_item(&item).unwrap_err().kind(), ErrorKind::Corrupted);
        item.insert(TTL_ATTRIBUTE.into(), AttributeValue::N("12".into()));
        assert_eq!(decode_item(&item).unwrap().expires_at, instant(12));
    }
}
