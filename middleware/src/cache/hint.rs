//! What a hit says of its freshness: the server's `ttlMs` lowered to the time the entry has
//! left.

use std::time::Duration;

use serde_json::Value as Json;
use stowage_core::Value;

use super::ResponseCache;

impl ResponseCache {
    /// Lower a served answer's `ttlMs` to the time it has left, as an HTTP cache sets `Age`.
    pub(super) fn refresh_hint(&self, value: Value, remaining: Option<Duration>) -> Value {
        let Some(remaining) = remaining else {
            return value;
        };
        if !self.shared.policy.honours_hints() || !value.as_str().contains("\"ttlMs\"") {
            return value;
        }
        let mut map = value.to_map();
        match map.get_mut("ttlMs") {
            Some(ms @ Json::Number(_)) => {
                let left = remaining.as_millis().min(u128::from(u64::MAX)) as u64;
                if ms.as_u64().is_none_or(|old| left < old) {
                    *ms = Json::from(left.max(1));
                }
                Value::from(map)
            }
            _ => value,
        }
    }
}
