//! Keeping secrets out of everything the command prints: errors, logs, tables.
//!
//! Two passes over any text: every URL in it loses its password (`user:***@host`) and the values
//! of secret-looking query parameters (`secret_access_key=***`); then every secret remembered
//! from the command line (passwords and secret parameters of the URLs given, the Fernet key) is
//! replaced wherever it still appears, in case a backend echoed it in another form.

use std::sync::Mutex;

/// What replaces a secret.
pub(crate) const MASK: &str = "***";

/// Query parameter names whose values are secret when they contain one of these (lower case).
const SECRET_PARAMS: &[&str] = &[
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
    "signature",
];

/// Secrets shorter than this are not searched for in free text: a one- or two-letter password
/// would mask half of every message, and is no secret anyway.
const MIN_SECRET_LEN: usize = 3;

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Remember a secret, so [`text`] hides it wherever it appears.
pub(crate) fn remember(secret: &str) {
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    let mut secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|s| s == secret) {
        secrets.push(secret.to_owned());
        // Longest first, so a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Remember the secrets of every URL among `args` (passwords, secret query parameters), raw and
/// percent-decoded.
pub(crate) fn remember_urls<'a>(args: impl IntoIterator<Item = &'a str>) {
    for arg in args {
        for secret in url_secrets(arg) {
            remember(&secret);
            remember(&percent_decode(&secret));
        }
    }
}

/// The secrets a URL holds: its password and the values of its secret query parameters.
fn url_secrets(url: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some((_, rest)) = url.split_once("://") else {
        return out;
    };
    let (authority, tail) = split_authority(rest);
    if let Some((userinfo, _)) = authority.rsplit_once('@')
        && let Some((_, password)) = userinfo.split_once(':')
    {
        out.push(password.to_owned());
    }
    if let Some((_, query)) = tail.split_once('?') {
        let query = query.split_once('#').map_or(query, |(q, _)| q);
        for pair in query.split('&') {
            if let Some((name, value)) = pair.split_once('=')
                && is_secret_param(name)
                && !value.is_empty()
            {
                out.push(value.to_owned());
            }
        }
    }
    out
}

fn split_authority(rest: &str) -> (&str, &str) {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    rest.split_at(end)
}

fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_PARAMS.iter().any(|s| name.contains(s))
}

/// One URL with its password and secret query values masked; the rest kept, so the operator
/// still sees which store is meant.
///
/// `redis://app:hunter2@cache:6379/0` becomes `redis://app:***@cache:6379/0`.
pub(crate) fn url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = split_authority(rest);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:{MASK}@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let (query, fragment) = match query.split_once('#') {
                Some((q, f)) => (q, Some(f)),
                None => (query, None),
            };
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, value)) if is_secret_param(name) && !value.is_empty() => {
                        format!("{name}={MASK}")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            let mut t = format!("{path}?{}", query.join("&"));
            if let Some(f) = fragment {
                t.push('#');
                t.push_str(f);
            }
            t
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// `text` with every URL passed through [`url`] and every remembered secret masked.
pub(crate) fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let start = rest[..at]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || "+.-".contains(*c)))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let end = rest[at..]
            .find(|c: char| c.is_whitespace() || "\"'`<>".contains(c))
            .map_or(rest.len(), |i| at + i);
        // Punctuation after a URL belongs to the sentence.
        let end = at
            + 3
            + rest[at + 3..end]
                .trim_end_matches([':', ',', ';', '.', ')'])
                .len();
        out.push_str(&rest[..start]);
        out.push_str(&url(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    let secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    out
}

/// `%XX` sequences decoded; anything malformed is kept as it is.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_masked_and_the_rest_kept() {
        let cases = [
            (
                "redis://app:hunter2@cache:6379/0",
                "redis://app:***@cache:6379/0",
            ),
            ("rediss://:hunter2@cache/", "rediss://:***@cache/"),
            (
                "mongodb://root:p%40ss@db1,db2/app?replicaSet=rs&authSource=admin",
                "mongodb://root:***@db1,db2/app?replicaSet=rs&authSource=admin",
            ),
            (
                "dynamodb://t?endpoint=http://127.0.0.1:8000&access_key_id=AKIA1&secret_access_key=s3cr3t",
                "dynamodb://t?endpoint=http://127.0.0.1:8000&access_key_id=***&secret_access_key=***",
            ),
            ("redis://user@host/", "redis://user@host/"),
            ("disk:///var/lib/a@b.redb", "disk:///var/lib/a@b.redb"),
            ("memory://", "memory://"),
            ("not a url", "not a url"),
        ];
        for (input, expected) in cases {
            assert_eq!(url(input), expected, "{input}");
        }
    }

    #[test]
    fn urls_inside_messages_are_masked() {
        let msg = "backend unavailable: cannot reach `redis://u:topsecret@h:1/` (backend: redis)\n\
                   also mongodb://x:y2k@h/?tls=true.";
        let out = text(msg);
        assert!(!out.contains("topsecret") && !out.contains("y2k"), "{out}");
        assert!(out.contains("`redis://u:***@h:1/`"), "{out}");
        assert!(out.contains("mongodb://x:***@h/?tls=true."), "{out}");
        assert!(out.contains("(backend: redis)"), "{out}");
        let out = text("opening dynamodb://t?secret_access_key=abc: failed, see redis://:pw@h.");
        assert_eq!(
            out,
            "opening dynamodb://t?secret_access_key=***: failed, see redis://:***@h."
        );
    }

    #[test]
    fn remembered_secrets_are_masked_anywhere() {
        remember_urls(["redis://u:sw0rdfish%21@h/", "get", "c"]);
        let out = text("auth failed for password sw0rdfish! and sw0rdfish%21");
        assert!(!out.contains("sw0rdfish"), "{out}");
        remember("ab"); // too short to search for
        assert_eq!(text("about"), "about");
    }

    #[test]
    fn odd_input_does_not_panic() {
        for s in [
            "://",
            "a://",
            "://@",
            "x://@:?&=#",
            "é://ü:ö@ß",
            "%",
            "%zz",
            "%e2%82",
        ] {
            let _ = url(s);
            let _ = text(s);
            let _ = percent_decode(s);
            remember_urls([s]);
        }
        assert_eq!(percent_decode("p%40ss%2"), "p@ss%2");
    }
}
