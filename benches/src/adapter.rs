//! [`Adapter`]: one interface over every engine the harness drives, Stowage stores and raw clients
//! alike, so both run the same workload with the same settings.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use async_trait::async_trait;
use stowage_core::{KeyValueStore, Value};

/// The collection every Stowage adapter uses.
pub const COLLECTION: &str = "bench";

/// One value as both sides need it: Stowage's [`Value`] and the same JSON text for raw clients.
#[derive(Debug, Clone)]
pub struct Payload {
    /// The value for Stowage stores.
    pub value: Value,
    /// The same JSON text, for raw clients.
    pub json: Arc<str>,
}

/// The text values are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValueText {
    /// ASCII letters and digits.
    Ascii,
    /// Letters mixed with accented letters, CJK and emoji (UTF-8 of 1 to 4 bytes).
    Unicode,
}

impl ValueText {
    /// The characters a value's text is drawn from.
    pub fn alphabet(self) -> &'static [char] {
        match self {
            ValueText::Ascii => ALPHANUMERIC,
            ValueText::Unicode => UNICODE,
        }
    }
}

const ALPHANUMERIC: &[char] = &[
    'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's',
    't', 'u', 'v', 'w', 'x', 'y', 'z', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L',
    'M', 'N', 'O', 'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', '0', '1', '2', '3', '4',
    '5', '6', '7', '8', '9',
];

/// Kept equal to `UNICODE` in `py/pykv_bench.py`.
const UNICODE: &[char] = &[
    'a',
    'e',
    'i',
    'o',
    'u',
    'n',
    's',
    't',
    ' ',
    '\u{e9}',
    '\u{fc}',
    '\u{df}',
    '\u{e5}',
    '\u{2603}',
    '\u{65e5}',
    '\u{672c}',
    '\u{8a9e}',
    '\u{1f600}',
];

impl Payload {
    /// A JSON object of about `size` bytes: `{"data":"…"}` padded with random characters of
    /// `text`, never past `size` bytes of UTF-8.
    pub fn of_size(size: usize, text: ValueText, rng: &mut fastrand::Rng) -> Result<Payload> {
        let pad = size.saturating_sub(r#"{"data":""}"#.len());
        let alphabet = text.alphabet();
        let mut data = String::with_capacity(pad);
        while let Some(c) = rng
            .choice(alphabet)
            .filter(|c| data.len() + c.len_utf8() <= pad)
        {
            data.push(*c);
        }
        // The last few bytes, when a wide character did not fit.
        while data.len() < pad {
            data.push('x');
        }
        let value = Value::from_serialize(&serde_json::json!({ "data": data }))?;
        Ok(Payload {
            json: Arc::from(value.as_str()),
            value,
        })
    }
}

/// An engine under test.
#[async_trait]
pub trait Adapter: Send + Sync {
    /// Read one key; `true` on a hit.
    async fn get(&self, key: &str) -> Result<bool>;

    /// Write one key (no TTL).
    async fn put(&self, key: &str, payload: &Payload) -> Result<()>;

    /// Write one key with a TTL (the cache workload). Engines without expiry say so.
    async fn put_ttl(&self, key: &str, payload: &Payload, ttl: Duration) -> Result<()> {
        let _ = (key, payload, ttl);
        anyhow::bail!("this engine has no per-key TTL, so it cannot run the cache workload")
    }

    /// Write many keys at once, for loading.
    async fn put_many(&self, entries: &[(&str, &Payload)]) -> Result<()> {
        for (k, p) in entries {
            self.put(k, p).await?;
        }
        Ok(())
    }
}

/// Any Stowage store, driven through `Arc<dyn KeyValueStore>` as applications hold it.
#[derive(Debug)]
pub struct StowageAdapter {
    // Declared first, so the store closes before its directory is removed.
    store: Arc<dyn KeyValueStore>,
    _dir: Option<tempfile::TempDir>,
}

impl StowageAdapter {
    /// Drive `store` as it is (see
    /// [`BuildContext::stowage`](crate::backends::BuildContext::stowage) for one wrapped in the
    /// `--wrappers` stack).
    pub fn new(store: Arc<dyn KeyValueStore>) -> Self {
        StowageAdapter { store, _dir: None }
    }

    /// Drive `store`, whose files live in `dir`: the directory is removed after the store is
    /// dropped. No adapter layer of its own, so the store is measured as directly as [`new`].
    ///
    /// [`new`]: StowageAdapter::new
    pub fn in_dir(store: Arc<dyn KeyValueStore>, dir: tempfile::TempDir) -> Self {
        StowageAdapter {
            _dir: Some(dir),
            ..Self::new(store)
        }
    }
}

#[async_trait]
impl Adapter for StowageAdapter {
    async fn get(&self, key: &str) -> Result<bool> {
        Ok(self.store.get(COLLECTION, key).await?.is_some())
    }

    async fn put(&self, key: &str, payload: &Payload) -> Result<()> {
        Ok(self
            .store
            .put(COLLECTION, key, payload.value.clone(), None)
            .await?)
    }

    async fn put_ttl(&self, key: &str, payload: &Payload, ttl: Duration) -> Result<()> {
        Ok(self
            .store
            .put(COLLECTION, key, payload.value.clone(), Some(ttl))
            .await?)
    }

    async fn put_many(&self, entries: &[(&str, &Payload)]) -> Result<()> {
        let batch: Vec<(&str, Value)> =
            entries.iter().map(|(k, p)| (*k, p.value.clone())).collect();
        Ok(self.store.put_many(COLLECTION, &batch, None).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_have_the_asked_size_in_bytes_and_text() {
        let mut rng = fastrand::Rng::with_seed(7);
        for size in [16, 100, 1024, 4096] {
            let ascii = Payload::of_size(size, ValueText::Ascii, &mut rng).unwrap();
            assert_eq!(ascii.value.len(), size);
            assert!(ascii.value.as_str().is_ascii());
            let unicode = Payload::of_size(size, ValueText::Unicode, &mut rng).unwrap();
            assert_eq!(unicode.value.len(), size);
            assert_eq!(&*unicode.json, unicode.value.as_str());
        }
        let unicode = Payload::of_size(1024, ValueText::Unicode, &mut rng).unwrap();
        let wide = unicode.value.as_str().chars().filter(|c| c.len_utf8() > 1);
        assert!(wide.count() > 100, "{}", unicode.value);
    }
}
