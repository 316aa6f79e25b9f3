//! `GET /metrics`: off unless an operator turns it on, behind a bearer token (or open on a
//! private network), and what it shows after a delivery: requests by route template, jobs by kind
//! and state, job runs, Slack and Looker calls, never a token or a channel name.

use crate::fake_slack::BOT_TOKEN;
use crate::helpers::*;

const METRICS_TOKEN: &str = "metrics-scrape-token";

async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, String) {
    let mut request = app.http.get(format!("{}/metrics", app.address));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The value of the sample `name{labels}` whose labels include all of `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|line| line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} ")))
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn metrics_are_off_unless_turned_on() {
    let app = spawn_app().await;
    let (status, body) = scrape(&app, None).await;
    assert_eq!(status, 404);
    assert!(body.contains("LOOKERBOT_METRICS_TOKEN"), "{body}");
}

#[tokio::test]
async fn metrics_need_their_token_and_show_a_delivery_without_secrets() {
    let app = spawn_app_with(|s| s.lookerbot_metrics_token = Some(METRICS_TOKEN.into())).await;
    for token in [None, Some("wrong"), Some("metrics-scrape-tokeN")] {
        let (status, body) = scrape(&app, token).await;
        assert_eq!(status, 401, "{token:?}");
        assert!(!body.contains("lookerbot_"), "nothing shown without the token");
    }
    app.looker.add_look(
        "7",
        "Orders by Status",
        query("q7", "table"),
        status_counts(&[("a", 1)]),
    );
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders by Status", None),
    )
    .await;
    let (status, before) = scrape(&app, Some(METRICS_TOKEN)).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(
        sample(
            &before,
            "lookerbot_jobs",
            &[r#"kind="looker_delivery""#, r#"state="queued""#]
        ),
        Some(1.0)
    );
    app.drain_jobs().await;

    let (_, text) = scrape(&app, Some(METRICS_TOKEN)).await;
    assert_eq!(
        sample(
            &text,
            "lookerbot_jobs",
            &[r#"kind="looker_delivery""#, r#"state="queued""#]
        ),
        Some(0.0)
    );
    assert_eq!(sample(&text, "lookerbot_store_up", &[]), Some(1.0));
    let webhook = [r#"route="/slack/post/{kind}/{name}""#, r#"status="200""#];
    assert!(
        sample(&text, "lookerbot_http_requests_total", &webhook).unwrap() >= 1.0,
        "{text}"
    );
    assert!(
        text.contains("lookerbot_http_request_duration_seconds_bucket"),
        "a histogram: {text}"
    );
    assert!(
        sample(
            &text,
            "lookerbot_job_latency_seconds_count",
            &[r#"kind="looker_delivery""#]
        )
        .unwrap()
            >= 1.0,
        "{text}"
    );
    let done = [r#"kind="looker_delivery""#, r#"outcome="done""#];
    assert!(
        sample(&text, "lookerbot_job_runs_total", &done).unwrap() >= 1.0,
        "{text}"
    );
    let posted = [r#"method="chat.postMessage""#, r#"result="ok""#];
    assert!(
        sample(&text, "lookerbot_slack_calls_total", &posted).unwrap() >= 1.0,
        "{text}"
    );
    let ran = [r#"call="GET queries/{id}/run/json_detail""#, r#"status="200""#];
    assert!(
        sample(&text, "lookerbot_looker_calls_total", &ran).unwrap() >= 1.0,
        "{text}"
    );
    assert!(
        sample(&text, "lookerbot_looker_queries_in_flight", &[]).is_some(),
        "{text}"
    );
    for secret in [
        BOT_TOKEN,
        METRICS_TOKEN,
        SIGNING_SECRET,
        crate::fake_looker::CLIENT_SECRET,
        "#general",
        "q7",
    ] {
        assert!(!text.contains(secret), "{secret} is not in the metrics");
    }
}

#[tokio::test]
async fn metrics_can_be_open_on_a_private_network() {
    let app = spawn_app_with(|s| s.lookerbot_metrics_open = Some("true".into())).await;
    let (status, text) = scrape(&app, None).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("lookerbot_store_up 1"), "{text}");
}

#[tokio::test]
async fn ten_thousand_distinct_paths_add_no_series() {
    use futures_util::StreamExt;
    let app = spawn_app_with(|s| s.lookerbot_metrics_token = Some(METRICS_TOKEN.into())).await;
    // Unknown paths, and known routes with a different channel, person or id each time.
    let paths: Vec<String> = (0..10_000)
        .map(|n| match n % 4 {
            0 => format!("/probe-{n}/wp-admin.php"),
            1 => format!("/slack/post/channel/probe-{n}"),
            2 => format!("/slack/post/dm/probe-{n}"),
            _ => format!("/actions/probe-{n}/execute"),
        })
        .collect();
    let statuses: Vec<u16> = futures_util::stream::iter(paths)
        .map(|path| {
            let request = app.http.post(format!("{}{path}", app.address)).body("{}");
            async move { request.send().await.map(|r| r.status().as_u16()).unwrap_or(0) }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| (400..500).contains(s)), "refused, never failed");
    let (_, body) = scrape(&app, Some(METRICS_TOKEN)).await;
    let routes: std::collections::BTreeSet<&str> = body
        .lines()
        .filter(|l| l.starts_with("lookerbot_http_requests_total{"))
        .filter_map(|l| l.split("route=\"").nth(1)?.split('"').next())
        .collect();
    assert!(routes.iter().all(|r| !r.contains("probe")), "{routes:?}");
    assert!(
        routes.contains("unmatched") && routes.contains("/slack/post/{kind}/{name}"),
        "{routes:?}"
    );
    assert!(routes.len() < 40, "one series per route template: {routes:?}");
}

#[tokio::test]
async fn every_metric_has_help_and_every_job_kind_shows_from_the_first_scrape() {
    let app = spawn_app_with(|s| s.lookerbot_metrics_token = Some(METRICS_TOKEN.into())).await;
    // A drained queue before its first scrape: every kind still reads 0, not "no data".
    let (status, text) = scrape(&app, Some(METRICS_TOKEN)).await;
    assert_eq!(status, 200, "{text}");
    for kind in ["looker_delivery", "command"] {
        for state in ["queued", "running", "dead"] {
            let value = sample(
                &text,
                "lookerbot_jobs",
                &[&format!("kind=\"{kind}\""), &format!("state=\"{state}\"")],
            );
            assert_eq!(value, Some(0.0), "{kind} {state} in:\n{text}");
        }
    }
    // What promtool's lint asks: a HELP line for every metric family shown.
    let families: std::collections::BTreeSet<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(families.contains("lookerbot_jobs"), "{text}");
    for family in families {
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "no HELP for {family}:\n{text}"
        );
    }
}
