//! The whole conformance kit against sled directories in temporary directories.

use stowage_sled::{Durability, ReadPath, SledStore};

/// Keep `dir` until the case's runtime shuts down: the kit drops the store at the end of the case,
/// then the runtime, which drops this parked task and removes the directory.
fn keep_until_runtime_ends(dir: tempfile::TempDir) {
    tokio::spawn(async move {
        std::future::pending::<()>().await;
        drop(dir);
    });
}

stowage_core::conformance_tests!(|| async {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SledStore::open(dir.path().join("store.sled")).expect("open");
    keep_until_runtime_ends(dir);
    store
});

mod periodic_small_cache {
    use super::*;

    // Periodic flushes, a tiny page cache and a fast sweeper, reads on the calling task: behaviour is the same.
    stowage_core::conformance_tests!(|| async {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = SledStore::builder(dir.path().join("nested/dir/store.sled"))
            .durability(Durability::Periodic(std::time::Duration::from_millis(100)))
            .read_path(ReadPath::Inline)
            .cache_capacity(1024 * 1024)
            .sweep_interval(std::time::Duration::from_millis(50))
            .max_value_len(1024 * 1024)
            .open()
            .expect("open");
        keep_until_runtime_ends(dir);
        store
    });
}
