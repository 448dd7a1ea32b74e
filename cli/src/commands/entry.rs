//! `get`, `put`, `delete`, `ttl`: one key at a time.

use std::io::Read as _;

use serde_json::{Value as Json, json};
use stowage::Value;

use super::Ctx;
use stowage::wrappers::fernet::{ENCRYPTED_DATA_KEY, ENCRYPTION_VERSION_KEY};

use crate::args::{EntryArgs, GetArgs, PutArgs};
use crate::exit::{CmdResult, DECRYPTION_FAILED, Failure, NOT_FOUND};
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

/// Whether `value` is a Fernet envelope (py-key-value's `FernetEncryptionWrapper` format).
fn is_envelope(value: &Value) -> bool {
    let map = value.to_map();
    map.len() == 2
        && map.contains_key(ENCRYPTED_DATA_KEY)
        && map.contains_key(ENCRYPTION_VERSION_KEY)
}

/// `stowage get`: the value, pretty-printed; with `--json`, a document naming it. An encrypted
/// value read without a key is a decryption failure unless `--raw` asks for it as stored.
pub(crate) async fn get(ctx: &Ctx, g: GetArgs) -> CmdResult {
    let a = g.entry;
    let store = ctx.layers.open(&a.url).await?;
    let value = store
        .get(&a.collection, &a.key)
        .await?
        .ok_or_else(|| not_found(&a))?;
    if !g.raw && !ctx.layers.decrypts() && is_envelope(&value) {
        return Err(Failure::new(
            DECRYPTION_FAILED,
            format!(
                "decryption failed: `{}` in collection `{}` is Fernet-encrypted; pass its key with \
                 --fernet-key-env VAR or STOWAGE_FERNET_KEY (or --raw to print it as stored)",
                a.key, a.collection
            ),
        ));
    }
    if ctx.json {
        // The stored text as it is, not re-serialized.
        output::line(format!(
            r#"{{"collection":{},"key":{},"value":{}}}"#,
            Json::from(a.collection),
            Json::from(a.key),
            value.as_str()
        ));
    } else {
        output::line(output::pretty(value.as_str()));
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
