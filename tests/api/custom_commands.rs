//! Custom commands: dashboards in the commands folder become commands, sub-folders categories,
//! `[hidden]` keeps them out of help, and arguments fill the dashboard's filters.

use lookerbot::store::now_millis;
use serde_json::{Value, json};

use crate::helpers::*;

fn dashboard(id: &str, title: &str, folder: &str) -> Value {
    json!({"id": id, "title": title, "folder_id": folder, "description": format!("About {title}"),
           "dashboard_filters": [
               {"name": "region", "title": "Region", "default_value": "all"},
               {"name": "date", "title": "Date", "default_value": "30 days"}],
           "dashboard_elements": [{"id": format!("{id}-t"), "type": "text", "title_text": format!("{title} tile")}]})
}

async fn app_with_commands() -> TestApp {
    let app = spawn_app_with(|s| s.looker_custom_command_folder_id = Some("42".into())).await;
    app.looker.add_folder(json!({"id": "42", "name": "Slack Commands"}));
    app.looker
        .add_folder(json!({"id": "43", "name": "Finance", "parent_id": "42"}));
    app.looker
        .add_folder(json!({"id": "44", "name": "Drafts [hidden]", "parent_id": "42"}));
    app.looker.add_dashboard(dashboard("1", "Sales Report", "42"));
    app.looker.add_dashboard(dashboard("2", "Ops [hidden]", "42"));
    app.looker.add_dashboard(dashboard("3", "Revenue", "43"));
    app.looker.add_dashboard(dashboard("4", "Scratch", "44"));
    app.refresh_custom_commands().await;
    app
}

async fn slash(app: &TestApp, text: &str) -> Value {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("team_id", "T000000ACME")
        .append_pair("channel_id", "C0000GENERAL")
        .append_pair("user_id", "U000000ALICE")
        .append_pair("command", "/looker")
        .append_pair("text", text)
        .append_pair("response_url", &app.slack.response_url())
        .finish();
    let signed = (now_millis() / 1000, SIGNING_SECRET);
    let response = app.post_signed("/slack/receive", FORM, &body, signed, &[]).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap_or(Value::Null)
}

/// `help` as Alice sees it: the first time, the job looks her up and answers through the
/// command's response URL; from then on the acknowledgement itself answers, from the catalog in
/// memory. Returns the blocks of the answer (both, when there are two, must be the same).
async fn help_for_alice(app: &TestApp) -> String {
    let first = slash(app, "help").await;
    if first["text"] != "Working on it…" {
        // Alice asked something before: she is known already.
        return first["blocks"].to_string();
    }
    app.drain_jobs().await;
    let answered = app.slack.responses().last().unwrap()["blocks"].to_string();
    let again = slash(app, "help").await;
    assert!(app.jobs().await.is_empty(), "answered in the acknowledgement");
    assert_eq!(again["response_type"], "ephemeral");
    assert_eq!(again["blocks"].to_string(), answered);
    answered
}

#[tokio::test]
async fn help_lists_custom_commands_by_folder_without_the_hidden_ones() {
    let app = app_with_commands().await;
    let help = help_for_alice(&app).await;
    assert!(
        help.contains("/looker sales report") && help.contains("[Region, Date]") && help.contains("About Sales Report"),
        "{help}"
    );
    assert!(help.contains("*Finance*") && help.contains("/looker revenue"), "{help}");
    assert!(
        help.contains(&format!("{}/dashboards/1", app.looker.web_url)),
        "linked to its dashboard"
    );
    assert!(
        !help.contains("Ops") && !help.contains("Scratch") && !help.contains("Drafts"),
        "{help}"
    );
}

#[tokio::test]
async fn a_custom_command_shows_its_dashboard_with_the_arguments_as_filters() {
    let app = app_with_commands().await;
    slash(&app, "sales report west").await;
    slash(&app, r#"Revenue Date="last 7 days""#).await;
    slash(&app, "ops").await;
    app.drain_jobs().await;
    let texts: Vec<String> = app.slack.messages().iter().map(|m| m.all_text()).collect();
    assert_eq!(texts.len(), 3, "{texts:#?}");
    assert!(
        texts[0].contains("Sales Report tile") && texts[0].contains("Date: 30 days · Region: west"),
        "{}",
        texts[0]
    );
    assert!(
        texts[1].contains("Revenue tile") && texts[1].contains("Date: last 7 days · Region: all"),
        "{}",
        texts[1]
    );
    assert!(texts[2].contains("Ops [hidden] tile"), "hidden commands still run");
}

#[tokio::test]
async fn words_that_are_no_command_get_a_pointer_to_help() {
    let app = app_with_commands().await;
    slash(&app, "sales forecast").await;
    app.drain_jobs().await;
    assert!(app.slack.messages().is_empty());
    assert!(app.slack.said()[0].contains("Type `/looker help`"));
}

/// A second Looker with its own commands folder `42`, configured first.
async fn app_with_two_lookers() -> (TestApp, crate::fake_looker::FakeLooker) {
    let first = crate::fake_looker::FakeLooker::start().await;
    let app = spawn_app_with(|s| {
        let web = s.looker_url.take().unwrap();
        let api = s.looker_api_base_url.take().unwrap();
        s.lookers = Some(
            json!([
                {"url": first.web_url, "apiBaseUrl": first.api_url, "clientId": crate::fake_looker::CLIENT_ID,
                 "clientSecret": crate::fake_looker::CLIENT_SECRET, "customCommandFolderId": "42"},
                {"url": web, "apiBaseUrl": api, "clientId": crate::fake_looker::CLIENT_ID,
                 "clientSecret": crate::fake_looker::CLIENT_SECRET, "customCommandFolderId": 42}
            ])
            .to_string(),
        );
    })
    .await;
    for looker in [&first, &app.looker] {
        looker.add_folder(json!({"id": "42", "name": "Slack Commands"}));
    }
    (app, first)
}

#[tokio::test]
async fn hidden_is_recognised_in_any_letter_case_in_titles_and_folders() {
    let app = spawn_app_with(|s| s.looker_custom_command_folder_id = Some("42".into())).await;
    app.looker.add_folder(json!({"id": "42", "name": "Slack Commands"}));
    app.looker
        .add_folder(json!({"id": "45", "name": "Finance [Hidden]", "parent_id": "42"}));
    app.looker
        .add_folder(json!({"id": "46", "name": "[HIDDEN] Ops", "parent_id": "42"}));
    app.looker.add_dashboard(dashboard("1", "Sales Report [Hidden]", "42"));
    app.looker.add_dashboard(dashboard("2", "Revenue", "45"));
    app.looker.add_dashboard(dashboard("3", "Uptime", "46"));
    app.looker.add_dashboard(dashboard("5", "Visible One", "42"));
    app.refresh_custom_commands().await;

    let help = help_for_alice(&app).await;
    assert!(help.contains("/looker visible one"), "{help}");
    for hidden in [
        "Sales Report",
        "sales report",
        "Revenue",
        "Uptime",
        "Finance",
        "Ops",
        "idden",
    ] {
        assert!(!help.contains(hidden), "{hidden} shown in {help}");
    }
    // Hidden commands still run, under their names without the marker.
    for command in ["sales report", "revenue", "uptime"] {
        slash(&app, command).await;
    }
    app.drain_jobs().await;
    let shown: Vec<String> = app.slack.messages().iter().map(|m| m.title()).collect();
    assert_eq!(shown.len(), 3, "{shown:?} {:?}", app.slack.responses());
    assert!(shown[0].contains("|Sales Report>"), "{shown:?}");
}

#[tokio::test]
async fn a_looker_that_fails_keeps_its_last_catalog_and_the_others_keep_working() {
    let (app, first) = app_with_two_lookers().await;
    first.add_dashboard(dashboard("7", "Pipeline", "42"));
    app.looker.add_dashboard(dashboard("1", "Sales Report", "42"));
    app.refresh_custom_commands().await;

    first.set_down(true);
    let failures = app.bot.custom_commands.refresh(&app.bot.lookers, false).await;
    assert_eq!(failures.len(), 1, "the failure is reported (and logged)");
    let help = help_for_alice(&app).await;
    assert!(
        help.contains("/looker pipeline") && help.contains("/looker sales report"),
        "the last good catalog is still served: {help}"
    );

    // A Looker that never answered does not take the others' commands with it.
    let (fresh, never) = app_with_two_lookers().await;
    never.set_down(true);
    fresh.looker.add_dashboard(dashboard("1", "Sales Report", "42"));
    fresh.bot.custom_commands.refresh(&fresh.bot.lookers, false).await;
    let help = help_for_alice(&fresh).await;
    assert!(help.contains("/looker sales report"), "{help}");
    assert!(help.contains("could not be loaded from Looker yet"), "{help}");
    slash(&fresh, "sales report west").await;
    fresh.drain_jobs().await;
    assert_eq!(fresh.slack.messages().len(), 1, "{:?}", fresh.slack.responses());
}

#[tokio::test]
async fn the_same_command_on_two_lookers_always_means_the_first_and_help_says_where_each_is() {
    let (app, first) = app_with_two_lookers().await;
    first.add_dashboard(dashboard("7", "Sales Report", "42"));
    app.looker.add_dashboard(dashboard("1", "Sales Report", "42"));
    app.refresh_custom_commands().await;
    for _ in 0..3 {
        slash(&app, "sales report").await;
    }
    app.drain_jobs().await;
    let count = |looker: &crate::fake_looker::FakeLooker, request: &str| {
        looker.requests().iter().filter(|r| *r == request).count()
    };
    // Each catalog load reads the folder and its dashboards; each command reads its dashboard.
    assert_eq!(
        count(&first, "GET /dashboards/7"),
        count(&first, "GET /folders/42") + 3,
        "{:?}",
        first.requests()
    );
    assert_eq!(
        count(&app.looker, "GET /dashboards/1"),
        count(&app.looker, "GET /folders/42"),
        "the second Looker's dashboard was only read for its catalog"
    );
    let help = help_for_alice(&app).await;
    let host = |url: &str| url.trim_start_matches("http://").to_string();
    assert!(
        help.contains(&format!("on {}", host(&first.web_url)))
            && help.contains(&format!("on {}", host(&app.looker.web_url))),
        "{help}"
    );
}

#[tokio::test]
async fn a_filter_the_dashboard_does_not_have_is_answered_with_the_real_names() {
    let app = app_with_commands().await;
    slash(&app, "sales report regoin=west").await;
    slash(&app, "dashboard 1 status=open").await;
    slash(&app, "dashboard 1 REGION=west").await;
    app.drain_jobs().await;
    let said = app.slack.said();
    assert_eq!(
        said,
        [
            "“Sales Report” has no filter called “regoin”. Its filters are Region and Date.",
            "“Sales Report” has no filter called “status”. Its filters are Region and Date."
        ]
    );
    let shown = app.slack.messages();
    assert_eq!(shown.len(), 1, "only the dashboard with a real filter is shown");
    assert!(shown[0].all_text().contains("Region: west"), "{}", shown[0].all_text());
}

#[tokio::test]
async fn guests_and_other_workspaces_never_see_the_catalog() {
    let app = app_with_commands().await;
    for user in ["U000000GUEST", "U00000OTHER"] {
        for _ in 0..2 {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("team_id", "T000000ACME")
                .append_pair("channel_id", "C0000GENERAL")
                .append_pair("user_id", user)
                .append_pair("command", "/looker")
                .append_pair("text", "help")
                .append_pair("response_url", &app.slack.response_url())
                .finish();
            let signed = (now_millis() / 1000, SIGNING_SECRET);
            let ack: Value = app
                .post_signed("/slack/receive", FORM, &body, signed, &[])
                .await
                .json()
                .await
                .unwrap();
            assert!(!ack.to_string().contains("sales report"), "{ack}");
            app.drain_jobs().await;
        }
    }
    let said: Vec<String> = app.slack.responses().iter().map(|r| r.to_string()).collect();
    assert_eq!(said.len(), 4, "{said:?}");
    assert!(said.iter().all(|s| !s.contains("sales report")), "{said:?}");
}

#[tokio::test]
async fn a_looker_that_hangs_does_not_hold_up_the_others_commands() {
    let (app, slow) = app_with_two_lookers().await;
    slow.add_dashboard(dashboard("7", "Pipeline", "42"));
    app.looker.add_dashboard(dashboard("1", "Sales Report", "42"));
    app.refresh_custom_commands().await;
    // The first Looker now takes longer to answer than anyone would wait.
    slow.set_latency(std::time::Duration::from_secs(8));
    let refreshing = {
        let bot = app.bot.clone();
        tokio::spawn(async move { bot.custom_commands.refresh(&bot.lookers, false).await })
    };
    let started = std::time::Instant::now();
    slash(&app, "sales report west").await;
    slash(&app, "no such command").await;
    app.drain_jobs().await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "commands waited for the slow Looker: {:?}",
        started.elapsed()
    );
    assert_eq!(app.slack.messages().len(), 1, "{:?}", app.slack.said());
    assert!(
        app.slack.said()[0].contains("I don't know how"),
        "{:?}",
        app.slack.said()
    );
    refreshing.abort();
}
