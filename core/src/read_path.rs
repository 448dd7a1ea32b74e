//! [`ReadPath`]: where an embedded store runs its engine's point reads.

/// Where an embedded (in-process) store — redb, sled, RocksDB — runs the engine calls behind
/// `get`, `get_many`, `ttl` and `ttl_many`.
///
/// An embedded engine answers a read from its cache in about a microsecond, but a read whose page
/// is not cached waits on the disk. Stowage never lets that wait stall an async runtime worker by
/// default, so reads go to Tokio's blocking pool ([`ReadPath::Offload`]). That thread hop costs
/// far more than the cached read itself (tens of microseconds on a busy two-core machine; see
/// `BENCHMARKS.md`). [`ReadPath::Inline`] skips the hop for read-mostly stores whose working set
/// stays cached.
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
    /// Run reads on Tokio's blocking pool: a read that waits on the disk never stalls a runtime
    /// worker. An engine that can tell that a read needs no disk I/O answers it on the calling
    /// task (RocksDB, from its memtables and block cache); redb and sled cannot tell, so all
    /// their reads move. The default.
    #[default]
    Offload,
    /// Run reads on the calling task, as a direct call to the engine would: close to the raw
    /// engine's speed (0.75–0.98× its cached-read throughput in `BENCHMARKS.md`; the rest is
    /// the envelope's checksum and the value's copy), but a read that misses the engine's cache and
    /// the OS page cache blocks the runtime worker until the disk answers. Choose it when the
    /// data fits in memory, or when reads are few and latency matters more than the runtime's
    /// other tasks.
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
