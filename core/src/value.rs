//! [`Value`]: the immutable JSON object a key holds.

use std::fmt;

use bytes::Bytes;
use bytestring::ByteString;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value as Json};

use crate::error::{Error, ErrorKind, Result};

/// A stored value: a JSON object, immutable and cheap to clone.
///
/// A `Value` keeps the object's JSON text in shared, reference-counted storage, so cloning it or
/// handing it to a store never copies the document (a read from a remote backend can even keep
/// the value inside the buffer it arrived in). The text is checked once, when the `Value` is
/// built: it is valid JSON and its top level is an object, as the stored formats of
/// `py-key-value` require.
///
/// Build one from anything [`Serialize`] whose JSON form is an object, from a
/// [`serde_json::Map`], or from JSON text; read it back as text, as a map, or as any
/// [`DeserializeOwned`] type.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use stowage_core::Value;
///
/// #[derive(Serialize, Deserialize, PartialEq, Debug)]
/// struct Token { access: String, scopes: Vec<String> }
///
/// let token = Token { access: "abc".into(), scopes: vec!["read".into()] };
/// let value = Value::from_serialize(&token)?;
/// assert_eq!(value.as_str(), r#"{"access":"abc","scopes":["read"]}"#);
/// assert_eq!(value.deserialize::<Token>()?, token);
///
/// let parsed = Value::from_json(r#"{"n": 1}"#)?;
/// assert_eq!(parsed.to_map()["n"], 1);
///
/// // Scalars, arrays and broken text are refused with a typed error.
/// assert!(Value::from_serialize(&42).is_err());
/// assert!(Value::from_json("[1, 2]").is_err());
/// assert!(Value::from_json("{\"open\": ").is_err());
/// # Ok::<(), stowage_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Value {
    // Checked once on construction: a JSON object's text, without surrounding whitespace.
    text: ByteString,
}

fn not_an_object(found: &str) -> Error {
    Error::new(
        ErrorKind::InvalidValue,
        format!("a value must be a JSON object, found {found}"),
    )
}

fn kind_of(first: u8) -> &'static str {
    match first {
        b'[' => "an array",
        b'"' => "a string",
        b'n' => "null",
        b't' | b'f' => "a boolean",
        _ => "a number",
    }
}

/// The text of `raw` if it is an object.
fn object_text(raw: &RawValue) -> Result<&str> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'{') => Ok(text),
        Some(&b) => Err(not_an_object(kind_of(b))),
        None => Err(not_an_object("nothing")),
    }
}

fn corrupted(e: &Error) -> Error {
    Error::new(
        ErrorKind::Corrupted,
        format!("stored value is damaged: {}", e.message()),
    )
}

/// Whether a value of `part` bytes should share the `whole`-byte buffer it was read from rather
/// than be copied out: only when it is at least half of it, so a small value never keeps a large
/// buffer alive.
fn worth_sharing(part: usize, whole: usize) -> bool {
    part * 2 >= whole
}

fn stored_text(bytes: &[u8]) -> Result<&str> {
    crate::utf8::check(bytes)
        .map_err(|e| Error::new(ErrorKind::Corrupted, "stored value is not UTF-8").with_source(e))
}

impl Value {
    /// The empty object `{}`.
    pub fn empty() -> Self {
        Value {
            text: ByteString::from_static("{}"),
        }
    }

    /// Serialize `value` to JSON and keep it if its JSON form is an object.
    ///
    /// Errors with [`ErrorKind::InvalidValue`] when the JSON form is not an object, or when
    /// serialization fails (for example a map with non-string keys).
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self> {
        let raw = serde_json::value::to_raw_value(value).map_err(|e| {
            Error::new(
                ErrorKind::InvalidValue,
                format!("value cannot be serialized to JSON: {e}"),
            )
            .with_source(e)
        })?;
        Value::try_from(&*raw)
    }

    /// A value from JSON text its caller built and vouches for: one JSON object, kept as is
    /// without being parsed again. For layers that build an envelope of fixed members around
    /// base64 data (encryption, compression) on every write.
    ///
    /// Debug builds check the text. A text that is not a JSON object is not undefined behaviour,
    /// but breaks what [`Value`] promises: readers of it may fail with
    /// [`ErrorKind::Corrupted`]. When in doubt, use [`Value::from_json`].
    ///
    /// ```
    /// use stowage_core::Value;
    ///
    /// let data = "c2VjcmV0"; // base64 never needs escaping in a JSON string
    /// let value = Value::from_trusted_json(format!(r#"{{"__data__":"{data}"}}"#));
    /// assert_eq!(value.to_map()["__data__"], "c2VjcmV0");
    /// ```
    pub fn from_trusted_json(text: String) -> Self {
        debug_assert!(
            Value::from_json(&text).is_ok_and(|v| v.len() == text.len()),
            "not a compact JSON object"
        );
        Value {
            text: ByteString::from(text),
        }
    }

    /// Parse and validate JSON text. Leading and trailing whitespace is dropped.
    ///
    /// Errors with [`ErrorKind::InvalidValue`] when the text is not valid JSON or its top level is
    /// not an object.
    pub fn from_json(text: impl AsRef<str>) -> Result<Self> {
        let raw: &RawValue = serde_json::from_str(text.as_ref()).map_err(|e| {
            Error::new(ErrorKind::InvalidValue, format!("invalid JSON text: {e}")).with_source(e)
        })?;
        Value::try_from(raw)
    }

    /// Parse JSON that came from storage: like [`Value::from_json`], but a failure is
    /// [`ErrorKind::Corrupted`], since the caller did not write bad input — the stored bytes are
    /// damaged.
    pub fn from_stored(bytes: &[u8]) -> Result<Self> {
        Self::from_json(stored_text(bytes)?).map_err(|e| corrupted(&e))
    }

    /// A value from stored bytes whose integrity a checksum has already shown: the bytes are
    /// those a `Value` had when it was written, so only their UTF-8 and their outer braces are
    /// checked, not the whole JSON grammar. Failures are [`ErrorKind::Corrupted`].
    pub(crate) fn from_checksummed(bytes: &[u8]) -> Result<Self> {
        Value::checksummed(ByteString::from(stored_text(bytes)?))
    }

    /// [`Value::from_checksummed`] for `bytes`, a slice of `buffer`: the value shares the
    /// buffer instead of copying out of it, unless [`worth_sharing`] says otherwise or the text is
    /// not ASCII (see [`crate::utf8::shared`]). The size is decided first, so a small value is
    /// checked once, not once for sharing and again for its copy.
    pub(crate) fn from_checksummed_in(buffer: &Bytes, bytes: &[u8]) -> Result<Self> {
        if worth_sharing(bytes.len(), buffer.len())
            && let Some(text) = crate::utf8::shared(buffer, bytes)
        {
            return Value::checksummed(text);
        }
        Value::from_checksummed(bytes)
    }

    fn checksummed(text: ByteString) -> Result<Self> {
        if text.starts_with('{') && text.ends_with('}') {
            Ok(Value { text })
        } else {
            Err(corrupted(&not_an_object("something else")))
        }
    }

    /// A value from text already checked to be one JSON object and nothing else.
    pub(crate) fn from_valid_object(text: &str) -> Self {
        debug_assert!(text.starts_with('{') && text.ends_with('}'));
        Value {
            text: ByteString::from(text),
        }
    }

    /// [`Value::from_valid_object`] for `text`, a slice of `buffer`: the value keeps sharing the
    /// buffer instead of copying out of it, unless [`worth_sharing`] says otherwise.
    pub(crate) fn from_valid_object_in(buffer: &ByteString, text: &str) -> Self {
        if !worth_sharing(text.len(), buffer.len()) {
            return Value::from_valid_object(text);
        }
        debug_assert!(text.starts_with('{') && text.ends_with('}'));
        Value {
            text: buffer.slice_ref(text),
        }
    }

    /// The object's JSON text, exactly as stored.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The object's JSON text as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// Length of the JSON text in bytes.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether the object has no members (`{}`).
    pub fn is_empty(&self) -> bool {
        self.to_map().is_empty()
    }

    /// Parse the object into a [`serde_json::Map`]. Numbers beyond `u64`, `i64` and `f64` are
    /// rounded to the nearest `f64` there (the value itself keeps them exactly).
    pub fn to_map(&self) -> Map<String, Json> {
        // The text was validated as a JSON object on construction.
        serde_json::from_str(&self.text).unwrap_or_default()
    }

    /// Deserialize the object into `T`.
    ///
    /// Errors with [`ErrorKind::InvalidValue`] when the object does not have `T`'s shape.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(&self.text).map_err(|e| {
            Error::new(
                ErrorKind::InvalidValue,
                format!(
                    "stored object does not match `{}`: {e}",
                    std::any::type_name::<T>()
                ),
            )
            .with_source(e)
        })
    }
}

impl TryFrom<&RawValue> for Value {
    type Error = Error;

    /// Keep already-parsed JSON (for example a member borrowed from a larger document) if it is
    /// an object. Errors with [`ErrorKind::InvalidValue`] otherwise.
    fn try_from(raw: &RawValue) -> Result<Self> {
        Ok(Value {
            text: ByteString::from(object_text(raw)?),
        })
    }
}

impl From<Map<String, Json>> for Value {
    /// Render a `serde_json` map as a value.
    ///
    /// A `serde_json` map holds numbers as `u64`, `i64` or `f64`, so a number it was parsed from
    /// with more digits than those hold (`123456789012345678901234567890`, a decimal beyond `f64`
    /// precision) is already rounded: build values from the JSON text ([`Value::from_json`]) or
    /// from a [`RawValue`] to keep every number exactly as written.
    fn from(map: Map<String, Json>) -> Self {
        // serde_json renders a map as a valid JSON object: nothing to check.
        Value {
            text: ByteString::from(Json::Object(map).to_string()),
        }
    }
}

impl TryFrom<Json> for Value {
    type Error = Error;

    /// Render a `serde_json` object as a value; numbers are as exact as the `serde_json` value
    /// held them (see `Value::from(map)`). Errors with [`ErrorKind::InvalidValue`] when it is not
    /// an object.
    fn try_from(json: Json) -> Result<Self> {
        match json {
            Json::Object(map) => Ok(Value::from(map)),
            Json::Array(_) => Err(not_an_object("an array")),
            Json::String(_) => Err(not_an_object("a string")),
            Json::Null => Err(not_an_object("null")),
            Json::Bool(_) => Err(not_an_object("a boolean")),
            Json::Number(_) => Err(not_an_object("a number")),
        }
    }
}

impl TryFrom<&str> for Value {
    type Error = Error;

    fn try_from(text: &str) -> Result<Self> {
        Value::from_json(text)
    }
}

impl TryFrom<String> for Value {
    type Error = Error;

    fn try_from(text: String) -> Result<Self> {
        Value::from_json(text)
    }
}

impl PartialEq for Value {
    /// Two values are equal when their JSON texts are equal. Objects with the same members in a
    /// different order compare unequal; compare [`Value::to_map`] for semantic equality.
    fn eq(&self, other: &Self) -> bool {
        let same = |v: &Value| (v.text.as_ptr(), v.text.len());
        same(self) == same(other) || self.text == other.text
    }
}

impl Eq for Value {}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Value").field(&self.as_str()).finish()
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Value {
    /// With `serde_json` the object's text is written verbatim: it is scanned, not parsed into
    /// a tree.
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let raw: &RawValue = serde_json::from_str(&self.text).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Value {
    /// Deserializes from JSON only (the value is kept as raw JSON text); refuses non-objects.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Value::try_from(&*raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn clone_shares_the_text() {
        let v = Value::from_json(r#"{"a":1}"#).unwrap();
        let w = v.clone();
        assert!(std::ptr::eq(v.as_str(), w.as_str()));
    }

    #[test]
    fn whitespace_is_trimmed() {
        let v = Value::from_json("  {\"a\": 1}\n").unwrap();
        assert_eq!(v.as_str(), "{\"a\": 1}");
    }

    #[test]
    fn non_objects_are_refused_with_their_kind() {
        for (text, kind) in [
            ("[1]", "an array"),
            ("\"s\"", "a string"),
            ("null", "null"),
            ("true", "a boolean"),
            ("1.5", "a number"),
        ] {
            let err = Value::from_json(text).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidValue);
            assert!(err.message().contains(kind), "{text}: {err}");
            let err = Value::try_from(serde_json::from_str::<Json>(text).unwrap()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidValue);
        }
    }

    #[test]
    fn invalid_text_is_refused() {
        for text in ["", "{", "{\"a\":}", "{} {}", "{'a': 1}", "{\"a\":1,}"] {
            let err = Value::from_json(text).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidValue, "{text:?}");
        }
    }

    #[test]
    fn stored_garbage_is_corrupted() {
        assert_eq!(
            Value::from_stored(b"\xff\xfe").unwrap_err().kind(),
            ErrorKind::Corrupted
        );
        assert_eq!(
            Value::from_stored(b"{\"a\":").unwrap_err().kind(),
            ErrorKind::Corrupted
        );
        assert_eq!(
            Value::from_stored(b"{\"a\":1}").unwrap().as_str(),
            "{\"a\":1}"
        );
    }

    #[test]
    fn map_round_trip() {
        let map = json!({"b": [1, 2], "a": {"x": null}})
            .as_object()
            .unwrap()
            .clone();
        let v = Value::from(map.clone());
        assert_eq!(v.to_map(), map);
        assert!(!v.is_empty());
        assert!(Value::empty().is_empty());
    }

    #[test]
    fn serde_embeds_verbatim() {
        #[derive(Serialize, Deserialize)]
        struct Env {
            value: Value,
        }
        let env = Env {
            value: Value::from_json(r#"{"z":1,"a":2}"#).unwrap(),
        };
        let text = serde_json::to_string(&env).unwrap();
        assert_eq!(text, r#"{"value":{"z":1,"a":2}}"#);
        let back: Env = serde_json::from_str(&text).unwrap();
        assert_eq!(back.value, env.value);
        assert!(serde_json::from_str::<Env>(r#"{"value":[1]}"#).is_err());
    }

    #[test]
    fn borrowed_raw_json_is_kept_if_an_object() {
        #[derive(Deserialize)]
        struct Doc<'a> {
            #[serde(borrow)]
            value: &'a RawValue,
        }
        let doc: Doc = serde_json::from_str(r#"{"value": {"a": [1]} }"#).unwrap();
        assert_eq!(
            Value::try_from(doc.value).unwrap().as_str(),
            r#"{"a": [1]}"#
        );
        let doc: Doc = serde_json::from_str(r#"{"value": [1]}"#).unwrap();
        let err = Value::try_from(doc.value).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidValue);
        assert!(err.message().contains("an array"), "{err}");
    }

    #[test]
    fn from_json_takes_borrowed_and_owned_text() {
        let owned = String::from(r#"{"a":1}"#);
        assert_eq!(
            Value::from_json(&owned).unwrap(),
            Value::from_json(owned).unwrap()
        );
        assert_eq!(Value::from(Map::new()), Value::empty());
        assert_eq!(Value::empty().as_str(), "{}");
    }

    #[test]
    fn deserialize_mismatch_is_typed() {
        let v = Value::from_json(r#"{"a":"not a number"}"#).unwrap();
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct A {
            a: u32,
        }
        assert_eq!(
            v.deserialize::<A>().unwrap_err().kind(),
            ErrorKind::InvalidValue
        );
    }
}
