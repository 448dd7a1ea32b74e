//! `stowage-bench`: the same workload over Stowage backends and their raw clients.
//!
//! With no arguments it runs every embedded backend (no server needed) beside its raw baseline,
//! on a read-heavy and an update-heavy workload, prints a table and the ratios, and writes JSON,
//! CSV and an SVG plot.
//!
//! ```text
//! cargo run --release -p stowage-bench
//! cargo run --release -p stowage-bench -- --backends memory,moka --workloads a,b,c,d,f,cache
//! cargo run --release -p stowage-bench -- --backends redis,redis-raw --url redis=redis://127.0.0.1:6379/
//! cargo run --release -p stowage-bench -- --python ~/.cache/stowage/venv/bin/python --pykv memory
//! cargo run --release -p stowage-bench -- --list
//! ```

#![deny(unsafe_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use stowage_bench::adapter::{self, Payload, ValueText};
use stowage_bench::runner::{self, Length, RunConfig, RunResult};
use stowage_bench::workload::{Distribution, Workload};
use stowage_bench::{backends, pykv, report};

/// Benchmark Stowage backends beside their raw clients.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Backends to run, comma-separated (see --list). Default: every embedded backend.
    #[arg(long, value_delimiter = ',')]
    backends: Vec<String>,
    /// Workloads, comma-separated: update-heavy (YCSB a), read-heavy (b), read-only (c),
    /// read-latest (d), read-modify-write (f), cache.
    #[arg(long, value_delimiter = ',', default_value = "read-heavy,update-heavy")]
    workloads: Vec<String>,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 3.0)]
    duration: f64,
    /// Measure this many operations per run instead of a duration.
    #[arg(long)]
    ops: Option<u64>,
    /// Unmeasured warm-up seconds per run.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Run every (backend, workload) row this many times, alternating the backends' order
    /// between rounds; the table keeps each row's median run and the ratios show their spread.
    /// Use an odd number (3 or 5) on a noisy machine.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Concurrent client tasks.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Distinct keys, all loaded before the runs.
    #[arg(long, default_value_t = 10_000)]
    keys: usize,
    /// Bytes per value (a JSON object of about this size).
    #[arg(long, default_value_t = 1024)]
    value_size: usize,
    /// What the values' text is made of: ASCII letters and digits, or `unicode` (accented
    /// letters, CJK and emoji mixed in, as user-facing text often is).
    #[arg(long, value_enum, default_value_t = ValueText::Ascii)]
    value_text: ValueText,
    /// How keys are drawn.
    #[arg(long, value_enum, default_value_t = Distribution::Zipfian)]
    distribution: Distribution,
    /// Cache workload: share of reads aimed at loaded keys (the rest miss and fill with a TTL).
    #[arg(long, default_value_t = 0.9)]
    hit_rate: f64,
    /// Cache workload: TTL in seconds of entries written on a miss.
    #[arg(long, default_value_t = 1.0)]
    cache_ttl: f64,
    /// A server URL for an engine kind, `KIND=URL` (redis, redis-cluster, mongodb, dynamodb);
    /// repeatable. Falls back to the environment variable STOWAGE_BENCH_URL_<KIND>.
    #[arg(long = "url", value_name = "KIND=URL")]
    urls: Vec<String>,
    /// Python interpreter with py-key-value-aio installed, for the Python anchor (--pykv).
    #[arg(long, env = "STOWAGE_BENCH_PYTHON")]
    python: Option<PathBuf>,
    /// py-key-value-aio stores to run as anchors, comma-separated: memory, redis.
    #[arg(long, value_delimiter = ',')]
    pykv: Vec<String>,
    /// A wrapper stack over every Stowage backend, innermost first (e.g.
    /// `fernet,compression,stats`; `none` for the bare store); repeatable, one row per stack,
    /// with ratios against the first. Raw baselines stay bare. `fernet-raw` is the raw `fernet`
    /// crate baseline of `fernet`.
    #[arg(long = "wrappers", value_name = "STACK")]
    wrappers: Vec<String>,
    /// Directory for results.json, results.csv and results.svg.
    #[arg(long, default_value = "bench-results")]
    out: PathBuf,
    /// List the known backends and exit.
    #[arg(long)]
    list: bool,
}

fn seconds(what: &str, secs: f64, allow_zero: bool) -> Result<Duration> {
    if !secs.is_finite() || secs < 0.0 || (!allow_zero && secs == 0.0) || secs > 86_400.0 {
        bail!(
            "--{what} must be {} and at most a day, got {secs}",
            if allow_zero {
                "zero or more seconds"
            } else {
                "more than zero seconds"
            }
        );
    }
    Ok(Duration::from_secs_f64(secs))
}

fn config(args: &Args) -> Result<RunConfig> {
    if args.concurrency == 0 || args.concurrency > 100_000 {
        bail!("--concurrency must be between 1 and 100000");
    }
    if args.rounds == 0 || args.rounds > 1000 {
        bail!("--rounds must be between 1 and 1000");
    }
    if args.keys == 0 {
        bail!("--keys must be at least 1");
    }
    if args.value_size < 16 {
        bail!("--value-size must be at least 16 bytes");
    }
    if !(0.0..=1.0).contains(&args.hit_rate) {
        bail!("--hit-rate must be between 0 and 1, got {}", args.hit_rate);
    }
    let length = match args.ops {
        Some(0) => bail!("--ops must be at least 1"),
        Some(n) => Length::Ops(n),
        None => Length::Duration(seconds("duration", args.duration, false)?),
    };
    Ok(RunConfig {
        length,
        warmup: seconds("warmup", args.warmup, true)?,
        concurrency: args.concurrency,
        keys: args.keys,
        value_size: args.value_size,
        value_text: args.value_text,
        distribution: args.distribution,
        hit_rate: args.hit_rate,
        cache_ttl: seconds("cache-ttl", args.cache_ttl, false)?,
    })
}

fn parse_urls(urls: &[String]) -> Result<HashMap<String, String>> {
    urls.iter()
        .map(|u| match u.split_once('=') {
            Some((kind, url)) if !kind.is_empty() && !url.is_empty() => {
                Ok((kind.to_owned(), url.to_owned()))
            }
            _ => bail!("--url takes KIND=URL, e.g. redis=redis://127.0.0.1:6379/, got `{u}`"),
        })
        .collect()
}

async fn run(args: Args) -> Result<()> {
    if args.list {
        let all = backends::all();
        let width = all.iter().map(|b| b.name.len()).max().unwrap_or(0);
        for b in all {
            let kind = if b.embedded { "embedded" } else { "server" };
            println!("{:<width$} {:<9} {}", b.name, kind, b.about);
        }
        return Ok(());
    }
    let cfg = config(&args)?;
    let workloads = args
        .workloads
        .iter()
        .map(|w| Workload::parse(w))
        .collect::<Result<Vec<_>>>()?;
    let selected: Vec<backends::Backend> = if args.backends.is_empty() {
        backends::all().into_iter().filter(|b| b.embedded).collect()
    } else {
        args.backends
            .iter()
            .map(|n| backends::find(n.trim()))
            .collect::<Result<_>>()?
    };
    let python = match (&args.python, args.pykv.is_empty()) {
        (_, true) => None,
        (Some(p), false) => Some(p.clone()),
        (None, false) => bail!("--pykv needs --python PATH (or STOWAGE_BENCH_PYTHON)"),
    };
    let ctx = backends::BuildContext::new(cfg.keys, cfg.value_size, parse_urls(&args.urls)?);
    let mut rng = fastrand::Rng::with_seed(42);
    let payloads = Arc::new(
        (0..64)
            .map(|_| Payload::of_size(cfg.value_size, cfg.value_text, &mut rng))
            .collect::<Result<Vec<_>>>()?,
    );
    let style = ProgressStyle::with_template("{prefix:>34} [{bar:30}] {elapsed_precise} {msg}")
        .expect("valid template")
        .progress_chars("=> ");
    eprintln!(
        "stowage-bench: {} backend(s) x {} workload(s), {} keys, {} B values, concurrency {}, {:?} per run + {:?} warm-up, {:?} keys",
        selected.len() + args.pykv.len(),
        workloads.len(),
        cfg.keys,
        cfg.value_size,
        cfg.concurrency,
        cfg.length,
        cfg.warmup,
        cfg.distribution
    );
    // Each backend gets freshly built layers (their state, such as a cache's local tier, is
    // not shared between backends); parse once here to report bad names before any run.
    let labels = args
        .wrappers
        .iter()
        .map(|s| stowage_bench::wrappers::Stack::parse(s).map(|s| s.label()))
        .collect::<Result<Vec<_>>>()?;
    let stacks: Vec<Option<&String>> = if args.wrappers.is_empty() {
        vec![None]
    } else {
        args.wrappers.iter().map(Some).collect()
    };
    // Build and load every row first, then run them workload by workload, so rows compared
    // with each other run close together in time (and, with --rounds, in alternating order).
    let mut prepared: Vec<(String, Arc<dyn adapter::Adapter>)> = Vec::new();
    for (backend, stack) in selected
        .iter()
        .flat_map(|b| stacks.iter().enumerate().map(move |s| (b, s)))
    {
        let (nth, spec) = stack;
        let stack = match spec {
            Some(spec) => Some(Arc::new(stowage_bench::wrappers::Stack::parse(spec)?)),
            None => None,
        };
        let row = ctx.with_stack(stack.clone());
        let adapter: Arc<dyn adapter::Adapter> = Arc::from(
            (backend.build)(&row).with_context(|| format!("opening backend `{}`", backend.name))?,
        );
        let wrapped = row.wrapped();
        if !wrapped && nth > 0 {
            continue; // a raw baseline runs once, bare
        }
        let name = match stack {
            Some(s) if wrapped => format!("{}+{}", backend.name, s.label()),
            _ => backend.name.to_owned(),
        };
        runner::load(adapter.as_ref(), &cfg, &payloads)
            .await
            .with_context(|| format!("loading `{}`", backend.name))?;
        prepared.push((name, adapter));
    }
    let mut rounds: Vec<Vec<RunResult>> = vec![Vec::new(); args.rounds];
    for &workload in &workloads {
        for (round, results) in rounds.iter_mut().enumerate() {
            let order: Vec<&(String, Arc<dyn adapter::Adapter>)> = if round % 2 == 0 {
                prepared.iter().collect()
            } else {
                prepared.iter().rev().collect()
            };
            for (name, adapter) in order {
                let prefix = if args.rounds > 1 {
                    format!("{name} / {workload} ({}/{})", round + 1, args.rounds)
                } else {
                    format!("{name} / {workload}")
                };
                let bar = ProgressBar::new(runner::progress_len(&cfg))
                    .with_style(style.clone())
                    .with_prefix(prefix);
                let result = runner::run(
                    name,
                    adapter.clone(),
                    workload,
                    &cfg,
                    payloads.clone(),
                    &bar,
                )
                .await
                .with_context(|| format!("running `{workload}` on `{name}`"))?;
                bar.finish_with_message(format!("{:.0} ops/s", result.ops_per_sec));
                results.push(result);
            }
        }
    }
    drop(prepared);
    let order: Vec<String> = rounds[0].iter().map(|r| r.backend.clone()).collect();
    let mut results = report::medians(&rounds);
    // Group the table by backend, in the order given, then by workload.
    results.sort_by_key(|r| order.iter().position(|n| *n == r.backend));
    if let Some(python) = &python {
        for store in &args.pykv {
            for &workload in &workloads {
                let bar = ProgressBar::new_spinner()
                    .with_prefix(format!("pykv-{store} / {workload}"))
                    .with_style(
                        ProgressStyle::with_template("{prefix:>34} {spinner} {elapsed_precise}")
                            .expect("valid template"),
                    );
                bar.enable_steady_tick(Duration::from_millis(100));
                let (python, store, cfg, ctx) =
                    (python.clone(), store.clone(), cfg.clone(), ctx.clone());
                let result = tokio::task::spawn_blocking(move || {
                    pykv::run(&python, &store, workload, &cfg, &ctx)
                })
                .await??;
                bar.finish_and_clear();
                results.push(result);
            }
        }
    }
    println!();
    print!("{}", report::table(&results));
    let mut ratios = report::ratios(&results, &selected);
    if args.rounds > 1 {
        ratios.extend(report::round_spreads(&rounds, &selected));
    }
    let names: Vec<String> = selected.iter().map(|b| b.name.to_owned()).collect();
    ratios.extend(report::stack_ratios(&results, &names, &labels));
    if !ratios.is_empty() {
        println!("\nratios (same run):");
        for line in &ratios {
            println!("  {line}");
        }
    }
    let config_json = serde_json::json!({
        "length": format!("{:?}", cfg.length),
        "warmup_s": cfg.warmup.as_secs_f64(),
        "concurrency": cfg.concurrency,
        "rounds": args.rounds,
        "keys": cfg.keys,
        "value_size": cfg.value_size,
        "value_text": pykv::arg_name(cfg.value_text),
        "distribution": pykv::arg_name(cfg.distribution),
        "hit_rate": cfg.hit_rate,
        "cache_ttl_s": cfg.cache_ttl.as_secs_f64(),
    });
    report::write_all(&args.out, &config_json, &results, &selected)?;
    println!(
        "\nresults: {} (also results.csv, results.svg)",
        args.out.join("results.json").display()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
