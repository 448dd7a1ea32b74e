//! [`MongoConfig`]: where a [`MongoStore`](crate::MongoStore) connects and how long it waits.

use std::fmt;
use std::time::Duration;

use stowage_core::{Error, ErrorKind, Result};

use crate::error::BACKEND;

/// The database `py-key-value-aio`'s `MongoDBStore` uses when none is named: `kv-store-adapter`.
pub const DEFAULT_DATABASE: &str = "kv-store-adapter";
/// How long one call may take, by default: 10 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// MongoDB's limit on `database.collection`, in bytes.
pub(crate) const MAX_NAMESPACE_LEN: usize = 255;

/// The configuration of a [`MongoStore`](crate::MongoStore), built with
/// [`MongoStore::builder`](crate::MongoStore::builder).
///
/// ```no_run
/// use std::time::Duration;
/// use stowage_mongodb::MongoStore;
///
/// # #[tokio::main] async fn main() -> stowage_core::Result<()> {
/// let store = MongoStore::builder()
///     // Any MongoDB connection string; credentials in it never reach `Debug` output.
///     .url("mongodb://app:secret@127.0.0.1:27017/?directConnection=true")
///     // One database per store: `destroy()` drops every collection in it.
///     .database("sessions")
///     // Every call fails with a retryable `Timeout` error after 2 s.
///     .timeout(Duration::from_secs(2))
///     .build()
///     .await?;
/// # drop(store); Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct MongoConfig {
    pub(crate) url: String,
    pub(crate) database: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) client: Option<mongodb::Client>,
}

impl Default for MongoConfig {
    fn default() -> Self {
        MongoConfig {
            url: "mongodb://127.0.0.1:27017/".to_owned(),
            database: None,
            timeout: DEFAULT_TIMEOUT,
            client: None,
        }
    }
}

impl fmt::Debug for MongoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoConfig")
            .field("url", &redact(&self.url))
            .field("database", &self.database)
            .field("timeout", &self.timeout)
            .field("client", &self.client.as_ref().map(|_| "provided"))
            .finish()
    }
}

/// The URL with any `user:password@` replaced by `***@`.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl MongoConfig {
    /// The connection string (`mongodb://` or `mongodb+srv://`). A database in its path is used
    /// when [`database`](Self::database) is not set. Default `mongodb://127.0.0.1:27017/`.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }

    /// The database holding this store's collections. Default: the one in the URL's path, else
    /// [`DEFAULT_DATABASE`], as `py-key-value-aio` does.
    pub fn database(mut self, database: impl Into<String>) -> Self {
        self.database = Some(database.into());
        self
    }

    /// The longest any call may take before it fails with a retryable
    /// [`Timeout`](ErrorKind::Timeout) error; also the driver's server selection timeout unless
    /// the URL sets one. Default [`DEFAULT_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Use an existing driver client instead of connecting with [`url`](Self::url).
    pub fn client(mut self, client: mongodb::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Connect (lazily: no server needs to answer yet) and build the store.
    ///
    /// Errors with [`ErrorKind::Config`] for a malformed URL, a zero timeout or a database name
    /// MongoDB does not allow.
    pub async fn build(self) -> Result<crate::MongoStore> {
        crate::MongoStore::from_config(self).await
    }
}

pub(crate) fn config_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Config, message.into()).with_backend(BACKEND)
}

/// Check a database name against MongoDB's rules.
pub(crate) fn check_database(name: &str) -> Result<()> {
    if name.is_empty() || name.len() >= 64 {
        return Err(config_error(format!(
            "MongoDB database names are 1 to 63 bytes long; `{name}` is {}",
            name.len()
        )));
    }
    if let Some(c) = name.chars().find(|c| "/\\. \"$\0*<>:|?".contains(*c)) {
        return Err(config_error(format!(
            "MongoDB database names may not contain {c:?}: `{name}`"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        let c = MongoConfig::default().url("mongodb://u:hunter2@h:1/db");
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("mongodb://***@h:1/db"), "{shown}");
        assert_eq!(redact("mongodb://h:1/"), "mongodb://h:1/");
    }

    #[test]
    fn database_names() {
        assert!(check_database("kv-store-adapter").is_ok());
        for bad in ["", "a.b", "a b", "a$", &"x".repeat(64)] {
            assert_eq!(
                check_database(bad).unwrap_err().kind(),
                ErrorKind::Config,
                "{bad}"
            );
        }
    }
}
