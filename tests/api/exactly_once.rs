//! Every post and upload exactly once: a worker killed at each point of the sequence (before
//! the post, after Slack acted but before the bot recorded it, after), and a dashboard whose third
//! message fails once, are finished by a later attempt without losing or repeating anything.

use std::time::Duration;

use lookerbot::queue::Outcome;
use serde_json::json;

use crate::fake_slack::{Failure, Hang};
use crate::helpers::*;

/// Leases short enough to wait out in a test (a dashboard, paced at Slack's one message a second
/// per channel, needs a longer one).
async fn app() -> TestApp {
    app_with_lease(2).await
}

async fn app_with_lease(seconds: u64) -> TestApp {
    let app = spawn_app_with(|s| {
        s.lookerbot_job_lease_secs = Some(seconds.to_string());
        s.lookerbot_attach_csv = Some("true".into());
        s.lookerbot_table_max_rows = Some("2".into());
    })
    .await;
    app.looker.add_look(
        "7",
        "Orders by Status",
        query("q7", "table"),
        status_counts(&[("complete", 3), ("pending", 2), ("cancelled", 1)]),
    );
    app
}

/// Starts the next job on a worker of its own, lets Slack stop answering `method` at `hang`,
/// and kills the worker there, as `kill -9` would: nothing after that point runs.
async fn kill_at(app: &TestApp, method: &str, hang: Hang) {
    app.slack.hang_next(method, hang);
    app.kill_worker_when(app.slack.wait_until_hung()).await;
    lease_runs_out(app).await;
}

/// The killed worker's lease runs out: the next worker takes the job over.
async fn lease_runs_out(app: &TestApp) {
    tokio::time::sleep(app.settings.jobs.lease + Duration::from_millis(100)).await;
}

/// The outcomes but the waits for an earlier attempt's post to land (5 s after it was sent).
fn settled(outcomes: Vec<Outcome>) -> Vec<Outcome> {
    outcomes
        .into_iter()
        .filter(|o| !matches!(o, Outcome::Deferred { .. }))
        .collect()
}

async fn schedule_look(app: &TestApp) {
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders by Status", None),
    )
    .await;
}

fn shared_files(app: &TestApp) -> usize {
    app.slack.files().iter().filter(|f| f.shared_to.is_some()).count()
}

#[tokio::test]
async fn killed_before_the_post_it_is_posted_once_by_the_next_attempt() {
    let app = app().await;
    schedule_look(&app).await;
    kill_at(&app, "chat.postMessage", Hang::BeforeEffect).await;
    assert!(app.slack.messages().is_empty());
    assert_eq!(settled(app.drain_jobs().await), [Outcome::Done]);
    assert_eq!(app.slack.posts_to("#general").len(), 1);
    assert_eq!(shared_files(&app), 1, "the CSV too, once");
}

#[tokio::test]
async fn killed_after_slack_posted_but_before_the_bot_knew_it_finds_its_post_and_goes_on() {
    let app = app().await;
    schedule_look(&app).await;
    kill_at(&app, "chat.postMessage", Hang::AfterEffect).await;
    assert_eq!(app.slack.messages().len(), 1, "Slack has the post");
    assert_eq!(settled(app.drain_jobs().await), [Outcome::Done]);
    assert_eq!(app.slack.posts_to("#general").len(), 1, "not posted again");
    assert!(app.slack.calls_to("conversations.history") >= 1, "it looked first");
    assert_eq!(shared_files(&app), 1);
}

#[tokio::test]
async fn killed_after_the_post_was_recorded_it_is_skipped() {
    let app = app().await;
    schedule_look(&app).await;
    // The message is posted and recorded; the job dies while starting the CSV's upload.
    kill_at(&app, "files.getUploadURLExternal", Hang::BeforeEffect).await;
    assert_eq!(app.slack.messages().len(), 1);
    assert_eq!(app.drain_jobs().await, [Outcome::Done]);
    assert_eq!(app.slack.posts_to("#general").len(), 1);
    assert_eq!(
        app.slack.calls_to("conversations.history"),
        0,
        "a recorded post needs no looking"
    );
    assert_eq!(shared_files(&app), 1);
}

#[tokio::test]
async fn an_upload_completed_before_the_kill_is_found_and_not_repeated() {
    let app = app().await;
    schedule_look(&app).await;
    kill_at(&app, "files.completeUploadExternal", Hang::AfterEffect).await;
    assert_eq!(shared_files(&app), 1, "Slack shared it");
    app.drain_jobs().await;
    assert_eq!(shared_files(&app), 1, "not uploaded again");
    assert!(app.slack.calls_to("files.info") >= 1);
    assert_eq!(app.slack.posts_to("#general").len(), 1);
}

#[tokio::test]
async fn an_upload_not_completed_before_the_kill_is_uploaded_once() {
    let app = app().await;
    schedule_look(&app).await;
    kill_at(&app, "files.completeUploadExternal", Hang::BeforeEffect).await;
    assert_eq!(shared_files(&app), 0);
    app.drain_jobs().await;
    assert_eq!(shared_files(&app), 1);
    assert_eq!(app.slack.posts_to("#general").len(), 1);
}

/// A dashboard of five messages: thirteen text tiles long enough that three fit in one.
fn five_message_dashboard(app: &TestApp) {
    let tiles: Vec<serde_json::Value> = (1..=13)
        .map(|i| {
            json!({"id": format!("t{i}"), "type": "text", "title_text": format!("Tile {i}"),
                   "body_text": format!("{i} ").repeat(1400)})
        })
        .collect();
    app.looker
        .add_dashboard(json!({"id": "12", "title": "Long Read", "dashboard_elements": tiles}));
}

#[tokio::test]
async fn a_dashboard_whose_third_message_fails_once_posts_each_message_once() {
    let app = app_with_lease(8).await;
    five_message_dashboard(&app);
    app.slack.fail_nth("chat.postMessage", 3, Failure::Status(500));
    let body = json!({"type": "dashboard",
        "scheduled_plan": {"scheduled_plan_id": 702, "title": "Long Read", "type": "Dashboard",
                           "url": format!("{}/dashboards/12", app.looker.web_url)}, "attachment": null});
    app.deliver("/slack/post/channel/general", &body).await;
    let outcomes = settled(app.drain_jobs().await);
    assert!(
        matches!(outcomes[..], [Outcome::Retrying { .. }, Outcome::Done]),
        "{outcomes:?}"
    );
    let posted = app.slack.posts_to("#general");
    assert_eq!(
        posted.len(),
        5,
        "{:#?}",
        posted.iter().map(|m| m.section(0)).collect::<Vec<_>>()
    );
    let first = &posted[0];
    assert!(first.thread_ts.is_none());
    assert!(
        posted[1..].iter().all(|m| m.thread_ts.as_ref() == Some(&first.ts)),
        "the rest in the first's thread"
    );
    let mut tiles: Vec<String> = posted
        .iter()
        .flat_map(|m| (1..=13).filter(move |i| m.all_text().contains(&format!("*Tile {i}*"))))
        .collect::<Vec<i32>>()
        .into_iter()
        .map(|i| i.to_string())
        .collect();
    tiles.sort_by_key(|t| t.parse::<i32>().unwrap());
    let expected: Vec<String> = (1..=13).map(|i| i.to_string()).collect();
    assert_eq!(tiles, expected, "every tile once");
}

#[tokio::test]
async fn killed_after_a_threaded_post_it_is_found_in_the_thread() {
    let app = app_with_lease(8).await;
    five_message_dashboard(&app);
    let body = json!({"type": "dashboard",
        "scheduled_plan": {"scheduled_plan_id": 703, "title": "Long Read", "type": "Dashboard",
                           "url": format!("{}/dashboards/12", app.looker.web_url)}, "attachment": null});
    app.deliver("/slack/post/channel/general", &body).await;
    // The first message goes out; the second (in its thread) is posted, then the bot dies.
    app.slack.hang_nth("chat.postMessage", 2, Hang::AfterEffect);
    app.kill_worker_when(app.slack.wait_until_hung()).await;
    assert_eq!(app.slack.messages().len(), 2, "Slack has the first two");
    lease_runs_out(&app).await;
    app.drain_jobs().await;
    assert_eq!(app.slack.posts_to("#general").len(), 5);
    assert!(app.slack.calls_to("conversations.replies") >= 1, "looked in the thread");
}

#[tokio::test]
async fn a_one_time_download_is_fetched_once_though_the_upload_is_retried() {
    let app = app().await;
    let link = app
        .looker
        .add_download("d1", "application/pdf", crate::fake_looker::PDF.to_vec());
    app.slack.fail_next("files.getUploadURLExternal", Failure::Status(503));
    let body = json!({"type": "dashboard",
        "scheduled_plan": {"scheduled_plan_id": 704, "title": "Weekly KPIs", "type": "Dashboard",
                           "url": format!("{}/dashboards/12", app.looker.web_url), "download_url": link},
        "attachment": null});
    app.deliver("/slack/post/channel/general", &body).await;
    let outcomes = settled(app.drain_jobs().await);
    assert!(
        matches!(outcomes[..], [Outcome::Retrying { .. }, Outcome::Done]),
        "{outcomes:?}"
    );
    assert_eq!(app.looker.fetched_downloads(), 1);
    let files = app.slack.files();
    let shared: Vec<_> = files.iter().filter(|f| f.shared_to.is_some()).collect();
    assert_eq!(shared.len(), 1);
    assert_eq!(shared[0].bytes.as_deref(), Some(crate::fake_looker::PDF));
    assert_eq!(shared[0].filename, "Weekly_KPIs.pdf");
}
