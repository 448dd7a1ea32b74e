//! `GET /healthz`: whether the cache store answers and the upstream is reachable.

use std::time::Duration;

use http::{Method, Response, StatusCode, header};
use serde_json::json;

use super::Inner;
use super::body::{self, Body};

/// How long each check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The health report: 200 when both the store and the upstream answer, else 503. The body
/// says which failed: `{"status": "ok"|"degraded", "store": "ok"|<error>, "upstream": …}`.
///
/// A store that fails does not stop the proxy (requests then pass through uncached), so a
/// failing store makes the report `degraded`, still with 503, for a load balancer to notice.
pub(super) async fn check(p: &Inner) -> Response<Body> {
    let (store, upstream) = tokio::join!(store(p), upstream(p));
    let ok = store.is_ok() && upstream.is_ok();
    let text = |r: Result<(), String>| r.map_or_else(|e| e, |()| "ok".to_owned());
    let report = json!({
        "status": if ok { "ok" } else { "degraded" },
        "store": text(store),
        "upstream": text(upstream),
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    body::json(status, report.to_string())
}

async fn store(p: &Inner) -> Result<(), String> {
    let probe = p.cache.store().get("stowage-mcp-health", "probe");
    match tokio::time::timeout(CHECK_TIMEOUT, probe).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {CHECK_TIMEOUT:?}")),
    }
}

/// Any HTTP answer means reachable (a Streamable HTTP endpoint answers a plain GET with 405
/// or 406, or opens a stream: only the headers are awaited).
async fn upstream(p: &Inner) -> Result<(), String> {
    let super::Target::Http(url) = &p.target else {
        // A stdio server starts with the first session.
        return Ok(());
    };
    let request = p
        .client
        .request(Method::GET, url.clone())
        .header(header::ACCEPT, "application/json")
        .send();
    match tokio::time::timeout(CHECK_TIMEOUT, request).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("unreachable: {e}")),
        Err(_) => Err(format!("no answer within {CHECK_TIMEOUT:?}")),
    }
}
