//! Many tasks on the same keys at once.

use std::collections::HashSet;

use serde_json::json;

use crate::testkit::{Store, obj, unique};

const TASKS: usize = 32;

/// 32 tasks writing one key end with one of their values, whole.
pub async fn concurrent_writers_on_one_key(store: Store) {
    let c = unique("conc");
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let (store, c) = (store.clone(), c.clone());
        handles.push(tokio::spawn(async move {
            for i in 0..20 {
                store
                    .put(
                        &c,
                        "hot",
                        obj(json!({"t": t, "i": i, "pad": "x".repeat(64)})),
                        None,
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for h in handles {
        h.await.expect("writer task");
    }
    let got = store
        .get(&c, "hot")
        .await
        .unwrap()
        .expect("a final value")
        .to_map();
    assert!(got["t"].as_u64().is_some_and(|t| (t as usize) < TASKS));
    assert_eq!(got["i"], 19, "each writer's last write is i = 19");
    assert_eq!(got["pad"].as_str().map(str::len), Some(64));
}

/// Puts, gets and deletes on a few shared keys: every read sees a whole value some task wrote.
pub async fn concurrent_mixed_operations(store: Store) {
    let c = unique("conc");
    let keys = ["a", "b", "c", "d"];
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let (store, c) = (store.clone(), c.clone());
        handles.push(tokio::spawn(async move {
            for i in 0..30usize {
                let k = keys[(t + i) % keys.len()];
                match (t + i) % 3 {
                    0 => store
                        .put(&c, k, obj(json!({"t": t, "i": i, "k": k})), None)
                        .await
                        .unwrap(),
                    1 => {
                        if let Some(v) = store.get(&c, k).await.unwrap() {
                            let m = v.to_map();
                            assert_eq!(m["k"], k, "a read returned another key's value");
                            assert!(m["t"].as_u64().is_some() && m["i"].as_u64().is_some());
                        }
                    }
                    _ => {
                        store.delete(&c, k).await.unwrap();
                    }
                }
            }
        }));
    }
    for h in handles {
        h.await.expect("task");
    }
    for k in keys {
        if let Some(v) = store.get(&c, k).await.unwrap() {
            assert_eq!(v.to_map()["k"], k);
        }
    }
}

/// Concurrent `put_many` and `get_many` over the same keys: every batch read sees whole values
/// for the keys asked.
pub async fn concurrent_batches(store: Store) {
    let c = unique("conc");
    let keys: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
    let mut handles = Vec::new();
    for t in 0..16usize {
        let (store, c, keys) = (store.clone(), c.clone(), keys.clone());
        handles.push(tokio::spawn(async move {
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            for round in 0..10usize {
                if (t + round) % 2 == 0 {
                    let entries: Vec<_> = refs
                        .iter()
                        .map(|k| (*k, obj(json!({"k": k, "t": t}))))
                        .collect();
                    store.put_many(&c, &entries, None).await.unwrap();
                } else {
                    let got = store.get_many(&c, &refs).await.unwrap();
                    assert_eq!(got.len(), refs.len());
                    for (k, v) in refs.iter().zip(got) {
                        if let Some(v) = v {
                            assert_eq!(v.to_map()["k"], *k);
                        }
                    }
                }
            }
        }));
    }
    for h in handles {
        h.await.expect("task");
    }
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let writers: HashSet<u64> = store
        .get_many(&c, &refs)
        .await
        .unwrap()
        .into_iter()
        .map(|v| {
            v.expect("every key written").to_map()["t"]
                .as_u64()
                .expect("t")
        })
        .collect();
    assert!(!writers.is_empty());
}
