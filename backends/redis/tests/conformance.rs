//! The whole conformance kit against a real Redis node and a real Redis Cluster, each case in a
//! namespace of its own so that `destroy()` touches nothing else.

mod common;

mod single {
    stowage_core::conformance_tests!(|| async { crate::common::single_store().await });
}

mod cluster {
    stowage_core::conformance_tests!(|| async { crate::common::cluster_store().await });
}

/// Three clients on one namespace, on the single node and on the cluster, race on
/// `put_if_absent`: one winner per key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inserts_race_across_clients() {
    for cluster in [false, true] {
        let namespace = stowage_core::testkit::unique("t");
        let url = if cluster {
            common::cluster_url()
        } else {
            common::single_url()
        };
        let mut handles: Vec<stowage_core::testkit::Store> = Vec::new();
        for _ in 0..3 {
            let store = stowage_redis::RedisStore::builder()
                .url(url.clone())
                .cluster(cluster)
                .namespace(namespace.clone())
                .build()
                .await
                .unwrap();
            handles.push(std::sync::Arc::new(store));
        }
        stowage_core::testkit::cases::insert::insert_race_across_handles(handles).await;
    }
}
