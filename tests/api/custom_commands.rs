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

#[tokio::test]
async fn help_lists_custom_commands_by_folder_without_the_hidden_ones() {
    let app = app_with_commands().await;
    let answer = slash(&app, "help").await;
    assert!(app.jobs().await.is_empty(), "answered in the acknowledgement");
    assert_eq!(answer["response_type"], "ephemeral");
    let help = answer["blocks"].to_string();
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
    let texts: Vec<String> = app.slack.messages().iter().map(|m| m.blocks.to_string()).collect();
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
    assert!(
        app.slack.responses()[0]["text"]
            .as_str()
            .unwrap()
            .contains("Type `/looker help`")
    );
}
