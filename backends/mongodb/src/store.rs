//! [`MongoStore`]: the [`KeyValueStore`] implementation.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures::{StreamExt, TryStreamExt};
use mongodb::bson::{Bson, DateTime, Document, RawArrayBuf, RawDocumentBuf, cstr, doc};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database};
use stowage_core::{
    Capabilities, Entry, Error, ErrorKind, Expiry, KeyValueStore, Result, Value, async_trait, rules,
};

use crate::config::{
    DEFAULT_DATABASE, MAX_NAMESPACE_LEN, MongoConfig, check_database, config_error,
};
use crate::core::{self, MAX_DOCUMENT_LEN};
use crate::error::{self, BACKEND, DUPLICATE_KEY, INDEX_CONFLICT_CODES};

/// Largest value (JSON text) a put accepts before it is even converted: the document limit less
/// room for the names and metadata. The converted document is checked exactly too.
const MAX_VALUE_LEN: usize = MAX_DOCUMENT_LEN - 16 * 1024;
/// Most upserts sent in one `update` command, and most bytes.
const WRITE_BATCH: usize = 1000;
const WRITE_BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Attempts at an upsert that loses a race on the unique `key` index.
const UPSERT_ATTEMPTS: usize = 5;
/// Collections checked at once by `collections()` and `destroy()`.
const PARALLEL: usize = 8;

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
/// - **Limits**: a document is at most 16 MiB ([`ValueTooLarge`](ErrorKind::ValueTooLarge) past
///   it); `database.collection` is at most 255 bytes; collections may not contain `$` or NUL, nor
///   start with `system.`.
/// - **Durability**: a put returns once the server acknowledges it under the connection's write
///   concern (the server default unless the URL sets `w=`/`journal=`).
///
/// Cloning a `MongoStore` gives another handle on the same client and connection pool.
#[derive(Clone)]
pub struct MongoStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    db: Database,
    timeout: Duration,
    caps: Capabilities,
    indexed: Mutex<HashSet<String>>,
}

impl fmt::Debug for MongoStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoStore")
            .field("database", &self.inner.db.name())
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

fn ctx(op: &'static str, collection: &str) -> impl FnOnce(Error) -> Error {
    move |e| {
        e.with_backend(BACKEND)
            .with_operation(op)
            .with_collection(collection)
    }
}

fn ctx_op(op: &'static str) -> impl FnOnce(Error) -> Error {
    move |e| e.with_backend(BACKEND).with_operation(op)
}

/// Keep the last entry of each key, in the order of their last appearance.
fn last_wins<'a, T>(entries: &'a [(&'a str, T)]) -> Vec<&'a (&'a str, T)> {
    let mut seen = HashSet::with_capacity(entries.len());
    let mut out: Vec<_> = entries
        .iter()
        .rev()
        .filter(|(k, _)| seen.insert(*k))
        .collect();
    out.reverse();
    out
}

fn unique_keys<'a>(keys: &[&'a str]) -> Vec<&'a str> {
    let mut seen = HashSet::with_capacity(keys.len());
    keys.iter().copied().filter(|k| seen.insert(*k)).collect()
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

    pub(crate) async fn from_config(config: MongoConfig) -> Result<Self> {
        if config.timeout.is_zero() {
            return Err(config_error(
                "MongoDB store: the timeout must be greater than zero",
            ));
        }
        let (client, url_database) = match config.client {
            Some(client) => (client, None),
            None => {
                let mut options = ClientOptions::parse(&config.url).await.map_err(|e| {
                    config_error(format!(
                        "MongoDB store: bad connection string `{}`: {e}",
                        crate::config::redact(&config.url)
                    ))
                })?;
                options
                    .server_selection_timeout
                    .get_or_insert(config.timeout);
                options
                    .connect_timeout
                    .get_or_insert(config.timeout.min(Duration::from_secs(10)));
                options.app_name.get_or_insert_with(|| "stowage".to_owned());
                let database = options.default_database.clone();
                let client = Client::with_options(options).map_err(|e| {
                    config_error(format!("MongoDB store: cannot create the client: {e}"))
                })?;
                (client, database)
            }
        };
        let database = config
            .database
            .or(url_database)
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        check_database(&database)?;
        let caps = Capabilities::all(Expiry::Approximate)
            .with_max_collection_len(Some(MAX_NAMESPACE_LEN - 1 - database.len()))
            .with_max_value_len(Some(MAX_VALUE_LEN));
        Ok(MongoStore {
            inner: Arc::new(Inner {
                db: client.database(&database),
                client,
                timeout: config.timeout,
                caps,
                indexed: Mutex::new(HashSet::new()),
            }),
        })
    }

    /// The driver client, for anything this store does not cover.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The database holding this store's collections.
    pub fn database(&self) -> &Database {
        &self.inner.db
    }

    fn docs(&self, collection: &str) -> Collection<Document> {
        self.inner.db.collection(collection)
    }

    fn raw_docs(&self, collection: &str) -> Collection<RawDocumentBuf> {
        self.inner.db.collection(collection)
    }

    /// Run one driver call under the store's timeout.
    async fn call<T>(&self, fut: impl Future<Output = mongodb::error::Result<T>>) -> Result<T> {
        match tokio::time::timeout(self.inner.timeout, fut).await {
            Ok(result) => result.map_err(error::convert),
            Err(_) => Err(error::timed_out(self.inner.timeout)),
        }
    }

    /// Run a sequence of driver calls under one deadline.
    async fn within<T>(&self, fut: impl Future<Output = Result<T>>) -> Result<T> {
        tokio::time::timeout(self.inner.timeout, fut)
            .await
            .unwrap_or_else(|_| Err(error::timed_out(self.inner.timeout)))
    }

    fn check_collection(&self, collection: &str) -> Result<()> {
        self.inner.caps.check_collection(collection)?;
        let bad = if collection.contains('$') {
            Some("`$`")
        } else if collection.contains('\0') {
            Some("a NUL character")
        } else if collection.starts_with("system.") {
            Some("the `system.` prefix")
        } else {
            None
        };
        match bad {
            Some(what) => Err(Error::new(
                ErrorKind::InvalidCollection,
                format!("MongoDB collection names may not contain {what}"),
            )),
            None => Ok(()),
        }
    }

    fn check_keys(&self, collection: &str, keys: &[&str]) -> Result<()> {
        self.check_collection(collection)?;
        keys.iter().try_for_each(|k| self.inner.caps.check_key(k))
    }

    /// Validate and convert one entry into its stored document.
    fn document(
        &self,
        collection: &str,
        key: &str,
        value: &Value,
        now: SystemTime,
        expires_at: Option<SystemTime>,
    ) -> Result<RawDocumentBuf> {
        self.inner.caps.check_key(key)?;
        self.inner.caps.check_value(value.len(), None)?;
        let object = core::value_to_bson(value)?;
        core::entry_document(collection, key, object, now, expires_at)
    }

    /// Create the collection's indexes once per store handle. Indexes that already exist with
    /// other options (a collection created by `py-key-value-aio`) are kept as they are.
    async fn ensure_indexes(&self, collection: &str) -> Result<()> {
        if self.indexed().contains(collection) {
            return Ok(());
        }
        let coll = self.docs(collection);
        for index in core::collection_indexes() {
            match self.call(coll.create_index(index).into_future()).await {
                Ok(_) => {}
                Err(e) if is_index_conflict(&e) => {}
                Err(e) => return Err(e),
            }
        }
        self.indexed().insert(collection.to_owned());
        Ok(())
    }

    /// The collections whose indexes this handle has created.
    fn indexed(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        // A set of names holds no invariant that a panic elsewhere could leave half-updated.
        self.inner
            .indexed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn forget_indexes(&self, collection: Option<&str>) {
        let mut set = self.indexed();
        match collection {
            Some(c) => {
                set.remove(c);
            }
            None => set.clear(),
        }
    }

    /// Upsert one document, retrying when a concurrent upsert of the same new key wins the race
    /// on the unique index.
    async fn upsert(&self, collection: &str, key: &str, doc: &RawDocumentBuf) -> Result<()> {
        let coll = self.raw_docs(collection);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .call(
                    coll.replace_one(doc! { "key": key }, doc)
                        .upsert(true)
                        .into_future(),
                )
                .await;
            match result {
                Err(e) if attempt < UPSERT_ATTEMPTS && is_duplicate_key(&e) => continue,
                other => return other.map(drop),
            }
        }
    }

    /// Upsert many documents with `update` commands of up to [`WRITE_BATCH`] statements.
    async fn upsert_many(&self, collection: &str, docs: Vec<(&str, RawDocumentBuf)>) -> Result<()> {
        let mut batch: Vec<&(&str, RawDocumentBuf)> = Vec::new();
        let mut bytes = 0;
        for entry in &docs {
            let len = entry.1.as_bytes().len();
            if len > WRITE_BATCH_BYTES {
                // Too big to share a command body with anything: a command of its own.
                self.upsert(collection, entry.0, &entry.1).await?;
                continue;
            }
            if batch.len() == WRITE_BATCH || bytes + len > WRITE_BATCH_BYTES {
                self.update_command(collection, &batch).await?;
                batch.clear();
                bytes = 0;
            }
            batch.push(entry);
            bytes += len;
        }
        if !batch.is_empty() {
            self.update_command(collection, &batch).await?;
        }
        Ok(())
    }

    async fn update_command(
        &self,
        collection: &str,
        batch: &[&(&str, RawDocumentBuf)],
    ) -> Result<()> {
        let mut updates = RawArrayBuf::new();
        for (key, doc) in batch {
            let mut q = RawDocumentBuf::new();
            q.append(cstr!("key"), *key);
            let mut statement = RawDocumentBuf::new();
            statement.append(cstr!("q"), q);
            statement.append(cstr!("u"), doc.clone());
            statement.append(cstr!("upsert"), true);
            updates.push(statement);
        }
        let mut command = RawDocumentBuf::new();
        command.append(cstr!("update"), collection);
        command.append(cstr!("updates"), updates);
        command.append(cstr!("ordered"), false);
        let reply = self
            .call(self.inner.db.run_raw_command(command).into_future())
            .await?;
        let Ok(errors) = reply.get_array("writeErrors") else {
            return Ok(());
        };
        // Upserts that lost a race on the unique index are retried one by one; anything else
        // fails the call.
        for err in errors {
            let Bson::Document(err) = err else { continue };
            let code = err.get_i32("code").unwrap_or_default();
            let index = err
                .get_i32("index")
                .ok()
                .and_then(|i| usize::try_from(i).ok());
            match (code, index.and_then(|i| batch.get(i))) {
                (DUPLICATE_KEY, Some((key, doc))) => self.upsert(collection, key, doc).await?,
                _ => {
                    let message = err.get_str("errmsg").unwrap_or("write failed");
                    let kind = if [10334, 17419, 17420].contains(&code) {
                        ErrorKind::ValueTooLarge
                    } else {
                        ErrorKind::Backend
                    };
                    return Err(Error::new(
                        kind,
                        format!("MongoDB write error {code}: {message}"),
                    ));
                }
            }
        }
        Ok(())
    }

    async fn find_entries(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Entry>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let now = SystemTime::now();
        let found: HashMap<String, Document> = if let [key] = keys {
            let doc = self
                .call(
                    self.docs(collection)
                        .find_one(doc! { "key": *key })
                        .into_future(),
                )
                .await?;
            doc.map(|d| ((*key).to_owned(), d)).into_iter().collect()
        } else {
            let wanted = unique_keys(keys);
            let cursor = self
                .call(
                    self.docs(collection)
                        .find(doc! { "key": { "$in": wanted } })
                        .into_future(),
                )
                .await?;
            let docs: Vec<Document> = self.call(cursor.try_collect()).await?;
            docs.into_iter()
                .filter_map(|d| d.get_str("key").ok().map(str::to_owned).map(|k| (k, d)))
                .collect()
        };
        keys.iter()
            .map(|k| match found.get(*k) {
                None => Ok(None),
                Some(doc) => {
                    let entry = core::decode_entry(doc)?;
                    Ok((!entry.is_expired_at(now)).then_some(entry))
                }
            })
            .collect()
    }

    /// Names of the store's collections: those of its database that carry the two indexes this
    /// store and `py-key-value-aio` create on every collection they write (`key_1` and
    /// `expires_at_1`). Other collections of the database (the application's own) are never
    /// listed, culled or dropped.
    async fn collection_names(&self) -> Result<Vec<String>> {
        let names = self
            .call(self.inner.db.list_collection_names().into_future())
            .await?;
        let checked: Vec<Result<Option<String>>> =
            futures::stream::iter(names.into_iter().filter(|n| !n.starts_with("system.")))
                .map(|name| async move {
                    let indexes = self
                        .call(self.docs(&name).list_index_names().into_future())
                        .await?;
                    let ours = ["key_1", "expires_at_1"]
                        .iter()
                        .all(|want| indexes.iter().any(|have| have == want));
                    Ok(ours.then_some(name))
                })
                .buffer_unordered(PARALLEL)
                .collect()
                .await;
        checked.into_iter().filter_map(Result::transpose).collect()
    }

    async fn has_live(&self, collection: &str, now: SystemTime) -> Result<bool> {
        let found = self
            .call(
                self.docs(collection)
                    .find_one(core::live_filter(now))
                    .projection(doc! { "_id": 1 })
                    .into_future(),
            )
            .await?;
        Ok(found.is_some())
    }
}

fn is_duplicate_key(e: &Error) -> bool {
    source_code(e) == Some(DUPLICATE_KEY)
}

fn is_index_conflict(e: &Error) -> bool {
    source_code(e).is_some_and(|c| INDEX_CONFLICT_CODES.contains(&c))
}

fn source_code(e: &Error) -> Option<i32> {
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<mongodb::error::Error>())
        .and_then(error::code)
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
            rules::check_ttl(ttl)?;
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

    async fn put_many(
        &self,
        collection: &str,
        entries: &[(&str, Value)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let now = SystemTime::now();
        let docs = (|| {
            self.check_collection(collection)?;
            rules::check_ttl(ttl)?;
            let expires_at = rules::expires_at(now, ttl);
            // Check every entry before writing any.
            entries.iter().try_for_each(|(k, v)| {
                self.inner.caps.check_key(k)?;
                self.inner.caps.check_value(v.len(), None)
            })?;
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
                let expires = core::expires_at(&doc).map_err(ctx("delete", collection))?;
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
            let mut live = core::live_filter(now);
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
                        .find(core::live_filter(now))
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
        .map_err(ctx_op("collections"))
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
            .map_err(ctx_op("destroy"));
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
        .map_err(ctx_op("cull"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_duplicate_wins_in_order() {
        let entries = [("a", 1), ("b", 2), ("a", 3), ("c", 4)];
        let kept: Vec<_> = last_wins(&entries).into_iter().copied().collect();
        assert_eq!(kept, [("b", 2), ("a", 3), ("c", 4)]);
        assert_eq!(unique_keys(&["x", "y", "x"]), ["x", "y"]);
    }
}
