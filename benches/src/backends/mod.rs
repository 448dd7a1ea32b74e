//! The engines the harness knows, by name. Each entry builds an [`Adapter`]; a Stowage backend
//! and its raw baseline are two entries, and [`Backend::baseline`] links them.

mod disk;
#[cfg(feature = "dynamodb")]
mod dynamodb;
mod memory;
mod moka;
#[cfg(feature = "mongodb")]
mod mongodb;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "rocksdb")]
mod rocksdb;
mod sled;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Result, bail};
use stowage_core::DynStore;

use crate::adapter::{Adapter, StowageAdapter};
use crate::wrappers::Stack;

/// What an adapter is built from.
#[derive(Debug, Clone)]
pub struct BuildContext {
    /// How many keys the workload uses (to size caches equally).
    pub keys: usize,
    /// Bytes per value.
    pub value_size: usize,
    /// Server URLs by engine kind (`redis`, `redis-cluster`, `mongodb`, `dynamodb`), from `--url`.
    pub urls: std::collections::HashMap<String, String>,
    /// The `--wrappers` stack every Stowage store built with this context is wrapped in; raw
    /// baselines stay bare.
    stack: Option<Arc<Stack>>,
    /// Set once a Stowage store has been built (and wrapped) with this context.
    wrapped: Arc<AtomicBool>,
}

impl BuildContext {
    /// A context with no wrapper stack.
    pub fn new(
        keys: usize,
        value_size: usize,
        urls: std::collections::HashMap<String, String>,
    ) -> Self {
        BuildContext {
            keys,
            value_size,
            urls,
            stack: None,
            wrapped: Arc::default(),
        }
    }

    /// The same context with `stack` applied to the Stowage stores built from it.
    pub fn with_stack(&self, stack: Option<Arc<Stack>>) -> Self {
        BuildContext {
            stack,
            wrapped: Arc::default(),
            ..self.clone()
        }
    }

    /// Whether a Stowage store was built with this context (so the stack, if any, applies to
    /// the row); raw baselines build none.
    pub fn wrapped(&self) -> bool {
        self.wrapped.load(Ordering::Relaxed)
    }

    /// Drive a Stowage store, wrapped in this context's stack.
    pub fn stowage(&self, store: DynStore) -> StowageAdapter {
        StowageAdapter::new(self.wrap(store))
    }

    /// Drive a Stowage store whose files live in `dir` (removed after the store), wrapped in this
    /// context's stack.
    pub fn stowage_in_dir(&self, store: DynStore, dir: tempfile::TempDir) -> StowageAdapter {
        StowageAdapter::in_dir(self.wrap(store), dir)
    }

    fn wrap(&self, store: DynStore) -> DynStore {
        self.wrapped.store(true, Ordering::Relaxed);
        match &self.stack {
            Some(stack) => stack.apply(store),
            None => store,
        }
    }

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
    #[cfg(feature = "redis")]
    all.extend(redis::backends());
    #[cfg(feature = "mongodb")]
    all.extend(mongodb::backends());
    #[cfg(feature = "dynamodb")]
    all.extend(dynamodb::backends());
    all
}

/// The cargo feature that builds backend `name` in, for the backends this build left out
/// (`redis-cluster-raw` → `redis`).
pub fn feature_for(name: &str) -> Option<&'static str> {
    const GATED: [(&str, bool); 4] = [
        ("rocksdb", cfg!(feature = "rocksdb")),
        ("redis", cfg!(feature = "redis")),
        ("mongodb", cfg!(feature = "mongodb")),
        ("dynamodb", cfg!(feature = "dynamodb")),
    ];
    let family = name.split('-').next().unwrap_or(name);
    GATED
        .iter()
        .find(|(feature, built)| *feature == family && !built)
        .map(|(feature, _)| *feature)
}

/// The engine called `name`, or an error listing the known ones.
pub fn find(name: &str) -> Result<Backend> {
    let mut known = all();
    if let Some(i) = known.iter().position(|b| b.name == name) {
        return Ok(known.swap_remove(i));
    }
    match feature_for(name) {
        Some(feature) => bail!(
            "backend `{name}` is not in this build: build the harness with `--features {feature}` \
             (e.g. `cargo run --release -p stowage-bench --features {feature} -- --backends {name}`)"
        ),
        None => bail!(
            "unknown backend `{name}`; known backends: {}",
            all().iter().map(|b| b.name).collect::<Vec<_>>().join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each backend family behind a feature is either in this build or named with its feature.
    #[test]
    fn a_backend_left_out_of_the_build_names_its_feature() {
        for (name, feature) in [
            ("rocksdb-raw", "rocksdb"),
            ("redis", "redis"),
            ("redis-cluster-raw", "redis"),
            ("mongodb-raw-id", "mongodb"),
            ("dynamodb", "dynamodb"),
        ] {
            match find(name) {
                Ok(backend) => {
                    assert_eq!(backend.name, name);
                    assert_eq!(feature_for(name), None);
                }
                Err(e) => {
                    let message = e.to_string();
                    assert!(
                        message.contains(&format!("--features {feature}")),
                        "{name}: {message}"
                    );
                    assert_eq!(feature_for(name), Some(feature));
                }
            }
        }
        assert_eq!(feature_for("sled-raw"), None);
        assert!(
            find("nonsense")
                .unwrap_err()
                .to_string()
                .contains("unknown backend")
        );
    }
}
