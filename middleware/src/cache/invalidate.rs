//! Forgetting answers: per method, per resource, everything of a namespace, and on the
//! notifications that make answers stale.

use std::sync::atomic::Ordering;

use serde_json::Value as Json;
use stowage_core::Result;

use super::ResponseCache;
use crate::caller::{ANONYMOUS_PARTITION, PUBLIC_PARTITION};
use crate::key::RequestKey;
use crate::method::Method;

impl ResponseCache {
    /// Forget every answer of `method` this namespace holds, for every caller; other
    /// namespaces' answers stay.
    ///
    /// Requests in flight when this runs do not store their answers.
    pub async fn invalidate(&self, method: Method) -> Result<()> {
        self.scope.generations[method.index()].fetch_add(1, Ordering::AcqRel);
        let store = &self.shared.store;
        let caps = store.capabilities();
        let collection = self.collection(method);
        if caps.destroy_collection {
            store.destroy_collection(collection).await?;
        } else if caps.keys {
            let keys = store.keys(collection).await?;
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            for chunk in refs.chunks(500) {
                store.delete_many(collection, chunk).await?;
            }
        }
        Ok(())
    }

    /// Forget the cached contents of resource `uri`, for every caller.
    pub async fn invalidate_resource(&self, uri: &str) -> Result<()> {
        self.scope.resource_epoch.fetch_add(1, Ordering::AcqRel);
        let method = Method::ResourcesRead;
        let digest = RequestKey::new(method, uri, None);
        let store = &self.shared.store;
        let collection = self.collection(method);
        let mut keys: Vec<String> = if store.capabilities().keys {
            let suffix = format!(".{}", digest.as_str());
            store
                .keys(collection)
                .await?
                .into_iter()
                .filter(|k| k.ends_with(&suffix))
                .collect()
        } else {
            Vec::new()
        };
        let mut partitions: Vec<String> =
            self.scope.known_partitions.lock().iter().cloned().collect();
        partitions.push(PUBLIC_PARTITION.to_owned());
        partitions.push(ANONYMOUS_PARTITION.to_owned());
        keys.extend(partitions.iter().map(|p| self.key(method, p, &digest)));
        keys.sort_unstable();
        keys.dedup();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        for chunk in refs.chunks(500) {
            store.delete_many(collection, chunk).await?;
        }
        Ok(())
    }

    /// Forget everything this namespace holds.
    pub async fn clear(&self) -> Result<()> {
        for m in Method::ALL {
            self.invalidate(m).await?;
        }
        Ok(())
    }

    /// React to a notification: `notifications/tools/list_changed`,
    /// `notifications/resources/list_changed`, `notifications/prompts/list_changed` and
    /// `notifications/resources/updated` (from the server) invalidate what they make stale;
    /// `notifications/roots/list_changed` (from the client) clears every answer of this
    /// namespace, since the server's answers may depend on the client's roots. Returns whether
    /// the notification was one of these.
    ///
    /// A list change invalidates the list (and, for resources, the templates list), not the
    /// answers to calls, as FastMCP's middleware does; call [`ResponseCache::invalidate`] for
    /// more.
    pub async fn observe_notification(&self, method: &str, params: Option<&Json>) -> Result<bool> {
        match method {
            "notifications/tools/list_changed" => {
                // The tools, and what the server says of them, may have changed.
                self.scope.tools.write().clear();
                self.invalidate(Method::ToolsList).await?
            }
            "notifications/prompts/list_changed" => self.invalidate(Method::PromptsList).await?,
            "notifications/resources/list_changed" => {
                self.invalidate(Method::ResourcesList).await?;
                self.invalidate(Method::ResourceTemplatesList).await?;
            }
            "notifications/resources/updated" => {
                match params.and_then(|p| p.get("uri")).and_then(Json::as_str) {
                    Some(uri) => self.invalidate_resource(uri).await?,
                    // An update without a URI: drop every resource read.
                    None => self.invalidate(Method::ResourcesRead).await?,
                }
            }
            "notifications/roots/list_changed" => self.clear().await?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}
