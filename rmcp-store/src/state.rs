//! [`StowageStateStore`]: rmcp's OAuth `StateStore` (PKCE and CSRF state of authorizations in
//! flight) over any store, expiring on its own.

use std::sync::Arc;
use std::time::Duration;

use rmcp::transport::auth::{AuthError, StateStore, StoredAuthorizationState};
use stowage_core::{DynStore, KeyValueStore, Value};

use crate::error::Error;
use crate::layout;

/// Default lifetime of an authorization state entry.
pub const DEFAULT_STATE_TTL: Duration = Duration::from_secs(10 * 60);

/// rmcp's [`StateStore`] over any Stowage store: rmcp's `StoredAuthorizationState` as JSON under
/// the CSRF token, in [`layout::OAUTH_STATE`], written with a TTL ([`DEFAULT_STATE_TTL`], ten
/// minutes) so abandoned authorizations vanish without anyone cleaning up. The entry holds the
/// PKCE verifier: layer the store with Fernet as for
/// [`StowageCredentialStore`](crate::StowageCredentialStore).
///
/// ```
/// use std::time::Duration;
/// use stowage_rmcp::StowageStateStore;
///
/// let states = StowageStateStore::new(stowage_memory::MemoryStore::new())
///     .with_ttl(Duration::from_secs(300));
/// // AuthorizationManager::set_state_store(states) …
/// # drop(states);
/// ```
#[derive(Debug, Clone)]
pub struct StowageStateStore {
    store: DynStore,
    collection: Arc<str>,
    ttl: Duration,
}

impl StowageStateStore {
    /// A state store over `store`, in [`layout::OAUTH_STATE`], with [`DEFAULT_STATE_TTL`].
    ///
    /// ```
    /// let states = stowage_rmcp::StowageStateStore::new(stowage_memory::MemoryStore::new());
    /// # drop(states);
    /// ```
    pub fn new(store: impl KeyValueStore + 'static) -> Self {
        StowageStateStore {
            store: Arc::new(store),
            collection: layout::OAUTH_STATE.into(),
            ttl: DEFAULT_STATE_TTL,
        }
    }

    /// How long an entry lives after its save.
    ///
    /// ```
    /// # let states = stowage_rmcp::StowageStateStore::new(stowage_memory::MemoryStore::new());
    /// let states = states.with_ttl(std::time::Duration::from_secs(60));
    /// # drop(states);
    /// ```
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Keep entries in `collection` instead of [`layout::OAUTH_STATE`].
    ///
    /// ```
    /// # let states = stowage_rmcp::StowageStateStore::new(stowage_memory::MemoryStore::new());
    /// let states = states.with_collection("app_oauth_state");
    /// # drop(states);
    /// ```
    #[must_use]
    pub fn with_collection(mut self, collection: impl Into<String>) -> Self {
        self.collection = collection.into().into();
        self
    }
}

#[async_trait::async_trait]
impl StateStore for StowageStateStore {
    async fn save(
        &self,
        csrf_token: &str,
        state: StoredAuthorizationState,
    ) -> Result<(), AuthError> {
        let value = Value::from_serialize(&state).map_err(Error::from)?;
        self.store
            .put(&self.collection, csrf_token, value, Some(self.ttl))
            .await
            .map_err(Error::from)?;
        Ok(())
    }

    async fn load(&self, csrf_token: &str) -> Result<Option<StoredAuthorizationState>, AuthError> {
        let Some(value) = self
            .store
            .get(&self.collection, csrf_token)
            .await
            .map_err(Error::from)?
        else {
            return Ok(None);
        };
        let state = value
            .deserialize()
            .map_err(|e| Error::corrupted(&self.collection, csrf_token, e))?;
        Ok(Some(state))
    }

    async fn delete(&self, csrf_token: &str) -> Result<(), AuthError> {
        self.store
            .delete(&self.collection, csrf_token)
            .await
            .map_err(Error::from)?;
        Ok(())
    }
}
