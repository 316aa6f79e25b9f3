//! Charts Looker draws: render tasks polled to a deadline, the run/png fallback, a plain sentence
//! when Looker has no renderer, and the image kept as a private Slack upload by default.

use lookerbot::queue::Outcome;
use serde_json::json;

use crate::fake_looker::{PNG, Renderer};
use crate::helpers::*;

fn scatter(app: &TestApp) {
    let mut result = status_counts(&[("a", 1), ("b", 2), ("c", 3)]);
    result["fields"]["dimensions"][0]["is_numeric"] = json!(false);
    app.looker
        .add_look("7", "Orders Scatter", query("q7", "looker_scatter"), result);
}

#[tokio::test]
async fn a_chart_slack_cannot_draw_is_drawn_by_looker_and_uploaded_privately() {
    let app = spawn_app().await;
    scatter(&app);
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders Scatter", None),
    )
    .await;
    assert_eq!(app.drain_jobs().await, [Outcome::Done]);

    let calls = app.looker.render_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!((calls[0].target.as_str(), calls[0].format.as_str()), ("looks/7", "png"));
    assert!(calls[0].width.is_some() && calls[0].height.is_some());
    assert!(
        calls[0].body.is_null(),
        "Looker's spec defines no body for a Look's render task: {}",
        calls[0].body
    );
    let files = app.slack.files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].bytes.as_deref(), Some(PNG));
    assert_eq!(files[0].filename, "Orders_Scatter.png");
    assert_eq!(files[0].shared_to.as_deref(), Some("C0000GENERAL"));
    assert!(files[0].message().title().contains("Orders Scatter"));
    assert!(
        app.slack.messages().is_empty(),
        "the image and its title are one message"
    );
}

#[tokio::test]
async fn a_render_that_outlasts_the_deadline_is_explained_not_left_blank() {
    let app = spawn_app_with(|s| s.lookerbot_render_timeout_secs = Some("1".into())).await;
    scatter(&app);
    app.looker.set_renderer(Renderer::Available { polls: 1000 });
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders Scatter", None),
    )
    .await;
    assert_eq!(app.drain_jobs().await, [Outcome::Done]);
    let message = &app.slack.messages()[0];
    let text = message.all_text();
    assert!(
        text.contains("Looker took longer than 1 seconds to draw this chart"),
        "{text}"
    );
    assert!(app.slack.files().is_empty());
}

#[tokio::test]
async fn a_looker_without_a_renderer_gets_a_sentence_saying_what_to_enable() {
    let app = spawn_app().await;
    scatter(&app);
    app.looker.set_renderer(Renderer::Missing);
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders Scatter", None),
    )
    .await;
    app.drain_jobs().await;
    let text = app.slack.only_post_to("#general").all_text();
    assert!(
        text.contains("image renderer is not available") && text.contains("enable rendering"),
        "{text}"
    );
}

#[tokio::test]
async fn refused_render_tasks_fall_back_to_run_png() {
    let app = spawn_app().await;
    scatter(&app);
    app.looker.fail_next("render_tasks/looks", 404);
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders Scatter", None),
    )
    .await;
    app.drain_jobs().await;
    assert!(app.looker.requests().iter().any(|r| r == "GET /queries/q7/run/png"));
    assert_eq!(app.slack.files()[0].bytes.as_deref(), Some(PNG));
}

#[tokio::test]
async fn an_unavailable_looker_while_drawing_retries_the_whole_delivery() {
    let app = spawn_app().await;
    scatter(&app);
    app.looker.fail_next("render_tasks/looks", 503);
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders Scatter", None),
    )
    .await;
    let outcomes = app.drain_jobs().await;
    assert!(
        matches!(outcomes[..], [Outcome::Retrying { .. }, Outcome::Done]),
        "{outcomes:?}"
    );
    assert_eq!(app.slack.files().len(), 1, "posted once, after the retry");
}
