//! Socket Mode: with `SLACK_APP_TOKEN`, the same handlers as the HTTP routes run over Slack's
//! WebSocket, for bots without a public URL. Two connections (Slack replaces them every few
//! hours), each acknowledged envelope within Slack's three seconds, a fresh connection after
//! `disconnect`, and a watchdog that drops a socket that has gone silent.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::AppState;
use super::slack_commands::{SlashForm, acknowledge};
use super::slack_events::{Envelope, accept};
use super::slack_interactions::{self, Interaction};
use crate::clients::slack::SlackApi;
use crate::config::Secret;

/// Connections kept open at once.
pub const CONNECTIONS: usize = 2;
/// A socket that says nothing (not even a ping) for this long is replaced.
pub const WATCHDOG: Duration = Duration::from_secs(60);

#[derive(Debug, Deserialize)]
struct Frame {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    envelope_id: Option<String>,
    #[serde(default)]
    payload: Option<Box<serde_json::value::RawValue>>,
    #[serde(default)]
    retry_attempt: Option<u32>,
}

/// Keeps `CONNECTIONS` sockets open until shutdown.
pub async fn run(state: AppState, app_token: Secret, shutdown: CancellationToken) {
    let slack = state.bot.slack.clone();
    let mut connections = JoinSet::new();
    for number in 0..CONNECTIONS {
        let (state, slack, token, shutdown) = (state.clone(), slack.clone(), app_token.clone(), shutdown.clone());
        connections.spawn(async move {
            let mut pause = Duration::from_secs(1);
            while !shutdown.is_cancelled() {
                match session(&state, &slack, &token, &shutdown).await {
                    Ok(()) => pause = Duration::from_secs(1),
                    Err(error) => {
                        tracing::warn!(connection = number, %error, "Socket Mode connection lost; reconnecting");
                        tokio::select! {
                            _ = tokio::time::sleep(pause) => {}
                            _ = shutdown.cancelled() => return,
                        }
                        pause = (pause * 2).min(Duration::from_secs(60));
                    }
                }
            }
        });
    }
    while connections.join_next().await.is_some() {}
}

/// What Slack gets back for one envelope; `None` leaves it unacknowledged so Slack sends it again.
async fn answer(state: &AppState, frame: &Frame) -> Option<Option<Value>> {
    let payload = frame.payload.as_ref().map(|p| p.get()).unwrap_or("null");
    match frame.kind.as_str() {
        "events_api" => {
            let envelope: Envelope = serde_json::from_str(payload).ok()?;
            let retry = frame.retry_attempt.map(|n| n.to_string());
            accept(state, envelope, retry.as_deref()).await.ok()
        }
        "slash_commands" => {
            let form: SlashForm = serde_json::from_str(payload).ok()?;
            Some(acknowledge(state, form).await)
        }
        "interactive" => {
            // An unreadable interaction would not read better when sent again: acknowledged too.
            match serde_json::from_str::<Interaction>(payload) {
                Ok(interaction) => slack_interactions::acknowledge(state, interaction).await.ok(),
                Err(_) => Some(None),
            }
        }
        // Anything else is acknowledged so Slack does not retry it.
        _ => Some(None),
    }
}

/// One connection, until Slack asks to reconnect (`Ok`) or it fails (`Err`).
async fn session(
    state: &AppState,
    slack: &SlackApi,
    token: &Secret,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let url = slack.open_socket(token).await?;
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str()).await?;
    loop {
        let next = tokio::select! {
            next = tokio::time::timeout(WATCHDOG, socket.next()) => next,
            _ = shutdown.cancelled() => {
                let _ = socket.close(None).await;
                return Ok(());
            }
        };
        let message = match next {
            Err(_) => anyhow::bail!("silent for {}s", WATCHDOG.as_secs()),
            Ok(None) => return Ok(()),
            Ok(Some(message)) => message?,
        };
        let text = match message {
            Message::Text(text) => text,
            Message::Ping(data) => {
                socket.send(Message::Pong(data)).await?;
                continue;
            }
            Message::Close(_) => return Ok(()),
            _ => continue,
        };
        let Ok(frame) = serde_json::from_str::<Frame>(text.as_str()) else {
            tracing::warn!("unreadable Socket Mode frame");
            continue;
        };
        match frame.kind.as_str() {
            "hello" => tracing::info!("Socket Mode connected"),
            "disconnect" => return Ok(()),
            _ => {
                let Some(envelope_id) = frame.envelope_id.clone() else {
                    continue;
                };
                if let Some(payload) = answer(state, &frame).await {
                    let mut ack = json!({"envelope_id": envelope_id});
                    if let Some(payload) = payload {
                        ack["payload"] = payload;
                    }
                    socket.send(Message::Text(ack.to_string().into())).await?;
                }
            }
        }
    }
}
