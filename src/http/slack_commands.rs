//! `POST /slack/receive`: the `/looker` slash command. Verify the signature over the raw body,
//! answer `help` (from the in-memory catalog of custom commands) and, without custom commands,
//! unknown words at once; record everything else as a job and acknowledge within Slack's three
//! seconds. No Looker or Slack call happens before the answer.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use super::slack_verify::VerifiedSlack;
use crate::domain::slack::OutgoingMessage;
use crate::features::commands::grammar::{Command, parse};
use crate::features::commands::help::{Catalog, help, unknown};
use crate::features::commands::{CommandRequest, ReplyTo};
use crate::features::custom_commands::CustomCommands;
use crate::features::errors::UserError;
use crate::queue::Push;

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

fn ephemeral(message: &OutgoingMessage) -> Value {
    let mut body = serde_json::to_value(message).unwrap_or_default();
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
fn static_help(name: &str) -> Value {
    static CACHE: LazyLock<Mutex<HashMap<String, Value>>> = LazyLock::new(Default::default);
    let mut cache = CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    cache
        .entry(name.to_string())
        .or_insert_with(|| ephemeral(&help(name, &Catalog::NONE)))
        .clone()
}

/// What Slack gets back for a slash command (over HTTP or Socket Mode): the answer itself when
/// it needs nothing from Looker, else the recorded job's "working on it" (or nothing).
pub async fn acknowledge(state: &AppState, form: SlashForm) -> Option<Value> {
    let name = form.command.clone().unwrap_or_else(|| "/looker".into());
    let lookers = &state.bot.lookers;
    let command = parse(&form.text, lookers.registry());
    let custom = CustomCommands::configured(lookers);
    match &command {
        Command::Help if !custom => return Some(static_help(&name)),
        // Help lists what the catalogs hold now; they are refreshed in the background.
        Command::Help => {
            let commands = state.bot.custom_commands.snapshot(lookers);
            let catalog = Catalog {
                commands: &commands,
                incomplete: !state.bot.custom_commands.loaded(lookers),
            };
            return Some(ephemeral(&help(&name, &catalog)));
        }
        Command::Unknown { text } if !custom => return Some(ephemeral(&unknown(&name, text))),
        _ => {}
    }
    let request = CommandRequest {
        invoked_as: name,
        team_id: form.team_id,
        user_id: form.user_id,
        channel_id: form.channel_id,
        thread_ts: None,
        reply: ReplyTo::ResponseUrl { url: form.response_url },
        command,
        text: form.text,
    };
    match state.queue.push(&request, Push::default()).await {
        Ok(_) if state.settings.features.loading_messages => Some(ephemeral(&OutgoingMessage::text("Working on it…"))),
        Ok(_) => None,
        Err(error) => {
            tracing::error!(%error, "could not record a slash command");
            Some(ephemeral(&OutgoingMessage::text(UserError::NotRecorded.to_string())))
        }
    }
}
