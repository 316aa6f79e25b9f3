//! The notify API, for applications that alert a Slack channel through the bot:
//! `POST /api/notify` (a bearer token names the sender, checked from the headers before the body
//! is read; 202 once the notification is durably recorded), `GET /api/notify/{id}` (its state,
//! for its sender only) and `GET /api/openapi.json` (the description of both).

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::AppState;
use crate::features::notify::{self, Notification, NotifyJob};
use crate::queue::Push;
use crate::store::Enqueued;

/// How many notifications each sender sent in the current minute (per replica): a sender in a
/// loop cannot fill the queue ahead of everyone else's work.
#[derive(Default)]
pub struct SenderWindows {
    windows: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, u32)>>,
}

impl SenderWindows {
    /// Counts one more from `sender`; how long until it may send again when over `per_minute`.
    fn admit(&self, sender: &str, per_minute: u32) -> Result<(), std::time::Duration> {
        let minute = std::time::Duration::from_secs(60);
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let now = std::time::Instant::now();
        let (started, count) = windows.entry(sender.to_string()).or_insert((now, 0));
        if now.duration_since(*started) >= minute {
            *started = now;
            *count = 0;
        }
        if *count >= per_minute {
            return Err(minute.saturating_sub(now.duration_since(*started)));
        }
        *count += 1;
        Ok(())
    }
}

/// A notification is a few kilobytes; anything far larger is not one.
const MAX_BODY: usize = 64 * 1024;

const OPENAPI: &str = include_str!("notify_openapi.json");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/notify", post(accept))
        .route("/api/notify/{id}", get(state_of))
        .route("/api/openapi.json", get(openapi))
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn refuse(status: StatusCode, error: &str) -> Response {
    let mut response = answer(status, json!({ "error": error }));
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// A request refused before its body is read.
struct Refused(StatusCode, &'static str);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        refuse(self.0, self.1)
    }
}

/// The sender whose token the request carries, from the headers alone.
fn sender(state: &AppState, headers: &HeaderMap) -> Result<String, Refused> {
    let notify = &state.settings.notify;
    if notify.senders.is_empty() {
        let off = "the notify API is off; an operator turns it on with LOOKERBOT_NOTIFY_TOKENS";
        return Err(Refused(StatusCode::NOT_FOUND, off));
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")));
    let Some(presented) = presented else {
        state.refusals.notify.note("notify without a bearer token");
        return Err(Refused(
            StatusCode::UNAUTHORIZED,
            "expected Authorization: Bearer <token>",
        ));
    };
    match notify.sender(presented.trim()) {
        Some(name) => Ok(name.to_string()),
        None => {
            state.refusals.notify.note("notify with an unknown token");
            Err(Refused(
                StatusCode::UNAUTHORIZED,
                "that token is not one of LOOKERBOT_NOTIFY_TOKENS",
            ))
        }
    }
}

async fn accept(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let sender = match sender(&state, &headers) {
        Ok(sender) => sender,
        Err(refused) => return refused.into_response(),
    };
    if let Err(wait) = state.notify_senders.admit(&sender, state.settings.notify.per_minute) {
        state.refusals.notify.note("a sender over its notifications a minute");
        let secs = wait.as_secs().max(1);
        let text = format!(
            "more than {} notifications a minute from {sender}; try again in {secs} s",
            state.settings.notify.per_minute
        );
        let mut refused = refuse(StatusCode::TOO_MANY_REQUESTS, &text);
        if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
            refused.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return refused;
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if !json {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the notification as application/json",
        );
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "a notification is at most 64 KiB");
    };
    let notification = match Notification::parse(&bytes) {
        Ok(notification) => notification,
        Err(problems) => return answer(StatusCode::BAD_REQUEST, json!({ "errors": problems })),
    };
    // A sender that retries a request it is unsure of gets the first one's id back.
    let how = match headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
        Some(key) if !key.is_empty() && key.len() <= 200 => Push::once(format!("notify:{sender}:{key}")),
        _ => Push::default(),
    };
    let job = NotifyJob { sender, notification };
    match state.queue.push(&job, how).await {
        Ok(Enqueued::Created(id) | Enqueued::Duplicate(id)) => answer(
            StatusCode::ACCEPTED,
            json!({ "id": id.to_string(), "state": "queued", "status_url": format!("/api/notify/{id}") }),
        ),
        Err(error) => {
            tracing::error!(%error, "could not record a notification");
            let mut refused = refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the bot could not record it; try again shortly",
            );
            refused
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            refused
        }
    }
}

async fn state_of(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let sender = match sender(&state, &headers) {
        Ok(sender) => sender,
        Err(refused) => return refused.into_response(),
    };
    let unknown = || {
        let text = format!("no notification {id} from this sender (finished ones are kept for 7 days)");
        refuse(StatusCode::NOT_FOUND, &text)
    };
    let Ok(number) = id.parse::<i64>() else {
        return unknown();
    };
    match notify::status(&state.bot, &sender, number).await {
        Ok(Some(found)) => {
            let mut body = serde_json::to_value(found).unwrap_or_default();
            body["id"] = Value::String(id.clone());
            answer(StatusCode::OK, body)
        }
        Ok(None) => unknown(),
        Err(error) => {
            tracing::error!(%error, "could not read a notification's state");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the bot could not read it; try again shortly",
            )
        }
    }
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}
