//! Running one workload against one adapter: load, warm up, measure.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use indicatif::ProgressBar;

use crate::adapter::{Adapter, Payload, ValueText};
use crate::cpu;
use crate::workload::{Distribution, KeyChooser, Workload};

/// How long a run lasts.
#[derive(Debug, Clone, Copy)]
pub enum Length {
    /// Measure for this long.
    Duration(Duration),
    /// Measure this many operations (shared among the client tasks).
    Ops(u64),
}

/// Settings shared by every run of one harness invocation.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// How much to measure per run.
    pub length: Length,
    /// Unmeasured time before it.
    pub warmup: Duration,
    /// Concurrent client tasks.
    pub concurrency: usize,
    /// Distinct keys loaded before the runs.
    pub keys: usize,
    /// Bytes per value.
    pub value_size: usize,
    /// What the values' text is made of.
    pub value_text: ValueText,
    /// How keys are drawn.
    pub distribution: Distribution,
    /// Cache workload: the share of reads aimed at loaded keys.
    pub hit_rate: f64,
    /// Cache workload: the TTL of entries written on a miss.
    pub cache_ttl: Duration,
}

/// Latency percentiles of one operation kind, in microseconds.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunResult {
    /// Backend name.
    pub backend: String,
    /// Workload name.
    pub workload: String,
    /// Operations per second over the measured time, all kinds together (a read-modify-write
    /// counts once).
    pub ops_per_sec: f64,
    /// Reads per second.
    pub reads_per_sec: f64,
    /// Read latency.
    pub read: Latency,
    /// Write latency (updates, inserts, read-modify-writes, cache fills).
    pub write: Latency,
    /// Share of reads that hit.
    pub hit_rate: f64,
    /// CPU time of the harness process (every thread: client tasks, the engine's own threads,
    /// the blocking pool) per operation over the measured time, in µs; `None` where the
    /// process's CPU time cannot be read, or for a run in another process (the Python runner).
    #[serde(default)]
    pub cpu_us_per_op: Option<f64>,
}

/// A store's run beside its baseline's or Python anchor's run, same workload.
pub type Pair<'a> = (&'a RunResult, &'a RunResult);

/// The name of key number `i`, as YCSB spells them.
pub fn key_name(i: usize) -> String {
    format!("user{i:010}")
}

fn histogram() -> Histogram<u64> {
    // 1 ns .. 60 s at 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

struct TaskOutcome {
    read: Histogram<u64>,
    write: Histogram<u64>,
    hits: u64,
}

/// Load every key into `adapter`.
pub async fn load(adapter: &dyn Adapter, cfg: &RunConfig, payloads: &[Payload]) -> Result<()> {
    let names: Vec<String> = (0..cfg.keys).map(key_name).collect();
    for (c, keys) in names.chunks(500).enumerate() {
        let batch: Vec<(&str, &Payload)> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), &payloads[(c * 500 + i) % payloads.len()]))
            .collect();
        adapter.put_many(&batch).await.context("loading keys")?;
    }
    Ok(())
}

/// What one client task shares with the others.
struct Shared {
    adapter: Arc<dyn Adapter>,
    names: Vec<String>,
    chooser: KeyChooser,
    payloads: Arc<Vec<Payload>>,
    /// Keys inserted so far (read-latest).
    inserted: AtomicUsize,
    /// Operations left to start (when the length is an op count).
    budget: Option<AtomicUsize>,
    workload: Workload,
    cfg: RunConfig,
    /// The process's CPU time when the first task entered the measured time. Taken by a client
    /// task, not a task of its own: with an engine whose calls never wait, client tasks do not
    /// yield, and another task would only run once they are done.
    cpu_start: OnceLock<Option<Duration>>,
}

enum Kind {
    Read,
    Write,
}

impl Shared {
    fn name(&self, i: usize) -> std::borrow::Cow<'_, str> {
        match self.names.get(i) {
            Some(n) => n.as_str().into(),
            None => key_name(i).into(),
        }
    }

    fn payload(&self, rng: &mut fastrand::Rng) -> &Payload {
        &self.payloads[rng.usize(..self.payloads.len())]
    }

    /// Run one operation of the workload; returns its kind and whether a read hit.
    async fn op(&self, rng: &mut fastrand::Rng) -> Result<(Kind, bool)> {
        let a = &self.adapter;
        let reading = rng.f64() < self.workload.read_fraction();
        match self.workload {
            Workload::UpdateHeavy | Workload::ReadHeavy | Workload::ReadOnly => {
                let key = &self.names[self.chooser.next(rng)];
                if reading {
                    Ok((Kind::Read, a.get(key).await?))
                } else {
                    a.put(key, self.payload(rng)).await?;
                    Ok((Kind::Write, false))
                }
            }
            Workload::ReadLatest => {
                if reading {
                    let count = self.inserted.load(Ordering::Relaxed);
                    let key = self.name(self.chooser.latest(rng, count));
                    Ok((Kind::Read, a.get(&key).await?))
                } else {
                    let key = key_name(self.inserted.fetch_add(1, Ordering::Relaxed));
                    a.put(&key, self.payload(rng)).await?;
                    Ok((Kind::Write, false))
                }
            }
            Workload::ReadModifyWrite => {
                let key = &self.names[self.chooser.next(rng)];
                let hit = a.get(key).await?;
                if reading {
                    Ok((Kind::Read, hit))
                } else {
                    a.put(key, self.payload(rng)).await?;
                    Ok((Kind::Write, false))
                }
            }
            Workload::Cache => {
                let key = if rng.f64() < self.cfg.hit_rate {
                    self.name(self.chooser.next(rng))
                } else {
                    // A cold key space a hundred times larger: misses, filled with a TTL.
                    let cold = self.cfg.keys * 100;
                    key_name(self.cfg.keys + rng.usize(..cold.max(1))).into()
                };
                if a.get(&key).await? {
                    Ok((Kind::Read, true))
                } else {
                    a.put_ttl(&key, self.payload(rng), self.cfg.cache_ttl)
                        .await?;
                    Ok((Kind::Read, false))
                }
            }
        }
    }

    fn take_budget(&self) -> bool {
        match &self.budget {
            None => true,
            Some(b) => b
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
        }
    }
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
    let shared = Arc::new(Shared {
        adapter,
        names: (0..cfg.keys).map(key_name).collect(),
        chooser: KeyChooser::new(cfg.distribution, cfg.keys),
        payloads,
        inserted: AtomicUsize::new(cfg.keys),
        budget: match cfg.length {
            Length::Ops(n) => Some(AtomicUsize::new(n as usize)),
            Length::Duration(_) => None,
        },
        workload,
        cfg: cfg.clone(),
        cpu_start: OnceLock::new(),
    });
    let start = Instant::now();
    let measure_from = start + cfg.warmup;
    let end = match cfg.length {
        Length::Duration(d) => Some(measure_from + d),
        Length::Ops(_) => None,
    };
    let mut tasks = Vec::with_capacity(cfg.concurrency);
    for t in 0..cfg.concurrency {
        let shared = shared.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(0x5eed + t as u64);
            let mut measured_before = false;
            let mut out = TaskOutcome {
                read: histogram(),
                write: histogram(),
                hits: 0,
            };
            loop {
                let began = Instant::now();
                let measuring = began >= measure_from;
                if end.is_some_and(|e| began >= e) || (measuring && !shared.take_budget()) {
                    break;
                }
                if measuring && !measured_before {
                    measured_before = true;
                    shared.cpu_start.get_or_init(cpu::process_cpu);
                }
                let (kind, hit) = shared.op(&mut rng).await?;
                if measuring {
                    let nanos = (Instant::now() - began).as_nanos().max(1) as u64;
                    match kind {
                        Kind::Read => {
                            out.read.saturating_record(nanos);
                            out.hits += u64::from(hit);
                        }
                        Kind::Write => out.write.saturating_record(nanos),
                    }
                }
            }
            anyhow::Ok(out)
        }));
    }
    let ticker = {
        let progress = progress.clone();
        let shared = shared.clone();
        let length = cfg.length;
        let warmup = cfg.warmup;
        tokio::spawn(async move {
            loop {
                let elapsed = start.elapsed();
                let pos = match (length, &shared.budget) {
                    (Length::Duration(d), _) => elapsed.min(warmup + d).as_millis() as u64,
                    (Length::Ops(n), Some(b)) => {
                        let left = b.load(Ordering::Relaxed) as u64;
                        let warm = elapsed.min(warmup).as_millis() as u64;
                        warm + (n - left.min(n)) * 1000 / n.max(1)
                    }
                    (Length::Ops(_), None) => 0,
                };
                progress.set_position(pos);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let mut read = histogram();
    let mut write = histogram();
    let mut hits = 0;
    let mut first_error = None;
    for t in tasks {
        match t.await.context("a client task panicked")? {
            Ok(o) => {
                read.add(&o.read).expect("same histogram bounds");
                write.add(&o.write).expect("same histogram bounds");
                hits += o.hits;
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let cpu_end = cpu::process_cpu();
    ticker.abort();
    if let Some(e) = first_error {
        return Err(e);
    }
    let cpu_used = match (shared.cpu_start.get().copied().flatten(), cpu_end) {
        (Some(start), Some(end)) => end.checked_sub(start),
        _ => None,
    };
    let secs = (start.elapsed().saturating_sub(cfg.warmup))
        .as_secs_f64()
        .max(1e-9);
    let secs = match cfg.length {
        Length::Duration(d) => d.as_secs_f64(),
        Length::Ops(_) => secs,
    };
    let reads = read.len();
    let ops = reads + write.len();
    Ok(RunResult {
        backend: backend.to_owned(),
        workload: workload.name().to_owned(),
        ops_per_sec: ops as f64 / secs,
        reads_per_sec: reads as f64 / secs,
        read: Latency::of(&read),
        write: Latency::of(&write),
        hit_rate: if reads == 0 {
            0.0
        } else {
            hits as f64 / reads as f64
        },
        cpu_us_per_op: cpu_used
            .filter(|_| ops > 0)
            .map(|cpu| cpu.as_secs_f64() * 1e6 / ops as f64),
    })
}

/// The progress bar's length for one run: milliseconds for timed runs, warm-up milliseconds plus
/// 1000 for counted runs.
pub fn progress_len(cfg: &RunConfig) -> u64 {
    match cfg.length {
        Length::Duration(d) => (cfg.warmup + d).as_millis() as u64,
        Length::Ops(_) => cfg.warmup.as_millis() as u64 + 1000,
    }
}
