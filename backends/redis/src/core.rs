//! Engine calls of [`RedisStore`]: reading entries, building `SET` commands, deleting and
//! scanning keys.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use redis::Cmd;
use stowage_core::codec::json;
use stowage_core::{Entry, Result, Value, rules};

use crate::error::{ctx, from_redis};
use crate::layout::Envelope;
use crate::store::RedisStore;

/// Keys deleted per `UNLINK` by `destroy` and `destroy_collection`.
pub(crate) const DELETE_CHUNK: usize = 1000;

/// Redis expiry in milliseconds: the TTL rounded up, at least 1.
pub(crate) fn px(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_nanos().div_ceil(1_000_000))
        .unwrap_or(u64::MAX)
        .max(1)
}

impl RedisStore {
    /// The live entry in `bytes`, if any.
    pub(crate) fn decode(bytes: Option<Vec<u8>>, now: SystemTime) -> Result<Option<Entry>> {
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        let entry = json::decode_entry_owned(bytes)?;
        Ok((!entry.is_expired_at(now)).then_some(entry))
    }

    /// One key's live entry: a `GET`.
    pub(crate) async fn read_one(
        &self,
        op: &'static str,
        collection: &str,
        key: &str,
    ) -> Result<Option<Entry>> {
        let wrap = ctx(op, collection);
        if let Err(e) = self.inner.caps.check(collection, key) {
            return Err(wrap(e));
        }
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.inner.layout.key_arg(collection, key));
        let found: Option<Vec<u8>> = match self.inner.conn.query_idempotent(cmd).await {
            Ok(found) => found,
            Err(e) => return Err(wrap(from_redis(e))),
        };
        Self::decode(found, SystemTime::now()).map_err(wrap)
    }

    /// The live entries of `keys`, in order: one `MGET`.
    pub(crate) async fn read(
        &self,
        op: &'static str,
        collection: &str,
        keys: &[&str],
    ) -> Result<Vec<Option<Entry>>> {
        let wrap = ctx(op, collection);
        if let Err(e) = self.inner.caps.check_many(collection, keys.iter().copied()) {
            return Err(wrap(e));
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut cmd = redis::cmd("MGET");
        for key in keys {
            cmd.arg(self.inner.layout.key_arg(collection, key));
        }
        let raw: Vec<Option<Vec<u8>>> = match self.inner.conn.query(cmd).await {
            Ok(raw) => raw,
            Err(e) => return Err(wrap(from_redis(e))),
        };
        let now = SystemTime::now();
        raw.into_iter()
            .map(|bytes| Self::decode(bytes, now))
            .collect::<Result<_>>()
            .map_err(wrap)
    }

    pub(crate) fn set_cmd(
        &self,
        collection: &str,
        key: &str,
        value: &Value,
        now: SystemTime,
        ttl: Option<Duration>,
    ) -> Cmd {
        let layout = &self.inner.layout;
        let doc = json::encode_pieces(
            &layout.collection(collection),
            key,
            value,
            Some(now),
            rules::expires_at(now, ttl),
        );
        let mut cmd = redis::cmd("SET");
        cmd.arg(layout.key_arg(collection, key)).arg(Envelope(doc));
        if let Some(ttl) = ttl {
            cmd.arg("PX").arg(px(ttl));
        }
        cmd
    }

    pub(crate) async fn unlink_all(
        &self,
        op: &'static str,
        pattern: &str,
        collection: &str,
    ) -> Result<u64> {
        let wrap = ctx(op, collection);
        let keys = self
            .inner
            .conn
            .scan_all(pattern, self.inner.scan_count)
            .await
            .map_err(|e| wrap(from_redis(e)))?;
        let keys: BTreeSet<String> = keys.into_iter().collect();
        let keys: Vec<String> = keys.into_iter().collect();
        let mut removed = 0u64;
        for chunk in keys.chunks(DELETE_CHUNK) {
            let mut cmd = redis::cmd("UNLINK");
            cmd.arg(chunk);
            let n: u64 = self
                .inner
                .conn
                .query(cmd)
                .await
                .map_err(|e| ctx(op, collection)(from_redis(e)))?;
            removed += n;
        }
        Ok(removed)
    }
}

impl RedisStore {
    /// `delete` and `delete_many`, with errors naming the operation called.
    pub(crate) async fn delete_keys(
        &self,
        op: &'static str,
        collection: &str,
        keys: &[&str],
    ) -> Result<usize> {
        let wrap = ctx(op, collection);
        if let Err(e) = self.inner.caps.check_many(collection, keys.iter().copied()) {
            return Err(wrap(e));
        }
        if keys.is_empty() {
            return Ok(0);
        }
        let mut cmd = redis::cmd("DEL");
        for key in keys {
            cmd.arg(self.inner.layout.key_arg(collection, key));
        }
        let n: u64 = self
            .inner
            .conn
            .query(cmd)
            .await
            .map_err(|e| wrap(from_redis(e)))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}
