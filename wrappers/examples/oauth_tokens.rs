//! OAuth token storage: typed tokens in an encrypted, TTL-clamped store opened from a URL.
//!
//! ```text
//! cargo run -p stowage-wrappers --example oauth_tokens
//! STOWAGE_URL=memory:// STOWAGE_FERNET_KEY=<44-char key> cargo run -p stowage-wrappers --example oauth_tokens
//! ```
//!
//! The store URL comes from `STOWAGE_URL` (default `memory://`). Only `memory://` is opened
//! here: the workspace's `stowage::open(url)` facade will open every backend the same way.
//! The Fernet key comes from `STOWAGE_FERNET_KEY`; without it a fresh key is generated (data then
//! does not survive a restart, which for a memory store it would not anyway).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use stowage_core::{DynStore, Error, ErrorKind, KeyValueStoreExt, Result};
use stowage_memory::MemoryStore;
use stowage_wrappers::fernet::{FernetKey, FernetLayer};
use stowage_wrappers::stats::StatsLayer;
use stowage_wrappers::ttl::TtlLayer;

/// An upstream OAuth token, as an MCP server keeps it per user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OAuthToken {
    access_token: String,
    refresh_token: Option<String>,
    token_type: String,
    scopes: Vec<String>,
}

/// Open the base store from a URL.
fn open(url: &str) -> Result<DynStore> {
    match url.split_once("://") {
        Some(("memory", "")) => Ok(MemoryStore::new().into_dyn()),
        Some((scheme, _)) => Err(Error::new(
            ErrorKind::Config,
            format!("this example opens only memory:// (got a {scheme}:// URL)"),
        )),
        None => Err(Error::new(
            ErrorKind::Config,
            format!("not a store URL: {url}"),
        )),
    }
}

fn fernet_key() -> Result<FernetKey> {
    match std::env::var("STOWAGE_FERNET_KEY") {
        Ok(text) => FernetKey::from_base64(&text),
        Err(_) => {
            eprintln!("STOWAGE_FERNET_KEY not set: using a fresh random key");
            FernetKey::from_base64(&FernetKey::generate_text())
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let url = std::env::var("STOWAGE_URL").unwrap_or_else(|_| "memory://".into());
    let stats = StatsLayer::new();
    let store = open(&url)?
        // Encrypted at rest; the same key opens the data from Python's FernetEncryptionWrapper.
        .layer(FernetLayer::new(fernet_key()?))
        // Tokens live between one minute and one day, an hour when the caller gives no TTL.
        .layer(
            TtlLayer::builder()
                .default_ttl(Duration::from_secs(3600))
                .min(Duration::from_secs(60))
                .max(Duration::from_secs(86_400))
                .build()?,
        )
        .layer(stats.clone());

    let tokens = store.typed::<OAuthToken>("oauth-tokens");
    let alice = OAuthToken {
        access_token: "ya29.a0-example".into(),
        refresh_token: Some("1//refresh-example".into()),
        token_type: "Bearer".into(),
        scopes: vec!["openid".into(), "email".into()],
    };
    // The provider said "expires_in: 604800" (a week): clamped to a day.
    tokens
        .put("alice", &alice, Some(Duration::from_secs(604_800)))
        .await?;
    // No expiry given: an hour.
    tokens
        .put(
            "bob",
            &OAuthToken {
                refresh_token: None,
                ..alice.clone()
            },
            None,
        )
        .await?;

    let (loaded, ttl) = tokens.ttl("alice").await?.expect("just stored");
    assert_eq!(loaded, alice);
    println!(
        "alice: {} token, scopes {:?}, expires in {}s",
        loaded.token_type,
        loaded.scopes,
        ttl.map_or(0, |t| t.as_secs())
    );
    let (_, ttl) = tokens.ttl("bob").await?.expect("just stored");
    println!("bob: expires in {}s", ttl.map_or(0, |t| t.as_secs()));
    println!("carol: {:?}", tokens.get("carol").await?);

    tokens.delete("alice").await?;
    let c = stats.collection("oauth-tokens");
    println!(
        "statistics: {} hits, {} misses, {} puts, {} deletes",
        c.hits, c.misses, c.puts, c.deletes
    );
    Ok(())
}
