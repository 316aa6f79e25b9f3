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

/// The next text frame on `socket` (an ack), or the close frame.
async fn next_frame(socket: &mut Socket) -> Message {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(3), socket.next())
            .await
            .expect("a frame within 3 s")
            .expect("the socket is open")
            .unwrap();
        if matches!(message, Message::Text(_) | Message::Close(_)) {
            return message;
        }
    }
}

#[tokio::test]
async fn a_refresh_keeps_every_envelope_of_the_old_socket_until_the_new_one_says_hello() {
    let (url, mut connections) = socket_server().await;
    let app = spawn_app_with(|s| s.slack_app_token = Some("xapp-1-A0000000APP-test".into())).await;
    app.slack.set_socket_url(&url);
    let mut old = next_connection(&mut connections).await;
    let _other = next_connection(&mut connections).await;
    old.send(Message::Text(json!({"type": "hello"}).to_string().into()))
        .await
        .unwrap();
    let slash = |id: &str| {
        json!({"type": "slash_commands", "envelope_id": id, "accepts_response_payload": true,
               "payload": {"team_id": "T000000ACME", "channel_id": "C0000GENERAL", "user_id": "U000000ALICE",
                           "command": "/looker", "text": "help", "response_url": app.slack.response_url()}})
    };
    // `disconnect` and a `/looker help` in the same write, as measured from Slack.
    let disconnect = json!({"type": "disconnect", "reason": "refresh_requested"});
    old.feed(Message::Text(disconnect.to_string().into())).await.unwrap();
    old.feed(Message::Text(slash("env-same-write").to_string().into()))
        .await
        .unwrap();
    old.flush().await.unwrap();
    let Message::Text(ack) = next_frame(&mut old).await else {
        panic!("closed before the ack")
    };
    let ack: Value = serde_json::from_str(ack.as_str()).unwrap();
    assert_eq!(ack["envelope_id"], "env-same-write");
    assert!(ack["payload"]["blocks"].to_string().contains("What I can do"), "{ack}");

    // The replacement opens; until it says hello, the old socket still serves.
    let mut new = next_connection(&mut connections).await;
    let ack = envelope(&mut old, slash("env-before-hello")).await;
    assert_eq!(ack["envelope_id"], "env-before-hello");
    new.send(Message::Text(json!({"type": "hello"}).to_string().into()))
        .await
        .unwrap();
    assert!(
        matches!(next_frame(&mut old).await, Message::Close(_)),
        "closed with a close frame"
    );
    let ack = envelope(&mut new, slash("env-after")).await;
    assert_eq!(ack["envelope_id"], "env-after");
}
