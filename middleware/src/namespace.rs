//! [`Namespace`]: which server's answers a cache holds, so that servers sharing one store never
//! answer for each other.

use std::ffi::OsStr;
use std::fmt;
use std::path::Path;

use sha2::{Digest, Sha256};
use stowage_core::{Error, ErrorKind, Result};

use crate::key::to_hex;

/// The longest namespace name accepted, in bytes.
pub const MAX_NAMESPACE_LEN: usize = 64;

/// The environment variables left out of [`Namespace::for_command`]'s digest: they change from
/// one launch of the same server to the next (terminal, shell and session state) without
/// changing what the server answers. Every other variable the child inherits counts, so two
/// servers started with different credentials (`GITHUB_TOKEN=…`) get different namespaces.
/// Variables starting with `STOWAGE_` (the proxy's own settings) are left out too.
pub const VOLATILE_ENV: &[&str] = &[
    "_",
    "COLUMNS",
    "DISPLAY",
    "LINES",
    "OLDPWD",
    "PPID",
    "PS1",
    "PS2",
    "PWD",
    "SHLVL",
    "SSH_AUTH_SOCK",
    "SSH_CLIENT",
    "SSH_CONNECTION",
    "SSH_TTY",
    "STY",
    "TERM",
    "TERM_PROGRAM",
    "TERM_PROGRAM_VERSION",
    "TERM_SESSION_ID",
    "TMUX",
    "TMUX_PANE",
    "WINDOWID",
    "XDG_SESSION_ID",
];

/// The server a cache holds answers for.
///
/// Every key the cache writes lives in collections named after the namespace
/// (`mcp.<namespace>.tools-call`, …), so two servers on one store (a shared Redis, the desktop
/// default) never serve each other's answers, and invalidating one server's entries leaves the
/// others alone. A name is 1 to [`MAX_NAMESPACE_LEN`] ASCII letters, digits, `-` or `_`.
///
/// Name a namespace yourself to share answers on purpose (every replica of one server, across a
/// fleet); otherwise derive it from what identifies the server ([`Namespace::for_command`],
/// [`Namespace::for_server`]).
///
/// ```
/// use stowage_mcp::Namespace;
///
/// let github = Namespace::new("github").unwrap();
/// assert_eq!(github.as_str(), "github");
/// assert!(Namespace::new("a.b").is_err());
/// assert!(Namespace::new("").is_err());
///
/// // Same server, same credentials: same namespace; another token: another namespace.
/// let env = |token: &str| vec![("GITHUB_TOKEN".to_string(), token.to_string())];
/// let a = Namespace::for_command(["npx", "server-github"], None, env("t1"));
/// let b = Namespace::for_command(["npx", "server-github"], None, env("t1"));
/// let c = Namespace::for_command(["npx", "server-github"], None, env("t2"));
/// assert_eq!(a, b);
/// assert_ne!(a, c);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Namespace(String);

impl Namespace {
    /// The namespace named `name`.
    ///
    /// Errors ([`ErrorKind::Config`]) when the name is empty, longer than
    /// [`MAX_NAMESPACE_LEN`], or holds anything but ASCII letters, digits, `-` and `_`.
    pub fn new(name: impl Into<String>) -> Result<Namespace> {
        let name = name.into();
        let valid = !name.is_empty()
            && name.len() <= MAX_NAMESPACE_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(Namespace(name))
        } else {
            Err(Error::new(
                ErrorKind::Config,
                format!(
                    "a cache namespace is 1 to {MAX_NAMESPACE_LEN} ASCII letters, digits, `-` or \
                     `_` ({} bytes given)",
                    name.len()
                ),
            ))
        }
    }

    /// The namespace used when none is chosen: `default`.
    pub fn fallback() -> Namespace {
        Namespace("default".to_owned())
    }

    /// The namespace of a server started as a command: a digest of the command line, the
    /// working directory (`None`: not part of it) and the environment the server receives,
    /// without the [`VOLATILE_ENV`] variables and the `STOWAGE_*` ones. The values are digested,
    /// never stored.
    pub fn for_command<I, S, E>(command: I, dir: Option<&Path>, env: E) -> Namespace
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
        E: IntoIterator<Item = (String, String)>,
    {
        let mut h = Digester::new("command");
        for part in command {
            h.field(part.as_ref().as_encoded_bytes());
        }
        h.field(b"\0dir");
        if let Some(dir) = dir {
            h.field(dir.as_os_str().as_encoded_bytes());
        }
        let mut vars: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| !k.starts_with("STOWAGE_") && !VOLATILE_ENV.contains(&k.as_str()))
            .collect();
        vars.sort();
        h.field(b"\0env");
        for (k, v) in &vars {
            h.field(k.as_bytes());
            h.field(v.as_bytes());
        }
        h.finish()
    }

    /// The namespace of a remote server reached at `url` (the Streamable HTTP proxy's
    /// upstream): every proxy in front of the same URL shares it. The URL is digested, never
    /// stored, so credentials in it do not reach the store.
    ///
    /// ```
    /// use stowage_mcp::Namespace;
    ///
    /// let a = Namespace::for_url("http://mcp.internal:8000/mcp");
    /// assert_eq!(a, Namespace::for_url("http://mcp.internal:8000/mcp"));
    /// assert_ne!(a, Namespace::for_url("http://other.internal:8000/mcp"));
    /// ```
    pub fn for_url(url: &str) -> Namespace {
        let mut h = Digester::new("url");
        h.field(url.as_bytes());
        h.finish()
    }

    /// The namespace of an in-process server, from what it says of itself (`serverInfo` name
    /// and version, plus anything else that tells two instances apart: a tenant, a data
    /// directory).
    pub fn for_server(name: &str, version: &str, extra: &[&str]) -> Namespace {
        let mut h = Digester::new("server");
        h.field(name.as_bytes());
        h.field(version.as_bytes());
        for e in extra {
            h.field(e.as_bytes());
        }
        h.finish()
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

struct Digester(Sha256);

impl Digester {
    fn new(domain: &str) -> Self {
        let mut h = Sha256::new();
        h.update(b"stowage-mcp/namespace/v1\0");
        h.update(domain.as_bytes());
        Digester(h)
    }

    fn field(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_be_bytes());
        self.0.update(bytes);
    }

    fn finish(self) -> Namespace {
        Namespace(to_hex(&self.0.finalize()[..16]))
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Namespace").field(&self.0).finish()
    }
}

impl std::str::FromStr for Namespace {
    type Err = Error;

    fn from_str(s: &str) -> Result<Namespace> {
        Namespace::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn names_are_checked() {
        for good in ["a", "github", "A-b_9", &"x".repeat(MAX_NAMESPACE_LEN)] {
            assert_eq!(Namespace::new(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "a.b",
            "a b",
            "é",
            "a/b",
            &"x".repeat(MAX_NAMESPACE_LEN + 1),
        ] {
            assert_eq!(
                Namespace::new(bad).unwrap_err().kind(),
                ErrorKind::Config,
                "{bad}"
            );
        }
    }

    #[test]
    fn the_command_digest_covers_arguments_directory_and_environment() {
        let base = Namespace::for_command(["srv", "--x"], None, env(&[("TOKEN", "a")]));
        let same = Namespace::for_command(
            ["srv", "--x"],
            None,
            env(&[
                ("PWD", "/elsewhere"),
                ("TOKEN", "a"),
                ("STOWAGE_STORE_URL", "x"),
            ]),
        );
        assert_eq!(base, same, "volatile and STOWAGE_ variables do not count");
        let others = [
            Namespace::for_command(["srv", "--y"], None, env(&[("TOKEN", "a")])),
            Namespace::for_command(["srv--x"], None, env(&[("TOKEN", "a")])),
            Namespace::for_command(["srv", "--x"], None, env(&[("TOKEN", "b")])),
            Namespace::for_command(["srv", "--x"], None, env(&[("TOKE", "Na")])),
            Namespace::for_command(
                ["srv", "--x"],
                Some(Path::new("/srv")),
                env(&[("TOKEN", "a")]),
            ),
        ];
        for o in &others {
            assert_ne!(&base, o);
            Namespace::new(o.as_str()).unwrap();
        }
        assert!(!format!("{base:?}").contains("TOKEN"));
    }

    #[test]
    fn server_digests_differ_by_name_and_version() {
        let a = Namespace::for_server("s", "1", &[]);
        assert_ne!(a, Namespace::for_server("s", "2", &[]));
        assert_ne!(a, Namespace::for_server("s1", "", &[]));
        assert_ne!(a, Namespace::for_server("s", "1", &["tenant"]));
    }
}
