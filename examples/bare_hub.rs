//! The reference for the Action Hub and notify intake benchmarks: the least an endpoint can do
//! with axum — check the token in constant time, read the body, parse it as JSON, answer — and
//! nothing else (no file kept, no job recorded, nothing durable). `POST /actions/slack/execute`
//! takes Looker's `Token token="TOKEN"`, `POST /api/notify` a `Bearer TOKEN`.
//!
//!     cargo run --release --example bare_hub -- PORT TOKEN

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use subtle::ConstantTimeEq;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(38461);
    let token = format!("Token token=\"{}\"", args.get(2).cloned().unwrap_or_default());
    let bearer = format!("Bearer {}", args.get(2).cloned().unwrap_or_default());
    let app = Router::new()
        .route(
            "/actions/slack/execute",
            post(move |headers: HeaderMap, body: Bytes| {
                let token = token.clone();
                async move { execute(&token, headers, body) }
            }),
        )
        .route(
            "/api/notify",
            post(move |headers: HeaderMap, body: Bytes| {
                let bearer = bearer.clone();
                async move { notify(&bearer, headers, body) }
            }),
        )
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    axum::serve(listener, app).await.unwrap();
}

fn execute(token: &str, headers: HeaderMap, body: Bytes) -> Response {
    let presented = headers.get("authorization").map(|v| v.as_bytes()).unwrap_or_default();
    if !bool::from(presented.ct_eq(token.as_bytes())) {
        return (StatusCode::FORBIDDEN, "{\"success\":false}").into_response();
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(_) => axum::Json(serde_json::json!({"looker": {"success": true}})).into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "{\"success\":false}").into_response(),
    }
}

fn notify(bearer: &str, headers: HeaderMap, body: Bytes) -> Response {
    let presented = headers.get("authorization").map(|v| v.as_bytes()).unwrap_or_default();
    if !bool::from(presented.ct_eq(bearer.as_bytes())) {
        return (StatusCode::UNAUTHORIZED, "{\"error\":\"token\"}").into_response();
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(_) => (
            StatusCode::ACCEPTED,
            axum::Json(serde_json::json!({"id": "1", "state": "queued"})),
        )
            .into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "{\"errors\":[]}").into_response(),
    }
}
