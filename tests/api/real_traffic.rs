//! Messages as Slack sends them from real workspaces (payloads captured by Slack's own SDK test
//! suites, see tests/fixtures/slack/SOURCES.md): people's messages with files or sent from a
//! thread to the channel are answered; Slackbot and other system senders never are; Slack's
//! certificate probe of the command URL gets its 200.

use serde_json::{Value, json};

use crate::helpers::*;

/// A captured event, with only what the test states changed, the bot installed in the fixture's
/// workspace and the fixture's sender known to the fake Slack as a member of it.
fn captured(app: &TestApp, name: &str, change: impl FnOnce(&mut Value)) -> String {
    let mut body: Value = serde_json::from_str(&slack_fixture(name)).unwrap();
    let team = body["team_id"].as_str().unwrap().to_string();
    let user = body["event"]["user"].as_str().unwrap().to_string();
    app.slack.add_member(&user, "captured-person", &team);
    app.slack.set_team(&team);
    change(&mut body["event"]);
    body.to_string()
}

/// The same message sent to the bot in a DM (the captures were made in channels; a DM differs
/// only in its channel and channel type).
fn in_a_dm(event: &mut Value) {
    let user = event["user"].as_str().unwrap().to_string();
    event["channel"] = json!(format!("D{}", &user[1..]));
    event["channel_type"] = json!("im");
    event["text"] = json!("help");
}

#[tokio::test]
async fn a_dm_with_a_file_attached_is_answered() {
    let app = spawn_app().await;
    let body = captured(&app, "event_message_file_share.json", in_a_dm);
    assert_eq!(app.post_event_body(&body).await.status(), 200);
    app.drain_jobs().await;
    let answers = app.slack.posts_to("D111");
    assert_eq!(answers.len(), 1, "{:?}", app.slack.messages());
    assert!(
        answers[0].all_text().contains("What I can do"),
        "{}",
        answers[0].all_text()
    );
}

#[tokio::test]
async fn a_dm_sent_from_a_thread_to_the_conversation_is_answered_in_that_thread() {
    let app = spawn_app().await;
    let body = captured(&app, "event_message_thread_broadcast.json", in_a_dm);
    app.post_event_body(&body).await;
    app.drain_jobs().await;
    let answers = app.slack.posts_to("D111");
    assert_eq!(answers.len(), 1, "{:?}", app.slack.messages());
    assert_eq!(answers[0].thread_ts.as_deref(), Some("1633663824.000500"));
}

#[tokio::test]
async fn a_mention_with_a_file_or_from_a_thread_is_answered() {
    let app = spawn_app().await;
    for name in ["event_message_file_share.json", "event_message_thread_broadcast.json"] {
        // Slack sends the mention of such a message as `app_mention` with the same subtype.
        let body = captured(&app, name, |event| {
            event["type"] = json!("app_mention");
            event["text"] = json!("<@U0000000BOT> help");
            event.as_object_mut().unwrap().remove("channel_type");
        });
        let body = body.replace("\"C111\"", "\"C0000GENERAL\"");
        app.post_event_body(&body).await;
    }
    app.drain_jobs().await;
    assert_eq!(app.slack.posts_to("#general").len(), 2, "{:?}", app.slack.messages());
}

#[tokio::test]
async fn slackbot_and_other_bots_are_never_answered() {
    let app = spawn_app().await;
    for name in [
        "event_message_slackbot_im.json",
        "event_message_bot_message.json",
        "event_message_bot_no_subtype.json",
        "event_message_slack_connect_bot.json",
    ] {
        let response = app.post_event_body(&slack_fixture(name)).await;
        assert_eq!(response.status(), 200, "{name}: acknowledged, never retried");
    }
    // Slackbot is a person to `users.info`: it must not get as far as being looked up.
    let slackbot_mention = captured(&app, "event_message_im.json", |event| {
        event["user"] = json!("USLACKBOT");
    });
    app.post_event_body(&slackbot_mention).await;
    assert!(app.jobs().await.is_empty(), "nothing recorded: {:?}", app.jobs().await);
}

#[tokio::test]
async fn the_bots_own_file_in_a_dm_is_not_a_question() {
    let app = spawn_app().await;
    // Captured as the bot sharing a file in a DM: the sender is the bot user in `authorizations`.
    let body = captured(&app, "event_message_file_share.json", in_a_dm);
    let mut body: Value = serde_json::from_str(&body).unwrap();
    let bot_user = body["authorizations"][0]["user_id"].clone();
    body["event"]["user"] = bot_user;
    app.post_event_body(&body.to_string()).await;
    assert!(app.jobs().await.is_empty(), "{:?}", app.jobs().await);
}

#[tokio::test]
async fn slacks_certificate_probe_of_the_command_url_gets_an_empty_200() {
    let app = spawn_app().await;
    let probe = app
        .http
        .post(format!("{}/slack/receive", app.address))
        .header("Content-Type", FORM)
        .header("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
        .body(slack_fixture("ssl_check.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 200);
    assert_eq!(probe.text().await.unwrap(), "");
    assert!(app.jobs().await.is_empty());
    // Only the probe: anything else unsigned is still refused.
    let smuggled = app
        .http
        .post(format!("{}/slack/receive", app.address))
        .header("Content-Type", FORM)
        .body("ssl_check=0&command=%2Flooker&text=look+7")
        .send()
        .await
        .unwrap();
    assert_eq!(smuggled.status(), 401);
}

#[tokio::test]
async fn a_captured_slash_command_and_mention_are_understood() {
    let app = spawn_app().await;
    let signed = (lookerbot::store::now_millis() / 1000, SIGNING_SECRET);
    let slash = app
        .post_signed("/slack/receive", FORM, &slack_fixture("slash_command.txt"), signed, &[])
        .await;
    assert_eq!(slash.status(), 200);
    let answer: Value = slash.json().await.unwrap();
    assert!(answer["blocks"].to_string().contains("/hello look <id>"), "{answer}");

    let mention = captured(&app, "event_app_mention.json", |_| {});
    assert_eq!(app.post_event_body(&mention).await.status(), 200);
    assert_eq!(app.jobs().await.len(), 1, "the mention was recorded");
}
