//! [`StowageCredentialStore`]: rmcp's OAuth `CredentialStore` over any store, with a refresh
//! guard shared by every process on that store.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rmcp::transport::auth::{
    AuthError, CredentialRefreshGuard, CredentialStore, StoredCredentials,
};
use stowage_core::{DynStore, KeyValueStore, Value};

use crate::error::{Error, insert_error, require_put_if_absent};
use crate::layout::{self, LeaseRecord, RECORD_VERSION};

/// Default lease of the refresh guard: a holder that dies frees it after this long.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// Default longest wait for the refresh guard before giving up with an error.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default pause between two attempts to take a held guard (a random part is added).
pub const DEFAULT_POLL: Duration = Duration::from_millis(50);

/// rmcp's [`CredentialStore`] over any Stowage store: one slot, a collection and a key (e.g. the
/// server URL), holding rmcp's `StoredCredentials` as JSON.
///
/// **Refresh guard**: [`acquire_refresh_guard`](CredentialStore::acquire_refresh_guard) takes a
/// lease in [`layout::CREDENTIAL_LOCKS`] with `put_if_absent` and a TTL, so across every task and
/// process on the store one holder refreshes at a time; the others wait (polling) and then load
/// the token the holder saved. Dropping the guard releases the lease; a holder that dies
/// releases it when the lease ([`DEFAULT_LEASE`]) runs out. A lease must outlast one token
/// request; a holder slower than its lease may overlap with the next one.
///
/// **Encryption at rest**: layer the store with Fernet before handing it over, so tokens are
/// never written in clear (keys, collection names and expiry stay readable):
///
/// ```
/// use stowage_core::KeyValueStoreExt;
/// use stowage_rmcp::StowageCredentialStore;
/// use stowage_wrappers::fernet::{FernetKey, FernetLayer};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// let disk = stowage_disk::DiskStore::open(dir.path().join("tokens.redb"))?;
/// let key = FernetKey::from_base64(&FernetKey::generate_text())?; // keep this secret and stable
/// let encrypted = disk.layer(FernetLayer::builder().key(key).build()?);
/// let credentials = StowageCredentialStore::new(encrypted, "https://mcp.example.com/mcp")?;
/// // AuthorizationManager::set_credential_store(credentials) …
/// # drop(credentials); Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct StowageCredentialStore {
    store: DynStore,
    collection: Arc<str>,
    locks: Arc<str>,
    key: Arc<str>,
    lease: Duration,
    acquire_timeout: Duration,
    poll: Duration,
}

impl StowageCredentialStore {
    /// The slot `key` of [`layout::CREDENTIALS`] in `store`; [`Error::PutIfAbsentUnsupported`]
    /// when the store lacks the atomic insert the refresh guard needs.
    ///
    /// ```
    /// let store = stowage_memory::MemoryStore::new();
    /// let credentials = stowage_rmcp::StowageCredentialStore::new(store, "https://mcp.example.com/mcp").unwrap();
    /// # drop(credentials);
    /// ```
    pub fn new(store: impl KeyValueStore + 'static, key: impl Into<String>) -> Result<Self, Error> {
        require_put_if_absent(&store)?;
        Ok(StowageCredentialStore {
            store: Arc::new(store),
            collection: layout::CREDENTIALS.into(),
            locks: layout::CREDENTIAL_LOCKS.into(),
            key: key.into().into(),
            lease: DEFAULT_LEASE,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            poll: DEFAULT_POLL,
        })
    }

    /// Keep credentials and leases in these collections instead of the defaults.
    ///
    /// ```
    /// # let c = stowage_rmcp::StowageCredentialStore::new(stowage_memory::MemoryStore::new(), "k").unwrap();
    /// let c = c.with_collections("app_tokens", "app_token_locks");
    /// # drop(c);
    /// ```
    #[must_use]
    pub fn with_collections(
        mut self,
        credentials: impl Into<String>,
        locks: impl Into<String>,
    ) -> Self {
        self.collection = credentials.into().into();
        self.locks = locks.into().into();
        self
    }

    /// The refresh guard's lease ([`DEFAULT_LEASE`]).
    ///
    /// ```
    /// # let c = stowage_rmcp::StowageCredentialStore::new(stowage_memory::MemoryStore::new(), "k").unwrap();
    /// let c = c.with_lease(std::time::Duration::from_secs(10));
    /// # drop(c);
    /// ```
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long to wait for a held guard ([`DEFAULT_ACQUIRE_TIMEOUT`]) and how often to try
    /// ([`DEFAULT_POLL`]).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let c = stowage_rmcp::StowageCredentialStore::new(stowage_memory::MemoryStore::new(), "k").unwrap();
    /// let c = c.with_wait(Duration::from_secs(5), Duration::from_millis(20));
    /// # drop(c);
    /// ```
    #[must_use]
    pub fn with_wait(mut self, timeout: Duration, poll: Duration) -> Self {
        self.acquire_timeout = timeout;
        self.poll = poll;
        self
    }

    /// Take the refresh guard, waiting while another holder has it; the lease is released when
    /// the returned value is dropped (or expires).
    ///
    /// ```
    /// # #[tokio::main] async fn main() {
    /// let c = stowage_rmcp::StowageCredentialStore::new(stowage_memory::MemoryStore::new(), "k").unwrap();
    /// let lease = c.lock().await.unwrap();
    /// assert!(c.try_lock().await.unwrap().is_none()); // held
    /// drop(lease);
    /// # }
    /// ```
    pub async fn lock(&self) -> Result<Lease, Error> {
        let started = Instant::now();
        loop {
            if let Some(lease) = self.try_lock().await? {
                return Ok(lease);
            }
            let waited = started.elapsed();
            if waited >= self.acquire_timeout {
                return Err(Error::GuardTimeout { waited });
            }
            let jitter = self.poll.mul_f64(fastrand::f64());
            tokio::time::sleep(self.poll + jitter).await;
        }
    }

    /// Take the refresh guard if it is free now.
    ///
    /// ```
    /// # #[tokio::main] async fn main() {
    /// let c = stowage_rmcp::StowageCredentialStore::new(stowage_memory::MemoryStore::new(), "k").unwrap();
    /// assert!(c.try_lock().await.unwrap().is_some());
    /// # }
    /// ```
    pub async fn try_lock(&self) -> Result<Option<Lease>, Error> {
        let holder = format!("{:032x}", fastrand::u128(..));
        let record = LeaseRecord {
            version: RECORD_VERSION,
            holder: holder.clone(),
            pid: std::process::id(),
            acquired_at_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        };
        let taken = self
            .store
            .put_if_absent(
                &self.locks,
                &self.key,
                Value::from_serialize(&record)?,
                Some(self.lease),
            )
            .await
            .map_err(insert_error)?;
        Ok(taken.then(|| Lease {
            store: self.store.clone(),
            locks: self.locks.clone(),
            key: self.key.clone(),
            holder,
        }))
    }

    async fn load_credentials(&self) -> Result<Option<StoredCredentials>, Error> {
        let Some(value) = self.store.get(&self.collection, &self.key).await? else {
            return Ok(None);
        };
        value
            .deserialize()
            .map(Some)
            .map_err(|e| Error::corrupted(&self.collection, &self.key, e))
    }
}

/// A held refresh guard: its lease is deleted on drop (in the background, only while it is
/// still this holder's), or expires on its own if the process dies.
///
/// ```
/// # #[tokio::main] async fn main() {
/// let c = stowage_rmcp::StowageCredentialStore::new(stowage_memory::MemoryStore::new(), "k").unwrap();
/// let lease = c.lock().await.unwrap();
/// lease.release().await.unwrap();
/// assert!(c.try_lock().await.unwrap().is_some());
/// # }
/// ```
#[derive(Debug)]
pub struct Lease {
    store: DynStore,
    locks: Arc<str>,
    key: Arc<str>,
    holder: String,
}

impl Lease {
    /// Release the lease now and wait until it is gone (dropping releases it in the background).
    ///
    /// ```
    /// # #[tokio::main] async fn main() {
    /// let c = stowage_rmcp::StowageCredentialStore::new(stowage_memory::MemoryStore::new(), "k").unwrap();
    /// c.lock().await.unwrap().release().await.unwrap();
    /// assert!(c.try_lock().await.unwrap().is_some()); // free again at once
    /// # }
    /// ```
    pub async fn release(mut self) -> Result<(), Error> {
        let holder = std::mem::take(&mut self.holder);
        release(&self.store, &self.locks, &self.key, &holder).await
    }
}

async fn release(store: &DynStore, locks: &str, key: &str, holder: &str) -> Result<(), Error> {
    // Delete only our own lease: one that expired and was taken by someone else stays theirs.
    // (Between this read and the delete a lease that expires exactly then could be lost; the
    // store contract has no compare-and-delete yet.)
    if let Some(value) = store.get(locks, key).await?
        && value
            .deserialize::<LeaseRecord>()
            .is_ok_and(|lease| lease.holder == holder)
    {
        store.delete(locks, key).await?;
    }
    Ok(())
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.holder.is_empty() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // no runtime: the lease expires on its own
        };
        let (store, locks, key) = (self.store.clone(), self.locks.clone(), self.key.clone());
        let holder = std::mem::take(&mut self.holder);
        runtime.spawn(async move {
            let _ = release(&store, &locks, &key, &holder).await;
        });
    }
}

#[async_trait::async_trait]
impl CredentialStore for StowageCredentialStore {
    async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        Ok(self.load_credentials().await?)
    }

    async fn save(&self, credentials: StoredCredentials) -> Result<(), AuthError> {
        let value = Value::from_serialize(&credentials).map_err(Error::from)?;
        self.store
            .put(&self.collection, &self.key, value, None)
            .await
            .map_err(Error::from)?;
        Ok(())
    }

    async fn clear(&self) -> Result<(), AuthError> {
        self.store
            .delete(&self.collection, &self.key)
            .await
            .map_err(Error::from)?;
        Ok(())
    }

    /// Clears the slot when it still holds the rejected credentials (the caller holds the
    /// refresh guard); credentials saved since are left alone.
    async fn on_refresh_token_rejected(
        &self,
        credentials: &StoredCredentials,
    ) -> Result<(), AuthError> {
        let rejected =
            serde_json::to_value(credentials).map_err(|e| Error::Encode(e.to_string()))?;
        let current = self
            .store
            .get(&self.collection, &self.key)
            .await
            .map_err(Error::from)?;
        let same = current
            .and_then(|v| serde_json::from_str::<serde_json::Value>(v.as_str()).ok())
            .is_some_and(|v| v == rejected);
        if same {
            self.store
                .delete(&self.collection, &self.key)
                .await
                .map_err(Error::from)?;
        }
        Ok(())
    }

    async fn acquire_refresh_guard(&self) -> Result<Option<CredentialRefreshGuard>, AuthError> {
        let lease = self.lock().await?;
        Ok(Some(CredentialRefreshGuard::new(lease)))
    }
}
