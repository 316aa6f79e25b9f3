//! Answers with the asker's own Looker permissions (`LOOKERBOT_IDENTITY=sudo`): two people ask
//! the same question and get different answers, someone with no Looker user is told what to do
//! and nothing runs as the shared user for them, schedules run as their owners, and a
//! link preview shows what its sharer may see.

use serde_json::json;

use crate::fake_looker_plans::scheduled_plan;
use crate::helpers::*;

async fn ask(app: &TestApp, user: &str, text: &str) {
    send_slash(app, user, text).await;
    app.drain_jobs().await;
}

/// Alice and Bob are Looker users 10 and 11 (by the emails Slack gives them); Look 7 is only
/// Alice's to see. Carol has no Looker user.
async fn sudo_app(identity: &str) -> TestApp {
    let identity = identity.to_string();
    let app = spawn_app_with(move |s| s.lookerbot_identity = Some(identity)).await;
    app.looker.add_user("10", "alice@acme.example");
    app.looker.add_user("11", "BOB@acme.example");
    app.looker.add_look(
        "7",
        "Pipeline by Rep",
        query("q7", "table"),
        status_counts(&[("won", 12)]),
    );
    app.looker.restrict_look("7", &["10"]);
    app
}

#[tokio::test]
async fn two_people_asking_the_same_question_get_what_each_may_see() {
    let app = sudo_app("sudo").await;
    ask(&app, "U000000ALICE", "look 7").await;
    let posted = app.slack.posts_to("#general");
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert!(posted[0].text.contains("Pipeline by Rep"), "{}", posted[0].text);
    ask(&app, "U00000000BOB", "look 7").await;
    assert_eq!(app.slack.posts_to("#general").len(), 1, "nothing posted for Bob");
    let said = app.slack.said();
    assert_eq!(
        said.last().unwrap(),
        "I couldn't find Look 7 in Looker, or your Looker user can't see it."
    );
    let callers: Vec<String> = app.looker.callers();
    assert!(
        callers.contains(&"10".to_string()) && callers.contains(&"11".to_string()),
        "{callers:?}"
    );
    assert!(
        !app.looker
            .requests()
            .iter()
            .zip(&callers)
            .any(|(r, c)| r.contains("/looks/7") && c == "api"),
        "the Look was never asked for as the shared user"
    );
}

#[tokio::test]
async fn someone_with_no_looker_user_is_told_what_to_do_and_nothing_runs_as_the_shared_user() {
    let app = sudo_app("sudo").await;
    ask(&app, "U0000CAROL00", "look 7").await;
    assert!(app.slack.posts_to("#general").is_empty());
    let said = app.slack.said();
    assert!(
        said.last()
            .unwrap()
            .contains("has no user with your Slack email. Ask your Looker admin to add you."),
        "{said:?}"
    );
    assert!(
        !app.looker.requests().iter().any(|r| r.contains("/looks/7")),
        "{:?}",
        app.looker.requests()
    );
}

#[tokio::test]
async fn sudo_or_shared_answers_someone_without_a_looker_user_as_the_shared_user() {
    let app = sudo_app("sudo_or_shared").await;
    ask(&app, "U0000CAROL00", "look 7").await;
    assert_eq!(app.slack.posts_to("#general").len(), 1);
}

/// A schedule shows no more than its owner may see: it runs as the plan's owner (Looker's
/// `user_id`), never as the admin API user, and an owner who may not see the Look gets nothing.
#[tokio::test]
async fn a_schedule_runs_as_its_owner_not_the_api_user() {
    let app = sudo_app("sudo").await;
    let address = format!("{}/slack/post/channel/general", app.address);
    app.looker
        .add_plan(scheduled_plan("301", "10", &address, json!({"look_id": "7"})));
    let mut body = look_webhook(&app.looker, "7", "Pipeline by Rep", None);
    body["scheduled_plan"]["scheduled_plan_id"] = json!(301);
    app.deliver("/slack/post/channel/general", &body).await;
    app.drain_jobs().await;
    assert_eq!(app.slack.posts_to("#general").len(), 1);
    let calls: Vec<(String, String)> = app.looker.requests().into_iter().zip(app.looker.callers()).collect();
    assert_eq!(
        calls[0],
        ("GET /scheduled_plans/301".into(), "api".into()),
        "the plan is read as the API user"
    );
    let content: Vec<_> = calls
        .iter()
        .filter(|(r, _)| r.starts_with("GET /looks") || r.contains("/run/"))
        .collect();
    assert!(
        !content.is_empty() && content.iter().all(|(_, c)| c == "10"),
        "{calls:?}"
    );

    // Bob's plan of a Look only Alice may see: nothing is posted, the reason is kept.
    app.looker
        .add_plan(scheduled_plan("302", "11", &address, json!({"look_id": "7"})));
    body["scheduled_plan"]["scheduled_plan_id"] = json!(302);
    app.deliver("/slack/post/channel/general", &body).await;
    app.drain_jobs().await;
    assert_eq!(app.slack.posts_to("#general").len(), 1, "Bob's schedule posts nothing");
    let dead = app.dead_jobs().await;
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0].last_error.as_deref().unwrap().contains("404"),
        "{:?}",
        dead[0].last_error
    );
}

#[tokio::test]
async fn a_persons_looker_user_and_token_are_reused() {
    let app = sudo_app("sudo").await;
    for _ in 0..3 {
        ask(&app, "U000000ALICE", "look 7").await;
    }
    let logins = app
        .looker
        .requests()
        .iter()
        .filter(|r| r.starts_with("POST /login/10"))
        .count();
    assert_eq!(logins, 1, "one sudo login for three questions");
    let searches = app
        .looker
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET /users/search"))
        .count();
    assert_eq!(searches, 1, "the email's user is remembered");
}
