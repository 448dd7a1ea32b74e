//! The whole conformance kit over each wrapper, and over a deep stack, on the memory store.

mod common;

mod fernet {
    use stowage_core::KeyValueStoreExt;
    use stowage_memory::MemoryStore;
    use stowage_wrappers::fernet::{FernetKey, FernetLayer};

    fn layer() -> FernetLayer {
        FernetLayer::new(FernetKey::from_base64(&FernetKey::generate_text()).unwrap())
    }

    stowage_core::conformance_tests!(|| async { MemoryStore::new().layer(layer()) });

    mod with_small_limit {
        use super::*;
        // A value limit on the inner store: the layer declares the plaintext limit that fits.
        stowage_core::conformance_tests!(|| async {
            MemoryStore::builder()
                .max_value_len(600 * 1024)
                .build()
                .unwrap()
                .layer(layer())
        });
    }
}

mod compression {
    use stowage_core::KeyValueStoreExt;
    use stowage_memory::MemoryStore;
    use stowage_wrappers::compression::CompressionLayer;

    // A low threshold, so most kit values are compressed.
    stowage_core::conformance_tests!(|| async {
        MemoryStore::new().layer(CompressionLayer::builder().min_size(16).build())
    });
}

mod ttl_clamp {
    use std::time::Duration;

    use stowage_core::KeyValueStoreExt;
    use stowage_memory::MemoryStore;
    use stowage_wrappers::ttl::TtlLayer;

    // A clamp wide enough for the kit's TTLs (1 ms … MAX_TTL is lowered to a year).
    stowage_core::conformance_tests!(|| async {
        MemoryStore::new().layer(
            TtlLayer::builder()
                .min(Duration::from_millis(1))
                .max(Duration::from_secs(365 * 86_400))
                .build()
                .unwrap(),
        )
    });
}

mod stats {
    use stowage_core::KeyValueStoreExt;
    use stowage_memory::MemoryStore;
    use stowage_wrappers::stats::StatsLayer;

    stowage_core::conformance_tests!(|| async { MemoryStore::new().layer(StatsLayer::new()) });
}

mod retry {
    use std::time::Duration;

    use stowage_core::KeyValueStoreExt;
    use stowage_memory::MemoryStore;
    use stowage_wrappers::retry::RetryLayer;

    stowage_core::conformance_tests!(|| async {
        MemoryStore::new().layer(
            RetryLayer::builder()
                .initial_delay(Duration::from_millis(1))
                .build(),
        )
    });

    mod over_faults {
        use super::*;
        use crate::common::FaultLayer;

        // Every third call reaching the store fails with a retryable error: the kit still
        // passes. (Concurrent cases interleave calls, so one operation may meet several
        // failures in a row: allow enough retries.)
        stowage_core::conformance_tests!(|| async {
            MemoryStore::new().layer(FaultLayer::every(3)).layer(
                RetryLayer::builder()
                    .initial_delay(Duration::from_millis(1))
                    .max_delay(Duration::from_millis(4))
                    .max_retries(30)
                    .build(),
            )
        });
    }
}

mod timeout {
    use std::time::Duration;

    use stowage_core::KeyValueStoreExt;
    use stowage_memory::MemoryStore;
    use stowage_wrappers::timeout::TimeoutLayer;

    stowage_core::conformance_tests!(|| async {
        MemoryStore::new().layer(TimeoutLayer::new(Duration::from_secs(30)))
    });
}

mod deep_stack {
    use std::time::Duration;

    use stowage_core::KeyValueStoreExt;
    use stowage_memory::MemoryStore;
    use stowage_wrappers::compression::CompressionLayer;
    use stowage_wrappers::fernet::{FernetKey, FernetLayer};
    use stowage_wrappers::retry::RetryLayer;
    use stowage_wrappers::stats::StatsLayer;
    use stowage_wrappers::ttl::TtlLayer;

    // memory ← retry ← encryption ← compression ← TTL clamp ← statistics
    stowage_core::conformance_tests!(|| async {
        MemoryStore::new()
            .layer(
                RetryLayer::builder()
                    .initial_delay(Duration::from_millis(1))
                    .build(),
            )
            .layer(FernetLayer::new(
                FernetKey::from_base64(&FernetKey::generate_text()).unwrap(),
            ))
            .layer(CompressionLayer::builder().min_size(64).build())
            .layer(
                TtlLayer::builder()
                    .min(Duration::from_millis(1))
                    .max(Duration::from_secs(365 * 86_400))
                    .build()
                    .unwrap(),
            )
            .layer(StatsLayer::new())
    });
}

mod key_prefix {
    use stowage_core::KeyValueStoreExt;
    use stowage_memory::MemoryStore;
    use stowage_wrappers::prefix::KeyPrefixLayer;

    stowage_core::conformance_tests!(|| async {
        MemoryStore::new().layer(KeyPrefixLayer::new("app").unwrap())
    });
}

mod collection_prefix {
    use stowage_core::KeyValueStoreExt;
    use stowage_memory::MemoryStore;
    use stowage_wrappers::prefix::CollectionPrefixLayer;

    stowage_core::conformance_tests!(|| async {
        MemoryStore::new().layer(CollectionPrefixLayer::new("tenant").unwrap())
    });
}

mod single_collection {
    use stowage_core::KeyValueStoreExt;
    use stowage_memory::MemoryStore;
    use stowage_wrappers::single_collection::SingleCollectionLayer;

    stowage_core::conformance_tests!(|| async {
        MemoryStore::new().layer(SingleCollectionLayer::new("all").unwrap())
    });
}

mod read_only_switched_off {
    use stowage_core::KeyValueStoreExt;
    use stowage_memory::MemoryStore;
    use stowage_wrappers::read_only::ReadOnlyLayer;

    // The kit writes, so it runs with the switch off: every operation is forwarded. The
    // refusals themselves are tested in wrappers.rs.
    stowage_core::conformance_tests!(|| async {
        let layer = ReadOnlyLayer::new();
        layer.set_enabled(false);
        MemoryStore::new().layer(layer)
    });
}

mod logging {
    use stowage_core::KeyValueStoreExt;
    use stowage_memory::MemoryStore;
    use stowage_wrappers::logging::LoggingLayer;

    stowage_core::conformance_tests!(|| async {
        MemoryStore::new().layer(LoggingLayer::new().log_values(true))
    });
}

mod fallback {
    use stowage_core::KeyValueStoreExt;
    use stowage_memory::MemoryStore;
    use stowage_wrappers::fallback::FallbackLayer;

    stowage_core::conformance_tests!(|| async {
        MemoryStore::new().layer(FallbackLayer::new(MemoryStore::new()))
    });
}

mod passthrough {
    use stowage_core::KeyValueStoreExt;
    use stowage_memory::MemoryStore;
    use stowage_wrappers::passthrough::PassthroughLayer;

    stowage_core::conformance_tests!(|| async {
        MemoryStore::new().layer(PassthroughLayer::new(MemoryStore::new()).unwrap())
    });
}

mod size_limit {
    use stowage_core::KeyValueStoreExt;
    use stowage_memory::MemoryStore;
    use stowage_wrappers::size_limit::{Action, SizeLimitLayer};

    stowage_core::conformance_tests!(|| async {
        MemoryStore::new().layer(SizeLimitLayer::new().max(512 * 1024, Action::Reject))
    });
}

mod routing {
    use stowage_core::KeyValueStoreExt;
    use stowage_memory::MemoryStore;
    use stowage_wrappers::routing::RoutingLayer;

    // Half of the kit's collections ("values-…", "batch…", "enum…", "destroy-a…") go elsewhere.
    stowage_core::conformance_tests!(|| async {
        let other = MemoryStore::new();
        MemoryStore::new().layer(
            RoutingLayer::new()
                .route_prefix("values", other.clone())
                .route_prefix("batch", other.clone())
                .route_prefix("enum", MemoryStore::new())
                .route_prefix("destroy-a", other),
        )
    });
}

mod default_value {
    use stowage_core::KeyValueStoreExt;
    use stowage_memory::MemoryStore;
    use stowage_wrappers::default_value::DefaultValueLayer;

    // Defaults for a collection the kit never uses: everything else is forwarded.
    stowage_core::conformance_tests!(|| async {
        MemoryStore::new().layer(DefaultValueLayer::new().for_collection(
            "settings",
            stowage_core::Value::from_json(r#"{"d":1}"#).unwrap(),
        ))
    });
}
