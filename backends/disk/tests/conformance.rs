//! The whole conformance kit against redb files in temporary directories.

use stowage_disk::{DiskStore, Durability, ReadPath};

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
    let store = DiskStore::open(dir.path().join("store.redb")).expect("open");
    keep_until_runtime_ends(dir);
    store
});

mod non_durable_small_cache {
    use super::*;

    // Durability::None, a tiny page cache and a fast sweeper, reads on the calling task: behaviour is the same.
    stowage_core::conformance_tests!(|| async {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = DiskStore::builder(dir.path().join("nested/dir/store.redb"))
            .durability(Durability::None)
            .read_path(ReadPath::Inline)
            .cache_size(1024 * 1024)
            .sweep_interval(std::time::Duration::from_millis(50))
            .max_value_len(1024 * 1024)
            .open()
            .expect("open");
        keep_until_runtime_ends(dir);
        store
    });
}
