//! Just enough of JSON-RPC to route a line: its id, method, params, result or error.

use serde::Deserialize;
use serde_json::value::RawValue;

/// One JSON-RPC message, borrowed from its line. Unknown members are ignored; the line itself
/// is what gets forwarded.
#[derive(Debug, Deserialize)]
pub(crate) struct Message<'a> {
    #[serde(borrow, default)]
    pub(crate) id: Option<&'a RawValue>,
    #[serde(default)]
    pub(crate) method: Option<String>,
    #[serde(borrow, default)]
    pub(crate) params: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) error: Option<&'a RawValue>,
}

impl<'a> Message<'a> {
    /// Parse a line; `None` for anything that is not a single JSON-RPC object (a batch, say).
    pub(crate) fn parse(line: &'a [u8]) -> Option<Message<'a>> {
        let first = line.iter().find(|b| !b.is_ascii_whitespace())?;
        if *first != b'{' {
            return None;
        }
        serde_json::from_slice(line).ok()
    }

    /// The id in a normal form, so that `1`, ` 1` and the same id in a cancellation match.
    pub(crate) fn id_key(&self) -> Option<String> {
        self.id.and_then(|raw| id_key(raw.get()))
    }
}

/// The normal form of a JSON-RPC id given as JSON text (`null` is no id).
pub(crate) fn id_key(text: &str) -> Option<String> {
    match serde_json::from_str::<serde_json::Value>(text).ok()? {
        serde_json::Value::Null => None,
        v @ (serde_json::Value::String(_) | serde_json::Value::Number(_)) => Some(v.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_requests_responses_and_notifications() {
        let m = Message::parse(
            br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}"#,
        )
        .unwrap();
        assert_eq!(m.id_key().as_deref(), Some("7"));
        assert_eq!(m.method.as_deref(), Some("tools/call"));
        assert_eq!(m.params.unwrap().get(), r#"{"name":"x"}"#);

        let m = Message::parse(br#"{"jsonrpc":"2.0","id":"a","result":{"content":[]}}"#).unwrap();
        assert_eq!(m.id_key().as_deref(), Some("\"a\""));
        assert!(m.result.is_some() && m.method.is_none());

        let m = Message::parse(br#"{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#)
            .unwrap();
        assert!(m.id.is_none());

        assert!(Message::parse(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#).is_none());
        assert!(Message::parse(b"not json").is_none());
        assert!(Message::parse(b"").is_none());
    }

    #[test]
    fn ids_are_normalised() {
        assert_eq!(id_key(" 1 "), Some("1".into()));
        assert_eq!(id_key("\"x\""), Some("\"x\"".into()));
        assert_eq!(id_key("null"), None);
        assert_eq!(id_key("{}"), None);
    }
}
