//! [`open`]: any store from a URL.
//!
//! | URL | store | cargo feature |
//! | --- | --- | --- |
//! | `memory://` | [`MemoryStore`](stowage_memory::MemoryStore) | `memory` (default) |
//! | `disk:///path/to/file.redb` | `stowage_disk::DiskStore` (redb) | `disk` |
//! | `sled:///path/to/dir` | `stowage_sled::SledStore` | `sled` |
//! | `rocksdb:///path/to/dir` | `stowage_rocksdb::RocksDbStore` | `rocksdb` (not default: a long C++ build) |
//! | `redis://host:port/db`, `rediss://…`, `redis+cluster://…`, `rediss+cluster://…` | `stowage_redis::RedisStore` | `redis` |
//! | `mongodb://host:port/?…` | `stowage_mongodb::MongoStore` | `mongodb` |
//! | `dynamodb://table?endpoint=…&region=…` | `stowage_dynamodb::DynamoStore` | `dynamodb` |
//!
//! The local stores (`disk`, `sled`, `rocksdb`) take one option after the path:
//! `?read_path=inline` runs point reads on the calling task (see [`ReadPath`](stowage_core::ReadPath)); the default is
//! `offload`. Any other option is an [`ErrorKind::Config`] error.
//!
//! A URL whose backend is not compiled in is an [`ErrorKind::Unsupported`] error naming the
//! feature to turn on; an unknown scheme or a malformed URL is [`ErrorKind::Config`].

#[cfg(any(feature = "disk", feature = "sled", feature = "rocksdb"))]
use stowage_core::ReadPath;
use stowage_core::{DynStore, Error, ErrorKind, Result};

/// The URL schemes [`open`] knows, whether or not their backend is compiled in.
pub const SCHEMES: [&str; 10] = [
    "memory",
    "disk",
    "sled",
    "rocksdb",
    "redis",
    "rediss",
    "redis+cluster",
    "rediss+cluster",
    "mongodb",
    "dynamodb",
];

/// Split `url` into its scheme and the rest, checking the scheme is known.
///
/// ```
/// use stowage::open::scheme;
///
/// assert_eq!(scheme("disk:///var/lib/app.redb").unwrap(), ("disk", "/var/lib/app.redb"));
/// assert_eq!(scheme("redis+cluster://h:7000").unwrap(), ("redis+cluster", "h:7000"));
/// assert!(scheme("postgres://x").is_err());
/// assert!(scheme("no scheme").is_err());
/// ```
pub fn scheme(url: &str) -> Result<(&str, &str)> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        Error::new(
            ErrorKind::Config,
            "a store URL looks like `memory://`, `disk:///path` or `redis://host:port/`",
        )
    })?;
    if !SCHEMES.contains(&scheme) {
        return Err(Error::new(
            ErrorKind::Config,
            format!(
                "unknown store URL scheme `{scheme}`; expected one of: {}",
                SCHEMES.join(", ")
            ),
        ));
    }
    Ok((scheme, rest))
}

/// The path and options of a local store URL (`disk:///path?read_path=inline`).
#[cfg(any(feature = "disk", feature = "sled", feature = "rocksdb"))]
fn local_target(scheme: &str, rest: &str) -> Result<(std::path::PathBuf, ReadPath)> {
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() {
        return Err(Error::new(
            ErrorKind::Config,
            format!("a `{scheme}://` URL needs a path: `{scheme}:///absolute/path`"),
        ));
    }
    let mut read_path = ReadPath::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("read_path", value)) => read_path = value.parse()?,
            _ => {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!(
                        "unknown option `{pair}` in a `{scheme}://` URL; the one option is `read_path=offload|inline`"
                    ),
                ));
            }
        }
    }
    Ok((std::path::PathBuf::from(path), read_path))
}

/// Open a local store on the blocking pool: opening reads and may create files.
#[cfg(any(feature = "disk", feature = "sled", feature = "rocksdb"))]
async fn open_blocking<S>(
    scheme: &str,
    open: impl FnOnce() -> Result<S> + Send + 'static,
) -> Result<DynStore>
where
    S: stowage_core::KeyValueStore + 'static,
{
    let store = tokio::task::spawn_blocking(open)
        .await
        .map_err(|e| Error::new(ErrorKind::Backend, format!("{scheme} open task: {e}")))??;
    Ok(std::sync::Arc::new(store))
}

fn not_built(scheme: &str, feature: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!("`{scheme}://` needs the `{feature}` feature of stowage, which is not enabled"),
    )
}

/// Open the store `url` names (see the [module docs](self) for the forms).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> stowage::Result<()> {
/// use stowage::{ErrorKind, KeyValueStore, Value};
///
/// let store = stowage::open("memory://").await?;
/// store.put("c", "k", Value::from_json(r#"{"a":1}"#)?, None).await?;
/// assert!(store.get("c", "k").await?.is_some());
///
/// assert_eq!(stowage::open("ftp://x").await.unwrap_err().kind(), ErrorKind::Config);
/// # Ok(()) }
/// ```
pub async fn open(url: &str) -> Result<DynStore> {
    let (scheme, rest) = scheme(url)?;
    let url = url.trim();
    let _ = (rest, url);
    match scheme {
        #[cfg(feature = "memory")]
        "memory" => Ok(std::sync::Arc::new(stowage_memory::MemoryStore::new())),
        #[cfg(feature = "disk")]
        "disk" => {
            let (path, read_path) = local_target(scheme, rest)?;
            open_blocking(scheme, move || {
                stowage_disk::DiskStore::builder(path)
                    .read_path(read_path)
                    .open()
            })
            .await
        }
        #[cfg(feature = "sled")]
        "sled" => {
            let (path, read_path) = local_target(scheme, rest)?;
            open_blocking(scheme, move || {
                stowage_sled::SledStore::builder(path)
                    .read_path(read_path)
                    .open()
            })
            .await
        }
        #[cfg(feature = "rocksdb")]
        "rocksdb" => {
            let (path, read_path) = local_target(scheme, rest)?;
            open_blocking(scheme, move || {
                stowage_rocksdb::RocksDbStore::builder(path)
                    .read_path(read_path)
                    .open()
            })
            .await
        }
        #[cfg(feature = "redis")]
        "redis" | "rediss" | "redis+cluster" | "rediss+cluster" => Ok(std::sync::Arc::new(
            stowage_redis::RedisStore::open(url).await?,
        )),
        #[cfg(feature = "mongodb")]
        "mongodb" => Ok(std::sync::Arc::new(
            stowage_mongodb::MongoStore::connect(url).await?,
        )),
        #[cfg(feature = "dynamodb")]
        "dynamodb" => Ok(std::sync::Arc::new(
            stowage_dynamodb::DynamoStore::connect(url).await?,
        )),
        #[cfg(not(feature = "redis"))]
        "rediss" | "redis+cluster" | "rediss+cluster" => Err(not_built(scheme, "redis")),
        other => Err(not_built(other, other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unknown_and_malformed_urls_are_config_errors() {
        for url in ["", "memory", "postgres://db", "file:///x", "redis:/x"] {
            let err = open(url).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{url}");
        }
    }

    #[tokio::test]
    async fn every_known_scheme_opens_or_names_its_feature() {
        for url in [
            "rocksdb:///nonexistent-dir-for-stowage-open-test/db",
            "mongodb://127.0.0.1:1/",
        ] {
            match open(url).await {
                Err(e) if e.kind() == ErrorKind::Unsupported => {
                    assert!(e.message().contains("feature"), "{e}")
                }
                // Built in: the backend itself reports what is wrong with this URL.
                Err(_) | Ok(_) => {}
            }
        }
    }

    #[cfg(feature = "memory")]
    #[tokio::test]
    async fn memory_opens() {
        let store = open(" memory:// ").await.unwrap();
        assert!(store.capabilities().keys);
    }

    #[cfg(feature = "disk")]
    #[tokio::test]
    async fn disk_needs_a_path_and_opens_one() {
        assert_eq!(open("disk://").await.unwrap_err().kind(), ErrorKind::Config);
        let dir = std::env::temp_dir().join(format!("stowage-open-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("disk://{}", dir.join("db.redb").display());
        let store = open(&url).await.unwrap();
        store
            .put("c", "k", stowage_core::Value::empty(), None)
            .await
            .unwrap();
        drop(store);
        let inline = format!(
            "disk://{}?read_path=inline",
            dir.join("inline.redb").display()
        );
        let store = open(&inline).await.unwrap();
        store
            .put("c", "k", stowage_core::Value::empty(), None)
            .await
            .unwrap();
        assert!(store.get("c", "k").await.unwrap().is_some());
        drop(store);
        for bad in ["?read_path=sometimes", "?cache=1", "?read_path"] {
            let url = format!("disk://{}{bad}", dir.join("bad.redb").display());
            let err = open(&url).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{url}");
        }
        assert!(!dir.join("bad.redb").exists(), "a bad URL created a file");
        let _ = std::fs::remove_dir_all(dir);
    }
}
