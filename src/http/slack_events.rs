//! `POST /slack/events` (and Lookerbot's `/slack/event`): the Events API. Verify, answer
//! `url_verification`, and record each event we act on as a job de-duplicated on its message (or
//! `event_id`: Slack retries after 3 s, 1 min and 5 min, and sometimes repeats without retry
//! headers), all before the 200. The bot's own messages, other bots', edits and joins are ignored; unknown
//! event types get a 200 so Slack never retries them.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use super::slack_verify::VerifiedSlack;
use crate::features::commands::{CommandRequest, ReplyTo, parse};
use crate::features::unfurls::UnfurlRequest;
use crate::jobs::kinds;
use crate::store::Enqueued;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/slack/events", post(receive))
        .route("/slack/event", post(receive))
}

#[derive(Debug, Deserialize)]
pub struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    challenge: Option<String>,
    #[serde(default)]
    team_id: Option<String>,
    #[serde(default)]
    event_id: Option<String>,
    #[serde(default)]
    authorizations: Vec<Authorization>,
    #[serde(default)]
    event: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Authorization {
    #[serde(default)]
    user_id: Option<String>,
}

/// Work an event asks for.
struct Work {
    kind: &'static str,
    payload: Value,
    /// One line for operators.
    summary: String,
    /// What makes a repeat of this event the same work.
    dedupe_key: String,
    /// A link preview waits a moment, so a mention of the bot carrying the same link (which
    /// Slack sends at the same time) is recorded first and answers it in place instead.
    delay: std::time::Duration,
}

/// How long a preview of a posted message waits for the mention that may come with it.
pub const PREVIEW_DELAY: std::time::Duration = std::time::Duration::from_secs(2);

/// The dedupe key of a question asked in a message (a mention or a DM). Keyed on the message
/// rather than the event, so Slack's retries, and the `app_mention` and `message.im` events of
/// one message, make one answer; link previews look it up to leave answered links alone.
pub fn message_key(team_id: &str, channel: &str, ts: &str) -> String {
    format!("slack-message:{team_id}:{channel}:{ts}")
}

fn text(event: &Value, key: &str) -> Option<String> {
    event.get(key).and_then(Value::as_str).map(str::to_string)
}

/// The text after the bot's mention: `<@U123> look 7` → `look 7`.
fn without_mentions(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| !(w.starts_with("<@") && w.ends_with('>')))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What to do about an event, or nothing.
fn interpret(envelope: &Envelope, expand_urls: bool) -> Option<Work> {
    let event = envelope.event.as_ref()?;
    let event_key = format!("slack-event:{}", envelope.event_id.as_deref()?);
    let team_id = envelope.team_id.clone().unwrap_or_default();
    let own = envelope
        .authorizations
        .iter()
        .filter_map(|a| a.user_id.as_deref())
        .collect::<Vec<_>>();
    // Bots (the bot itself included), edits, joins and other subtypes are not questions.
    if event.get("bot_id").is_some_and(|b| !b.is_null()) || event.get("subtype").is_some_and(|s| !s.is_null()) {
        return None;
    }
    let user = text(event, "user")?;
    if own.contains(&user.as_str()) {
        return None;
    }
    let channel = text(event, "channel")?;
    let kind = text(event, "type")?;
    match kind.as_str() {
        "app_mention" | "message" => {
            let direct = text(event, "channel_type").as_deref() == Some("im");
            if kind == "message" && !direct {
                return None;
            }
            let ts = text(event, "ts");
            let dedupe_key = ts
                .as_deref()
                .map(|ts| message_key(&team_id, &channel, ts))
                .unwrap_or(event_key);
            // A mention is answered in its thread; a DM where it was asked.
            let thread_ts = text(event, "thread_ts").or(if kind == "app_mention" { ts } else { None });
            let words = without_mentions(&text(event, "text").unwrap_or_default());
            let summary = format!(
                "{kind} “{}” from {user} in {channel}",
                crate::render::mrkdwn::truncate(&words, 80)
            );
            let request = CommandRequest {
                invoked_as: "@lookerbot".into(),
                team_id,
                user_id: user,
                channel_id: channel,
                thread_ts,
                reply: ReplyTo::Ephemeral,
                command: parse(&words),
            };
            Some(Work {
                kind: kinds::COMMAND,
                payload: serde_json::to_value(request).ok()?,
                summary,
                dedupe_key,
                delay: std::time::Duration::ZERO,
            })
        }
        "link_shared" if expand_urls => {
            let links: Vec<String> = event
                .get("links")?
                .as_array()?
                .iter()
                .filter_map(|l| text(l, "url"))
                .collect();
            if links.is_empty() {
                return None;
            }
            let summary = format!("preview of {} link(s) from {user} in {channel}", links.len());
            // Links still in the composer are previewed at once: nobody has asked the bot yet.
            let posted = text(event, "source").as_deref() != Some("composer");
            let request = UnfurlRequest {
                team_id,
                user_id: user,
                channel,
                message_ts: text(event, "message_ts")?,
                unfurl_id: text(event, "unfurl_id"),
                source: text(event, "source"),
                links,
            };
            Some(Work {
                kind: kinds::UNFURL,
                payload: serde_json::to_value(request).ok()?,
                summary,
                dedupe_key: event_key,
                delay: if posted {
                    PREVIEW_DELAY
                } else {
                    std::time::Duration::ZERO
                },
            })
        }
        _ => None,
    }
}

async fn receive(State(state): State<AppState>, headers: HeaderMap, VerifiedSlack(body): VerifiedSlack) -> Response {
    let Ok(envelope) = serde_json::from_slice::<Envelope>(&body) else {
        return (StatusCode::BAD_REQUEST, "not an Events API payload").into_response();
    };
    let retry = headers.get("x-slack-retry-num").and_then(|v| v.to_str().ok());
    match accept(&state, envelope, retry).await {
        Ok(Some(answer)) => Json(answer).into_response(),
        Ok(None) => StatusCode::OK.into_response(),
        Err(status) => status.into_response(),
    }
}

/// Handles one Events API payload (over HTTP or Socket Mode): the answer body, if any, or the
/// status to refuse it with. Nothing leaves the bot before the event is recorded.
pub async fn accept(state: &AppState, envelope: Envelope, retry: Option<&str>) -> Result<Option<Value>, StatusCode> {
    match envelope.kind.as_str() {
        "url_verification" => Ok(Some(serde_json::json!({"challenge": envelope.challenge}))),
        "event_callback" => {
            let event_id = envelope.event_id.clone().ok_or(StatusCode::BAD_REQUEST)?;
            let Some(work) = interpret(&envelope, state.settings.features.expand_urls) else {
                return Ok(None);
            };
            match state
                .queue
                .push_later(
                    work.kind,
                    &work.payload,
                    work.summary,
                    Some(work.dedupe_key),
                    work.delay,
                )
                .await
            {
                Ok(Enqueued::Created(_)) => Ok(None),
                Ok(Enqueued::Duplicate(_)) => {
                    tracing::info!(%event_id, retry = retry.unwrap_or("-"), "event already recorded; not run twice");
                    Ok(None)
                }
                // Not recorded: a refusal makes Slack send it again.
                Err(error) => {
                    tracing::error!(%error, "could not record a Slack event");
                    Err(StatusCode::SERVICE_UNAVAILABLE)
                }
            }
        }
        _ => Ok(None),
    }
}
