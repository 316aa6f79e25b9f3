//! Secrets at rest: what a job keeps that would let a reader act (a slash command's
//! `response_url`, Looker's one-time download links, a Braze key) is sealed in its payload, even
//! without `LOOKERBOT_TOKEN_KEYS` (then with a key derived from Slack's signing secret, which the
//! database does not hold), and the job still does its work with it.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_slash_commands_response_url_is_sealed_in_its_job_and_still_answers() {
    let app = spawn_app().await;
    send_slash(&app, "U000000ALICE", "look 404").await;
    let jobs = app.jobs().await;
    assert_eq!(jobs.len(), 1);
    let payload = app.store.job_detail(jobs[0].id).await.unwrap().unwrap().payload;
    assert!(
        !payload.contains("/response/") && payload.contains("\"v2.slack."),
        "{payload}"
    );
    app.drain_jobs().await;
    assert_eq!(
        app.slack.said(),
        ["I couldn't find Look 404 in Looker, or the bot's Looker user can't see it."],
        "the sealed URL opened and the answer went through it"
    );
}

#[tokio::test]
async fn a_dashboards_download_link_is_sealed_in_its_job() {
    let app = spawn_app().await;
    let link = format!(
        "{}/api/4.0/scheduled_plans/900/download/abc123secret",
        app.looker.web_url
    );
    let body = json!({
        "type": "Dashboard",
        "scheduled_plan": {"scheduled_plan_id": 900, "title": "Weekly", "type": "Dashboard",
                           "url": format!("{}/dashboards/1", app.looker.web_url), "download_url": link},
    });
    let answer = app
        .post_webhook(
            "/slack/post/channel/general",
            &body,
            &[("X-Looker-Webhook-Token", WEBHOOK_TOKEN)],
        )
        .await;
    assert!(answer.status().is_success(), "{:?}", answer.text().await);
    let payloads = app.store.sealed().payloads(0, 100).await.unwrap();
    assert_eq!(payloads.len(), 1);
    for (_, payload) in payloads {
        assert!(!payload.contains("abc123secret"), "{payload}");
    }
}

#[tokio::test]
async fn a_person_asking_faster_than_the_limit_is_told_once_a_turn_and_looker_is_spared() {
    // The default limit: 20 a minute.
    let app = spawn_app_with(|s| s.lookerbot_per_user_per_minute = None).await;
    for _ in 0..21 {
        send_slash(&app, "U000000ALICE", "look 404").await;
    }
    send_slash(&app, "U00000000BOB", "look 404").await;
    let looker_before = app.looker.requests().len();
    app.drain_jobs().await;
    let said = app.slack.said();
    let too_fast = "You're asking faster than I can answer. Wait a minute, then try again.";
    assert_eq!(said.len(), 22);
    assert_eq!(said.iter().filter(|s| *s == too_fast).count(), 1, "{said:?}");
    assert_eq!(
        said.last().unwrap(),
        "I couldn't find Look 404 in Looker, or the bot's Looker user can't see it.",
        "Bob has his own turns"
    );
    let looks_asked = app.looker.requests()[looker_before..]
        .iter()
        .filter(|r| r.contains("/looks/404"))
        .count();
    assert_eq!(
        looks_asked, 21,
        "20 of Alice's and Bob's reach Looker; the 21st never does"
    );
}
