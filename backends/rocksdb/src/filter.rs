//! The compaction filter that drops expired entries while RocksDB compacts.
//!
//! RocksDB turns a removed entry into a deletion marker, so an older version of the same key in a
//! lower level can never resurface. Records that do not decode are kept: they stay visible as
//! [`Corrupted`](stowage_core::ErrorKind::Corrupted) errors rather than vanishing silently.

use std::time::SystemTime;

use rocksdb::compaction_filter::Decision;
use stowage_core::codec::binary;

/// The filter's name, recorded by RocksDB in its options file.
pub(crate) const NAME: &str = "stowage-expiry";

pub(crate) fn drop_expired(_level: u32, _key: &[u8], value: &[u8]) -> Decision {
    match binary::decode_header(value) {
        Ok(h) if h.is_expired_at(SystemTime::now()) => Decision::Remove,
        _ => Decision::Keep,
    }
}
