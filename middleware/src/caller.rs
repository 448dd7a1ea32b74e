//! [`Caller`]: who is asking, reduced to the cache partition their answers live in.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::key::to_hex;

/// The partition holding answers marked `cacheScope: "public"` by the server, shared by every
/// caller.
pub const PUBLIC_PARTITION: &str = "public";
/// The partition shared by every anonymous caller.
pub const ANONYMOUS_PARTITION: &str = "anon";

/// Who sent a request, as far as the cache is concerned.
///
/// An authenticated caller gets a partition of its own, named by a digest of its token or
/// identity: the token itself is never stored, logged or printed. Anonymous callers share one
/// partition.
///
/// ```
/// use stowage_mcp::Caller;
///
/// let alice = Caller::from_token("alice-secret-token");
/// let bob = Caller::from_token("bob-secret-token");
/// assert_ne!(alice.partition(), bob.partition());
/// assert_eq!(alice.partition(), Caller::from_token("alice-secret-token").partition());
/// assert_eq!(Caller::Anonymous.partition(), "anon");
/// assert!(!format!("{alice:?}").contains("secret"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Caller {
    /// No authentication on the request.
    Anonymous,
    /// An authenticated caller, already reduced to its partition name.
    Partition(String),
}

impl Caller {
    /// The caller holding bearer token (or any credential) `token`.
    pub fn from_token(token: &str) -> Caller {
        Caller::digest(b"token", token)
    }

    /// The caller with a verified identity `identity` (a user id, a client id, a `sub` claim).
    pub fn from_identity(identity: &str) -> Caller {
        Caller::digest(b"identity", identity)
    }

    fn digest(domain: &[u8], secret: &str) -> Caller {
        let mut h = Sha256::new();
        h.update(b"stowage-mcp/partition/v1\0");
        h.update(domain);
        h.update(b"\0");
        h.update(secret.as_bytes());
        let digest = h.finalize();
        Caller::Partition(format!("u{}", to_hex(&digest[..16])))
    }

    /// The partition this caller's private answers live in.
    pub fn partition(&self) -> &str {
        match self {
            Caller::Anonymous => ANONYMOUS_PARTITION,
            Caller::Partition(p) => p,
        }
    }

    /// Whether the request carried authentication.
    pub fn is_authenticated(&self) -> bool {
        matches!(self, Caller::Partition(_))
    }
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Caller::Anonymous => f.write_str("Anonymous"),
            Caller::Partition(p) => f.debug_tuple("Partition").field(p).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_and_identity_domains_differ() {
        assert_ne!(Caller::from_token("x"), Caller::from_identity("x"));
    }

    #[test]
    fn partitions_never_collide_with_reserved_names() {
        let p = Caller::from_token("public");
        assert_ne!(p.partition(), PUBLIC_PARTITION);
        assert_ne!(p.partition(), ANONYMOUS_PARTITION);
        assert_eq!(p.partition().len(), 33);
        assert!(p.is_authenticated());
        assert!(!Caller::Anonymous.is_authenticated());
    }
}
