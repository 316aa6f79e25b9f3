//! Liveness (Lookerbot's `/health_check`) and readiness (the database answers).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};

use super::AppState;
use super::reply::Reply;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health_check", get(health_check))
        .route("/readyz", get(readyz))
}

async fn health_check() -> Reply {
    Reply::ok("Healthy")
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    match state.queue.store().ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({"ready": true}))),
        Err(error) => {
            tracing::error!(%error, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"ready": false, "reason": "database unavailable"})),
            )
        }
    }
}
