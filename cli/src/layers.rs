//! Opening a store by URL with the layers the flags ask for: key and collection prefixes,
//! Fernet encryption, compression (innermost first, so values are compressed before they are
//! encrypted).

use std::sync::Arc;

use stowage::wrappers::compression::CompressionLayer;
use stowage::wrappers::fernet::{FernetKey, FernetLayer};
use stowage::wrappers::prefix::{CollectionPrefixLayer, KeyPrefixLayer};
use stowage::{DynStore, KeyValueStoreExt};

use crate::args::Global;
use crate::exit::{CONFIG, CmdResult, Failure};
use crate::redact;

/// The variable holding the Fernet key(s) when `--fernet-key-env` is not given.
pub(crate) const DEFAULT_KEY_VAR: &str = "STOWAGE_FERNET_KEY";

/// The layers to put over every store a command opens.
#[derive(Debug, Default)]
pub(crate) struct Layers {
    prefix: Option<CollectionPrefixLayer>,
    key_prefix: Option<KeyPrefixLayer>,
    fernet: Option<FernetLayer>,
    compress: bool,
}

impl Layers {
    /// Read the layer flags (and the Fernet key's environment variable).
    pub(crate) fn from_flags(global: &Global) -> CmdResult<Layers> {
        let prefix = global
            .prefix
            .as_deref()
            .map(CollectionPrefixLayer::new)
            .transpose()
            .map_err(|e| Failure::from(e).context("--prefix"))?;
        let key_prefix = global
            .key_prefix
            .as_deref()
            .map(KeyPrefixLayer::new)
            .transpose()
            .map_err(|e| Failure::from(e).context("--key-prefix"))?;
        let fernet = fernet_layer(global.fernet_key_env.as_deref(), |var| {
            std::env::var(var).ok()
        })?;
        Ok(Layers {
            prefix,
            key_prefix,
            fernet,
            compress: global.compress,
        })
    }

    /// Whether values are decrypted (a Fernet key was given).
    pub(crate) fn decrypts(&self) -> bool {
        self.fernet.is_some()
    }

    /// Open `url` (see `stowage::open`) and put the layers over it.
    pub(crate) async fn open(&self, url: &str) -> CmdResult<DynStore> {
        tracing::debug!(url = %redact::url(url), "opening store");
        let mut store: DynStore = stowage::open(url).await.map_err(|e| {
            Failure::from(e).context(format_args!("opening `{}`", redact::url(url)))
        })?;
        if let Some(l) = &self.key_prefix {
            store = Arc::new(store.layer(l.clone()));
        }
        if let Some(l) = &self.prefix {
            store = Arc::new(store.layer(l.clone()));
        }
        if let Some(l) = &self.fernet {
            store = Arc::new(store.layer(l.clone()));
        }
        if self.compress {
            store = Arc::new(store.layer(CompressionLayer::default()));
        }
        Ok(store)
    }
}

/// The Fernet layer from the key(s) in `--fernet-key-env VAR`, or in [`DEFAULT_KEY_VAR`] when
/// no variable is named; `None` when neither applies. `env` reads a variable.
fn fernet_layer(
    named: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> CmdResult<Option<FernetLayer>> {
    let (var, text) = match named {
        Some(var) => match env(var).filter(|t| !t.trim().is_empty()) {
            Some(text) => (var, text),
            None => {
                return Err(Failure::usage(format!(
                    "--fernet-key-env {var}: the environment variable {var} is not set"
                )));
            }
        },
        None => match env(DEFAULT_KEY_VAR).filter(|t| !t.trim().is_empty()) {
            Some(text) => (DEFAULT_KEY_VAR, text),
            None => return Ok(None),
        },
    };
    let mut keys = Vec::new();
    for (i, part) in text.split(',').map(str::trim).enumerate() {
        redact::remember(part);
        let key = FernetKey::from_base64(part).map_err(|_| {
            Failure::new(
                CONFIG,
                format!(
                    "the Fernet key #{} in {var} is not a valid key (32 url-safe base64 bytes)",
                    i + 1
                ),
            )
        })?;
        keys.push(key);
    }
    let layer = FernetLayer::builder()
        .keys(keys)
        .build()
        .map_err(|e| Failure::from(e).context(var))?;
    Ok(Some(layer))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";

    #[test]
    fn the_key_comes_from_the_named_variable_or_the_default_one() {
        let env = |var: &str| (var == "MY_KEY" || var == DEFAULT_KEY_VAR).then(|| KEY.to_owned());
        assert!(fernet_layer(Some("MY_KEY"), env).unwrap().is_some());
        assert!(fernet_layer(None, env).unwrap().is_some());
        assert!(fernet_layer(None, |_| None).unwrap().is_none());
        let two = format!("{KEY}, {KEY}");
        assert!(fernet_layer(None, |_| Some(two.clone())).unwrap().is_some());
    }

    #[test]
    fn a_missing_or_bad_key_is_a_typed_failure_that_does_not_echo_it() {
        let missing = fernet_layer(Some("NOPE"), |_| None).unwrap_err();
        assert_eq!(missing.code, crate::exit::USAGE);
        assert!(missing.message.contains("NOPE"));
        let bad = fernet_layer(None, |_| Some("not-a-key-at-all".into())).unwrap_err();
        assert_eq!(bad.code, CONFIG);
        assert!(!bad.message.contains("not-a-key-at-all"), "{}", bad.message);
    }
}
