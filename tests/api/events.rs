//! The Events API: signed envelopes, url_verification, mentions and DMs through the command
//! grammar, link previews, and events recorded once however often Slack sends them.

use lookerbot::queue::Outcome;
use lookerbot::store::now_millis;
use serde_json::{Value, json};

use crate::helpers::*;

async fn post_event(app: &TestApp, path: &str, body: &Value, retry: Option<u32>) -> reqwest::Response {
    let retry = retry.map(|n| n.to_string());
    let headers: Vec<(&str, &str)> = match &retry {
        Some(n) => vec![("X-Slack-Retry-Num", n), ("X-Slack-Retry-Reason", "http_timeout")],
        None => Vec::new(),
    };
    let signed = (now_millis() / 1000, SIGNING_SECRET);
    app.post_signed(path, "application/json", &body.to_string(), signed, &headers)
        .await
}

fn envelope(event_id: &str, event: Value) -> Value {
    json!({"token": "legacy", "team_id": "T000000ACME", "api_app_id": "A0000000APP", "type": "event_callback",
           "event_id": event_id, "event_time": 1_700_000_000,
           "authorizations": [{"team_id": "T000000ACME", "user_id": "U0000000BOT", "is_bot": true}],
           "event": event})
}

fn mention(text: &str, user: &str) -> Value {
    json!({"type": "app_mention", "user": user, "text": format!("<@U0000000BOT> {text}"), "ts": "1700000100.000100",
           "channel": "C0000GENERAL", "event_ts": "1700000100.000100"})
}

fn with_look(app: &TestApp) {
    app.looker.add_look(
        "7",
        "Orders by Status",
        query("q7", "table"),
        status_counts(&[("a", 1), ("b", 2)]),
    );
}

#[tokio::test]
async fn url_verification_echoes_the_challenge_on_both_paths() {
    let app = spawn_app().await;
    for path in ["/slack/events", "/slack/event"] {
        let body = json!({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"});
        let answer: Value = post_event(&app, path, &body, None).await.json().await.unwrap();
        assert_eq!(
            answer["challenge"],
            "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
        );
    }
}

#[tokio::test]
async fn unsigned_events_are_refused() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(format!("{}/slack/events", app.address))
        .json(&envelope("Ev1", mention("look 7", "U000000ALICE")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(app.jobs().await.is_empty());
}

#[tokio::test]
async fn a_mention_is_answered_in_its_thread_replacing_the_loading_line() {
    let app = spawn_app().await;
    with_look(&app);
    assert_eq!(
        post_event(
            &app,
            "/slack/events",
            &envelope("Ev1", mention("look 7", "U000000ALICE")),
            None
        )
        .await
        .status(),
        200
    );
    assert!(app.looker.requests().is_empty(), "no Looker call before the 200");
    app.drain_jobs().await;

    let messages = app.slack.messages();
    assert_eq!(messages.len(), 1, "the loading line became the answer");
    assert_eq!(messages[0].thread_ts.as_deref(), Some("1700000100.000100"));
    assert_eq!(messages[0].block_types(), ["section", "table"]);
    assert_eq!(app.slack.calls_to("chat.update"), 1);
}

#[tokio::test]
async fn retries_and_repeats_of_an_event_run_once_even_across_a_restart() {
    let mut app = spawn_app().await;
    with_look(&app);
    let event = envelope("Ev42", mention("look 7", "U000000ALICE"));
    post_event(&app, "/slack/events", &event, None).await;
    post_event(&app, "/slack/events", &event, Some(1)).await;
    post_event(&app, "/slack/events", &event, None).await;
    assert_eq!(app.jobs().await.len(), 1);
    app.drain_jobs().await;

    app.stop().await;
    let (slack, looker, dir) = app.parts();
    let second = start(
        test_settings(&slack, &looker, &app.database_url),
        slack.clone(),
        looker,
        dir,
    )
    .await;
    assert_eq!(
        post_event(&second, "/slack/events", &event, Some(2)).await.status(),
        200
    );
    second.drain_jobs().await;
    assert_eq!(slack.messages().len(), 1);
}

#[tokio::test]
async fn bots_edits_and_other_channels_chatter_are_ignored() {
    let app = spawn_app().await;
    let ignored = [
        json!({"type": "message", "channel_type": "im", "channel": "D000000ALICE", "user": "U0000000BOT", "text": "look 7", "ts": "1"}),
        json!({"type": "message", "channel_type": "im", "channel": "D000000ALICE", "user": "U0000000ROBO", "bot_id": "B1", "text": "look 7", "ts": "1"}),
        json!({"type": "message", "subtype": "message_changed", "channel_type": "im", "channel": "D000000ALICE", "user": "U000000ALICE", "ts": "1"}),
        json!({"type": "message", "channel_type": "channel", "channel": "C0000GENERAL", "user": "U000000ALICE", "text": "look 7", "ts": "1"}),
        json!({"type": "reaction_added", "user": "U000000ALICE", "reaction": "tada"}),
    ];
    for (i, event) in ignored.into_iter().enumerate() {
        let response = post_event(&app, "/slack/events", &envelope(&format!("Ev{i}"), event), None).await;
        assert_eq!(response.status(), 200, "ignored, never retried");
    }
    let unknown =
        json!({"type": "app_rate_limited", "team_id": "T000000ACME", "minute_rate_limited": 1, "api_app_id": "A"});
    assert_eq!(post_event(&app, "/slack/events", &unknown, None).await.status(), 200);
    assert!(app.jobs().await.is_empty());
}

#[tokio::test]
async fn a_dm_with_an_unknown_request_gets_a_pointer_to_help() {
    let app = spawn_app().await;
    let dm = json!({"type": "message", "channel_type": "im", "channel": "D000000ALICE", "user": "U000000ALICE",
                    "text": "what's up", "ts": "1700000200.000200"});
    post_event(&app, "/slack/events", &envelope("Ev1", dm), None).await;
    app.drain_jobs().await;
    let messages = app.slack.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].text.contains("Type `@lookerbot help`"),
        "{}",
        messages[0].text
    );
    assert!(messages[0].thread_ts.is_none(), "a DM is answered where it was asked");
}

#[tokio::test]
async fn a_guest_mention_gets_a_private_sentence() {
    let app = spawn_app().await;
    with_look(&app);
    post_event(
        &app,
        "/slack/events",
        &envelope("Ev1", mention("look 7", "U000000GUEST")),
        None,
    )
    .await;
    app.drain_jobs().await;
    assert!(app.slack.messages().is_empty());
    let said = app.slack.ephemerals();
    assert_eq!(said.len(), 1);
    assert_eq!(
        (said[0].0.as_str(), said[0].1.as_str()),
        ("C0000GENERAL", "U000000GUEST")
    );
    assert!(said[0].2.starts_with("Guest accounts can't use lookerbot"));
}

#[tokio::test]
async fn looker_links_in_channels_are_previewed() {
    let app = spawn_app().await;
    with_look(&app);
    let link = format!("{}/looks/7", app.looker.web_url);
    let shared = json!({"type": "link_shared", "channel": "C0000GENERAL", "user": "U000000ALICE",
                        "message_ts": "1700000300.000300", "unfurl_id": "Uf1", "source": "conversations_history",
                        "links": [{"domain": "127.0.0.1", "url": link}, {"domain": "example.com", "url": "https://example.com/x"}]});
    post_event(&app, "/slack/events", &envelope("Ev1", shared), None).await;
    app.drain_jobs().await;
    let unfurls = app.slack.unfurls();
    assert_eq!(unfurls.len(), 1);
    assert_eq!(unfurls[0]["unfurl_id"], "Uf1");
    let previews = unfurls[0]["unfurls"].as_object().unwrap();
    assert_eq!(previews.len(), 1, "only Looker links");
    assert_eq!(app.slack.preview(0, &link).block_types(), ["section", "table"]);
}

#[tokio::test]
async fn previews_are_off_when_the_operator_turns_them_off() {
    let app = spawn_app_with(|s| s.looker_slackbot_expand_urls = Some("false".into())).await;
    let shared = json!({"type": "link_shared", "channel": "C0000GENERAL", "user": "U000000ALICE", "message_ts": "1",
                        "links": [{"domain": "x", "url": format!("{}/looks/7", app.looker.web_url)}]});
    post_event(&app, "/slack/events", &envelope("Ev1", shared), None).await;
    assert!(app.jobs().await.is_empty());
}

#[tokio::test]
async fn an_answer_with_a_chart_image_removes_the_loading_line() {
    let app = spawn_app().await;
    let mut result = status_counts(&[("a", 1), ("b", 2)]);
    result["fields"]["dimensions"][0]["is_numeric"] = json!(false);
    app.looker
        .add_look("7", "Orders Map", query("q7", "looker_map"), result);
    post_event(
        &app,
        "/slack/events",
        &envelope("Ev1", mention("look 7", "U000000ALICE")),
        None,
    )
    .await;
    app.drain_jobs().await;
    assert!(app.slack.messages().is_empty(), "the loading line is gone");
    assert_eq!(app.slack.deleted().len(), 1);
    let files = app.slack.files();
    assert_eq!(files[0].thread_ts.as_deref(), Some("1700000100.000100"));
}

#[tokio::test]
async fn a_link_in_a_mention_is_answered_in_its_thread_and_not_also_previewed() {
    let app = spawn_app().await;
    with_look(&app);
    let link = format!("{}/looks/7", app.looker.web_url);
    // Slack sends both events for one message, the preview's often first.
    let shared = json!({"type": "link_shared", "channel": "C0000GENERAL", "user": "U000000ALICE",
                        "message_ts": "1700000100.000100", "unfurl_id": "Uf1", "source": "conversations_history",
                        "links": [{"domain": "127.0.0.1", "url": link}]});
    post_event(&app, "/slack/events", &envelope("EvLink", shared), None).await;
    // The preview is not due yet: it waits for the mention Slack sends with it.
    let never = tokio_util::sync::CancellationToken::new();
    assert_eq!(app.worker.run_next(&never).await.unwrap(), None);
    post_event(
        &app,
        "/slack/events",
        &envelope("EvMention", mention(&format!("<{link}>"), "U000000ALICE")),
        None,
    )
    .await;
    let outcomes = app.drain_jobs().await;

    assert_eq!(outcomes, [Outcome::Done, Outcome::Done], "both jobs finished");
    assert!(app.slack.unfurls().is_empty(), "{:?}", app.slack.unfurls());
    let answers = app.slack.messages();
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0].thread_ts.as_deref(), Some("1700000100.000100"));
    assert!(
        answers[0].block_types().contains(&"table".to_string()),
        "{}",
        answers[0].blocks
    );
}

#[tokio::test]
async fn a_mention_in_a_dm_is_one_question_though_slack_sends_two_events() {
    let app = spawn_app().await;
    let words = "<@U0000000BOT> what is this";
    let dm = json!({"type": "message", "channel_type": "im", "user": "U000000ALICE", "text": words,
                    "ts": "1700000200.000200", "channel": "D000000ALICE", "event_ts": "1700000200.000200"});
    let also = json!({"type": "app_mention", "user": "U000000ALICE", "text": words,
                      "ts": "1700000200.000200", "channel": "D000000ALICE", "event_ts": "1700000200.000200"});
    // Either may come first; the answer is the same: one, where it was asked, not in a thread.
    post_event(&app, "/slack/events", &envelope("EvAlso", also), None).await;
    post_event(&app, "/slack/events", &envelope("EvDm", dm), None).await;
    app.drain_jobs().await;
    let answers = app.slack.messages();
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0].thread_ts, None);
}

#[tokio::test]
async fn a_preview_shows_only_what_its_sharer_may_see_where_looker_runs_each_persons_work_as_theirs() {
    let app = spawn_app_with(|s| {
        s.lookerbot_identity = Some("sudo".into());
        s.lookerbot_audience_default = Some("public".into());
    })
    .await;
    with_look(&app);
    app.looker.add_user("10", "alice@acme.example");
    app.looker.add_user("11", "bob@acme.example");
    app.looker.restrict_look("7", &["10"]);
    let link = format!("{}/looks/7", app.looker.web_url);
    for (n, user) in ["U00000000BOB", "U000000ALICE"].iter().enumerate() {
        let shared = json!({"type": "link_shared", "channel": "C0000GENERAL", "user": user,
                            "message_ts": format!("170000040{n}.000300"), "unfurl_id": format!("Uf{n}"),
                            "source": "conversations_history", "links": [{"domain": "127.0.0.1", "url": link}]});
        post_event(&app, "/slack/events", &envelope(&format!("EvShare{n}"), shared), None).await;
        app.drain_jobs().await;
    }
    let unfurls = app.slack.unfurls();
    assert_eq!(unfurls.len(), 1, "Bob's share is not previewed: {unfurls:?}");
    assert_eq!(unfurls[0]["unfurl_id"], "Uf1");
}
