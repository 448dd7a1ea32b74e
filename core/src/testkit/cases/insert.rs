//! `put_if_absent`: the atomic insert.
//!
//! A store that does not declare the capability must refuse every call with
//! [`Unsupported`](crate::ErrorKind::Unsupported) and write nothing; these cases check that too.

use std::time::Duration;

use serde_json::json;

use crate::ErrorKind;
use crate::testkit::{EXPIRY_WAIT, SHORT_TTL, Store, assert_kind, assert_same, obj, unique};

/// `true` when the store declares `put_if_absent`; otherwise checks that a call is refused, writes
/// nothing, and returns `false` so the case can stop.
async fn declared(store: &Store, c: &str) -> bool {
    if store.capabilities().put_if_absent {
        return true;
    }
    assert_kind(
        store
            .put_if_absent(c, "k", obj(json!({"v": 1})), None)
            .await,
        ErrorKind::Unsupported,
    );
    assert_eq!(
        store.get(c, "k").await.unwrap(),
        None,
        "a refused insert wrote"
    );
    false
}

/// The first insert stores; a second one, while the first is live, keeps the first value.
pub async fn put_if_absent_inserts_only_once(store: Store) {
    let c = unique("pia");
    if !declared(&store, &c).await {
        return;
    }
    let first = obj(json!({"v": "first"}));
    assert!(
        store
            .put_if_absent(&c, "k", first.clone(), None)
            .await
            .unwrap()
    );
    let again = store.put_if_absent(&c, "k", obj(json!({"v": "second"})), None);
    assert!(!again.await.unwrap(), "a live entry was replaced");
    assert_same(store.get(&c, "k").await.unwrap().as_ref(), &first);
    assert_eq!(store.ttl(&c, "k").await.unwrap().unwrap().expires_at, None);
}

/// An entry written with `put` counts as present; after `delete` the key is free again.
pub async fn put_if_absent_sees_puts_and_deletes(store: Store) {
    let c = unique("pia");
    if !declared(&store, &c).await {
        return;
    }
    let put = obj(json!({"v": "put"}));
    store.put(&c, "k", put.clone(), None).await.unwrap();
    let refused = store.put_if_absent(&c, "k", obj(json!({"v": "x"})), None);
    assert!(!refused.await.unwrap());
    assert_same(store.get(&c, "k").await.unwrap().as_ref(), &put);
    assert!(store.delete(&c, "k").await.unwrap());
    let after = obj(json!({"v": "after delete"}));
    assert!(
        store
            .put_if_absent(&c, "k", after.clone(), None)
            .await
            .unwrap()
    );
    assert_same(store.get(&c, "k").await.unwrap().as_ref(), &after);
}

/// An expired entry counts as absent, whatever the engine's own expiry lag, and the new entry
/// carries its own TTL.
pub async fn put_if_absent_replaces_expired_entries(store: Store) {
    let c = unique("pia");
    if !declared(&store, &c).await {
        return;
    }
    let short = obj(json!({"v": "short"}));
    assert!(
        store
            .put_if_absent(&c, "k", short, Some(SHORT_TTL))
            .await
            .unwrap()
    );
    tokio::time::sleep(EXPIRY_WAIT).await;
    let next = obj(json!({"v": "next"}));
    let ttl = Duration::from_secs(60);
    assert!(
        store
            .put_if_absent(&c, "k", next.clone(), Some(ttl))
            .await
            .unwrap()
    );
    let entry = store.ttl(&c, "k").await.unwrap().expect("the new entry");
    assert_same(Some(&entry.value), &next);
    let left = entry.remaining_ttl().expect("a TTL");
    assert!(
        left <= ttl && left > ttl - Duration::from_secs(10),
        "{left:?}"
    );
}

/// Bad input is refused with the usual error kinds and leaves the live entry as it was.
pub async fn put_if_absent_bad_input_writes_nothing(store: Store) {
    let c = unique("pia");
    if !declared(&store, &c).await {
        return;
    }
    let kept = obj(json!({"v": "kept"}));
    store.put(&c, "k", kept.clone(), None).await.unwrap();
    let v = || obj(json!({"v": "bad"}));
    assert_kind(
        store.put_if_absent(&c, "", v(), None).await,
        ErrorKind::InvalidKey,
    );
    assert_kind(
        store.put_if_absent("", "k", v(), None).await,
        ErrorKind::InvalidCollection,
    );
    assert_kind(
        store
            .put_if_absent(&c, "k", v(), Some(Duration::ZERO))
            .await,
        ErrorKind::InvalidTtl,
    );
    assert_kind(
        store
            .put_if_absent(&c, "fresh", v(), Some(Duration::ZERO))
            .await,
        ErrorKind::InvalidTtl,
    );
    if let Some(max) = store.capabilities().max_value_len {
        let big = obj(json!({"pad": "x".repeat(max + 1)}));
        assert_kind(
            store.put_if_absent(&c, "fresh", big, None).await,
            ErrorKind::ValueTooLarge,
        );
    }
    assert_same(store.get(&c, "k").await.unwrap().as_ref(), &kept);
    assert_eq!(store.get(&c, "fresh").await.unwrap(), None);
}

/// Tasks racing to insert the same keys: for each key exactly one wins, and the stored value is
/// the winner's.
pub async fn put_if_absent_race_has_one_winner(store: Store) {
    const TASKS: usize = 16;
    const KEYS: usize = 8;
    let c = unique("pia");
    if !declared(&store, &c).await {
        return;
    }
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let (store, c) = (store.clone(), c.clone());
        handles.push(tokio::spawn(async move {
            let mut won = Vec::new();
            for k in 0..KEYS {
                let key = format!("k{k}");
                let value = obj(json!({"task": t}));
                if store.put_if_absent(&c, &key, value, None).await.unwrap() {
                    won.push(k);
                }
            }
            (t, won)
        }));
    }
    let mut winners = vec![Vec::new(); KEYS];
    for h in handles {
        let (t, won) = h.await.expect("racing task");
        for k in won {
            winners[k].push(t);
        }
    }
    for (k, tasks) in winners.iter().enumerate() {
        assert_eq!(tasks.len(), 1, "key k{k} was won by tasks {tasks:?}");
        let stored = store.get(&c, &format!("k{k}")).await.unwrap().unwrap();
        assert_eq!(stored.to_map()["task"], tasks[0], "key k{k}");
    }
}

/// Not a kit case (it needs several handles): separate handles on the same data — separate
/// clients and connections, as separate processes would hold — race to insert the same keys, and
/// for each key exactly one caller wins.
///
/// ```no_run
/// # async fn demo(a: stowage_core::testkit::Store, b: stowage_core::testkit::Store) {
/// stowage_core::testkit::cases::insert::insert_race_across_handles(vec![a, b]).await;
/// # }
/// ```
pub async fn insert_race_across_handles(handles: Vec<Store>) {
    const TASKS_PER_HANDLE: usize = 4;
    const KEYS: usize = 8;
    let c = unique("pia-handles");
    let mut tasks = Vec::new();
    for (h, store) in handles.iter().enumerate() {
        for t in 0..TASKS_PER_HANDLE {
            let (store, c) = (store.clone(), c.clone());
            let caller = format!("{h}/{t}");
            tasks.push(tokio::spawn(async move {
                let mut won = Vec::new();
                for k in 0..KEYS {
                    let value = obj(json!({"caller": caller}));
                    if store
                        .put_if_absent(&c, &format!("k{k}"), value, None)
                        .await
                        .unwrap()
                    {
                        won.push(k);
                    }
                }
                (caller, won)
            }));
        }
    }
    let mut winners = vec![Vec::new(); KEYS];
    for task in tasks {
        let (caller, won) = task.await.expect("racing task");
        for k in won {
            winners[k].push(caller.clone());
        }
    }
    for (k, callers) in winners.iter().enumerate() {
        assert_eq!(callers.len(), 1, "key k{k} was won by {callers:?}");
        for store in &handles {
            let stored = store.get(&c, &format!("k{k}")).await.unwrap().unwrap();
            assert_eq!(stored.to_map()["caller"], callers[0], "key k{k}");
        }
    }
}
