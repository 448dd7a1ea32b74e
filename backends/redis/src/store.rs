//! [`RedisStore`]: the [`KeyValueStore`] implementation.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use stowage_core::checks::last_wins;
use stowage_core::codec::json;
use stowage_core::{Capabilities, Entry, KeyValueStore, Result, Value, async_trait};

use crate::coalesce::Coalescer;
use crate::config::RedisConfig;
use crate::error::{ctx, from_redis};
use crate::layout::{Envelope, Layout};

/// A store on Redis or Redis Cluster, in `py-key-value-aio`'s `RedisStore` format.
///
/// - **Layout**: the Redis string `collection::key` (or `namespace__collection::key`) holds the
///   JSON envelope of [`stowage_core::codec::json`], with a native expiry (`SET … PX`).
///   Python's `RedisStore` reads what this store writes and the other way round.
/// - **Expiry**: exact — Redis removes the key at its expiry; reads also check the envelope's
///   `expires_at` (Python rounds its Redis TTL down to whole seconds, this store rounds up to the
///   millisecond), so an expired entry is never returned.
/// - **Batches**: `get_many`/`ttl_many` are one `MGET`, `delete_many` one `DEL`, `put_many` one
///   `MSET` (no TTL) or one pipeline of `SET … PX` (in a cluster, the client splits them by slot).
/// - **Pipelining**: concurrent calls share pipelines once 8 or more are in flight (in a
///   cluster, `get`s and `put`s, a pipeline per primary); each still gets its own reply and its
///   own error (see [`coalesce`](RedisConfig::coalesce)).
/// - **Enumeration**: `keys`, `collections`, `destroy_collection` and `destroy` run complete
///   `SCAN` loops (on every primary of a cluster) over this store's keys only; `destroy` never
///   runs `FLUSHDB`. Keys written while a scan runs may be missed.
/// - **Failures**: the connection reconnects by itself; while Redis is unreachable, calls fail
///   with a retryable [`Unavailable`](stowage_core::ErrorKind::Unavailable) or
///   [`Timeout`](stowage_core::ErrorKind::Timeout) error, never later than the configured
///   [`timeout`](RedisConfig::timeout).
/// - **Durability**: Redis acknowledges writes from memory; what survives a restart depends on
///   the server's RDB/AOF settings.
///
/// Cloning a `RedisStore` gives another handle on the same connection.
#[derive(Debug, Clone)]
pub struct RedisStore {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) conn: Arc<Coalescer>,
    pub(crate) layout: Layout,
    pub(crate) caps: Capabilities,
    pub(crate) scan_count: usize,
}

impl RedisStore {
    /// A builder (see [`RedisConfig`]).
    pub fn builder() -> RedisConfig {
        RedisConfig::default()
    }

    /// Connect with default settings to `url` (see [`RedisConfig`] for the accepted forms).
    pub async fn open(url: &str) -> Result<Self> {
        Self::builder().url(url).build().await
    }

    /// Whether this store talks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.inner.conn.is_cluster()
    }

    /// The Redis key that holds `key` of `collection` (`[namespace__]collection::key`).
    pub fn redis_key(&self, collection: &str, key: &str) -> String {
        self.inner.layout.key(collection, key)
    }
}

#[async_trait]
impl KeyValueStore for RedisStore {
    fn capabilities(&self) -> Capabilities {
        self.inner.caps
    }

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        Ok(self
            .read_one("get", collection, key)
            .await?
            .map(|e| e.value))
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        let found = self.read("get_many", collection, keys).await?;
        Ok(found.into_iter().map(|e| e.map(|e| e.value)).collect())
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        self.read_one("ttl", collection, key).await
    }

    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        self.read("ttl_many", collection, keys).await
    }

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let wrap = ctx("put", collection);
        let caps = &self.inner.caps;
        if let Err(e) = caps.check_put(collection, key, &value, ttl) {
            return Err(wrap(e));
        }
        let cmd = self.set_cmd(collection, key, &value, SystemTime::now(), ttl);
        self.inner
            .conn
            .query_idempotent::<()>(cmd)
            .await
            .map_err(|e| wrap(from_redis(e)))
    }

    /// `SET … NX PX`: Redis expires keys exactly, so an expired entry is already absent. Sent
    /// once, never retried: a repeated `SET NX` would report its own write as a conflict.
    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        let wrap = ctx("put_if_absent", collection);
        let caps = &self.inner.caps;
        if let Err(e) = caps.check_put(collection, key, &value, ttl) {
            return Err(wrap(e));
        }
        let mut cmd = self.set_cmd(collection, key, &value, SystemTime::now(), ttl);
        cmd.arg("NX");
        let set: Option<String> = self
            .inner
            .conn
            .query(cmd)
            .await
            .map_err(|e| wrap(from_redis(e)))?;
        Ok(set.is_some())
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let wrap = ctx("put_many", collection);
        let caps = &self.inner.caps;
        if let Err(e) = caps.check_put_many(collection, entries, ttl) {
            return Err(wrap(e));
        }
        let now = SystemTime::now();
        let kept = last_wins(entries).into_iter();
        let result =
            match ttl {
                _ if entries.is_empty() => return Ok(()),
                None => {
                    let layout = &self.inner.layout;
                    let physical = layout.collection(collection);
                    let mut cmd = redis::cmd("MSET");
                    for (key, value) in kept {
                        cmd.arg(layout.key_arg(collection, key)).arg(Envelope(
                            json::encode_pieces(&physical, key, value, Some(now), None),
                        ));
                    }
                    self.inner.conn.query::<()>(cmd).await
                }
                Some(_) => {
                    let cmds = kept
                        .map(|(k, v)| self.set_cmd(collection, k, v, now, ttl))
                        .collect();
                    self.inner.conn.run_all(cmds).await
                }
            };
        result.map_err(|e| wrap(from_redis(e)))
    }

    async fn delete(&self, collection: &str, key: &str) -> Result<bool> {
        Ok(self.delete_keys("delete", collection, &[key]).await? > 0)
    }

    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize> {
        self.delete_keys("delete_many", collection, keys).await
    }

    async fn keys(&self, collection: &str) -> Result<Vec<String>> {
        let wrap = ctx("keys", collection);
        if let Err(e) = self.inner.caps.check_collection(collection) {
            return Err(wrap(e));
        }
        let layout = &self.inner.layout;
        let found = self
            .inner
            .conn
            .scan_all(
                &layout.collection_pattern(collection),
                self.inner.scan_count,
            )
            .await
            .map_err(|e| wrap(from_redis(e)))?;
        let keys: BTreeSet<String> = found
            .iter()
            .filter_map(|k| layout.split(k))
            .filter(|(c, _)| *c == collection)
            .map(|(_, k)| k.to_owned())
            .collect();
        Ok(keys.into_iter().collect())
    }

    async fn collections(&self) -> Result<Vec<String>> {
        let layout = &self.inner.layout;
        let found = self
            .inner
            .conn
            .scan_all(&layout.store_pattern(), self.inner.scan_count)
            .await
            .map_err(|e| from_redis(e).with_operation("collections"))?;
        let collections: BTreeSet<String> = found
            .iter()
            .filter_map(|k| layout.split(k))
            .map(|(c, _)| c.to_owned())
            .collect();
        Ok(collections.into_iter().collect())
    }

    async fn destroy_collection(&self, collection: &str) -> Result<bool> {
        if let Err(e) = self.inner.caps.check_collection(collection) {
            return Err(ctx("destroy_collection", collection)(e));
        }
        let pattern = self.inner.layout.collection_pattern(collection);
        Ok(self
            .unlink_all("destroy_collection", &pattern, collection)
            .await?
            > 0)
    }

    async fn destroy(&self) -> Result<bool> {
        let pattern = self.inner.layout.store_pattern();
        Ok(self.unlink_all("destroy", &pattern, "").await? > 0)
    }

    /// Redis removes expired keys itself, exactly at their expiry: there is never anything left
    /// to cull, and this returns 0.
    async fn cull(&self) -> Result<usize> {
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use futures_util::FutureExt;
    use futures_util::future::join_all;

    use super::*;
    use crate::core::px;
    use crate::slots::{self, Table};

    #[test]
    fn px_rounds_up_to_the_millisecond() {
        assert_eq!(px(Duration::from_nanos(1)), 1);
        assert_eq!(px(Duration::from_millis(1500)), 1500);
        assert_eq!(px(Duration::from_micros(1500)), 2);
        let max = stowage_core::rules::MAX_TTL;
        assert_eq!(px(max), max.as_millis() as u64);
    }

    fn test_url() -> String {
        std::env::var("STOWAGE_TEST_REDIS_URL")
            .expect("STOWAGE_TEST_REDIS_URL is not set: run scripts/test.sh")
    }

    fn text(i: usize) -> Value {
        Value::from_json(format!(r#"{{"n":{i},"pad":"{}"}}"#, "x".repeat(i % 300))).unwrap()
    }

    async fn store_in(namespace: &str, coalesce: bool) -> RedisStore {
        store_at(&test_url(), namespace, coalesce).await
    }

    /// A store on the single test server, or on the test cluster for its URL.
    async fn store_at(url: &str, namespace: &str, coalesce: bool) -> RedisStore {
        RedisStore::builder()
            .url(url)
            .cluster(*url == cluster_url())
            .namespace(format!("{namespace}-{}", std::process::id()))
            .coalesce(coalesce)
            .build()
            .await
            .unwrap()
    }

    fn cluster_url() -> String {
        std::env::var("STOWAGE_TEST_REDIS_CLUSTER_URL")
            .expect("STOWAGE_TEST_REDIS_CLUSTER_URL is not set: run scripts/test.sh")
    }

    /// (sent as themselves, pipelines, calls in pipelines, calls sent again one by one)
    fn stats(store: &RedisStore) -> (u64, u64, u64, u64) {
        let s = store.inner.conn.stats();
        (
            s.direct.load(Ordering::Relaxed),
            s.pipelines.load(Ordering::Relaxed),
            s.pipelined_calls.load(Ordering::Relaxed),
            s.resent.load(Ordering::Relaxed),
        )
    }

    /// 200 concurrent puts and then 200 concurrent gets of distinct keys; every call gets its
    /// own reply. The coalescer's counts afterwards.
    async fn puts_then_gets(store: &RedisStore) -> (u64, u64, u64, u64) {
        let keys: Vec<String> = (0..200).map(|i| format!("k{i}")).collect();
        let puts = keys
            .iter()
            .enumerate()
            .map(|(i, k)| store.put("c", k, text(i), None));
        for put in join_all(puts).await {
            put.unwrap();
        }
        let gets = keys.iter().map(|k| store.get("c", k));
        for (i, got) in join_all(gets).await.into_iter().enumerate() {
            assert_eq!(got.unwrap(), Some(text(i)), "key {i}");
        }
        stats(store)
    }

    /// Against the test servers: concurrent calls share pipelines, on a single node and in a
    /// cluster, and every call still gets its own reply.
    #[tokio::test(flavor = "multi_thread")]
    async fn concurrent_calls_share_pipelines_and_keep_their_own_replies() {
        for url in [test_url(), cluster_url()] {
            for coalesce in [true, false] {
                let store = store_at(&url, "coalesce", coalesce).await;
                let (direct, pipelines, pipelined, resent) = puts_then_gets(&store).await;
                let seen = format!(
                    "{url}, coalesce {coalesce}: {direct} direct, \
                     {pipelines} pipelines of {pipelined} calls"
                );
                assert_eq!(direct + pipelined, 400, "every call sent once; {seen}");
                assert_eq!(resent, 0, "{seen}");
                if coalesce {
                    assert!(pipelined >= 300, "{seen}");
                    assert!(direct + pipelines <= 200, "{seen}");
                } else {
                    assert_eq!((direct, pipelines), (400, 0), "{seen}");
                }
                assert!(store.destroy().await.unwrap());
            }
        }
    }

    /// A store built on one runtime and used from another while the first is no longer driven:
    /// every call, queued ones included, ends (with a reply or an error) within its deadline
    /// instead of waiting for a flush that the first runtime would never run.
    #[test]
    fn calls_from_another_runtime_end_within_their_deadline() {
        let first = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store = first.block_on(async {
            RedisStore::builder()
                .url(test_url())
                .namespace(format!("runtimes-{}", std::process::id()))
                .timeout(Duration::from_millis(300))
                .build()
                .await
                .unwrap()
        });
        // `first` is never driven again.
        let second = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let ended = second.block_on(async {
            let keys: Vec<String> = (0..64).map(|i| format!("k{i}")).collect();
            let calls = keys.iter().map(|k| store.get("c", k));
            tokio::time::timeout(Duration::from_secs(60), join_all(calls)).await
        });
        let results = ended.expect("a call waited past every deadline");
        assert_eq!(results.len(), 64);
        drop(store);
        drop(second);
        drop(first);
    }

    /// The store computes the cluster's own hash slots.
    #[tokio::test(flavor = "multi_thread")]
    async fn key_slots_match_the_cluster() {
        let store = store_at(&cluster_url(), "slots", true).await;
        for key in [
            "a",
            "k1",
            "{user}.x",
            "x{}{y}",
            "{{a}}",
            "é€😀",
            "no{close",
            "{}",
        ] {
            let physical = store.redis_key("c", key);
            let mut cmd = redis::cmd("CLUSTER");
            cmd.arg("KEYSLOT").arg(&physical);
            let expected: u16 = store.inner.conn.query(cmd).await.unwrap();
            assert_eq!(slots::slot(physical.as_bytes()), expected, "{physical}");
        }
    }

    /// A stale slot map costs a second round trip, never a wrong answer, and is read again.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_stale_slot_map_sends_calls_again_and_is_read_again() {
        let store = store_at(&cluster_url(), "stale-map", true).await;
        let map = Arc::clone(store.inner.conn.slot_map().unwrap());
        let real = map.current();
        // Every slot on one primary: calls for the other primaries' keys go to the wrong node.
        let (host, port) = real.node(0).clone();
        map.set(Table::from_ranges(&[(0, 16383, host, port)]));
        let (_, _, _, resent) = puts_then_gets(&store).await;
        assert!(
            resent > 0,
            "no pipeline reached a node that does not serve its keys"
        );
        let refreshed = async {
            while *map.current() != *real {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), refreshed)
            .await
            .expect("the slot map was not read again");
        assert!(store.destroy().await.unwrap());
    }

    /// The store holds a connection to each primary of its map, and to nothing else.
    #[tokio::test(flavor = "multi_thread")]
    async fn connections_follow_the_primaries_of_the_map() {
        let store = store_at(&cluster_url(), "primaries", true).await;
        let map = Arc::clone(store.inner.conn.slot_map().unwrap());
        let real = map.current();
        let nodes: Vec<(String, u16)> = real.primaries().into_iter().collect();
        assert!(nodes.len() >= 2, "{nodes:?}");
        assert!(nodes.iter().all(|(h, p)| map.link(h, *p).is_some()));
        // A map where the first primary serves every slot: the others' connections close.
        let (host, port) = nodes[0].clone();
        map.set(Table::from_ranges(&[(0, 16383, host.clone(), port)]));
        map.connect().await;
        assert!(map.link(&host, port).is_some());
        assert!(nodes[1..].iter().all(|(h, p)| map.link(h, *p).is_none()));
        // The cluster's map again: every primary has a connection again.
        let ranges = slots::read_ranges(&cluster_conn(&store)).await.unwrap();
        map.set(Table::from_ranges(&ranges));
        map.connect().await;
        assert!(nodes.iter().all(|(h, p)| map.link(h, *p).is_some()));
    }

    fn cluster_conn(store: &RedisStore) -> redis::cluster_async::ClusterConnection {
        store.inner.conn.cluster_connection().unwrap().clone()
    }

    /// A command that fails in a shared pipeline fails its own call only.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_failing_command_fails_only_its_own_call() {
        let store = store_in("coalesce-wrongtype", true).await;
        let client = redis::Client::open(test_url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("RPUSH")
            .arg(store.redis_key("c", "list"))
            .arg("x")
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
        let keys: Vec<String> = (0..64).map(|i| format!("k{i}")).collect();
        for (i, k) in keys.iter().enumerate() {
            store.put("c", k, text(i), None).await.unwrap();
        }
        let (_, pipelines_before, _, _) = stats(&store);
        // The list's key among others, past the first calls (which are sent as themselves).
        let mut order: Vec<&str> = keys.iter().map(String::as_str).collect();
        order.insert(40, "list");
        let got = join_all(order.iter().map(|k| store.get("c", k))).await;
        for (k, got) in order.iter().zip(got) {
            match *k {
                "list" => assert_eq!(got.unwrap_err().kind(), stowage_core::ErrorKind::Corrupted),
                k => {
                    let i: usize = k[1..].parse().unwrap();
                    assert_eq!(got.unwrap(), Some(text(i)), "{k}");
                }
            }
        }
        assert!(
            stats(&store).1 > pipelines_before,
            "the gets shared pipelines"
        );
        assert!(store.destroy().await.unwrap());
    }

    /// Callers that stop waiting leave the others' replies alone.
    #[tokio::test(flavor = "multi_thread")]
    async fn callers_that_stop_waiting_do_not_fail_the_others() {
        let store = store_in("coalesce-cancel", true).await;
        let keys: Vec<String> = (0..96).map(|i| format!("k{i}")).collect();
        for (i, k) in keys.iter().enumerate() {
            store.put("c", k, text(i), None).await.unwrap();
        }
        // Every third call is queued (polled once) and then dropped; if another worker already
        // answered it (rare), its reply is checked like the others'.
        let calls = keys.iter().enumerate().map(|(i, k)| {
            let get = store.get("c", k);
            async move {
                if i % 3 == 0 {
                    Box::pin(get).now_or_never()
                } else {
                    Some(get.await)
                }
            }
        });
        let got = join_all(calls).await;
        for (i, got) in got.into_iter().enumerate() {
            if let Some(got) = got {
                assert_eq!(got.unwrap(), Some(text(i)), "key {i}");
            }
        }
        assert!(stats(&store).1 > 0, "calls shared pipelines");
        assert_eq!(store.get("c", "k0").await.unwrap(), Some(text(0)));
        assert!(store.destroy().await.unwrap());
    }

    /// Against the test server (`scripts/test.sh` sets its URL).
    #[tokio::test(flavor = "multi_thread")]
    async fn calls_take_the_connections_in_turn() {
        let url = std::env::var("STOWAGE_TEST_REDIS_URL")
            .expect("STOWAGE_TEST_REDIS_URL is not set: run scripts/test.sh");
        for n in [1, 3] {
            let store = RedisStore::builder()
                .url(&url)
                .connections(n)
                .build()
                .await
                .unwrap();
            let mut ids = Vec::new();
            for _ in 0..2 * n {
                let id: u64 = store
                    .inner
                    .conn
                    .query(redis::cmd("CLIENT").arg("ID").clone())
                    .await
                    .unwrap();
                ids.push(id);
            }
            // Connection i answers calls i and i + n.
            assert_eq!(ids[..n], ids[n..], "{ids:?}");
            let distinct: BTreeSet<u64> = ids.into_iter().collect();
            assert_eq!(distinct.len(), n);
        }
    }
}
