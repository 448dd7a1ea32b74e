//! The Python anchor: py-key-value-aio's stores run by `py/pykv_bench.py` on the same workload,
//! their result read back as a [`RunResult`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::ValueEnum;

use crate::backends;
use crate::runner::{Length, RunConfig, RunResult};
use crate::workload::Workload;

/// The Python runner, `py/pykv_bench.py` in this package: under the `CARGO_MANIFEST_DIR` that
/// `cargo run` and the tests set when it holds the runner (a build directory shared between
/// checkouts can run this binary from another checkout), else where the binary was built.
fn pykv_script() -> PathBuf {
    const RUNNER: &str = "py/pykv_bench.py";
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(|dir| Path::new(&dir).join(RUNNER))
        .filter(|script| script.is_file())
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(RUNNER))
}

/// Run the Python anchor for one store and workload (`python` is the interpreter of a venv
/// with py-key-value-aio).
pub fn run(
    python: &Path,
    store: &str,
    workload: Workload,
    cfg: &RunConfig,
    ctx: &backends::BuildContext,
) -> Result<RunResult> {
    let script = pykv_script();
    let Length::Duration(duration) = cfg.length else {
        bail!("the Python anchor runs by duration; drop --ops");
    };
    let mut cmd = std::process::Command::new(python);
    cmd.arg(&script)
        .args(["--store", store, "--workload", workload.name()])
        .args(["--duration", &duration.as_secs_f64().to_string()])
        .args(["--warmup", &cfg.warmup.as_secs_f64().to_string()])
        .args(["--concurrency", &cfg.concurrency.to_string()])
        .args(["--keys", &cfg.keys.to_string()])
        .args(["--value-size", &cfg.value_size.to_string()])
        .args(["--value-text", &arg_name(cfg.value_text)])
        .args(["--hit-rate", &cfg.hit_rate.to_string()])
        .args(["--cache-ttl", &cfg.cache_ttl.as_secs_f64().to_string()])
        .args(["--distribution", &arg_name(cfg.distribution)]);
    if store != "memory" {
        cmd.args(["--url", &ctx.url(store)?]);
    }
    let out = cmd
        .output()
        .with_context(|| format!("starting {}", python.display()))?;
    if !out.status.success() {
        bail!(
            "the py-key-value-aio {store} run failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    serde_json::from_slice(&out.stdout).context("reading the Python runner's result")
}

/// An option value's command-line name, as clap parses it (the Python runner takes the same).
pub fn arg_name(value: impl ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default()
}
