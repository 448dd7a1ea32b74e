//! Crash consistency against redb files: the shared crash test of the kit
//! ([`stowage_core::crash_tests!`]): a child process writes and acknowledges entries, the test
//! kills it with SIGKILL at random moments, reopens the store and checks that every acknowledged
//! write is there and that nothing reads back corrupt.
//!
//! `STOWAGE_CRASH_CYCLES` sets the number of kill cycles (default 50).

stowage_core::crash_tests!("disk", |dir: &std::path::Path| {
    stowage_disk::DiskStore::builder(dir.join("store.redb"))
        .no_sweeper()
        .open()
        .expect("reopen after a crash")
});
