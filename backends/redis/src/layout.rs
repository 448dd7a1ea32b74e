//! Physical key names: `collection::key`, as `py-key-value`'s `RedisStore` writes them, with an
//! optional namespace that prefixes collections the way its `PrefixCollectionsWrapper` does
//! (`namespace__collection::key`).

use std::io::Write as _;

use redis::{RedisWrite, ToRedisArgs};
use stowage_core::codec::json;
use stowage_core::rules::COLLECTION_SEPARATOR;
use stowage_core::{Error, ErrorKind, Result};

/// The separator `PrefixCollectionsWrapper` puts between a prefix and a collection.
pub(crate) const NAMESPACE_SEPARATOR: &str = "__";

/// Check a namespace: a valid collection name with no `__` and no trailing `_`, so that the first
/// `__` of a physical key always ends the namespace and no two namespaces share a key.
pub(crate) fn check_namespace(namespace: &str) -> Result<()> {
    stowage_core::rules::check_collection(namespace, None)?;
    if namespace.contains(NAMESPACE_SEPARATOR) || namespace.ends_with('_') {
        return Err(Error::new(
            ErrorKind::Config,
            format!(
                "a namespace may not contain `{NAMESPACE_SEPARATOR}` nor end with `_`: its keys \
                 would be another namespace's"
            ),
        ));
    }
    Ok(())
}

/// An envelope as one command argument, written into the command's buffer piece by piece: the
/// value's text is copied once, into the command, not first into a joined `String`.
pub(crate) struct Envelope<'v>(pub(crate) json::Pieces<'v>);

impl ToRedisArgs for Envelope<'_> {
    fn write_redis_args<W: ?Sized + RedisWrite>(&self, out: &mut W) {
        write_joined(out, self.0.as_bytes());
    }
}

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

    /// Names from a small alphabet full of separators' pieces, so collisions would show.
    fn name() -> impl proptest::strategy::Strategy<Value = String> {
        "[a_:]{1,5}"
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 1024,
            // Most drawn names break a rule; they are what the rules are for.
            max_global_rejects: 1 << 16,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// No two entries that the rules accept share a physical key, within a namespace or
        /// across two: every way of reading a physical key back as (namespace, collection, key)
        /// that the rules accept is the entry that wrote it. And it splits back into its own
        /// collection and key.
        #[test]
        fn the_layout_is_injective(ns in proptest::option::of(name()), c in name(), k in name()) {
            let valid = |ns: Option<&str>, c: &str| {
                stowage_core::rules::check_collection(c, None).is_ok()
                    && ns.is_none_or(|ns| check_namespace(ns).is_ok())
            };
            proptest::prop_assume!(valid(ns.as_deref(), &c));
            let l = Layout::new(ns.as_deref());
            let physical = l.key(&c, &k);
            proptest::prop_assert_eq!(l.split(&physical), Some((c.as_str(), k.as_str())));
            // A namespaced and an un-namespaced store on one database share the
            // `collection::key` key space by design (py-key-value's prefix wrapper renames
            // collections), so readings are compared within the same kind of layout.
            let namespaces: Vec<(Option<&str>, &str)> = match ns {
                None => vec![(None, physical.as_str())],
                Some(_) => physical
                    .match_indices(NAMESPACE_SEPARATOR)
                    .map(|(at, _)| (Some(&physical[..at]), &physical[at + 2..]))
                    .collect(),
            };
            for (ns2, rest) in namespaces {
                for (at, _) in rest.match_indices(COLLECTION_SEPARATOR) {
                    let (c2, k2) = (&rest[..at], &rest[at + 2..]);
                    if valid(ns2, c2) && !k2.is_empty() {
                        proptest::prop_assert_eq!(
                            (ns2, c2, k2),
                            (ns.as_deref(), c.as_str(), k.as_str()),
                            "two entries share {}", physical
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn colliding_namespaces_are_refused() {
        for bad in ["app__x", "app_", "a__", "a:", "a::b", ""] {
            assert!(check_namespace(bad).is_err(), "{bad}");
        }
        for good in ["app", "_app", "a_b", "a:b", "t-1"] {
            assert!(check_namespace(good).is_ok(), "{good}");
        }
    }
}
