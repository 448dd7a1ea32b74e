//! Crash consistency against RocksDB files: the shared crash test of the kit
//! ([`stowage_core::crash_tests!`]): a child process writes and acknowledges entries, the test
//! kills it with SIGKILL at random moments, reopens the store and checks that every acknowledged
//! write is there and that nothing reads back corrupt.
//!
//! `STOWAGE_CRASH_CYCLES` sets the number of kill cycles (default 50).

stowage_core::crash_tests!("rocksdb", |dir: &std::path::Path| {
    stowage_rocksdb::RocksDbStore::builder(dir.join("store.rocksdb"))
        .open()
        .expect("reopen after a crash")
});
