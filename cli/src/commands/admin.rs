//! `cull` and `destroy`: whole-store maintenance.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use serde_json::json;

use super::Ctx;
use super::list::lacks;
use crate::args::{DestroyArgs, UrlArgs};
use crate::exit::{CmdResult, DECLINED, Failure};
use crate::{output, redact};

/// `stowage cull`: remove expired entries now.
pub(crate) async fn cull(ctx: &Ctx, a: UrlArgs) -> CmdResult {
    let store = ctx.layers.open(&a.url).await?;
    if !store.capabilities().cull {
        return Err(lacks(&a.url, "cull", "cull expired entries"));
    }
    let removed = store.cull().await?;
    if ctx.json {
        output::json(&json!({"culled": removed}));
    } else {
        output::line(format!("removed {removed} expired entries"));
    }
    Ok(())
}

/// Ask on the terminal; `Ok` only for an explicit `yes`.
fn confirm(question: &str) -> CmdResult {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::new(
            DECLINED,
            format!("{question} — not confirmed: there is no terminal to ask on; pass --yes"),
        ));
    }
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{question} Type `yes` to confirm: ");
    let _ = stderr.flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Failure::new(
            DECLINED,
            "not confirmed; nothing was destroyed",
        ))
    }
}

/// `stowage destroy`: one collection, or everything the store holds.
pub(crate) async fn destroy(ctx: &Ctx, a: DestroyArgs) -> CmdResult {
    let store = ctx.layers.open(&a.url).await?;
    let caps = store.capabilities();
    let shown = redact::url(&a.url);
    let removed = match &a.collection {
        Some(c) => {
            if !caps.destroy_collection {
                return Err(lacks(&a.url, "destroy_collection", "destroy a collection"));
            }
            if !a.yes {
                confirm(&format!(
                    "Destroy every entry of collection `{c}` in {shown}?"
                ))?;
            }
            store.destroy_collection(c).await?
        }
        None => {
            if !caps.destroy {
                return Err(lacks(&a.url, "destroy", "destroy its data"));
            }
            if !a.yes {
                confirm(&format!("Destroy everything this store holds in {shown}?"))?;
            }
            store.destroy().await?
        }
    };
    if ctx.json {
        output::json(&json!({"collection": a.collection, "destroyed": removed}));
    } else {
        let what = a
            .collection
            .as_deref()
            .map_or("the store".to_owned(), |c| format!("collection `{c}`"));
        let held = if removed { "" } else { " (it held nothing)" };
        output::line(format!("destroyed {what}{held}"));
    }
    Ok(())
}
