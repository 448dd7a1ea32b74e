//! The engines the harness knows, by name. Each entry builds an [`Adapter`]; a Stowage backend
//! and its raw baseline are two entries, and [`Backend::baseline`] links them.

mod disk;
mod dynamodb;
mod memory;
mod moka;
mod mongodb;
mod redis;
#[cfg(feature = "rocksdb")]
mod rocksdb;
mod sled;

use anyhow::{Result, bail};

use crate::adapter::Adapter;

/// What an adapter is built from.
#[derive(Debug, Clone)]
pub struct BuildContext {
    /// How many keys the workload uses (to size caches equally).
    pub keys: usize,
    /// Bytes per value.
    pub value_size: usize,
    /// Server URLs by engine kind (`redis`, `redis-cluster`, `mongodb`, `dynamodb`), from `--url`.
    pub urls: std::collections::HashMap<String, String>,
}

impl BuildContext {
    /// The URL of engine `kind`: from `--url KIND=URL`, else the environment variable
    /// `STOWAGE_BENCH_URL_<KIND>` (upper case, `-` as `_`), else an error saying how to give it.
    pub fn url(&self, kind: &str) -> Result<String> {
        if let Some(url) = self.urls.get(kind) {
            return Ok(url.clone());
        }
        let var = format!(
            "STOWAGE_BENCH_URL_{}",
            kind.to_ascii_uppercase().replace('-', "_")
        );
        match std::env::var(&var) {
            Ok(url) if !url.is_empty() => Ok(url),
            _ => bail!("backend `{kind}` needs a server: pass --url {kind}=URL or set {var}"),
        }
    }
}

/// A named engine.
#[derive(Debug)]
pub struct Backend {
    /// The name given on the command line.
    pub name: &'static str,
    /// One line for `--list`.
    pub about: &'static str,
    /// The raw baseline this backend is compared with, if any.
    pub baseline: Option<&'static str>,
    /// Whether it runs with no server (part of the default run).
    pub embedded: bool,
    /// Build the adapter.
    pub build: fn(&BuildContext) -> Result<Box<dyn Adapter>>,
}

/// Every engine, in table order.
pub fn all() -> Vec<Backend> {
    let mut all = vec![memory::backend(), moka::backend()];
    all.extend(disk::backends());
    all.extend(sled::backends());
    #[cfg(feature = "rocksdb")]
    all.extend(rocksdb::backends());
    all.extend(redis::backends());
    all.extend(mongodb::backends());
    all.extend(dynamodb::backends());
    all
}

/// The engine called `name`, or an error listing the known ones.
pub fn find(name: &str) -> Result<Backend> {
    let mut known = all();
    match known.iter().position(|b| b.name == name) {
        Some(i) => Ok(known.swap_remove(i)),
        None => bail!(
            "unknown backend `{name}`; known backends: {}",
            all().iter().map(|b| b.name).collect::<Vec<_>>().join(", ")
        ),
    }
}
