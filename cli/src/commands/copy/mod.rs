//! `copy`: entries from one store to another, in batches, with their remaining TTLs.
//!
//! The keys of each collection are listed, cut into batches and copied `--jobs` batches at a
//! time ([`batch`]). Entries the destination already holds unchanged are skipped, so a re-run
//! changes nothing and an interrupted run can simply be started again. A store-level failure
//! stops the copy (no new batches) with that failure's exit code; failed entries alone end it
//! with exit 3.

mod batch;

use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use stowage::DynStore;

use batch::Tally;

use super::Ctx;
use super::list::lacks;
use crate::args::CopyArgs;
use crate::exit::{BACKEND, CmdResult, Failure, PARTIAL};
use crate::{output, redact};

/// The collections to copy: those named, or every one the source lists.
async fn collections(src: &DynStore, a: &CopyArgs) -> CmdResult<Vec<String>> {
    if !a.collections.is_empty() {
        return Ok(a.collections.clone());
    }
    if !src.capabilities().collections {
        return Err(lacks(
            &a.src,
            "collections",
            "list its collections; name them with --collection",
        ));
    }
    let mut names = src.collections().await?;
    names.sort_unstable();
    Ok(names)
}

fn progress_bar(total: u64, hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(
        "{bar:30} {pos}/{len} entries  {rate} entries/s  ETA {eta}  {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .with_key(
        "rate",
        |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0}", state.per_sec());
        },
    )
    .progress_chars("=> ");
    ProgressBar::new(total).with_style(style)
}

/// Count a finished batch.
fn finished(
    joined: Option<Result<Tally, tokio::task::JoinError>>,
    tally: &mut Tally,
    bar: &ProgressBar,
) -> CmdResult {
    match joined {
        Some(Ok(t)) => {
            bar.inc(t.entries());
            tally.add(t);
            Ok(())
        }
        Some(Err(e)) => Err(Failure::new(BACKEND, format!("a copy task failed: {e}"))),
        None => Ok(()),
    }
}

/// `stowage copy`.
pub(crate) async fn run(ctx: &Ctx, a: CopyArgs) -> CmdResult {
    let src = ctx.layers.open(&a.src).await?;
    let dst = ctx.layers.open(&a.dst).await?;
    if !src.capabilities().keys {
        return Err(lacks(&a.src, "keys", "list the keys to copy"));
    }
    let names = collections(&src, &a).await?;
    let mut plan = Vec::with_capacity(names.len());
    for name in names {
        let mut keys = src
            .keys(&name)
            .await
            .map_err(|e| Failure::from(e).context(format_args!("listing collection `{name}`")))?;
        keys.sort_unstable();
        plan.push((name, keys));
    }
    let total: u64 = plan.iter().map(|(_, k)| k.len() as u64).sum();
    let started = Instant::now();
    let bar = progress_bar(total, ctx.json);
    let mut tally = Tally::default();
    let mut running = tokio::task::JoinSet::new();
    let jobs = usize::from(a.jobs);
    'plan: for (name, keys) in &plan {
        if tally.stopped.is_some() {
            break 'plan;
        }
        tracing::info!(collection = %name, entries = keys.len(), "copying collection");
        bar.set_message(name.clone());
        let collection: Arc<str> = Arc::from(name.as_str());
        for chunk in keys.chunks(usize::from(a.batch_size)) {
            while running.len() >= jobs {
                finished(running.join_next().await, &mut tally, &bar)?;
            }
            if tally.stopped.is_some() {
                break;
            }
            running.spawn(batch::run(
                src.clone(),
                dst.clone(),
                collection.clone(),
                chunk.to_vec(),
                a.dry_run,
            ));
        }
    }
    while !running.is_empty() {
        finished(running.join_next().await, &mut tally, &bar)?;
    }
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let rate = total as f64 / secs.max(1e-9);
    let errors: Vec<String> = tally.errors.iter().map(|e| redact::text(e)).collect();
    if ctx.json {
        output::json(&json!({
            "collections": plan.len(),
            "entries": total,
            "copied": tally.copied,
            "skipped": tally.unchanged + tally.expired,
            "unchanged": tally.unchanged,
            "expired": tally.expired,
            "failed": tally.failed,
            "dry_run": a.dry_run,
            "seconds": secs,
            "entries_per_sec": rate,
            "errors": errors,
        }));
    } else {
        let verb = if a.dry_run { "would copy" } else { "copied" };
        output::line(format!(
            "{verb} {}, skipped {} ({} unchanged, {} expired), failed {} — {} entries of {} collection(s) in {:.1}s ({rate:.0} entries/s){}",
            tally.copied,
            tally.unchanged + tally.expired,
            tally.unchanged,
            tally.expired,
            tally.failed,
            total,
            plan.len(),
            secs,
            if a.dry_run {
                "; dry run: nothing written"
            } else {
                ""
            },
        ));
    }
    if let Some(e) = &tally.stopped {
        return Err(Failure::new(
            crate::exit::code_for(e.kind()),
            format!(
                "copy stopped: {e}; run the same command again to resume (what was copied is skipped)"
            ),
        ));
    }
    if tally.failed > 0 {
        return Err(Failure::new(
            PARTIAL,
            format!(
                "{} entries failed to copy; first errors:\n  {}",
                tally.failed,
                errors.join("\n  ")
            ),
        ));
    }
    Ok(())
}
