//! [`DynamoConfig`]: table, endpoint, credentials and timeout of a
//! [`DynamoStore`](crate::DynamoStore).

use std::fmt;
use std::time::Duration;

use stowage_core::{Error, ErrorKind, Result};

use crate::error::BACKEND;

/// How long one call may take, by default: 10 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The region used when none is given: `us-east-1`.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The configuration of a [`DynamoStore`](crate::DynamoStore), built with
/// [`DynamoStore::builder`](crate::DynamoStore::builder) or read from a URL with
/// [`DynamoConfig::from_url`].
///
/// ```no_run
/// use std::time::Duration;
/// use stowage_dynamodb::DynamoStore;
///
/// # #[tokio::main] async fn main() -> stowage_core::Result<()> {
/// let store = DynamoStore::builder("kv-store")
///     // A DynamoDB-compatible endpoint; leave it out for AWS itself.
///     .endpoint("http://127.0.0.1:8000")
///     .region("us-east-1")
///     // Static credentials; they never reach `Debug` output.
///     .credentials("AKIDEXAMPLE", "secret")
///     // Create the table (and switch its TTL on) when it does not exist. Default: true.
///     .create_table(true)
///     // Every call fails with a retryable `Timeout` error after 2 s.
///     .timeout(Duration::from_secs(2))
///     .build()
///     .await?;
/// # drop(store); Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct DynamoConfig {
    pub(crate) table: String,
    pub(crate) endpoint: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) credentials: Option<(String, String, Option<String>)>,
    pub(crate) create_table: bool,
    pub(crate) consistent_read: bool,
    pub(crate) timeout: Duration,
    pub(crate) client: Option<aws_sdk_dynamodb::Client>,
}

impl fmt::Debug for DynamoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoConfig")
            .field("table", &self.table)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field(
                "credentials",
                &self
                    .credentials
                    .as_ref()
                    .map(|(id, _, _)| format!("{id} / ***")),
            )
            .field("create_table", &self.create_table)
            .field("consistent_read", &self.consistent_read)
            .field("timeout", &self.timeout)
            .field("client", &self.client.as_ref().map(|_| "provided"))
            .finish()
    }
}

pub(crate) fn config_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Config, message.into()).with_backend(BACKEND)
}

/// Percent-decode `s`, the value of `what` in a URL. Errors name `what`, never the value, which
/// may be a secret key.
fn percent_decode(what: &str, s: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| config_error(format!("bad percent escape in {what}")))?;
                out.push(hex);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| config_error(format!("{what} is not UTF-8 once decoded")))
}

fn parse_bool(name: &str, v: &str) -> Result<bool> {
    match v {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(config_error(format!(
            "`{name}` must be true or false, got `{v}`"
        ))),
    }
}

impl DynamoConfig {
    /// A configuration for `table`, with the defaults: AWS's endpoint, [`DEFAULT_REGION`], the
    /// table created when missing, strongly consistent reads and [`DEFAULT_TIMEOUT`].
    pub fn new(table: impl Into<String>) -> Self {
        DynamoConfig {
            table: table.into(),
            endpoint: None,
            region: None,
            credentials: None,
            create_table: true,
            consistent_read: true,
            timeout: DEFAULT_TIMEOUT,
            client: None,
        }
    }

    /// Read a store URL:
    /// `dynamodb://TABLE?endpoint=http://127.0.0.1:8000&region=us-east-1&access_key_id=…&secret_access_key=…&create_table=false&timeout_ms=5000`.
    /// Every parameter is optional; values are percent-decoded.
    pub fn from_url(url: &str) -> Result<Self> {
        // The URL may hold a secret key: errors never echo it.
        let rest = url
            .strip_prefix("dynamodb://")
            .ok_or_else(|| config_error("a DynamoDB URL starts with dynamodb://"))?;
        let (table, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut config = DynamoConfig::new(percent_decode(
            "the table name",
            table.trim_end_matches('/'),
        )?);
        let (mut id, mut secret, mut token) = (None, None, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(&format!("the value of `{name}`"), value)?;
            match name {
                "endpoint" | "endpoint_url" => config.endpoint = Some(value),
                "region" => config.region = Some(value),
                "access_key_id" => id = Some(value),
                "secret_access_key" => secret = Some(value),
                "session_token" => token = Some(value),
                "create_table" => config.create_table = parse_bool(name, &value)?,
                "consistent_read" => config.consistent_read = parse_bool(name, &value)?,
                "timeout_ms" => {
                    let ms = value.parse().map_err(|_| {
                        config_error(format!("`timeout_ms` must be a number, got `{value}`"))
                    })?;
                    config.timeout = Duration::from_millis(ms);
                }
                // Not echoed: an unescaped `&` inside a secret key makes its tail look like
                // a parameter name.
                _ => {
                    return Err(config_error(
                        "unknown DynamoDB URL parameter; the parameters are endpoint, region, \
                         access_key_id, secret_access_key, session_token, create_table, \
                         consistent_read and timeout_ms",
                    ));
                }
            }
        }
        match (id, secret) {
            (Some(id), Some(secret)) => config.credentials = Some((id, secret, token)),
            (None, None) => {}
            _ => {
                return Err(config_error(
                    "a DynamoDB URL needs both access_key_id and secret_access_key, or neither",
                ));
            }
        }
        Ok(config)
    }

    /// The endpoint URL, for DynamoDB Local or another compatible server. Default: AWS.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// The AWS region. Default [`DEFAULT_REGION`] (or the environment's, with the `aws-config`
    /// feature).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Static credentials. Without them, the `aws-config` feature loads the standard AWS chain;
    /// without that feature, building fails with a [`Config`](ErrorKind::Config) error.
    pub fn credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        self.credentials = Some((access_key_id.into(), secret_access_key.into(), None));
        self
    }

    /// Create the table (pay per request, TTL on) when it does not exist. With `false`, a
    /// missing table is a [`Config`](ErrorKind::Config) error. Default `true`, as in Python.
    pub fn create_table(mut self, create: bool) -> Self {
        self.create_table = create;
        self
    }

    /// Read with strong consistency, so a read always sees the latest write. Default `true`;
    /// `false` halves the read cost on AWS and may return stale values for a moment.
    pub fn consistent_read(mut self, consistent: bool) -> Self {
        self.consistent_read = consistent;
        self
    }

    /// The longest any call (batch retries included) may take before it fails with a retryable
    /// [`Timeout`](ErrorKind::Timeout) error. Default [`DEFAULT_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Use an existing SDK client; endpoint, region and credentials are then ignored.
    pub fn client(mut self, client: aws_sdk_dynamodb::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Build the client, then verify the table (creating it when allowed) and its TTL setting.
    ///
    /// Errors with [`ErrorKind::Config`] for a bad table name, missing credentials, a missing
    /// table that may not be created, or a table with another key schema; with
    /// [`ErrorKind::Unavailable`] when the endpoint cannot be reached.
    pub async fn build(self) -> Result<crate::DynamoStore> {
        crate::DynamoStore::from_config(self).await
    }

    pub(crate) fn check(&self) -> Result<()> {
        let t = &self.table;
        if !(3..=255).contains(&t.len())
            || !t
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        {
            return Err(config_error(format!(
                "DynamoDB table names are 3 to 255 characters of a-z, A-Z, 0-9, `_`, `-` and `.`; got `{t}`"
            )));
        }
        if self.timeout.is_zero() {
            return Err(config_error(
                "DynamoDB store: the timeout must be greater than zero",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let c = DynamoConfig::from_url(
            "dynamodb://kv?endpoint=http%3A%2F%2F127.0.0.1%3A8000&region=eu-west-1&access_key_id=a&secret_access_key=s%2Fx&create_table=false&timeout_ms=1500",
        )
        .unwrap();
        assert_eq!(c.table, "kv");
        assert_eq!(c.endpoint.as_deref(), Some("http://127.0.0.1:8000"));
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.credentials, Some(("a".into(), "s/x".into(), None)));
        assert!(!c.create_table);
        assert_eq!(c.timeout, Duration::from_millis(1500));
        let shown = format!("{c:?}");
        assert!(!shown.contains("s/x"), "{shown}");

        let plain = DynamoConfig::from_url("dynamodb://table-1?endpoint=http://h:1").unwrap();
        assert_eq!(plain.endpoint.as_deref(), Some("http://h:1"));
        assert!(plain.create_table);
        for bad in [
            "redis://x",
            "dynamodb://kv?bogus=1",
            "dynamodb://kv?access_key_id=a",
            "dynamodb://kv?create_table=maybe",
            "dynamodb://kv?endpoint=%zz",
        ] {
            assert_eq!(
                DynamoConfig::from_url(bad).unwrap_err().kind(),
                ErrorKind::Config,
                "{bad}"
            );
        }
    }

    /// No error of URL parsing shows a secret key, whatever is wrong with the URL.
    #[test]
    fn url_errors_never_echo_secrets() {
        for bad in [
            "dynamodb://kv?access_key_id=a&secret_access_key=TOPSECRET%zz",
            "dynamodb://kv?access_key_id=a&secret_access_key=TOPSECRET%ff",
            "dynamodb:/kv?access_key_id=a&secret_access_key=TOPSECRET",
            "dynamodb://kv?secret_access_key=TOPSECRET",
            "dynamodb://kv?secret_access_key=TOPSECRET&TOPSECRET=1",
        ] {
            let err = DynamoConfig::from_url(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{bad}");
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("TOPSECRET"), "{bad}: {shown}");
        }
    }

    #[test]
    fn table_names() {
        assert!(DynamoConfig::new("kv.store_1-a").check().is_ok());
        for bad in ["ab", "has space", "ünï", &"x".repeat(256)] {
            assert_eq!(
                DynamoConfig::new(bad).check().unwrap_err().kind(),
                ErrorKind::Config
            );
        }
    }
}
