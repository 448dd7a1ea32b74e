//! `keys` and `collections`: one name per line (one JSON object per line with `--json`), sorted.

use serde_json::json;

use super::Ctx;
use crate::args::{CollectionsArgs, KeysArgs};
use crate::exit::{CmdResult, Failure, UNSUPPORTED};
use crate::{output, redact};

/// The failure for a store without `capability`.
pub(crate) fn lacks(url: &str, capability: &str, what: &str) -> Failure {
    Failure::new(
        UNSUPPORTED,
        format!(
            "unsupported: {} cannot {what} (it lacks the `{capability}` capability)",
            redact::url(url)
        ),
    )
}

/// `stowage keys`.
pub(crate) async fn keys(ctx: &Ctx, a: KeysArgs) -> CmdResult {
    let store = ctx.layers.open(&a.url).await?;
    if !store.capabilities().keys {
        return Err(lacks(&a.url, "keys", "list keys"));
    }
    let mut keys = store.keys(&a.collection).await?;
    keys.sort_unstable();
    keys.truncate(a.limit.unwrap_or(usize::MAX));
    for key in keys {
        if ctx.json {
            output::json(&json!({"collection": a.collection, "key": key}));
        } else {
            output::line(key);
        }
    }
    Ok(())
}

/// `stowage collections`.
pub(crate) async fn collections(ctx: &Ctx, a: CollectionsArgs) -> CmdResult {
    let store = ctx.layers.open(&a.url).await?;
    if !store.capabilities().collections {
        return Err(lacks(&a.url, "collections", "list collections"));
    }
    let mut names = store.collections().await?;
    names.sort_unstable();
    names.truncate(a.limit.unwrap_or(usize::MAX));
    for name in names {
        if ctx.json {
            output::json(&json!({"collection": name}));
        } else {
            output::line(name);
        }
    }
    Ok(())
}
