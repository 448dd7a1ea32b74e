//! [`ReadPath`]: where an embedded store runs its engine's point reads.

/// Where an embedded (in-process) store — redb, sled, RocksDB — runs the engine calls behind
/// `get`, `get_many`, `ttl` and `ttl_many`.
///
/// An embedded engine answers a read from its cache in about a microsecond, but a read whose page
/// is not cached waits on the disk. By default ([`ReadPath::Offload`]) that wait never stalls the
/// runtime's other tasks: on a multi-thread runtime the read blocks in place with
/// [`tokio::task::block_in_place`], which first hands the worker's other tasks to another
/// thread, and on a current-thread runtime it goes to Tokio's blocking pool. A cached read in
/// place costs about what a direct call costs (0.95× of raw redb's reads, against 0.08× through
/// the blocking pool, in `BENCHMARKS.md`). [`ReadPath::Inline`] is the direct call itself.
///
/// Writes, deletes, scans (`keys`, `collections`), `destroy` and `cull` always run on the blocking
/// pool, whatever this setting: they may fsync or walk the whole store.
///
/// ```
/// use stowage_core::ReadPath;
///
/// assert_eq!(ReadPath::default(), ReadPath::Offload);
/// assert_eq!("inline".parse::<ReadPath>().unwrap(), ReadPath::Inline);
/// assert!("sometimes".parse::<ReadPath>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReadPath {
    /// Keep a read that waits on the disk from stalling the runtime's other tasks. An engine that
    /// can tell that a read needs no disk I/O answers it on the calling task (RocksDB, from its
    /// memtables and block cache); any other read blocks in place after Tokio hands the worker's
    /// other tasks to another thread (multi-thread runtime), or runs on the blocking pool
    /// (current-thread runtime). Futures that share a task with the read (`join!`, `select!`)
    /// wait while it blocks. The default.
    #[default]
    Offload,
    /// Run reads on the calling task, as a direct call to the engine would, without handing the
    /// worker's other tasks away first: a read that misses the engine's cache and the OS page
    /// cache blocks every task of that runtime worker until the disk answers. Choose it when the
    /// data fits in memory, or on a current-thread runtime when a blocking-pool hop costs more
    /// than an occasional stall.
    Inline,
}

impl std::str::FromStr for ReadPath {
    type Err = crate::Error;

    /// `"offload"` or `"inline"`; anything else is an [`ErrorKind::Config`](crate::ErrorKind::Config)
    /// error.
    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "offload" => Ok(ReadPath::Offload),
            "inline" => Ok(ReadPath::Inline),
            other => Err(crate::Error::new(
                crate::ErrorKind::Config,
                format!("unknown read path `{other}`; expected `offload` or `inline`"),
            )),
        }
    }
}
