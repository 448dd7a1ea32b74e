//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use serde_json::{Value as Json, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, Lines};

/// A JSON-RPC client speaking newline-delimited MCP by hand, so a test controls every byte a
/// request carries (key order, `_meta`, multi-round-trip state).
pub struct RawClient<R, W> {
    lines: Lines<BufReader<R>>,
    writer: W,
    next_id: u64,
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> RawClient<R, W> {
    pub fn new(reader: R, writer: W) -> Self {
        RawClient {
            lines: BufReader::new(reader).lines(),
            writer,
            next_id: 1,
        }
    }

    pub async fn send_line(&mut self, line: &str) {
        self.writer.write_all(line.as_bytes()).await.unwrap();
        self.writer.write_all(b"\n").await.unwrap();
        self.writer.flush().await.unwrap();
    }

    /// The next message from the server, skipping notifications.
    pub async fn next_response(&mut self) -> Json {
        loop {
            let line =
                tokio::time::timeout(std::time::Duration::from_secs(60), self.lines.next_line())
                    .await
                    .expect("no answer within 60 s")
                    .unwrap()
                    .expect("the server closed its output");
            let msg: Json = serde_json::from_str(&line).unwrap();
            if msg.get("id").is_some() {
                return msg;
            }
        }
    }

    /// Send a request whose `params` are given as JSON text (kept byte for byte) and return
    /// the response.
    pub async fn request_text(&mut self, method: &str, params_text: &str) -> Json {
        let id = self.next_id;
        self.next_id += 1;
        self.send_line(&format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"{method}","params":{params_text}}}"#
        ))
        .await;
        let response = self.next_response().await;
        assert_eq!(response["id"], json!(id), "{response}");
        response
    }

    /// The `initialize` handshake (protocol 2025-11-25).
    pub async fn initialize(&mut self) -> Json {
        let response = self
            .request_text(
                "initialize",
                r#"{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw-test","version":"0"}}"#,
            )
            .await;
        self.send_line(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            .await;
        response
    }

    /// The text of the first content block of a `tools/call` response.
    pub async fn call_text(&mut self, params_text: &str) -> String {
        let r = self.request_text("tools/call", params_text).await;
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("no text in {r}"))
            .to_owned()
    }
}

/// The slow example server's executable, built next to the tests (`cargo test` and
/// `cargo nextest run` build the examples of the package).
pub fn example_server() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let path = profile_dir
        .join("examples")
        .join(format!("slow_server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: build the examples (cargo test / cargo nextest run build them)",
        path.display()
    );
    path
}

/// The proxy binary.
pub fn proxy_binary() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_stowage-mcp-proxy"))
}

/// The Python interpreter of the test venv. Never skips: a missing interpreter fails the test.
pub fn python() -> String {
    stowage_core::testkit::python::interpreter()
}

/// A file under `middleware/tests/py/`.
pub fn py_file(name: &str) -> String {
    stowage_core::testkit::python::package_file(&format!("tests/py/{name}"))
        .to_string_lossy()
        .into_owned()
}

/// A fresh directory under the system's temporary directory, named after `tag` and unique to
/// this call.
pub fn tempdir(tag: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(stowage_core::testkit::unique(&format!("stowage-mcp-{tag}")));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[cfg(feature = "http-proxy")]
/// Run a Python client to its end and parse the last line it printed as JSON; a client that
/// fails fails the test with its stderr.
pub fn last_json_line<T: serde::de::DeserializeOwned>(cmd: &mut std::process::Command) -> T {
    let out = cmd.output().expect("the Python client starts");
    assert!(
        out.status.success(),
        "the Python client failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("bad client output {text:?}: {e}"))
}

pub mod http;
