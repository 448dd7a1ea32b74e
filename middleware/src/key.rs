//! Cache keys: a digest of the method, the name or URI, and the canonical JSON of the arguments.

use std::fmt::Write as _;

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

use crate::method::Method;

/// Writes `value` as canonical JSON: object keys sorted (by their UTF-8 bytes) at every depth,
/// no whitespace, strings escaped as `serde_json` escapes them, numbers as they were parsed.
///
/// The order does not depend on how the `serde_json` map was built, so it holds even when
/// another crate turns on `serde_json`'s `preserve_order` feature.
///
/// ```
/// use serde_json::json;
/// use stowage_mcp::canonical_json;
///
/// let a = canonical_json(&json!({"b": 1, "a": {"y": [2, {"d": 0, "c": 1}], "x": null}}));
/// assert_eq!(a, r#"{"a":{"x":null,"y":[2,{"c":1,"d":0}]},"b":1}"#);
/// ```
pub fn canonical_json(value: &Json) -> String {
    let mut out = String::with_capacity(64);
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Json, out: &mut String) {
    match value {
        Json::Object(map) => write_object(map, out),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        // Scalars: serde_json's own rendering (escaping, number text) is already canonical.
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn write_object(map: &Map<String, Json>, out: &mut String) {
    let mut entries: Vec<(&String, &Json)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    out.push('{');
    for (i, (k, v)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Json::String(k.clone()).to_string());
        out.push(':');
        write_canonical(v, out);
    }
    out.push('}');
}

/// Writes JSON text as canonical JSON, like [`canonical_json`], except that numbers keep the
/// text they were sent with: `18446744073709551617` and `18446744073709551616` (which a
/// `serde_json::Value` would both round to the same `f64`) stay apart, as do decimals beyond
/// `f64` precision.
///
/// ```
/// use stowage_mcp::canonical_json_text;
///
/// let a = canonical_json_text(r#"{"n": 18446744073709551617, "a": [1.000000000000000000001]}"#).unwrap();
/// assert_eq!(a, r#"{"a":[1.000000000000000000001],"n":18446744073709551617}"#);
/// assert!(canonical_json_text("{").is_err());
/// ```
pub fn canonical_json_text(text: &str) -> serde_json::Result<String> {
    let raw: &RawValue = serde_json::from_str(text)?;
    let mut out = String::with_capacity(text.len());
    write_raw(raw, &mut out)?;
    Ok(out)
}

fn write_raw(raw: &RawValue, out: &mut String) -> serde_json::Result<()> {
    let text = raw.get().trim();
    match text.as_bytes().first() {
        Some(b'{') => {
            // A BTreeMap orders keys by their UTF-8 bytes; a repeated key keeps its last value,
            // as serde_json and Python's json do.
            let map: BTreeMap<String, &RawValue> = serde_json::from_str(text)?;
            out.push('{');
            for (i, (k, v)) in map.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Json::String(k).to_string());
                out.push(':');
                write_raw(v, out)?;
            }
            out.push('}');
        }
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(text)?;
            out.push('[');
            for (i, item) in items.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_raw(item, out)?;
            }
            out.push(']');
        }
        Some(b'"') => {
            let s: String = serde_json::from_str(text)?;
            out.push_str(&Json::String(s).to_string());
        }
        // Numbers, true, false, null: their text, exactly.
        _ => out.push_str(text),
    }
    Ok(())
}

/// Request arguments, borrowed as a JSON value, a JSON object's map, or JSON text.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Args<'a> {
    None,
    Json(&'a Json),
    Map(&'a Map<String, Json>),
    /// Arguments as sent: numbers keep their text.
    Raw(&'a RawValue),
}

impl<'a> From<Option<&'a Json>> for Args<'a> {
    fn from(value: Option<&'a Json>) -> Self {
        match value {
            None | Some(Json::Null) => Args::None,
            Some(v) => Args::Json(v),
        }
    }
}

/// The digest identifying one cacheable request, independent of who asks.
///
/// It covers the method, the name (tool or prompt name, resource URI, or the page cursor of a
/// list method) and the canonical JSON of the arguments. Request metadata (`_meta`: progress
/// tokens, client info, protocol version) is never part of it.
///
/// ```
/// use serde_json::json;
/// use stowage_mcp::{Method, RequestKey};
///
/// let a = RequestKey::new(Method::ToolsCall, "search", Some(&json!({"q": "x", "n": 3})));
/// let b = RequestKey::new(Method::ToolsCall, "search", Some(&json!({"n": 3, "q": "x"})));
/// let c = RequestKey::new(Method::PromptsGet, "search", Some(&json!({"n": 3, "q": "x"})));
/// assert_eq!(a, b);
/// assert_ne!(a, c);
/// assert_eq!(a.as_str().len(), 64);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestKey {
    hex: String,
}

impl RequestKey {
    /// The key of `method` called with `name` and `arguments` (`None` and an empty object are
    /// the same request).
    pub fn new(method: Method, name: &str, arguments: Option<&Json>) -> RequestKey {
        Self::from_args(method, name, Args::from(arguments))
    }

    pub(crate) fn from_args(method: Method, name: &str, arguments: Args<'_>) -> RequestKey {
        let mut hasher = Sha256::new();
        hasher.update(b"stowage-mcp/request/v1\0");
        hasher.update(method.as_str().as_bytes());
        hasher.update(b"\0");
        hasher.update((name.len() as u64).to_be_bytes());
        hasher.update(name.as_bytes());
        match arguments {
            Args::Json(Json::Object(map)) | Args::Map(map) => {
                let mut out = String::with_capacity(64);
                write_object(map, &mut out);
                hasher.update(out.as_bytes());
            }
            Args::Json(other) => hasher.update(canonical_json(other).as_bytes()),
            Args::Raw(raw) if raw.get().trim() != "null" => {
                // The text was parsed once already (as part of the request), so this does not
                // fail; if it ever did, the digest of the text itself still tells it apart.
                match canonical_json_text(raw.get()) {
                    Ok(text) if text != "{}" => hasher.update(text.as_bytes()),
                    Ok(_) => hasher.update(b"{}"),
                    Err(_) => {
                        hasher.update(b"\0raw\0");
                        hasher.update(raw.get().as_bytes());
                    }
                }
            }
            Args::None | Args::Raw(_) => hasher.update(b"{}"),
        }
        RequestKey {
            hex: to_hex(&hasher.finalize()),
        }
    }

    /// The digest as 64 lower-case hex characters.
    pub fn as_str(&self) -> &str {
        &self.hex
    }
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_key_order_does_not_matter() {
        let a: Json =
            serde_json::from_str(r#"{"z":{"b":[{"y":1,"x":2}],"a":"s"},"k":true}"#).unwrap();
        let b: Json =
            serde_json::from_str(r#"{"k":true,"z":{"a":"s","b":[{"x":2,"y":1}]}}"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(
            RequestKey::new(Method::ToolsCall, "t", Some(&a)),
            RequestKey::new(Method::ToolsCall, "t", Some(&b))
        );
    }

    #[test]
    fn array_order_and_values_matter() {
        let k = |v: Json| RequestKey::new(Method::ToolsCall, "t", Some(&v));
        assert_ne!(k(json!({"a": [1, 2]})), k(json!({"a": [2, 1]})));
        assert_ne!(k(json!({"a": 1})), k(json!({"a": "1"})));
        assert_ne!(k(json!({"a": null})), k(json!({})));
    }

    #[test]
    fn no_arguments_equals_empty_arguments() {
        assert_eq!(
            RequestKey::new(Method::ToolsCall, "t", None),
            RequestKey::new(Method::ToolsCall, "t", Some(&json!({})))
        );
    }

    #[test]
    fn name_and_method_are_separated() {
        // "ab" + args vs "a" + "b…" cannot collide: the name is length-prefixed.
        assert_ne!(
            RequestKey::new(Method::ResourcesRead, "file:///a", None),
            RequestKey::new(Method::ResourcesRead, "file:///b", None)
        );
        assert_ne!(
            RequestKey::new(Method::ToolsList, "", None),
            RequestKey::new(Method::PromptsList, "", None)
        );
    }

    #[test]
    fn numbers_keep_their_text() {
        let raw = |t: &str| RawValue::from_string(t.to_owned()).unwrap();
        let key = |t: &str| {
            let r = raw(t);
            RequestKey::from_args(Method::ToolsCall, "t", Args::Raw(&r))
        };
        // Beyond 64 bits, and beyond f64 precision: a serde_json::Value rounds these alike.
        let pairs = [
            (
                r#"{"n":18446744073709551616}"#,
                r#"{"n":18446744073709551617}"#,
            ),
            (
                r#"{"n":-9223372036854775809}"#,
                r#"{"n":-9223372036854775810}"#,
            ),
            (r#"{"x":0.1}"#, r#"{"x":0.10000000000000000001}"#),
            (r#"{"x":[1e400]}"#, r#"{"x":[1e401]}"#),
        ];
        for (a, b) in pairs {
            assert_ne!(key(a), key(b), "{a} {b}");
            let (ja, jb) = (
                serde_json::from_str::<Json>(a).ok(),
                serde_json::from_str::<Json>(b).ok(),
            );
            if let (Some(ja), Some(jb)) = (ja, jb) {
                // What these tests guard against: a parsed value cannot tell them apart.
                if a.contains("1844") || a.contains("0.1") {
                    assert_eq!(ja, jb, "{a} {b}");
                }
            }
        }
        // Key order and whitespace still do not matter; empty and absent arguments agree.
        assert_eq!(
            key(r#"{"b": 1, "a": {"d": 2, "c": 3}}"#),
            key(r#"{"a":{"c":3,"d":2},"b":1}"#)
        );
        assert_eq!(key("{}"), key("null"));
        assert_eq!(key("{ }"), RequestKey::new(Method::ToolsCall, "t", None));
        // Ordinary values digest as the parsed form does.
        assert_eq!(
            key(r#"{"q": "x\u0041", "n": [1, true, null]}"#),
            RequestKey::new(
                Method::ToolsCall,
                "t",
                Some(&json!({"q": "xA", "n": [1, true, null]}))
            )
        );
    }

    #[test]
    fn strings_are_escaped_canonically() {
        let v = json!({"q\"uote": "line\nbreak", "é": "\u{1F600}"});
        let text = canonical_json(&v);
        let back: Json = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
        assert!(text.starts_with(r#"{"q\"uote":"line\nbreak""#));
    }
}
