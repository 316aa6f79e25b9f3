//! `/slack/action`, the interactivity URL in the manifest: verified like every Slack request,
//! answered with an empty 200 within the ack, whatever the interaction, and nothing recorded.

use lookerbot::store::now_millis;
use serde_json::json;

use crate::helpers::*;

async fn post_action(app: &TestApp, body: &str, secret: &str) -> reqwest::Response {
    app.post_signed("/slack/action", FORM, body, (now_millis() / 1000, secret), &[])
        .await
}

fn form(payload: serde_json::Value) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

#[tokio::test]
async fn clicks_and_unknown_interactions_get_an_empty_200_and_nothing_else() {
    let app = spawn_app().await;
    let click = form(json!({
        "type": "block_actions", "team": {"id": "T000000ACME"}, "user": {"id": "U000000ALICE"},
        "trigger_id": "1.2.3", "response_url": app.slack.response_url(),
        "actions": [{"action_id": "open-in-looker", "type": "button", "block_id": "b", "action_ts": "1.2"}]
    }));
    let response = post_action(&app, &click, SIGNING_SECRET).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "");

    let shortcut = form(json!({"type": "some_future_interaction", "user": {"id": "U000000ALICE"}}));
    assert_eq!(post_action(&app, &shortcut, SIGNING_SECRET).await.status(), 200);

    assert!(app.jobs().await.is_empty(), "interactions are not work");
    assert!(app.slack.calls().is_empty(), "no Slack call for an acknowledgement");
}

#[tokio::test]
async fn unsigned_and_malformed_interactions_are_refused() {
    let app = spawn_app().await;
    let click = form(json!({"type": "block_actions", "user": {"id": "U000000ALICE"}, "actions": []}));
    assert_eq!(post_action(&app, &click, "not-the-secret").await.status(), 401);
    assert_eq!(
        post_action(&app, "payload=%7Bnot+json", SIGNING_SECRET).await.status(),
        400
    );
    assert_eq!(post_action(&app, "text=hello", SIGNING_SECRET).await.status(), 400);
    assert!(app.jobs().await.is_empty());
}
