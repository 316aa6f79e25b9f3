//! The `/looker` slash command: signed as Slack signs, answered within the ack where it can be,
//! the rest run as a job; who may ask, and plain sentences when something fails.

use lookerbot::store::now_millis;
use serde_json::{Value, json};

use crate::helpers::*;

fn form(app: &TestApp, user: &str, text: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", "legacy-token")
        .append_pair("team_id", "T000000ACME")
        .append_pair("team_domain", "acme")
        .append_pair("channel_id", "C0000GENERAL")
        .append_pair("channel_name", "general")
        .append_pair("user_id", user)
        .append_pair("user_name", "someone")
        .append_pair("command", "/looker")
        .append_pair("text", text)
        .append_pair("api_app_id", "A0000000APP")
        .append_pair("response_url", &app.slack.response_url())
        .append_pair("trigger_id", "13345224609.738474920.8088930838d88f008e0")
        .finish()
}

async fn post_signed(app: &TestApp, body: &str, timestamp: i64, secret: &str) -> reqwest::Response {
    app.post_signed("/slack/receive", FORM, body, (timestamp, secret), &[])
        .await
}

async fn slash(app: &TestApp, user: &str, text: &str) -> (u16, Value) {
    let response = post_signed(app, &form(app, user, text), now_millis() / 1000, SIGNING_SECRET).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn help_is_answered_in_the_acknowledgement_itself() {
    let app = spawn_app().await;
    let (status, answer) = slash(&app, "U000000ALICE", "help").await;
    assert_eq!(status, 200);
    assert_eq!(answer["response_type"], "ephemeral");
    assert!(answer["blocks"].to_string().contains("/looker look <id>"), "{answer}");
    assert!(
        app.jobs().await.is_empty() && app.slack.calls().is_empty(),
        "nothing to do after the answer"
    );
}

#[tokio::test]
async fn an_unknown_command_points_to_help() {
    let app = spawn_app().await;
    let (_, answer) = slash(&app, "U000000ALICE", "make me a sandwich").await;
    assert!(
        answer["text"].as_str().unwrap().contains("Type `/looker help`"),
        "{answer}"
    );
}

#[tokio::test]
async fn unsigned_stale_or_forged_requests_are_refused_and_nothing_is_queued() {
    let app = spawn_app().await;
    let body = form(&app, "U000000ALICE", "look 7");
    let now = now_millis() / 1000;
    for (timestamp, secret) in [(now - 301, SIGNING_SECRET), (now, "not-the-secret")] {
        assert_eq!(post_signed(&app, &body, timestamp, secret).await.status(), 401);
    }
    let unsigned = app
        .http
        .post(format!("{}/slack/receive", app.address))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        unsigned.status(),
        401,
        "the legacy token alone is not enough unless configured"
    );
    assert!(app.jobs().await.is_empty());
}

/// The legacy verification token travels in every request Slack sends; anyone who saw one can
/// replay it without a signature. Where a signing secret is set it opens nothing, and the
/// settings say it is ignored.
#[tokio::test]
async fn the_legacy_token_opens_nothing_where_requests_are_signed() {
    let app = spawn_app_with(|s| s.slack_slash_command_token = Some("legacy-token".into())).await;
    for text in ["help", "look 7"] {
        let body = form(&app, "U000000ALICE", text);
        let response = app
            .http
            .post(format!("{}/slack/receive", app.address))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{text}");
    }
    assert!(app.jobs().await.is_empty());
    let raw = lookerbot::config::RawSettings {
        slack_slash_command_token: Some("legacy-token".into()),
        ..test_settings(&app.slack, &app.looker, &app.database_url)
    };
    let (settings, warnings) = raw.validate().unwrap();
    assert!(settings.slack.legacy_verification_token.is_none());
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("SLACK_SLASH_COMMAND_TOKEN is ignored")),
        "{warnings:?}"
    );
}

#[tokio::test]
async fn a_look_is_acknowledged_at_once_then_posted_in_the_channel() {
    let app = spawn_app().await;
    app.looker.add_look(
        "7",
        "Orders by Status",
        query("q7", "table"),
        status_counts(&[("a", 1), ("b", 2)]),
    );
    let (status, ack) = slash(&app, "U000000ALICE", "look 7").await;
    assert_eq!(status, 200);
    assert_eq!(ack["text"], "Working on it…");
    assert!(
        app.looker.requests().is_empty(),
        "no Looker call before the acknowledgement"
    );
    app.drain_jobs().await;

    let messages = app.slack.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].channel, "C0000GENERAL");
    assert_eq!(messages[0].block_types(), ["section", "table"]);
    assert!(app.slack.responses().is_empty());
}

#[tokio::test]
async fn guests_other_workspaces_and_bots_get_one_sentence_each() {
    let app = spawn_app().await;
    app.looker.add_look(
        "7",
        "Orders",
        query("q7", "table"),
        status_counts(&[("a", 1), ("b", 2)]),
    );
    for user in ["U000000GUEST", "U00000OTHER", "U0000000ROBO"] {
        slash(&app, user, "look 7").await;
    }
    app.drain_jobs().await;
    assert!(app.slack.messages().is_empty());
    assert!(app.looker.requests().is_empty(), "refused before Looker is asked");
    let said: Vec<String> = app
        .slack
        .responses()
        .iter()
        .map(|r| r["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(said.len(), 3);
    assert!(
        said.iter().any(|s| s.starts_with("Guest accounts can't use lookerbot")),
        "{said:?}"
    );
    assert!(
        said.iter()
            .any(|s| s.contains("only answers people from its own workspace")),
        "{said:?}"
    );
    assert!(said.iter().any(|s| s == "Bots can't use lookerbot."), "{said:?}");
    assert!(app.slack.responses().iter().all(|r| r["response_type"] == "ephemeral"));
}

#[tokio::test]
async fn guests_are_welcome_when_the_operator_allows_them() {
    let app = spawn_app_with(|s| s.allow_slack_guest_users = Some("true".into())).await;
    app.looker.add_look(
        "7",
        "Orders",
        query("q7", "table"),
        status_counts(&[("a", 1), ("b", 2)]),
    );
    slash(&app, "U000000GUEST", "look 7").await;
    app.drain_jobs().await;
    assert_eq!(app.slack.messages().len(), 1);
}

#[tokio::test]
async fn failures_are_a_plain_sentence_to_the_asker() {
    let app = spawn_app().await;
    slash(&app, "U000000ALICE", "look 404").await;
    app.drain_jobs().await;
    app.slack
        .fail_next("chat.postMessage", crate::fake_slack::Failure::Error("not_in_channel"));
    app.looker.add_look(
        "7",
        "Orders",
        query("q7", "table"),
        status_counts(&[("a", 1), ("b", 2)]),
    );
    slash(&app, "U000000ALICE", "look 7").await;
    app.drain_jobs().await;
    assert_eq!(
        app.slack.said(),
        [
            "I couldn't find Look 404 in Looker, or the bot's Looker user can't see it.",
            "I can't post in this conversation. Invite me with `/invite @lookerbot` and ask again."
        ]
    );
    assert!(app.dead_jobs().await.is_empty(), "answered, not buried");
}

#[tokio::test]
async fn a_pasted_dashboard_link_shows_the_dashboard_with_its_filters() {
    let app = spawn_app().await;
    app.looker
        .add_dashboard(json!({"id": "12", "title": "Notes", "dashboard_elements": [
        {"id": "t1", "type": "text", "title_text": "Hello", "body_text": "world"}]}));
    let link = format!("<{}/dashboards/12?Status=open>", app.looker.web_url);
    slash(&app, "U000000ALICE", &link).await;
    app.drain_jobs().await;
    let text = app.slack.only_post_to("#general").all_text();
    assert!(text.contains("Notes") && text.contains("Hello"), "{text}");
}

#[tokio::test]
async fn slash_bodies_over_a_mebibyte_are_refused() {
    let app = spawn_app().await;
    let body = form(&app, "U000000ALICE", &"x".repeat(1_100_000));
    let response = post_signed(&app, &body, now_millis() / 1000, SIGNING_SECRET).await;
    assert_eq!(response.status(), 413);
    assert!(app.jobs().await.is_empty());
}

#[tokio::test]
async fn find_lists_the_best_matching_looks_and_dashboards_with_their_folders() {
    let app = spawn_app().await;
    app.looker.add_look(
        "7",
        "Weekly Sales by Region",
        query("q7", "table"),
        status_counts(&[("a", 1)]),
    );
    app.looker
        .add_look("8", "Sales Pipeline", query("q8", "table"), status_counts(&[("a", 1)]));
    app.looker
        .add_look("9", "Support Tickets", query("q9", "table"), status_counts(&[("a", 1)]));
    app.looker
        .add_dashboard(json!({"id": "12", "title": "Sales Weekly Overview", "folder": {"id": "3", "name": "Exec"}}));
    slash(&app, "U000000ALICE", "find weekly sales").await;
    slash(&app, "U000000ALICE", "find dashboard sales").await;
    app.drain_jobs().await;

    let messages = app.slack.messages();
    assert_eq!(messages.len(), 2);
    let first = messages[0].section(0);
    let lines: Vec<&str> = first.lines().skip(1).collect();
    assert_eq!(lines.len(), 3, "{first}");
    assert!(
        lines[0].contains("Weekly Sales by Region") || lines[0].contains("Sales Weekly Overview"),
        "{first}"
    );
    assert!(
        lines[2].contains("Sales Pipeline"),
        "the partial match ranks last: {first}"
    );
    assert!(
        first.contains("(Dashboard in _Exec_)") && first.contains("(Look in _Shared_)"),
        "{first}"
    );
    assert!(!first.contains("Support Tickets"));
    let second = messages[1].section(0);
    assert!(
        second.contains("Sales Weekly Overview") && !second.contains("(Look"),
        "{second}"
    );
}

#[tokio::test]
async fn share_and_explore_links_run_their_query() {
    let app = spawn_app().await;
    app.looker
        .add_query(query("q55", "table"), status_counts(&[("shared", 5), ("x", 6)]));
    slash(&app, "U000000ALICE", &format!("{}/x/slugq55", app.looker.web_url)).await;
    slash(
        &app,
        "U000000ALICE",
        &format!("<{}/explore/thelook/orders?qid=slugq55&toggle=vis>", app.looker.web_url),
    )
    .await;
    app.drain_jobs().await;
    let messages = app.slack.messages();
    assert_eq!(messages.len(), 2);
    for message in &messages {
        let text = message.all_text();
        assert!(text.contains("thelook › orders") && text.contains("shared"), "{text}");
    }
    assert_eq!(
        app.looker
            .requests()
            .iter()
            .filter(|r| *r == "GET /queries/slug/slugq55")
            .count(),
        2
    );
}

#[tokio::test]
async fn with_several_lookers_a_look_is_run_on_the_looker_named_by_its_host() {
    let first = crate::fake_looker::FakeLooker::start().await;
    let app = spawn_app_with(|s| {
        let web = s.looker_url.take().unwrap();
        let api = s.looker_api_base_url.take().unwrap();
        s.lookers = Some(
            json!([
                {"url": first.web_url, "apiBaseUrl": first.api_url, "clientId": crate::fake_looker::CLIENT_ID,
                 "clientSecret": crate::fake_looker::CLIENT_SECRET},
                {"url": web, "apiBaseUrl": api, "clientId": crate::fake_looker::CLIENT_ID,
                 "clientSecret": crate::fake_looker::CLIENT_SECRET}
            ])
            .to_string(),
        );
    })
    .await;
    app.looker.add_look(
        "7",
        "Orders by Status",
        query("q7", "table"),
        status_counts(&[("a", 1), ("b", 2)]),
    );
    let host = app.looker.web_url.trim_start_matches("http://").to_string();
    slash(&app, "U000000ALICE", &format!("look {host} 7")).await;
    slash(&app, "U000000ALICE", "look nowhere.example.com 7").await;
    app.drain_jobs().await;

    let messages = app.slack.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].text.contains("Orders by Status"), "{}", messages[0].text);
    assert!(first.requests().is_empty(), "the other Looker is not asked");
    let said = app.slack.responses();
    assert_eq!(said.len(), 1, "{said:?}");
    let sentence = said[0]["text"].as_str().unwrap();
    assert!(
        sentence.starts_with("No Looker at nowhere.example.com is connected"),
        "{sentence}"
    );
    assert!(sentence.contains(&host), "{sentence}");
}
