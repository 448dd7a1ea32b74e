//! The store contract's rules for a backend, in one place: the checks a call's input passes
//! before any engine call, the entries `put_many` writes when a key repeats, and the context every
//! error carries.
//!
//! A backend's `KeyValueStore` methods read as: check with the matching [`Capabilities`] method
//! ([`check`](Capabilities::check), [`check_many`](Capabilities::check_many),
//! [`check_put`](Capabilities::check_put), [`check_put_many`](Capabilities::check_put_many)), call
//! the engine, and name the backend, operation and collection on any error with [`context`].
//! Backend-specific limits (a document size, a name the engine refuses) stay in the backend.
//!
//! ```
//! use stowage_core::checks::{context, last_wins};
//! use stowage_core::{Capabilities, ErrorKind, Expiry, Value};
//!
//! let caps = Capabilities::new(Expiry::Emulated).with_max_value_len(Some(8));
//! let big = Value::from_json(r#"{"pad":"xxxxxxxx"}"#).unwrap();
//! let err = caps.check_put("c", "k", &big, None).map_err(context("toy", "put", "c")).unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::ValueTooLarge);
//! assert_eq!((err.backend(), err.operation()), (Some("toy"), Some("put")));
//!
//! let written: Vec<_> = last_wins(&[("a", 1), ("b", 2), ("a", 3)]).into_iter().copied().collect();
//! assert_eq!(written, [("b", 2), ("a", 3)]);
//! ```

use std::collections::HashSet;
use std::time::Duration;

use crate::{Capabilities, Error, Result, Value, rules};

/// Name `backend`, `operation` and, unless empty, `collection` on an error; context the error
/// already carries (set nearer its cause) is kept.
pub fn context(
    backend: &'static str,
    operation: &'static str,
    collection: &str,
) -> impl FnOnce(Error) -> Error {
    move |e| {
        let e = e.with_backend(backend).with_operation(operation);
        if collection.is_empty() {
            e
        } else {
            e.with_collection(collection)
        }
    }
}

/// The pairs `put_many` writes: the last pair of each key, in the order of their last appearance
/// (a loop of `put`s leaves the same data).
pub fn last_wins<'a, T>(entries: &'a [(&'a str, T)]) -> Vec<&'a (&'a str, T)> {
    let mut seen = HashSet::with_capacity(entries.len());
    let mut out: Vec<_> = entries
        .iter()
        .rev()
        .filter(|(k, _)| seen.insert(*k))
        .collect();
    out.reverse();
    out
}

/// Each key once, in the order of its first appearance: what a batch read or delete asks the
/// engine for when the caller repeats a key.
pub fn unique_keys<'a>(keys: &[&'a str]) -> Vec<&'a str> {
    let mut seen = HashSet::with_capacity(keys.len());
    keys.iter().copied().filter(|k| seen.insert(*k)).collect()
}

impl Capabilities {
    /// Check a single write (`put`, `put_if_absent`): the names, the TTL and the value's size.
    pub fn check_put(
        &self,
        collection: &str,
        key: &str,
        value: &Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        self.check(collection, key)?;
        self.check_value(value.len(), ttl)
    }

    /// Check a whole `put_many` batch before any of it is written: the collection, the TTL (also
    /// for an empty batch), and every key and value.
    pub fn check_put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        self.check_collection(collection)?;
        rules::check_ttl(ttl)?;
        entries.iter().try_for_each(|(k, v)| {
            self.check_key(k)?;
            self.check_value(v.len(), ttl)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, Expiry};

    fn v(json: &str) -> Value {
        Value::from_json(json).unwrap()
    }

    #[test]
    fn a_batch_is_refused_whole_for_one_bad_entry() {
        let caps = Capabilities::new(Expiry::Emulated).with_max_value_len(Some(10));
        let ok = v(r#"{"a":1}"#);
        let big = v(r#"{"a":"0123456789"}"#);
        let batch = [("k", ok.clone()), ("big", big)];
        let err = caps.check_put_many("c", &batch, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ValueTooLarge);
        let bad_key = [("k", ok.clone()), ("", ok.clone())];
        let err = caps.check_put_many("c", &bad_key, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidKey);
        let zero = caps.check_put_many("c", &[], Some(Duration::ZERO));
        assert_eq!(zero.unwrap_err().kind(), ErrorKind::InvalidTtl);
        assert!(caps.check_put_many("c", &[("k", ok)], None).is_ok());
    }

    #[test]
    fn context_names_what_is_missing_and_keeps_what_is_set() {
        let e = context("b", "get", "")(Error::new(ErrorKind::Backend, "x"));
        assert_eq!(
            (e.backend(), e.operation(), e.collection()),
            (Some("b"), Some("get"), None)
        );
        let inner = Error::new(ErrorKind::Backend, "x").with_operation("scan");
        let e = context("b", "keys", "c")(inner);
        assert_eq!((e.operation(), e.collection()), (Some("scan"), Some("c")));
    }

    #[test]
    fn repeated_keys() {
        assert_eq!(unique_keys(&["x", "y", "x"]), ["x", "y"]);
        let kept: Vec<_> = last_wins(&[("x", 1), ("y", 2), ("x", 3), ("z", 4)])
            .into_iter()
            .copied()
            .collect();
        assert_eq!(kept, [("y", 2), ("x", 3), ("z", 4)]);
    }
}
