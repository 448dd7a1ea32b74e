//! Processes for the Streamable HTTP proxy's tests: a FastMCP upstream, the proxy, the
//! official Python client, and raw HTTP requests.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

use super::{proxy_binary, py_file, python, tempdir};

/// A child process, killed when dropped.
pub struct Proc {
    pub child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Send SIGTERM.
    pub fn terminate(&self) {
        use nix::sys::signal::{Signal, kill};
        use nix::unistd::Pid;
        kill(Pid::from_raw(self.pid() as i32), Signal::SIGTERM).unwrap();
    }

    /// Wait for the exit, at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

/// Wait until `port` on loopback accepts connections.
pub fn wait_port(port: u16) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "port {port} never opened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A FastMCP server speaking Streamable HTTP (`tests/py/fastmcp_http_server.py`).
pub struct Upstream {
    pub proc: Proc,
    pub port: u16,
    pub log: PathBuf,
}

impl Upstream {
    /// Start one with `flags` (`--json`, `--stateless`, `--public-hints`) and `env`.
    pub fn start(flags: &[&str], env: &[(&str, &str)]) -> Upstream {
        let log = tempdir("http-upstream").join("runs.log");
        Upstream::start_at(0, flags, env, log)
    }

    /// Start one on `port` (0: any), logging its runs to `log`.
    pub fn start_at(port: u16, flags: &[&str], env: &[(&str, &str)], log: PathBuf) -> Upstream {
        let mut cmd = Command::new(python());
        cmd.arg(py_file("fastmcp_http_server.py"))
            .args(flags)
            .args(["--port", &port.to_string()])
            .env("SERVER_LOG", &log)
            .env("FASTMCP_LOG_LEVEL", "WARNING")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("the Python server starts");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let port: u16 = line
            .trim()
            .strip_prefix("PORT ")
            .unwrap_or_else(|| panic!("no port from the server: {line:?}"))
            .parse()
            .unwrap();
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        wait_port(port);
        Upstream {
            proc: Proc { child },
            port,
            log,
        }
    }

    /// Its MCP endpoint.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }

    /// How many times `event` ran in the server.
    pub fn runs(&self, event: &str) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| *l == event)
            .count()
    }

    /// Every event the server logged, in order.
    pub fn events(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// A `stowage-mcp-proxy --listen` process.
pub struct Proxy {
    pub proc: Proc,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The admin listener's `http://127.0.0.1:PORT`, when asked for.
    pub admin: Option<String>,
    /// Everything it wrote on stderr so far.
    pub stderr: Arc<Mutex<String>>,
}

impl Proxy {
    /// Start one in front of `upstream` with `args` (a memory store unless `--store` is given).
    pub fn start(upstream: &str, args: &[&str]) -> Proxy {
        let mut all = vec!["--upstream", upstream];
        all.extend_from_slice(args);
        Proxy::spawn(&all, &[])
    }

    /// Start one with `args` (after `--listen 127.0.0.1:0`) and `env`.
    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Proxy {
        let mut cmd = Command::new(proxy_binary());
        cmd.args(["--listen", "127.0.0.1:0"]);
        if !args.contains(&"--log-level") {
            cmd.args(["--log-level", "debug"]);
        }
        cmd.envs(env.iter().copied());
        if !args.contains(&"--store") {
            cmd.args(["--store", "memory://"]);
        }
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the proxy starts");
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let stderr = Arc::new(Mutex::new(String::new()));
        let (mut base, mut admin) = (None, None);
        let wants_admin = args.contains(&"--admin");
        while base.is_none() || (wants_admin && admin.is_none()) {
            let mut line = String::new();
            if err.read_line(&mut line).unwrap() == 0 {
                panic!(
                    "the proxy ended before listening: {}",
                    stderr.lock().unwrap()
                );
            }
            stderr.lock().unwrap().push_str(&line);
            let url = line
                .split_whitespace()
                .find(|w| w.starts_with("http://127.0.0.1:"))
                .map(str::to_owned);
            if line.contains("listening on") {
                base = url;
            } else if line.contains("admin on") {
                admin = url;
            }
        }
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Proxy {
            proc: Proc { child },
            base: base.unwrap(),
            admin,
            stderr,
        }
    }

    /// Its MCP endpoint.
    pub fn url(&self) -> String {
        format!("{}/mcp", self.base)
    }
}

/// Run the official Python client against `url` with `token` (a bearer token) and protocol
/// `mode`, making `calls`; returns its results.
pub fn client(url: &str, token: Option<&str>, mode: &str, calls: &Json) -> Vec<Json> {
    let mut cmd = Command::new(python());
    cmd.arg(py_file("mcp_http_client.py")).args([
        "--url",
        url,
        "--mode",
        mode,
        "--calls",
        &calls.to_string(),
    ]);
    if let Some(t) = token {
        cmd.args(["--token", t]);
    }
    super::last_json_line(&mut cmd)
}

/// A `tools/call` item for [`client`].
pub fn call(tool: &str, args: Json) -> Json {
    json!({"tool": tool, "args": args})
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    /// The body as JSON (of a JSON answer, or of the last SSE data line).
    pub fn json(&self) -> Json {
        let text = if self.content_type.starts_with("text/event-stream") {
            self.body
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim)
                .rfind(|d| !d.is_empty())
                .unwrap_or_default()
                .to_owned()
        } else {
            self.body.clone()
        };
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }
}

/// One HTTP request (protocol 2025-06-18 headers for MCP), with `headers` added.
pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: Option<String>) -> Answer {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let mut rb = client
            .request(method.parse().unwrap(), url)
            .timeout(Duration::from_secs(60))
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2025-06-18");
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.body(b);
        }
        let r = rb.send().await.expect("the proxy answers");
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = r.text().await.unwrap_or_default();
        Answer {
            status,
            content_type,
            body,
        }
    })
}

/// POST one `tools/call` of `tool` with `args` (JSON-RPC id 1) to `url`.
pub fn post_call(url: &str, tool: &str, args: Json, headers: &[(&str, &str)]) -> Answer {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": tool, "arguments": args}});
    http("POST", url, headers, Some(body.to_string()))
}

/// The text of a `tools/call` answer.
pub fn call_text(answer: &Answer) -> String {
    let v = answer.json();
    v["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {v}"))
        .to_owned()
}
