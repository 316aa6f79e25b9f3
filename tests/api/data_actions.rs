//! Looker's data actions as Slack buttons, end to end: results show their `action` links as
//! buttons carrying signed keys; a click (Slack's own `block_actions` payload, from the Java SDK's
//! tests) is acknowledged at once and sent to Looker by a job that tells the clicker the outcome;
//! actions with a form open a modal within the trigger's three seconds and Looker's form replaces
//! it; a submission is checked field by field. Tampered, unknown and expired keys reach nothing.

use std::time::Duration;

use lookerbot::queue::Outcome;
use lookerbot::store::now_millis;
use serde_json::{Value, json};

use crate::helpers::*;

const TICKET_URL: &str = "https://actions.example.com/actions/ticket/execute";
const FORM_URL: &str = "https://actions.example.com/actions/ticket/form";

/// An action link as Looker puts it on a json_detail cell.
fn action(label: &str, with_form: bool) -> Value {
    let mut link = json!({"label": label, "type": "action", "type_label": "Action", "url": TICKET_URL,
                          "params": {"status_value": "pending"}, "icon_url": null});
    if with_form {
        link["form_url"] = json!(FORM_URL);
    }
    link
}

/// A result whose status cells each carry the given actions.
fn result_with_actions(rows: &[(&str, i64)], actions: &[Value]) -> Value {
    let mut result = status_counts(rows);
    for row in result["data"].as_array_mut().unwrap() {
        let status = row["orders.status"]["value"].clone();
        row["orders.status"]["links"] = json!(
            actions
                .iter()
                .map(|a| {
                    let mut a = a.clone();
                    a["params"]["status_value"] = status.clone();
                    a
                })
                .collect::<Vec<_>>()
        );
    }
    result
}

async fn app_with_look(result: Value) -> TestApp {
    app_with_look_and_lease(result, 2).await
}

async fn app_with_look_and_lease(result: Value, lease_secs: u64) -> TestApp {
    let app = spawn_app_with(|raw| raw.lookerbot_job_lease_secs = Some(lease_secs.to_string())).await;
    app.looker
        .add_look("7", "Orders by Status", query("q7", "table"), result);
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders by Status", None),
    )
    .await;
    app.drain_jobs().await;
    app
}

/// The data-action elements of the posted result.
fn elements(app: &TestApp) -> Vec<Value> {
    let message = app.slack.only_post_to("#general");
    message
        .blocks
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().unwrap().clone())
        .collect()
}

/// The values a click can send: each button's, or each menu option's.
fn keys(app: &TestApp) -> Vec<String> {
    elements(app)
        .iter()
        .flat_map(|e| match e["type"].as_str() {
            Some("button") => vec![e["value"].as_str().unwrap().to_string()],
            _ => e["options"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["value"].as_str().unwrap().to_string())
                .collect(),
        })
        .collect()
}

/// Slack's `block_actions` payload (the Java SDK's captured one) for a click on `key`.
fn click(app: &TestApp, key: &str, user: &str) -> String {
    let mut payload: Value = serde_json::from_str(&slack_fixture("interactive_block_actions_message.json")).unwrap();
    payload["user"]["id"] = json!(user);
    payload["user"]["team_id"] = json!("T000000ACME");
    payload["team"]["id"] = json!("T000000ACME");
    payload["channel"]["id"] = json!("C0000GENERAL");
    payload["container"]["channel_id"] = json!("C0000GENERAL");
    payload["response_url"] = json!(app.slack.response_url());
    payload["trigger_id"] = json!(app.slack.trigger());
    payload["actions"][0]["action_id"] = json!("looker_data_action:0");
    payload["actions"][0]["value"] = json!(key);
    form_body(&payload)
}

fn form_body(payload: &Value) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

async fn post_action(app: &TestApp, body: &str) -> reqwest::Response {
    app.post_signed("/slack/action", FORM, body, (now_millis() / 1000, SIGNING_SECRET), &[])
        .await
}

#[tokio::test]
async fn results_offer_their_actions_as_buttons_carrying_only_a_signed_key() {
    let app = app_with_look(result_with_actions(
        &[("complete", 3), ("pending", 2)],
        &[action("Create ticket", false)],
    ))
    .await;
    let elements = elements(&app);
    assert_eq!(elements.len(), 2, "{elements:?}");
    assert_eq!(elements[0]["type"], "button");
    assert_eq!(elements[0]["text"]["text"], "Create ticket · complete");
    let key = elements[0]["value"].as_str().unwrap();
    assert!(key.starts_with("v1.") && key.len() <= 150, "{key}");
    assert!(!key.contains("actions.example.com"), "the action stays on the server");
}

#[tokio::test]
async fn many_actions_become_overflow_menus() {
    let actions: Vec<Value> = (0..3).map(|n| action(&format!("Action {n}"), false)).collect();
    let rows: Vec<(&str, i64)> = vec![("a", 1), ("b", 2), ("c", 3), ("d", 4)];
    let app = app_with_look(result_with_actions(&rows, &actions)).await;
    let elements = elements(&app);
    assert!(elements.iter().all(|e| e["type"] == "overflow"), "{elements:?}");
    assert_eq!(keys(&app).len(), 12);
    assert!(elements.iter().all(|e| e["options"].as_array().unwrap().len() <= 5));
}

#[tokio::test]
async fn no_buttons_when_the_operator_turns_them_off() {
    let app = spawn_app_with(|raw| raw.lookerbot_data_actions_in_messages = Some("false".into())).await;
    app.looker.add_look(
        "7",
        "Orders by Status",
        query("q7", "table"),
        result_with_actions(&[("a", 1), ("b", 2)], &[action("Go", false)]),
    );
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders by Status", None),
    )
    .await;
    app.drain_jobs().await;
    assert!(
        !app.slack
            .only_post_to("#general")
            .blocks
            .to_string()
            .contains("\"actions\"")
    );
}

#[tokio::test]
async fn a_click_sends_the_action_to_looker_exactly_as_it_came_and_tells_the_clicker() {
    let app = app_with_look(result_with_actions(
        &[("complete", 3), ("pending", 2)],
        &[action("Create ticket", false)],
    ))
    .await;
    app.looker.answer_data_action(
        TICKET_URL,
        json!({"success": true, "message": "Ticket #42 created", "refresh_query": false}),
    );
    let key = keys(&app)[1].clone();
    let response = post_action(&app, &click(&app, &key, "U000000ALICE")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "", "acknowledged at once");
    assert!(
        app.looker.data_action_calls().is_empty(),
        "nothing reaches Looker inside the ack"
    );
    app.drain_jobs().await;

    let calls = app.looker.data_action_calls();
    assert_eq!(calls.len(), 1);
    let mut sent = action("Create ticket", false);
    sent["params"]["status_value"] = json!("pending");
    assert_eq!(calls[0]["action"], sent, "Looker's link object, unchanged");
    assert_eq!(calls[0]["form_values"], json!({}));
    assert_eq!(app.slack.said(), [":white_check_mark: Ticket #42 created"]);
    assert_eq!(app.slack.responses()[0]["response_type"], "ephemeral");
}

#[tokio::test]
async fn a_click_slack_delivers_twice_is_sent_once() {
    let app = app_with_look(result_with_actions(
        &[("complete", 3), ("pending", 2)],
        &[action("Create ticket", false)],
    ))
    .await;
    app.looker.answer_data_action(TICKET_URL, json!({"success": true}));
    let body = click(&app, &keys(&app)[0], "U000000ALICE");
    for _ in 0..3 {
        assert_eq!(post_action(&app, &body).await.status(), 200);
    }
    app.drain_jobs().await;
    assert_eq!(app.looker.data_action_calls().len(), 1);
    assert_eq!(app.slack.said(), [":white_check_mark: Done."]);
}

#[tokio::test]
async fn lookers_validation_errors_are_listed_and_failures_said_plainly() {
    let app = app_with_look(result_with_actions(
        &[("complete", 3), ("pending", 2)],
        &[action("Create ticket", false)],
    ))
    .await;
    app.looker.answer_data_action(TICKET_URL, json!({"success": false, "refresh_query": false,
        "validation_errors": {"message": "Validation Failed", "documentation_url": "https://x",
            "errors": [{"field": "email", "code": "invalid", "message": "is not an address", "documentation_url": "https://x"}]}}));
    post_action(&app, &click(&app, &keys(&app)[0], "U000000ALICE")).await;
    app.drain_jobs().await;
    assert_eq!(
        app.slack.said(),
        [":x: Looker didn't accept this action:\n• email: is not an address"]
    );

    // Looker refusing the action itself: one sentence, Looker's detail kept for the operator.
    app.looker.fail_next("data_actions", 404);
    post_action(&app, &click(&app, &keys(&app)[0], "U000000ALICE")).await;
    app.drain_jobs().await;
    assert_eq!(
        app.slack.said()[1],
        "Looker couldn't perform this action. An admin can find why in the bot's log."
    );
}

#[tokio::test]
async fn tampered_unknown_and_expired_keys_are_refused_and_nothing_reaches_looker() {
    let app = app_with_look(result_with_actions(
        &[("complete", 3), ("pending", 2)],
        &[action("Create ticket", false)],
    ))
    .await;
    let key = keys(&app)[0].clone();
    let parts: Vec<&str> = key.split('.').collect();
    let tampered = format!(
        "{}.{}.{}.{}",
        parts[0],
        parts[1],
        parts[2].parse::<i64>().unwrap() + 1,
        parts[3]
    );
    let unknown = app
        .bot
        .action_keys
        .sign("0123456789abcdef0123456789abcdef", now_millis() / 1000 + 3600);
    let expired = app.bot.action_keys.sign(parts[1], now_millis() / 1000 - 1);
    for value in [
        tampered.as_str(),
        unknown.as_str(),
        expired.as_str(),
        "{\"action\":{\"url\":\"https://evil\"}}",
    ] {
        assert_eq!(
            post_action(&app, &click(&app, value, "U000000ALICE")).await.status(),
            200
        );
    }
    app.drain_jobs().await;
    assert!(app.looker.data_action_calls().is_empty());
    let said = app.slack.said();
    assert_eq!(said.len(), 4);
    assert_eq!(
        said[0],
        "I don't recognise this button. Run the query again for fresh actions."
    );
    assert_eq!(said[1], said[0]);
    assert_eq!(
        said[2],
        "This button has expired. Run the query again for fresh actions."
    );
    assert_eq!(said[3], said[0]);
}

#[tokio::test]
async fn guests_bots_and_strangers_may_not_act() {
    let app = app_with_look(result_with_actions(
        &[("complete", 3), ("pending", 2)],
        &[action("Create ticket", false)],
    ))
    .await;
    for user in ["U000000GUEST", "U0000000ROBO", "U00000OTHER"] {
        post_action(&app, &click(&app, &keys(&app)[0], user)).await;
    }
    app.drain_jobs().await;
    assert!(app.looker.data_action_calls().is_empty());
    assert_eq!(app.slack.said().len(), 3);
    assert!(app.slack.said()[0].contains("Guest accounts"));
}

#[tokio::test]
async fn an_answer_lost_on_the_way_back_is_never_sent_twice() {
    let app = app_with_look(result_with_actions(
        &[("complete", 3), ("pending", 2)],
        &[action("Create ticket", false)],
    ))
    .await;
    app.looker
        .answer_data_action(TICKET_URL, json!({"success": true, "message": "Done"}));
    post_action(&app, &click(&app, &keys(&app)[0], "U000000ALICE")).await;
    // Looker performs the action, and the bot is killed before its answer arrives.
    let hung = app.looker.hang_next_data_action();
    app.kill_worker_when(hung.notified()).await;
    tokio::time::sleep(app.settings.jobs.lease + Duration::from_millis(100)).await;
    assert_eq!(app.drain_jobs().await, [Outcome::Done]);
    assert_eq!(app.looker.data_action_calls().len(), 1, "not sent again");
    assert_eq!(
        app.slack.said(),
        [
            "I lost track of this action while sending it, so it may have gone through. Check in Looker before trying again."
        ]
    );
}

/// Looker's form for the ticket action: a required title, a textarea, a select with a default.
fn ticket_form() -> Value {
    json!({"fields": [
        {"name": "title", "label": "Title", "type": "string", "required": true, "interactive": false},
        {"name": "details", "label": "Details", "type": "textarea", "description": "What happened", "required": false, "interactive": false},
        {"name": "priority", "label": "Priority", "type": "select", "default": "p2", "required": true, "interactive": false,
         "options": [{"name": "p1", "label": "Urgent"}, {"name": "p2", "label": "Normal"}]}
    ]})
}

/// Slack's `view_submission` payload (the Java SDK's captured one) for the modal `view_id` with
/// these values, submitted by Alice.
fn submission(view_id: &str, view: &Value, values: Value) -> String {
    submission_by("U000000ALICE", view_id, view, values)
}

fn submission_by(user: &str, view_id: &str, view: &Value, values: Value) -> String {
    let mut payload: Value = serde_json::from_str(&slack_fixture("interactive_view_submission.json")).unwrap();
    payload["user"]["id"] = json!(user);
    payload["view"]["id"] = json!(view_id);
    payload["team"]["id"] = json!("T000000ACME");
    payload["view"]["callback_id"] = view["callback_id"].clone();
    payload["view"]["private_metadata"] = view["private_metadata"].clone();
    payload["view"]["blocks"] = view["blocks"].clone();
    payload["view"]["state"] = json!({"values": values});
    form_body(&payload)
}

#[tokio::test]
async fn a_form_opens_as_a_modal_at_once_and_lookers_form_takes_its_place() {
    let result = result_with_actions(&[("complete", 3), ("pending", 2)], &[action("Create ticket", true)]);
    let app = app_with_look_and_lease(result, 10).await;
    app.looker.data_action_form_for(TICKET_URL, ticket_form());
    app.looker
        .answer_data_action(TICKET_URL, json!({"success": true, "message": "Ticket #43 created"}));
    // The action server takes longer to build its form than a trigger_id lasts.
    app.looker.set_form_delay(Duration::from_millis(3500));
    let response = post_action(&app, &click(&app, &keys(&app)[0], "U000000ALICE")).await;
    assert_eq!(response.status(), 200);
    let views = app.slack.views();
    assert_eq!(views.len(), 1, "a modal opened inside the acknowledgement");
    assert_eq!(views[0].0, "views.open");
    assert!(views[0].2.to_string().contains("Asking Looker"));
    app.drain_jobs().await;

    let views = app.slack.views();
    assert_eq!(views.len(), 2, "{:?} {:?}", app.dead_jobs().await, app.slack.calls());
    assert_eq!(views[1].0, "views.update");
    let form = &views[1].2;
    assert_eq!(views[1].1, views[0].1, "the same modal, updated in place");
    assert_eq!(app.slack.view(&views[0].1).as_ref(), Some(form));
    let blocks = form["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 3);
    assert_eq!(blocks[0]["label"]["text"], "Title");
    assert_eq!(blocks[0]["optional"], false);
    assert_eq!(blocks[1]["element"]["multiline"], true);
    assert_eq!(blocks[1]["hint"]["text"], "What happened");
    assert_eq!(blocks[2]["element"]["initial_option"]["text"]["text"], "Normal");
    assert_eq!(form["title"]["text"], "Create ticket");
    assert_eq!(
        app.looker.data_action_form_calls()[0]["form_url"],
        FORM_URL,
        "the action object, as Looker gave it"
    );

    // Submitted without its title: refused under the field, nothing sent.
    let empty = json!({"field:0": {"value": {"type": "plain_text_input", "value": null}},
                       "field:2": {"value": {"type": "static_select", "selected_option": {"value": "0"}}}});
    let response = post_action(&app, &submission(&views[0].1, form, empty)).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer,
        json!({"response_action": "errors", "errors": {"field:0": "Please fill this in."}})
    );
    assert!(app.looker.data_action_calls().is_empty());

    // Submitted whole: sent with Looker's own field and option names.
    let whole = json!({"field:0": {"value": {"type": "plain_text_input", "value": "Disk full"}},
                       "field:1": {"value": {"type": "plain_text_input", "value": "on db-2"}},
                       "field:2": {"value": {"type": "static_select", "selected_option": {"value": "0", "text": {"type": "plain_text", "text": "Urgent"}}}}});
    let response = post_action(&app, &submission(&views[0].1, form, whole)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "", "the modal closes");
    app.drain_jobs().await;
    let calls = app.looker.data_action_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0]["form_values"],
        json!({"title": "Disk full", "details": "on db-2", "priority": "p1"})
    );
    assert_eq!(app.slack.said(), [":white_check_mark: Ticket #43 created"]);
}

#[tokio::test]
async fn a_form_is_kept_for_its_person_and_modal_only() {
    let result = result_with_actions(&[("complete", 3)], &[action("Create ticket", true)]);
    let app = app_with_look_and_lease(result, 10).await;
    app.looker.data_action_form_for(TICKET_URL, ticket_form());
    let key = keys(&app)[0].clone();
    assert_eq!(
        post_action(&app, &click(&app, &key, "U000000ALICE")).await.status(),
        200
    );
    app.drain_jobs().await;
    let views = app.slack.views();
    let (alice_view, form) = (views[0].1.clone(), views[1].2.clone());
    let whole = json!({"field:0": {"value": {"type": "plain_text_input", "value": "Disk full"}},
                       "field:2": {"value": {"type": "static_select", "selected_option": {"value": "0"}}}});

    // Bob replays Alice's modal (her private_metadata) from his own session, and someone
    // submits against another modal id: neither finds a form, so nothing is sent with values
    // checked against a form fetched for someone else.
    for body in [
        submission_by("U00000000BOB", &alice_view, &form, whole.clone()),
        submission("V0000FORGED", &form, whole.clone()),
    ] {
        assert_eq!(post_action(&app, &body).await.status(), 200);
        app.drain_jobs().await;
    }
    assert!(
        app.looker.data_action_calls().is_empty(),
        "{:?}",
        app.looker.data_action_calls()
    );

    // Alice's own submission from her own modal goes through.
    assert_eq!(
        post_action(&app, &submission(&alice_view, &form, whole)).await.status(),
        200
    );
    app.drain_jobs().await;
    assert_eq!(app.looker.data_action_calls().len(), 1);
}

#[tokio::test]
async fn a_form_looker_cannot_give_says_so_in_the_modal() {
    let app = app_with_look(result_with_actions(
        &[("complete", 3), ("pending", 2)],
        &[action("Create ticket", true)],
    ))
    .await;
    // No form registered: Looker answers 404.
    post_action(&app, &click(&app, &keys(&app)[0], "U000000ALICE")).await;
    app.drain_jobs().await;
    let views = app.slack.views();
    assert_eq!(views.len(), 2);
    assert!(
        views[1]
            .2
            .to_string()
            .contains("Looker couldn't load this action's form")
    );
    assert!(app.looker.data_action_calls().is_empty());
}

#[tokio::test]
async fn buttons_in_an_answer_to_a_question_work_too() {
    let app = spawn_app().await;
    let result = result_with_actions(&[("complete", 3), ("pending", 2)], &[action("Create ticket", false)]);
    app.looker
        .add_look("7", "Orders by Status", query("q7", "table"), result);
    app.looker
        .answer_data_action(TICKET_URL, json!({"success": true, "message": "Ticket #44 created"}));
    let text = format!("{}/looks/7", app.looker.web_url);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("team_id", "T000000ACME")
        .append_pair("channel_id", "C0000GENERAL")
        .append_pair("user_id", "U000000ALICE")
        .append_pair("command", "/looker")
        .append_pair("text", &text)
        .append_pair("response_url", &app.slack.response_url())
        .append_pair("trigger_id", "13345224609.738474920.8088930838d88f008e0")
        .finish();
    let response = app
        .post_signed(
            "/slack/receive",
            FORM,
            &body,
            (now_millis() / 1000, SIGNING_SECRET),
            &[],
        )
        .await;
    assert_eq!(response.status(), 200);
    app.drain_jobs().await;
    let key = keys(&app)[0].clone();
    post_action(&app, &click(&app, &key, "U000000ALICE")).await;
    app.drain_jobs().await;
    assert_eq!(app.looker.data_action_calls().len(), 1);
    assert!(
        app.slack
            .said()
            .contains(&":white_check_mark: Ticket #44 created".to_string())
    );
}

#[tokio::test]
async fn over_socket_mode_clicks_and_forms_get_the_same_answers() {
    use crate::socket_mode::{envelope, next_connection, socket_server};
    let (url, mut connections) = socket_server().await;
    let app = spawn_app_with(|raw| {
        raw.slack_app_token = Some("xapp-1-A0000000APP-test".into());
        raw.lookerbot_job_lease_secs = Some("10".into());
    })
    .await;
    app.slack.set_socket_url(&url);
    let mut socket = next_connection(&mut connections).await;
    let result = result_with_actions(&[("complete", 3), ("pending", 2)], &[action("Create ticket", true)]);
    app.looker
        .add_look("7", "Orders by Status", query("q7", "table"), result);
    app.looker.data_action_form_for(TICKET_URL, ticket_form());
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders by Status", None),
    )
    .await;
    app.drain_jobs().await;

    // The click, as Slack sends it over the socket: a modal opens before the ack.
    let body = click(&app, &keys(&app)[0], "U000000ALICE");
    let payload: Value = serde_json::from_str(&url::form_urlencoded::parse(body.as_bytes()).next().unwrap().1).unwrap();
    let frame = json!({"type": "interactive", "envelope_id": "env-click", "accepts_response_payload": false, "payload": payload});
    assert_eq!(envelope(&mut socket, frame).await, json!({"envelope_id": "env-click"}));
    assert_eq!(app.slack.views().len(), 1);
    app.drain_jobs().await;
    let (view_id, form) = (app.slack.views()[1].1.clone(), app.slack.views()[1].2.clone());

    // A submission missing its title: the field errors ride in the ack's payload.
    let body = submission(&view_id, &form, json!({}));
    let payload: Value = serde_json::from_str(&url::form_urlencoded::parse(body.as_bytes()).next().unwrap().1).unwrap();
    let frame = json!({"type": "interactive", "envelope_id": "env-submit", "accepts_response_payload": true, "payload": payload});
    let ack = envelope(&mut socket, frame).await;
    assert_eq!(ack["envelope_id"], "env-submit");
    assert_eq!(ack["payload"]["response_action"], "errors");
    assert_eq!(ack["payload"]["errors"]["field:0"], "Please fill this in.");
    assert!(app.looker.data_action_calls().is_empty());
}

#[tokio::test]
async fn a_click_reaches_looker_as_the_clicker_where_the_looker_runs_each_persons_work_as_theirs() {
    let app = spawn_app_with(|raw| {
        raw.lookerbot_identity = Some("sudo".into());
        raw.lookerbot_audience_default = Some("public".into());
    })
    .await;
    app.looker.add_user("10", "alice@acme.example");
    app.looker.add_user("1", "analyst@acme.example");
    let result = result_with_actions(&[("pending", 2)], &[action("Create ticket", false)]);
    app.looker
        .add_look("7", "Orders by Status", query("q7", "table"), result);
    // A schedule posts the result as its owner (Looker user 1); the click is Alice's own.
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders by Status", None),
    )
    .await;
    app.drain_jobs().await;
    app.looker
        .answer_data_action(TICKET_URL, json!({"success": true, "message": "Ticket #43 created"}));
    let key = keys(&app)[0].clone();
    assert_eq!(
        post_action(&app, &click(&app, &key, "U000000ALICE")).await.status(),
        200
    );
    app.drain_jobs().await;
    assert_eq!(app.looker.data_action_calls().len(), 1);
    let requests = app.looker.requests();
    let callers = app.looker.callers();
    let sent_as: Vec<&String> = requests
        .iter()
        .zip(&callers)
        .filter(|(r, _)| r.starts_with("POST /data_actions"))
        .map(|(_, c)| c)
        .collect();
    assert_eq!(sent_as, [&"10".to_string()], "{requests:?} {callers:?}");
    assert_eq!(app.slack.said(), [":white_check_mark: Ticket #43 created"]);
}

#[tokio::test]
async fn a_click_during_a_slack_outage_is_sent_once_and_its_outcome_told_once_slack_is_back() {
    let app = spawn_app_with(|raw| raw.lookerbot_job_max_attempts = Some("12".into())).await;
    let result = result_with_actions(&[("complete", 3), ("pending", 2)], &[action("Create ticket", false)]);
    app.looker
        .add_look("7", "Orders by Status", query("q7", "table"), result);
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders by Status", None),
    )
    .await;
    app.drain_jobs().await;
    app.looker.answer_data_action(
        TICKET_URL,
        json!({"success": true, "message": "Ticket #44 created", "refresh_query": false}),
    );
    let key = keys(&app)[1].clone();
    assert_eq!(
        post_action(&app, &click(&app, &key, "U000000ALICE")).await.status(),
        200
    );
    // Slack (its response_url and its Web API) answers 503 for a while.
    app.slack.outage_for(Duration::from_millis(300));
    app.drain_jobs().await;
    assert_eq!(app.looker.data_action_calls().len(), 1, "sent to Looker once");
    assert_eq!(app.slack.said(), [":white_check_mark: Ticket #44 created"], "told once");
}
