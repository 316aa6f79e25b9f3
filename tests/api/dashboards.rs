//! Whole dashboards: every tile in layout order, filters through `listen`, merged results,
//! broken tiles shown as such, long dashboards threaded, or one image of the whole dashboard.

use serde_json::{Value, json};

use crate::helpers::*;

fn sales_dashboard(app: &TestApp) {
    let mut tile_query = query("q20", "looker_grid");
    tile_query["filters"] = json!({"orders.status": "complete", "orders.created_date": "30 days"});
    app.looker
        .add_query(tile_query.clone(), status_counts(&[("complete", 1234), ("other", 1)]));
    app.looker.result_when_filtered(
        "orders.status",
        "pending",
        status_counts(&[("pending", 56), ("other", 2)]),
    );

    // Merged results: orders by status, joined with targets by status.
    app.looker.add_query(
        query("q30", "table"),
        status_counts(&[("complete", 100), ("pending", 20)]),
    );
    let mut targets_query = query("q31", "table");
    targets_query["view"] = json!("targets");
    app.looker.add_query(
        targets_query,
        json!({"fields": {"dimensions": [field("targets.status", "Status", false)],
                          "measures": [field("targets.goal", "Goal", true)], "table_calculations": [], "pivots": []},
               "data": [{"targets.status": {"value": "pending"}, "targets.goal": {"value": 25, "rendered": "25"}},
                        {"targets.status": {"value": "complete"}, "targets.goal": {"value": 90, "rendered": "90"}}]}),
    );
    app.looker.add_merge_query(json!({"id": "m1", "vis_config": {"type": "table"}, "source_queries": [
        {"query_id": "q30", "name": "Orders", "merge_fields": null},
        {"query_id": "q31", "name": "Targets", "merge_fields": [{"field_name": "orders.status", "source_field_name": "targets.status"}]}
    ]}));

    let map_query = query("q40", "looker_map");
    app.looker
        .add_query(map_query.clone(), status_counts(&[("a", 1), ("b", 2)]));
    app.looker.add_dashboard(json!({
        "id": "12", "title": "Sales Overview",
        "dashboard_filters": [
            {"name": "status", "title": "Status", "type": "field_filter", "default_value": "complete", "dimension": "orders.status"},
            {"name": "date", "title": "Date", "type": "date_filter", "default_value": "7 days"}
        ],
        "dashboard_layouts": [{"active": true, "dashboard_layout_components": [
            {"dashboard_element_id": "e3", "row": 0, "column": 0},
            {"dashboard_element_id": "e1", "row": 2, "column": 0},
            {"dashboard_element_id": "e2", "row": 2, "column": 12},
            {"dashboard_element_id": "e4", "row": 8, "column": 0},
            {"dashboard_element_id": "e5", "row": 10, "column": 0}
        ]}],
        "dashboard_elements": [
            {"id": "e1", "type": "vis", "title": "Orders by Status",
             "result_maker": {"query_id": "q20", "query": tile_query, "vis_config": {"type": "looker_grid"},
                              "filterables": [{"model": "thelook", "view": "orders", "listen": [
                                  {"dashboard_filter_name": "status", "field": "orders.status"},
                                  {"dashboard_filter_name": "date", "field": "orders.created_date"}]}]}},
            {"id": "e2", "type": "vis", "title": "Against Target", "merge_result_id": "m1",
             "result_maker": {"merge_result_id": "m1", "vis_config": {"type": "table"}}},
            {"id": "e3", "type": "text", "title_text": "Weekly numbers", "body_text": "Questions? See **[the wiki](https://wiki.example.com)**"},
            {"id": "e4", "type": "vis", "title": "Retired Look", "query_id": "q404"},
            {"id": "e5", "type": "vis", "title": "Orders Map", "result_maker": {"query_id": "q40", "query": map_query}}
        ]
    }));
}

fn dashboard_webhook(app: &TestApp, query_string: &str) -> Value {
    json!({"type": "dashboard",
           "scheduled_plan": {"scheduled_plan_id": 701, "title": "Sales Overview", "type": "Dashboard",
                              "url": format!("{}/dashboards/12{query_string}", app.looker.web_url)},
           "attachment": null})
}

#[tokio::test]
async fn every_tile_is_rendered_in_layout_order_with_the_filters_applied() {
    let app = spawn_app().await;
    sales_dashboard(&app);
    app.deliver(
        "/slack/post/channel/general",
        &dashboard_webhook(&app, "?Status=pending"),
    )
    .await;
    app.drain_jobs().await;

    let messages = app.slack.messages();
    assert_eq!(messages.len(), 1, "a small dashboard fits one message");
    let blocks = messages[0].blocks.as_array().unwrap();
    let texts: Vec<String> = blocks.iter().map(Value::to_string).collect();
    let position = |needle: &str| {
        texts
            .iter()
            .position(|t| t.contains(needle))
            .unwrap_or_else(|| panic!("{needle} missing: {texts:#?}"))
    };
    assert!(texts[0].contains("Sales Overview"));
    assert!(texts[1].contains("Date: 7 days · Status: pending"), "{}", texts[1]);
    assert!(
        position("Weekly numbers") < position("Orders by Status"),
        "layout order, not list order"
    );
    assert!(position("Orders by Status") < position("Against Target"));
    assert!(position("Against Target") < position("Retired Look"));
    assert!(
        texts.iter().any(|t| t.contains("<https://wiki.example.com|the wiki>")),
        "Markdown became mrkdwn"
    );

    // The status filter reached the tile through `listen`, with the date default beside it.
    let created = app.looker.created_queries();
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0]["filters"],
        json!({"orders.status": "pending", "orders.created_date": "7 days"})
    );
    assert_eq!(created[0]["filter_config"], Value::Null);
    let tables = messages[0].tables();
    assert_eq!(tables[0].cell(1, 0), "pending", "the first tile's table, filtered");

    // Merged results: orders joined with their targets.
    let merged = &tables[1];
    assert_eq!(merged.cell(0, 2), "Goal");
    assert_eq!(merged.cell(1, 2), "90", "complete's goal joined on status");
    assert_eq!(merged.cell(2, 2), "25");

    assert!(texts[position("Retired Look") + 1].contains("This tile could not be loaded"));

    // A tile only Looker can draw comes after, as an image in the thread, drawn as the tile.
    let calls = app.looker.render_calls();
    assert_eq!(
        calls.iter().map(|c| c.target.as_str()).collect::<Vec<_>>(),
        ["dashboard_elements/e5"]
    );
    let files = app.slack.files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].thread_ts.as_deref(), Some(messages[0].ts.as_str()));
    assert!(files[0].blocks.as_ref().unwrap().to_string().contains("Orders Map"));
}

#[tokio::test]
async fn a_long_dashboard_continues_in_a_thread() {
    let app = spawn_app().await;
    let elements: Vec<Value> = (0..40)
        .map(|i| json!({"id": format!("t{i}"), "type": "text", "title_text": format!("Note {i}"), "body_text": "x".repeat(400)}))
        .collect();
    app.looker
        .add_dashboard(json!({"id": "12", "title": "Notes", "dashboard_elements": elements}));
    app.deliver("/slack/post/channel/general", &dashboard_webhook(&app, ""))
        .await;
    app.drain_jobs().await;

    let messages = app.slack.messages();
    assert!(messages.len() >= 2, "{} messages", messages.len());
    assert!(messages[0].thread_ts.is_none());
    for message in &messages[1..] {
        assert_eq!(
            message.thread_ts.as_deref(),
            Some(messages[0].ts.as_str()),
            "the rest goes in the first's thread"
        );
    }
    let all: String = messages.iter().map(|m| m.blocks.to_string()).collect();
    for i in 0..40 {
        assert!(
            all.contains(&format!("Note {i}\"")) || all.contains(&format!("Note {i}*")),
            "tile {i} missing"
        );
    }
}

#[tokio::test]
async fn a_dashboard_can_be_one_image_of_the_whole_thing() {
    let app = spawn_app_with(|s| s.lookerbot_dashboard_style = Some("png".into())).await;
    sales_dashboard(&app);
    app.deliver(
        "/slack/post/channel/general",
        &dashboard_webhook(&app, "?Status=pending"),
    )
    .await;
    app.drain_jobs().await;
    let calls = app.looker.render_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].target, "dashboards/12");
    assert_eq!(calls[0].body["dashboard_filters"], "date=7+days&status=pending");
    assert_eq!(calls[0].body["dashboard_style"], "tiled");
    let files = app.slack.files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].filename, "Sales_Overview.png");
    assert!(app.slack.messages().is_empty());
}
