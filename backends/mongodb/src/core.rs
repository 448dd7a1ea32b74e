//! Engine calls of [`MongoStore`]: driver calls under the store's deadline, name checks,
//! indexes, upserts and reads.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::SystemTime;

use futures::{StreamExt, TryStreamExt};
use mongodb::Collection;
use mongodb::bson::{Bson, DateTime, Document, RawArrayBuf, RawDocumentBuf, cstr, doc};
use stowage_core::checks::unique_keys;
use stowage_core::{Entry, Error, ErrorKind, Result, Value};

use crate::document::{self};
use crate::error::{self, DUPLICATE_KEY, INDEX_CONFLICT_CODES};

use crate::store::{MongoStore, PARALLEL, UPSERT_ATTEMPTS, WRITE_BATCH, WRITE_BATCH_BYTES};

impl MongoStore {
    pub(crate) fn docs(&self, collection: &str) -> Collection<Document> {
        self.inner.db.collection(collection)
    }

    pub(crate) fn raw_docs(&self, collection: &str) -> Collection<RawDocumentBuf> {
        self.inner.db.collection(collection)
    }

    /// Run one driver call under the store's timeout.
    pub(crate) async fn call<T>(
        &self,
        fut: impl Future<Output = mongodb::error::Result<T>>,
    ) -> Result<T> {
        self.call_coded(fut).await.map_err(|(_, e)| e)
    }

    /// [`call`](Self::call), with the server's error code beside the error: the conversion drops
    /// the driver's error when its text quotes stored values (a duplicate key does), so the code
    /// is taken first.
    pub(crate) async fn call_coded<T>(
        &self,
        fut: impl Future<Output = mongodb::error::Result<T>>,
    ) -> std::result::Result<T, (Option<i32>, Error)> {
        match tokio::time::timeout(self.inner.timeout, fut).await {
            Ok(Ok(t)) => Ok(t),
            Ok(Err(e)) => Err((error::code(&e), error::convert(e))),
            Err(_) => Err((None, error::timed_out(self.inner.timeout))),
        }
    }

    /// Run a sequence of driver calls under one deadline.
    pub(crate) async fn within<T>(&self, fut: impl Future<Output = Result<T>>) -> Result<T> {
        tokio::time::timeout(self.inner.timeout, fut)
            .await
            .unwrap_or_else(|_| Err(error::timed_out(self.inner.timeout)))
    }

    pub(crate) fn check_collection(&self, collection: &str) -> Result<()> {
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

    pub(crate) fn check_keys(&self, collection: &str, keys: &[&str]) -> Result<()> {
        self.check_collection(collection)?;
        keys.iter().try_for_each(|k| self.inner.caps.check_key(k))
    }

    /// Convert one entry, already checked, into its stored document.
    pub(crate) fn document(
        &self,
        collection: &str,
        key: &str,
        value: &Value,
        now: SystemTime,
        expires_at: Option<SystemTime>,
    ) -> Result<RawDocumentBuf> {
        let object = document::value_to_bson(value)?;
        document::entry_document(collection, key, object, now, expires_at)
    }

    /// Create the collection's indexes once per store handle. Indexes that already exist with
    /// other options (a collection created by `py-key-value-aio`) are kept as they are.
    pub(crate) async fn ensure_indexes(&self, collection: &str) -> Result<()> {
        if self.indexed().contains(collection) {
            return Ok(());
        }
        let coll = self.docs(collection);
        for index in document::collection_indexes() {
            match self
                .call_coded(coll.create_index(index).into_future())
                .await
            {
                Ok(_) => {}
                Err((Some(code), _)) if INDEX_CONFLICT_CODES.contains(&code) => {}
                Err((_, e)) => return Err(e),
            }
        }
        self.indexed().insert(collection.to_owned());
        Ok(())
    }

    /// The collections whose indexes this handle has created.
    pub(crate) fn indexed(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        // A set of names holds no invariant that a panic elsewhere could leave half-updated.
        self.inner
            .indexed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn forget_indexes(&self, collection: Option<&str>) {
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
    pub(crate) async fn upsert(
        &self,
        collection: &str,
        key: &str,
        doc: &RawDocumentBuf,
    ) -> Result<()> {
        let coll = self.raw_docs(collection);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .call_coded(
                    coll.replace_one(doc! { "key": key }, doc)
                        .upsert(true)
                        .into_future(),
                )
                .await;
            match result {
                Err((Some(DUPLICATE_KEY), _)) if attempt < UPSERT_ATTEMPTS => continue,
                other => return other.map(drop).map_err(|(_, e)| e),
            }
        }
    }

    /// Insert `doc` unless a live document holds `key`, in one `replace_one` upsert whose filter
    /// matches only an expired document: an expired one is replaced, a missing one inserted, and
    /// a live one makes the insert collide on the unique `key` index (then `false`). Concurrent
    /// calls collide the same way, so exactly one inserts.
    pub(crate) async fn insert_if_absent(
        &self,
        collection: &str,
        key: &str,
        doc: &RawDocumentBuf,
        now: SystemTime,
    ) -> Result<bool> {
        let expired =
            doc! { "key": key, "expires_at": { "$lte": DateTime::from_system_time(now) } };
        let result = self
            .call_coded(
                self.raw_docs(collection)
                    .replace_one(expired, doc)
                    .upsert(true)
                    .into_future(),
            )
            .await;
        match result {
            Ok(r) => Ok(r.matched_count > 0 || r.upserted_id.is_some()),
            Err((Some(DUPLICATE_KEY), _)) => Ok(false),
            Err((_, e)) => Err(e),
        }
    }

    /// Upsert many documents with `update` commands of up to [`WRITE_BATCH`] statements.
    pub(crate) async fn upsert_many(
        &self,
        collection: &str,
        docs: Vec<(&str, RawDocumentBuf)>,
    ) -> Result<()> {
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

    pub(crate) async fn update_command(
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

    pub(crate) async fn find_entries(
        &self,
        collection: &str,
        keys: &[&str],
    ) -> Result<Vec<Option<Entry>>> {
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
                    let entry = document::decode_entry(doc)?;
                    Ok((!entry.is_expired_at(now)).then_some(entry))
                }
            })
            .collect()
    }

    /// Names of the store's collections: those of its database that carry the two indexes this
    /// store and `py-key-value-aio` create on every collection they write (`key_1` and
    /// `expires_at_1`). Other collections of the database (the application's own) are never
    /// listed, culled or dropped.
    pub(crate) async fn collection_names(&self) -> Result<Vec<String>> {
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

    pub(crate) async fn has_live(&self, collection: &str, now: SystemTime) -> Result<bool> {
        let found = self
            .call(
                self.docs(collection)
                    .find_one(document::live_filter(now))
                    .projection(doc! { "_id": 1 })
                    .into_future(),
            )
            .await?;
        Ok(found.is_some())
    }
}
