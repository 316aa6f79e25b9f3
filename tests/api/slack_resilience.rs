//! Slack failing the way it does: rate limits, 5xx, permanent errors that end in the dead state.

use lookerbot::queue::Outcome;

use crate::fake_slack::Failure;
use crate::helpers::*;

async fn app_with_look() -> TestApp {
    let app = spawn_app().await;
    app.looker.add_look(
        "7",
        "Orders",
        query("q7", "table"),
        status_counts(&[("a", 1), ("b", 2)]),
    );
    app
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_as_retry_after_asks() {
    let app = app_with_look().await;
    app.slack.fail_next("chat.postMessage", Failure::RateLimited(1));
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders", None),
    )
    .await;
    let started = std::time::Instant::now();
    let outcomes = app.drain_jobs().await;
    assert_eq!(outcomes, [Outcome::Done]);
    assert!(started.elapsed().as_millis() >= 1000, "waited Retry-After");
    assert_eq!(app.slack.calls_to("chat.postMessage"), 2);
    assert_eq!(app.slack.messages().len(), 1);
}

#[tokio::test]
async fn a_slack_outage_is_retried_by_the_queue() {
    let app = app_with_look().await;
    app.slack.fail_next("chat.postMessage", Failure::Status(503));
    app.slack
        .fail_next("chat.postMessage", Failure::Error("internal_error"));
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders", None),
    )
    .await;
    let outcomes = app.drain_jobs().await;
    assert!(
        matches!(
            outcomes[..],
            [Outcome::Retrying { .. }, Outcome::Retrying { .. }, Outcome::Done]
        ),
        "{outcomes:?}"
    );
    assert_eq!(app.slack.messages().len(), 1);
}

#[tokio::test]
async fn an_unknown_channel_is_a_dead_job_with_a_reason() {
    let app = app_with_look().await;
    app.deliver(
        "/slack/post/channel/no-such-channel",
        &look_webhook(&app.looker, "7", "Orders", None),
    )
    .await;
    assert_eq!(app.drain_jobs().await, [Outcome::Dead]);
    assert!(app.slack.messages().is_empty());
    let dead = &app.dead_jobs().await[0];
    assert!(
        dead.last_error
            .as_deref()
            .unwrap()
            .contains("no channel named #no-such-channel")
    );
    assert_eq!(
        app.looker.requests(),
        ["GET /scheduled_plans/91"],
        "Looker is asked only whether the schedule is real, not for a delivery that cannot land"
    );
}

#[tokio::test]
async fn not_in_channel_is_permanent_and_says_what_to_do() {
    let app = app_with_look().await;
    app.slack
        .fail_next("chat.postMessage", Failure::Error("not_in_channel"));
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders", None),
    )
    .await;
    assert_eq!(app.drain_jobs().await, [Outcome::Dead]);
    let error = app.dead_jobs().await[0].last_error.clone().unwrap();
    assert!(
        error.contains("not_in_channel") && error.contains("invite the bot"),
        "{error}"
    );
}

#[tokio::test]
async fn attempts_run_out_into_the_dead_state() {
    let app = app_with_look().await;
    for _ in 0..4 {
        app.slack.fail_next("chat.postMessage", Failure::Status(500));
    }
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders", None),
    )
    .await;
    let outcomes = app.drain_jobs().await;
    assert_eq!(outcomes.len(), 4, "max attempts is 4 in tests");
    assert_eq!(outcomes.last(), Some(&Outcome::Dead));
    let dead = &app.dead_jobs().await[0];
    assert_eq!(dead.attempts, 4);
    assert!(dead.last_error.as_deref().unwrap().contains("HTTP 500"));
    assert!(app.slack.messages().is_empty());
}

#[tokio::test]
async fn posts_to_one_channel_are_paced_to_about_one_a_second_after_a_short_burst() {
    let app = app_with_look().await;
    for _ in 0..5 {
        app.deliver(
            "/slack/post/channel/general",
            &look_webhook(&app.looker, "7", "Orders", None),
        )
        .await;
    }
    app.deliver(
        "/slack/post/channel/random",
        &look_webhook(&app.looker, "7", "Orders", None),
    )
    .await;
    let started = std::time::Instant::now();
    app.drain_jobs().await;
    // A burst of three, then one a second: the fourth and fifth post to #general wait ~1 s each.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1800),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(app.slack.messages().len(), 6);
}

#[tokio::test]
async fn a_delivery_behind_a_held_channel_waits_its_turn_before_running_anything_on_looker() {
    let app = app_with_look().await;
    let never = tokio_util::sync::CancellationToken::new();
    // Slack holds #general for 40 s: longer than a job waits holding a worker.
    app.slack.fail_next("chat.postMessage", Failure::RateLimited(40));
    let webhook = look_webhook(&app.looker, "7", "Orders", None);
    app.deliver("/slack/post/channel/general", &webhook).await;
    let first = app.worker.run_next(&never).await.unwrap();
    assert!(matches!(first, Some(Outcome::Deferred { .. })), "{first:?}");
    let runs = || app.looker.requests().iter().filter(|r| r.contains("/run/")).count();
    assert_eq!(runs(), 1, "the first ran its Look, then met the 429");

    // The next delivery to #general goes back to wait before it costs Looker a query.
    app.deliver("/slack/post/channel/general", &webhook).await;
    let Some(Outcome::Deferred { in_ms }) = app.worker.run_next(&never).await.unwrap() else {
        panic!("sent back to wait its turn")
    };
    assert!(in_ms >= 35_000, "back when #general is free again: {in_ms} ms");
    assert_eq!(runs(), 1, "no query was run for a post that had to wait");
    assert_eq!(app.slack.calls_to("chat.postMessage"), 1);
    let jobs = app.jobs().await;
    assert!(
        jobs.iter().all(|j| j.attempts == 0),
        "waiting is no failed attempt: {jobs:?}"
    );

    // Another channel is not held back.
    app.deliver("/slack/post/channel/random", &webhook).await;
    assert_eq!(app.worker.run_next(&never).await.unwrap(), Some(Outcome::Done));
    assert_eq!(runs(), 2);
}
