//! Physical key names: `collection::key`, as `py-key-value`'s `RedisStore` writes them, with an
//! optional namespace that prefixes collections the way its `PrefixCollectionsWrapper` does
//! (`namespace__collection::key`).

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
        let mut out = String::with_capacity(
            self.prefix.len() + collection.len() + COLLECTION_SEPARATOR.len() + key.len(),
        );
        out.push_str(&self.prefix);
        out.push_str(collection);
        out.push_str(COLLECTION_SEPARATOR);
        out.push_str(key);
        out
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
}
