//! `POST /slack/receive`: the `/looker` slash command. Verify the signature over the raw body,
//! answer `help` and unknown commands at once, record everything else as a job and acknowledge
//! within Slack's three seconds. No Looker or Slack call happens before the answer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use super::AppState;
use super::slack_verify::VerifiedSlack;
use crate::clients::slack::OutgoingMessage;
use crate::features::commands::{Command, CommandRequest, ReplyTo, help, parse, unknown};
use crate::jobs::kinds;

pub fn router() -> Router<AppState> {
    Router::new().route("/slack/receive", post(receive))
}

/// The form Slack posts for a slash command (the fields the bot uses).
#[derive(Debug, Deserialize)]
pub struct SlashForm {
    team_id: String,
    channel_id: String,
    user_id: String,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    text: String,
    response_url: String,
}

fn ephemeral(message: OutgoingMessage) -> serde_json::Value {
    let mut body = serde_json::to_value(&message).unwrap_or_default();
    body["response_type"] = "ephemeral".into();
    body
}

async fn receive(State(state): State<AppState>, VerifiedSlack { body, .. }: VerifiedSlack) -> Response {
    let Ok(form) = serde_urlencoded::from_bytes::<SlashForm>(&body) else {
        return (StatusCode::BAD_REQUEST, "not a slash command").into_response();
    };
    match acknowledge(&state, form).await {
        Some(answer) => Json(answer).into_response(),
        None => StatusCode::OK.into_response(),
    }
}

/// The help answer without custom commands never changes: built once per command name.
fn static_help(name: &str) -> serde_json::Value {
    static CACHE: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, serde_json::Value>>> =
        std::sync::LazyLock::new(Default::default);
    let mut cache = CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    cache
        .entry(name.to_string())
        .or_insert_with(|| ephemeral(help(name, &[])))
        .clone()
}

/// What Slack gets back for a slash command (over HTTP or Socket Mode): the answer itself when
/// it needs nothing from Looker, else the recorded job's "working on it" (or nothing).
pub async fn acknowledge(state: &AppState, form: SlashForm) -> Option<serde_json::Value> {
    let name = form.command.clone().unwrap_or_else(|| "/looker".into());
    let command = parse(&form.text);
    // Without custom commands, help and unknown words need nothing from Looker: answer now.
    let custom = state
        .settings
        .lookers
        .iter()
        .any(|l| l.custom_command_folder_id.is_some());
    match &command {
        Command::Help if !custom => return Some(static_help(&name)),
        Command::Unknown { text } if !custom => return Some(ephemeral(unknown(&name, text))),
        _ => {}
    }
    let request = CommandRequest {
        invoked_as: name.clone(),
        team_id: form.team_id,
        user_id: form.user_id,
        channel_id: form.channel_id,
        thread_ts: None,
        reply: ReplyTo::ResponseUrl { url: form.response_url },
        command,
    };
    let summary = format!(
        "{name} {} from {} in {}",
        form.text.trim(),
        request.user_id,
        request.channel_id
    );
    match state.queue.push(kinds::COMMAND, &request, summary, None).await {
        Ok(_) if state.settings.features.loading_messages => Some(ephemeral(OutgoingMessage {
            text: "Working on it…".into(),
            blocks: Vec::new(),
        })),
        Ok(_) => None,
        Err(error) => {
            tracing::error!(%error, "could not record a slash command");
            Some(ephemeral(OutgoingMessage {
                text: "Sorry, I couldn't take that request just now. Please try again in a moment.".into(),
                blocks: Vec::new(),
            }))
        }
    }
}
