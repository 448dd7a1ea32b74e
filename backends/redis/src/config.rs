//! [`RedisConfig`]: where and how a [`RedisStore`](crate::RedisStore) connects.

use std::fmt;
use std::time::Duration;

use stowage_core::Result;

use crate::error::config;

/// Default time to open a connection: 2 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Default deadline of one store operation, reconnecting included: 5 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default largest value (JSON text) a `put` accepts: 64 MiB (Redis allows 512 MB strings).
pub const DEFAULT_MAX_VALUE_LEN: usize = 64 * 1024 * 1024;
/// Default `COUNT` hint of each `SCAN` step: 1000.
pub const DEFAULT_SCAN_COUNT: usize = 1000;
/// Default number of connections to a single node: 2 (see [`RedisConfig::connections`]).
pub const DEFAULT_CONNECTIONS: usize = 2;
/// The most connections a store opens to a single node: 64.
pub const MAX_CONNECTIONS: usize = 64;

/// The configuration of a [`RedisStore`](crate::RedisStore), built with
/// [`RedisStore::builder`](crate::RedisStore::builder).
///
/// URLs:
/// - `redis://[[user]:password@]host[:port][/db]` — one node; `rediss://` for TLS (feature
///   `tls`, on by default). The user name and password are the ACL credentials.
/// - `redis+cluster://…` / `rediss+cluster://…`, or `?cluster=true` on any URL — a Redis Cluster,
///   with the URL's node as the seed.
/// - `?namespace=name` — this store's keys are `name__collection::key` (see
///   [`namespace`](RedisConfig::namespace)).
///
/// ```no_run
/// use std::time::Duration;
/// use stowage_redis::RedisStore;
///
/// # async fn demo() -> stowage_core::Result<()> {
/// let store = RedisStore::builder()
///     // One node, or a cluster seed with `.cluster(true)` or `?cluster=true`.
///     .url("redis://127.0.0.1:6379/0")
///     // ACL credentials (override the URL's).
///     .username("app")
///     .password("s3cret")
///     // Keep this store's keys apart: `myapp__collection::key`.
///     .namespace("myapp")
///     // Give up on one operation, reconnection included, after 2 s with a `Timeout` error.
///     .timeout(Duration::from_secs(2))
///     .build()
///     .await?;
/// # drop(store); Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct RedisConfig {
    pub(crate) url: String,
    pub(crate) cluster: Option<bool>,
    pub(crate) namespace: Option<String>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) max_value_len: usize,
    pub(crate) scan_count: usize,
    pub(crate) connections: usize,
    pub(crate) coalesce: bool,
    pub(crate) tls_root_cert: Option<Vec<u8>>,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            url: "redis://127.0.0.1:6379/".to_owned(),
            cluster: None,
            namespace: None,
            username: None,
            password: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            max_value_len: DEFAULT_MAX_VALUE_LEN,
            scan_count: DEFAULT_SCAN_COUNT,
            connections: DEFAULT_CONNECTIONS,
            coalesce: true,
            tls_root_cert: None,
        }
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &redact(&self.url))
            .field("cluster", &self.cluster)
            .field("namespace", &self.namespace)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("max_value_len", &self.max_value_len)
            .field("scan_count", &self.scan_count)
            .field("connections", &self.connections)
            .field("coalesce", &self.coalesce)
            .field(
                "tls_root_cert",
                &self
                    .tls_root_cert
                    .as_ref()
                    .map(|pem| format!("{} bytes of PEM", pem.len())),
            )
            .finish()
    }
}

/// The URL with any password replaced, for `Debug` and error messages.
pub(crate) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("redacted"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "<unparsable URL>".to_owned(),
    }
}

impl RedisConfig {
    /// The server's URL (default `redis://127.0.0.1:6379/`). See the type's documentation for
    /// the accepted forms.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }

    /// Connect to a Redis Cluster (`true`) or a single node (`false`), whatever the URL says.
    pub fn cluster(mut self, cluster: bool) -> Self {
        self.cluster = Some(cluster);
        self
    }

    /// Keep this store's keys apart under `namespace`: a collection `c` is stored as
    /// `namespace__c`, exactly as `py-key-value`'s `PrefixCollectionsWrapper(prefix=namespace)`
    /// stores it, so a Python store wrapped that way shares the data. `keys`, `collections` and
    /// `destroy` then see only this namespace. Without one (the default), the layout is
    /// `RedisStore`'s own `collection::key`, and `destroy` removes every key of that layout in
    /// the database, namespaced ones included.
    ///
    /// A namespace follows the collection rules and may not contain `__` nor end with `_`, so
    /// that no two namespaces share a key (`app` + `x__c` would be `app__x` + `c`; `app_` + `x`
    /// would be `app` + `_x`): [`build`](Self::build) refuses such a namespace with
    /// [`ErrorKind::Config`](stowage_core::ErrorKind::Config).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// The ACL user name (overrides the URL's).
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// The password (overrides the URL's). Never printed by `Debug`.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// How long opening one connection may take. Default [`DEFAULT_CONNECT_TIMEOUT`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The deadline of each store operation, waiting for a reconnection included; past it the
    /// call fails with a retryable [`Timeout`](stowage_core::ErrorKind::Timeout) error. Default
    /// [`DEFAULT_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest value (JSON text, in bytes) a `put` accepts; larger ones are
    /// [`ValueTooLarge`](stowage_core::ErrorKind::ValueTooLarge). Default
    /// [`DEFAULT_MAX_VALUE_LEN`].
    pub fn max_value_len(mut self, max: usize) -> Self {
        self.max_value_len = max;
        self
    }

    /// The `COUNT` hint of each `SCAN` step of `keys`, `collections` and `destroy`. Default
    /// [`DEFAULT_SCAN_COUNT`].
    pub fn scan_count(mut self, count: usize) -> Self {
        self.scan_count = count;
        self
    }

    /// How many connections to a single node the store opens and uses in turn (default
    /// [`DEFAULT_CONNECTIONS`], from 1 to [`MAX_CONNECTIONS`]).
    ///
    /// Each connection is multiplexed: concurrent calls share it without waiting for one
    /// another, so one connection is enough for latency. A second lets the server and the
    /// client work on two sockets at once: on a 2-core machine, `get_many` of 16 keys from 50
    /// tasks reads about 1.4× more keys per second over 2 connections than over 1, with single
    /// `get`s and `put`s unchanged; 4 connections add little more for `get_many` and cost
    /// single-key calls about 15 % there, as each socket carries fewer calls per system call
    /// (`BENCHMARKS.md`). Ignored for a Redis Cluster, whose client keeps a connection to every
    /// node.
    ///
    /// A task's calls keep their order whichever connections they use: a call returns only
    /// once the server has answered it, so the next one reaches the server after it.
    pub fn connections(mut self, n: usize) -> Self {
        self.connections = n;
        self
    }

    /// Whether concurrent calls share pipelines (default `true`).
    ///
    /// While fewer than 8 calls of this store are in flight, each is sent as itself. Beyond
    /// that, calls issued together are queued and sent as pipelines of up to 16 commands (a
    /// pipeline leaves once it holds a quarter of the calls in flight, or once the runtime has
    /// run the other ready tasks). Every call still gets its own reply and its own error (a
    /// `WRONGTYPE` on one key fails that call only) and returns once the server has answered it;
    /// calls that overlap in time are not ordered among themselves, with or without coalescing.
    ///
    /// In a Redis Cluster, the `get`s and `put`s of a queue are grouped by the primary that
    /// serves their key, and each group goes as one pipeline over a connection of the store's own
    /// to that primary (opened when the store is built, and for new primaries when the slot map
    /// changes). A key answered `MOVED` or `ASK` there (slots being moved) is sent again through
    /// the cluster client, which follows the redirection, and the store reads the slot map
    /// again. Other calls in a cluster are sent as themselves.
    ///
    /// At 32 or 64 concurrent `get`s or `put`s on a 2-core machine this serves 1.0–1.3× the calls
    /// per second of single commands on one node and 1.3× in a 3-primary cluster, at the cost of
    /// a longer tail (p99.9) (`BENCHMARKS.md`). `false` sends every call as itself.
    ///
    /// ```no_run
    /// # async fn demo() -> stowage_core::Result<()> {
    /// let store = stowage_redis::RedisStore::builder()
    ///     .url("redis://127.0.0.1:6379/")
    ///     .coalesce(false)
    ///     .build()
    ///     .await?;
    /// # drop(store); Ok(()) }
    /// ```
    pub fn coalesce(mut self, on: bool) -> Self {
        self.coalesce = on;
        self
    }

    /// Trust this root certificate (PEM) for `rediss://` instead of the system's roots, for a
    /// server whose certificate a private CA signed. Needs the `tls` feature.
    pub fn tls_root_cert(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls_root_cert = Some(pem.into());
        self
    }

    /// Connect and build the store.
    ///
    /// Errors with [`Config`](stowage_core::ErrorKind::Config) for a bad URL or setting, and with
    /// [`Unavailable`](stowage_core::ErrorKind::Unavailable) or
    /// [`Timeout`](stowage_core::ErrorKind::Timeout) when the server cannot be reached.
    pub async fn build(self) -> Result<crate::RedisStore> {
        crate::RedisStore::connect(self).await
    }

    /// Split the URL into the connection URL for the client, the cluster flag and the namespace.
    pub(crate) fn resolve(&self) -> Result<Resolved> {
        let mut url = url::Url::parse(&self.url)
            .map_err(|e| config(format!("`{}` is not a valid URL: {e}", redact(&self.url))))?;
        let (scheme, mut cluster, tls) = match url.scheme() {
            "redis" => ("redis", false, false),
            "rediss" => ("rediss", false, true),
            "redis+cluster" => ("redis", true, false),
            "rediss+cluster" => ("rediss", true, true),
            other => {
                return Err(config(format!(
                    "unsupported URL scheme `{other}`; use redis://, rediss://, redis+cluster:// or rediss+cluster://"
                )));
            }
        };
        let mut namespace = None;
        let mut kept = Vec::new();
        for (name, value) in url.query_pairs() {
            match &*name {
                "cluster" => {
                    cluster = match &*value {
                        "true" | "1" | "yes" => true,
                        "false" | "0" | "no" => false,
                        v => return Err(config(format!("`cluster={v}`: expected true or false"))),
                    }
                }
                "namespace" => namespace = Some(value.into_owned()),
                _ => kept.push((name.into_owned(), value.into_owned())),
            }
        }
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
        // `Url::set_scheme` refuses some changes between special and non-special schemes; the
        // client only needs the text.
        let rest = &url.as_str()[url.scheme().len()..];
        let client_url = format!("{scheme}{rest}");
        let namespace = self.namespace.clone().or(namespace);
        if let Some(ns) = &namespace {
            crate::layout::check_namespace(ns)
                .map_err(|e| config(format!("namespace: {}", e.message())))?;
        }
        if self.timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(config("timeouts must be greater than zero"));
        }
        if self.scan_count == 0 || self.max_value_len == 0 {
            return Err(config(
                "scan_count and max_value_len must be greater than zero",
            ));
        }
        if !(1..=MAX_CONNECTIONS).contains(&self.connections) {
            return Err(config(format!(
                "connections must be between 1 and {MAX_CONNECTIONS}, got {}",
                self.connections
            )));
        }
        Ok(Resolved {
            client_url,
            cluster: self.cluster.unwrap_or(cluster),
            tls,
            namespace,
        })
    }
}

/// A configuration with its URL taken apart.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub(crate) client_url: String,
    pub(crate) cluster: bool,
    pub(crate) tls: bool,
    pub(crate) namespace: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use stowage_core::ErrorKind;

    #[test]
    fn urls_select_node_or_cluster() {
        let r = RedisConfig::default()
            .url("redis://h:1/2")
            .resolve()
            .unwrap();
        assert_eq!(
            (r.client_url.as_str(), r.cluster, r.tls),
            ("redis://h:1/2", false, false)
        );
        let r = RedisConfig::default()
            .url("rediss+cluster://u:p@h:1/")
            .resolve()
            .unwrap();
        assert_eq!(r.client_url, "rediss://u:p@h:1/");
        assert!(r.cluster && r.tls);
        let r = RedisConfig::default()
            .url("redis://h:1/?cluster=true&namespace=ns&protocol=resp3")
            .resolve()
            .unwrap();
        assert_eq!(r.client_url, "redis://h:1/?protocol=resp3");
        assert!(r.cluster);
        assert_eq!(r.namespace.as_deref(), Some("ns"));
        let r = RedisConfig::default()
            .url("redis://h:1/?cluster=true")
            .cluster(false)
            .namespace("mine")
            .resolve()
            .unwrap();
        assert!(!r.cluster);
        assert_eq!(r.namespace.as_deref(), Some("mine"));
    }

    #[test]
    fn bad_settings_are_config_errors() {
        for cfg in [
            RedisConfig::default().url("http://h/"),
            RedisConfig::default().url("not a url"),
            RedisConfig::default().url("redis://h/?cluster=maybe"),
            RedisConfig::default().namespace("a::b"),
            RedisConfig::default().namespace(""),
            RedisConfig::default().namespace("app__x"),
            RedisConfig::default().namespace("app_"),
            RedisConfig::default().namespace("app:"),
            RedisConfig::default().timeout(Duration::ZERO),
            RedisConfig::default().scan_count(0),
            RedisConfig::default().connections(0),
            RedisConfig::default().connections(MAX_CONNECTIONS + 1),
        ] {
            assert_eq!(
                cfg.resolve().unwrap_err().kind(),
                ErrorKind::Config,
                "{cfg:?}"
            );
        }
    }

    #[test]
    fn debug_hides_passwords() {
        let cfg = RedisConfig::default()
            .url("redis://user:hunter2@h:1/")
            .password("topsecret");
        let text = format!("{cfg:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("topsecret"),
            "{text}"
        );
        assert!(text.contains("user"));
        let err = RedisConfig::default()
            .url("ftp://user:hunter2@h/")
            .resolve()
            .unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}
