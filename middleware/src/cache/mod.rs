//! [`ResponseCache`]: the cache policy applied to a store, shared by the rmcp wrapper and the
//! proxy.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::Value as Json;
use serde_json::value::RawValue;
use stowage_core::{DynStore, Error, ErrorKind, KeyValueStore, Result, Value};
use stowage_memory::MemoryStore;

use crate::caller::{ANONYMOUS_PARTITION, Caller, PUBLIC_PARTITION};
use crate::key::RequestKey;
use crate::method::Method;
use crate::namespace::Namespace;
use crate::policy::CachePolicy;
use crate::request::{CacheRequest, SkipReason, judge};
use crate::stats::{CacheStats, Event};

mod hint;
mod invalidate;
mod scope;
mod ticket;

use scope::{Named, Scope};
pub use ticket::{Lookup, Outcome, Ticket};

/// At most this many caller partitions are remembered for invalidation on stores that cannot
/// list their keys.
const MAX_KNOWN_PARTITIONS: usize = 10_000;

/// What every namespace of one cache shares.
struct Shared {
    store: DynStore,
    policy: CachePolicy,
    stats: CacheStats,
    /// Whether the store can drop a whole collection or list its keys.
    can_enumerate: bool,
}

/// MCP answers kept in a [`KeyValueStore`], under a [`CachePolicy`].
///
/// Cheap to clone; clones share the store, the policy, the statistics and the invalidation
/// state. Answers belong to one server's [`Namespace`] (chosen with
/// [`ResponseCache::in_namespace`], settled by the rmcp wrapper, else `default`); each method has its own collection in it
/// ([`Method::collection_in`]: `mcp.<namespace>.tools-call`, …); within it, a key is
/// `<partition>.<request digest>` ([`RequestKey`], [`Caller::partition`]).
///
/// # Contract
///
/// - A lookup never answers one caller with another caller's private answer, nor one server's
///   client with another server's answer; answers the server marks `cacheScope: "public"` are
///   shared by all callers of that server.
/// - Errors, task results, input-required answers, answers to requests carrying
///   multi-round-trip state, answers that depended on a request to the client
///   ([`ResponseCache::note_nested_request`]) and answers over the entry limit are never
///   stored. `tools/call` is cached only for the tools the policy allows
///   ([`ToolFilter`](crate::ToolFilter)): by default, those the server marks read-only.
/// - A failing or slow store never fails nor stalls a request: past the policy's
///   [store deadline](CachePolicy::store_timeout) the lookup becomes a bypass and the error is
///   counted.
/// - An answer stored while an invalidation of its method runs does not survive it.
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
/// // The server says the tool is read-only (the proxy and the wrapper learn this from
/// // `tools/list`); unannotated tools are not cached by default.
/// cache.learn_tools(&json!({"tools": [{"name": "weather", "annotations": {"readOnlyHint": true}}]}));
/// let Lookup::Miss(ticket) = cache.lookup(&request, &Caller::anonymous()).await else { panic!() };
/// let answer = json!({"content": [{"type": "text", "text": "sunny"}]});
/// cache.complete(ticket, &answer).await;
///
/// let Lookup::Hit(value) = cache.lookup(&request, &Caller::anonymous()).await else { panic!() };
/// assert_eq!(value.to_map()["content"][0]["text"], "sunny");
/// assert_eq!(cache.stats().get(Method::ToolsCall).hits, 1);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ResponseCache {
    shared: Arc<Shared>,
    scope: Arc<Scope>,
}

impl fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseCache")
            .field("namespace", &self.scope.named.get().map(|n| &n.namespace))
            .field("store", &self.shared.store)
            .field("policy", &self.shared.policy)
            .field("stats", &self.shared.stats)
            .finish_non_exhaustive()
    }
}

impl ResponseCache {
    /// A cache over `store` with `policy`, in the fallback namespace (`default`).
    ///
    /// Errors when the policy is invalid ([`CachePolicy::validate`]).
    pub fn new(store: impl KeyValueStore + 'static, policy: CachePolicy) -> Result<Self> {
        Self::from_dyn(Arc::new(store), policy)
    }

    /// A cache over a shared store, in the fallback namespace (`default`).
    pub fn from_dyn(store: DynStore, policy: CachePolicy) -> Result<Self> {
        policy.validate()?;
        let caps = store.capabilities();
        Ok(ResponseCache {
            shared: Arc::new(Shared {
                can_enumerate: caps.keys || caps.destroy_collection,
                store,
                policy,
                stats: CacheStats::default(),
            }),
            scope: Arc::new(Scope::new(None)),
        })
    }

    /// A cache in a fresh [`MemoryStore`] with the default policy.
    pub fn in_memory() -> Self {
        Self::new(MemoryStore::new(), CachePolicy::default()).expect("the default policy is valid")
    }

    /// The same store, policy and statistics, holding the answers of the server `namespace`
    /// names, with invalidation state of its own.
    ///
    /// ```
    /// use stowage_mcp::{Namespace, ResponseCache};
    ///
    /// let cache = ResponseCache::in_memory();
    /// let github = cache.in_namespace(Namespace::new("github").unwrap());
    /// assert_eq!(github.namespace().as_str(), "github");
    /// assert_eq!(cache.namespace().as_str(), "default");
    /// ```
    pub fn in_namespace(&self, namespace: Namespace) -> Self {
        ResponseCache {
            shared: self.shared.clone(),
            scope: Arc::new(Scope::new(Some(namespace))),
        }
    }

    fn named(&self) -> &Named {
        self.scope
            .named
            .get_or_init(|| Named::new(Namespace::fallback()))
    }

    /// The namespace of the server whose answers this cache holds.
    pub fn namespace(&self) -> &Namespace {
        &self.named().namespace
    }

    /// Give this cache (and its clones) `namespace`, unless it already has one: chosen with
    /// [`ResponseCache::in_namespace`], settled before, or fixed to the fallback `default` by a
    /// first use. Returns the namespace in force. The rmcp wrapper settles the namespace of the
    /// server it wraps.
    pub fn settle_namespace(&self, namespace: Namespace) -> &Namespace {
        &self
            .scope
            .named
            .get_or_init(|| Named::new(namespace))
            .namespace
    }

    /// The policy.
    pub fn policy(&self) -> &CachePolicy {
        &self.shared.policy
    }

    /// The statistics, live.
    pub fn stats(&self) -> &CacheStats {
        &self.shared.stats
    }

    /// The store.
    pub fn store(&self) -> &DynStore {
        &self.shared.store
    }

    /// The collection holding this namespace's answers to `method`.
    pub fn collection(&self, method: Method) -> &str {
        &self.named().collections[method.index()]
    }

    fn key(&self, method: Method, partition: &str, digest: &RequestKey) -> String {
        if self.shared.can_enumerate {
            format!("{partition}.{}", digest.as_str())
        } else {
            // Stores that can neither drop a collection nor list keys: an invalidation makes
            // the old entries unreachable by changing the key, and they expire by TTL.
            let g = self.scope.generations[method.index()].load(Ordering::Acquire);
            format!("{partition}.{g}.{}", digest.as_str())
        }
    }

    /// Run a store call within the policy's deadline; a late call is an error.
    async fn within<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        let deadline = self.shared.policy.store_deadline();
        tokio::time::timeout(deadline, call)
            .await
            .unwrap_or_else(|_| {
                Err(Error::new(
                    ErrorKind::Timeout,
                    format!("the cache store did not answer within {deadline:?}"),
                ))
            })
    }

    /// Whether `request` is one the cache applies to, before any store access.
    pub fn applies_to(&self, request: &CacheRequest<'_>) -> bool {
        let policy = &self.shared.policy;
        policy.method(request.method).enabled
            && !request.stateful
            && (request.method != Method::ToolsCall
                || policy
                    .tool_filter()
                    .allows(request.name(), self.tool_safety(request.name())))
    }

    /// Note that the server sent the client a request (`elicitation/create`,
    /// `sampling/createMessage`, `roots/list`) while requests were in flight: their answers
    /// may depend on the client's reply, and none of them is stored.
    pub fn note_nested_request(&self) {
        self.scope.nested_epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// Look `request` up for `caller`: the caller's own answer first, then a public one.
    pub async fn lookup(&self, request: &CacheRequest<'_>, caller: &Caller) -> Lookup {
        let method = request.method;
        let stats = &self.shared.stats;
        let partition = match caller.partition() {
            Some(p) if self.applies_to(request) => p,
            _ => {
                stats.record(method, Event::Bypass);
                return Lookup::Bypass;
            }
        };
        let scope = &self.scope;
        let generation = scope.generations[method.index()].load(Ordering::Acquire);
        let resource_epoch = scope.resource_epoch.load(Ordering::Acquire);
        let nested_epoch = scope.nested_epoch.load(Ordering::Acquire);
        let digest = RequestKey::from_args(method, request.name(), request.arguments);
        // Each protocol era of 2026-07-28 and later has partitions of its own.
        let (partition, public_partition) = match request.era.as_deref() {
            None => (partition.to_owned(), PUBLIC_PARTITION.to_owned()),
            Some(era) => (
                format!("{era}~{partition}"),
                format!("{era}~{PUBLIC_PARTITION}"),
            ),
        };
        let private_key = self.key(method, &partition, &digest);
        let public_key = self.key(method, &public_partition, &digest);
        let found = self
            .within(
                self.shared
                    .store
                    .ttl_many(self.collection(method), &[&private_key, &public_key]),
            )
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
                        partition,
                        public_partition,
                        generation,
                        resource_epoch,
                        nested_epoch,
                    })
                }
            },
        }
    }

    /// Whether an invalidation (or a nested request) happened since `ticket` was issued.
    fn stale(&self, ticket: &Ticket) -> bool {
        let scope = &self.scope;
        let method = ticket.method;
        scope.generations[method.index()].load(Ordering::Acquire) != ticket.generation
            || (method == Method::ResourcesRead
                && scope.resource_epoch.load(Ordering::Acquire) != ticket.resource_epoch)
    }

    /// Hand the answer to a request that missed: it is stored unless a rule forbids it.
    pub async fn complete(&self, ticket: Ticket, result: &Json) -> Outcome {
        self.complete_as(ticket, result, || Value::from_serialize(result))
            .await
    }

    /// Like [`ResponseCache::complete`], for an answer received as JSON text (`parsed` is the
    /// same text parsed): what is stored is the text itself, so numbers beyond `u64`/`f64` and
    /// every other detail reach later callers exactly as the server wrote them. The proxy uses
    /// this.
    pub async fn complete_text(&self, ticket: Ticket, text: &RawValue, parsed: &Json) -> Outcome {
        self.complete_as(ticket, parsed, || Value::try_from(text))
            .await
    }

    async fn complete_as(
        &self,
        ticket: Ticket,
        result: &Json,
        value: impl FnOnce() -> Result<Value>,
    ) -> Outcome {
        let method = ticket.method;
        let stats = &self.shared.stats;
        let policy = &self.shared.policy;
        let skip = |reason| {
            stats.record(method, Event::Bypass);
            Outcome::Skipped(reason)
        };
        if self.scope.nested_epoch.load(Ordering::Acquire) != ticket.nested_epoch {
            return skip(SkipReason::DependedOnClient);
        }
        let keep = match judge(result, policy.method(method).ttl, policy.honours_hints()) {
            Ok(keep) => keep,
            Err(reason) => return skip(reason),
        };
        let value = match value() {
            Ok(v) => v,
            Err(_) => return skip(SkipReason::Malformed),
        };
        if value.len() > policy.entry_limit() {
            return skip(SkipReason::Oversized);
        }
        if self.stale(&ticket) {
            return skip(SkipReason::Invalidated);
        }
        let (key, partition) = if keep.public {
            (&ticket.public_key, ticket.public_partition.as_str())
        } else {
            (&ticket.private_key, ticket.partition.as_str())
        };
        self.remember_partition(partition);
        let collection = self.collection(method);
        let stored = self
            .within(self.shared.store.put(collection, key, value, keep.ttl))
            .await;
        if stored.is_err() {
            stats.record(method, Event::Error);
            return Outcome::Failed;
        }
        // An invalidation that began while the write was under way may have cleared the
        // collection before the write landed: take the entry back out.
        if self.stale(&ticket) {
            let _ = self.within(self.shared.store.delete(collection, key)).await;
            return skip(SkipReason::Invalidated);
        }
        stats.record(method, Event::Store);
        Outcome::Stored
    }

    /// Record that the answer to a request that missed is not kept, for `reason` (a JSON-RPC
    /// error, say).
    pub fn skip(&self, ticket: Ticket, reason: SkipReason) -> Outcome {
        self.shared.stats.record(ticket.method, Event::Bypass);
        Outcome::Skipped(reason)
    }

    fn remember_partition(&self, partition: &str) {
        if partition == PUBLIC_PARTITION || partition == ANONYMOUS_PARTITION {
            return;
        }
        let mut known = self.scope.known_partitions.lock();
        if known.len() < MAX_KNOWN_PARTITIONS && !known.contains(partition) {
            known.insert(partition.to_owned());
        }
    }
}
