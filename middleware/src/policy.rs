//! [`CachePolicy`]: what the cache keeps, for how long, and what it never touches.

use std::collections::BTreeSet;
use std::time::Duration;

use stowage_core::{Error, ErrorKind, Result};

use crate::method::Method;

/// Default TTL of the `*/list` methods: 5 minutes, as FastMCP's `ResponseCachingMiddleware`.
pub const DEFAULT_LIST_TTL: Duration = Duration::from_secs(5 * 60);
/// Default TTL of `tools/call`, `resources/read` and `prompts/get`: 1 hour.
pub const DEFAULT_CALL_TTL: Duration = Duration::from_secs(60 * 60);
/// Default largest answer kept: 1 MiB of JSON text. Larger answers pass through uncached.
pub const DEFAULT_MAX_ENTRY_BYTES: usize = 1024 * 1024;

/// The settings of one method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MethodPolicy {
    /// Whether answers to this method are looked up and stored at all.
    pub enabled: bool,
    /// How long an answer is kept; `None` keeps it until invalidated or evicted. A server's
    /// `ttlMs` hint can only shorten it.
    pub ttl: Option<Duration>,
}

impl MethodPolicy {
    /// An enabled method with this TTL.
    pub const fn ttl(ttl: Option<Duration>) -> Self {
        MethodPolicy { enabled: true, ttl }
    }

    /// A method the cache leaves alone.
    pub const fn disabled() -> Self {
        MethodPolicy {
            enabled: false,
            ttl: None,
        }
    }
}

/// Which tools' answers `tools/call` may cache: an optional allow list, then a deny list.
///
/// With an allow list, only the tools named on it are cached; the deny list always wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolFilter {
    allow: Option<BTreeSet<String>>,
    deny: BTreeSet<String>,
}

impl ToolFilter {
    /// Whether the answers of tool `name` may be cached.
    pub fn allows(&self, name: &str) -> bool {
        !self.deny.contains(name) && self.allow.as_ref().is_none_or(|a| a.contains(name))
    }

    /// The allow list, when one is set.
    pub fn allow_list(&self) -> Option<&BTreeSet<String>> {
        self.allow.as_ref()
    }

    /// The deny list.
    pub fn deny_list(&self) -> &BTreeSet<String> {
        &self.deny
    }
}

/// What the cache keeps and for how long.
///
/// ```
/// use std::time::Duration;
/// use stowage_mcp::{CachePolicy, Method};
///
/// let policy = CachePolicy::default()
///     // Tool answers for ten minutes…
///     .ttl(Method::ToolsCall, Some(Duration::from_secs(600)))
///     // …but only for these two tools…
///     .allow_tools(["search", "weather"])
///     // …and never for this one, even if allowed.
///     .deny_tools(["weather"])
///     // Leave prompts alone.
///     .disable(Method::PromptsGet)
///     // Answers over 256 KiB pass through uncached.
///     .max_entry_bytes(256 * 1024);
/// assert!(policy.tool_filter().allows("search"));
/// assert!(!policy.tool_filter().allows("weather"));
/// assert!(!policy.tool_filter().allows("other"));
/// assert!(!policy.method(Method::PromptsGet).enabled);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct CachePolicy {
    methods: [MethodPolicy; 7],
    tools: ToolFilter,
    max_entry_bytes: usize,
    honour_hints: bool,
}

impl Default for CachePolicy {
    /// Every method enabled; lists for [`DEFAULT_LIST_TTL`], the rest for [`DEFAULT_CALL_TTL`];
    /// every tool; answers up to [`DEFAULT_MAX_ENTRY_BYTES`]; server hints honoured.
    fn default() -> Self {
        let methods = Method::ALL.map(|m| {
            MethodPolicy::ttl(Some(if m.is_list() {
                DEFAULT_LIST_TTL
            } else {
                DEFAULT_CALL_TTL
            }))
        });
        CachePolicy {
            methods,
            tools: ToolFilter::default(),
            max_entry_bytes: DEFAULT_MAX_ENTRY_BYTES,
            honour_hints: true,
        }
    }
}

impl CachePolicy {
    /// The settings of `method`.
    pub fn method(&self, method: Method) -> MethodPolicy {
        self.methods[method.index()]
    }

    /// Replace the settings of `method`.
    pub fn with_method(mut self, method: Method, settings: MethodPolicy) -> Self {
        self.methods[method.index()] = settings;
        self
    }

    /// Enable `method` with this TTL (`None`: until invalidated or evicted).
    pub fn ttl(self, method: Method, ttl: Option<Duration>) -> Self {
        self.with_method(method, MethodPolicy::ttl(ttl))
    }

    /// Enable every method with this TTL.
    pub fn ttl_all(mut self, ttl: Option<Duration>) -> Self {
        for m in Method::ALL {
            self = self.ttl(m, ttl);
        }
        self
    }

    /// Never cache `method`.
    pub fn disable(self, method: Method) -> Self {
        self.with_method(method, MethodPolicy::disabled())
    }

    /// Cache `tools/call` only for these tools (replaces any previous allow list).
    pub fn allow_tools<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tools.allow = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Never cache `tools/call` for these tools (added to the deny list).
    pub fn deny_tools<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tools.deny.extend(names.into_iter().map(Into::into));
        self
    }

    /// The tool allow and deny lists.
    pub fn tool_filter(&self) -> &ToolFilter {
        &self.tools
    }

    /// The largest answer kept, in bytes of JSON text; larger ones pass through uncached.
    pub fn max_entry_bytes(mut self, max: usize) -> Self {
        self.max_entry_bytes = max;
        self
    }

    /// The largest answer kept, in bytes of JSON text.
    pub fn entry_limit(&self) -> usize {
        self.max_entry_bytes
    }

    /// Whether server hints (`ttlMs`, `cacheScope`) are honoured. On by default; turning it off
    /// makes every answer private to its caller and kept for the configured TTL.
    pub fn honour_hints(mut self, on: bool) -> Self {
        self.honour_hints = on;
        self
    }

    /// Whether server hints are honoured.
    pub fn honours_hints(&self) -> bool {
        self.honour_hints
    }

    /// Check the settings: a zero TTL or a zero entry limit is a configuration error.
    pub fn validate(&self) -> Result<()> {
        for m in Method::ALL {
            let p = self.method(m);
            if p.enabled && p.ttl.is_some_and(|t| t.is_zero()) {
                return Err(Error::new(
                    ErrorKind::InvalidTtl,
                    format!("the TTL of {m} is zero; disable the method instead"),
                ));
            }
        }
        if self.max_entry_bytes == 0 {
            return Err(Error::new(
                ErrorKind::Config,
                "max_entry_bytes must be greater than zero",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_fastmcp() {
        let p = CachePolicy::default();
        assert_eq!(p.method(Method::ToolsList).ttl, Some(DEFAULT_LIST_TTL));
        assert_eq!(p.method(Method::ToolsCall).ttl, Some(DEFAULT_CALL_TTL));
        assert!(Method::ALL.iter().all(|m| p.method(*m).enabled));
        assert!(p.tool_filter().allows("anything"));
        p.validate().unwrap();
    }

    #[test]
    fn deny_wins_over_allow() {
        let p = CachePolicy::default()
            .allow_tools(["a", "b"])
            .deny_tools(["b"]);
        assert!(p.tool_filter().allows("a"));
        assert!(!p.tool_filter().allows("b"));
        assert!(!p.tool_filter().allows("c"));
    }

    #[test]
    fn zero_ttl_and_zero_limit_are_refused() {
        let err = CachePolicy::default()
            .ttl(Method::ToolsCall, Some(Duration::ZERO))
            .validate()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidTtl);
        // A disabled method's TTL does not matter.
        CachePolicy::default()
            .disable(Method::ToolsCall)
            .validate()
            .unwrap();
        let err = CachePolicy::default()
            .max_entry_bytes(0)
            .validate()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
    }
}
