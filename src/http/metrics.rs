//! `GET /metrics` (Prometheus' text format) for operators who turn it on, and the layer that
//! counts every request by route template and status and times it (the acknowledgement latency
//! Slack and Looker see).

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::reply::Reply;
use crate::store::JobState;

/// Job kinds that had jobs at an earlier scrape.
static SEEN_KINDS: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let access = &state.settings.metrics;
    if !access.enabled() {
        return Reply::error(
            StatusCode::NOT_FOUND,
            "metrics are off; set LOOKERBOT_METRICS_TOKEN to turn them on",
        )
        .into_response();
    }
    if let Some(token) = &access.token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !token.matches(presented) {
            return Reply::error(
                StatusCode::UNAUTHORIZED,
                "send Authorization: Bearer <LOOKERBOT_METRICS_TOKEN>",
            )
            .into_response();
        }
    }
    let mut gauges = Vec::new();
    match state.queue.store().counts().await {
        Ok(counts) => {
            // Every kind seen since start, zero where nothing is, so a drained queue reads 0.
            let kinds = {
                let mut seen = SEEN_KINDS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                // Every registered kind from the first scrape: "no data" would read as unknown.
                seen.extend(crate::features::jobs().kinds().map(str::to_string));
                seen.extend(counts.iter().map(|(kind, _, _)| kind.clone()));
                seen.clone()
            };
            for kind in kinds {
                for state in [JobState::Queued, JobState::Running, JobState::Dead] {
                    let n = counts
                        .iter()
                        .find(|(k, s, _)| *k == kind && *s == state)
                        .map_or(0, |(_, _, n)| *n);
                    let labels = vec![("kind", kind.clone()), ("state", state.as_str().to_string())];
                    gauges.push(("lookerbot_jobs", labels, n as f64));
                }
            }
            gauges.push(("lookerbot_store_up", Vec::new(), 1.0));
        }
        Err(error) => {
            tracing::error!(%error, "metrics: the store could not count its jobs");
            gauges.push(("lookerbot_store_up", Vec::new(), 0.0));
        }
    }
    match crate::metrics::render(&gauges) {
        Some(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        None => Reply::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics could not be turned on; see the bot's log",
        )
        .into_response(),
    }
}

/// Counts and times each request under its route template (never its path: channel names and
/// ids stay out of labels).
pub async fn track(request: Request, next: Next) -> Response {
    if !crate::metrics::enabled() {
        return next.run(request).await;
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("lookerbot_http_requests_total", "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("lookerbot_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
