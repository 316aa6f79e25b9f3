//! Nothing a person asked is lost: an answer (a mention, a slash command, a click) that meets
//! Slack's outage is retried like a delivery until it is posted, exactly once, and says it is late
//! when it is; only Slack's real refusals end it.

use serde_json::{Value, json};
use std::time::Duration;

use crate::fake_slack::Failure;
use crate::helpers::*;

async fn outage_app() -> TestApp {
    let app = spawn_app_with(|s| {
        s.lookerbot_job_max_attempts = Some("12".into());
        s.lookerbot_audience_default = Some("public".into());
    })
    .await;
    app.looker.add_look(
        "7",
        "Orders by Status",
        query("q7", "table"),
        status_counts(&[("complete", 3), ("pending", 2)]),
    );
    app
}

fn mention_event(text: &str) -> Value {
    mention_event_in("C0000GENERAL", "Ev0OUTAGE01", text)
}

fn mention_event_in(channel: &str, event_id: &str, text: &str) -> Value {
    json!({"token": "legacy", "team_id": "T000000ACME", "api_app_id": "A0000000APP", "type": "event_callback",
           "event_id": event_id, "event_time": 1_700_000_000,
           "authorizations": [{"team_id": "T000000ACME", "user_id": "U0000000BOT", "is_bot": true}],
           "event": {"type": "app_mention", "user": "U000000ALICE", "text": format!("<@U0000000BOT> {text}"),
                     "ts": "1700000100.000100", "channel": channel, "event_ts": "1700000100.000100"}})
}

async fn mention(app: &TestApp, text: &str) {
    let signed = (lookerbot::store::now_millis() / 1000, SIGNING_SECRET);
    let ack = app
        .post_signed(
            "/slack/events",
            "application/json",
            &mention_event(text).to_string(),
            signed,
            &[],
        )
        .await;
    assert_eq!(ack.status(), 200);
}

/// Every message posted that shows the Look's data.
fn answers(app: &TestApp) -> usize {
    app.slack
        .messages()
        .iter()
        .filter(|m| m.all_text().contains("complete"))
        .count()
}

#[tokio::test]
async fn a_mention_that_meets_an_outage_is_answered_once_when_slack_is_back() {
    let app = outage_app().await;
    app.slack.outage_for(Duration::from_millis(400));
    mention(&app, "look 7").await;
    app.drain_jobs().await;
    assert_eq!(answers(&app), 1, "{:?}", app.slack.messages());
    assert!(app.dead_jobs().await.is_empty(), "{:?}", app.dead_jobs().await);
    // Run again (a crash after the post): nothing more.
    app.drain_jobs().await;
    assert_eq!(answers(&app), 1);
}

#[tokio::test]
async fn a_slash_command_that_meets_an_outage_is_answered_once() {
    let app = outage_app().await;
    app.slack.outage_for(Duration::from_millis(400));
    send_slash(&app, "U000000ALICE", "look 7").await;
    app.drain_jobs().await;
    assert_eq!(answers(&app), 1, "{:?}", app.slack.messages());
    // A sentence only the asker reads goes through the response_url once Slack is back.
    app.slack.outage_for(Duration::from_millis(400));
    send_slash(&app, "U000000ALICE", "look 404").await;
    app.drain_jobs().await;
    assert_eq!(
        app.slack.said(),
        ["I couldn't find Look 404 in Looker, or the bot's Looker user can't see it."]
    );
}

#[tokio::test]
async fn an_answer_more_than_a_minute_late_says_so() {
    let app = outage_app().await;
    // Recorded a little over a minute before it could be posted.
    app.slack.outage_for(Duration::from_millis(300));
    mention(&app, "look 7").await;
    let db = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
    sqlx::query("UPDATE jobs SET created_at = created_at - 61000")
        .execute(&db)
        .await
        .unwrap();
    app.drain_jobs().await;
    let posted = app.slack.messages();
    let answer = posted.iter().find(|m| m.all_text().contains("complete")).unwrap();
    assert!(
        answer.all_text().contains("Sorry for the wait: Slack was unavailable."),
        "{}",
        answer.all_text()
    );
}

#[tokio::test]
async fn only_slacks_real_refusals_end_an_answer() {
    let app = outage_app().await;
    app.slack.fail_next("chat.postMessage", Failure::Error("is_archived"));
    mention(&app, "look 7").await;
    app.drain_jobs().await;
    assert_eq!(answers(&app), 0);
    let dead = app.dead_jobs().await;
    assert_eq!(dead.len(), 1, "ended with the reason for an operator");
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("is_archived"),
        "{dead:?}"
    );
}

#[tokio::test]
async fn past_the_response_urls_half_hour_the_asker_is_answered_in_the_channel() {
    let app = outage_app().await;
    app.slack.outage_for(Duration::from_millis(300));
    send_slash(&app, "U000000ALICE", "look 404").await;
    let db = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
    sqlx::query("UPDATE jobs SET created_at = created_at - 1860000")
        .execute(&db)
        .await
        .unwrap();
    app.drain_jobs().await;
    assert!(
        app.slack.said().is_empty(),
        "the response_url has lapsed: {:?}",
        app.slack.said()
    );
    let told = app.slack.ephemerals();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].1, "U000000ALICE");
    assert!(
        told[0].2.starts_with("I couldn't find Look 404")
            && told[0].2.ends_with("Sorry for the wait: Slack was unavailable."),
        "{told:?}"
    );
}

/// One server on SQLite: whatever ran when the process died is taken back when it starts again,
/// not after the job's lease (30 s in these tests, 300 s by default).
#[tokio::test]
async fn a_restart_takes_back_at_once_the_answer_a_kill_interrupted() {
    use crate::fake_slack::Hang;
    let mut app = outage_app().await;
    app.slack.hang_next("chat.postMessage", Hang::BeforeEffect);
    mention(&app, "look 7").await;
    app.kill_worker_when(app.slack.wait_until_hung()).await;
    app.kill().await;
    let (slack, looker, dir) = app.parts();
    let mut raw = test_settings(&slack, &looker, &app.database_url);
    raw.lookerbot_audience_default = Some("public".into());
    let restarted = start(raw, slack, looker, dir).await;
    let jobs = restarted.jobs().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        jobs[0].state,
        lookerbot::store::JobState::Queued,
        "taken back, not left to its lease"
    );
    restarted.drain_jobs().await;
    assert_eq!(answers(&restarted), 1, "{:?}", restarted.slack.messages());
}

/// Slack already knows the asker (cached), but not the channel: while it is down, who reads the
/// channel is unknown, and the answer waits for Slack instead of going to the asker alone.
#[tokio::test]
async fn an_answer_waits_for_slack_to_say_who_reads_the_channel() {
    let app = outage_app().await;
    mention(&app, "look 7").await;
    app.drain_jobs().await;
    assert_eq!(answers(&app), 1);
    app.slack.outage_for(Duration::from_millis(400));
    let body = mention_event_in("C00000SALES1", "Ev0OUTAGE02", "look 7").to_string();
    let signed = (lookerbot::store::now_millis() / 1000, SIGNING_SECRET);
    let ack = app
        .post_signed("/slack/events", "application/json", &body, signed, &[])
        .await;
    assert_eq!(ack.status(), 200);
    app.drain_jobs().await;
    assert_eq!(
        app.slack.posts_to("#sales").len(),
        1,
        "posted in the channel once Slack was back"
    );
    assert!(app.slack.ephemerals().is_empty(), "{:?}", app.slack.ephemerals());
}

#[tokio::test]
async fn a_mention_caught_by_an_outage_and_a_kill_is_answered_once_after_the_restart() {
    let mut app = outage_app().await;
    app.slack.outage_for(Duration::from_millis(500));
    mention(&app, "look 7").await;
    // One attempt meets the outage; then the process dies.
    let never = tokio_util::sync::CancellationToken::new();
    let first = app.worker.run_next(&never).await.unwrap();
    assert!(
        matches!(first, Some(lookerbot::queue::Outcome::Retrying { .. })),
        "{first:?}"
    );
    app.kill().await;
    let (slack, looker, dir) = app.parts();
    let mut raw = test_settings(&slack, &looker, &app.database_url);
    raw.lookerbot_audience_default = Some("public".into());
    raw.lookerbot_job_max_attempts = Some("12".into());
    let restarted = start(raw, slack, looker, dir).await;
    restarted.drain_jobs().await;
    assert_eq!(answers(&restarted), 1, "{:?}", restarted.slack.messages());
    restarted.drain_jobs().await;
    assert_eq!(answers(&restarted), 1);
}

/// Sends `/looker {text}` from `channel` with a `response_url` Slack has already taken five
/// posts on, and runs what it queued.
async fn slash_past_five_uses(app: &TestApp, channel: (&str, &str), text: &str) {
    let form = slash_form(app, "U000000ALICE", text)
        .replace("C0000GENERAL", channel.0)
        .replace("channel_name=general", &format!("channel_name={}", channel.1));
    let url = url::form_urlencoded::parse(form.as_bytes())
        .find(|(key, _)| key == "response_url")
        .map(|(_, url)| url.into_owned())
        .unwrap();
    app.slack.use_response_url(&url, 5);
    let now = lookerbot::store::now_millis() / 1000;
    let ack = app
        .post_signed("/slack/receive", FORM, &form, (now, SIGNING_SECRET), &[])
        .await;
    assert_eq!(ack.status(), 200);
    app.drain_jobs().await;
}

#[tokio::test]
async fn past_the_response_urls_five_uses_the_asker_is_answered_in_the_channel_or_else_in_a_dm() {
    let app = outage_app().await;
    slash_past_five_uses(&app, ("C0000GENERAL", "general"), "look 404").await;
    assert!(app.slack.responses().is_empty(), "Slack took no sixth post");
    let ephemerals = app.slack.ephemerals();
    assert_eq!(ephemerals.len(), 1, "{ephemerals:?}");
    assert_eq!(
        (ephemerals[0].0.as_str(), ephemerals[0].1.as_str()),
        ("C0000GENERAL", "U000000ALICE")
    );
    assert!(app.slack.messages().is_empty(), "nothing in the channel for everyone");

    // A channel the bot is not in takes no ephemeral message: a DM with the asker does.
    let mut quiet = crate::fake_slack::Channel::public("C00000QUIET", "quiet");
    quiet.is_member = false;
    app.slack.add_channel(quiet);
    slash_past_five_uses(&app, ("C00000QUIET", "quiet"), "look 404").await;
    let messages = app.slack.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].channel.starts_with('D'), "a DM: {:?}", messages[0].channel);
    assert_eq!(app.slack.ephemerals().len(), 1);
    assert!(
        app.jobs()
            .await
            .iter()
            .all(|j| j.state != lookerbot::store::JobState::Dead)
    );
}
