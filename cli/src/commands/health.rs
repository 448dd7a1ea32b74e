//! `health`: open each store, write, read back and delete a probe key, timing every step.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value as Json, json};
use stowage::{DynStore, Value};

use super::Ctx;
use crate::args::HealthArgs;
use crate::exit::{CORRUPTED, CmdResult, Failure, TIMEOUT};
use crate::{output, redact};

/// How long a probe key lives if its delete step never runs.
const PROBE_TTL: Duration = Duration::from_secs(60);

/// One timed step.
#[derive(Debug)]
struct Step {
    name: &'static str,
    took: Duration,
    outcome: Result<(), Failure>,
}

/// Run `fut` under `limit`, timing it.
async fn timed<T>(
    limit: Duration,
    fut: impl Future<Output = CmdResult<T>>,
) -> (Duration, CmdResult<T>) {
    let start = Instant::now();
    let result = match tokio::time::timeout(limit, fut).await {
        Ok(r) => r,
        Err(_) => Err(Failure::new(
            TIMEOUT,
            format!("timed out after {}", output::duration(limit)),
        )),
    };
    (start.elapsed(), result)
}

/// Check one store; the steps run so far (the last one failed, if any did).
async fn check(ctx: &Ctx, url: &str, a: &HealthArgs) -> Vec<Step> {
    let mut steps = Vec::new();
    let (took, opened) = timed(a.timeout, ctx.layers.open(url)).await;
    let store: DynStore = match opened {
        Ok(s) => {
            steps.push(Step {
                name: "open",
                took,
                outcome: Ok(()),
            });
            s
        }
        Err(e) => {
            steps.push(Step {
                name: "open",
                took,
                outcome: Err(e),
            });
            return steps;
        }
    };
    let key = format!("probe-{:016x}", fastrand::u64(..));
    // Integers and strings only: a float may come back one unit in the last place off.
    let at = SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let probe = json!({"probe": key, "at_ms": at});
    let value = Value::try_from(probe.clone()).expect("the probe is a JSON object");
    let c = a.collection.as_str();
    let (took, r) = timed(a.timeout, async {
        Ok(store.put(c, &key, value, Some(PROBE_TTL)).await?)
    })
    .await;
    let ok = r.is_ok();
    steps.push(Step {
        name: "put",
        took,
        outcome: r,
    });
    if !ok {
        return steps;
    }
    let (took, r) = timed(a.timeout, async {
        match store.get(c, &key).await? {
            Some(v) if Json::Object(v.to_map()) == probe => Ok(()),
            Some(_) => Err(Failure::new(CORRUPTED, "read back a different value")),
            None => Err(Failure::new(CORRUPTED, "the probe just written is missing")),
        }
    })
    .await;
    let ok = r.is_ok();
    steps.push(Step {
        name: "get",
        took,
        outcome: r,
    });
    if !ok {
        return steps;
    }
    let (took, r) = timed(a.timeout, async {
        match store.delete(c, &key).await? {
            true => Ok(()),
            false => Err(Failure::new(
                CORRUPTED,
                "the probe was gone before its delete",
            )),
        }
    })
    .await;
    steps.push(Step {
        name: "delete",
        took,
        outcome: r,
    });
    steps
}

/// `stowage health`.
pub(crate) async fn run(ctx: &Ctx, a: HealthArgs) -> CmdResult {
    let mut rows = Vec::new();
    let mut details = Vec::new();
    let mut docs = Vec::new();
    let mut failed: Vec<(String, Failure)> = Vec::new();
    for url in &a.urls {
        let shown = redact::url(url);
        let steps = check(ctx, url, &a).await;
        for s in &steps {
            tracing::info!(store = %shown, step = s.name, ms = output::millis(s.took), ok = s.outcome.is_ok(), "health step");
        }
        let mut step_docs = Vec::new();
        let mut error = None;
        for s in steps {
            let err = match &s.outcome {
                Ok(()) => Json::Null,
                Err(f) => {
                    let msg = redact::text(&f.message);
                    details.push(format!("{shown} {}: {msg}", s.name));
                    Json::from(msg)
                }
            };
            let status = if s.outcome.is_ok() { "ok" } else { "FAILED" };
            rows.push(vec![
                shown.clone(),
                s.name.to_owned(),
                format!("{:.2}", output::millis(s.took)),
                status.to_owned(),
            ]);
            step_docs.push(json!({
                "step": s.name,
                "ms": output::millis(s.took),
                "ok": s.outcome.is_ok(),
                "error": err,
            }));
            if let Err(f) = s.outcome {
                error = Some(f);
            }
        }
        docs.push(json!({"url": shown, "ok": error.is_none(), "steps": step_docs}));
        if let Some(f) = error {
            failed.push((shown, f));
        }
    }
    if ctx.json {
        output::json(&json!({"ok": failed.is_empty(), "stores": docs}));
    } else {
        output::line(output::table(&["store", "step", "ms", "result"], &rows));
        for d in details {
            output::line(d);
        }
    }
    let count = failed.len();
    match failed.into_iter().next() {
        None => Ok(()),
        Some((shown, first)) => Err(Failure::new(
            first.code,
            format!(
                "health check failed for {count} of {} store(s); first, {shown}: {}",
                a.urls.len(),
                first.message
            ),
        )),
    }
}
