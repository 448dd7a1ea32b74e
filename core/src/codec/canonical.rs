//! The envelope in exactly the shape Stowage and `py-key-value-aio` write it, read without a
//! general JSON parser.
//!
//! Both writers render the members in sorted order with Python's separators:
//!
//! ```text
//! {"collection": "c", "created_at": "…", "expires_at": "…", "key": "k", "value": {…}, "version": 1}
//! ```
//!
//! [`scan`] recognises that shape and returns its members as slices of the text, so a read does
//! not walk the envelope's members through `serde`. It only recognises; it does not validate the
//! value's JSON (the caller does) and it gives up, returning `None`, on anything else: another
//! member order or spacing, an escape sequence in a string, a missing member, another version.
//! The caller then reads the envelope with the general parser, which accepts every shape Python
//! accepts and reports what is wrong. So this module can only make reads faster, never change
//! what they return.

/// The members of a canonical envelope, borrowed from its text.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Canonical<'a> {
    pub(super) collection: &'a str,
    pub(super) created_at: Option<&'a str>,
    pub(super) expires_at: Option<&'a str>,
    pub(super) key: &'a str,
    /// The value's text: starts with `{` and ends with `}`, otherwise unchecked.
    pub(super) value: &'a str,
}

/// `text`'s members if it has the canonical shape; `None` otherwise.
pub(super) fn scan(text: &str) -> Option<Canonical<'_>> {
    let rest = text.strip_prefix(r#"{"collection": "#)?;
    let (collection, rest) = plain_string(rest)?;
    let (created_at, rest) = optional(rest, r#", "created_at": "#)?;
    let (expires_at, rest) = optional(rest, r#", "expires_at": "#)?;
    let rest = rest.strip_prefix(r#", "key": "#)?;
    let (key, rest) = plain_string(rest)?;
    let value = rest
        .strip_prefix(r#", "value": "#)?
        .strip_suffix(r#", "version": 1}"#)?;
    (value.starts_with('{') && value.ends_with('}')).then_some(Canonical {
        collection,
        created_at,
        expires_at,
        key,
        value,
    })
}

/// The member introduced by `name` (which ends before its string), if `rest` starts with it.
fn optional<'a>(rest: &'a str, name: &str) -> Option<(Option<&'a str>, &'a str)> {
    match rest.strip_prefix(name) {
        Some(member) => plain_string(member).map(|(s, rest)| (Some(s), rest)),
        None => Some((None, rest)),
    }
}

/// A JSON string at the start of `rest` that has no escape sequence (so its contents are its
/// text), and what follows it. `None` for anything else, including a control character, which
/// JSON does not allow unescaped.
fn plain_string(rest: &str) -> Option<(&str, &str)> {
    let body = rest.strip_prefix('"')?;
    let end = body
        .bytes()
        .position(|b| b == b'"' || b == b'\\' || b < 0x20)?;
    (body.as_bytes()[end] == b'"').then(|| (&body[..end], &body[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shape_both_writers_use() {
        let text = r#"{"collection": "tokens", "created_at": "2026-11-22T03:16:48.123456+00:00", "expires_at": "2026-11-22T03:17:48+00:00", "key": "alice", "value": {"t": "x", "n": {"m": 1}}, "version": 1}"#;
        assert_eq!(
            scan(text),
            Some(Canonical {
                collection: "tokens",
                created_at: Some("2026-11-22T03:16:48.123456+00:00"),
                expires_at: Some("2026-11-22T03:17:48+00:00"),
                key: "alice",
                value: r#"{"t": "x", "n": {"m": 1}}"#,
            })
        );
        let bare = r#"{"collection": "", "key": "", "value": {}, "version": 1}"#;
        assert_eq!(
            scan(bare),
            Some(Canonical {
                collection: "",
                created_at: None,
                expires_at: None,
                key: "",
                value: "{}",
            })
        );
        // A key that looks like the envelope's own punctuation is still one string.
        let tricky = r#"{"collection": "c", "key": "a, 'value': {}", "value": {"a": "\", \"version\": 1}"}, "version": 1}"#;
        assert_eq!(scan(tricky).map(|c| c.key), Some("a, 'value': {}"));
        assert_eq!(
            scan(tricky).map(|c| c.value),
            Some(r#"{"a": "\", \"version\": 1}"}"#)
        );
    }

    #[test]
    fn gives_up_on_every_other_shape() {
        for text in [
            // Escapes, control characters, other spacing, order, version or members.
            r#"{"collection": "c\u20ac", "key": "k", "value": {}, "version": 1}"#,
            r#"{"collection": "c", "key": "k\"", "value": {}, "version": 1}"#,
            "{\"collection\": \"c\", \"key\": \"k\u{1}\", \"value\": {}, \"version\": 1}",
            r#"{"collection":"c","key":"k","value":{},"version":1}"#,
            r#"{"key": "k", "collection": "c", "value": {}, "version": 1}"#,
            r#"{"collection": "c", "key": "k", "value": {}, "version": 2}"#,
            r#"{"collection": "c", "key": "k", "value": {}}"#,
            r#"{"key": "k", "value": {}, "version": 1}"#,
            r#"{"collection": "c", "key": "k", "value": "{}", "version": 1}"#,
            r#"{"collection": "c", "key": "k", "value": [], "version": 1}"#,
            r#"{"collection": "c", "key": "k", "value": {}, "version": 1} "#,
            r#"{"collection": "c", "expires_at": "x", "created_at": "y", "key": "k", "value": {}, "version": 1}"#,
            r#"{"collection": "c", "key": "k", "value": {}, "other": 1, "version": 1}x"#,
            r#"{"collection": "c"#,
            "",
        ] {
            assert_eq!(scan(text), None, "{text}");
        }
    }
}
