//! [`Engine`]: the blocking calls an embedded engine provides, and the [`Record`]s it writes.

use std::time::SystemTime;

#[cfg(doc)]
use crate::ErrorKind;
#[cfg(doc)]
use crate::ReadPath;
#[cfg(doc)]
use crate::codec::binary;
use crate::{Entry, Result};

/// A physical key and its encoded envelope, as written to the engine.
pub type Record = (Vec<u8>, Vec<u8>);

/// The blocking calls an embedded engine provides. Every call may wait on the disk.
///
/// Keys are physical keys: `collection ‖ 0xFF ‖ key` ([`binary::physical_key`]), so one
/// collection is one contiguous key range, `[collection_start, collection_end)`. Values are
/// binary envelopes; the engine decodes them with [`binary::decode_live`] (reads) or
/// [`binary::decode_header`] (expiry checks) and never returns an entry expired at `now`.
pub trait Engine: Send + Sync + 'static {
    /// Whether the engine can answer some reads from memory alone: when `true`, a read with
    /// [`ReadPath::Offload`] asks [`Engine::get_cached`] (or [`Engine::get_many_cached`]) first.
    /// Engines that implement those two set it; the default, `false`, skips asking.
    const ANSWERS_FROM_MEMORY: bool = false;
    /// The live entries of `keys`, in order, from one consistent view. A damaged envelope is a
    /// [`ErrorKind::Corrupted`] error.
    fn get_many(&self, keys: &[Vec<u8>], now: SystemTime) -> Result<Vec<Option<Entry>>>;
    /// The live entries of `keys` when the engine can answer from memory alone, without waiting
    /// on the disk (RocksDB: its memtables and block cache); `None` when any key would need a
    /// disk read, or when the engine cannot tell. With [`ReadPath::Offload`] a read tries this on
    /// the calling task first and blocks in place (or moves to the blocking pool) only on `None`.
    /// The default is `None`.
    fn get_many_cached(
        &self,
        keys: &[Vec<u8>],
        now: SystemTime,
    ) -> Option<Result<Vec<Option<Entry>>>> {
        let _ = (keys, now);
        None
    }
    /// The live entry of one key: [`Engine::get_many`] without its vectors. The default calls
    /// `get_many`; engines override it when one lookup is cheaper on its own.
    fn get(&self, key: &[u8], now: SystemTime) -> Result<Option<Entry>> {
        let mut found = self.get_many(&[key.to_vec()], now)?;
        Ok(found.pop().flatten())
    }
    /// The live entry of one key when the engine can answer from memory alone; see
    /// [`Engine::get_many_cached`], which the default calls.
    fn get_cached(&self, key: &[u8], now: SystemTime) -> Option<Result<Option<Entry>>> {
        self.get_many_cached(&[key.to_vec()], now)
            .map(|found| found.map(|mut v| v.pop().flatten()))
    }
    /// Write every record atomically, with the engine's configured durability.
    fn put_many(&self, records: Vec<Record>) -> Result<()>;
    /// Write `record` at `key` only when no live entry is there (absent, or expired at `now`; a
    /// damaged record counts as present), atomically with respect to every other write of the
    /// engine; whether it wrote. Durability as for [`Engine::put_many`].
    fn put_if_absent(&self, key: Vec<u8>, record: Vec<u8>, now: SystemTime) -> Result<bool>;
    /// Remove `keys`; how many of them held live (unexpired) entries.
    fn delete_many(&self, keys: &[Vec<u8>], now: SystemTime) -> Result<usize>;
    /// The user keys of live entries whose physical keys lie in `[start, end)`.
    fn keys(&self, start: &[u8], end: &[u8], now: SystemTime) -> Result<Vec<String>>;
    /// Every collection holding at least one live entry.
    fn collections(&self, now: SystemTime) -> Result<Vec<String>>;
    /// Remove every entry in `[start, end)`; whether there were any.
    fn remove_range(&self, start: &[u8], end: &[u8]) -> Result<bool>;
    /// Remove everything; whether there was anything.
    fn clear(&self) -> Result<bool>;
    /// Remove every entry expired at `now`; how many.
    fn cull(&self, now: SystemTime) -> Result<usize>;
}
