//! The delivery engine under load, from outside: a person's question goes before a burst of
//! scheduled deliveries, one slow Looker leaves workers to the others, a channel Slack holds back
//! does not stall the other channels, a Looker's per-instance limit is kept as well as its
//! per-user one, and `lookerbot jobs` can say what a job waits for.

use std::time::Duration;

use serde_json::json;

use crate::fake_looker::{CLIENT_ID, CLIENT_SECRET, FakeLooker};
use crate::fake_slack::{Channel, Failure};
use crate::helpers::*;

fn add_channels(app: &TestApp, prefix: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|n| {
            let name = format!("{prefix}-{n:02}");
            let id = format!("C{:0>10}", format!("{}{n:02}", prefix.to_uppercase()));
            app.slack.add_channel(Channel::public(&id, &name));
            name
        })
        .collect()
}

async fn until(what: &str, within: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_persons_question_is_answered_before_a_burst_of_scheduled_deliveries() {
    let app = spawn_app_with(|s| {
        s.lookerbot_workers = Some("8".into());
        s.looker_max_queries = Some("2".into());
    })
    .await;
    app.looker.set_query_delay(Duration::from_secs(2));
    app.looker.add_look(
        "7",
        "Orders by Status",
        query("q7", "table"),
        status_counts(&[("a", 1)]),
    );
    let channels = add_channels(&app, "burst", 20);
    for name in &channels {
        let webhook = look_webhook(&app.looker, "7", "Orders by Status", None);
        app.deliver(&format!("/slack/post/channel/{name}"), &webhook).await;
    }
    // 20 queries two at a time take 20 s; the question needs one slot (at most 2 s away) and
    // one query, where behind the deliveries already waiting for slots it would take 8 s.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asked = tokio::time::Instant::now();
    send_slash(&app, "U000000ALICE", "look 7").await;
    until("the answer", Duration::from_secs(20), async || {
        !app.slack.posts_to("#general").is_empty()
    })
    .await;
    let answered_in = asked.elapsed();
    let delivered = channels
        .iter()
        .filter(|c| !app.slack.posts_to(&format!("#{c}")).is_empty())
        .count();
    assert!(answered_in < Duration::from_secs(5), "answered after {answered_in:?}");
    assert!(
        delivered < 8,
        "the question went first ({delivered} delivered before it)"
    );
    until("the burst", Duration::from_secs(60), async || {
        app.jobs().await.is_empty()
    })
    .await;
    assert_eq!(app.looker.most_queries_running(), 2, "never over the Looker's limit");
}

#[tokio::test]
async fn one_slow_looker_leaves_workers_to_another() {
    let fast = FakeLooker::start().await;
    let app = spawn_app_with(|s| {
        let (web, api) = (s.looker_url.take().unwrap(), s.looker_api_base_url.take().unwrap());
        s.lookerbot_workers = Some("6".into());
        s.looker_webhook_token = None;
        s.lookers = Some(
            json!([
                {"url": web, "apiBaseUrl": api, "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
                 "maxQueries": 1, "webhookToken": WEBHOOK_TOKEN},
                {"url": fast.web_url, "apiBaseUrl": fast.api_url, "clientId": CLIENT_ID,
                 "clientSecret": CLIENT_SECRET, "webhookToken": "fast-looker-token"}
            ])
            .to_string(),
        );
    })
    .await;
    let slow = &app.looker;
    slow.set_query_delay(Duration::from_secs(2));
    for looker in [slow, &fast] {
        looker.add_look(
            "7",
            "Orders by Status",
            query("q7", "table"),
            status_counts(&[("a", 1)]),
        );
    }
    let channels = add_channels(&app, "slow", 12);
    app.slack.add_channel(Channel::public("C0000000FAST", "fast"));
    for name in &channels {
        let webhook = look_webhook(slow, "7", "Orders by Status", None);
        app.deliver(&format!("/slack/post/channel/{name}"), &webhook).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = tokio::time::Instant::now();
    let webhook = look_webhook(&fast, "7", "Orders by Status", None);
    let token = [("X-Looker-Webhook-Token", "fast-looker-token")];
    fast.plan_behind(&format!("{}/slack/post/channel/fast", app.address), &webhook);
    let accepted = app.post_webhook("/slack/post/channel/fast", &webhook, &token).await;
    assert_eq!(accepted.status(), 200);
    until("the other Looker's delivery", Duration::from_secs(20), async || {
        !app.slack.posts_to("#fast").is_empty()
    })
    .await;
    // Six workers all waiting on the slow Looker's one slot would take 2 s a delivery.
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "delivered after {:?}",
        sent.elapsed()
    );
    let slow_done = channels
        .iter()
        .filter(|c| !app.slack.posts_to(&format!("#{c}")).is_empty())
        .count();
    assert!(
        slow_done < channels.len(),
        "it did not wait for the slow Looker's burst"
    );
}

#[tokio::test]
async fn a_channel_slack_holds_back_does_not_stall_the_others_and_is_delivered_later() {
    let app = spawn_app_with(|s| s.lookerbot_workers = Some("4".into())).await;
    app.looker.add_look(
        "7",
        "Orders by Status",
        query("q7", "table"),
        status_counts(&[("a", 1)]),
    );
    let channels = add_channels(&app, "held", 4);
    // Slack asks for 40 s on the first post: longer than a job waits holding a worker.
    app.slack.fail_next("chat.postMessage", Failure::RateLimited(40));
    let webhook = look_webhook(&app.looker, "7", "Orders by Status", None);
    app.deliver(&format!("/slack/post/channel/{}", channels[0]), &webhook)
        .await;
    until("the 429", Duration::from_secs(10), async || {
        app.slack.calls_to("chat.postMessage") >= 1
    })
    .await;
    let sent = tokio::time::Instant::now();
    for name in &channels[1..] {
        app.deliver(&format!("/slack/post/channel/{name}"), &webhook).await;
    }
    until("the other channels", Duration::from_secs(10), async || {
        channels[1..]
            .iter()
            .all(|c| !app.slack.posts_to(&format!("#{c}")).is_empty())
    })
    .await;
    assert!(sent.elapsed() < Duration::from_secs(5), "after {:?}", sent.elapsed());
    let held = app.jobs().await;
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0].attempts, 0, "waiting its turn is not a failed attempt");
    let waiting = held[0].waiting.as_deref().unwrap_or_default();
    assert!(waiting.contains("Slack's pace in C"), "{waiting}");
    until("the held channel", Duration::from_secs(60), async || {
        app.jobs().await.is_empty()
    })
    .await;
    assert_eq!(app.slack.posts_to(&format!("#{}", channels[0])).len(), 1);
}

#[tokio::test]
async fn a_lookers_per_instance_limit_is_kept_below_its_per_user_one() {
    let app = spawn_app_with(|s| {
        s.lookerbot_workers = Some("12".into());
        s.looker_max_queries = Some("6".into());
        s.looker_max_instance_queries = Some("3".into());
    })
    .await;
    app.looker.set_query_delay(Duration::from_millis(300));
    app.looker.add_look(
        "7",
        "Orders by Status",
        query("q7", "table"),
        status_counts(&[("a", 1)]),
    );
    let channels = add_channels(&app, "inst", 12);
    for name in &channels {
        let webhook = look_webhook(&app.looker, "7", "Orders by Status", None);
        app.deliver(&format!("/slack/post/channel/{name}"), &webhook).await;
    }
    until("the burst", Duration::from_secs(60), async || {
        app.jobs().await.is_empty()
    })
    .await;
    assert_eq!(app.looker.most_queries_running(), 3);
}

#[tokio::test]
async fn a_job_waiting_for_a_query_slot_says_so() {
    let app = spawn_app_with(|s| {
        s.lookerbot_workers = Some("4".into());
        s.looker_max_queries = Some("1".into());
    })
    .await;
    app.looker.set_query_delay(Duration::from_secs(3));
    app.looker.add_look(
        "7",
        "Orders by Status",
        query("q7", "table"),
        status_counts(&[("a", 1)]),
    );
    let channels = add_channels(&app, "slot", 2);
    for name in &channels {
        let webhook = look_webhook(&app.looker, "7", "Orders by Status", None);
        app.deliver(&format!("/slack/post/channel/{name}"), &webhook).await;
    }
    until("a job to say what it waits for", Duration::from_secs(5), async || {
        app.jobs().await.iter().any(|j| {
            j.waiting
                .as_deref()
                .is_some_and(|w| w.starts_with("waiting for a query slot on"))
        })
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_lookerbot"))
        .env_clear()
        .current_dir(dir.path())
        .env("DATABASE_URL", &app.database_url)
        .arg("jobs")
        .output()
        .await
        .unwrap();
    let listing = String::from_utf8_lossy(&output.stdout);
    assert!(
        listing.contains("└ now waiting for a query slot on 127.0.0.1"),
        "{listing}"
    );
    until("both", Duration::from_secs(20), async || app.jobs().await.is_empty()).await;
}
