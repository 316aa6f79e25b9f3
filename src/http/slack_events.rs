//! `POST /slack/events` (and Lookerbot's `/slack/event`): the Events API. Verify, answer
//! `url_verification`, and record each event we act on as a job de-duplicated on its message (or
//! `event_id`: Slack retries after 3 s, 1 min and 5 min, and sometimes repeats without retry
//! headers), all before the 200. People's messages are answered, files and thread replies sent to
//! the channel included; the bot's own messages, other bots', Slackbot's, edits and joins are
//! ignored; unknown event types get a 200 so Slack never retries them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use super::slack_verify::VerifiedSlack;
use crate::domain::looker::Registry;
use crate::features::commands::access::SLACKBOT;
use crate::features::commands::grammar::parse;
use crate::features::commands::{CommandRequest, ReplyTo, question_key};
use crate::features::unfurls::UnfurlRequest;
use crate::queue::Push;
use crate::store::{Enqueued, StoreError};

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
    /// Kept raw: read as an [`Event`] only when the envelope is a callback, and an event whose
    /// fields have other shapes (`channel_created` carries a channel object) is simply not ours.
    #[serde(default)]
    event: Option<Box<serde_json::value::RawValue>>,
}

/// The fields of an event the bot reads; everything else is skipped while parsing.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    user: Option<String>,
    bot_id: Option<String>,
    subtype: Option<String>,
    channel: Option<String>,
    channel_type: Option<String>,
    text: Option<String>,
    ts: Option<String>,
    thread_ts: Option<String>,
    // link_shared
    message_ts: Option<String>,
    unfurl_id: Option<String>,
    source: Option<String>,
    links: Vec<SharedLink>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SharedLink {
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Authorization {
    #[serde(default)]
    user_id: Option<String>,
}

/// Work an event asks for, with what makes a repeat of the event the same work.
enum Work {
    Command(CommandRequest, Push),
    /// A link preview waits a moment, so a mention of the bot carrying the same link (which
    /// Slack sends at the same time) is recorded first and answers it in place instead.
    Unfurl(UnfurlRequest, Push),
}

impl Work {
    async fn record(&self, state: &AppState) -> Result<Enqueued, StoreError> {
        match self {
            Work::Command(request, how) => state.queue.push(request, how.clone()).await,
            Work::Unfurl(request, how) => state.queue.push(request, how.clone()).await,
        }
    }
}

/// How long a preview of a posted message waits for the mention that may come with it.
const PREVIEW_DELAY: std::time::Duration = std::time::Duration::from_secs(2);

/// Message subtypes that are still a person talking: a message with a file, a thread reply also
/// sent to the channel.
const PERSON_SUBTYPES: &[&str] = &["file_share", "thread_broadcast"];

/// The text after the bot's mention: `<@U123> look 7` → `look 7`.
fn without_mentions(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| !(w.starts_with("<@") && w.ends_with('>')))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What to do about an event, or nothing.
fn interpret(envelope: &Envelope, expand_urls: bool, lookers: &Registry) -> Option<Work> {
    let event: Event = serde_json::from_str(envelope.event.as_ref()?.get()).ok()?;
    let event_key = format!("slack-event:{}", envelope.event_id.as_deref()?);
    let team_id = envelope.team_id.clone().unwrap_or_default();
    // Bots (the bot itself included), edits, joins and other subtypes are not questions.
    if event.bot_id.is_some() || event.subtype.as_deref().is_some_and(|s| !PERSON_SUBTYPES.contains(&s)) {
        return None;
    }
    let user = event.user.clone()?;
    if envelope
        .authorizations
        .iter()
        .any(|a| a.user_id.as_deref() == Some(user.as_str()))
    {
        return None;
    }
    let channel = event.channel.clone()?;
    let kind = event.kind.as_str();
    match kind {
        // Slackbot's messages (reminders, notices) are never questions; links it posts are
        // previewed like anyone's.
        "app_mention" | "message" if user == SLACKBOT => None,
        "app_mention" | "message" => {
            let direct = event.channel_type.as_deref() == Some("im");
            if kind == "message" && !direct {
                return None;
            }
            let ts = event.ts.clone();
            let dedupe_key = ts
                .as_deref()
                .map(|ts| question_key(&team_id, &channel, ts))
                .unwrap_or(event_key);
            // A mention in a channel is answered in its thread; a DM where it was asked (Slack
            // may send a mention in a DM as `app_mention` too, and either may arrive first).
            let in_dm = direct || channel.starts_with('D');
            let thread_ts = event
                .thread_ts
                .clone()
                .or(if kind == "app_mention" && !in_dm { ts } else { None });
            let words = without_mentions(event.text.as_deref().unwrap_or_default());
            let request = CommandRequest {
                invoked_as: "@lookerbot".into(),
                team_id,
                user_id: user,
                channel_id: channel,
                thread_ts,
                reply: ReplyTo::Ephemeral,
                command: parse(&words, lookers),
                text: words,
                sharing: false,
            };
            Some(Work::Command(request, Push::once(dedupe_key)))
        }
        "link_shared" if expand_urls => {
            let links: Vec<String> = event.links.iter().filter_map(|l| l.url.clone()).collect();
            if links.is_empty() {
                return None;
            }
            // Links still in the composer are previewed at once: nobody has asked the bot yet.
            let posted = event.source.as_deref() != Some("composer");
            let request = UnfurlRequest {
                team_id,
                user_id: user,
                channel,
                message_ts: event.message_ts.clone()?,
                unfurl_id: event.unfurl_id.clone(),
                source: event.source.clone(),
                links,
            };
            let delay = if posted {
                PREVIEW_DELAY
            } else {
                std::time::Duration::ZERO
            };
            Some(Work::Unfurl(request, Push::once(event_key).after(delay)))
        }
        _ => None,
    }
}

async fn receive(State(state): State<AppState>, VerifiedSlack { body, headers }: VerifiedSlack) -> Response {
    let Ok(envelope) = serde_json::from_slice::<Envelope>(&body) else {
        state.refusals.slack.note("not an Events API payload");
        return (StatusCode::BAD_REQUEST, "not an Events API payload").into_response();
    };
    let retry = headers.get("x-slack-retry-num").and_then(|v| v.to_str().ok());
    match accept(&state, envelope, retry).await {
        Ok(Some(answer)) => Json(answer).into_response(),
        Ok(None) => StatusCode::OK.into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

/// Handles one Events API payload (over HTTP or Socket Mode): the answer body, if any, or the
/// status to refuse it with. Nothing leaves the bot before the event is recorded.
pub async fn accept(
    state: &AppState,
    envelope: Envelope,
    retry: Option<&str>,
) -> Result<Option<Value>, (StatusCode, &'static str)> {
    match envelope.kind.as_str() {
        "url_verification" => Ok(Some(serde_json::json!({"challenge": envelope.challenge}))),
        "event_callback" => {
            let Some(event_id) = envelope.event_id.clone() else {
                let reason = "an event_callback without event_id";
                state.refusals.slack.note(reason);
                return Err((StatusCode::BAD_REQUEST, reason));
            };
            let expand_urls = state.settings.features.expand_urls;
            let Some(work) = interpret(&envelope, expand_urls, state.bot.lookers.registry()) else {
                return Ok(None);
            };
            match work.record(state).await {
                Ok(Enqueued::Created(_)) => Ok(None),
                Ok(Enqueued::Duplicate(_)) => {
                    tracing::info!(%event_id, retry = retry.unwrap_or("-"), "event already recorded; not run twice");
                    Ok(None)
                }
                // Not recorded: a refusal makes Slack send it again.
                Err(error) => {
                    tracing::error!(%error, "could not record a Slack event");
                    Err((
                        StatusCode::SERVICE_UNAVAILABLE,
                        "the event could not be recorded; Slack will send it again",
                    ))
                }
            }
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(event: serde_json::Value) -> Envelope {
        let body = serde_json::json!({"type": "event_callback", "team_id": "T1", "event_id": "Ev1",
            "authorizations": [{"user_id": "UBOT"}], "event": event});
        serde_json::from_str(&body.to_string()).unwrap()
    }

    /// A fixture captured from a real workspace (see tests/fixtures/slack/SOURCES.md).
    fn fixture(name: &str) -> Envelope {
        let path = format!("{}/tests/fixtures/slack/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn interpret(envelope: &Envelope) -> Option<Work> {
        super::interpret(envelope, true, &Registry::new(&[]))
    }

    #[test]
    fn a_mention_becomes_a_command_keyed_on_its_message() {
        let work = interpret(&envelope(
            serde_json::json!({"type": "app_mention", "user": "U1", "text": "<@UBOT> look 7",
                "ts": "1.2", "channel": "C1", "event_ts": "1.2", "blocks": [{"type": "rich_text"}]}),
        ));
        let Some(Work::Command(request, how)) = work else {
            panic!("a command")
        };
        assert_eq!(how.dedupe_key.as_deref(), Some("slack-message:T1:C1:1.2"));
        assert_eq!(request.thread_ts.as_deref(), Some("1.2"));
    }

    #[test]
    fn people_are_answered_with_files_and_thread_broadcasts_but_bots_and_slackbot_are_not() {
        for name in ["event_message_file_share.json", "event_message_thread_broadcast.json"] {
            // Captured in channels; the same messages sent to the bot in a DM are questions.
            let mut envelope = fixture(name);
            let mut event: serde_json::Value = serde_json::from_str(envelope.event.as_ref().unwrap().get()).unwrap();
            event["channel_type"] = "im".into();
            envelope.event = Some(serde_json::value::to_raw_value(&event).unwrap());
            assert!(matches!(interpret(&envelope), Some(Work::Command(..))), "{name}");
        }
        for name in [
            "event_message_slackbot_im.json",
            "event_message_bot_message.json",
            "event_message_bot_no_subtype.json",
            "event_message_changed.json",
            "event_message_deleted.json",
            "event_reaction_added.json",
        ] {
            assert!(interpret(&fixture(name)).is_none(), "{name}");
        }
        assert!(matches!(
            interpret(&fixture("event_app_mention.json")),
            Some(Work::Command(..))
        ));
    }

    #[test]
    fn events_of_other_shapes_are_not_ours_rather_than_refused() {
        // `channel_created` carries a channel object, `user_change` a user object.
        for event in [
            serde_json::json!({"type": "channel_created", "channel": {"id": "C1", "name": "x"}}),
            serde_json::json!({"type": "user_change", "user": {"id": "U1"}}),
            serde_json::json!({"type": "app_mention", "user": "UBOT", "text": "<@UBOT> hi", "ts": "1", "channel": "C1"}),
        ] {
            assert!(interpret(&envelope(event)).is_none());
        }
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::http::fuzz::json;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_event_is_answered(event in json(), id in prop::option::of(".{0,12}")) {
            let body = serde_json::json!({"type": "event_callback", "team_id": "T1", "event_id": id,
                "authorizations": [{"user_id": "UBOT"}], "event": event});
            if let Ok(envelope) = serde_json::from_value::<Envelope>(body) {
                let _ = interpret(&envelope, true, &Registry::new(&[]));
            }
        }

        #[test]
        fn any_document_is_answered(document in json(), bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            for text in [document.to_string().into_bytes(), bytes] {
                if let Ok(envelope) = serde_json::from_slice::<Envelope>(&text) {
                    let _ = interpret(&envelope, true, &Registry::new(&[]));
                }
            }
        }
    }
}
