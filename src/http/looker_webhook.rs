//! Lookerbot's scheduled-delivery routes: `POST /slack/post/{channel|group|dm}/{name}`.
//! Verify, parse the webhook into a [`Delivery`], record it as a job, answer. No Looker or Slack
//! call happens before the answer.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use super::looker_auth::{Caller, authenticate};
use super::reply::Reply;
use crate::domain::looker::models::{LookerId, Query, optional_id};
use crate::domain::looker::{Content as LinkContent, LookerKey};
use crate::features::deliveries::{Attachment, Content, Delivery, Destination, extension_for};
use crate::queue::{Job, Push};
use crate::store::Enqueued;

pub fn router(body_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/slack/post/{kind}/{name}", post(receive))
        .layer(DefaultBodyLimit::max(body_limit))
}

/// Looker's webhook body (shared with the Action API), as sent; every field may be null.
#[derive(Debug, Deserialize)]
struct WebhookBody {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    scheduled_plan: Option<ScheduledPlan>,
    #[serde(default)]
    attachment: Option<AttachmentBody>,
}

#[derive(Debug, Deserialize)]
struct ScheduledPlan {
    #[serde(default)]
    title: Option<String>,
    #[serde(default, rename = "type")]
    plan_type: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default, deserialize_with = "optional_id")]
    query_id: Option<LookerId>,
    #[serde(default)]
    query: Option<Value>,
    #[serde(default)]
    download_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AttachmentBody {
    #[serde(default)]
    mimetype: Option<String>,
    #[serde(default)]
    extension: Option<String>,
    #[serde(default)]
    data: Option<Value>,
}

fn bad_request(reason: impl Into<String>) -> Reply {
    Reply::error(StatusCode::BAD_REQUEST, reason)
}

/// Decodes Looker's attachment: `<mime>;base64` data comes in base64 lines, other data as text.
fn parse_attachment(body: AttachmentBody) -> Result<Option<Attachment>, Reply> {
    let Some(data) = body.data else { return Ok(None) };
    let mimetype = body.mimetype.unwrap_or_else(|| "application/octet-stream".into());
    let (content_type, is_base64) = match mimetype.strip_suffix(";base64") {
        Some(mime) => (mime.trim().to_string(), true),
        None => (mimetype.trim().to_string(), false),
    };
    let engine = base64::engine::general_purpose::STANDARD;
    let data_base64 = match (data, is_base64) {
        (Value::String(text), true) => {
            let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            engine
                .decode(&compact)
                .map_err(|_| bad_request("attachment.data is not valid base64"))?;
            compact
        }
        (Value::String(text), false) => engine.encode(text.as_bytes()),
        (Value::Null, _) => return Ok(None),
        // JSON formats may arrive as JSON rather than a string.
        (other, _) => engine.encode(other.to_string().as_bytes()),
    };
    let extension = body
        .extension
        .filter(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| extension_for(&content_type).to_string());
    Ok(Some(Attachment {
        content_type,
        extension,
        data_base64,
    }))
}

async fn receive(
    State(state): State<AppState>,
    Path((kind, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let destination = match kind.as_str() {
        "channel" => Destination::Channel(name),
        "group" => Destination::Group(name),
        "dm" => Destination::Dm(name),
        _ => {
            return Reply::error(
                StatusCode::NOT_FOUND,
                "unknown destination: use /slack/post/channel/<name>, /group/<name> or /dm/<user>",
            );
        }
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Reply::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the webhook body is larger than LOOKERBOT_WEBHOOK_MAX_MB allows",
            );
        }
        Err(rejection) => return bad_request(rejection.body_text()),
    };
    let settings = &state.settings;
    let lookers = state.bot.lookers.registry();
    let Some(caller) = authenticate(settings, lookers, &headers) else {
        return Reply::error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong X-Looker-Webhook-Token (or Authorization: Token token=\"...\")",
        );
    };
    let webhook: WebhookBody = match serde_json::from_slice(&body) {
        Ok(webhook) => webhook,
        Err(error) => return bad_request(format!("the body is not a Looker webhook: {error}")),
    };
    let Some(plan) = webhook.scheduled_plan else {
        return bad_request("scheduled_plan is missing: send this from a Looker schedule with a Webhook destination");
    };

    // Which Looker sent it: by the content's URL when there is one, else by the token.
    let by_url = plan.url.as_deref().and_then(|url| lookers.by_url(url));
    let looker: Option<LookerKey> = match (caller, by_url) {
        (Caller::Looker(matched), Some(key)) if !matched.contains(&key) => {
            return Reply::error(
                StatusCode::UNAUTHORIZED,
                "the webhook token does not belong to the Looker this schedule comes from",
            );
        }
        (_, Some(key)) => Some(key),
        (Caller::Looker(matched), None) => matched.into_iter().next(),
        (Caller::SharedToken, None) if lookers.len() == 1 => lookers.all().next().map(|(key, _)| key.clone()),
        (Caller::SharedToken, None) => None,
    };

    let plan_type = plan.plan_type.as_deref().or(match webhook.kind.as_deref() {
        Some("query") => Some("Look"),
        Some("dashboard") => Some("Dashboard"),
        _ => None,
    });
    let content = match plan_type {
        Some("Look") => {
            let look_id = plan.url.as_deref().and_then(|url| match LinkContent::of(url) {
                Some(LinkContent::Look { id }) => Some(id),
                _ => None,
            });
            if look_id.is_none() && plan.query_id.is_none() {
                return bad_request("scheduled_plan has neither a Look URL nor a query_id");
            }
            if looker.is_none() {
                return bad_request("cannot tell which Looker sent this: scheduled_plan.url is missing");
            }
            Content::Look {
                look_id,
                query_id: plan.query_id,
                query: plan
                    .query
                    .and_then(|q| serde_json::from_value::<Query>(q).ok())
                    .map(Box::new),
                url: plan.url,
            }
        }
        Some("Dashboard" | "LookMLDashboard") => {
            let attachment = match webhook.attachment.map(parse_attachment).transpose() {
                Ok(attachment) => attachment.flatten(),
                Err(reply) => return reply,
            };
            Content::Dashboard {
                url: plan.url,
                attachment,
                download_url: plan.download_url,
            }
        }
        other => {
            return bad_request(format!(
                "unsupported delivery type {:?}: the bot posts Looks and dashboards",
                other.unwrap_or("none")
            ));
        }
    };

    let delivery = Delivery {
        destination,
        looker,
        title: plan.title.filter(|t| !t.trim().is_empty()),
        content,
    };
    let summary = delivery.summary();
    let how = headers
        .get("x-looker-webhook-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty())
        .map(|id| Push::once(format!("looker-webhook:{id}")))
        .unwrap_or_default();
    match state.queue.push(&delivery, how).await {
        Ok(Enqueued::Created(id)) => {
            tracing::info!(job = id, %summary, "delivery queued");
            Reply::ok(format!("Queued {summary}"))
        }
        Ok(Enqueued::Duplicate(id)) => {
            tracing::info!(job = id, %summary, "duplicate delivery ignored");
            Reply::ok(format!("Already received: {summary}"))
        }
        Err(error) => {
            tracing::error!(%error, %summary, "could not record a delivery");
            Reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the bot could not record this delivery; try again shortly",
            )
        }
    }
}
