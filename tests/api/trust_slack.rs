//! The trust boundary of Slack's requests, attacked: what a request says about its sender's
//! workspace is not believed; the bot's own workspace (`auth.test`) decides who is from elsewhere.

use crate::helpers::*;

/// A signed `/looker` command whose `team_id` is whatever the sender's workspace says.
async fn command_from(app: &TestApp, team: &str, user: &str, text: &str) {
    let body = slash_form_from(app, team, user, text);
    let signed = (lookerbot::store::now_millis() / 1000, SIGNING_SECRET);
    let ack = app.post_signed("/slack/receive", FORM, &body, signed, &[]).await;
    assert_eq!(ack.status(), 200);
    app.drain_jobs().await;
}

/// Olga belongs to another organisation (Slack Connect); Looker has a user with the email her
/// workspace gives her. Her command names her own workspace as its team.
#[tokio::test]
async fn a_person_from_another_organisation_is_never_matched_to_a_looker_user_by_email() {
    let app = spawn_app_with(|s| {
        s.lookerbot_identity = Some("sudo".into());
        s.allow_slack_shared_workspaces = Some("true".into());
        s.lookerbot_audience_default = Some("public".into());
    })
    .await;
    app.looker.add_user("20", "olga@acme.example");
    app.looker
        .add_look("7", "Pipeline", query("q7", "table"), status_counts(&[("won", 12)]));
    command_from(&app, "T00000OTHER", "U00000OTHER", "look 7").await;
    assert!(
        !app.looker.requests().iter().any(|r| r.starts_with("POST /login/")),
        "{:?}",
        app.looker.requests()
    );
    assert!(app.slack.posts_to("#general").is_empty(), "nothing ran for her");
}

#[tokio::test]
async fn a_request_naming_another_team_does_not_make_a_stranger_one_of_ours() {
    let app = spawn_app().await;
    app.looker
        .add_look("7", "Pipeline", query("q7", "table"), status_counts(&[("won", 12)]));
    command_from(&app, "T00000OTHER", "U00000OTHER", "look 7").await;
    assert!(app.slack.posts_to("#general").is_empty(), "shared workspaces are off");
    assert!(app.looker.requests().is_empty(), "{:?}", app.looker.requests());
}
