//! The cache policy over the real memory store: scopes, hints, invalidation, failures.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value as Json, json};
use stowage_core::{
    Capabilities, Entry, Error, ErrorKind, KeyValueStore, Result, Value, async_trait,
};
use stowage_mcp::{
    CachePolicy, CacheRequest, Caller, Lookup, Method, Namespace, Outcome, ResponseCache,
    SkipReason, ToolCaching,
};
use stowage_memory::MemoryStore;
use tokio::sync::Notify;

/// The memory store, with a switch that makes every call fail as an unreachable backend would,
/// a switch that makes every call hang as a stuck backend would, a switch that hides its key
/// listing (as a store without `keys` would), and a gate that holds writes until released.
#[derive(Debug, Clone, Default)]
struct Faulty {
    inner: MemoryStore,
    down: Arc<AtomicBool>,
    hung: Arc<AtomicBool>,
    no_enumeration: bool,
    put_gate: Option<Arc<Gate>>,
}

/// Holds a write: `entered` is notified when it starts, and it goes on after `release`.
#[derive(Debug, Default)]
struct Gate {
    entered: Notify,
    release: Notify,
}

impl Faulty {
    async fn check(&self) -> Result<()> {
        if self.hung.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        if self.down.load(Ordering::SeqCst) {
            Err(Error::new(ErrorKind::Unavailable, "injected outage"))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl KeyValueStore for Faulty {
    fn capabilities(&self) -> Capabilities {
        let caps = self.inner.capabilities();
        if self.no_enumeration {
            caps.with_keys(false)
                .with_destroy_collection(false)
                .with_collections(false)
        } else {
            caps
        }
    }
    async fn get(&self, c: &str, k: &str) -> Result<Option<Value>> {
        self.check().await?;
        self.inner.get(c, k).await
    }
    async fn get_many(&self, c: &str, ks: &[&str]) -> Result<Vec<Option<Value>>> {
        self.check().await?;
        self.inner.get_many(c, ks).await
    }
    async fn ttl(&self, c: &str, k: &str) -> Result<Option<Entry>> {
        self.check().await?;
        self.inner.ttl(c, k).await
    }
    async fn ttl_many(&self, c: &str, ks: &[&str]) -> Result<Vec<Option<Entry>>> {
        self.check().await?;
        self.inner.ttl_many(c, ks).await
    }
    async fn put(&self, c: &str, k: &str, v: Value, t: Option<Duration>) -> Result<()> {
        self.check().await?;
        if let Some(gate) = &self.put_gate {
            gate.entered.notify_one();
            gate.release.notified().await;
        }
        self.inner.put(c, k, v, t).await
    }
    async fn put_if_absent(&self, c: &str, k: &str, v: Value, t: Option<Duration>) -> Result<bool> {
        self.check().await?;
        self.inner.put_if_absent(c, k, v, t).await
    }
    async fn put_many(&self, c: &str, e: &[(&str, Value)], t: Option<Duration>) -> Result<()> {
        self.check().await?;
        self.inner.put_many(c, e, t).await
    }
    async fn delete(&self, c: &str, k: &str) -> Result<bool> {
        self.check().await?;
        self.inner.delete(c, k).await
    }
    async fn delete_many(&self, c: &str, ks: &[&str]) -> Result<usize> {
        self.check().await?;
        self.inner.delete_many(c, ks).await
    }
    async fn keys(&self, c: &str) -> Result<Vec<String>> {
        self.check().await?;
        if self.no_enumeration {
            return Err(Error::unsupported("keys"));
        }
        self.inner.keys(c).await
    }
    async fn collections(&self) -> Result<Vec<String>> {
        self.check().await?;
        if self.no_enumeration {
            return Err(Error::unsupported("collections"));
        }
        self.inner.collections().await
    }
    async fn destroy_collection(&self, c: &str) -> Result<bool> {
        self.check().await?;
        if self.no_enumeration {
            return Err(Error::unsupported("destroy_collection"));
        }
        self.inner.destroy_collection(c).await
    }
    async fn destroy(&self) -> Result<bool> {
        self.check().await?;
        self.inner.destroy().await
    }
    async fn cull(&self) -> Result<usize> {
        self.check().await?;
        self.inner.cull().await
    }
}

/// The default policy, caching every tool (these tests are about the store, not annotations).
fn all_tools() -> CachePolicy {
    CachePolicy::default().cache_tools(ToolCaching::All)
}

fn text_result(text: &str) -> Json {
    json!({"content": [{"type": "text", "text": text}]})
}

async fn miss(
    cache: &ResponseCache,
    request: &CacheRequest<'_>,
    caller: &Caller,
) -> stowage_mcp::Ticket {
    match cache.lookup(request, caller).await {
        Lookup::Miss(t) => t,
        other => panic!("expected a miss, got {other:?}"),
    }
}

async fn hit(cache: &ResponseCache, request: &CacheRequest<'_>, caller: &Caller) -> Json {
    match cache.lookup(request, caller).await {
        Lookup::Hit(v) => serde_json::from_str(v.as_str()).unwrap(),
        other => panic!("expected a hit, got {other:?}"),
    }
}

#[tokio::test]
async fn private_answers_stay_in_their_partition_and_public_ones_are_shared() {
    let cache = ResponseCache::in_memory();
    let alice = Caller::from_token("alice");
    let bob = Caller::from_token("bob");
    let tools = CacheRequest::new(Method::ToolsList, "", None);

    // Alice's private answer is hers alone.
    let t = miss(&cache, &tools, &alice).await;
    assert_eq!(
        cache.complete(t, &json!({"tools": ["alice-only"]})).await,
        Outcome::Stored
    );
    assert_eq!(hit(&cache, &tools, &alice).await["tools"][0], "alice-only");
    let t = miss(&cache, &tools, &bob).await;
    assert_eq!(
        miss(&cache, &tools, &Caller::anonymous()).await.method(),
        Method::ToolsList
    );

    // Bob's answer, marked public by the server, is served to everyone without one of their own.
    let public = json!({"tools": ["everyone"], "ttlMs": 60000, "cacheScope": "public"});
    assert_eq!(cache.complete(t, &public).await, Outcome::Stored);
    assert_eq!(hit(&cache, &tools, &bob).await["tools"][0], "everyone");
    assert_eq!(
        hit(&cache, &tools, &Caller::anonymous()).await["tools"][0],
        "everyone"
    );
    assert_eq!(
        hit(&cache, &tools, &Caller::from_token("carol")).await["tools"][0],
        "everyone"
    );
    // Alice keeps her own.
    assert_eq!(hit(&cache, &tools, &alice).await["tools"][0], "alice-only");
}

#[tokio::test]
async fn a_ttl_hint_shortens_the_entry_and_is_lowered_on_hits() {
    let store = MemoryStore::new();
    let cache = ResponseCache::new(store.clone(), CachePolicy::default()).unwrap();
    let read = CacheRequest::new(Method::ResourcesRead, "file:///a", None);
    let t = miss(&cache, &read, &Caller::anonymous()).await;
    let answer = json!({"contents": [{"uri": "file:///a", "text": "x"}], "ttlMs": 2000, "cacheScope": "private"});
    cache.complete(t, &answer).await;
    let collection = cache.collection(Method::ResourcesRead);
    assert_eq!(collection, "mcp.default.resources-read");
    let entry = store
        .ttl_many(collection, &[&store.keys(collection).await.unwrap()[0]])
        .await
        .unwrap()[0]
        .clone()
        .unwrap();
    assert!(entry.remaining_ttl().unwrap() <= Duration::from_secs(2));
    let served = hit(&cache, &read, &Caller::anonymous()).await;
    let ms = served["ttlMs"].as_u64().unwrap();
    assert!((1..=2000).contains(&ms), "{ms}");
    assert_eq!(served["contents"], answer["contents"]);

    // ttlMs: 0 means immediately stale: not kept.
    let other = CacheRequest::new(Method::ResourcesRead, "file:///b", None);
    let t = miss(&cache, &other, &Caller::anonymous()).await;
    let zero = json!({"contents": [], "ttlMs": 0, "cacheScope": "public"});
    assert_eq!(
        cache.complete(t, &zero).await,
        Outcome::Skipped(SkipReason::ZeroTtlHint)
    );
    let _ = miss(&cache, &other, &Caller::anonymous()).await;
}

#[tokio::test]
async fn never_cached_answers() {
    let cache = ResponseCache::new(MemoryStore::new(), all_tools()).unwrap();
    let call = CacheRequest::new(Method::ToolsCall, "t", None);
    for (answer, reason) in [
        (json!({"content": [], "isError": true}), SkipReason::Error),
        (
            json!({"resultType": "input_required", "inputRequests": {"a": {}}}),
            SkipReason::InputRequired,
        ),
        (
            json!({"resultType": "task", "task": {"taskId": "7"}}),
            SkipReason::Task,
        ),
    ] {
        let t = miss(&cache, &call, &Caller::anonymous()).await;
        assert_eq!(cache.complete(t, &answer).await, Outcome::Skipped(reason));
    }
    let t = miss(&cache, &call, &Caller::anonymous()).await;
    assert_eq!(
        cache.skip(t, SkipReason::Error),
        Outcome::Skipped(SkipReason::Error)
    );
    let stats = cache.stats().get(Method::ToolsCall);
    assert_eq!((stats.misses, stats.stores, stats.bypasses), (4, 0, 4));

    // Stateful requests are not even looked up.
    let stateful = CacheRequest::new(Method::ToolsCall, "t", None).stateful(true);
    assert!(matches!(
        cache.lookup(&stateful, &Caller::anonymous()).await,
        Lookup::Bypass
    ));
}

#[tokio::test]
async fn an_answer_to_a_request_in_flight_during_invalidation_is_not_kept() {
    let cache = ResponseCache::in_memory();
    let list = CacheRequest::new(Method::PromptsList, "", None);
    let t = miss(&cache, &list, &Caller::anonymous()).await;
    cache
        .observe_notification("notifications/prompts/list_changed", None)
        .await
        .unwrap();
    assert_eq!(
        cache.complete(t, &json!({"prompts": []})).await,
        Outcome::Skipped(SkipReason::Invalidated)
    );
    let read = CacheRequest::new(Method::ResourcesRead, "file:///x", None);
    let t = miss(&cache, &read, &Caller::anonymous()).await;
    cache
        .observe_notification(
            "notifications/resources/updated",
            Some(&json!({"uri": "file:///y"})),
        )
        .await
        .unwrap();
    assert_eq!(
        cache.complete(t, &json!({"contents": []})).await,
        Outcome::Skipped(SkipReason::Invalidated)
    );
}

async fn resource_updates_reach_every_partition(store: Faulty) {
    let cache = ResponseCache::new(store, CachePolicy::default()).unwrap();
    let callers = [
        Caller::anonymous(),
        Caller::from_token("a"),
        Caller::from_identity("b"),
    ];
    let read_x = CacheRequest::new(Method::ResourcesRead, "file:///x", None);
    let read_y = CacheRequest::new(Method::ResourcesRead, "file:///y", None);
    for caller in &callers {
        for read in [&read_x, &read_y] {
            let t = miss(&cache, read, caller).await;
            cache
                .complete(
                    t,
                    &json!({"contents": [{"uri": read.name(), "text": "v1"}]}),
                )
                .await;
        }
    }
    assert!(
        cache
            .observe_notification(
                "notifications/resources/updated",
                Some(&json!({"uri": "file:///x"}))
            )
            .await
            .unwrap()
    );
    for caller in &callers {
        let _ = miss(&cache, &read_x, caller).await;
        assert_eq!(
            hit(&cache, &read_y, caller).await["contents"][0]["text"],
            "v1"
        );
    }
    // A list change drops the list for everyone.
    let list = CacheRequest::new(Method::ResourcesList, "", None);
    for caller in &callers {
        let t = miss(&cache, &list, caller).await;
        cache.complete(t, &json!({"resources": []})).await;
    }
    cache
        .observe_notification("notifications/resources/list_changed", None)
        .await
        .unwrap();
    for caller in &callers {
        let _ = miss(&cache, &list, caller).await;
    }
    assert!(
        !cache
            .observe_notification("notifications/message", None)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn invalidation_with_a_store_that_lists_keys() {
    resource_updates_reach_every_partition(Faulty::default()).await;
}

#[tokio::test]
async fn invalidation_with_a_store_that_cannot_list_keys() {
    resource_updates_reach_every_partition(Faulty {
        no_enumeration: true,
        ..Faulty::default()
    })
    .await;
}

#[tokio::test]
async fn a_failing_store_never_fails_a_request() {
    let store = Faulty::default();
    let down = store.down.clone();
    let cache = ResponseCache::new(store, all_tools()).unwrap();
    let args = json!({"a": 1});
    let call = CacheRequest::new(Method::ToolsCall, "t", Some(&args));
    let t = miss(&cache, &call, &Caller::anonymous()).await;
    down.store(true, Ordering::SeqCst);
    assert_eq!(cache.complete(t, &text_result("x")).await, Outcome::Failed);
    assert!(matches!(
        cache.lookup(&call, &Caller::anonymous()).await,
        Lookup::Bypass
    ));
    assert!(cache.invalidate(Method::ToolsCall).await.is_err());
    assert_eq!(cache.stats().get(Method::ToolsCall).errors, 2);
    // Back up: business as usual.
    down.store(false, Ordering::SeqCst);
    let t = miss(&cache, &call, &Caller::anonymous()).await;
    assert_eq!(cache.complete(t, &text_result("x")).await, Outcome::Stored);
    assert_eq!(
        hit(&cache, &call, &Caller::anonymous()).await,
        text_result("x")
    );
}

#[tokio::test]
async fn entries_expire_with_the_method_ttl() {
    let policy = all_tools().ttl(Method::ToolsCall, Some(Duration::from_millis(200)));
    let cache = ResponseCache::new(MemoryStore::new(), policy).unwrap();
    let call = CacheRequest::new(Method::ToolsCall, "t", None);
    let t = miss(&cache, &call, &Caller::anonymous()).await;
    cache.complete(t, &text_result("soon gone")).await;
    let _ = hit(&cache, &call, &Caller::anonymous()).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let _ = miss(&cache, &call, &Caller::anonymous()).await;
}

#[tokio::test]
async fn an_invalid_policy_is_refused() {
    let err = ResponseCache::new(
        MemoryStore::new(),
        CachePolicy::default().ttl(Method::PromptsGet, Some(Duration::ZERO)),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidTtl);
}

#[tokio::test]
async fn two_servers_on_one_store_never_answer_for_each_other() {
    let store = MemoryStore::new();
    let shared = ResponseCache::new(store.clone(), all_tools()).unwrap();
    let github = shared.in_namespace(Namespace::new("github").unwrap());
    let files = shared.in_namespace(Namespace::new("files").unwrap());
    let list = CacheRequest::new(Method::ToolsList, "", None);
    let args = json!({"path": "/"});
    let call = CacheRequest::new(Method::ToolsCall, "list", Some(&args));
    for (cache, name) in [(&github, "github"), (&files, "files")] {
        for request in [&list, &call] {
            let t = miss(cache, request, &Caller::anonymous()).await;
            let answer = json!({"tools": [name], "content": [{"type": "text", "text": name}]});
            assert_eq!(cache.complete(t, &answer).await, Outcome::Stored);
        }
    }
    for (cache, name) in [(&github, "github"), (&files, "files")] {
        assert_eq!(
            hit(cache, &list, &Caller::anonymous()).await["tools"][0],
            name
        );
        assert_eq!(
            hit(cache, &call, &Caller::anonymous()).await["tools"][0],
            name
        );
    }
    // Invalidating one server's entries leaves the other's.
    github
        .observe_notification("notifications/tools/list_changed", None)
        .await
        .unwrap();
    github.invalidate(Method::ToolsCall).await.unwrap();
    let _ = miss(&github, &list, &Caller::anonymous()).await;
    let _ = miss(&github, &call, &Caller::anonymous()).await;
    assert_eq!(
        hit(&files, &list, &Caller::anonymous()).await["tools"][0],
        "files"
    );
    assert_eq!(
        hit(&files, &call, &Caller::anonymous()).await["tools"][0],
        "files"
    );
    // Each namespace has collections of its own.
    let mut collections = store.collections().await.unwrap();
    collections.sort();
    assert!(
        collections.iter().all(|c| c.starts_with("mcp.files.")),
        "{collections:?}"
    );
}

#[tokio::test]
async fn a_hung_store_turns_lookups_into_bypasses_within_the_deadline() {
    let store = Faulty::default();
    let hung = store.hung.clone();
    let policy = all_tools().store_timeout(Duration::from_millis(100));
    let cache = ResponseCache::new(store, policy).unwrap();
    let call = CacheRequest::new(Method::ToolsCall, "t", None);
    let t = miss(&cache, &call, &Caller::anonymous()).await;
    hung.store(true, Ordering::SeqCst);
    let started = std::time::Instant::now();
    assert!(matches!(
        cache.lookup(&call, &Caller::anonymous()).await,
        Lookup::Bypass
    ));
    assert_eq!(cache.complete(t, &text_result("x")).await, Outcome::Failed);
    // Behaviour, not timing: both calls came back (a hung store without a deadline never
    // returns); the bound is generous for a loaded machine.
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(cache.stats().get(Method::ToolsCall).errors, 2);
}

#[tokio::test]
async fn an_answer_written_while_an_invalidation_runs_does_not_survive_it() {
    let gate = Arc::new(Gate::default());
    let store = Faulty {
        put_gate: Some(gate.clone()),
        ..Faulty::default()
    };
    let policy = all_tools().store_timeout(Duration::from_secs(60));
    let cache = ResponseCache::new(store.clone(), policy).unwrap();
    let list = CacheRequest::new(Method::ToolsList, "", None);
    let t = miss(&cache, &list, &Caller::anonymous()).await;
    let writer = {
        let cache = cache.clone();
        tokio::spawn(async move { cache.complete(t, &json!({"tools": ["stale"]})).await })
    };
    // The write has passed the generation check and is under way; now the list changes.
    gate.entered.notified().await;
    cache.invalidate(Method::ToolsList).await.unwrap();
    gate.release.notify_one();
    assert_eq!(
        writer.await.unwrap(),
        Outcome::Skipped(SkipReason::Invalidated)
    );
    let _ = miss(&cache, &list, &Caller::anonymous()).await;
    assert!(
        store
            .inner
            .keys(cache.collection(Method::ToolsList))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn an_unidentified_caller_is_never_cached() {
    let cache = ResponseCache::new(MemoryStore::new(), all_tools()).unwrap();
    let list = CacheRequest::new(Method::ToolsList, "", None);
    let t = miss(&cache, &list, &Caller::anonymous()).await;
    cache
        .complete(t, &json!({"tools": [], "cacheScope": "public"}))
        .await;
    assert!(matches!(
        cache.lookup(&list, &Caller::unidentified()).await,
        Lookup::Bypass
    ));
}

#[tokio::test]
async fn an_answer_that_depended_on_the_client_is_not_kept() {
    let cache = ResponseCache::new(MemoryStore::new(), all_tools()).unwrap();
    let call = CacheRequest::new(Method::ToolsCall, "ask", None);
    let t = miss(&cache, &call, &Caller::anonymous()).await;
    cache.note_nested_request();
    assert_eq!(
        cache.complete(t, &text_result("the user said yes")).await,
        Outcome::Skipped(SkipReason::DependedOnClient)
    );
    let _ = miss(&cache, &call, &Caller::anonymous()).await;
}

#[tokio::test]
async fn tools_are_cached_by_what_the_server_says_of_them() {
    let cache = ResponseCache::in_memory();
    cache.learn_tools(&json!({"tools": [
        {"name": "search", "annotations": {"readOnlyHint": true}},
        {"name": "lookup", "annotations": {"idempotentHint": true, "destructiveHint": false}},
        {"name": "send", "annotations": {"destructiveHint": true}},
        {"name": "plain"},
    ]}));
    let cached = |name| {
        let cache = cache.clone();
        async move { cache.applies_to(&CacheRequest::new(Method::ToolsCall, name, None)) }
    };
    assert!(cached("search").await);
    assert!(cached("lookup").await);
    assert!(!cached("send").await);
    assert!(!cached("plain").await);
    assert!(!cached("never-listed").await);

    let all = ResponseCache::new(MemoryStore::new(), all_tools()).unwrap();
    all.learn_tools(
        &json!({"tools": [{"name": "send", "annotations": {"destructiveHint": true}}]}),
    );
    assert!(!all.applies_to(&CacheRequest::new(Method::ToolsCall, "send", None)));
    assert!(all.applies_to(&CacheRequest::new(Method::ToolsCall, "plain", None)));
}

#[tokio::test]
async fn a_roots_change_clears_the_servers_answers() {
    let cache = ResponseCache::new(MemoryStore::new(), all_tools()).unwrap();
    let call = CacheRequest::new(Method::ToolsCall, "files", None);
    let t = miss(&cache, &call, &Caller::anonymous()).await;
    cache.complete(t, &text_result("in root A")).await;
    let _ = hit(&cache, &call, &Caller::anonymous()).await;
    assert!(
        cache
            .observe_notification("notifications/roots/list_changed", None)
            .await
            .unwrap()
    );
    let _ = miss(&cache, &call, &Caller::anonymous()).await;
}

#[tokio::test]
async fn each_list_page_is_an_entry_of_its_own() {
    let cache = ResponseCache::in_memory();
    let first = CacheRequest::new(Method::ToolsList, "", None);
    let second = CacheRequest::new(Method::ToolsList, "cursor-2", None);
    let t = miss(&cache, &first, &Caller::anonymous()).await;
    cache
        .complete(
            t,
            &json!({"tools": [{"name": "a"}], "nextCursor": "cursor-2"}),
        )
        .await;
    let t = miss(&cache, &second, &Caller::anonymous()).await;
    cache.complete(t, &json!({"tools": [{"name": "b"}]})).await;
    assert_eq!(
        hit(&cache, &first, &Caller::anonymous()).await["tools"][0]["name"],
        "a"
    );
    assert_eq!(
        hit(&cache, &second, &Caller::anonymous()).await["tools"][0]["name"],
        "b"
    );
}
