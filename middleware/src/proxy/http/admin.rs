//! The admin listener: cache statistics and clearing, on an address of its own.
//!
//! - `GET /stats`: `{"namespace": …, "methods": {"tools/call": {"hits": …, "misses": …,
//!   "stores": …, "bypasses": …, "errors": …}, …}}`;
//! - `POST /clear?method=tools/call`: forget every answer of that method (this namespace, every
//!   caller); `POST /clear` with no method forgets everything of this namespace;
//! - `GET /healthz`: as on the main listener.

use http::{Method as HttpMethod, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{Map, Value as Json, json};

use super::Inner;
use super::body::{self, Body};
use super::health;
use crate::method::Method;

/// Answer one admin request.
pub(super) async fn route(p: &Inner, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path();
    match (request.method(), path) {
        (&HttpMethod::GET, "/stats") => stats(p),
        (&HttpMethod::POST, "/clear") => clear(p, request.uri().query()).await,
        (&HttpMethod::GET, "/healthz") => health::check(p).await,
        _ => body::json(
            StatusCode::NOT_FOUND,
            json!({"error": "not found: GET /stats, POST /clear[?method=M], GET /healthz"})
                .to_string(),
        ),
    }
}

fn stats(p: &Inner) -> Response<Body> {
    let mut methods = Map::new();
    for (m, s) in p.cache.stats().snapshot() {
        methods.insert(
            m.as_str().to_owned(),
            json!({"hits": s.hits, "misses": s.misses, "stores": s.stores,
                   "bypasses": s.bypasses, "errors": s.errors}),
        );
    }
    let report = json!({"namespace": p.cache.namespace().as_str(), "methods": methods});
    body::json(StatusCode::OK, report.to_string())
}

async fn clear(p: &Inner, query: Option<&str>) -> Response<Body> {
    let wanted = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| {
            pair.strip_prefix("method=")
                .map(|m| m.replace("%2F", "/").replace("%2f", "/"))
        });
    let (result, cleared) = match wanted {
        None => (p.cache.clear().await, Json::from("all")),
        Some(name) => match Method::from_name(&name) {
            Some(m) => (p.cache.invalidate(m).await, Json::from(m.as_str())),
            None => {
                let names: Vec<&str> = Method::ALL.iter().map(|m| m.as_str()).collect();
                return body::json(
                    StatusCode::BAD_REQUEST,
                    json!({"error": format!("not a cacheable method: {name}"), "methods": names})
                        .to_string(),
                );
            }
        },
    };
    match result {
        Ok(()) => {
            tracing::info!(method = %cleared, "cache cleared");
            body::json(StatusCode::OK, json!({"cleared": cleared}).to_string())
        }
        Err(e) => body::json(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": e.to_string()}).to_string(),
        ),
    }
}
