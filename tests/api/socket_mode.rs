//! Socket Mode against a fake Slack WebSocket server: two connections, envelopes acknowledged with
//! the same answers as over HTTP, events recorded before the ack, reconnect after `disconnect`.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{WebSocketStream, accept_async};

use crate::helpers::*;

pub type Socket = WebSocketStream<TcpStream>;

/// A WebSocket server handing each accepted client to the test.
pub async fn socket_server() -> (String, mpsc::Receiver<Socket>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/link/?ticket=test", listener.local_addr().unwrap());
    let (sender, receiver) = mpsc::channel(8);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            if let Ok(socket) = accept_async(tcp).await {
                let _ = sender.send(socket).await;
            }
        }
    });
    (url, receiver)
}

pub async fn next_connection(connections: &mut mpsc::Receiver<Socket>) -> Socket {
    tokio::time::timeout(Duration::from_secs(10), connections.recv())
        .await
        .expect("a connection")
        .unwrap()
}

/// Sends an envelope and returns the acknowledgement, which must come within Slack's 3 seconds.
pub async fn envelope(socket: &mut Socket, frame: Value) -> Value {
    socket.send(Message::Text(frame.to_string().into())).await.unwrap();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(3), socket.next())
            .await
            .expect("an ack within 3 s");
        if let Some(Ok(Message::Text(text))) = message {
            return serde_json::from_str(text.as_str()).unwrap();
        }
    }
}

#[tokio::test]
async fn envelopes_are_acknowledged_with_the_http_answers_and_disconnects_reconnect() {
    let (url, mut connections) = socket_server().await;
    let app = spawn_app_with(|s| s.slack_app_token = Some("xapp-1-A0000000APP-test".into())).await;
    app.slack.set_socket_url(&url);

    let mut first = next_connection(&mut connections).await;
    let _second = next_connection(&mut connections).await;
    first
        .send(Message::Text(
            json!({"type": "hello", "num_connections": 2}).to_string().into(),
        ))
        .await
        .unwrap();

    let event = json!({"type": "events_api", "envelope_id": "env-1", "accepts_response_payload": false, "retry_attempt": 0,
        "payload": {"type": "event_callback", "team_id": "T000000ACME", "event_id": "EvSock1",
                    "authorizations": [{"user_id": "U0000000BOT"}],
                    "event": {"type": "app_mention", "user": "U000000ALICE", "text": "<@U0000000BOT> look 7",
                              "ts": "1700000400.000400", "channel": "C0000GENERAL"}}});
    let ack = envelope(&mut first, event.clone()).await;
    assert_eq!(ack, json!({"envelope_id": "env-1"}));
    assert_eq!(app.jobs().await.len(), 1, "recorded before the ack");
    // Slack's retry of the same event is acknowledged but not recorded again.
    let mut retry = event;
    retry["envelope_id"] = json!("env-2");
    retry["retry_attempt"] = json!(1);
    envelope(&mut first, retry).await;
    assert_eq!(app.jobs().await.len(), 1);

    let slash = json!({"type": "slash_commands", "envelope_id": "env-3", "accepts_response_payload": true,
        "payload": {"team_id": "T000000ACME", "channel_id": "C0000GENERAL", "user_id": "U000000ALICE",
                    "command": "/looker", "text": "help", "response_url": app.slack.response_url()}});
    let ack = envelope(&mut first, slash).await;
    assert_eq!(ack["envelope_id"], "env-3");
    assert!(ack["payload"]["blocks"].to_string().contains("What I can do"), "{ack}");

    // A click on a link button arrives as an interaction: acknowledged, nothing recorded.
    let click = json!({"type": "interactive", "envelope_id": "env-4", "accepts_response_payload": false,
        "payload": {"type": "block_actions", "user": {"id": "U000000ALICE"},
                    "actions": [{"action_id": "open-in-looker", "type": "button"}]}});
    assert_eq!(envelope(&mut first, click).await, json!({"envelope_id": "env-4"}));
    assert_eq!(app.jobs().await.len(), 1);

    first
        .send(Message::Text(
            json!({"type": "disconnect", "reason": "refresh_requested"})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let _replacement = next_connection(&mut connections).await;
    assert!(app.slack.calls_to("apps.connections.open") >= 3);
}
