//! The whole conformance kit against the memory store.

use stowage_memory::MemoryStore;

stowage_core::conformance_tests!(|| async { MemoryStore::new() });

mod small_shards {
    use stowage_memory::MemoryStore;

    // One shard and tight limits: every case still passes when evictions are not needed.
    stowage_core::conformance_tests!(|| async {
        MemoryStore::builder()
            .shards(1)
            .max_entries(5_000)
            .max_bytes(32 * 1024 * 1024)
            .max_value_len(2 * 1024 * 1024)
            .build()
            .expect("valid config")
    });
}
