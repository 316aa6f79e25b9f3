//! `POST /slack/receive`: the `/looker` slash command. Verify the signature over the raw body,
//! answer `help` (from the in-memory catalog of custom commands) and, without custom commands,
//! unknown words at once; record everything else as a job and acknowledge within Slack's three
//! seconds. No Looker or Slack call happens before the answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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
use crate::features::commands::access::{Admission, admitted_already};
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

/// `help` answers as sent, by command name, with the catalog version they were built from.
#[derive(Clone, Default)]
pub struct HelpAnswers(Arc<Mutex<HashMap<String, BuiltHelp>>>);

/// An answer and the catalog version it was built from: (generation, incomplete).
type BuiltHelp = ((u64, bool), Value);

/// The help answer changes only with the custom-command catalogs: it is built once per command
/// name and catalog generation (and whether every catalog is there yet), then served as it is.
fn help_answer(state: &AppState, name: &str) -> Value {
    let lookers = &state.bot.lookers;
    state.bot.custom_commands.refresh_soon();
    let custom = &state.bot.custom_commands;
    let configured = CustomCommands::configured(lookers);
    let version = (custom.generation(), configured && !custom.loaded(lookers));
    let mut cache = state.help.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((built, answer)) = cache.get(name)
        && *built == version
    {
        return answer.clone();
    }
    let commands = if configured {
        custom.snapshot(lookers)
    } else {
        Vec::new()
    };
    let catalog = Catalog {
        commands: &commands,
        incomplete: version.1,
        accounts: lookers.all().any(|(_, l)| l.settings().identity.is_oauth()),
    };
    let answer = ephemeral(&help(name, &catalog));
    cache.insert(name.to_string(), (version, answer.clone()));
    answer
}

/// What Slack gets back for a slash command (over HTTP or Socket Mode): the answer itself when
/// it needs nothing from Looker, else the recorded job's "working on it" (or nothing).
pub async fn acknowledge(state: &AppState, form: SlashForm) -> Option<Value> {
    let name = form.command.clone().unwrap_or_else(|| "/looker".into());
    let lookers = &state.bot.lookers;
    let command = parse(&form.text, lookers.registry());
    let custom = CustomCommands::configured(lookers);
    match &command {
        Command::Help if !custom => return Some(help_answer(state, &name)),
        // The custom commands (what the catalogs hold now, refreshed in the background) are
        // listed at once only to someone the bot has recently admitted; anyone else is looked
        // up by the job first, as every command is.
        Command::Help if matches!(admitted_already(&state.bot, &form.user_id), Some(Admission::Admitted)) => {
            return Some(help_answer(state, &name));
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
        reply: ReplyTo::ResponseUrl {
            url: crate::sealing::SealedText::seal(&state.bot.sealer, &form.response_url),
        },
        command,
        text: form.text,
        sharing: false,
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

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::domain::looker::Registry;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_slash_command_form_is_read_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..512), text in ".*") {
            let _ = serde_urlencoded::from_bytes::<SlashForm>(&bytes);
            let form = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("team_id", "T1").append_pair("channel_id", "C1").append_pair("user_id", "U1")
                .append_pair("text", &text).append_pair("response_url", "https://hooks.slack.com/x")
                .finish();
            let read = serde_urlencoded::from_bytes::<SlashForm>(form.as_bytes()).unwrap();
            let _ = parse(&read.text, &Registry::new(&[]));
        }
    }
}
