//! The trust boundary of Looker's webhooks, attacked. Looker sends one webhook token with every
//! webhook of the instance, to any address a user types: a user who schedules to a server of
//! their own learns it. With it they must not get anything run as the bot, nor posted anywhere
//! their own schedule does not already send.

use serde_json::{Value, json};

use crate::fake_looker_plans::scheduled_plan;
use crate::helpers::*;

const TOKEN: [(&str, &str); 1] = [("X-Looker-Webhook-Token", WEBHOOK_TOKEN)];

async fn app_with_looks() -> TestApp {
    let app = spawn_app().await;
    app.looker
        .add_look("7", "Orders", query("q7", "table"), status_counts(&[("public", 1)]));
    app.looker.add_look(
        "99",
        "Salaries",
        query("q99", "table"),
        status_counts(&[("secret-salary", 250_000)]),
    );
    app
}

async fn refused(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 403);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["success"], false);
    answer["reason"].as_str().unwrap().to_string()
}

/// Nothing was queued, and neither Slack nor Looker's content was touched.
async fn nothing_happened(app: &TestApp) {
    assert!(app.jobs().await.is_empty() && app.dead_jobs().await.is_empty());
    app.drain_jobs().await;
    assert!(app.slack.messages().is_empty() && app.slack.files().is_empty());
    assert!(
        app.looker
            .requests()
            .iter()
            .all(|r| r.starts_with("GET /scheduled_plans/")),
        "{:?}",
        app.looker.requests()
    );
}

#[tokio::test]
async fn a_stolen_token_with_a_made_up_plan_gets_nothing() {
    let app = app_with_looks().await;
    let body = look_webhook(&app.looker, "99", "Salaries", Some("q99"));
    let reason = refused(app.post_forged("/slack/post/dm/mallory", &body, &TOKEN).await).await;
    assert!(reason.contains("no scheduled plan 91"), "{reason}");
    // And without any plan id at all.
    let mut bare = body.clone();
    bare["scheduled_plan"]
        .as_object_mut()
        .unwrap()
        .remove("scheduled_plan_id");
    let reason = refused(app.post_forged("/slack/post/dm/mallory", &bare, &TOKEN).await).await;
    assert!(reason.contains("scheduled_plan_id is missing"), "{reason}");
    nothing_happened(&app).await;
}

#[tokio::test]
async fn a_real_plan_cannot_be_sent_somewhere_else() {
    let app = app_with_looks().await;
    let sales = format!("{}/slack/post/channel/sales", app.address);
    app.looker
        .add_plan(scheduled_plan("500", "1", &sales, json!({"look_id": "7"})));
    let mut body = look_webhook(&app.looker, "7", "Orders", None);
    body["scheduled_plan"]["scheduled_plan_id"] = json!(500);
    for elsewhere in [
        "/slack/post/dm/mallory",
        "/slack/post/channel/general",
        "/slack/post/group/sales",
    ] {
        let reason = refused(app.post_forged(elsewhere, &body, &TOKEN).await).await;
        assert!(reason.contains("does not send to this address"), "{reason}");
    }
    // A plan the attacker points at their own server, replayed here with their Host header.
    let theirs = "https://evil.example.com/slack/post/dm/mallory";
    app.looker
        .add_plan(scheduled_plan("501", "1", theirs, json!({"look_id": "7"})));
    body["scheduled_plan"]["scheduled_plan_id"] = json!(501);
    let forged_host = app
        .http
        .post(format!("{}/slack/post/dm/mallory", app.address))
        .header("X-Looker-Webhook-Token", WEBHOOK_TOKEN)
        .header("Host", "bot.example.com")
        .json(&body)
        .send()
        .await
        .unwrap();
    refused(forged_host).await;
    nothing_happened(&app).await;
}

#[tokio::test]
async fn only_what_the_plan_holds_runs_never_the_ids_in_the_body() {
    let app = app_with_looks().await;
    let general = format!("{}/slack/post/channel/general", app.address);
    app.looker.add_plan(scheduled_plan(
        "502",
        "1",
        &general,
        json!({"look_id": "7", "title": "Orders"}),
    ));
    // The body claims Look 99 and its query: the plan says Look 7.
    let mut body = look_webhook(&app.looker, "99", "Salaries", Some("q99"));
    body["scheduled_plan"]["scheduled_plan_id"] = json!("502");
    body["scheduled_plan"]["query"] = query("q99", "table");
    let response = app.post_forged("/slack/post/channel/general", &body, &TOKEN).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    app.drain_jobs().await;
    let posted = app.slack.only_post_to("#general");
    assert!(posted.all_text().contains("public"), "{}", posted.all_text());
    assert!(!posted.all_text().contains("secret-salary"));
    let requests = app.looker.requests();
    assert!(
        requests.iter().all(|r| !r.contains("/99") && !r.contains("q99")),
        "{requests:?}"
    );
}

#[tokio::test]
async fn a_disabled_plan_is_refused_and_a_looker_that_cannot_answer_is_asked_again_later() {
    let app = app_with_looks().await;
    let general = format!("{}/slack/post/channel/general", app.address);
    app.looker.add_plan(scheduled_plan(
        "503",
        "1",
        &general,
        json!({"look_id": "7", "enabled": false}),
    ));
    let mut body = look_webhook(&app.looker, "7", "Orders", None);
    body["scheduled_plan"]["scheduled_plan_id"] = json!(503);
    let reason = refused(app.post_forged("/slack/post/channel/general", &body, &TOKEN).await).await;
    assert!(reason.contains("disabled"), "{reason}");

    app.looker.change_plan("503", json!({"enabled": true}));
    app.looker.set_down(true);
    let response = app.post_forged("/slack/post/channel/general", &body, &TOKEN).await;
    assert_eq!(response.status(), 503, "Looker retries a webhook answered 503");
    assert!(app.jobs().await.is_empty());
    app.looker.set_down(false);
    let response = app.post_forged("/slack/post/channel/general", &body, &TOKEN).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_filtered_plan_runs_the_look_with_the_plans_filters() {
    let app = app_with_looks().await;
    app.looker
        .result_when_filtered("orders.status", "complete", status_counts(&[("complete", 3)]));
    let general = format!("{}/slack/post/channel/general", app.address);
    app.looker.add_plan(scheduled_plan(
        "504",
        "1",
        &general,
        json!({"look_id": "7", "filters_string": "?f[orders.status]=complete"}),
    ));
    let mut body = look_webhook(&app.looker, "7", "Orders", None);
    body["scheduled_plan"]["scheduled_plan_id"] = json!(504);
    app.deliver("/slack/post/channel/general", &body).await;
    app.drain_jobs().await;
    let created = app.looker.created_queries();
    assert_eq!(created.len(), 1, "the Look's query, with the plan's filter");
    assert_eq!(created[0]["filters"]["orders.status"], "complete");
    let posted = app.slack.only_post_to("#general");
    assert!(
        posted.title().contains("f%5Borders.status%5D=complete")
            || posted.title().contains("f[orders.status]=complete"),
        "{}",
        posted.title()
    );
}

const URL_SECRET: &str = "webhook-url-secret-0123456789abcdef0123456789";

async fn signing_app(signed_only: bool) -> TestApp {
    let app = spawn_app_with(|raw| {
        raw.lookerbot_webhook_url_secret = Some(format!("{URL_SECRET},old-webhook-url-secret-0123456789abcdef012345"));
        raw.lookerbot_webhook_signed_only = Some(signed_only.to_string());
    })
    .await;
    app.looker
        .add_look("7", "Orders", query("q7", "table"), status_counts(&[("public", 1)]));
    app
}

/// The address `lookerbot webhook-url` prints for this app.
async fn printed_address(app: &TestApp, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut command = lookerbot(dir.path());
    with_settings(&mut command, app);
    command
        .env("LOOKERBOT_WEBHOOK_URL_SECRET", URL_SECRET)
        .arg("webhook-url")
        .args(args)
        .args(["--url", &app.address]);
    let output = command.output().await.unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

#[tokio::test]
async fn a_signed_address_names_one_channel_and_cannot_be_turned_into_another() {
    let app = signing_app(true).await;
    let sales = printed_address(&app, &["--channel", "sales"]).await;
    let path = sales.strip_prefix(&app.address).unwrap().to_string();
    assert!(path.starts_with("/slack/post/channel/sales?sig="), "{path}");

    let mut body = look_webhook(&app.looker, "7", "Orders", None);
    let response = app.post_webhook(&path, &body, &TOKEN).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    // The same signature on another channel, on a DM, or altered: refused before the body is read.
    body["scheduled_plan"]["scheduled_plan_id"] = json!(92);
    let sig = path.split("sig=").nth(1).unwrap();
    let mut altered = sig.to_string();
    altered.replace_range(0..1, if sig.starts_with('A') { "B" } else { "A" });
    for forged in [
        format!("/slack/post/channel/finance?sig={sig}"),
        format!("/slack/post/dm/mallory?sig={sig}"),
        format!("/slack/post/channel/sales?sig={altered}"),
    ] {
        let reason = refused(app.post_webhook(&forged, &body, &TOKEN).await).await;
        assert!(reason.contains("signature"), "{reason}");
    }
    // Without a signature, while only signed addresses are taken.
    let reason = refused(app.post_webhook("/slack/post/channel/sales", &body, &TOKEN).await).await;
    assert!(reason.contains("signed addresses"), "{reason}");
    assert_eq!(app.jobs().await.len(), 1);
}

#[tokio::test]
async fn an_address_signed_with_the_previous_key_still_works_after_rotation() {
    let app = signing_app(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut command = lookerbot(dir.path());
    with_settings(&mut command, &app);
    command
        .env(
            "LOOKERBOT_WEBHOOK_URL_SECRET",
            "old-webhook-url-secret-0123456789abcdef012345",
        )
        .args(["webhook-url", "--dm", "bob", "--url", &app.address]);
    let old = String::from_utf8(command.output().await.unwrap().stdout).unwrap();
    let path = old.trim().strip_prefix(&app.address).unwrap().to_string();
    let body = look_webhook(&app.looker, "7", "Orders", None);
    let response = app.post_webhook(&path, &body, &TOKEN).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

#[tokio::test]
async fn a_data_action_cannot_ping_a_channel_hide_a_link_or_post_anonymously() {
    let app = spawn_app_with(|raw| raw.lookerbot_hub_wait_secs = Some("0".into())).await;
    let body = json!({"type": "cell", "scheduled_plan": null, "attachment": null,
        "data": {"value": "42", "channel": "#general",
                 "message": "<!channel> urgent: <@U000000ALICE> see <https://evil.example.com|the wiki> *now*",
                 "looker_user_email": "mallory@acme.example"},
        "form_params": {}});
    let response = app.post_forged("/data_actions", &body, &TOKEN).await;
    assert_eq!(response.status(), 200);
    app.drain_jobs().await;
    let posted = app.slack.only_post_to("#general");
    // Slack reads markup in the notification text and in mrkdwn blocks; plain_text it shows as is.
    let blocks = posted.blocks.as_array().unwrap();
    assert_eq!(blocks[0]["text"]["type"], "plain_text", "{}", posted.blocks);
    let read_as_markup = posted.text.clone() + &Value::Array(blocks[1..].to_vec()).to_string();
    for live in ["<!channel>", "<@U000000ALICE>", "<https://evil"] {
        assert!(
            !read_as_markup.contains(live),
            "{live} reached Slack as markup: {read_as_markup}"
        );
    }
    let sent = read_as_markup;
    assert!(sent.contains("Sent from Looker by mallory@acme.example"), "{sent}");

    // Without a sender, the post says Looker did not say who.
    let mut anonymous = body.clone();
    anonymous["data"].as_object_mut().unwrap().remove("looker_user_email");
    app.post_forged("/data_actions", &anonymous, &TOKEN).await;
    app.drain_jobs().await;
    let last = app.slack.messages().pop().unwrap();
    assert!(
        last.blocks.to_string().contains("did not say by whom"),
        "{}",
        last.blocks
    );
}
