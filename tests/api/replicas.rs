//! Several replicas on one PostgreSQL database: the same Slack event given to two of them at once
//! is answered once, a delivery whose replica dies mid-post is finished, once, by another, and
//! replicas posting to one channel keep Slack's pace for it together.
//! Runs where PostgreSQL is (`LOOKERBOT_TEST_POSTGRES_URL`, which `.ci/run` sets and which then
//! must answer, else the local default); each test has its own schema.

use std::sync::Arc;
use std::time::Duration;

use lookerbot::queue::Outcome;
use lookerbot::store::{JobState, now_millis};
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;

use crate::fake_looker::FakeLooker;
use crate::fake_slack::{FakeSlack, Hang};
use crate::helpers::*;

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A schema of its own on the test PostgreSQL, as a `DATABASE_URL`; `None` (with a note) when no
/// PostgreSQL is there and none was required.
async fn postgres_database(test: &str) -> Option<String> {
    let required = std::env::var("LOOKERBOT_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let url = required.clone().unwrap_or_else(|| DEFAULT_POSTGRES.into());
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(3))
        .connect(&url)
        .await;
    let pool = match pool {
        Ok(pool) => pool,
        Err(error) if required.is_some() => panic!("PostgreSQL at LOOKERBOT_TEST_POSTGRES_URL: {error}"),
        Err(_) => {
            eprintln!("note: no PostgreSQL at {DEFAULT_POSTGRES}; {test} is skipped");
            return None;
        }
    };
    let schema = format!("lookerbot_api_{test}_{}", std::process::id());
    for sql in [
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
    ] {
        sqlx::query(&sql).execute(&pool).await.unwrap();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{separator}options[search_path]={schema}"))
}

/// A replica: the real app on this database, against the shared fakes.
async fn replica(slack: &FakeSlack, looker: &FakeLooker, url: &str, workers: &str) -> TestApp {
    let mut raw = test_settings(slack, looker, url);
    raw.lookerbot_workers = Some(workers.into());
    raw.lookerbot_job_lease_secs = Some("2".into());
    start(
        raw,
        slack.clone(),
        looker.clone(),
        Arc::new(tempfile::tempdir().unwrap()),
    )
    .await
}

fn mention_event(n: usize) -> Value {
    let ts = format!("1700000{n:03}.000100");
    json!({"token": "legacy", "team_id": "T000000ACME", "api_app_id": "A0000000APP", "type": "event_callback",
           "event_id": format!("EvReplica{n}"), "event_time": 1_700_000_000,
           "authorizations": [{"team_id": "T000000ACME", "user_id": "U0000000BOT", "is_bot": true}],
           "event": {"type": "app_mention", "user": "U000000ALICE", "text": "<@U0000000BOT> look 7",
                     "ts": ts, "channel": "C0000GENERAL", "event_ts": ts}})
}

#[tokio::test]
async fn the_same_event_given_to_two_replicas_at_once_is_answered_once() {
    let Some(url) = postgres_database("same_event").await else {
        return;
    };
    let (slack, looker) = (FakeSlack::start().await, FakeLooker::start().await);
    looker.add_look(
        "7",
        "Orders by Status",
        query("q7", "table"),
        status_counts(&[("a", 1)]),
    );
    let first = replica(&slack, &looker, &url, "2").await;
    let second = replica(&slack, &looker, &url, "2").await;
    let events = 5;
    let mut sends = tokio::task::JoinSet::new();
    for n in 0..events {
        let body = mention_event(n).to_string();
        // Each event to both replicas at once, and Slack's retry of it to the second.
        for (replica, retry) in [(&first, None), (&second, None), (&second, Some("1"))] {
            let (address, http, body) = (replica.address.clone(), replica.http.clone(), body.clone());
            sends.spawn(async move {
                let timestamp = now_millis() / 1000;
                let mut request = http
                    .post(format!("{address}/slack/events"))
                    .header("Content-Type", "application/json")
                    .header("X-Slack-Request-Timestamp", timestamp.to_string())
                    .header(
                        "X-Slack-Signature",
                        slack_signature(SIGNING_SECRET, timestamp, body.as_bytes()),
                    );
                if let Some(retry) = retry {
                    request = request
                        .header("X-Slack-Retry-Num", retry)
                        .header("X-Slack-Retry-Reason", "http_timeout");
                }
                request.body(body).send().await.unwrap().status()
            });
        }
    }
    assert!(sends.join_all().await.iter().all(|status| *status == 200));

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while first
        .store
        .list(false, 100)
        .await
        .unwrap()
        .iter()
        .any(|j| j.state != JobState::Dead)
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(first.jobs().await.is_empty(), "all answered: {:?}", first.jobs().await);
    let answers = slack.posts_to("C0000GENERAL");
    assert_eq!(answers.len(), events, "one answer per event: {answers:?}");
    let runs = looker
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET /queries/q7/run/"))
        .count();
    assert_eq!(runs, events, "each question asked of Looker once");
}

#[tokio::test]
async fn a_delivery_whose_replica_dies_after_posting_is_finished_once_by_another() {
    let Some(url) = postgres_database("replica_dies").await else {
        return;
    };
    let (slack, looker) = (FakeSlack::start().await, FakeLooker::start().await);
    looker.add_look(
        "7",
        "Orders by Status",
        query("q7", "table"),
        status_counts(&[("a", 1), ("b", 2)]),
    );
    let mut dying = replica(&slack, &looker, &url, "0").await;
    dying
        .deliver(
            "/slack/post/channel/general",
            &look_webhook(&looker, "7", "Orders by Status", None),
        )
        .await;
    // The first replica's worker posts, and dies before it learns Slack's answer.
    slack.hang_next("chat.postMessage", Hang::AfterEffect);
    dying.kill_worker_when(slack.wait_until_hung()).await;
    dying.kill().await;
    assert_eq!(slack.posts_to("#general").len(), 1, "Slack has the post");

    // Another replica takes the job over once its lease runs out, finds the post, and finishes.
    let survivor = replica(&slack, &looker, &url, "0").await;
    assert_eq!(survivor.drain_jobs().await, [], "leased by the dead replica for now");
    tokio::time::sleep(survivor.settings.jobs.lease + Duration::from_millis(200)).await;
    // It gives the dead replica's post 5 s to land (a deferral), then looks for it.
    let outcomes = survivor.drain_jobs().await;
    assert_eq!(outcomes.last(), Some(&Outcome::Done), "{outcomes:?}");
    assert!(
        outcomes[..outcomes.len() - 1]
            .iter()
            .all(|o| matches!(o, Outcome::Deferred { .. }))
    );
    assert_eq!(slack.posts_to("#general").len(), 1, "not posted again");
    assert!(survivor.jobs().await.is_empty());
}

#[tokio::test]
async fn two_replicas_posting_to_one_channel_keep_one_pace() {
    let Some(url) = postgres_database("shared_pace").await else {
        return;
    };
    let (slack, looker) = (FakeSlack::start().await, FakeLooker::start().await);
    looker.add_look(
        "7",
        "Orders by Status",
        query("q7", "table"),
        status_counts(&[("a", 1)]),
    );
    // Slack's pace for one channel: one post a second after a burst of three; past it, 429.
    slack.enforce_pace(Duration::from_secs(1), 3);
    let first = replica(&slack, &looker, &url, "4").await;
    let second = replica(&slack, &looker, &url, "4").await;
    let deliveries = 8;
    for n in 0..deliveries {
        let replica = if n % 2 == 0 { &first } else { &second };
        let webhook = look_webhook(&looker, "7", &format!("Orders {n}"), None);
        replica.deliver("/slack/post/channel/general", &webhook).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while slack.posts_to("#general").len() < deliveries && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let jobs = first.jobs().await;
    assert_eq!(
        slack.posts_to("#general").len(),
        deliveries,
        "each delivered once: {jobs:?}"
    );
    let stats = slack.stats();
    assert_eq!(stats.rate_limited, 0, "the replicas shared the channel's pace");
    assert!(stats.most_posts_in_a_second <= 3, "{}", stats.most_posts_in_a_second);
}

#[tokio::test]
async fn migrate_brings_a_postgres_database_up_to_date_and_check_reports_it() {
    let Some(url) = postgres_database("migrate").await else {
        return;
    };
    let (slack, looker) = (FakeSlack::start().await, FakeLooker::start().await);
    let raw = test_settings(&slack, &looker, &url);
    let run = |command: &'static str| {
        let mut process = tokio::process::Command::new(env!("CARGO_BIN_EXE_lookerbot"));
        process
            .env_clear()
            .env("SLACK_API_KEY", raw.slack_api_key.clone().unwrap())
            .env("SLACK_SIGNING_SECRET", SIGNING_SECRET)
            .env("SLACK_API_BASE_URL", raw.slack_api_base_url.clone().unwrap())
            .env("LOOKER_URL", raw.looker_url.clone().unwrap())
            .env("LOOKER_API_BASE_URL", raw.looker_api_base_url.clone().unwrap())
            .env("LOOKER_API_CLIENT_ID", raw.looker_api_client_id.clone().unwrap())
            .env(
                "LOOKER_API_CLIENT_SECRET",
                raw.looker_api_client_secret.clone().unwrap(),
            )
            .env("DATABASE_URL", &url)
            .arg(command);
        async move {
            let output = process.output().await.unwrap();
            (
                output.status.success(),
                String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr),
            )
        }
    };
    let (ok, before) = run("check").await;
    assert!(ok, "{before}");
    assert!(before.contains("migration(s) to apply"), "{before}");
    let (ok, migrated) = run("migrate").await;
    assert!(ok && migrated.contains("Applied"), "{migrated}");
    let (ok, again) = run("migrate").await;
    assert!(ok && again.contains("up to date"), "{again}");
    let (ok, after) = run("check").await;
    assert!(ok && after.contains("schema up to date"), "{after}");
    assert!(!after.contains("postgres://"), "the URL is not echoed: {after}");
}
