//! Which primary of a Redis Cluster serves which key, and a connection of the store's own to
//! each primary, so that concurrent calls for keys of one primary can share a pipeline to it.
//!
//! The store's copy of the slot map may go stale while the cluster moves slots. It is only a
//! hint: a command sent to a primary that no longer serves its key is answered `MOVED` (or `ASK`),
//! and that call is then sent again through the cluster client, which follows redirections (see
//! `coalesce`); the map is read again after such an answer. These connections are plain node
//! connections, outside the cluster client, so a redirection answered to a pipeline never sends
//! the cluster client after the pipeline's other commands.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::join_all;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{ConnectionAddr, ConnectionInfo, FromRedisValue, RedisResult, Value as RedisValue};

/// The number of hash slots of a Redis Cluster.
pub(crate) const SLOTS: usize = 16384;

/// No known primary.
const UNKNOWN: u16 = u16::MAX;

/// The hash slot of `key`: CRC16 (XMODEM) of the key, or of its hash tag (the text between the
/// first `{` and the next `}`, when not empty), modulo 16384.
pub(crate) fn slot(key: &[u8]) -> u16 {
    let tagged = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            let close = rest.iter().position(|&b| b == b'}')?;
            Some(&rest[..close])
        })
        .filter(|tag| !tag.is_empty())
        .unwrap_or(key);
    crc16::State::<crc16::XMODEM>::calculate(tagged) % SLOTS as u16
}

/// One reading of the slot map.
#[derive(Debug, PartialEq)]
pub(crate) struct Table {
    /// For every slot, the index of its primary in `nodes`, or [`UNKNOWN`].
    owner: Box<[u16]>,
    /// `(host, port)` of every primary.
    nodes: Vec<(String, u16)>,
}

impl Table {
    /// A map from `(first slot, last slot, host, port)` ranges.
    pub(crate) fn from_ranges(ranges: &[(u16, u16, String, u16)]) -> Self {
        let mut owner = vec![UNKNOWN; SLOTS].into_boxed_slice();
        let mut nodes: Vec<(String, u16)> = Vec::new();
        for (first, last, host, port) in ranges {
            let node = (host.clone(), *port);
            let index = match nodes.iter().position(|n| *n == node) {
                Some(i) => i,
                None => {
                    nodes.push(node);
                    nodes.len() - 1
                }
            };
            let last = usize::from(*last).min(SLOTS - 1);
            for o in owner.iter_mut().take(last + 1).skip(usize::from(*first)) {
                // At most 16 384 primaries, so an index always fits below `UNKNOWN`.
                *o = u16::try_from(index).unwrap_or(UNKNOWN);
            }
        }
        Table { owner, nodes }
    }

    /// The index of the primary serving `slot`, if known.
    pub(crate) fn owner(&self, slot: u16) -> Option<usize> {
        match self.owner.get(usize::from(slot)) {
            Some(&o) if o != UNKNOWN => Some(usize::from(o)),
            _ => None,
        }
    }

    /// `(host, port)` of the primary with this index.
    pub(crate) fn node(&self, index: usize) -> &(String, u16) {
        &self.nodes[index]
    }

    /// Every primary.
    pub(crate) fn primaries(&self) -> BTreeSet<(String, u16)> {
        self.nodes.iter().cloned().collect()
    }
}

/// Makes the client of one primary from its connection info (the seed's, with the primary's
/// address), with the store's TLS settings.
pub(crate) type MakeClient = dyn Fn(ConnectionInfo) -> RedisResult<redis::Client> + Send + Sync;

/// A reconnecting connection to each primary, opened with the seed's credentials and TLS.
pub(crate) struct Primaries {
    seed: ConnectionInfo,
    make_client: Box<MakeClient>,
    config: ConnectionManagerConfig,
    conns: Mutex<HashMap<(String, u16), ConnectionManager>>,
}

impl Primaries {
    pub(crate) fn new(
        seed: ConnectionInfo,
        make_client: Box<MakeClient>,
        config: ConnectionManagerConfig,
    ) -> Self {
        Primaries {
            seed,
            make_client,
            config,
            conns: Mutex::new(HashMap::new()),
        }
    }

    /// The connection to this primary, if open.
    pub(crate) fn get(&self, host: &str, port: u16) -> Option<ConnectionManager> {
        let conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
        conns.get(&(host.to_owned(), port)).cloned()
    }

    /// Open a connection to every primary of `table` that has none, and close those to nodes
    /// that are no longer primaries there. A primary whose connection cannot be opened is tried
    /// again at the next reading of the map (until then its calls go through the cluster
    /// client).
    pub(crate) async fn connect(&self, table: &Table) {
        let missing: Vec<(String, u16)> = {
            let mut conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
            conns.retain(|node, _| table.nodes.contains(node));
            table
                .nodes
                .iter()
                .filter(|node| !conns.contains_key(*node))
                .cloned()
                .collect()
        };
        let opened = join_all(missing.into_iter().map(|(host, port)| async move {
            let conn = self.open(&host, port).await;
            (host, port, conn)
        }))
        .await;
        let mut conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
        for (host, port, conn) in opened {
            if let Ok(conn) = conn {
                conns.insert((host, port), conn);
            }
        }
    }

    async fn open(&self, host: &str, port: u16) -> RedisResult<ConnectionManager> {
        let addr = match self.seed.addr() {
            ConnectionAddr::TcpTls {
                insecure,
                tls_params,
                ..
            } => ConnectionAddr::TcpTls {
                host: host.to_owned(),
                port,
                insecure: *insecure,
                tls_params: tls_params.clone(),
            },
            _ => ConnectionAddr::Tcp(host.to_owned(), port),
        };
        let client = (self.make_client)(self.seed.clone().set_addr(addr))?;
        ConnectionManager::new_with_config(client, self.config.clone()).await
    }
}

/// The current reading of the slot map, replaced when it proves stale, and the connections to
/// its primaries.
pub(crate) struct SlotMap {
    links: Primaries,
    table: Mutex<Arc<Table>>,
    /// The number of primaries in `table`, read without the lock.
    primaries: AtomicUsize,
    refreshing: AtomicBool,
}

impl SlotMap {
    /// A map read from the cluster, with connections to its primaries: open them with
    /// [`connect`](Self::connect).
    pub(crate) fn new(table: Table, links: Primaries) -> Self {
        SlotMap {
            links,
            primaries: AtomicUsize::new(table.nodes.len().max(1)),
            table: Mutex::new(Arc::new(table)),
            refreshing: AtomicBool::new(false),
        }
    }

    /// Open connections to the current primaries that have none.
    pub(crate) async fn connect(&self) {
        let table = self.current();
        self.links.connect(&table).await;
    }

    /// The store's connection to this primary, if open.
    pub(crate) fn link(&self, host: &str, port: u16) -> Option<ConnectionManager> {
        self.links.get(host, port)
    }

    /// The number of primaries (at least 1).
    pub(crate) fn primaries(&self) -> usize {
        self.primaries.load(Ordering::Relaxed)
    }

    /// The current reading.
    pub(crate) fn current(&self) -> Arc<Table> {
        Arc::clone(&self.table.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Replace the reading.
    pub(crate) fn set(&self, table: Table) {
        self.primaries
            .store(table.nodes.len().max(1), Ordering::Relaxed);
        *self.table.lock().unwrap_or_else(PoisonError::into_inner) = Arc::new(table);
    }

    /// Read the map again from the cluster in a task of its own, unless a reading is under way.
    pub(crate) fn refresh(
        self: &Arc<Self>,
        conn: &ClusterConnection,
        runtime: &tokio::runtime::Handle,
    ) {
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = Arc::clone(self);
        let conn = conn.clone();
        runtime.spawn(async move {
            if let Ok(ranges) = read_ranges(&conn).await {
                this.set(Table::from_ranges(&ranges));
                this.connect().await;
            }
            this.refreshing.store(false, Ordering::Release);
        });
    }
}

/// `(first slot, last slot, host, port)` of every slot range's primary, from `CLUSTER SLOTS`.
pub(crate) async fn read_ranges(
    c: &ClusterConnection,
) -> RedisResult<Vec<(u16, u16, String, u16)>> {
    let mut c = c.clone();
    let slots = c
        .route_command(
            redis::cmd("CLUSTER").arg("SLOTS").clone(),
            RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
        )
        .await?;
    let mut out = Vec::new();
    if let RedisValue::Array(ranges) = slots {
        for range in ranges {
            // [first, last, [host, port, id, …], replicas…]
            let RedisValue::Array(parts) = range else {
                continue;
            };
            let (Some(first), Some(last), Some(RedisValue::Array(node))) =
                (parts.first(), parts.get(1), parts.get(2))
            else {
                continue;
            };
            if let (Some(host), Some(port)) = (node.first(), node.get(1)) {
                out.push((
                    FromRedisValue::from_redis_value_ref(first)?,
                    FromRedisValue::from_redis_value_ref(last)?,
                    FromRedisValue::from_redis_value_ref(host)?,
                    FromRedisValue::from_redis_value_ref(port)?,
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_the_cluster_specification() {
        // Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
        assert_eq!(slot(b"123456789"), 0x31C3);
        assert_eq!(slot(b"foo"), 12182);
        assert_eq!(slot(b"bar"), 5061);
        // A hash tag: only the text between the first `{` and the next `}` counts.
        assert_eq!(slot(b"{user1000}.following"), slot(b"user1000"));
        assert_eq!(slot(b"foo{}{bar}"), slot(b"foo{}{bar}"));
        assert_ne!(
            slot(b"foo{}{bar}"),
            slot(b"bar"),
            "an empty tag means the whole key"
        );
        assert_eq!(slot(b"foo{{bar}}zap"), slot(b"{bar"));
        assert_eq!(slot(b"foo{bar}{zap}"), slot(b"bar"));
        assert_eq!(slot(b"no-close{tag"), slot(b"no-close{tag"));
    }

    #[test]
    fn table_maps_slots_to_primaries() {
        let table = Table::from_ranges(&[
            (0, 5460, "a".into(), 1),
            (5461, 10922, "b".into(), 2),
            (10923, 16383, "a".into(), 3),
        ]);
        assert_eq!(table.node(table.owner(0).unwrap()), &("a".to_owned(), 1));
        assert_eq!(table.node(table.owner(5461).unwrap()), &("b".to_owned(), 2));
        assert_eq!(
            table.node(table.owner(16383).unwrap()),
            &("a".to_owned(), 3)
        );
        assert_eq!(table.primaries().len(), 3);
        let partial = Table::from_ranges(&[(0, 10, "a".into(), 1)]);
        assert_eq!(partial.owner(11), None);
        assert_eq!(partial.owner(u16::MAX), None);
    }
}
