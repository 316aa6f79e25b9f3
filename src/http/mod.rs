//! HTTP routes, one module each, merged here with request ids, tracing and body limits.

mod action_hub;
#[cfg(test)]
mod fuzz;
mod health;
mod looker_auth;
mod looker_oauth;
mod looker_webhook;
mod metrics;
mod notify;
mod refusals;
mod reply;
mod request_body;
mod serve;
mod slack_commands;
mod slack_events;
mod slack_interactions;
mod slack_verify;
pub mod socket_mode;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::{HeaderName, Method, Request, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
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
    /// Refused requests, logged at most once a minute each kind.
    pub refusals: Arc<RefusalLog>,
    /// Notifications each sender sent this minute.
    pub notify_senders: Arc<notify::SenderWindows>,
}

/// Refusals by who was refused.
pub struct RefusalLog {
    pub slack: refusals::Refusals,
    pub looker: refusals::Refusals,
    pub notify: refusals::Refusals,
    pub routing: refusals::Refusals,
}

impl Default for RefusalLog {
    fn default() -> Self {
        Self {
            slack: refusals::Refusals::new("slack"),
            looker: refusals::Refusals::new("looker"),
            notify: refusals::Refusals::new("notify"),
            routing: refusals::Refusals::new("routing"),
        }
    }
}

/// Slack's routes answer refusals in plain text (what Slack shows in its request log); Looker's
/// and the API's in JSON.
fn slack_route(uri: &Uri) -> bool {
    uri.path().starts_with("/slack/") && !uri.path().starts_with("/slack/post")
}

async fn no_such_route(State(state): State<AppState>, uri: Uri) -> Response {
    state.refusals.routing.note("no such route");
    if slack_route(&uri) {
        let text = "no such route: Slack's request URLs are /slack/receive, /slack/events and /slack/action";
        return (StatusCode::NOT_FOUND, text).into_response();
    }
    Reply::error(StatusCode::NOT_FOUND, "no such route").into_response()
}

async fn wrong_method(State(state): State<AppState>, method: Method, uri: Uri) -> Response {
    state.refusals.routing.note("method not allowed");
    let reason = format!("{method} is not allowed here; send POST");
    let (status, allow) = (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "POST")]);
    if matches!(uri.path(), "/health_check" | "/readyz" | "/metrics") {
        let reason = format!("{method} is not allowed here; send GET");
        return (status, [(header::ALLOW, "GET")], Reply::error(status, reason)).into_response();
    }
    if slack_route(&uri) {
        return (status, allow, reason).into_response();
    }
    (status, allow, Reply::error(status, reason)).into_response()
}

pub use serve::connection_cap;

/// Serves the bot's routes on `listener` until `shutdown`, within the connection limits.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    cap: usize,
    shutdown: tokio_util::sync::CancellationToken,
) -> std::io::Result<()> {
    let overflow = serve::overflow_router(health::router().with_state(state.clone()));
    let settings = state.settings.server.clone();
    serve::serve(listener, router(state), overflow, &settings, cap, shutdown).await
}

pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(health::router())
        .merge(looker_webhook::router())
        .merge(looker_oauth::router())
        .merge(action_hub::router())
        .merge(slack_commands::router())
        .merge(slack_events::router())
        .merge(slack_interactions::router())
        .merge(metrics::router())
        .merge(notify::router())
        .fallback(no_such_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn(metrics::track))
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
