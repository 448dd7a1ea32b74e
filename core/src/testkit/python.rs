//! The Python side of interop tests: the test venv's interpreter (with `py-key-value-aio`,
//! FastMCP and the MCP SDK, built by `scripts/test.sh`) running a script that answers JSON.
//!
//! ```no_run
//! use stowage_core::testkit::python;
//!
//! let script = python::package_file("tests/py/interop.py");
//! let answer = python::run_json(&script, &["read", "tokens"], Some(&serde_json::json!({"k": 1})));
//! assert!(answer.is_object() || answer.is_null());
//! ```

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The variable `scripts/test.sh` sets to the venv's interpreter.
pub const PYTHON_VAR: &str = "STOWAGE_TEST_PYTHON";

/// The test venv's Python interpreter. Panics when [`PYTHON_VAR`] is unset: an interop test
/// never skips silently.
pub fn interpreter() -> String {
    match std::env::var(PYTHON_VAR) {
        Ok(path) if !path.is_empty() => path,
        _ => panic!(
            "{PYTHON_VAR} is not set: run the tests through scripts/test.sh, which builds the \
             Python venv (py-key-value-aio, FastMCP, the MCP SDK) and exports it"
        ),
    }
}

/// `relative` under the directory of the package whose test is running, from the
/// `CARGO_MANIFEST_DIR` that `cargo test` and `cargo nextest` set for every test process. A path
/// fixed at compile time (`env!("CARGO_MANIFEST_DIR")`) names the checkout the test was built
/// in, and a build directory shared between checkouts hands that binary to the others.
pub fn package_file(relative: &str) -> PathBuf {
    match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(dir) => Path::new(&dir).join(relative),
        None => panic!("CARGO_MANIFEST_DIR is not set: run the tests with cargo test or nextest"),
    }
}

/// Run `script ARGS` with the venv's interpreter, writing `input` (as JSON) to its standard
/// input when given, and parse its standard output as JSON (`Null` when it printed nothing).
/// Panics with the script's standard error when it fails.
pub fn run_json(
    script: &Path,
    args: &[&str],
    input: Option<&serde_json::Value>,
) -> serde_json::Value {
    let mut child = Command::new(interpreter())
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the Python interpreter");
    let mut stdin = child.stdin.take().expect("a piped stdin");
    if let Some(input) = input {
        stdin
            .write_all(input.to_string().as_bytes())
            .expect("write the script's input");
    }
    drop(stdin);
    let out = child.wait_with_output().expect("the Python script ends");
    assert!(
        out.status.success(),
        "python {} {args:?} failed: {}\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim().is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("JSON from {}: {e}\n{text}", script.display()))
    }
}
