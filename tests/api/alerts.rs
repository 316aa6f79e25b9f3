//! Failed deliveries reported in the alerts channel: once each, grouped when many fail
//! together, with what, where to, why and how to run them again; and again if a retried one
//! fails again.

use lookerbot::features::alerts::report_new_failures;
use lookerbot::queue::Outcome;

use crate::fake_slack::Channel;
use crate::helpers::*;

#[tokio::test]
async fn failures_that_come_together_are_reported_once_in_one_message() {
    let app = spawn_app_with(|s| s.lookerbot_alerts_channel = Some("#ops".into())).await;
    app.slack.add_channel(Channel::public("C0000000OPS", "ops"));
    app.looker
        .add_look("7", "Daily Orders", query("q7", "table"), status_counts(&[("a", 1)]));
    for _ in 0..12 {
        app.deliver(
            "/slack/post/channel/nowhere",
            &look_webhook(&app.looker, "7", "Daily Orders", None),
        )
        .await;
    }
    app.drain_jobs().await;
    assert_eq!(app.dead_jobs().await.len(), 12);

    assert_eq!(report_new_failures(&app.bot, "#ops").await.unwrap(), 12);
    assert_eq!(
        report_new_failures(&app.bot, "#ops").await.unwrap(),
        0,
        "each failure once"
    );
    assert_eq!(app.drain_jobs().await, [Outcome::Done]);
    let reports = app.slack.posts_to("#ops");
    assert_eq!(reports.len(), 1, "one message for twelve failures");
    let text = reports[0].all_text();
    assert!(text.contains("12 deliveries failed for good"), "{text}");
    assert!(
        text.contains("scheduled Look 'Daily Orders' to #nowhere"),
        "what and where: {text}"
    );
    assert!(text.contains("no channel named #nowhere"), "why: {text}");
    assert!(text.contains("…and 2 more"), "{text}");
    assert!(
        text.contains("lookerbot jobs retry --all-failed"),
        "how to retry: {text}"
    );

    // One is run again and fails again: it is reported again, on its own.
    let id = app.dead_jobs().await[0].id;
    assert_eq!(
        app.store
            .revive(Some(id), lookerbot::store::now_millis())
            .await
            .unwrap(),
        1
    );
    assert_eq!(app.drain_jobs().await, [Outcome::Dead]);
    assert_eq!(report_new_failures(&app.bot, "#ops").await.unwrap(), 1);
    app.drain_jobs().await;
    let reports = app.slack.posts_to("#ops");
    assert_eq!(reports.len(), 2);
    assert!(
        reports[1].all_text().contains("A delivery failed for good"),
        "{}",
        reports[1].all_text()
    );
    assert!(
        app.dead_jobs().await.iter().all(|job| job.kind == "looker_delivery"),
        "the reports themselves succeeded"
    );
}

#[tokio::test]
async fn answers_to_people_are_not_reported() {
    let app = spawn_app_with(|s| s.lookerbot_alerts_channel = Some("#ops".into())).await;
    app.slack.add_channel(Channel::public("C0000000OPS", "ops"));
    app.slack
        .fail_next("chat.postMessage", crate::fake_slack::Failure::Error("not_in_channel"));
    let body = "token=x&team_id=T000000ACME&channel_id=C0000GENERAL&user_id=U000000ALICE&command=%2Flooker&text=look+7&response_url=https%3A%2F%2Fhooks.slack.com%2Fx&trigger_id=1.2.3";
    let signed = (lookerbot::store::now_millis() / 1000, SIGNING_SECRET);
    app.post_signed("/slack/receive", "application/x-www-form-urlencoded", body, signed, &[])
        .await;
    app.drain_jobs().await;
    let dead = app.dead_jobs().await;
    assert_eq!(
        dead.iter().map(|j| j.kind.as_str()).collect::<Vec<_>>(),
        ["command"],
        "the asker was told instead"
    );
    assert_eq!(report_new_failures(&app.bot, "#ops").await.unwrap(), 0);
}

#[tokio::test]
async fn failures_a_day_old_when_first_seen_are_not_reported() {
    use lookerbot::store::{NewJob, Priority, now_millis};
    let app = spawn_app_with(|s| s.lookerbot_alerts_channel = Some("#ops".into())).await;
    app.slack.add_channel(Channel::public("C0000000OPS", "ops"));
    // A delivery that failed two days ago, before the alerts channel was set.
    let two_days_ago = now_millis() - 2 * 24 * 3600 * 1000;
    let old = NewJob {
        kind: "looker_delivery".into(),
        payload: "{}".into(),
        summary: "scheduled Look 'Old' to #gone".into(),
        dedupe_key: None,
        max_attempts: 1,
        priority: Priority::Scheduled,
        delay: std::time::Duration::ZERO,
        lane: None,
    };
    app.store.enqueue(old, two_days_ago).await.unwrap();
    let lease = std::time::Duration::from_secs(60);
    let claimed = app.store.claim("w", two_days_ago, lease, &[]).await.unwrap().unwrap();
    app.store
        .bury(claimed.id, "w", "channel_not_found", two_days_ago)
        .await
        .unwrap();

    assert_eq!(report_new_failures(&app.bot, "#ops").await.unwrap(), 0);
    assert!(app.drain_jobs().await.is_empty(), "no report");
    assert_eq!(
        report_new_failures(&app.bot, "#ops").await.unwrap(),
        0,
        "and not later either"
    );
    assert_eq!(app.dead_jobs().await.len(), 1, "still listed for operators");
}
