//! [`StowageSessionStore`]: rmcp's `SessionStore` (cross-instance session recovery) over any
//! store.

use std::sync::Arc;
use std::time::Duration;

use rmcp::transport::streamable_http_server::session::{
    SessionState, SessionStore, SessionStoreError,
};
use stowage_core::{DynStore, KeyValueStore, Value};

use crate::error::Error;
use crate::layout;

/// rmcp's [`SessionStore`] over any Stowage store: `SessionState` (the client's `initialize`
/// parameters) as rmcp serializes it, under the session id, in [`layout::SESSIONS`].
///
/// Set it as `StreamableHttpServerConfig::session_store` on every replica: a request carrying a
/// session id this replica has never seen is restored from the store instead of failing with
/// 404. rmcp deletes the entry when the session closes; an optional TTL (none by default) bounds
/// sessions whose clients vanish without closing them.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use rmcp::transport::streamable_http_server::StreamableHttpServerConfig;
/// use stowage_rmcp::StowageSessionStore;
///
/// let sessions = StowageSessionStore::new(stowage_memory::MemoryStore::new())
///     .with_ttl(Some(Duration::from_secs(24 * 60 * 60)));
/// let mut config = StreamableHttpServerConfig::default();
/// config.session_store = Some(Arc::new(sessions));
/// ```
#[derive(Debug, Clone)]
pub struct StowageSessionStore {
    store: DynStore,
    collection: Arc<str>,
    ttl: Option<Duration>,
}

impl StowageSessionStore {
    /// A session store over `store`, in [`layout::SESSIONS`], without expiry.
    ///
    /// ```
    /// let sessions = stowage_rmcp::StowageSessionStore::new(stowage_memory::MemoryStore::new());
    /// # drop(sessions);
    /// ```
    pub fn new(store: impl KeyValueStore + 'static) -> Self {
        StowageSessionStore {
            store: Arc::new(store),
            collection: layout::SESSIONS.into(),
            ttl: None,
        }
    }

    /// Expire each session this long after its last save (`None`: never).
    ///
    /// ```
    /// # let sessions = stowage_rmcp::StowageSessionStore::new(stowage_memory::MemoryStore::new());
    /// let sessions = sessions.with_ttl(Some(std::time::Duration::from_secs(3600)));
    /// # drop(sessions);
    /// ```
    #[must_use]
    pub fn with_ttl(mut self, ttl: Option<Duration>) -> Self {
        self.ttl = ttl;
        self
    }

    /// Keep sessions in `collection` instead of [`layout::SESSIONS`].
    ///
    /// ```
    /// # let sessions = stowage_rmcp::StowageSessionStore::new(stowage_memory::MemoryStore::new());
    /// let sessions = sessions.with_collection("app_sessions");
    /// # drop(sessions);
    /// ```
    #[must_use]
    pub fn with_collection(mut self, collection: impl Into<String>) -> Self {
        self.collection = collection.into().into();
        self
    }

    async fn load_state(&self, session_id: &str) -> Result<Option<SessionState>, Error> {
        let Some(value) = self.store.get(&self.collection, session_id).await? else {
            return Ok(None);
        };
        value
            .deserialize()
            .map(Some)
            .map_err(|e| Error::corrupted(&self.collection, session_id, e))
    }

    async fn store_state(&self, session_id: &str, state: &SessionState) -> Result<(), Error> {
        let value = Value::from_serialize(state)?;
        Ok(self
            .store
            .put(&self.collection, session_id, value, self.ttl)
            .await?)
    }
}

#[async_trait::async_trait]
impl SessionStore for StowageSessionStore {
    async fn load(&self, session_id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        Ok(self.load_state(session_id).await?)
    }

    async fn store(&self, session_id: &str, state: &SessionState) -> Result<(), SessionStoreError> {
        Ok(self.store_state(session_id, state).await?)
    }

    async fn delete(&self, session_id: &str) -> Result<(), SessionStoreError> {
        self.store
            .delete(&self.collection, session_id)
            .await
            .map_err(Error::from)?;
        Ok(())
    }
}
