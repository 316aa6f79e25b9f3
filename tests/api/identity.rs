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
    // The operator opened channels to answers: these tests read what is posted in #general.
    let app = spawn_app_with(move |s| {
        s.lookerbot_identity = Some(identity);
        s.lookerbot_audience_default = Some("public".into());
    })
    .await;
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

/// `sudo_or_shared` answers someone with no Looker user as the fallback API user, a credential of
/// its own with less access, never as the admin that logs in as everyone; without a fallback
/// credential there is no fallback at all.
#[tokio::test]
async fn sudo_or_shared_falls_back_to_its_own_less_privileged_user_never_the_admin() {
    let app = spawn_app_with(|s| {
        s.lookerbot_identity = Some("sudo_or_shared".into());
        s.lookerbot_audience_default = Some("public".into());
        s.looker_fallback_client_id = Some(crate::fake_looker::FALLBACK_CLIENT_ID.into());
        s.looker_fallback_client_secret = Some(crate::fake_looker::FALLBACK_CLIENT_SECRET.into());
    })
    .await;
    app.looker
        .add_look("8", "Open Tickets", query("q8", "table"), status_counts(&[("open", 3)]));
    app.looker.add_look(
        "7",
        "Pipeline by Rep",
        query("q7", "table"),
        status_counts(&[("won", 12)]),
    );
    app.looker.restrict_look("7", &["10"]);
    ask(&app, "U0000CAROL00", "look 8").await;
    assert_eq!(app.slack.posts_to("#general").len(), 1);
    let calls: Vec<(String, String)> = app.looker.requests().into_iter().zip(app.looker.callers()).collect();
    let content: Vec<_> = calls
        .iter()
        .filter(|(r, _)| r.contains("/looks/") || r.contains("/run/"))
        .collect();
    assert!(
        !content.is_empty() && content.iter().all(|(_, c)| c == "fallback"),
        "{calls:?}"
    );
    // What only the admin could see stays unseen.
    ask(&app, "U0000CAROL00", "look 7").await;
    assert_eq!(
        app.slack.posts_to("#general").len(),
        1,
        "Look 7 is not posted for Carol"
    );
}

#[tokio::test]
async fn without_a_fallback_credential_someone_with_no_looker_user_gets_no_answer() {
    let app = sudo_app("sudo_or_shared").await;
    app.looker
        .add_look("8", "Open Tickets", query("q8", "table"), status_counts(&[("open", 3)]));
    ask(&app, "U0000CAROL00", "look 8").await;
    assert!(app.slack.posts_to("#general").is_empty());
    assert!(
        app.slack
            .said()
            .pop()
            .unwrap()
            .contains("has no user with your Slack email")
    );
    assert!(
        !app.looker.requests().iter().any(|r| r.contains("/looks/")),
        "{:?}",
        app.looker.requests()
    );
}

/// Bob's Looker account was disabled: no fallback answers him instead.
#[tokio::test]
async fn a_disabled_looker_user_is_not_answered_by_the_fallback() {
    let app = spawn_app_with(|s| {
        s.lookerbot_identity = Some("sudo_or_shared".into());
        s.lookerbot_audience_default = Some("public".into());
        s.looker_fallback_client_id = Some(crate::fake_looker::FALLBACK_CLIENT_ID.into());
        s.looker_fallback_client_secret = Some(crate::fake_looker::FALLBACK_CLIENT_SECRET.into());
    })
    .await;
    app.looker.add_disabled_user("11", "bob@acme.example");
    app.looker
        .add_look("8", "Open Tickets", query("q8", "table"), status_counts(&[("open", 3)]));
    ask(&app, "U00000000BOB", "look 8").await;
    assert!(app.slack.posts_to("#general").is_empty());
    let said = app.slack.said().pop().unwrap();
    assert!(said.contains("is disabled"), "{said}");
    assert!(!app.looker.callers().iter().any(|c| c == "fallback"));
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

/// An answer run as Alice holds what Alice may see: unless the operator opens the channel, it is
/// hers alone (with a button to share), never posted where Bob reads it.
#[tokio::test]
async fn answered_as_each_person_an_answer_is_private_unless_the_operator_opens_the_channel() {
    let app = spawn_app_with(|s| s.lookerbot_identity = Some("sudo".into())).await;
    app.looker.add_user("10", "alice@acme.example");
    app.looker.add_look(
        "7",
        "Pipeline by Rep",
        query("q7", "table"),
        status_counts(&[("won", 12)]),
    );
    app.looker.restrict_look("7", &["10"]);
    ask(&app, "U000000ALICE", "look 7").await;
    assert!(app.slack.posts_to("#general").is_empty(), "{:?}", app.slack.messages());
    let private = app.slack.responses().last().cloned().unwrap();
    assert_eq!(private["response_type"], "ephemeral");
    assert!(private["blocks"].to_string().contains("won"), "{private}");
}
