//! What a harness run leaves behind: the table, the ratio summary, JSON, CSV and the plot.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use crate::backends::Backend;
use crate::runner::{Latency, Pair, RunResult};

fn fmt_lat(l: &Latency) -> String {
    if l.count == 0 {
        return format!("{:>8} {:>8} {:>8}", "-", "-", "-");
    }
    format!("{:>8.1} {:>8.1} {:>8.1}", l.p50_us, l.p99_us, l.p999_us)
}

/// The results as a text table; the backend column is as wide as its longest name.
pub fn table(results: &[RunResult]) -> String {
    let width = results
        .iter()
        .map(|r| r.backend.chars().count())
        .max()
        .unwrap_or(0)
        .max(16);
    let header = format!(
        "{:<width$} {:<17} {:>12} | {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} | {:>5} | {:>7}",
        "backend",
        "workload",
        "ops/s",
        "get p50",
        "p99",
        "p99.9",
        "wr p50",
        "p99",
        "p99.9",
        "hit%",
        "cpu/op"
    );
    let mut out = String::new();
    let _ = writeln!(out, "{header}\n{}", "-".repeat(header.len()));
    for r in results {
        let _ = writeln!(
            out,
            "{:<width$} {:<17} {:>12.0} | {} | {} | {:>5.1} | {:>7}",
            r.backend,
            r.workload,
            r.ops_per_sec,
            fmt_lat(&r.read),
            fmt_lat(&r.write),
            r.hit_rate * 100.0,
            r.cpu_us_per_op
                .map_or_else(|| "-".to_owned(), |us| format!("{us:.2}"))
        );
    }
    let _ = writeln!(
        out,
        "latencies in µs; `wr` = writes (updates, inserts, read-modify-writes); `cpu/op` = the \
         harness process's CPU µs per operation (client and in-process engine)"
    );
    out
}

/// `base`'s CPU time per operation over `r`'s: like an ops/s ratio, above 1 when `r` costs less.
fn cpu_ratio(r: &RunResult, base: &RunResult) -> Option<f64> {
    match (r.cpu_us_per_op, base.cpu_us_per_op) {
        (Some(run), Some(base)) if run > 0.0 => Some(base / run),
        _ => None,
    }
}

fn ratio_line(r: &RunResult, base: &RunResult) -> String {
    let mut line = format!(
        "{} / {} on {}: {:.2}x ops/s, {:.2}x reads/s",
        r.backend,
        base.backend,
        r.workload,
        r.ops_per_sec / base.ops_per_sec.max(f64::MIN_POSITIVE),
        r.reads_per_sec / base.reads_per_sec.max(f64::MIN_POSITIVE),
    );
    if let Some(cpu) = cpu_ratio(r, base) {
        let _ = write!(line, ", {cpu:.2}x by CPU per op");
    }
    line
}

/// The run of `backend` on `workload` in `results`, if there is one.
fn find<'a>(results: &'a [RunResult], backend: &str, workload: &str) -> Option<&'a RunResult> {
    results
        .iter()
        .find(|r| r.backend == backend && r.workload == workload)
}

/// Every run whose raw baseline, or Python anchor (`pykv-<backend>`), ran in the same
/// invocation, paired with it (baseline first, then anchor).
pub fn baseline_pairs<'a>(results: &'a [RunResult], backends: &[Backend]) -> Vec<Pair<'a>> {
    let mut pairs = Vec::new();
    for r in results {
        let baseline = backends
            .iter()
            .find(|b| b.name == r.backend)
            .and_then(|b| b.baseline);
        if let Some(base) = baseline.and_then(|b| find(results, b, &r.workload)) {
            pairs.push((r, base));
        }
        if let Some(anchor) = find(results, &format!("pykv-{}", r.backend), &r.workload) {
            pairs.push((r, anchor));
        }
    }
    pairs
}

/// One line per pair of [`baseline_pairs`].
pub fn ratios(results: &[RunResult], backends: &[Backend]) -> Vec<String> {
    baseline_pairs(results, backends)
        .into_iter()
        .map(|(r, base)| ratio_line(r, base))
        .collect()
}

/// One result per (backend, workload): the run with the median ops/s over the rounds (the upper
/// median for an even count), in the order of the first round.
pub fn medians(rounds: &[Vec<RunResult>]) -> Vec<RunResult> {
    let Some(first) = rounds.first() else {
        return Vec::new();
    };
    first
        .iter()
        .map(|r| {
            let mut runs: Vec<&RunResult> = rounds
                .iter()
                .filter_map(|round| find(round, &r.backend, &r.workload))
                .collect();
            runs.sort_by(|a, b| a.ops_per_sec.total_cmp(&b.ops_per_sec));
            runs[runs.len() / 2].clone()
        })
        .collect()
}

/// With several rounds: for each backend with a baseline, the ops/s ratio of every round (each
/// measured next to its baseline), as median and range.
pub fn round_spreads(rounds: &[Vec<RunResult>], backends: &[Backend]) -> Vec<String> {
    let Some(first) = rounds.first() else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    for r in first {
        let Some(base) = backends
            .iter()
            .find(|b| b.name == r.backend)
            .and_then(|b| b.baseline)
        else {
            continue;
        };
        let pairs: Vec<(&RunResult, &RunResult)> = rounds
            .iter()
            .filter_map(|round| {
                Some((
                    find(round, &r.backend, &r.workload)?,
                    find(round, base, &r.workload)?,
                ))
            })
            .collect();
        let by_ops = spread(
            pairs
                .iter()
                .map(|(run, base)| run.ops_per_sec / base.ops_per_sec.max(f64::MIN_POSITIVE))
                .collect(),
        );
        let Some((median, low, high, n)) = by_ops else {
            continue;
        };
        let mut line = format!(
            "{} / {} on {}: median {median:.2}x ops/s per round ({low:.2}x to {high:.2}x over {n} rounds)",
            r.backend, base, r.workload,
        );
        let by_cpu: Option<Vec<f64>> = pairs
            .iter()
            .map(|(run, base)| cpu_ratio(run, base))
            .collect();
        if let Some((median, low, high, _)) = by_cpu.and_then(spread) {
            let _ = write!(
                line,
                "; by CPU per op: median {median:.2}x ({low:.2}x to {high:.2}x)"
            );
        }
        lines.push(line);
    }
    lines
}

/// Median, lowest, highest and count of `values`; `None` when there are none.
fn spread(mut values: Vec<f64>) -> Option<(f64, f64, f64, usize)> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some((values.get(n / 2).copied()?, values[0], values[n - 1], n))
}

/// Write `results.json`, `results.csv` and `results.svg` (see [`crate::plot`]) into `dir`.
pub fn write_all(
    dir: &Path,
    config: &serde_json::Value,
    results: &[RunResult],
    backends: &[Backend],
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let doc = serde_json::json!({ "config": config, "results": results });
    write(dir, "results.json", &serde_json::to_vec_pretty(&doc)?)?;
    write(dir, "results.csv", csv(results).as_bytes())?;
    let svg = crate::plot::svg(results, &baseline_pairs(results, backends))?;
    write(dir, "results.svg", svg.as_bytes())?;
    Ok(())
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// The results as CSV, one row per run.
pub fn csv(results: &[RunResult]) -> String {
    let mut out = String::from(
        "backend,workload,ops_per_sec,reads_per_sec,hit_rate,\
         read_p50_us,read_p99_us,read_p999_us,write_p50_us,write_p99_us,write_p999_us,\
         cpu_us_per_op\n",
    );
    for r in results {
        let _ = writeln!(
            out,
            "{},{},{:.1},{:.1},{:.4},{:.2},{:.2},{:.2},{:.2},{:.2},{:.2},{}",
            r.backend,
            r.workload,
            r.ops_per_sec,
            r.reads_per_sec,
            r.hit_rate,
            r.read.p50_us,
            r.read.p99_us,
            r.read.p999_us,
            r.write.p50_us,
            r.write.p99_us,
            r.write.p999_us,
            r.cpu_us_per_op
                .map_or_else(String::new, |us| format!("{us:.3}"))
        );
    }
    out
}

/// Ratio lines: each stack's row against the first stack's row, same backend and workload.
pub fn stack_ratios(results: &[RunResult], backends: &[String], labels: &[String]) -> Vec<String> {
    let mut lines = Vec::new();
    let Some(reference) = labels.first() else {
        return lines;
    };
    for backend in backends {
        for label in &labels[1..] {
            let name = format!("{backend}+{label}");
            let base = format!("{backend}+{reference}");
            for r in results.iter().filter(|r| r.backend == name) {
                if let Some(b) = results
                    .iter()
                    .find(|b| b.backend == base && b.workload == r.workload)
                {
                    lines.push(format!(
                        "{name} / {base} on {}: {:.3}x ops/s, read p50 {:.2}x",
                        r.workload,
                        r.ops_per_sec / b.ops_per_sec,
                        if b.read.p50_us > 0.0 {
                            r.read.p50_us / b.read.p50_us
                        } else {
                            0.0
                        },
                    ));
                }
            }
        }
    }
    lines
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A run of `backend` on `workload` at `ops` ops/s (CPU per op 1000 / ops µs).
    pub(crate) fn result(backend: &str, workload: &str, ops: f64) -> RunResult {
        RunResult {
            backend: backend.into(),
            workload: workload.into(),
            ops_per_sec: ops,
            reads_per_sec: ops / 2.0,
            read: Latency::default(),
            write: Latency::default(),
            hit_rate: 1.0,
            cpu_us_per_op: Some(1000.0 / ops),
        }
    }

    #[test]
    fn table_columns_stay_aligned_with_long_backend_names() {
        let text = table(&[
            result("memory", "read-only", 10.0),
            result("redis-cluster-raw-bounded", "read-only", 5.0),
        ]);
        let bars: Vec<Vec<usize>> = text
            .lines()
            .filter(|l| l.contains('|'))
            .map(|l| l.match_indices('|').map(|(i, _)| i).collect())
            .collect();
        assert_eq!(bars.len(), 3, "{text}");
        assert!(bars.iter().all(|b| *b == bars[0]), "{text}");
        let rule = text.lines().nth(1).unwrap();
        assert_eq!(rule.len(), text.lines().next().unwrap().len(), "{text}");
    }

    #[test]
    fn csv_has_a_row_per_result() {
        let text = csv(&[
            result("memory", "read-only", 10.0),
            result("moka", "read-only", 5.0),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].starts_with("memory,read-only,10.0,5.0,1.0000"));
    }

    #[test]
    fn ratios_pair_baselines_and_python_anchors() {
        let backends = vec![crate::backends::find("memory").unwrap()];
        let results = [
            result("memory", "a", 100.0),
            result("moka", "a", 50.0),
            result("pykv-memory", "a", 1.0),
        ];
        let lines = ratios(&results, &backends);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains("memory / moka on a: 2.00x"));
        assert!(lines[1].contains("memory / pykv-memory on a: 100.00x"));
        // CPU per op: 10 µs for memory, 20 µs for moka: memory costs half, a 2x ratio.
        assert!(lines[0].ends_with(", 2.00x by CPU per op"), "{lines:?}");
    }

    #[test]
    fn a_ratio_leaves_out_cpu_when_a_side_has_none() {
        let backends = vec![crate::backends::find("memory").unwrap()];
        let mut moka = result("moka", "a", 50.0);
        moka.cpu_us_per_op = None;
        let lines = ratios(&[result("memory", "a", 100.0), moka], &backends);
        assert_eq!(lines, ["memory / moka on a: 2.00x ops/s, 2.00x reads/s"]);
    }

    #[test]
    fn round_spreads_give_ops_and_cpu_medians_and_ranges() {
        let backends = vec![crate::backends::find("memory").unwrap()];
        let round = |memory: f64, moka: f64, memory_cpu: f64| {
            let mut m = result("memory", "a", memory);
            m.cpu_us_per_op = Some(memory_cpu);
            vec![m, result("moka", "a", moka)]
        };
        // moka costs 1000 / ops µs per op: 20, 10, 10 µs.
        let rounds = [
            round(100.0, 50.0, 10.0),
            round(90.0, 100.0, 20.0),
            round(300.0, 100.0, 5.0),
        ];
        let lines = round_spreads(&rounds, &backends);
        assert_eq!(
            lines,
            [
                "memory / moka on a: median 2.00x ops/s per round (0.90x to 3.00x over 3 rounds); \
              by CPU per op: median 2.00x (0.50x to 2.00x)"
            ]
        );
    }
}
