//! An operator moving from Lookerbot: its `.env` as its README told people to write it (API 3.x
//! names and paths, the space id, no signing secret), run by the real binary.

use crate::helpers::*;

/// A Lookerbot `.env`, pointed at the fakes.
fn lookerbot_env(app: &TestApp) -> String {
    let raw = test_settings(&app.slack, &app.looker, &app.database_url);
    let looker_url = raw.looker_url.unwrap();
    format!(
        "SLACK_API_KEY={}\nLOOKER_URL={looker_url}\nLOOKER_API_BASE_URL={looker_url}/api/3.1\nLOOKER_API_3_CLIENT_ID={}\nLOOKER_API_3_CLIENT_SECRET={}\nLOOKER_CUSTOM_COMMAND_SPACE_ID=42\nLOOKER_WEBHOOK_TOKEN=lookerbot-webhook-token\nLOOKER_SLACKBOT_LOADING_MESSAGES=false\nSLACK_API_BASE_URL={}\nDATABASE_URL={}\n",
        raw.slack_api_key.unwrap(),
        raw.looker_api_client_id.unwrap(),
        raw.looker_api_client_secret.unwrap(),
        raw.slack_api_base_url.unwrap(),
        raw.database_url.unwrap(),
    )
}

#[tokio::test]
async fn a_lookerbot_env_is_told_what_todays_slack_needs_and_the_two_ways_to_give_it() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), lookerbot_env(&app)).unwrap();
    for args in [&["serve"][..], &["check"][..]] {
        let output = lookerbot(dir.path()).args(args).output().await.unwrap();
        let report = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {report}");
        let said: Vec<&str> = report.lines().filter(|l| l.contains("SLACK_SIGNING_SECRET")).collect();
        assert_eq!(said.len(), 1, "one message: {report}");
        for needed in [
            "retired the RTM connection",
            "SLACK_APP_TOKEN",
            "Socket Mode",
            "no public URL",
        ] {
            assert!(said[0].contains(needed), "{needed}: {report}");
        }
        assert!(!report.contains("listening"), "{report}");
    }
}

#[tokio::test]
async fn the_same_env_with_a_signing_secret_added_works_unchanged() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let raw = test_settings(&app.slack, &app.looker, &app.database_url);
    let env = format!(
        "{}SLACK_SIGNING_SECRET={}\n",
        lookerbot_env(&app),
        raw.slack_signing_secret.unwrap()
    );
    std::fs::write(dir.path().join(".env"), env).unwrap();
    let output = lookerbot(dir.path()).arg("check").output().await.unwrap();
    let report = text(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("logged in"),
        "the API 3 names and path carry over: {report}"
    );
}
