//! `bench`: a short run of the benchmark harness's workloads against one store, through the
//! harness's own adapter, runner and report (the `stowage-bench` library).
//!
//! The run writes under a collection prefix of its own (`stowage-bench-<random>__bench`), so it
//! never touches the store's data, and removes what it wrote afterwards.

use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use stowage::wrappers::prefix::CollectionPrefixLayer;
use stowage::{DynStore, KeyValueStoreExt};
use stowage_bench::adapter::{Adapter, COLLECTION, Payload, StowageAdapter, ValueText};
use stowage_bench::report;
use stowage_bench::runner::{self, Length, RunConfig, RunResult};
use stowage_bench::workload::{Distribution, Workload};

use super::Ctx;
use crate::args::BenchArgs;
use crate::exit::{BACKEND, CmdResult, Failure};
use crate::{output, redact};

/// Unmeasured time before each workload.
const WARMUP: Duration = Duration::from_millis(500);

fn config(a: &BenchArgs) -> RunConfig {
    RunConfig {
        length: Length::Duration(a.duration),
        warmup: WARMUP,
        concurrency: usize::from(a.concurrency),
        keys: a.keys as usize,
        value_size: a.value_size as usize,
        value_text: ValueText::Ascii,
        distribution: Distribution::Zipfian,
        hit_rate: 0.9,
        cache_ttl: Duration::from_secs(1),
    }
}

/// A harness error (its whole chain) as a failure.
fn harness(e: impl std::fmt::Display) -> Failure {
    Failure::new(BACKEND, format!("{e:#}"))
}

/// Load the keys and run every workload.
async fn measure(
    name: &str,
    adapter: Arc<dyn Adapter>,
    workloads: &[Workload],
    cfg: &RunConfig,
    quiet: bool,
) -> CmdResult<Vec<RunResult>> {
    let mut rng = fastrand::Rng::with_seed(42);
    let payloads = Arc::new(
        (0..64)
            .map(|_| Payload::of_size(cfg.value_size, cfg.value_text, &mut rng))
            .collect::<Result<Vec<_>, _>>()
            .map_err(harness)?,
    );
    runner::load(adapter.as_ref(), cfg, &payloads)
        .await
        .map_err(harness)?;
    let style = ProgressStyle::with_template("{prefix:>24} [{bar:30}] {elapsed_precise} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let mut results = Vec::with_capacity(workloads.len());
    for &w in workloads {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(runner::progress_len(cfg))
                .with_style(style.clone())
                .with_prefix(format!("{name} / {w}"))
        };
        let r = runner::run(name, adapter.clone(), w, cfg, payloads.clone(), &bar)
            .await
            .map_err(harness)?;
        bar.finish_and_clear();
        results.push(r);
    }
    Ok(results)
}

/// Remove what the run wrote.
async fn clean_up(scoped: &DynStore, keys: usize) -> stowage::Result<()> {
    if scoped.capabilities().destroy_collection {
        scoped.destroy_collection(COLLECTION).await?;
    } else if scoped.capabilities().keys {
        let keys = scoped.keys(COLLECTION).await?;
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        for chunk in refs.chunks(500) {
            scoped.delete_many(COLLECTION, chunk).await?;
        }
    } else {
        let names: Vec<String> = (0..keys).map(runner::key_name).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        for chunk in refs.chunks(500) {
            scoped.delete_many(COLLECTION, chunk).await?;
        }
    }
    Ok(())
}

/// `stowage bench`.
pub(crate) async fn run(ctx: &Ctx, a: BenchArgs) -> CmdResult {
    let workloads = a
        .workloads
        .iter()
        .map(|w| Workload::parse(w))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::usage(format!("--workloads: {e:#}")))?;
    let (scheme, _) = stowage::open::scheme(&a.url)?;
    let store = ctx.layers.open(&a.url).await?;
    let prefix = format!(
        "stowage-bench-{:012x}",
        fastrand::u64(..) & 0xffff_ffff_ffff
    );
    let scoped: DynStore = Arc::new(store.layer(CollectionPrefixLayer::new(&prefix)?));
    let cfg = config(&a);
    let adapter: Arc<dyn Adapter> = Arc::new(StowageAdapter::new(scoped.clone()));
    let measured = measure(scheme, adapter, &workloads, &cfg, ctx.json).await;
    if let Err(e) = clean_up(&scoped, cfg.keys).await {
        tracing::warn!(error = %e, "could not remove the benchmark's collection `{prefix}__{COLLECTION}`");
    }
    let results = measured?;
    if ctx.json {
        output::json(&json!({
            "url": redact::url(&a.url),
            "concurrency": cfg.concurrency,
            "keys": cfg.keys,
            "value_size": cfg.value_size,
            "seconds_per_workload": a.duration.as_secs_f64(),
            "results": serde_json::to_value(&results).unwrap_or_default(),
        }));
    } else {
        output::line(format!(
            "{} — {} keys of {} B, concurrency {}, {} per workload",
            redact::url(&a.url),
            cfg.keys,
            cfg.value_size,
            cfg.concurrency,
            output::duration(a.duration),
        ));
        output::line(report::table(&results).trim_end());
    }
    Ok(())
}
