//! The notify API from outside: tokens, validation, the 202 and the state by id, repeats held
//! back and told, threads by key with escalations shown in the channel, mentions escaped, and a
//! notification accepted before a restart delivered after it.

use lookerbot::config::RawSettings;
use serde_json::{Value, json};

use crate::fake_slack::Channel;
use crate::helpers::*;

const CI_TOKEN: &str = "ci-token-0123456789abcdef";
const ML_TOKEN: &str = "ml-token-0123456789abcdef";

fn senders(s: &mut RawSettings) {
    s.lookerbot_notify_tokens = Some(format!("ci:{CI_TOKEN}, ml:{ML_TOKEN}"));
}

async fn notify_app() -> TestApp {
    let app = spawn_app_with(senders).await;
    app.slack.add_channel(Channel::public("C0000000OPS", "ops"));
    app
}

async fn send(app: &TestApp, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = app.http.post(format!("{}/api/notify", app.address)).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

async fn state(app: &TestApp, token: &str, id: &str) -> (u16, Value) {
    let response = app
        .http
        .get(format!("{}/api/notify/{id}", app.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

async fn accepted(app: &TestApp, body: Value) -> String {
    let (status, answer) = send(app, Some(CI_TOKEN), &body).await;
    assert_eq!(status, 202, "{answer}");
    answer["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn only_a_senders_token_is_let_in_and_a_refusal_records_nothing() {
    let app = notify_app().await;
    let body = json!({"channel": "#ops", "title": "Deploy finished"});
    let (status, answer) = send(&app, None, &body).await;
    assert_eq!(
        (status, answer["error"].as_str().unwrap()),
        (401, "expected Authorization: Bearer <token>")
    );
    let (status, _) = send(&app, Some("ci-token-0123456789abcdeX"), &body).await;
    assert_eq!(status, 401);
    assert!(app.jobs().await.is_empty(), "nothing recorded");
    let off = spawn_app().await;
    let (status, answer) = send(&off, Some(CI_TOKEN), &body).await;
    assert_eq!(status, 404, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("LOOKERBOT_NOTIFY_TOKENS"));
}

#[tokio::test]
async fn what_is_wrong_with_a_request_is_listed_field_by_field() {
    let app = notify_app().await;
    let body = json!({"title": "", "level": "fatal", "wait_duration": "soon", "link": "ftp://x"});
    let (status, answer) = send(&app, Some(CI_TOKEN), &body).await;
    assert_eq!(status, 400, "{answer}");
    let fields: Vec<&str> = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields.len(), 5, "{answer}");
    for field in ["channel", "title", "level", "wait_duration", "link"] {
        assert!(fields.contains(&field), "{field}: {answer}");
    }
    let not_json = app
        .http
        .post(format!("{}/api/notify", app.address))
        .bearer_auth(CI_TOKEN)
        .header("Content-Type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 415);
    assert!(app.jobs().await.is_empty());
}

#[tokio::test]
async fn a_notification_is_posted_once_and_its_sender_can_follow_it() {
    let app = notify_app().await;
    let id = accepted(
        &app,
        json!({"channel": "#ops", "title": "Nightly load", "text": "*12* tables", "level": "warn",
               "fields": {"rows": 1200, "took": "4m"}, "link": "https://ci.example.com/runs/7"}),
    )
    .await;
    let (status, queued) = state(&app, CI_TOKEN, &id).await;
    assert_eq!((status, queued["state"].as_str().unwrap()), (200, "queued"));
    let (status, _) = state(&app, ML_TOKEN, &id).await;
    assert_eq!(status, 404, "another sender's notification is not shown");
    app.drain_jobs().await;
    let posted = app.slack.only_post_to("#ops");
    let shown = posted.blocks.to_string();
    assert!(shown.contains(":warning: *Nightly load*"), "{shown}");
    assert!(
        shown.contains("*rows*\\n1200") && shown.contains("https://ci.example.com/runs/7"),
        "{shown}"
    );
    assert!(shown.contains("from ci"), "{shown}");
    let (_, done) = state(&app, CI_TOKEN, &id).await;
    assert_eq!(done["state"], "posted", "{done}");
    let link = format!(
        "https://acme.slack.com/archives/C0000000OPS/p{}",
        posted.ts.replace('.', "")
    );
    assert_eq!(done["link"].as_str().unwrap(), link);
    assert_eq!(state(&app, CI_TOKEN, "12345").await.0, 404);
    app.drain_jobs().await;
    assert_eq!(app.slack.posts_to("#ops").len(), 1, "posted once");
}

#[tokio::test]
async fn a_sender_cannot_mention_the_channel() {
    let app = notify_app().await;
    accepted(
        &app,
        json!({"channel": "C0000000OPS", "title": "<!here> disk", "text": "<!channel> <@U000000ALICE> look"}),
    )
    .await;
    app.drain_jobs().await;
    let posted = app.slack.only_post_to("#ops");
    let everything = format!("{} {}", posted.text, posted.blocks);
    assert!(
        !everything.contains("<!channel>") && !everything.contains("<!here>") && !everything.contains("<@U"),
        "{everything}"
    );
    assert!(everything.contains("&lt;!channel&gt;"), "{everything}");
}

#[tokio::test]
async fn repeats_within_the_wait_are_held_back_and_the_next_post_says_how_many() {
    let app = notify_app().await;
    let alarm = json!({"channel": "#ops", "title": "Drift on model A", "wait_duration": 1, "level": "error"});
    let first = accepted(&app, alarm.clone()).await;
    let repeats = [accepted(&app, alarm.clone()).await, accepted(&app, alarm.clone()).await];
    // Another title is not a repeat.
    accepted(
        &app,
        json!({"channel": "#ops", "title": "Drift on model B", "wait_duration": 1}),
    )
    .await;
    app.drain_jobs().await;
    assert_eq!(app.slack.posts_to("#ops").len(), 2);
    assert_eq!(state(&app, CI_TOKEN, &first).await.1["state"], "posted");
    for id in &repeats {
        assert_eq!(state(&app, CI_TOKEN, id).await.1["state"], "held");
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    accepted(&app, alarm).await;
    app.drain_jobs().await;
    let posts = app.slack.posts_to("#ops");
    assert_eq!(posts.len(), 3);
    let last = posts.last().unwrap().blocks.to_string();
    assert!(last.contains("repeated 2 times since 20"), "{last}");
}

#[tokio::test]
async fn a_thread_key_keeps_related_notifications_in_one_thread_and_an_escalation_in_the_channel() {
    let app = notify_app().await;
    for (title, level) in [
        ("Backfill started", "info"),
        ("Backfill 50%", "info"),
        ("Backfill failed", "error"),
    ] {
        accepted(
            &app,
            json!({"channel": "#ops", "title": title, "level": level, "thread_key": "backfill-42"}),
        )
        .await;
        app.drain_jobs().await;
    }
    let posts = app.slack.posts_to("#ops");
    assert_eq!(posts.len(), 3);
    let top = &posts[0];
    assert_eq!(top.thread_ts, None);
    assert_eq!(posts[1].thread_ts.as_deref(), Some(top.ts.as_str()));
    assert!(!posts[1].reply_broadcast, "an info after an info stays in the thread");
    assert_eq!(posts[2].thread_ts.as_deref(), Some(top.ts.as_str()));
    assert!(posts[2].reply_broadcast, "the error is also shown in the channel");
}

#[tokio::test]
async fn a_retried_request_with_its_idempotency_key_is_recorded_once() {
    let app = notify_app().await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let response = app
            .http
            .post(format!("{}/api/notify", app.address))
            .bearer_auth(CI_TOKEN)
            .header("Idempotency-Key", "run-7")
            .json(&json!({"channel": "#ops", "title": "Deploy"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        ids.push(response.json::<Value>().await.unwrap()["id"].clone());
    }
    assert_eq!(ids[0], ids[1]);
    app.drain_jobs().await;
    assert_eq!(app.slack.posts_to("#ops").len(), 1);
}

#[tokio::test]
async fn a_channel_the_bot_cannot_see_is_reported_as_failed_with_the_reason() {
    let app = notify_app().await;
    let id = accepted(&app, json!({"channel": "#nowhere", "title": "Deploy"})).await;
    app.drain_jobs().await;
    let (_, failed) = state(&app, CI_TOKEN, &id).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    assert!(
        failed["reason"].as_str().unwrap().contains("no channel named #nowhere"),
        "{failed}"
    );
}

#[tokio::test]
async fn a_notification_accepted_before_a_restart_is_delivered_after_it() {
    let mut first = notify_app().await;
    let id = accepted(&first, json!({"channel": "#ops", "title": "Deploy"})).await;
    first.stop().await;
    let (slack, looker, dir) = first.parts();
    let mut raw = test_settings(&slack, &looker, &first.database_url);
    senders(&mut raw);
    let second = start(raw, slack.clone(), looker, dir).await;
    second.drain_jobs().await;
    assert_eq!(slack.posts_to("#ops").len(), 1);
    assert_eq!(state(&second, CI_TOKEN, &id).await.1["state"], "posted");
}

#[tokio::test]
async fn the_api_is_described_in_openapi() {
    let app = notify_app().await;
    let doc: Value = app
        .http
        .get(format!("{}/api/openapi.json", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/notify"]["post"].is_object());
    assert!(doc["paths"]["/api/notify/{id}"]["get"].is_object());
}

#[tokio::test]
async fn notifications_of_one_thread_sent_at_once_still_share_one_thread() {
    let app = spawn_app_with(|s| {
        senders(s);
        s.lookerbot_workers = Some("4".into());
    })
    .await;
    app.slack.add_channel(Channel::public("C0000000OPS", "ops"));
    let bodies: Vec<Value> = (0..4)
        .map(|n| json!({"channel": "#ops", "title": format!("Step {n}"), "thread_key": "deploy-9"}))
        .collect();
    let sends = bodies.iter().map(|body| send(&app, Some(CI_TOKEN), body));
    for (status, _) in futures_util::future::join_all(sends).await {
        assert_eq!(status, 202);
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !app.jobs().await.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let posts = app.slack.posts_to("#ops");
    assert_eq!(posts.len(), 4, "{posts:?}");
    let tops: Vec<_> = posts.iter().filter(|p| p.thread_ts.is_none()).collect();
    assert_eq!(tops.len(), 1, "one thread: {posts:?}");
    assert!(
        posts
            .iter()
            .filter(|p| p.thread_ts.is_some())
            .all(|p| p.thread_ts.as_deref() == Some(tops[0].ts.as_str()))
    );
}

#[tokio::test]
async fn a_sender_past_its_notifications_a_minute_is_asked_to_wait_and_nothing_more_is_recorded() {
    let app = spawn_app_with(|s| {
        senders(s);
        s.lookerbot_notify_per_minute = Some("3".into());
    })
    .await;
    let body = json!({"channel": "#ops", "title": "Loop"});
    for _ in 0..3 {
        assert_eq!(send(&app, Some(CI_TOKEN), &body).await.0, 202);
    }
    let response = app
        .http
        .post(format!("{}/api/notify", app.address))
        .bearer_auth(CI_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let wait: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .starts_with("more than 3 notifications a minute from ci"),
        "{answer}"
    );
    assert_eq!(app.jobs().await.len(), 3);
    assert_eq!(
        send(&app, Some(ML_TOKEN), &body).await.0,
        202,
        "another sender is not held back"
    );
}
