//! Telling callers apart: [`default_caller`], the resolver the rmcp wrapper uses unless told
//! otherwise.

use std::sync::Arc;

use rmcp::RoleServer;
use rmcp::service::RequestContext;

use crate::caller::Caller;

/// Decides who sent a request, from its context.
pub type CallerResolver = Arc<dyn Fn(&RequestContext<RoleServer>) -> Caller + Send + Sync>;

/// Headers other than `Authorization` that carry credentials: a request holding any of them
/// is never treated as anonymous by [`default_caller`].
pub const CREDENTIAL_HEADERS: &[&str] = &[
    "cookie",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "x-auth-token",
    "x-access-token",
];

/// The default [`CallerResolver`].
///
/// In order:
///
/// 1. a [`Caller`] that an authentication layer put in the request's extensions (the way to
///    plug in verified identities: insert `Caller::from_identity(user_id)` there);
/// 2. the `Authorization` header of the HTTP request (rmcp's Streamable HTTP server puts the
///    request's [`http::request::Parts`] there), digested as a token; a header that is not
///    visible ASCII makes the caller [`Caller::unidentified`] — never cached — rather than
///    anonymous;
/// 3. any of the [`CREDENTIAL_HEADERS`] (cookies, API-key headers), digested together as raw
///    bytes: a partition per set of credentials;
/// 4. otherwise [`Caller::anonymous`] (stdio has no authentication).
pub fn default_caller(context: &RequestContext<RoleServer>) -> Caller {
    if let Some(caller) = context.extensions.get::<Caller>() {
        return caller.clone();
    }
    match context.extensions.get::<http::request::Parts>() {
        Some(parts) => caller_from_headers(&parts.headers),
        None => Caller::anonymous(),
    }
}

/// The caller an HTTP request's headers name, as [`default_caller`] decides it.
///
/// ```
/// use http::HeaderMap;
/// use stowage_mcp::{Caller, caller_from_headers};
///
/// let mut h = HeaderMap::new();
/// assert_eq!(caller_from_headers(&h), Caller::anonymous());
/// h.insert("cookie", "session=abc".parse().unwrap());
/// assert!(caller_from_headers(&h).partition().unwrap().starts_with('u'));
/// h.insert("authorization", http::HeaderValue::from_bytes(b"Bearer \xff").unwrap());
/// assert_eq!(caller_from_headers(&h), Caller::unidentified());
/// ```
pub fn caller_from_headers(headers: &http::HeaderMap) -> Caller {
    let mut authorization = headers.get_all(http::header::AUTHORIZATION).iter();
    if let Some(value) = authorization.next() {
        if authorization.next().is_some() {
            return Caller::unidentified();
        }
        return match value.to_str().map(str::trim) {
            Ok(token) if !token.is_empty() => Caller::from_token(token),
            _ => Caller::unidentified(),
        };
    }
    let mut parts: Vec<&[u8]> = Vec::new();
    for name in CREDENTIAL_HEADERS {
        for value in headers.get_all(*name) {
            parts.push(name.as_bytes());
            parts.push(value.as_bytes());
        }
    }
    if parts.is_empty() {
        Caller::anonymous()
    } else {
        Caller::from_credentials(&parts)
    }
}
