//! [`MongoStore`]: the [`KeyValueStore`] implementation.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures::{StreamExt, TryStreamExt};
use mongodb::bson::{DateTime, Document, doc};
use mongodb::{Client, Database};
use stowage_core::checks::{context, last_wins, unique_keys};
use stowage_core::{Capabilities, Entry, Error, KeyValueStore, Result, Value, async_trait, rules};

use crate::config::MongoConfig;
use crate::document::{self, MAX_DOCUMENT_LEN};
use crate::error::BACKEND;

/// Largest value (JSON text) a put accepts before it is even converted: the document limit less
/// room for the names and metadata. The converted document is checked exactly too.
pub(crate) const MAX_VALUE_LEN: usize = MAX_DOCUMENT_LEN - 16 * 1024;
/// Most upserts sent in one `update` command, and most bytes.
pub(crate) const WRITE_BATCH: usize = 1000;
pub(crate) const WRITE_BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Attempts at an upsert that loses a race on the unique `key` index.
pub(crate) const UPSERT_ATTEMPTS: usize = 5;
/// Collections checked at once by `collections()` and `destroy()`.
pub(crate) const PARALLEL: usize = 8;

/// A store on MongoDB, in the format of `py-key-value-aio`'s `MongoDBStore`: one Mongo collection
/// per store collection, in one database.
///
/// - **Format**: documents `{key, version: 1, collection, created_at, expires_at, value: {object}}`
///   with BSON dates and the value as a native document; see the [crate docs](crate) for details.
///   Python and Rust servers can share a database.
/// - **Indexes**: on the first write to a collection, a unique index `key_1` on `key` and a TTL
///   index `expires_at_1` (`expireAfterSeconds: 0`). A collection created by Python keeps its
///   own (non-unique) `key_1`.
/// - **Expiry**: approximate server-side (MongoDB's TTL monitor runs about once a minute), and
///   every read filters expired documents out.
/// - **Every optional capability**: `keys`, `collections`, `destroy_collection`, `destroy` and
///   `cull`. The database may be the application's own: `collections`, `cull` and `destroy` see
///   only the collections that carry the `key_1` and `expires_at_1` indexes this store and
///   py-key-value create on every collection they write, and `destroy` drops only those.
/// - **Limits**: a document is at most 16 MiB ([`ValueTooLarge`](stowage_core::ErrorKind::ValueTooLarge) past
///   it); `database.collection` is at most 255 bytes; collections may not contain `$` or NUL, nor
///   start with `system.`.
/// - **Durability**: a put returns once the server acknowledges it under the connection's write
///   concern (the server default unless the URL sets `w=`/`journal=`).
///
/// Cloning a `MongoStore` gives another handle on the same client and connection pool.
#[derive(Clone)]
pub struct MongoStore {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) client: Client,
    pub(crate) db: Database,
    pub(crate) timeout: Duration,
    pub(crate) caps: Capabilities,
    pub(crate) indexed: Mutex<HashSet<String>>,
}

impl fmt::Debug for MongoStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoStore")
            .field("database", &self.inner.db.name())
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

pub(crate) fn ctx(op: &'static str, collection: &str) -> impl FnOnce(Error) -> Error {
    context(BACKEND, op, collection)
}

impl MongoStore {
    /// A builder for the URL, database and timeout.
    pub fn builder() -> MongoConfig {
        MongoConfig::default()
    }

    /// Connect to `url` with the default database and timeout.
    pub async fn connect(url: impl Into<String>) -> Result<Self> {
        Self::builder().url(url).build().await
    }

    /// The driver client, for anything this store does not cover.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The database holding this store's collections.
    pub fn database(&self) -> &Database {
        &self.inner.db
    }
}

#[async_trait]
impl KeyValueStore for MongoStore {
    fn capabilities(&self) -> Capabilities {
        self.inner.caps
    }

    async fn get(&self, collection: &str, key: &str) -> Result<Option<Value>> {
        self.check_keys(collection, &[key])
            .map_err(ctx("get", collection))?;
        let found = self
            .find_entries(collection, &[key])
            .await
            .map_err(ctx("get", collection))?;
        Ok(found.into_iter().next().flatten().map(|e| e.value))
    }

    async fn get_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Value>>> {
        self.check_keys(collection, keys)
            .map_err(ctx("get_many", collection))?;
        let found = self
            .find_entries(collection, keys)
            .await
            .map_err(ctx("get_many", collection))?;
        Ok(found.into_iter().map(|e| e.map(|e| e.value)).collect())
    }

    async fn ttl(&self, collection: &str, key: &str) -> Result<Option<Entry>> {
        self.check_keys(collection, &[key])
            .map_err(ctx("ttl", collection))?;
        let found = self
            .find_entries(collection, &[key])
            .await
            .map_err(ctx("ttl", collection))?;
        Ok(found.into_iter().next().flatten())
    }

    async fn ttl_many(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        self.check_keys(collection, keys)
            .map_err(ctx("ttl_many", collection))?;
        self.find_entries(collection, keys)
            .await
            .map_err(ctx("ttl_many", collection))
    }

    async fn put(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let now = SystemTime::now();
        let doc = (|| {
            self.check_collection(collection)?;
            self.inner.caps.check_put(collection, key, &value, ttl)?;
            self.document(collection, key, &value, now, rules::expires_at(now, ttl))
        })()
        .map_err(ctx("put", collection))?;
        self.within(async {
            self.ensure_indexes(collection).await?;
            self.upsert(collection, key, &doc).await
        })
        .await
        .map_err(ctx("put", collection))
    }

    async fn put_if_absent(
        &self,
        collection: &str,
        key: &str,
        value: Value,
        ttl: Option<Duration>,
    ) -> Result<bool> {
        let now = SystemTime::now();
        let doc = (|| {
            self.check_collection(collection)?;
            self.inner.caps.check_put(collection, key, &value, ttl)?;
            self.document(collection, key, &value, now, rules::expires_at(now, ttl))
        })()
        .map_err(ctx("put_if_absent", collection))?;
        self.within(async {
            self.ensure_indexes(collection).await?;
            self.insert_if_absent(collection, key, &doc, now).await
        })
        .await
        .map_err(ctx("put_if_absent", collection))
    }

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let now = SystemTime::now();
        let docs = (|| {
            self.check_collection(collection)?;
            self.inner.caps.check_put_many(collection, entries, ttl)?;
            let expires_at = rules::expires_at(now, ttl);
            last_wins(entries)
                .into_iter()
                .map(|(k, v)| Ok((*k, self.document(collection, k, v, now, expires_at)?)))
                .collect::<Result<Vec<_>>>()
        })()
        .map_err(ctx("put_many", collection))?;
        if docs.is_empty() {
            return Ok(());
        }
        self.within(async {
            self.ensure_indexes(collection).await?;
            self.upsert_many(collection, docs).await
        })
        .await
        .map_err(ctx("put_many", collection))
    }

    async fn delete(&self, collection: &str, key: &str) -> Result<bool> {
        self.check_keys(collection, &[key])
            .map_err(ctx("delete", collection))?;
        let now = SystemTime::now();
        let removed = self
            .call(
                self.docs(collection)
                    .find_one_and_delete(doc! { "key": key })
                    .into_future(),
            )
            .await
            .map_err(ctx("delete", collection))?;
        match removed {
            None => Ok(false),
            // An expired document still stored was not live: removing it does not count.
            Some(doc) => {
                let expires = document::expires_at(&doc).map_err(ctx("delete", collection))?;
                Ok(expires.is_none_or(|at| at > now))
            }
        }
    }

    async fn delete_many(&self, collection: &str, keys: &[&str]) -> Result<usize> {
        self.check_keys(collection, keys)
            .map_err(ctx("delete_many", collection))?;
        if keys.is_empty() {
            return Ok(0);
        }
        let wanted = unique_keys(keys);
        let now = SystemTime::now();
        let coll = self.docs(collection);
        self.within(async {
            // Live documents first, to count them; then whatever expired ones remain.
            let mut live = document::live_filter(now);
            live.insert("key", doc! { "$in": &wanted });
            let removed = self.call(coll.delete_many(live).into_future()).await?;
            self.call(
                coll.delete_many(doc! { "key": { "$in": &wanted } })
                    .into_future(),
            )
            .await?;
            Ok(usize::try_from(removed.deleted_count).unwrap_or(usize::MAX))
        })
        .await
        .map_err(ctx("delete_many", collection))
    }

    async fn keys(&self, collection: &str) -> Result<Vec<String>> {
        self.check_collection(collection)
            .map_err(ctx("keys", collection))?;
        let now = SystemTime::now();
        self.within(async {
            let cursor = self
                .call(
                    self.docs(collection)
                        .find(document::live_filter(now))
                        .projection(doc! { "_id": 0, "key": 1 })
                        .into_future(),
                )
                .await?;
            let docs: Vec<Document> = self.call(cursor.try_collect()).await?;
            Ok(docs
                .into_iter()
                .filter_map(|d| d.get_str("key").ok().map(str::to_owned))
                .collect())
        })
        .await
        .map_err(ctx("keys", collection))
    }

    async fn collections(&self) -> Result<Vec<String>> {
        let now = SystemTime::now();
        self.within(async {
            let names = self.collection_names().await?;
            let checked: Vec<Result<Option<String>>> = futures::stream::iter(names)
                .map(|name| async move { Ok(self.has_live(&name, now).await?.then_some(name)) })
                .buffer_unordered(PARALLEL)
                .collect()
                .await;
            checked.into_iter().filter_map(Result::transpose).collect()
        })
        .await
        .map_err(ctx("collections", ""))
    }

    async fn destroy_collection(&self, collection: &str) -> Result<bool> {
        self.check_collection(collection)
            .map_err(ctx("destroy_collection", collection))?;
        let now = SystemTime::now();
        let held = self
            .within(async {
                let held = self.has_live(collection, now).await?;
                self.call(self.docs(collection).drop().into_future())
                    .await?;
                Ok(held)
            })
            .await
            .map_err(ctx("destroy_collection", collection))?;
        self.forget_indexes(Some(collection));
        Ok(held)
    }

    async fn destroy(&self) -> Result<bool> {
        let result = self
            .within(async {
                let names = self.collection_names().await?;
                let mut held = false;
                for name in names {
                    let coll = self.docs(&name);
                    held |= self
                        .call(coll.find_one(doc! {}).into_future())
                        .await?
                        .is_some();
                    self.call(coll.drop().into_future()).await?;
                }
                Ok(held)
            })
            .await
            .map_err(ctx("destroy", ""));
        self.forget_indexes(None);
        result
    }

    async fn cull(&self) -> Result<usize> {
        let now = DateTime::from_system_time(SystemTime::now());
        self.within(async {
            let mut removed = 0;
            for name in self.collection_names().await? {
                let result = self
                    .call(
                        self.docs(&name)
                            .delete_many(doc! { "expires_at": { "$lte": now } })
                            .into_future(),
                    )
                    .await?;
                removed += usize::try_from(result.deleted_count).unwrap_or(usize::MAX);
            }
            Ok(removed)
        })
        .await
        .map_err(ctx("cull", ""))
    }
}
