//! The table, the ratio summary and the JSON file.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use crate::backends::Backend;
use crate::runner::{Latency, RunResult};

fn fmt_lat(l: &Latency) -> String {
    if l.count == 0 {
        return format!("{:>8} {:>8} {:>8}", "-", "-", "-");
    }
    format!("{:>8.1} {:>8.1} {:>8.1}", l.p50_us, l.p99_us, l.p999_us)
}

/// The results as a text table.
pub fn table(results: &[RunResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<14} {:<13} {:>12} | {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} | {:>5}",
        "backend",
        "workload",
        "ops/s",
        "get p50",
        "p99",
        "p99.9",
        "put p50",
        "p99",
        "p99.9",
        "hit%"
    );
    let _ = writeln!(out, "{}", "-".repeat(118));
    for r in results {
        let _ = writeln!(
            out,
            "{:<14} {:<13} {:>12.0} | {} | {} | {:>5.1}",
            r.backend,
            r.workload,
            r.ops_per_sec,
            fmt_lat(&r.read),
            fmt_lat(&r.update),
            r.hit_rate * 100.0
        );
    }
    let _ = writeln!(out, "latencies in µs");
    out
}

/// One line per backend and workload that has its baseline in the same run.
pub fn ratios(results: &[RunResult], backends: &[Backend]) -> Vec<String> {
    let mut lines = Vec::new();
    for r in results {
        let Some(base_name) = backends
            .iter()
            .find(|b| b.name == r.backend)
            .and_then(|b| b.baseline)
        else {
            continue;
        };
        let Some(base) = results
            .iter()
            .find(|b| b.backend == base_name && b.workload == r.workload)
        else {
            continue;
        };
        lines.push(format!(
            "{} / {} on {}: {:.2}x ops/s, {:.2}x gets/s",
            r.backend,
            base_name,
            r.workload,
            r.ops_per_sec / base.ops_per_sec,
            r.reads_per_sec / base.reads_per_sec.max(f64::MIN_POSITIVE),
        ));
    }
    lines
}

/// Write the results as JSON into `dir/results.json`.
pub fn write_json(dir: &Path, config: &serde_json::Value, results: &[RunResult]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("results.json");
    let doc = serde_json::json!({ "config": config, "results": results });
    std::fs::write(&path, serde_json::to_vec_pretty(&doc)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
