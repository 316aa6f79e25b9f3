//! Lookerbot's scheduled-delivery routes: `POST /slack/post/{channel|group|dm}/{name}`.
//! Verify, parse the webhook into a [`Delivery`], record it as a job, answer. No Looker or Slack
//! call happens before the answer.

pub(super) mod parse;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;

use super::AppState;
use super::looker_auth::authenticate;
use super::reply::Reply;
use super::request_body::{BodyError, Deadline, receive as receive_body};
use crate::features::deliveries::Destination;
use crate::features::schedules::{self, Addressed, Refusal};
use crate::queue::{Job, Push};
use crate::store::{Enqueued, now_millis};
use parse::WebhookBody;

/// The body is read by the route itself, after the caller is authenticated, within its own limit.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/slack/post/{kind}/{name}", post(receive))
        .layer(DefaultBodyLimit::disable())
}

/// Parsing a large webhook needs about its size in memory again: one at a time.
static LARGE_BODIES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

fn bad_request(reason: impl Into<String>) -> Reply {
    Reply::error(StatusCode::BAD_REQUEST, reason)
}

async fn receive(
    State(state): State<AppState>,
    Path((kind, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
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
    let path = format!("/slack/post/{kind}/{name}");
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
    let signature = signature_in(query.as_deref());
    if let Err(refusal) = schedules::check_signature(&state.bot, &destination, signature.as_deref()) {
        return refused(refusal);
    }
    let webhook = match read_webhook(&state, &headers, body).await {
        Ok(webhook) => webhook,
        Err(reply) => return reply,
    };
    let parse::Parsed {
        plan_id,
        delivery,
        attachment,
    } = match parse::delivery(webhook, destination, caller, lookers, &state.bot.sealer) {
        Ok(parsed) => parsed,
        Err(refused) => return Reply::error(refused.status, refused.reason),
    };
    // Only what Looker's own plan holds runs, and only if it sends here.
    let addressed = Addressed {
        base: state.settings.hub.public_url.clone(),
        host: requested_host(&headers),
        path,
    };
    let delivery = match schedules::verified(&state.bot, plan_id, &addressed, delivery).await {
        Ok(delivery) => delivery,
        Err(refusal) => return refused(refusal),
    };
    record(&state, &headers, delivery, attachment).await
}

/// Reads and parses the body within the webhook limits; large bodies wait on disk and are
/// parsed one at a time.
async fn read_webhook(state: &AppState, headers: &HeaderMap, body: Body) -> Result<WebhookBody, Reply> {
    let too_large = || {
        Reply::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the webhook body is larger than LOOKERBOT_WEBHOOK_MAX_MB allows",
        )
    };
    let settings = &state.settings;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > settings.webhook_max_bytes as u64) {
        return Err(too_large());
    }
    let server = &settings.server;
    let body = match receive_body(
        body,
        settings.webhook_max_bytes,
        Deadline::Whole(server.body_timeout),
        &server.spool_dir,
    )
    .await
    {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return Err(too_large()),
        Err(error @ (BodyError::TooSlow(_) | BodyError::Stalled(_))) => {
            return Err(Reply::error(StatusCode::REQUEST_TIMEOUT, error.to_string()));
        }
        Err(error @ BodyError::Broken(_)) => return Err(bad_request(error.to_string())),
        Err(error @ BodyError::Spool(_)) => {
            tracing::error!(%error, "could not spool a webhook body");
            return Err(Reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the bot could not read this delivery; try again shortly",
            ));
        }
    };
    // Large bodies are parsed one at a time: each waits on disk, not in memory.
    let _one_large_at_a_time = match body.is_spooled() {
        true => Some(LARGE_BODIES.acquire().await.expect("never closed")),
        false => None,
    };
    body.json()
        .await
        .map_err(|error| bad_request(format!("the body is not a Looker webhook: {error}")))
}

/// Keeps the attachment beside the job and records the delivery, once per Looker webhook id.
async fn record(
    state: &AppState,
    headers: &HeaderMap,
    mut delivery: crate::features::deliveries::Delivery,
    attachment: Option<parse::DecodedAttachment>,
) -> Reply {
    let how = headers
        .get("x-looker-webhook-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty())
        .map(|id| Push::once(format!("looker-webhook:{id}")))
        .unwrap_or_default();
    if let Some(decoded) = attachment {
        // A redelivery of a webhook already recorded keeps nothing new.
        if let Some(key) = &how.dedupe_key
            && matches!(state.queue.recorded(key).await, Ok(true))
        {
            return Reply::ok(format!("Already received: {}", delivery.summary()));
        }
        // The bytes are kept once, beside the job, not as base64 inside its payload.
        match state.queue.store().put_file(decoded.bytes, now_millis()).await {
            Ok(file_id) => delivery.keep_attachment(decoded.content_type, decoded.extension, file_id),
            Err(error) => {
                tracing::error!(%error, "could not keep a webhook's attachment");
                return Reply::error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the bot could not record this delivery; try again shortly",
                );
            }
        }
    }
    let summary = delivery.summary();
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

/// The `sig` of a signed address, if the query has one.
fn signature_in(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == "sig")
        .map(|(_, value)| value.into_owned())
}

/// The host the request was sent to: a proxy's `X-Forwarded-Host`, else `Host`.
fn requested_host(headers: &HeaderMap) -> Option<String> {
    ["x-forwarded-host", "host"].iter().find_map(|name| {
        let value = headers.get(*name)?.to_str().ok()?;
        let first = value.split(',').next()?.trim();
        (!first.is_empty()).then(|| first.to_string())
    })
}

/// A webhook the trust boundary turned away: 403 (or 503 when Looker could not be asked), and
/// one log line.
fn refused(refusal: Refusal) -> Reply {
    match refusal {
        Refusal::Forbidden(reason) => {
            tracing::warn!(%reason, "refused a scheduled delivery");
            Reply::error(StatusCode::FORBIDDEN, reason)
        }
        Refusal::Unavailable(reason) => {
            tracing::warn!(%reason, "could not check a scheduled delivery with Looker");
            Reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the bot could not check this schedule with Looker; try again shortly",
            )
        }
    }
}
