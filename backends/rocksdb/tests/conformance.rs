//! The whole conformance kit against RocksDB directories in temporary directories.

use stowage_rocksdb::{Durability, ReadPath, RocksDbStore};

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
    let store = RocksDbStore::open(dir.path().join("store.rocksdb")).expect("open");
    keep_until_runtime_ends(dir);
    store
});

mod wal_small_memtable {
    use super::*;

    // WAL without fsync, a tiny memtable (frequent flushes and compactions), no compression, reads on the calling task: behaviour is the same.
    stowage_core::conformance_tests!(|| async {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = RocksDbStore::builder(dir.path().join("nested/dir/store.rocksdb"))
            .durability(Durability::Wal)
            .read_path(ReadPath::Inline)
            .write_buffer_size(256 * 1024)
            .compression(false)
            .max_value_len(1024 * 1024)
            .open()
            .expect("open");
        keep_until_runtime_ends(dir);
        store
    });
}
