//! Connecting: a single node through a connection manager, or a cluster through its slot map;
//! TLS roots; the first contact's deadline.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::try_join_all;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::{ConnectionInfo, IntoConnectionInfo};
use stowage_core::{Capabilities, Error, Expiry, Result};
use tokio::runtime::Handle;

use crate::coalesce::{Coalescer, Target};
use crate::config::RedisConfig;
use crate::error::{BACKEND, config, from_redis};
use crate::layout::Layout;
use crate::pool::Pool;
use crate::slots::{self, Primaries, SlotMap, Table};
use crate::store::{Inner, RedisStore};

impl RedisStore {
    pub(crate) async fn connect(cfg: RedisConfig) -> Result<Self> {
        let resolved = cfg.resolve()?;
        // Connections and coalesced pipelines run as tasks of the runtime that builds the store.
        let runtime = Handle::try_current()
            .map_err(|_| config("the store must be built inside a Tokio runtime"))?;
        if resolved.tls {
            #[cfg(feature = "tls")]
            {
                // Several providers may be compiled into one program; choose ring unless the
                // program already installed one.
                let _ = rustls::crypto::ring::default_provider().install_default();
            }
            #[cfg(not(feature = "tls"))]
            return Err(config("rediss:// needs the `tls` feature of stowage-redis"));
        }
        let mut info = resolved
            .client_url
            .as_str()
            .into_connection_info()
            .map_err(|e| config(format!("invalid Redis URL: {e}")))?;
        if cfg.username.is_some() || cfg.password.is_some() {
            let mut settings = info.redis_settings().clone();
            if let Some(u) = &cfg.username {
                settings = settings.set_username(u);
            }
            if let Some(p) = &cfg.password {
                settings = settings.set_password(p);
            }
            info = info.set_redis_settings(settings);
        }
        let deadline = cfg.connect_timeout + cfg.timeout;
        // Few, quick reconnection attempts: while the server is down, calls fail fast with a
        // retryable error, and the first call after it is back reconnects at once.
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(cfg.connect_timeout))
            // Every call on these connections is bounded by `timeout` already (the coalescer, the
            // coalescer); a second timer here would only repeat it (a timed-out answer does not
            // reconnect).
            .set_response_timeout(None)
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(20))
            .set_max_delay(Duration::from_millis(200));
        let pem = cfg.tls_root_cert.clone();
        let make_client = move |info: ConnectionInfo| match &pem {
            #[cfg(feature = "tls")]
            Some(pem) => redis::Client::build_with_tls(info, tls_certs(pem)),
            _ => redis::Client::open(info),
        };
        let coalescer = if resolved.cluster {
            let seed = info.clone();
            let settings = info.redis_settings().clone();
            let mut builder = ClusterClientBuilder::new(vec![info])
                .connection_timeout(cfg.connect_timeout)
                // One deadline per call, retries and redirections included (the coalescer adds no
                // timer of its own for a cluster); a per-attempt timeout as long as the whole
                // would only repeat it.
                .overall_response_timeout(Some(cfg.timeout))
                .retries(2)
                .min_retry_wait(20)
                .max_retry_wait(200);
            if let Some(u) = settings.username() {
                builder = builder.username(u);
            }
            if let Some(p) = settings.password() {
                builder = builder.password(p);
            }
            #[cfg(feature = "tls")]
            if let Some(pem) = &cfg.tls_root_cert {
                builder = builder.certs(tls_certs(pem));
            }
            let client = builder.build().map_err(from_redis)?;
            let conn = tokio::time::timeout(deadline, client.get_async_connection())
                .await
                .map_err(|_| unreachable_within(deadline))?
                .map_err(from_redis)?;
            let ranges = tokio::time::timeout(deadline, slots::read_ranges(&conn))
                .await
                .map_err(|_| unreachable_within(deadline))?
                .map_err(from_redis)?;
            let primaries = Primaries::new(seed, Box::new(make_client), manager_config);
            let map = Arc::new(SlotMap::new(Table::from_ranges(&ranges), primaries));
            if cfg.coalesce {
                // A primary not reached now is tried again at the next reading of the map; its
                // calls go through the cluster client meanwhile.
                let _ = tokio::time::timeout(deadline, map.connect()).await;
            }
            let target = Target::Cluster { conn, map };
            Coalescer::new(target, cfg.timeout, runtime, cfg.coalesce)
        } else {
            let client = make_client(info).map_err(from_redis)?;
            let managers = (0..cfg.connections).map(|_| {
                ConnectionManager::new_with_config(client.clone(), manager_config.clone())
            });
            let managers = tokio::time::timeout(deadline, try_join_all(managers))
                .await
                .map_err(|_| unreachable_within(deadline))?
                .map_err(from_redis)?;
            let target = Target::Node(Pool::new(managers));
            Coalescer::new(target, cfg.timeout, runtime, cfg.coalesce)
        };
        let caps = Capabilities::all(Expiry::Exact).with_max_value_len(Some(cfg.max_value_len));
        Ok(RedisStore {
            inner: Arc::new(Inner {
                conn: Arc::new(coalescer),
                layout: Layout::new(resolved.namespace.as_deref()),
                caps,
                scan_count: cfg.scan_count,
            }),
        })
    }
}

#[cfg(feature = "tls")]
fn tls_certs(pem: &[u8]) -> redis::TlsCertificates {
    redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(pem.to_vec()),
    }
}

fn unreachable_within(deadline: Duration) -> Error {
    Error::new(
        stowage_core::ErrorKind::Timeout,
        format!("could not connect to Redis within {deadline:?}"),
    )
    .with_backend(BACKEND)
    .with_operation("connect")
}
