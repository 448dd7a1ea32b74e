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
