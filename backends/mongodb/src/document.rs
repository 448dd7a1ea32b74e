//! The stored document: JSON values to BSON and back, and the document `py-key-value-aio`'s
//! `MongoDBStore` writes.
//!
//! ```text
//! {_id: ObjectId, key: "alice", version: 1, collection: "tokens",
//!  created_at: ISODate(…), expires_at: ISODate(…), value: {object: {…the value, as BSON…}}}
//! ```
//!
//! Timestamps are BSON dates (millisecond precision), `expires_at` is left out when the entry
//! never expires, and `version` is a 32-bit integer. Numbers in the value become 32-bit integers
//! when they fit, 64-bit integers when they do not, and doubles otherwise, as `pymongo` encodes
//! Python numbers.

use std::fmt;
use std::time::{Duration, SystemTime};

use mongodb::IndexModel;
use mongodb::bson::{Bson, DateTime, Document, RawDocumentBuf, doc};
use mongodb::options::IndexOptions;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use stowage_core::{Entry, Error, ErrorKind, Result, Value};

/// The largest BSON document MongoDB stores: 16 MiB.
pub const MAX_DOCUMENT_LEN: usize = 16 * 1024 * 1024;

/// Convert a value's JSON text into a BSON document, keeping member order.
///
/// Errors with [`ErrorKind::InvalidValue`] for what BSON cannot hold: integers outside the
/// signed 64-bit range and member names containing a NUL character.
pub(crate) fn value_to_bson(value: &Value) -> Result<Document> {
    if let Some(literal) = integer_beyond_i64(value.as_str()) {
        return Err(Error::new(
            ErrorKind::InvalidValue,
            format!(
                "an integer of {} digits is outside the signed 64-bit range BSON stores \
                 (it would be stored as a rounded double)",
                literal.trim_start_matches('-').len()
            ),
        ));
    }
    let mut de = serde_json::Deserializer::from_str(value.as_str());
    match JsonToBson.deserialize(&mut de) {
        Ok(Bson::Document(d)) => Ok(d),
        Ok(_) => Err(Error::new(
            ErrorKind::InvalidValue,
            "value is not an object",
        )),
        Err(e) => Err(Error::new(
            ErrorKind::InvalidValue,
            format!("value cannot be stored in MongoDB: {e}"),
        )),
    }
}

/// Convert a stored BSON document back into a value. JSON-like BSON types map to JSON; any other
/// type (dates, ObjectIds, binary…, written by other programs) maps to its extended JSON form.
pub(crate) fn bson_to_value(doc: &Document) -> Result<Value> {
    let text = serde_json::to_string(&JsonView(&Bson::Document(doc.clone())))
        .map_err(|e| corrupted(format!("stored value cannot be rendered as JSON: {e}")))?;
    Value::from_stored(text.as_bytes())
}

fn corrupted(message: String) -> Error {
    Error::new(ErrorKind::Corrupted, message)
}

/// Serializes BSON as plain JSON, with BSON's own serde form for the types JSON lacks.
struct JsonView<'a>(&'a Bson);

impl serde::Serialize for JsonView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Bson::Double(f) => s.serialize_f64(*f),
            Bson::String(v) => s.serialize_str(v),
            Bson::Boolean(b) => s.serialize_bool(*b),
            Bson::Null => s.serialize_unit(),
            Bson::Int32(i) => s.serialize_i32(*i),
            Bson::Int64(i) => s.serialize_i64(*i),
            Bson::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&JsonView(item))?;
                }
                seq.end()
            }
            Bson::Document(d) => {
                let mut map = s.serialize_map(Some(d.len()))?;
                for (k, v) in d {
                    map.serialize_entry(k, &JsonView(v))?;
                }
                map.end()
            }
            other => other.serialize(s),
        }
    }
}

/// The first integer literal of `json` (outside strings) beyond the signed 64-bit range, which
/// the JSON parser would hand over as a rounded `f64`: `123456789012345678901234567890` must be
/// refused like `18446744073709551615`, not stored as `1.2345678901234568e29`. Literals with a
/// fraction or an exponent are doubles in BSON as in Python, and are left alone.
fn integer_beyond_i64(json: &str) -> Option<&str> {
    let bytes = json.as_bytes();
    let (mut i, mut in_string) = (0, false);
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if b == b'-' || b.is_ascii_digit() {
            let start = i;
            while i < bytes.len()
                && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
            {
                i += 1;
            }
            let literal = &json[start..i];
            let integer = !literal.contains(['.', 'e', 'E']);
            if integer && literal.parse::<i64>().is_err() {
                return Some(literal);
            }
            continue;
        }
        i += 1;
    }
    None
}

/// Builds a [`Bson`] tree from JSON, in document order, refusing what BSON cannot hold.
struct JsonToBson;

impl<'de> DeserializeSeed<'de> for JsonToBson {
    type Value = Bson;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Bson, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for JsonToBson {
    type Value = Bson;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> std::result::Result<Bson, E> {
        Ok(Bson::Boolean(v))
    }

    fn visit_i64<E>(self, v: i64) -> std::result::Result<Bson, E> {
        Ok(i32::try_from(v).map_or(Bson::Int64(v), Bson::Int32))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Bson, E> {
        match i64::try_from(v) {
            Ok(i) => self.visit_i64(i),
            Err(_) => Err(E::custom(format!(
                "integer {v} is outside the signed 64-bit range BSON stores"
            ))),
        }
    }

    fn visit_f64<E>(self, v: f64) -> std::result::Result<Bson, E> {
        Ok(Bson::Double(v))
    }

    fn visit_str<E>(self, v: &str) -> std::result::Result<Bson, E> {
        Ok(Bson::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> std::result::Result<Bson, E> {
        Ok(Bson::String(v))
    }

    fn visit_unit<E>(self) -> std::result::Result<Bson, E> {
        Ok(Bson::Null)
    }

    fn visit_none<E>(self) -> std::result::Result<Bson, E> {
        Ok(Bson::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Bson, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(JsonToBson)? {
            items.push(item);
        }
        Ok(Bson::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Bson, A::Error> {
        let mut doc = Document::new();
        while let Some(key) = map.next_key::<String>()? {
            if key.contains('\0') {
                return Err(de::Error::custom(
                    "member names containing a NUL character cannot be stored in BSON",
                ));
            }
            let value = map.next_value_seed(JsonToBson)?;
            doc.insert(key, value);
        }
        Ok(Bson::Document(doc))
    }
}

/// The indexes the store keeps on every collection, as `py-key-value-aio` creates them: a unique
/// `key_1` on `key` (lookups and upserts go through it) and a TTL `expires_at_1` on `expires_at`
/// (MongoDB removes expired documents). For collections created ahead of the store, or a client
/// that should do the same server-side work.
///
/// ```
/// use std::time::Duration;
///
/// let [key, ttl] = stowage_mongodb::collection_indexes();
/// assert_eq!(key.keys.get_i32("key").ok(), Some(1));
/// assert_eq!(key.options.unwrap().unique, Some(true));
/// assert_eq!(ttl.keys.get_i32("expires_at").ok(), Some(1));
/// assert_eq!(ttl.options.unwrap().expire_after, Some(Duration::ZERO));
/// ```
pub fn collection_indexes() -> [IndexModel; 2] {
    let key = IndexModel::builder()
        .keys(doc! { "key": 1 })
        .options(
            IndexOptions::builder()
                .name("key_1".to_owned())
                .unique(true)
                .build(),
        )
        .build();
    let ttl = IndexModel::builder()
        .keys(doc! { "expires_at": 1 })
        .options(
            IndexOptions::builder()
                .name("expires_at_1".to_owned())
                .expire_after(Duration::ZERO)
                .build(),
        )
        .build();
    [key, ttl]
}

/// The document stored for one entry, as raw BSON, checked against [`MAX_DOCUMENT_LEN`].
pub(crate) fn entry_document(
    collection: &str,
    key: &str,
    object: Document,
    created_at: SystemTime,
    expires_at: Option<SystemTime>,
) -> Result<RawDocumentBuf> {
    let mut d = doc! {
        "key": key,
        "version": 1_i32,
        "collection": collection,
        "created_at": DateTime::from_system_time(created_at),
    };
    if let Some(at) = expires_at {
        d.insert("expires_at", DateTime::from_system_time(at));
    }
    d.insert("value", doc! { "object": object });
    let raw = RawDocumentBuf::try_from(&d).map_err(|e| {
        Error::new(
            ErrorKind::InvalidValue,
            format!("value cannot be stored in MongoDB: {e}"),
        )
    })?;
    let len = raw.as_bytes().len();
    if len > MAX_DOCUMENT_LEN {
        return Err(Error::new(
            ErrorKind::ValueTooLarge,
            format!(
                "the MongoDB document for this entry is {len} bytes; MongoDB stores at most {MAX_DOCUMENT_LEN}"
            ),
        ));
    }
    Ok(raw)
}

/// The expiry recorded in a stored document, as `MongoDBSerializationAdapter.prepare_load`
/// reads it: absent or null means never; anything but a BSON date is corrupt.
pub(crate) fn expires_at(doc: &Document) -> Result<Option<SystemTime>> {
    date_field(doc, "expires_at")
}

fn date_field(doc: &Document, field: &str) -> Result<Option<SystemTime>> {
    match doc.get(field) {
        None | Some(Bson::Null) => Ok(None),
        // Checked: a date this platform's clock cannot hold is corrupt, never a panic.
        Some(Bson::DateTime(dt)) => {
            stowage_core::rules::instant_from_unix_millis(dt.timestamp_millis())
                .map(Some)
                .ok_or_else(|| corrupted(format!("stored `{field}` is out of range")))
        }
        Some(other) => Err(corrupted(format!(
            "stored `{field}` is a {:?}, not a date",
            other.element_type()
        ))),
    }
}

/// Decode a stored document into an entry. Errors with [`ErrorKind::Corrupted`] when it is not
/// in the format `py-key-value-aio` writes.
pub(crate) fn decode_entry(doc: &Document) -> Result<Entry> {
    let object = match doc.get("value") {
        Some(Bson::Document(v)) => match v.get("object") {
            Some(Bson::Document(object)) => object,
            Some(_) => return Err(corrupted("stored `value.object` is not a document".into())),
            None => return Err(corrupted("stored `value` has no `object` member".into())),
        },
        Some(_) => return Err(corrupted("stored `value` is not a document".into())),
        None => return Err(corrupted("stored document has no `value`".into())),
    };
    Ok(Entry::new(
        bson_to_value(object)?,
        date_field(doc, "created_at")?,
        expires_at(doc)?,
    ))
}

/// A filter matching documents that are not expired at `now`.
pub(crate) fn live_filter(now: SystemTime) -> Document {
    doc! { "$or": [
        { "expires_at": Bson::Null },
        { "expires_at": { "$gt": DateTime::from_system_time(now) } },
    ] }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn v(text: &str) -> Value {
        Value::from_json(text).unwrap()
    }

    /// Integers beyond 64 bits are refused whatever their size, never stored rounded; strings
    /// that look like them and doubles are kept.
    #[test]
    fn integers_bson_cannot_hold_are_refused_not_rounded() {
        for text in [
            r#"{"n":123456789012345678901234567890}"#,
            r#"{"a":[1,{"n":-99999999999999999999}]}"#,
            r#"{"n":18446744073709551615}"#,
        ] {
            let err = value_to_bson(&v(text)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidValue, "{text}");
        }
        for text in [
            r#"{"s":"123456789012345678901234567890","e":"\\\"9"}"#,
            r#"{"n":9223372036854775807,"m":-9223372036854775808}"#,
            r#"{"x":1.5e300,"y":0.1000000000000000055511151231257827}"#,
        ] {
            assert!(value_to_bson(&v(text)).is_ok(), "{text}");
        }
    }

    #[test]
    fn extreme_stored_dates_never_panic() {
        for millis in [i64::MAX, i64::MIN, 253_402_300_799_999] {
            let doc = doc! { "expires_at": DateTime::from_millis(millis) };
            // A time where this platform's clock holds it; elsewhere a typed error.
            match expires_at(&doc) {
                Ok(at) => assert_eq!(at, stowage_core::rules::instant_from_unix_millis(millis)),
                Err(e) => assert_eq!(e.kind(), stowage_core::ErrorKind::Corrupted),
            }
        }
    }

    #[test]
    fn numbers_take_pymongo_types() {
        let d = value_to_bson(&v(
            r#"{"small": 1, "big": 5000000000, "neg": -3, "f": 1.5, "max": 9223372036854775807}"#,
        ))
        .unwrap();
        assert_eq!(d.get("small"), Some(&Bson::Int32(1)));
        assert_eq!(d.get("big"), Some(&Bson::Int64(5_000_000_000)));
        assert_eq!(d.get("neg"), Some(&Bson::Int32(-3)));
        assert_eq!(d.get("f"), Some(&Bson::Double(1.5)));
        assert_eq!(d.get("max"), Some(&Bson::Int64(i64::MAX)));
    }

    #[test]
    fn order_and_nesting_survive_the_round_trip() {
        let text = r#"{"z":1,"a":[true,null,"s",{"y":2,"b":[]}],"m":{},"u":"é\u0000"}"#;
        let back = bson_to_value(&value_to_bson(&v(text)).unwrap()).unwrap();
        assert_eq!(
            back.as_str(),
            r#"{"z":1,"a":[true,null,"s",{"y":2,"b":[]}],"m":{},"u":"é\u0000"}"#
        );
    }

    #[test]
    fn extended_json_lookalikes_stay_plain() {
        let d = value_to_bson(&v(r#"{"d": {"$date": 5}, "o": {"$oid": "x"}}"#)).unwrap();
        assert!(matches!(d.get("d"), Some(Bson::Document(_))));
    }

    #[test]
    fn what_bson_cannot_hold_is_invalid() {
        for text in [r#"{"n": 18446744073709551615}"#, "{\"a\\u0000b\": 1}"] {
            let err = value_to_bson(&v(text)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidValue, "{text}");
        }
    }

    #[test]
    fn documents_round_trip_and_size_is_checked() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let object = value_to_bson(&v(r#"{"a": 1}"#)).unwrap();
        let raw =
            entry_document("c", "k", object, now, Some(now + Duration::from_secs(5))).unwrap();
        let doc = Document::try_from(raw.as_ref()).unwrap();
        let keys: Vec<&str> = doc.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "key",
                "version",
                "collection",
                "created_at",
                "expires_at",
                "value"
            ]
        );
        assert_eq!(doc.get("version"), Some(&Bson::Int32(1)));
        let entry = decode_entry(&doc).unwrap();
        assert_eq!(entry.value.as_str(), r#"{"a":1}"#);
        assert_eq!(entry.created_at, Some(now));
        assert_eq!(entry.expires_at, Some(now + Duration::from_secs(5)));

        let big = value_to_bson(&v(&format!(
            r#"{{"b": "{}"}}"#,
            "x".repeat(MAX_DOCUMENT_LEN)
        )))
        .unwrap();
        let err = entry_document("c", "k", big, now, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ValueTooLarge);
    }

    #[test]
    fn foreign_documents_are_corrupted() {
        for d in [
            doc! {"key": "k"},
            doc! {"key": "k", "value": "text"},
            doc! {"key": "k", "value": {"other": {}}},
            doc! {"key": "k", "value": {"object": 5}},
            doc! {"key": "k", "value": {"object": {}}, "expires_at": "tomorrow"},
            doc! {"key": "k", "value": {"object": {}}, "created_at": 12},
        ] {
            assert_eq!(
                decode_entry(&d).unwrap_err().kind(),
                ErrorKind::Corrupted,
                "{d}"
            );
        }
        let ok = doc! {"key": "k", "value": {"object": {"a": [1]}}, "expires_at": Bson::Null};
        assert_eq!(decode_entry(&ok).unwrap().expires_at, None);
    }
}
