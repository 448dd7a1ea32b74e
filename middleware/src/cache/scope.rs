//! The state of one server's answers: its namespace and collections, invalidation counters,
//! the partitions seen and what the server says of its tools.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use std::sync::atomic::AtomicU64;

use parking_lot::{Mutex, RwLock};
use serde_json::Value as Json;

use super::ResponseCache;
use crate::method::Method;
use crate::namespace::Namespace;
use crate::policy::ToolSafety;

/// At most this many tools' annotations are remembered per namespace.
const MAX_KNOWN_TOOLS: usize = 10_000;

/// A namespace and its collections.
pub(super) struct Named {
    pub(super) namespace: Namespace,
    pub(super) collections: [String; 7],
}

impl Named {
    pub(super) fn new(namespace: Namespace) -> Self {
        Named {
            collections: Method::ALL.map(|m| m.collection_in(&namespace)),
            namespace,
        }
    }
}

/// The state of one server's answers.
pub(super) struct Scope {
    /// Set once: when chosen, when settled by a wrapper, or at first use (the fallback).
    pub(super) named: OnceLock<Named>,
    /// Bumped by each invalidation of a method.
    pub(super) generations: [AtomicU64; 7],
    /// Bumped by each `resources/updated`.
    pub(super) resource_epoch: AtomicU64,
    /// Bumped by each server-to-client request seen while requests are in flight.
    pub(super) nested_epoch: AtomicU64,
    pub(super) known_partitions: Mutex<HashSet<String>>,
    pub(super) tools: RwLock<HashMap<String, ToolSafety>>,
}

impl Scope {
    pub(super) fn new(namespace: Option<Namespace>) -> Self {
        Scope {
            named: namespace
                .map(Named::new)
                .map_or_else(OnceLock::new, OnceLock::from),
            generations: Default::default(),
            resource_epoch: AtomicU64::new(0),
            nested_epoch: AtomicU64::new(0),
            known_partitions: Mutex::new(HashSet::new()),
            tools: RwLock::new(HashMap::new()),
        }
    }
}

impl ResponseCache {
    /// Remember what the server says of its tools, from a `tools/list` result (`{"tools":
    /// [{"name": …, "annotations": {…}}, …]}`). The proxy and the rmcp wrapper call this for
    /// every `tools/list` answer they relay, cached or not.
    pub fn learn_tools(&self, list_result: &Json) {
        let Some(tools) = list_result.get("tools").and_then(Json::as_array) else {
            return;
        };
        let mut known = self.scope.tools.write();
        for tool in tools {
            let Some(name) = tool.get("name").and_then(Json::as_str) else {
                continue;
            };
            if known.len() < MAX_KNOWN_TOOLS || known.contains_key(name) {
                known.insert(name.to_owned(), ToolSafety::from_tool(tool));
            }
        }
    }

    /// Record what the server says of tool `name`.
    pub fn set_tool_safety(&self, name: &str, safety: ToolSafety) {
        let mut known = self.scope.tools.write();
        if known.len() < MAX_KNOWN_TOOLS || known.contains_key(name) {
            known.insert(name.to_owned(), safety);
        }
    }

    /// What the server said of tool `name`, when it is known.
    pub fn tool_safety(&self, name: &str) -> Option<ToolSafety> {
        self.scope.tools.read().get(name).copied()
    }
}
