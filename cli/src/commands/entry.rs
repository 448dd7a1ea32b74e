//! `get`, `put`, `delete`, `ttl`: one key at a time.

use std::io::Read as _;

use serde_json::{Value as Json, json};
use stowage::Value;

use super::Ctx;
use crate::args::{EntryArgs, PutArgs};
use crate::exit::{CmdResult, Failure, NOT_FOUND};
use crate::output;

fn not_found(a: &EntryArgs) -> Failure {
    Failure::new(
        NOT_FOUND,
        format!(
            "not found: no key `{}` in collection `{}` (or it has expired)",
            a.key, a.collection
        ),
    )
}

/// The value as a JSON tree (a stored value is always a JSON object).
fn tree(value: &Value) -> Json {
    Json::Object(value.to_map())
}

/// `stowage get`: the value, pretty-printed; with `--json`, a document naming it.
pub(crate) async fn get(ctx: &Ctx, a: EntryArgs) -> CmdResult {
    let store = ctx.layers.open(&a.url).await?;
    let value = store
        .get(&a.collection, &a.key)
        .await?
        .ok_or_else(|| not_found(&a))?;
    if ctx.json {
        output::json(&json!({"collection": a.collection, "key": a.key, "value": tree(&value)}));
    } else {
        let pretty = serde_json::to_string_pretty(&tree(&value)).unwrap_or_default();
        output::line(pretty);
    }
    Ok(())
}

/// `stowage put`: the value from the argument or standard input.
pub(crate) async fn put(ctx: &Ctx, a: PutArgs) -> CmdResult {
    let text = match a.value.as_deref() {
        Some(v) if v != "-" => v.to_owned(),
        _ => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| {
                Failure::usage(format!("reading the value from standard input: {e}"))
            })?;
            text
        }
    };
    let value = Value::from_json(text.trim())?;
    let e = &a.entry;
    let store = ctx.layers.open(&e.url).await?;
    store.put(&e.collection, &e.key, value, a.ttl).await?;
    if ctx.json {
        output::json(&json!({
            "collection": e.collection,
            "key": e.key,
            "stored": true,
            "ttl": output::ttl_json(a.ttl),
        }));
    } else {
        let expiry = match a.ttl {
            Some(t) => format!("expires in {}", output::duration(t)),
            None => "never expires".to_owned(),
        };
        output::line(format!("stored {}/{} ({expiry})", e.collection, e.key));
    }
    Ok(())
}

/// `stowage delete`: exits 1 when there was nothing to delete.
pub(crate) async fn delete(ctx: &Ctx, a: EntryArgs) -> CmdResult {
    let store = ctx.layers.open(&a.url).await?;
    if !store.delete(&a.collection, &a.key).await? {
        return Err(not_found(&a));
    }
    if ctx.json {
        output::json(&json!({"collection": a.collection, "key": a.key, "deleted": true}));
    } else {
        output::line(format!("deleted {}/{}", a.collection, a.key));
    }
    Ok(())
}

/// `stowage ttl`: the remaining time to live.
pub(crate) async fn ttl(ctx: &Ctx, a: EntryArgs) -> CmdResult {
    let store = ctx.layers.open(&a.url).await?;
    let entry = store
        .ttl(&a.collection, &a.key)
        .await?
        .ok_or_else(|| not_found(&a))?;
    let remaining = entry.remaining_ttl();
    if ctx.json {
        output::json(&json!({
            "collection": a.collection,
            "key": a.key,
            "ttl": output::ttl_json(remaining),
            "expires_at": entry.expires_at.map(output::unix),
            "created_at": entry.created_at.map(output::unix),
        }));
    } else {
        output::line(match remaining {
            Some(t) => output::duration(t),
            None => "none (never expires)".to_owned(),
        });
    }
    Ok(())
}
