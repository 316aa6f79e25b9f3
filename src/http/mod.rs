//! HTTP routes, one module each, merged here with request ids, tracing and body limits.

mod health;
mod looker_auth;
mod looker_webhook;
mod reply;
mod slack_commands;
mod slack_events;
mod slack_interactions;
mod slack_verify;
pub mod socket_mode;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::IntoResponse;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::config::Settings;
use crate::features::Context;
use crate::queue::Queue;
pub use reply::Reply;

/// Slack's routes never need more than this; Looker's webhooks get their own, larger limit.
pub const SLACK_BODY_LIMIT: usize = 1024 * 1024;

/// What every route needs: the settings (secrets to verify with), the queue to record work in,
/// and the bot's context for what is answered at once (help from the in-memory catalog).
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub queue: Queue,
    pub bot: Arc<Context>,
    /// `help` answers, kept until the custom-command catalogs change.
    pub help: slack_commands::HelpAnswers,
}

pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let webhook_limit = state.settings.webhook_max_bytes;
    Router::new()
        .merge(health::router())
        .merge(looker_webhook::router(webhook_limit))
        .merge(slack_commands::router())
        .merge(slack_events::router())
        .merge(slack_interactions::router())
        .fallback(|| async { Reply::error(StatusCode::NOT_FOUND, "no such route") })
        .layer(DefaultBodyLimit::max(SLACK_BODY_LIMIT))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
                }))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(CatchPanicLayer::custom(|_| {
                    Reply::error(StatusCode::INTERNAL_SERVER_ERROR, "internal error; see the bot's log").into_response()
                })),
        )
}
