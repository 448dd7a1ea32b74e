//! Key and collection prefixes: share one backend between several applications or tenants.
//!
//! - [`KeyPrefixLayer`]: key `k` is stored as `{prefix}__k`.
//! - [`CollectionPrefixLayer`]: collection `c` is stored as `{prefix}__c`.
//!
//! Both use py-key-value's `__` separator by default (`PrefixKeysWrapper`,
//! `PrefixCollectionsWrapper`), so prefixed data is shared with Python. Enumeration and destroy
//! see only the prefixed part of the inner store: `destroy()` removes this prefix's data and
//! nothing else.

mod collection;
mod key;

pub use collection::{CollectionPrefixLayer, CollectionPrefixStore};
pub use key::{KeyPrefixLayer, KeyPrefixStore};

/// The separator between prefix and name, as in py-key-value.
pub const DEFAULT_SEPARATOR: &str = "__";

/// Whether the first `separator` of `prefix{separator}name` is always the one after `prefix`,
/// whatever `name` is: `prefix` neither contains `separator` nor ends with the start of it. Then
/// no two prefixes map two names to one.
fn ends_at_its_separator(prefix: &str, separator: &str) -> bool {
    !separator.is_empty() && format!("{prefix}{separator}").find(separator) == Some(prefix.len())
}
