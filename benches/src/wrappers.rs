//! `--wrappers`: run stowage-wrappers stacks over any Stowage backend.
//!
//! A stack is a comma-separated list of wrapper names, innermost (closest to the store) first:
//! `fernet,compression,stats` is `store.layer(fernet).layer(compression).layer(stats)`. `none`
//! is the bare store. The harness applies a row's stack to every Stowage store it opens for that
//! row ([`BuildContext::stowage`](crate::backends::BuildContext::stowage)); raw baselines stay
//! bare.
//!
//! `fernet-raw` is the baseline of the Fernet layer: the `fernet` crate's own encrypt and
//! decrypt of the value's JSON text, the token kept in the store as `{"token":"…"}`, with no
//! py-key-value envelope.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use stowage_core::{
    Capabilities, DynStore, Entry, Error, ErrorKind, KeyValueStore, Value, async_trait,
};
use stowage_memory::MemoryStore;
use stowage_wrappers::{
    compression::CompressionLayer,
    default_value::DefaultValueLayer,
    fernet::{FernetKey, FernetLayer},
    logging::LoggingLayer,
    passthrough::PassthroughLayer,
    prefix::{CollectionPrefixLayer, KeyPrefixLayer},
    retry::RetryLayer,
    single_collection::SingleCollectionLayer,
    size_limit::{Action, SizeLimitLayer},
    stats::StatsLayer,
    timeout::TimeoutLayer,
    ttl::TtlLayer,
};

/// The wrapper names `--wrappers` knows.
pub const KNOWN: &[&str] = &[
    "fernet",
    "fernet-raw",
    "compression",
    "ttl",
    "stats",
    "retry",
    "timeout",
    "logging",
    "passthrough",
    "key-prefix",
    "collection-prefix",
    "single-collection",
    "size-limit",
    "default-value",
];

type Wrap = Box<dyn Fn(DynStore) -> DynStore + Send + Sync>;

/// A parsed wrapper stack.
pub struct Stack {
    names: Vec<String>,
    layers: Vec<Wrap>,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Stack").field(&self.names).finish()
    }
}

fn wrap<L>(layer: L) -> Wrap
where
    L: stowage_core::Layer<DynStore> + Send + Sync + 'static,
    L::Store: KeyValueStore + 'static,
{
    Box::new(move |store| Arc::new(layer.layer(store)) as DynStore)
}

fn build(name: &str) -> Result<Wrap> {
    Ok(match name {
        "fernet" => wrap(FernetLayer::new(FernetKey::from_base64(
            &FernetKey::generate_text(),
        )?)),
        "fernet-raw" => {
            let key = fernet::Fernet::new(&fernet::Fernet::generate_key()).expect("a fresh key");
            Box::new(move |store| {
                Arc::new(RawFernet {
                    inner: store,
                    fernet: key.clone(),
                }) as DynStore
            })
        }
        "compression" => wrap(CompressionLayer::default()),
        "ttl" => wrap(
            TtlLayer::builder()
                .min(Duration::from_millis(1))
                .max(Duration::from_secs(86_400))
                .build()?,
        ),
        "stats" => wrap(StatsLayer::new()),
        "retry" => wrap(RetryLayer::default()),
        "timeout" => wrap(TimeoutLayer::new(Duration::from_secs(5))),
        "logging" => wrap(LoggingLayer::new()),
        "passthrough" => wrap(PassthroughLayer::new(MemoryStore::new())?),
        "key-prefix" => wrap(KeyPrefixLayer::new("bench")?),
        "collection-prefix" => wrap(CollectionPrefixLayer::new("bench")?),
        "single-collection" => wrap(SingleCollectionLayer::new("all")?),
        "size-limit" => wrap(SizeLimitLayer::new().max(16 << 20, Action::Reject)),
        "default-value" => wrap(DefaultValueLayer::new().for_collection("none", Value::empty())),
        other => bail!(
            "unknown wrapper `{other}`; known wrappers: {}",
            KNOWN.join(", ")
        ),
    })
}

impl Stack {
    /// Parse `fernet,compression,stats` (innermost first) or `none`.
    pub fn parse(spec: &str) -> Result<Stack> {
        let names: Vec<String> = spec
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty() && *n != "none")
            .map(str::to_owned)
            .collect();
        let layers = names.iter().map(|n| build(n)).collect::<Result<_>>()?;
        Ok(Stack { names, layers })
    }

    /// The label in result tables: `fernet+compression+stats`, or `none`.
    pub fn label(&self) -> String {
        if self.names.is_empty() {
            "none".into()
        } else {
            self.names.join("+")
        }
    }

    /// Wrap `store` in the stack.
    pub fn apply(&self, store: DynStore) -> DynStore {
        self.layers.iter().fold(store, |s, wrap| wrap(s))
    }
}

/// The Fernet baseline: raw `fernet` crate encryption of the value, no envelope.
struct RawFernet {
    inner: DynStore,
    fernet: fernet::Fernet,
}

impl std::fmt::Debug for RawFernet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawFernet")
    }
}

impl RawFernet {
    fn seal(&self, value: &Value) -> stowage_core::Result<Value> {
        let token = self.fernet.encrypt(value.as_bytes());
        Value::from_json(format!("{{\"token\":\"{token}\"}}"))
    }

    fn open(&self, stored: Value) -> stowage_core::Result<Value> {
        let text = stored.as_str();
        let token = text
            .strip_prefix("{\"token\":\"")
            .and_then(|t| t.strip_suffix("\"}"))
            .ok_or_else(|| Error::new(ErrorKind::Corrupted, "not a token"))?;
        let plain = self
            .fernet
            .decrypt(token)
            .map_err(|_| Error::new(ErrorKind::DecryptionFailed, "fernet"))?;
        Value::from_stored(&plain)
    }
}

#[async_trait]
impl KeyValueStore for RawFernet {
    fn capabilities(&self) -> Capabilities {
        // The baseline measures reads and writes; it does not offer the atomic insert.
        self.inner.capabilities().with_put_if_absent(false)
    }
    async fn get(&self, c: &str, k: &str) -> stowage_core::Result<Option<Value>> {
        self.inner
            .get(c, k)
            .await?
            .map(|v| self.open(v))
            .transpose()
    }
    async fn get_many(&self, c: &str, ks: &[&str]) -> stowage_core::Result<Vec<Option<Value>>> {
        let got = self.inner.get_many(c, ks).await?;
        got.into_iter()
            .map(|v| v.map(|v| self.open(v)).transpose())
            .collect()
    }
    async fn ttl(&self, c: &str, k: &str) -> stowage_core::Result<Option<Entry>> {
        match self.inner.ttl(c, k).await? {
            Some(e) => Ok(Some(Entry {
                value: self.open(e.value)?,
                ..e
            })),
            None => Ok(None),
        }
    }
    async fn ttl_many(&self, c: &str, ks: &[&str]) -> stowage_core::Result<Vec<Option<Entry>>> {
        let mut out = Vec::with_capacity(ks.len());
        for k in ks {
            out.push(self.ttl(c, k).await?);
        }
        Ok(out)
    }
    async fn put(
        &self,
        c: &str,
        k: &str,
        v: Value,
        t: Option<Duration>,
    ) -> stowage_core::Result<()> {
        let sealed = self.seal(&v)?;
        self.inner.put(c, k, sealed, t).await
    }
    async fn put_many(
        &self,
        c: &str,
        e: &[(&str, Value)],
        t: Option<Duration>,
    ) -> stowage_core::Result<()> {
        let sealed = e
            .iter()
            .map(|(k, v)| Ok((*k, self.seal(v)?)))
            .collect::<stowage_core::Result<Vec<_>>>()?;
        self.inner.put_many(c, &sealed, t).await
    }
    async fn delete(&self, c: &str, k: &str) -> stowage_core::Result<bool> {
        self.inner.delete(c, k).await
    }
    async fn delete_many(&self, c: &str, ks: &[&str]) -> stowage_core::Result<usize> {
        self.inner.delete_many(c, ks).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stowage_core::KeyValueStoreExt;

    #[tokio::test]
    async fn stacks_parse_apply_and_round_trip() {
        for spec in [
            "none",
            "fernet,compression,stats",
            "fernet-raw",
            "passthrough,ttl,retry",
        ] {
            let stack = Stack::parse(spec).unwrap();
            let store = stack.apply(MemoryStore::new().into_dyn());
            let v = Value::from_json(r#"{"a":"b"}"#).unwrap();
            store.put("c", "k", v.clone(), None).await.unwrap();
            assert_eq!(store.get("c", "k").await.unwrap(), Some(v), "{spec}");
        }
        assert!(Stack::parse("fernet,nope").is_err());
        assert_eq!(
            Stack::parse("fernet, stats").unwrap().label(),
            "fernet+stats"
        );
    }
}
