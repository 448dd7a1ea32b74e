//! Running one workload against one adapter: load, warm up, measure.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use indicatif::ProgressBar;

use crate::adapter::{Adapter, Payload};
use crate::workload::{Distribution, KeyChooser, Workload};

/// Settings shared by every run of one harness invocation.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Measured time per run.
    pub duration: Duration,
    /// Unmeasured time before it.
    pub warmup: Duration,
    /// Concurrent client tasks.
    pub concurrency: usize,
    /// Distinct keys.
    pub keys: usize,
    /// Bytes per value.
    pub value_size: usize,
    /// How keys are drawn.
    pub distribution: Distribution,
}

/// Latency percentiles of one operation kind, in microseconds.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Latency {
    /// Operations measured.
    pub count: u64,
    /// Median.
    pub p50_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
}

impl Latency {
    fn of(h: &Histogram<u64>) -> Latency {
        let us = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        Latency {
            count: h.len(),
            p50_us: us(0.50),
            p99_us: us(0.99),
            p999_us: us(0.999),
        }
    }
}

/// The outcome of one run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunResult {
    /// Backend name.
    pub backend: String,
    /// Workload name.
    pub workload: String,
    /// Operations per second over the measured time, all kinds together.
    pub ops_per_sec: f64,
    /// Reads per second.
    pub reads_per_sec: f64,
    /// Read latency.
    pub read: Latency,
    /// Update latency.
    pub update: Latency,
    /// Share of reads that hit.
    pub hit_rate: f64,
}

fn key_name(i: usize) -> String {
    format!("user{i:010}")
}

fn histogram() -> Histogram<u64> {
    // 1 ns .. 60 s at 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

struct TaskOutcome {
    read: Histogram<u64>,
    update: Histogram<u64>,
    hits: u64,
}

/// Load every key into `adapter`.
pub async fn load(adapter: &dyn Adapter, cfg: &RunConfig, payloads: &[Payload]) -> Result<()> {
    let names: Vec<String> = (0..cfg.keys).map(key_name).collect();
    for chunk in names.chunks(500).enumerate() {
        let (c, keys) = chunk;
        let batch: Vec<(&str, &Payload)> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), &payloads[(c * 500 + i) % payloads.len()]))
            .collect();
        adapter.put_many(&batch).await.context("loading keys")?;
    }
    Ok(())
}

/// Run `workload` on `adapter` (already loaded) and measure it.
pub async fn run(
    backend: &str,
    adapter: Arc<dyn Adapter>,
    workload: Workload,
    cfg: &RunConfig,
    payloads: Arc<Vec<Payload>>,
    progress: &ProgressBar,
) -> Result<RunResult> {
    let names: Arc<Vec<String>> = Arc::new((0..cfg.keys).map(key_name).collect());
    let chooser = Arc::new(KeyChooser::new(cfg.distribution, cfg.keys));
    let start = Instant::now();
    let measure_from = start + cfg.warmup;
    let end = measure_from + cfg.duration;
    let mut tasks = Vec::with_capacity(cfg.concurrency);
    for t in 0..cfg.concurrency {
        let (adapter, names, chooser, payloads) = (
            adapter.clone(),
            names.clone(),
            chooser.clone(),
            payloads.clone(),
        );
        let read_fraction = workload.read_fraction();
        tasks.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(0x5eed + t as u64);
            let mut out = TaskOutcome {
                read: histogram(),
                update: histogram(),
                hits: 0,
            };
            loop {
                let key = &names[chooser.next(&mut rng)];
                let is_read = rng.f64() < read_fraction;
                let began = Instant::now();
                if began >= end {
                    break;
                }
                let hit = if is_read {
                    adapter.get(key).await?
                } else {
                    let p = &payloads[rng.usize(..payloads.len())];
                    adapter.put(key, p).await?;
                    false
                };
                let done = Instant::now();
                if began >= measure_from {
                    let nanos = (done - began).as_nanos().max(1) as u64;
                    let h = if is_read {
                        &mut out.read
                    } else {
                        &mut out.update
                    };
                    h.saturating_record(nanos);
                    out.hits += u64::from(hit);
                }
            }
            anyhow::Ok(out)
        }));
    }
    let ticker = {
        let progress = progress.clone();
        let total = cfg.warmup + cfg.duration;
        tokio::spawn(async move {
            loop {
                let elapsed = start.elapsed().min(total);
                progress.set_position(elapsed.as_millis() as u64);
                if elapsed >= total {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let mut read = histogram();
    let mut update = histogram();
    let mut hits = 0;
    for t in tasks {
        let o = t.await.context("a client task panicked")??;
        read.add(&o.read).expect("same histogram bounds");
        update.add(&o.update).expect("same histogram bounds");
        hits += o.hits;
    }
    ticker.abort();
    let secs = cfg.duration.as_secs_f64();
    let reads = read.len();
    Ok(RunResult {
        backend: backend.to_owned(),
        workload: workload.name().to_owned(),
        ops_per_sec: (reads + update.len()) as f64 / secs,
        reads_per_sec: reads as f64 / secs,
        read: Latency::of(&read),
        update: Latency::of(&update),
        hit_rate: if reads == 0 {
            0.0
        } else {
            hits as f64 / reads as f64
        },
    })
}
