//! [`Value`]: the immutable JSON object a key holds.

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value as Json};

use crate::error::{Error, ErrorKind, Result};

/// A stored value: a JSON object, immutable and cheap to clone.
///
/// A `Value` keeps the object's JSON text behind an [`Arc`], so cloning it, handing it to a store
/// or reading it back never copies the document. The text is checked once, when the `Value` is
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
    raw: Arc<RawValue>,
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

impl Value {
    /// The empty object `{}`.
    pub fn empty() -> Self {
        Value::from(Map::new())
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
        Self::from_raw(raw)
    }

    /// Parse and validate JSON text. Leading and trailing whitespace is dropped.
    ///
    /// Errors with [`ErrorKind::InvalidValue`] when the text is not valid JSON or its top level is
    /// not an object.
    pub fn from_json(text: impl Into<String>) -> Result<Self> {
        let raw = RawValue::from_string(text.into()).map_err(|e| {
            Error::new(ErrorKind::InvalidValue, format!("invalid JSON text: {e}")).with_source(e)
        })?;
        Self::from_raw(raw)
    }

    /// Parse JSON that came from storage: like [`Value::from_json`], but a failure is
    /// [`ErrorKind::Corrupted`], since the caller did not write bad input — the stored bytes are
    /// damaged.
    pub fn from_stored(bytes: &[u8]) -> Result<Self> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            Error::new(ErrorKind::Corrupted, "stored value is not UTF-8").with_source(e)
        })?;
        Self::from_json(text).map_err(|e| {
            Error::new(
                ErrorKind::Corrupted,
                format!("stored value is damaged: {}", e.message()),
            )
        })
    }

    fn from_raw(raw: Box<RawValue>) -> Result<Self> {
        match raw.get().as_bytes().first() {
            Some(b'{') => Ok(Value { raw: raw.into() }),
            Some(&b) => Err(not_an_object(kind_of(b))),
            None => Err(not_an_object("nothing")),
        }
    }

    /// The object's JSON text, exactly as stored.
    pub fn as_str(&self) -> &str {
        self.raw.get()
    }

    /// The object's JSON text as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.raw.get().as_bytes()
    }

    /// The object as a JSON [`RawValue`], for embedding in a larger JSON document without
    /// re-parsing it.
    pub fn as_raw(&self) -> &RawValue {
        &self.raw
    }

    /// Length of the JSON text in bytes.
    pub fn len(&self) -> usize {
        self.raw.get().len()
    }

    /// Whether the object has no members (`{}`).
    pub fn is_empty(&self) -> bool {
        self.to_map().is_empty()
    }

    /// Parse the object into a [`serde_json::Map`].
    pub fn to_map(&self) -> Map<String, Json> {
        // The text was validated as a JSON object on construction.
        serde_json::from_str(self.raw.get()).unwrap_or_default()
    }

    /// Deserialize the object into `T`.
    ///
    /// Errors with [`ErrorKind::InvalidValue`] when the object does not have `T`'s shape.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(self.raw.get()).map_err(|e| {
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

impl From<Map<String, Json>> for Value {
    fn from(map: Map<String, Json>) -> Self {
        let text = Json::Object(map).to_string();
        Value {
            raw: RawValue::from_string(text)
                .expect("a serde_json map always renders as a JSON object")
                .into(),
        }
    }
}

impl TryFrom<Json> for Value {
    type Error = Error;

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
        Arc::ptr_eq(&self.raw, &other.raw) || self.as_str() == other.as_str()
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
    /// With `serde_json` the object's text is written verbatim, without re-parsing.
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Value {
    /// Deserializes from JSON only (the value is kept as raw JSON text); refuses non-objects.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Value::from_raw(raw).map_err(serde::de::Error::custom)
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
