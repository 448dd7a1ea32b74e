//! Physical key names: `collection::key`, as `py-key-value`'s `RedisStore` writes them, with an
//! optional namespace that prefixes collections the way its `PrefixCollectionsWrapper` does
//! (`namespace__collection::key`).

use std::io::Write as _;

use redis::{RedisWrite, ToRedisArgs};
use stowage_core::rules::COLLECTION_SEPARATOR;

/// The separator `PrefixCollectionsWrapper` puts between a prefix and a collection.
pub(crate) const NAMESPACE_SEPARATOR: &str = "__";

/// How a store names its Redis keys.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layout {
    /// `namespace__`, or empty without a namespace.
    prefix: String,
}

impl Layout {
    pub(crate) fn new(namespace: Option<&str>) -> Self {
        Layout {
            prefix: namespace
                .map(|ns| format!("{ns}{NAMESPACE_SEPARATOR}"))
                .unwrap_or_default(),
        }
    }

    /// The collection name stored in Redis and in the envelope.
    pub(crate) fn collection(&self, collection: &str) -> String {
        format!("{}{collection}", self.prefix)
    }

    /// The Redis key of `key` in `collection`.
    pub(crate) fn key(&self, collection: &str, key: &str) -> String {
        self.key_arg(collection, key).pieces().concat()
    }

    /// The Redis key of `key` in `collection` as a command argument, written straight into the
    /// command without building a `String` first.
    pub(crate) fn key_arg<'a>(&'a self, collection: &'a str, key: &'a str) -> KeyArg<'a> {
        KeyArg {
            prefix: &self.prefix,
            collection,
            key,
        }
    }

    /// A SCAN `MATCH` pattern for every key of `collection`.
    pub(crate) fn collection_pattern(&self, collection: &str) -> String {
        let mut out = String::new();
        escape_glob(&mut out, &self.prefix);
        escape_glob(&mut out, collection);
        out.push_str(COLLECTION_SEPARATOR);
        out.push('*');
        out
    }

    /// A SCAN `MATCH` pattern for every key of this store.
    pub(crate) fn store_pattern(&self) -> String {
        let mut out = String::new();
        escape_glob(&mut out, &self.prefix);
        out.push('*');
        out.push_str(COLLECTION_SEPARATOR);
        out.push('*');
        out
    }

    /// Split a Redis key of this store into `(collection, key)`; `None` for keys outside it.
    pub(crate) fn split<'a>(&self, physical: &'a str) -> Option<(&'a str, &'a str)> {
        physical
            .strip_prefix(self.prefix.as_str())?
            .split_once(COLLECTION_SEPARATOR)
            .filter(|(c, _)| !c.is_empty())
    }
}

/// A Redis key as a command argument; see [`Layout::key_arg`].
pub(crate) struct KeyArg<'a> {
    prefix: &'a str,
    collection: &'a str,
    key: &'a str,
}

impl KeyArg<'_> {
    fn pieces(&self) -> [&str; 4] {
        [self.prefix, self.collection, COLLECTION_SEPARATOR, self.key]
    }
}

impl ToRedisArgs for KeyArg<'_> {
    fn write_redis_args<W: ?Sized + RedisWrite>(&self, out: &mut W) {
        write_joined(out, self.pieces().map(str::as_bytes));
    }
}

/// Write `pieces`, joined, as one argument of a command, straight into its buffer.
pub(crate) fn write_joined<W: ?Sized + RedisWrite, const N: usize>(
    out: &mut W,
    pieces: [&[u8]; N],
) {
    out.reserve_space_for_args([pieces.iter().map(|p| p.len()).sum()]);
    let mut arg = out.writer_for_next_arg();
    for piece in pieces {
        // Writing into the command's own `Vec` cannot fail.
        let _ = arg.write_all(piece);
    }
}

/// Append `text` to a Redis glob pattern, matching itself literally.
fn escape_glob(out: &mut String, text: &str) {
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^' | '-') {
            out.push('\\');
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_layout_without_namespace() {
        let l = Layout::new(None);
        assert_eq!(l.key("tokens", "a::b"), "tokens::a::b");
        assert_eq!(l.collection("tokens"), "tokens");
        assert_eq!(l.collection_pattern("to*k[e]ns"), "to\\*k\\[e\\]ns::*");
        assert_eq!(l.store_pattern(), "*::*");
        assert_eq!(l.split("tokens::a::b"), Some(("tokens", "a::b")));
        assert_eq!(l.split("plain"), None);
    }

    #[test]
    fn namespace_prefixes_collections() {
        let l = Layout::new(Some("t-1"));
        assert_eq!(l.key("c", "k"), "t-1__c::k");
        assert_eq!(l.collection("c"), "t-1__c");
        assert_eq!(l.store_pattern(), "t\\-1__*::*");
        assert_eq!(l.split("t-1__c::k"), Some(("c", "k")));
        assert_eq!(l.split("other__c::k"), None);
        assert_eq!(l.split("t-1__::k"), None);
    }

    #[test]
    fn a_key_argument_is_the_key() {
        let l = Layout::new(Some("ns"));
        let written = redis::cmd("GET")
            .arg(l.key_arg("c", "k::1"))
            .get_packed_command();
        let built = redis::cmd("GET")
            .arg(l.key("c", "k::1"))
            .get_packed_command();
        assert_eq!(written, built);
        assert!(
            String::from_utf8_lossy(&written).contains("ns__c::k::1"),
            "{}",
            String::from_utf8_lossy(&written)
        );
    }
}
