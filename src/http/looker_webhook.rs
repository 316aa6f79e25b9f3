//! Lookerbot's scheduled-delivery routes: `POST /slack/post/{channel|group|dm}/{name}`.
//! Verify, parse the webhook into a [`Delivery`], record it as a job, answer. No Looker or Slack
//! call happens before the answer.

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use super::looker_auth::{Caller, authenticate};
use super::reply::Reply;
use super::request_body::{BodyError, receive as receive_body};
use crate::domain::looker::models::{LookerId, Query, optional_id};
use crate::domain::looker::{Content as LinkContent, LookerKey};
use crate::features::deliveries::{Attachment, Content, Delivery, Destination, extension_for};
use crate::queue::{Job, Push};
use crate::store::{Enqueued, now_millis};

/// The body is read by the route itself, after the caller is authenticated, within its own limit.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/slack/post/{kind}/{name}", post(receive))
        .layer(DefaultBodyLimit::disable())
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

/// An attachment's bytes, decoded, and how to name them.
struct DecodedAttachment {
    content_type: String,
    extension: String,
    bytes: Vec<u8>,
}

/// Decodes Looker's attachment: `<mime>;base64` data comes in base64 lines, other data as text.
fn parse_attachment(body: AttachmentBody) -> Result<Option<DecodedAttachment>, Reply> {
    let Some(data) = body.data else { return Ok(None) };
    let mimetype = body.mimetype.unwrap_or_else(|| "application/octet-stream".into());
    let (content_type, is_base64) = match mimetype.strip_suffix(";base64") {
        Some(mime) => (mime.trim().to_string(), true),
        None => (mimetype.trim().to_string(), false),
    };
    let bytes = match (data, is_base64) {
        (Value::String(text), true) => {
            decode_base64_lines(&text).map_err(|_| bad_request("attachment.data is not valid base64"))?
        }
        (Value::String(text), false) => text.into_bytes(),
        (Value::Null, _) => return Ok(None),
        // JSON formats may arrive as JSON rather than a string.
        (other, _) => other.to_string().into_bytes(),
    };
    let extension = body
        .extension
        .filter(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| extension_for(&content_type).to_string());
    Ok(Some(DecodedAttachment {
        content_type,
        extension,
        bytes,
    }))
}

/// Base64 in lines (as Looker sends it), decoded a block at a time: no copy of the whole text.
fn decode_base64_lines(text: &str) -> Result<Vec<u8>, base64::DecodeSliceError> {
    const BLOCK: usize = 64 * 1024;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut decoded = Vec::with_capacity(text.len() / 4 * 3);
    let mut block = Vec::with_capacity(BLOCK);
    let flush = |block: &mut Vec<u8>, decoded: &mut Vec<u8>| {
        let start = decoded.len();
        decoded.resize(start + block.len() / 4 * 3 + 3, 0);
        let written = engine.decode_slice(&block[..], &mut decoded[start..])?;
        decoded.truncate(start + written);
        block.clear();
        Ok::<_, base64::DecodeSliceError>(())
    };
    for byte in text.bytes().filter(|b| !b.is_ascii_whitespace()) {
        block.push(byte);
        if block.len() == BLOCK {
            flush(&mut block, &mut decoded)?;
        }
    }
    flush(&mut block, &mut decoded)?;
    Ok(decoded)
}

async fn receive(
    State(state): State<AppState>,
    Path((kind, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Reply {
    // Who is asking, from the headers alone: an unauthenticated body is never read.
    let settings = &state.settings;
    let lookers = state.bot.lookers.registry();
    let Some(caller) = authenticate(settings, lookers, &headers) else {
        state.refusals.looker.note("missing or wrong webhook token");
        return Reply::error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong X-Looker-Webhook-Token (or Authorization: Token token=\"...\")",
        );
    };
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
    let too_large = || {
        Reply::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the webhook body is larger than LOOKERBOT_WEBHOOK_MAX_MB allows",
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > settings.webhook_max_bytes as u64) {
        return too_large();
    }
    let server = &settings.server;
    let body = match receive_body(body, settings.webhook_max_bytes, server.body_timeout, &server.spool_dir).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return too_large(),
        Err(error @ BodyError::TooSlow(_)) => return Reply::error(StatusCode::REQUEST_TIMEOUT, error.to_string()),
        Err(error @ BodyError::Broken(_)) => return bad_request(error.to_string()),
        Err(error @ BodyError::Spool(_)) => {
            tracing::error!(%error, "could not spool a webhook body");
            return Reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the bot could not read this delivery; try again shortly",
            );
        }
    };
    let webhook: WebhookBody = match body.json().await {
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
            let decoded = match webhook.attachment.map(parse_attachment).transpose() {
                Ok(attachment) => attachment.flatten(),
                Err(reply) => return reply,
            };
            // The bytes are kept once, beside the job, not as base64 inside its payload.
            let attachment = match decoded {
                None => None,
                Some(decoded) => match state.queue.store().put_file(decoded.bytes, now_millis()).await {
                    Ok(file_id) => Some(Attachment {
                        content_type: decoded.content_type,
                        extension: decoded.extension,
                        file_id: Some(file_id),
                        data_base64: None,
                    }),
                    Err(error) => {
                        tracing::error!(%error, "could not keep a webhook's attachment");
                        return Reply::error(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "the bot could not record this delivery; try again shortly",
                        );
                    }
                },
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
