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
/// Default deadline of one store lookup or write: past it, the request passes through
/// uncached, so a slow or hung store never stalls traffic.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_millis(250);

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

/// Which `tools/call` answers the cache keeps, before the allow and deny lists.
///
/// The default is [`ToolCaching::ReadOnly`]: a tool with side effects must not be answered
/// from a cache (a second `send_email` must send a second email), and per the MCP
/// specification a tool without annotations is presumed not read-only. FastMCP's middleware
/// caches every tool by default; this is a deliberate, safer difference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolCaching {
    /// Tools the server marks `readOnlyHint: true`, or `idempotentHint: true` with
    /// `destructiveHint: false`; plus the tools allowed by name.
    #[default]
    ReadOnly,
    /// Every tool, except those the server marks destructive (`destructiveHint: true`, not
    /// read-only) unless allowed by name.
    All,
    /// Only the tools allowed by name.
    Named,
}

impl std::str::FromStr for ToolCaching {
    type Err = Error;

    /// `read-only`, `all` or `named`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "read-only" | "readonly" => Ok(ToolCaching::ReadOnly),
            "all" => Ok(ToolCaching::All),
            "named" => Ok(ToolCaching::Named),
            _ => Err(Error::new(
                ErrorKind::Config,
                "tool caching is `read-only`, `all` or `named`",
            )),
        }
    }
}

/// What a server says of a tool's side effects: its `readOnlyHint`, `destructiveHint` and
/// `idempotentHint` annotations, each `None` when absent.
///
/// ```
/// use serde_json::json;
/// use stowage_mcp::ToolSafety;
///
/// let s = ToolSafety::from_tool(&json!({"name": "q", "annotations": {"readOnlyHint": true}}));
/// assert!(s.is_read_only());
/// let s = ToolSafety::from_tool(&json!({"name": "rm", "annotations": {"destructiveHint": true}}));
/// assert!(s.is_destructive());
/// // No annotations: presumed neither read-only nor explicitly destructive.
/// let s = ToolSafety::from_tool(&json!({"name": "x"}));
/// assert!(!s.is_read_only() && !s.is_destructive());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ToolSafety {
    /// `readOnlyHint`.
    pub read_only: Option<bool>,
    /// `destructiveHint`.
    pub destructive: Option<bool>,
    /// `idempotentHint`.
    pub idempotent: Option<bool>,
}

impl ToolSafety {
    /// The hints of a tool as `tools/list` describes it (`{"name": …, "annotations": {…}}`).
    pub fn from_tool(tool: &serde_json::Value) -> ToolSafety {
        let hint = |name: &str| {
            tool.get("annotations")
                .and_then(|a| a.get(name))
                .and_then(serde_json::Value::as_bool)
        };
        ToolSafety {
            read_only: hint("readOnlyHint"),
            destructive: hint("destructiveHint"),
            idempotent: hint("idempotentHint"),
        }
    }

    /// Marked read-only, or idempotent and explicitly not destructive.
    pub fn is_read_only(&self) -> bool {
        self.read_only == Some(true)
            || (self.idempotent == Some(true) && self.destructive == Some(false))
    }

    /// Marked destructive (and not read-only, which would make the hint meaningless).
    pub fn is_destructive(&self) -> bool {
        self.destructive == Some(true) && self.read_only != Some(true)
    }
}

/// Which tools' answers `tools/call` may cache: a [`ToolCaching`] mode, tools allowed by name
/// (cached whatever their annotations) and tools denied by name (never cached).
///
/// The deny list wins over everything; then the allow list; then a tool the server marks
/// destructive is not cached; then the mode decides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolFilter {
    mode: ToolCaching,
    allow: BTreeSet<String>,
    deny: BTreeSet<String>,
}

impl ToolFilter {
    /// Whether the answers of tool `name`, with these hints (`None`: the server's description
    /// of the tool is not known), may be cached.
    pub fn allows(&self, name: &str, safety: Option<ToolSafety>) -> bool {
        if self.deny.contains(name) {
            return false;
        }
        if self.allow.contains(name) {
            return true;
        }
        let safety = safety.unwrap_or_default();
        if safety.is_destructive() {
            return false;
        }
        match self.mode {
            ToolCaching::All => true,
            ToolCaching::ReadOnly => safety.is_read_only(),
            ToolCaching::Named => false,
        }
    }

    /// Whether [`ToolFilter::allows`] depends on what the server says of tool `name` (it does
    /// unless the tool is named on a list, or only named tools are cached).
    pub fn depends_on_annotations(&self, name: &str) -> bool {
        !self.deny.contains(name) && !self.allow.contains(name) && self.mode != ToolCaching::Named
    }

    /// The mode.
    pub fn mode(&self) -> ToolCaching {
        self.mode
    }

    /// Tools cached whatever their annotations.
    pub fn allow_list(&self) -> &BTreeSet<String> {
        &self.allow
    }

    /// Tools never cached.
    pub fn deny_list(&self) -> &BTreeSet<String> {
        &self.deny
    }
}

/// What the cache keeps and for how long.
///
/// ```
/// use std::time::Duration;
/// use stowage_mcp::{CachePolicy, Method, ToolCaching, ToolSafety};
///
/// let policy = CachePolicy::default()
///     // Tool answers for ten minutes…
///     .ttl(Method::ToolsCall, Some(Duration::from_secs(600)))
///     // …for the tools the server marks read-only (the default), plus these two…
///     .cache_tools(ToolCaching::ReadOnly)
///     .allow_tools(["search", "weather"])
///     // …and never for this one, even if allowed.
///     .deny_tools(["weather"])
///     // Leave prompts alone.
///     .disable(Method::PromptsGet)
///     // Answers over 256 KiB pass through uncached.
///     .max_entry_bytes(256 * 1024);
/// let unknown = None;
/// assert!(policy.tool_filter().allows("search", unknown));
/// assert!(!policy.tool_filter().allows("weather", unknown));
/// assert!(!policy.tool_filter().allows("other", unknown));
/// let read_only = ToolSafety { read_only: Some(true), ..ToolSafety::default() };
/// assert!(policy.tool_filter().allows("other", Some(read_only)));
/// assert!(!policy.method(Method::PromptsGet).enabled);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct CachePolicy {
    methods: [MethodPolicy; 7],
    tools: ToolFilter,
    max_entry_bytes: usize,
    honour_hints: bool,
    store_timeout: Duration,
}

impl Default for CachePolicy {
    /// Every method enabled; lists for [`DEFAULT_LIST_TTL`], the rest for [`DEFAULT_CALL_TTL`];
    /// tools the server marks read-only ([`ToolCaching::ReadOnly`]); answers up to
    /// [`DEFAULT_MAX_ENTRY_BYTES`]; server hints honoured; store calls cut off after
    /// [`DEFAULT_STORE_TIMEOUT`].
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
            store_timeout: DEFAULT_STORE_TIMEOUT,
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

    /// Which tools `tools/call` caches, before the allow and deny lists.
    pub fn cache_tools(mut self, mode: ToolCaching) -> Self {
        self.tools.mode = mode;
        self
    }

    /// Cache `tools/call` for these tools whatever the server says of them (added to the allow
    /// list; the deny list still wins).
    pub fn allow_tools<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tools.allow.extend(names.into_iter().map(Into::into));
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

    /// How long one store lookup or write may take before the request passes through
    /// uncached (default [`DEFAULT_STORE_TIMEOUT`]).
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
        self
    }

    /// The deadline of one store call.
    pub fn store_deadline(&self) -> Duration {
        self.store_timeout
    }

    /// Check the settings: a zero TTL, a zero entry limit or a zero store timeout is a
    /// configuration error.
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
        if self.store_timeout.is_zero() {
            return Err(Error::new(
                ErrorKind::Config,
                "the store timeout must be greater than zero",
            ));
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
        assert!(!p.tool_filter().allows("anything", None));
        assert_eq!(p.tool_filter().mode(), ToolCaching::ReadOnly);
        assert_eq!(p.store_deadline(), DEFAULT_STORE_TIMEOUT);
        p.validate().unwrap();
    }

    #[test]
    fn deny_wins_over_allow() {
        let p = CachePolicy::default()
            .allow_tools(["a", "b"])
            .deny_tools(["b"]);
        assert!(p.tool_filter().allows("a", None));
        assert!(!p.tool_filter().allows("b", None));
        assert!(!p.tool_filter().allows("c", None));
    }

    fn safety(
        read_only: Option<bool>,
        destructive: Option<bool>,
        idempotent: Option<bool>,
    ) -> ToolSafety {
        ToolSafety {
            read_only,
            destructive,
            idempotent,
        }
    }

    #[test]
    fn tools_are_cached_by_their_annotations() {
        let (t, f) = (Some(true), Some(false));
        let read_only = safety(t, None, None);
        let idempotent_safe = safety(None, f, t);
        let idempotent_unknown = safety(None, None, t);
        let destructive = safety(None, t, None);
        let destructive_idempotent = safety(f, t, t);
        let unannotated = ToolSafety::default();
        let default = CachePolicy::default();
        let filter = default.tool_filter();
        assert!(filter.allows("x", Some(read_only)));
        assert!(filter.allows("x", Some(idempotent_safe)));
        assert!(!filter.allows("x", Some(idempotent_unknown)));
        assert!(!filter.allows("x", Some(unannotated)));
        assert!(!filter.allows("x", None));
        assert!(!filter.allows("x", Some(destructive)));

        let all = CachePolicy::default().cache_tools(ToolCaching::All);
        assert!(all.tool_filter().allows("x", Some(unannotated)));
        assert!(all.tool_filter().allows("x", None));
        assert!(!all.tool_filter().allows("x", Some(destructive)));
        assert!(!all.tool_filter().allows("x", Some(destructive_idempotent)));

        let named = CachePolicy::default()
            .cache_tools(ToolCaching::Named)
            .allow_tools(["rm"]);
        assert!(
            named.tool_filter().allows("rm", Some(destructive)),
            "allowed by name"
        );
        assert!(!named.tool_filter().allows("x", Some(read_only)));
        let denied = named.deny_tools(["rm"]);
        assert!(!denied.tool_filter().allows("rm", Some(read_only)));
        assert_eq!("all".parse::<ToolCaching>().unwrap(), ToolCaching::All);
        assert!("some".parse::<ToolCaching>().is_err());
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
