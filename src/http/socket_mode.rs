//! Socket Mode: with `SLACK_APP_TOKEN`, the same handlers as the HTTP routes run over Slack's
//! WebSocket, for bots without a public URL. Two connections (Slack replaces them every few
//! hours), each acknowledged envelope within Slack's three seconds, a fresh connection after
//! `disconnect` that takes over only once it is up (nothing on the old one is dropped), and a
//! watchdog that drops a socket that has gone silent.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
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

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A replacement connection being opened.
type Opening<'a> = Pin<Box<dyn Future<Output = anyhow::Result<(Socket, Vec<Message>)>> + Send + 'a>>;

async fn open(slack: &SlackApi, token: &Secret) -> anyhow::Result<Socket> {
    let url = slack.open_socket(token).await?;
    let (socket, _) = tokio_tungstenite::connect_async(url.as_str()).await?;
    Ok(socket)
}

/// A replacement connection, once Slack has said `hello` on it, with whatever it sent before
/// (kept, to be handled first).
async fn open_ready(slack: &SlackApi, token: &Secret) -> anyhow::Result<(Socket, Vec<Message>)> {
    let mut socket = open(slack, token).await?;
    let mut early = Vec::new();
    loop {
        let message = tokio::time::timeout(WATCHDOG, socket.next())
            .await
            .map_err(|_| anyhow::anyhow!("no hello within {}s", WATCHDOG.as_secs()))?
            .ok_or_else(|| anyhow::anyhow!("closed before hello"))??;
        match message {
            Message::Text(text) if serde_json::from_str::<Frame>(text.as_str()).is_ok_and(|f| f.kind == "hello") => {
                tracing::info!("Socket Mode connected");
                return Ok((socket, early));
            }
            Message::Ping(data) => socket.send(Message::Pong(data)).await?,
            Message::Close(_) => anyhow::bail!("closed before hello"),
            other => early.push(other),
        }
    }
}

/// One connection, and the ones that replace it when Slack asks (`disconnect`), until one fails
/// (`Err`) or closes (`Ok`). On `disconnect` the old socket is still read, and everything on it
/// acknowledged and handled, while the new one opens; it is closed (with a close frame) only
/// once the new one has said `hello`, so no envelope is left between the two.
async fn session(
    state: &AppState,
    slack: &SlackApi,
    token: &Secret,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let mut socket = open(slack, token).await?;
    let mut replacement: Option<Opening<'_>> = None;
    let mut early: VecDeque<Message> = VecDeque::new();
    loop {
        let next = if let Some(message) = early.pop_front() {
            Ok(Some(Ok(message)))
        } else {
            tokio::select! {
            next = tokio::time::timeout(WATCHDOG, socket.next()) => next,
            opened = async { replacement.as_mut().expect("polled only when opening").await }, if replacement.is_some() => {
                replacement = None;
                match opened {
                    Ok((fresh, before_hello)) => {
                        let _ = socket.close(None).await;
                        socket = fresh;
                        early.extend(before_hello);
                    }
                    Err(error) => tracing::warn!(%error, "could not open the replacement Socket Mode connection; keeping this one"),
                }
                continue;
            }
            _ = shutdown.cancelled() => {
                let _ = socket.close(None).await;
                return Ok(());
            }
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
            "disconnect" => {
                if replacement.is_none() {
                    tracing::info!("Slack asked for a fresh Socket Mode connection; opening it");
                    replacement = Some(Box::pin(open_ready(slack, token)));
                }
            }
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
