//! Requests the proxy sends the server itself: a `tools/list`, to learn the tools' annotations
//! when the client did not list them.

use std::time::Duration;

use serde_json::Value as Json;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::Proxy;
use super::decide;
use super::pending::Pending;

/// How long the proxy waits for the server's answer to a `tools/list` of its own.
const OWN_LIST_TIMEOUT: Duration = Duration::from_secs(5);
/// At most this many pages of a `tools/list` of the proxy's own.
const MAX_OWN_LIST_PAGES: usize = 20;

/// Read the server's tool list (every page) with requests of the proxy's own, whose answers
/// the client never sees, and learn the tools' annotations from it.
///
/// The requests carry the `_meta` of the client's request (the protocol version and client
/// information a stateless 2026-07-28 server needs on every request), without its progress
/// token.
pub(super) async fn learn_tools_from_server<SI: AsyncWrite + Unpin>(
    proxy: &Proxy,
    server_in: &mut SI,
    pending: &Pending,
    meta: Option<serde_json::Map<String, Json>>,
) {
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_OWN_LIST_PAGES {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let id = {
            let mut p = pending.lock();
            p.own_sent += 1;
            let id =
                Json::String(format!("stowage-mcp-proxy/tools-list/{}", p.own_sent)).to_string();
            p.own.insert(id.clone(), tx);
            id
        };
        let params = decide::tools_list_params(cursor.as_deref(), meta.as_ref());
        let line =
            format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/list","params":{params}}}"#);
        let sent = async {
            server_in.write_all(line.as_bytes()).await?;
            server_in.write_all(b"\n").await?;
            server_in.flush().await
        };
        if sent.await.is_err() {
            pending.lock().own.remove(&id);
            return;
        }
        let Ok(Ok(Some(result))) = tokio::time::timeout(OWN_LIST_TIMEOUT, rx).await else {
            pending.lock().own.remove(&id);
            return;
        };
        proxy.cache.learn_tools(&result);
        cursor = result
            .get("nextCursor")
            .and_then(Json::as_str)
            .map(str::to_owned);
        if cursor.is_none() {
            pending.lock().tools_listed = true;
            return;
        }
    }
}
