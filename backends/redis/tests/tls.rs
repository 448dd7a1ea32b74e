//! `rediss://` against a real `redis-server` with TLS, its certificate signed by a private CA made
//! for the test with `openssl`: the store connects when it trusts that CA, and refuses (a typed
//! error, no panic) when it does not.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use stowage_core::KeyValueStore;
use stowage_core::testkit::{obj, unique};
use stowage_redis::RedisStore;

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run openssl");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a server certificate for 127.0.0.1 in `dir`.
fn make_certs(dir: &Path) {
    let p = |name: &str| dir.join(name);
    run(Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=stowage-test-ca"])
        .arg("-keyout")
        .arg(p("ca.key"))
        .arg("-out")
        .arg(p("ca.pem")));
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .arg("-keyout")
        .arg(p("server.key"))
        .arg("-out")
        .arg(p("server.csr")));
    std::fs::write(p("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n").unwrap();
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
        .arg("-in")
        .arg(p("server.csr"))
        .arg("-CA")
        .arg(p("ca.pem"))
        .arg("-CAkey")
        .arg(p("ca.key"))
        .arg("-extfile")
        .arg(p("ext.cnf"))
        .arg("-out")
        .arg(p("server.pem")));
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn rediss_with_a_private_ca() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(unique("stowage-redis-tls"));
    std::fs::create_dir_all(&dir).unwrap();
    make_certs(&dir);
    let _server = Server(
        Command::new(common::env_url("STOWAGE_TEST_REDIS_SERVER"))
            .args([
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--tls-auth-clients",
                "no",
            ])
            .arg("--tls-cert-file")
            .arg(dir.join("server.pem"))
            .arg("--tls-key-file")
            .arg(dir.join("server.key"))
            .arg("--tls-ca-cert-file")
            .arg(dir.join("ca.pem"))
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server with TLS"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "redis-server (TLS) did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let url = format!("rediss://127.0.0.1:{port}/");
    let ca = std::fs::read(dir.join("ca.pem")).unwrap();

    let store = RedisStore::builder()
        .url(&url)
        .tls_root_cert(ca)
        .build()
        .await
        .expect("TLS connection trusting the test CA");
    let c = unique("tls");
    store
        .put(
            &c,
            "k",
            obj(json!({"secure": true})),
            Some(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    let entry = store
        .ttl(&c, "k")
        .await
        .unwrap()
        .expect("round trip over TLS");
    assert_eq!(entry.value.to_map()["secure"], true);

    // Without the CA, the server's certificate is not trusted: a typed error, not a panic.
    let err = RedisStore::builder()
        .url(&url)
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_millis(500))
        .build()
        .await
        .unwrap_err();
    println!("untrusted certificate: {err}");
    assert_eq!(err.kind(), stowage_core::ErrorKind::Config, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
