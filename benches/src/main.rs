//! `stowage-bench`: the same workload over Stowage backends and their raw clients.
//!
//! With no arguments it runs every embedded backend (no server needed) beside its raw baseline,
//! on a read-heavy and an update-heavy workload, and prints a table and the ratios.
//!
//! ```text
//! cargo run --release -p stowage-bench
//! cargo run --release -p stowage-bench -- --backends memory,moka --workloads read-only --concurrency 8
//! cargo run --release -p stowage-bench -- --list
//! ```

#![deny(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use stowage_bench::adapter::{self, Payload};
use stowage_bench::runner::{self, RunConfig};
use stowage_bench::workload::{Distribution, Workload};
use stowage_bench::{backends, report};

/// Benchmark Stowage backends beside their raw clients.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Backends to run, comma-separated (see --list). Default: every embedded backend.
    #[arg(long, value_delimiter = ',')]
    backends: Vec<String>,
    /// Workloads, comma-separated: read-heavy, update-heavy, read-only.
    #[arg(long, value_delimiter = ',', default_value = "read-heavy,update-heavy")]
    workloads: Vec<String>,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 3.0)]
    duration: f64,
    /// Unmeasured warm-up seconds per run.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Concurrent client tasks.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Distinct keys, all loaded before the runs.
    #[arg(long, default_value_t = 10_000)]
    keys: usize,
    /// Bytes per value (a JSON object of about this size).
    #[arg(long, default_value_t = 1024)]
    value_size: usize,
    /// How keys are drawn.
    #[arg(long, value_enum, default_value_t = Distribution::Zipfian)]
    distribution: Distribution,
    /// Directory for results.json.
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
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    if args.keys == 0 {
        bail!("--keys must be at least 1");
    }
    if args.value_size < 16 {
        bail!("--value-size must be at least 16 bytes");
    }
    Ok(RunConfig {
        duration: seconds("duration", args.duration, false)?,
        warmup: seconds("warmup", args.warmup, true)?,
        concurrency: args.concurrency,
        keys: args.keys,
        value_size: args.value_size,
        distribution: args.distribution,
    })
}

async fn run(args: Args) -> Result<()> {
    if args.list {
        for b in backends::all() {
            let kind = if b.embedded { "embedded" } else { "server" };
            println!("{:<14} {:<9} {}", b.name, kind, b.about);
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
            .map(|n| backends::find(n))
            .collect::<Result<_>>()?
    };
    let ctx = backends::BuildContext {
        keys: cfg.keys,
        value_size: cfg.value_size,
    };
    let mut rng = fastrand::Rng::with_seed(42);
    let payloads = Arc::new(
        (0..64)
            .map(|_| Payload::of_size(cfg.value_size, &mut rng))
            .collect::<Result<Vec<_>>>()?,
    );
    let total_ms = (cfg.warmup + cfg.duration).as_millis() as u64;
    let style = ProgressStyle::with_template("{prefix:>28} [{bar:30}] {elapsed_precise} {msg}")
        .expect("valid template")
        .progress_chars("=> ");
    eprintln!(
        "stowage-bench: {} backend(s) x {} workload(s), {} keys, {} B values, concurrency {}, {:?} + {:?} warm-up, {:?} keys",
        selected.len(),
        workloads.len(),
        cfg.keys,
        cfg.value_size,
        cfg.concurrency,
        cfg.duration,
        cfg.warmup,
        cfg.distribution
    );
    let mut results = Vec::new();
    for backend in &selected {
        let adapter: Arc<dyn adapter::Adapter> = Arc::from(
            (backend.build)(&ctx).with_context(|| format!("opening backend `{}`", backend.name))?,
        );
        runner::load(adapter.as_ref(), &cfg, &payloads)
            .await
            .with_context(|| format!("loading `{}`", backend.name))?;
        for &workload in &workloads {
            let bar = ProgressBar::new(total_ms)
                .with_style(style.clone())
                .with_prefix(format!("{} / {}", backend.name, workload));
            let result = runner::run(
                backend.name,
                adapter.clone(),
                workload,
                &cfg,
                payloads.clone(),
                &bar,
            )
            .await
            .with_context(|| format!("running `{}` on `{}`", workload, backend.name))?;
            bar.finish_with_message(format!("{:.0} ops/s", result.ops_per_sec));
            results.push(result);
        }
    }
    println!();
    print!("{}", report::table(&results));
    let ratios = report::ratios(&results, &selected);
    if !ratios.is_empty() {
        println!("\nratios against baselines (same run):");
        for line in &ratios {
            println!("  {line}");
        }
    }
    let config_json = serde_json::json!({
        "duration_s": cfg.duration.as_secs_f64(),
        "warmup_s": cfg.warmup.as_secs_f64(),
        "concurrency": cfg.concurrency,
        "keys": cfg.keys,
        "value_size": cfg.value_size,
        "distribution": format!("{:?}", cfg.distribution).to_lowercase(),
    });
    report::write_json(&args.out, &config_json, &results)?;
    println!("\nresults: {}", args.out.join("results.json").display());
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
