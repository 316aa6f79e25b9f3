//! Who may post deliveries, and what bad input gets back. Nothing is queued unless accepted.

use serde_json::{Value, json};

use crate::helpers::*;

async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

#[tokio::test]
async fn the_right_token_queues_one_job_and_answers_at_once() {
    let app = spawn_app().await;
    let body = look_webhook(&app.looker, "7", "Orders", None);
    let (status, answer) = json_of(
        app.post_webhook(
            "/slack/post/channel/general",
            &body,
            &[("X-Looker-Webhook-Token", WEBHOOK_TOKEN)],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["success"], true);
    assert_eq!(answer["reason"], "Queued scheduled Look 'Orders' to #general");
    assert_eq!(app.jobs().await.len(), 1);
    assert_eq!(
        app.looker.requests(),
        ["GET /scheduled_plans/91"],
        "before the answer, Looker is asked only for the plan itself"
    );
    assert!(app.slack.calls().is_empty(), "no Slack call before the answer");
}

#[tokio::test]
async fn wrong_or_missing_tokens_are_refused_and_nothing_is_queued() {
    let app = spawn_app().await;
    let body = look_webhook(&app.looker, "7", "Orders", None);
    for headers in [
        vec![("X-Looker-Webhook-Token", "nope")],
        vec![],
        vec![("Authorization", "Token token=\"nope\"")],
    ] {
        let (status, answer) = json_of(app.post_webhook("/slack/post/channel/general", &body, &headers).await).await;
        assert_eq!(status, 401, "{headers:?}");
        assert_eq!(answer["success"], false);
    }
    assert!(app.jobs().await.is_empty());
}

#[tokio::test]
async fn the_shared_lookerbot_token_is_accepted() {
    let app = spawn_app_with(|s| s.lookerbot_auth_token = Some("shared-secret".into())).await;
    let body = look_webhook(&app.looker, "7", "Orders", None);
    let response = app
        .post_webhook(
            "/slack/post/channel/general",
            &body,
            &[("Authorization", "Token token=\"shared-secret\"")],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.jobs().await.len(), 1);
}

#[tokio::test]
async fn another_lookers_token_cannot_post_for_this_looker() {
    let app = spawn_app_with(|s| {
        let web = s.looker_url.take().unwrap();
        let api = s.looker_api_base_url.take().unwrap();
        s.looker_webhook_token = None;
        s.lookers = Some(
            json!([
                {"url": web, "apiBaseUrl": api, "clientId": crate::fake_looker::CLIENT_ID,
                 "clientSecret": crate::fake_looker::CLIENT_SECRET, "webhookToken": "token-a"},
                {"url": "https://other.looker.example", "apiBaseUrl": "https://other.looker.example/api/4.0",
                 "clientId": "b", "clientSecret": "b", "webhookToken": "token-b"}
            ])
            .to_string(),
        );
    })
    .await;
    let body = look_webhook(&app.looker, "7", "Orders", None);
    let other = app
        .post_webhook(
            "/slack/post/channel/general",
            &body,
            &[("X-Looker-Webhook-Token", "token-b")],
        )
        .await;
    assert_eq!(other.status(), 401);
    assert!(app.jobs().await.is_empty());
    let own = app
        .post_webhook(
            "/slack/post/channel/general",
            &body,
            &[("X-Looker-Webhook-Token", "token-a")],
        )
        .await;
    assert_eq!(own.status(), 200);
}

#[tokio::test]
async fn bad_bodies_get_a_clear_400_and_nothing_is_queued() {
    let app = spawn_app().await;
    let token = [
        ("X-Looker-Webhook-Token", WEBHOOK_TOKEN),
        ("Content-Type", "application/json"),
    ];
    let url = format!("{}/slack/post/channel/general", app.address);
    let mut request = app.http.post(&url).body("{not json");
    for (k, v) in token {
        request = request.header(k, v);
    }
    let (status, answer) = json_of(request.send().await.unwrap()).await;
    assert_eq!(status, 400);
    assert!(answer["reason"].as_str().unwrap().contains("not a Looker webhook"));

    let cases = [
        (
            json!({"type": "query", "scheduled_plan": null}),
            "scheduled_plan is missing",
        ),
        (
            json!({"type": "cell", "scheduled_plan": {"title": "x", "type": "Explore"}}),
            "unsupported delivery type",
        ),
        (
            json!({"scheduled_plan": {"title": "x", "type": "Look", "url": null, "query_id": null}}),
            "neither a Look URL",
        ),
        (
            json!({"scheduled_plan": {"title": "x", "type": "Dashboard"},
                   "attachment": {"mimetype": "image/png;base64", "data": "%%%not base64%%%"}}),
            "not valid base64",
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = json_of(
            app.post_webhook("/slack/post/channel/general", &body, &token[..1])
                .await,
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert!(answer["reason"].as_str().unwrap().contains(expected), "{answer}");
    }
    let (status, _) = json_of(
        app.post_webhook("/slack/post/channel_x/general", &json!({}), &token[..1])
            .await,
    )
    .await;
    assert_eq!(status, 404);
    assert!(app.jobs().await.is_empty());
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let app = spawn_app_with(|s| s.lookerbot_webhook_max_mb = Some("1".into())).await;
    let mut body = look_webhook(&app.looker, "7", "Orders", None);
    body["data"] = json!("x".repeat(1_200_000));
    let response = app
        .post_webhook(
            "/slack/post/channel/general",
            &body,
            &[("X-Looker-Webhook-Token", WEBHOOK_TOKEN)],
        )
        .await;
    let (status, answer) = json_of(response).await;
    assert_eq!(status, 413);
    assert_eq!(answer["success"], false);
    assert!(app.jobs().await.is_empty());
}

#[tokio::test]
async fn a_redelivered_webhook_is_queued_once() {
    let app = spawn_app().await;
    let body = look_webhook(&app.looker, "7", "Orders", None);
    let headers = [
        ("X-Looker-Webhook-Token", WEBHOOK_TOKEN),
        ("X-Looker-Webhook-Id", "delivery-123"),
    ];
    let (_, first) = json_of(app.post_webhook("/slack/post/channel/general", &body, &headers).await).await;
    let (status, second) = json_of(app.post_webhook("/slack/post/channel/general", &body, &headers).await).await;
    assert_eq!(status, 200);
    assert!(first["reason"].as_str().unwrap().starts_with("Queued"));
    assert!(second["reason"].as_str().unwrap().starts_with("Already received"));
    assert_eq!(app.jobs().await.len(), 1);

    // Delivered, the id is still remembered.
    app.looker.add_look(
        "7",
        "Orders",
        query("q7", "table"),
        status_counts(&[("a", 1), ("b", 2)]),
    );
    app.drain_jobs().await;
    let (_, third) = json_of(app.post_webhook("/slack/post/channel/general", &body, &headers).await).await;
    assert!(third["reason"].as_str().unwrap().starts_with("Already received"));
    app.drain_jobs().await;
    assert_eq!(app.slack.messages().len(), 1);
}
