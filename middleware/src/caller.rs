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
/// partition. A caller that carried credentials the resolver could not read is
/// [`Caller::unidentified`]: its requests are never answered from the cache nor stored, so
/// that an unreadable credential can never fall into the shared anonymous partition.
///
/// A private partition is always a digest (`u` and 32 hex digits), so no caller can be built
/// whose private answers land in the public or the anonymous partition.
///
/// ```
/// use stowage_mcp::Caller;
///
/// let alice = Caller::from_token("alice-secret-token");
/// let bob = Caller::from_token("bob-secret-token");
/// assert_ne!(alice.partition(), bob.partition());
/// assert_eq!(alice.partition(), Caller::from_token("alice-secret-token").partition());
/// assert_eq!(Caller::anonymous().partition(), Some("anon"));
/// assert_eq!(Caller::from_identity("public").partition().unwrap().len(), 33);
/// assert_eq!(Caller::unidentified().partition(), None);
/// assert!(!format!("{alice:?}").contains("secret"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Caller(Kind);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Kind {
    Anonymous,
    Partition(String),
    Unidentified,
}

impl Caller {
    /// A request with no authentication.
    pub const fn anonymous() -> Caller {
        Caller(Kind::Anonymous)
    }

    /// A request that carried credentials which could not be read (an `Authorization` header
    /// that is not visible ASCII, say): never cached.
    pub const fn unidentified() -> Caller {
        Caller(Kind::Unidentified)
    }

    /// The caller holding bearer token (or any credential) `token`.
    pub fn from_token(token: &str) -> Caller {
        Caller::digest(b"token", &[token.as_bytes()])
    }

    /// The caller with a verified identity `identity` (a user id, a client id, a `sub` claim).
    pub fn from_identity(identity: &str) -> Caller {
        Caller::digest(b"identity", &[identity.as_bytes()])
    }

    /// The caller holding these credentials together (say, the values of a `Cookie` and an
    /// `X-Api-Key` header), as raw bytes: any byte sequence is accepted.
    pub fn from_credentials(parts: &[&[u8]]) -> Caller {
        Caller::digest(b"credentials", parts)
    }

    fn digest(domain: &[u8], parts: &[&[u8]]) -> Caller {
        let mut h = Sha256::new();
        h.update(b"stowage-mcp/partition/v1\0");
        h.update(domain);
        h.update(b"\0");
        if let [only] = parts {
            h.update(only);
        } else {
            for p in parts {
                h.update((p.len() as u64).to_be_bytes());
                h.update(p);
            }
        }
        let digest = h.finalize();
        Caller(Kind::Partition(format!("u{}", to_hex(&digest[..16]))))
    }

    /// The partition this caller's private answers live in; `None` for an
    /// [unidentified](Caller::unidentified) caller, whose requests are not cached.
    pub fn partition(&self) -> Option<&str> {
        match &self.0 {
            Kind::Anonymous => Some(ANONYMOUS_PARTITION),
            Kind::Partition(p) => Some(p),
            Kind::Unidentified => None,
        }
    }

    /// Whether the request carried authentication (readable or not).
    pub fn is_authenticated(&self) -> bool {
        !matches!(self.0, Kind::Anonymous)
    }
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Anonymous => f.write_str("Anonymous"),
            Kind::Partition(p) => f.debug_tuple("Partition").field(p).finish(),
            Kind::Unidentified => f.write_str("Unidentified"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_identity_and_credential_domains_differ() {
        assert_ne!(Caller::from_token("x"), Caller::from_identity("x"));
        assert_ne!(Caller::from_token("x"), Caller::from_credentials(&[b"x"]));
        assert_ne!(
            Caller::from_credentials(&[b"ab", b"c"]),
            Caller::from_credentials(&[b"a", b"bc"])
        );
    }

    #[test]
    fn partitions_never_collide_with_reserved_names() {
        for name in [PUBLIC_PARTITION, ANONYMOUS_PARTITION] {
            for c in [
                Caller::from_token(name),
                Caller::from_identity(name),
                Caller::from_credentials(&[name.as_bytes()]),
            ] {
                let p = c.partition().unwrap();
                assert!(p != PUBLIC_PARTITION && p != ANONYMOUS_PARTITION);
                assert_eq!(p.len(), 33);
                assert!(c.is_authenticated());
            }
        }
        assert!(!Caller::anonymous().is_authenticated());
        assert!(Caller::unidentified().is_authenticated());
        assert_eq!(Caller::unidentified().partition(), None);
    }
}
