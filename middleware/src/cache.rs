//! [`ResponseCache`]: the cache policy applied to a store, shared by the rmcp wrapper and the
//! proxy.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::Value as Json;
use stowage_core::{DynStore, KeyValueStore, Result, Value};
use stowage_memory::MemoryStore;

use crate::caller::{ANONYMOUS_PARTITION, Caller, PUBLIC_PARTITION};
use crate::key::RequestKey;
use crate::method::Method;
use crate::policy::CachePolicy;
use crate::request::{CacheRequest, SkipReason, judge};
use crate::stats::{CacheStats, Event};

/// At most this many caller partitions are remembered for invalidation on stores that cannot
/// list their keys.
const MAX_KNOWN_PARTITIONS: usize = 10_000;

/// What a lookup found.
#[derive(Debug)]
#[must_use]
pub enum Lookup {
    /// The answer, as the server gave it (with `ttlMs` lowered to the time left when the
    /// server sent one).
    Hit(Value),
    /// Not cached: forward the request, then hand the answer to [`ResponseCache::complete`].
    Miss(Ticket),
    /// The cache does not apply to this request: forward it and do not store the answer.
    Bypass,
}

/// A pending miss: where its answer will be stored.
#[derive(Debug)]
#[must_use]
pub struct Ticket {
    method: Method,
    private_key: String,
    public_key: String,
    partition: String,
    generation: u64,
    resource_epoch: u64,
}

impl Ticket {
    /// The method of the request that missed.
    pub fn method(&self) -> Method {
        self.method
    }
}

/// What [`ResponseCache::complete`] did with an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The answer was stored.
    Stored,
    /// The answer was not kept, for this reason.
    Skipped(SkipReason),
    /// The store failed; nothing was kept.
    Failed,
}

struct Inner {
    store: DynStore,
    policy: CachePolicy,
    stats: CacheStats,
    /// Bumped by each invalidation of a method.
    generations: [AtomicU64; 7],
    /// Bumped by each `resources/updated`.
    resource_epoch: AtomicU64,
    /// Whether the store can drop a whole collection or list its keys.
    can_enumerate: bool,
    known_partitions: Mutex<HashSet<String>>,
}

/// MCP answers kept in a [`KeyValueStore`], under a [`CachePolicy`].
///
/// Cheap to clone; clones share the store, the policy, the statistics and the invalidation
/// state. Each method has its own collection ([`Method::collection`]); within it, a key is
/// `<partition>.<request digest>` ([`RequestKey`], [`Caller::partition`]).
///
/// # Contract
///
/// - A lookup never answers one caller with another caller's private answer; answers the
///   server marks `cacheScope: "public"` are shared by all callers.
/// - Errors, task results, input-required answers and answers to requests carrying
///   multi-round-trip state are never stored; nor are answers over the entry limit.
/// - A failing store never fails a request: the lookup becomes a bypass and the error is
///   counted.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> stowage_core::Result<()> {
/// use serde_json::json;
/// use stowage_mcp::{CachePolicy, CacheRequest, Caller, Lookup, Method, ResponseCache};
///
/// let cache = ResponseCache::new(stowage_memory::MemoryStore::new(), CachePolicy::default())?;
/// let args = json!({"city": "Paris"});
/// let request = CacheRequest::new(Method::ToolsCall, "weather", Some(&args));
///
/// let Lookup::Miss(ticket) = cache.lookup(&request, &Caller::Anonymous).await else { panic!() };
/// let answer = json!({"content": [{"type": "text", "text": "sunny"}]});
/// cache.complete(ticket, &answer).await;
///
/// let Lookup::Hit(value) = cache.lookup(&request, &Caller::Anonymous).await else { panic!() };
/// assert_eq!(value.to_map()["content"][0]["text"], "sunny");
/// assert_eq!(cache.stats().get(Method::ToolsCall).hits, 1);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ResponseCache {
    inner: Arc<Inner>,
}

impl fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseCache")
            .field("store", &self.inner.store)
            .field("policy", &self.inner.policy)
            .field("stats", &self.inner.stats)
            .finish_non_exhaustive()
    }
}

impl ResponseCache {
    /// A cache over `store` with `policy`.
    ///
    /// Errors when the policy is invalid ([`CachePolicy::validate`]).
    pub fn new(store: impl KeyValueStore + 'static, policy: CachePolicy) -> Result<Self> {
        Self::from_dyn(Arc::new(store), policy)
    }

    /// A cache over a shared store.
    pub fn from_dyn(store: DynStore, policy: CachePolicy) -> Result<Self> {
        policy.validate()?;
        let caps = store.capabilities();
        Ok(ResponseCache {
            inner: Arc::new(Inner {
                can_enumerate: caps.keys || caps.destroy_collection,
                store,
                policy,
                stats: CacheStats::default(),
                generations: Default::default(),
                resource_epoch: AtomicU64::new(0),
                known_partitions: Mutex::new(HashSet::new()),
            }),
        })
    }

    /// A cache in a fresh [`MemoryStore`] with the default policy.
    pub fn in_memory() -> Self {
        Self::new(MemoryStore::new(), CachePolicy::default()).expect("the default policy is valid")
    }

    /// The policy.
    pub fn policy(&self) -> &CachePolicy {
        &self.inner.policy
    }

    /// The statistics, live.
    pub fn stats(&self) -> &CacheStats {
        &self.inner.stats
    }

    /// The store.
    pub fn store(&self) -> &DynStore {
        &self.inner.store
    }

    fn key(&self, method: Method, partition: &str, digest: &RequestKey) -> String {
        if self.inner.can_enumerate {
            format!("{partition}.{}", digest.as_str())
        } else {
            // Stores that can neither drop a collection nor list keys: an invalidation makes
            // the old entries unreachable by changing the key, and they expire by TTL.
            let g = self.inner.generations[method.index()].load(Ordering::Acquire);
            format!("{partition}.{g}.{}", digest.as_str())
        }
    }

    /// Whether `request` is one the cache applies to, before any store access.
    pub fn applies_to(&self, request: &CacheRequest<'_>) -> bool {
        let policy = &self.inner.policy;
        policy.method(request.method).enabled
            && !request.stateful
            && (request.method != Method::ToolsCall || policy.tool_filter().allows(request.name))
    }

    /// Look `request` up for `caller`: the caller's own answer first, then a public one.
    pub async fn lookup(&self, request: &CacheRequest<'_>, caller: &Caller) -> Lookup {
        let method = request.method;
        let stats = &self.inner.stats;
        if !self.applies_to(request) {
            stats.record(method, Event::Bypass);
            return Lookup::Bypass;
        }
        let generation = self.inner.generations[method.index()].load(Ordering::Acquire);
        let resource_epoch = self.inner.resource_epoch.load(Ordering::Acquire);
        let digest = RequestKey::from_args(method, request.name, request.arguments);
        let partition = caller.partition();
        let private_key = self.key(method, partition, &digest);
        let public_key = self.key(method, PUBLIC_PARTITION, &digest);
        let found = self
            .inner
            .store
            .ttl_many(method.collection(), &[&private_key, &public_key])
            .await;
        match found {
            Err(_) => {
                stats.record(method, Event::Error);
                Lookup::Bypass
            }
            Ok(entries) => match entries.into_iter().flatten().next() {
                Some(entry) => {
                    stats.record(method, Event::Hit);
                    let remaining = entry.remaining_ttl();
                    Lookup::Hit(self.refresh_hint(entry.into_pair().0, remaining))
                }
                None => {
                    stats.record(method, Event::Miss);
                    Lookup::Miss(Ticket {
                        method,
                        private_key,
                        public_key,
                        partition: partition.to_owned(),
                        generation,
                        resource_epoch,
                    })
                }
            },
        }
    }

    /// Lower a served answer's `ttlMs` to the time it has left, as an HTTP cache sets `Age`.
    fn refresh_hint(&self, value: Value, remaining: Option<Duration>) -> Value {
        let Some(remaining) = remaining else {
            return value;
        };
        if !self.inner.policy.honours_hints() || !value.as_str().contains("\"ttlMs\"") {
            return value;
        }
        let mut map = value.to_map();
        match map.get_mut("ttlMs") {
            Some(ms @ Json::Number(_)) => {
                let left = remaining.as_millis().min(u128::from(u64::MAX)) as u64;
                if ms.as_u64().is_none_or(|old| left < old) {
                    *ms = Json::from(left.max(1));
                }
                Value::from(map)
            }
            _ => value,
        }
    }

    /// Hand the answer to a request that missed: it is stored unless a rule forbids it.
    pub async fn complete(&self, ticket: Ticket, result: &Json) -> Outcome {
        let method = ticket.method;
        let stats = &self.inner.stats;
        let policy = &self.inner.policy;
        let skip = |reason| {
            stats.record(method, Event::Bypass);
            Outcome::Skipped(reason)
        };
        let keep = match judge(result, policy.method(method).ttl, policy.honours_hints()) {
            Ok(keep) => keep,
            Err(reason) => return skip(reason),
        };
        let value = match Value::from_serialize(result) {
            Ok(v) => v,
            Err(_) => return skip(SkipReason::Malformed),
        };
        if value.len() > policy.entry_limit() {
            return skip(SkipReason::Oversized);
        }
        let current = self.inner.generations[method.index()].load(Ordering::Acquire);
        let epoch = self.inner.resource_epoch.load(Ordering::Acquire);
        if current != ticket.generation
            || (method == Method::ResourcesRead && epoch != ticket.resource_epoch)
        {
            return skip(SkipReason::Invalidated);
        }
        let (key, partition) = if keep.public {
            (&ticket.public_key, PUBLIC_PARTITION)
        } else {
            (&ticket.private_key, ticket.partition.as_str())
        };
        self.remember_partition(partition);
        match self
            .inner
            .store
            .put(method.collection(), key, value, keep.ttl)
            .await
        {
            Ok(()) => {
                stats.record(method, Event::Store);
                Outcome::Stored
            }
            Err(_) => {
                stats.record(method, Event::Error);
                Outcome::Failed
            }
        }
    }

    /// Record that the answer to a request that missed is not kept, for `reason` (a JSON-RPC
    /// error, say).
    pub fn skip(&self, ticket: Ticket, reason: SkipReason) -> Outcome {
        self.inner.stats.record(ticket.method, Event::Bypass);
        Outcome::Skipped(reason)
    }

    fn remember_partition(&self, partition: &str) {
        if partition == PUBLIC_PARTITION || partition == ANONYMOUS_PARTITION {
            return;
        }
        let mut known = self.inner.known_partitions.lock();
        if known.len() < MAX_KNOWN_PARTITIONS && !known.contains(partition) {
            known.insert(partition.to_owned());
        }
    }

    /// Forget every answer of `method`, for every caller.
    ///
    /// Requests in flight when this runs do not store their answers.
    pub async fn invalidate(&self, method: Method) -> Result<()> {
        self.inner.generations[method.index()].fetch_add(1, Ordering::AcqRel);
        let store = &self.inner.store;
        let caps = store.capabilities();
        let collection = method.collection();
        if caps.destroy_collection {
            store.destroy_collection(collection).await?;
        } else if caps.keys {
            let keys = store.keys(collection).await?;
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            for chunk in refs.chunks(500) {
                store.delete_many(collection, chunk).await?;
            }
        }
        Ok(())
    }

    /// Forget the cached contents of resource `uri`, for every caller.
    pub async fn invalidate_resource(&self, uri: &str) -> Result<()> {
        self.inner.resource_epoch.fetch_add(1, Ordering::AcqRel);
        let method = Method::ResourcesRead;
        let digest = RequestKey::new(method, uri, None);
        let store = &self.inner.store;
        let collection = method.collection();
        let mut keys: Vec<String> = if store.capabilities().keys {
            let suffix = format!(".{}", digest.as_str());
            store
                .keys(collection)
                .await?
                .into_iter()
                .filter(|k| k.ends_with(&suffix))
                .collect()
        } else {
            Vec::new()
        };
        let mut partitions: Vec<String> =
            self.inner.known_partitions.lock().iter().cloned().collect();
        partitions.push(PUBLIC_PARTITION.to_owned());
        partitions.push(ANONYMOUS_PARTITION.to_owned());
        keys.extend(partitions.iter().map(|p| self.key(method, p, &digest)));
        keys.sort_unstable();
        keys.dedup();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        for chunk in refs.chunks(500) {
            store.delete_many(collection, chunk).await?;
        }
        Ok(())
    }

    /// Forget everything this cache holds.
    pub async fn clear(&self) -> Result<()> {
        for m in Method::ALL {
            self.invalidate(m).await?;
        }
        Ok(())
    }

    /// React to a server notification: `notifications/tools/list_changed`,
    /// `notifications/resources/list_changed`, `notifications/prompts/list_changed` and
    /// `notifications/resources/updated` invalidate what they make stale. Returns whether the
    /// notification was one of these.
    ///
    /// A list change invalidates the list (and, for resources, the templates list), not the
    /// answers to calls, as FastMCP's middleware does; call [`ResponseCache::invalidate`] for
    /// more.
    pub async fn observe_notification(&self, method: &str, params: Option<&Json>) -> Result<bool> {
        match method {
            "notifications/tools/list_changed" => self.invalidate(Method::ToolsList).await?,
            "notifications/prompts/list_changed" => self.invalidate(Method::PromptsList).await?,
            "notifications/resources/list_changed" => {
                self.invalidate(Method::ResourcesList).await?;
                self.invalidate(Method::ResourceTemplatesList).await?;
            }
            "notifications/resources/updated" => {
                match params.and_then(|p| p.get("uri")).and_then(Json::as_str) {
                    Some(uri) => self.invalidate_resource(uri).await?,
                    // An update without a URI: drop every resource read.
                    None => self.invalidate(Method::ResourcesRead).await?,
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
