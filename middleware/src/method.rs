//! [`Method`]: the MCP methods the cache answers.

use std::fmt;

/// An MCP request method whose answers the cache may keep.
///
/// Each method has its own settings in [`CachePolicy`](crate::CachePolicy) and its own
/// collection in the store ([`Method::collection_in`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Method {
    /// `tools/call`, keyed by tool name and arguments.
    ToolsCall,
    /// `resources/read`, keyed by URI.
    ResourcesRead,
    /// `prompts/get`, keyed by prompt name and arguments.
    PromptsGet,
    /// `tools/list`, keyed by page cursor.
    ToolsList,
    /// `resources/list`, keyed by page cursor.
    ResourcesList,
    /// `resources/templates/list`, keyed by page cursor.
    ResourceTemplatesList,
    /// `prompts/list`, keyed by page cursor.
    PromptsList,
}

impl Method {
    /// Every cacheable method, in a fixed order.
    pub const ALL: [Method; 7] = [
        Method::ToolsCall,
        Method::ResourcesRead,
        Method::PromptsGet,
        Method::ToolsList,
        Method::ResourcesList,
        Method::ResourceTemplatesList,
        Method::PromptsList,
    ];

    /// The JSON-RPC method name (`"tools/call"`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::ToolsCall => "tools/call",
            Method::ResourcesRead => "resources/read",
            Method::PromptsGet => "prompts/get",
            Method::ToolsList => "tools/list",
            Method::ResourcesList => "resources/list",
            Method::ResourceTemplatesList => "resources/templates/list",
            Method::PromptsList => "prompts/list",
        }
    }

    /// The method named `name`, if it is cacheable.
    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// The last part of this method's collection names (`"tools-call"`, …).
    pub const fn collection_suffix(self) -> &'static str {
        match self {
            Method::ToolsCall => "tools-call",
            Method::ResourcesRead => "resources-read",
            Method::PromptsGet => "prompts-get",
            Method::ToolsList => "tools-list",
            Method::ResourcesList => "resources-list",
            Method::ResourceTemplatesList => "resource-templates-list",
            Method::PromptsList => "prompts-list",
        }
    }

    /// The store collection holding this method's answers for the server `namespace` names:
    /// `mcp.<namespace>.<suffix>` (`"mcp.github.tools-call"`, …). A namespace holds no `.`, so
    /// two namespaces never share a collection.
    ///
    /// ```
    /// use stowage_mcp::{Method, Namespace};
    ///
    /// let ns = Namespace::new("github").unwrap();
    /// assert_eq!(Method::ToolsCall.collection_in(&ns), "mcp.github.tools-call");
    /// ```
    pub fn collection_in(self, namespace: &crate::Namespace) -> String {
        format!("mcp.{namespace}.{}", self.collection_suffix())
    }

    /// Whether this is one of the `*/list` methods (keyed by cursor, not by name).
    pub const fn is_list(self) -> bool {
        matches!(
            self,
            Method::ToolsList
                | Method::ResourcesList
                | Method::ResourceTemplatesList
                | Method::PromptsList
        )
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_collections_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for (i, m) in Method::ALL.into_iter().enumerate() {
            assert_eq!(Method::from_name(m.as_str()), Some(m));
            assert_eq!(m.index(), i);
            let ns =
                crate::Namespace::new("x".repeat(crate::namespace::MAX_NAMESPACE_LEN)).unwrap();
            let c = m.collection_in(&ns);
            assert!(seen.insert(c.clone()));
            stowage_core::rules::check_collection(&c, Some(100)).unwrap();
        }
        assert_eq!(Method::from_name("tools/cal"), None);
        assert_eq!(Method::from_name("initialize"), None);
    }
}
