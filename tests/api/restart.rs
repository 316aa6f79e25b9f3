//! A stopped or killed process loses nothing: jobs wait in the database for the next start.

use std::time::Duration;

use lookerbot::store::JobState;

use crate::helpers::*;

async fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_job_interrupted_by_a_crash_is_finished_by_the_next_start() {
    let lease = |s: &mut lookerbot::config::RawSettings| {
        s.lookerbot_workers = Some("1".into());
        s.lookerbot_job_lease_secs = Some("2".into());
    };
    let mut first = spawn_app_with(lease).await;
    first.looker.add_look(
        "7",
        "Orders",
        query("q7", "table"),
        status_counts(&[("a", 1), ("b", 2)]),
    );
    first.looker.set_query_delay(Duration::from_secs(3));
    first
        .deliver(
            "/slack/post/channel/general",
            &look_webhook(&first.looker, "7", "Orders", None),
        )
        .await;

    // The background worker is mid-way through the slow Looker query when the process dies.
    let looker = first.looker.clone();
    wait_for("the query to start", || {
        looker.requests().iter().any(|r| r.contains("/run/json_detail"))
    })
    .await;
    first.kill().await;
    assert!(first.slack.messages().is_empty());

    let (slack, looker, dir) = first.parts();
    looker.set_query_delay(Duration::ZERO);
    let mut raw = test_settings(&slack, &looker, &first.database_url);
    lease(&mut raw);
    let second = start(raw, slack.clone(), looker, dir).await;
    wait_for("the delivery after restart", || !slack.messages().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(slack.messages().len(), 1, "delivered exactly once");
    assert!(second.jobs().await.is_empty(), "the job is done");
}

#[tokio::test]
async fn a_graceful_stop_leaves_queued_jobs_for_the_next_start() {
    let mut first = spawn_app().await;
    first.looker.add_look(
        "7",
        "Orders",
        query("q7", "table"),
        status_counts(&[("a", 1), ("b", 2)]),
    );
    first
        .deliver(
            "/slack/post/channel/general",
            &look_webhook(&first.looker, "7", "Orders", None),
        )
        .await;
    first.stop().await;
    let response = first.http.get(format!("{}/health_check", first.address)).send().await;
    assert!(response.is_err(), "the server no longer accepts requests");

    let (slack, looker, dir) = first.parts();
    let raw = test_settings(&slack, &looker, &first.database_url);
    let second = start(raw, slack.clone(), looker, dir).await;
    let jobs = second.jobs().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].state, JobState::Queued);
    second.drain_jobs().await;
    assert_eq!(slack.messages().len(), 1);
}
