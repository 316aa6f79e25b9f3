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

/// Where the operator lets other organisations in, shared mode would answer them as the bot's
/// API user: they get a link to Looker, never its data.
#[tokio::test]
async fn a_person_from_another_organisation_let_in_gets_links_never_data() {
    let app = spawn_app_with(|s| {
        s.allow_slack_shared_workspaces = Some("true".into());
        s.lookerbot_audience_default = Some("public".into());
    })
    .await;
    app.looker
        .add_look("7", "Pipeline", query("q7", "table"), status_counts(&[("won", 12)]));
    command_from(&app, "T00000OTHER", "U00000OTHER", "look 7").await;
    assert!(
        !app.looker.requests().iter().any(|r| r.contains("/run/")),
        "no data was run: {:?}",
        app.looker.requests()
    );
    let everything: String = app
        .slack
        .messages()
        .iter()
        .map(|m| m.all_text())
        .chain(app.slack.said())
        .collect();
    assert!(!everything.contains("won"), "{everything}");
    assert!(everything.contains("/looks/7"), "a link to the Look: {everything}");
    // One of ours in the same channel still gets the data.
    command_from(&app, "T000000ACME", "U000000ALICE", "look 7").await;
    assert!(
        app.slack
            .posts_to("#general")
            .last()
            .unwrap()
            .all_text()
            .contains("won")
    );
}

/// In an Enterprise Grid organisation, a person from another workspace of the same organisation
/// is one of ours; the organisation is what `auth.test` says, never what the request says.
#[tokio::test]
async fn another_workspace_of_our_grid_organisation_is_ours_and_another_organisation_is_not() {
    let app = spawn_app_with(|s| s.lookerbot_audience_default = Some("public".into())).await;
    app.slack.set_enterprise("E0000ACMEGRID");
    app.slack
        .add_grid_member("U0000GRIDBEN", "ben", "T00000EMEA1", "E0000ACMEGRID");
    app.slack
        .add_grid_member("U0000RIVALX1", "rex", "T00000RIVAL", "E00000RIVALS");
    app.looker
        .add_look("7", "Pipeline", query("q7", "table"), status_counts(&[("won", 12)]));
    command_from(&app, "T00000EMEA1", "U0000GRIDBEN", "look 7").await;
    assert!(
        app.slack.only_post_to("#general").all_text().contains("won"),
        "Ben is one of ours"
    );
    let posted = app.slack.messages().len();
    // Rex's request claims our organisation and our workspace; Slack's record of him says otherwise.
    let mut body = slash_form_from(&app, "T000000ACME", "U0000RIVALX1", "look 7");
    body.push_str("&enterprise_id=E0000ACMEGRID");
    let signed = (lookerbot::store::now_millis() / 1000, SIGNING_SECRET);
    let ack = app.post_signed("/slack/receive", FORM, &body, signed, &[]).await;
    assert_eq!(ack.status(), 200);
    app.drain_jobs().await;
    assert_eq!(app.slack.messages().len(), posted, "nothing posted for Rex");
    assert!(
        app.slack.said().last().unwrap().contains("organisation")
            || app.slack.said().last().unwrap().contains("workspace"),
        "{:?}",
        app.slack.said()
    );
}
