//! The bot as a Looker Action Hub, driven with request bodies taken from Looker's own action hub
//! (looker-open-source/actions: its types, tests and docs) and from Lookerbot's sources, kept in
//! tests/fixtures/looker_hub (SOURCES.md says where each comes from): every route with right,
//! wrong and missing tokens, the form for each channel type, execute with each kind of payload,
//! `download_url` fetched once, and honest outcomes.

use std::time::Duration;

use serde_json::{Value, json};

use crate::fake_looker::PNG;
use crate::fake_slack::{Channel, Failure};
use crate::helpers::*;

pub const HUB_TOKEN: &str = "hub-token-4a6f0c";

fn auth(token: &str) -> String {
    format!("Token token=\"{token}\"")
}

/// A fixture from tests/fixtures/looker_hub.
pub fn hub_fixture(path: &str) -> Value {
    let path = format!("{}/tests/fixtures/looker_hub/{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

/// The bot with the Action Hub on; Looker is answered once a delivery is recorded (the tests
/// drive the queue themselves) unless `wait` says otherwise.
async fn hub_app_with(customise: impl FnOnce(&mut lookerbot::config::RawSettings)) -> TestApp {
    let app = spawn_app_with(|raw| {
        raw.lookerbot_auth_token = Some(HUB_TOKEN.into());
        raw.lookerbot_hub_wait_secs = Some("0".into());
        raw.public_url = Some("https://lookerbot.example.com".into());
        customise(raw);
    })
    .await;
    // The channels and people Looker's own tests name.
    app.slack.add_channel(Channel::public("C0G9QKBBL", "mychannel"));
    app.slack.add_channel(Channel::public("C0G9QF9GW", "alerts"));
    app.slack.add_member("U12345", "uma", "T000000ACME");
    app
}

async fn hub_app() -> TestApp {
    hub_app_with(|_| {}).await
}

async fn post(
    app: &TestApp,
    path: &str,
    body: impl Into<reqwest::Body>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app
        .http
        .post(format!("{}{path}", app.address))
        .header("Content-Type", "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

async fn execute(app: &TestApp, body: &Value) -> Value {
    execute_text(app, body.to_string()).await
}

/// Sends a body as it is written (a fixture's own member order: Looker sends `mimetype` before
/// `data`; a body re-serialised here has its members sorted, `data` first).
async fn execute_text(app: &TestApp, body: String) -> Value {
    let token = auth(HUB_TOKEN);
    let response = post(app, "/actions/slack/execute", body, &[("Authorization", &token)]).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn fixture_text(path: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/looker_hub/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[tokio::test]
async fn every_route_refuses_wrong_and_missing_tokens_and_reveals_nothing() {
    let app = hub_app().await;
    let routes = [
        "/",
        "/actions/slack/form",
        "/actions/slack/execute",
        "/data_actions/form",
        "/data_actions",
        "/slack/post_from_query_action",
    ];
    let body = hub_fixture("actions_hub/execute/req_test_utils_channel_filename_comment.json").to_string();
    for route in routes {
        for headers in [
            vec![],
            vec![("Authorization", auth("wrong-token"))],
            vec![("Authorization", "Bearer hub-token-4a6f0c".to_string())],
            vec![("Authorization", format!("Token token=\"{HUB_TOKEN}x\""))],
            vec![("X-Looker-Webhook-Token", "not-the-webhook-token".to_string())],
        ] {
            let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let response = post(&app, route, body.clone(), &headers).await;
            let status = response.status().as_u16();
            assert!(status == 401 || status == 403, "{route} {headers:?}: {status}");
            let text = response.text().await.unwrap();
            let answer: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{route}: JSON, got {text}"));
            assert_eq!(
                answer["success"].as_bool().or(answer["looker"]["success"].as_bool()),
                Some(false)
            );
            for secret in ["integrations", "lookerbot.example.com", HUB_TOKEN, "/actions/"] {
                assert!(!text.contains(secret), "{route} revealed {secret}: {text}");
            }
        }
    }
    assert!(app.jobs().await.is_empty(), "nothing recorded");
    assert!(app.slack.calls().is_empty(), "no Slack call for a refused request");

    // The right token, in either case of Looker's `Token token=`, opens every route.
    for header in [
        auth(HUB_TOKEN),
        format!("token token=\"{HUB_TOKEN}\""),
        format!("TOKEN TOKEN=\"{HUB_TOKEN}\""),
    ] {
        let response = post(&app, "/", "", &[("Authorization", &header)]).await;
        assert_eq!(response.status(), 200, "{header}");
    }
}

#[tokio::test]
async fn without_a_hub_token_configured_the_hub_is_off() {
    let app = spawn_app().await;
    let response = post(&app, "/", "", &[("Authorization", &auth(""))]).await;
    assert_eq!(response.status(), 403);
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer["error"].as_str().unwrap().contains("LOOKERBOT_AUTH_TOKEN"),
        "{answer}"
    );
}

#[tokio::test]
async fn the_list_names_both_integrations_with_absolute_urls() {
    let app = hub_app().await;
    // Looker sends the list call with an empty body.
    let response = post(&app, "/", "", &[("Authorization", &auth(HUB_TOKEN))]).await;
    assert_eq!(response.status(), 200);
    let list: Value = response.json().await.unwrap();
    let integrations = list["integrations"].as_array().unwrap();
    let slack = integrations.iter().find(|i| i["name"] == "slack").unwrap();
    assert_eq!(slack["url"], "https://lookerbot.example.com/actions/slack/execute");
    assert_eq!(slack["form_url"], "https://lookerbot.example.com/actions/slack/form");
    assert_eq!(slack["supported_action_types"], json!(["query", "dashboard"]));
    let downloads = slack["supported_download_settings"].as_array().unwrap();
    assert!(downloads.contains(&json!("url")) && downloads.contains(&json!("push")));
    for format in [
        "csv",
        "wysiwyg_pdf",
        "wysiwyg_png",
        "csv_zip",
        "xlsx",
        "json_detail",
        "txt",
        "html",
    ] {
        assert!(
            slack["supported_formats"].as_array().unwrap().contains(&json!(format)),
            "{format}"
        );
    }
    assert!(
        slack["icon_data_uri"]
            .as_str()
            .unwrap()
            .starts_with("data:image/svg+xml;base64,")
    );

    // Lookerbot's integration, as Lookerbot listed it.
    let lookerbot = hub_fixture("lookerbot/list_response.json");
    let theirs = &lookerbot["integrations"][0];
    let post = integrations.iter().find(|i| i["name"] == "post").unwrap();
    for key in [
        "label",
        "description",
        "supported_action_types",
        "supported_formattings",
        "supported_visualization_formattings",
    ] {
        assert_eq!(post[key], theirs[key], "{key}");
    }
    assert_eq!(
        post["url"],
        "https://lookerbot.example.com/slack/post_from_query_action"
    );
    assert_eq!(post["form_url"], "https://lookerbot.example.com/data_actions/form");

    // Lookerbot's webhook token still lists them, as Lookerbot allowed.
    let response = post_without_public_url().await;
    assert_eq!(response.0, 200);
    assert_eq!(
        response.1["integrations"][0]["url"],
        "https://bot.internal.example/actions/slack/execute"
    );
}

/// Without `PUBLIC_URL` the URLs follow the host Looker reached, as a proxy forwarded it.
async fn post_without_public_url() -> (u16, Value) {
    let app = spawn_app_with(|raw| raw.lookerbot_auth_token = Some(HUB_TOKEN.into())).await;
    let response = post(
        &app,
        "/",
        "{}",
        &[
            ("X-Looker-Webhook-Token", WEBHOOK_TOKEN),
            ("X-Forwarded-Host", "bot.internal.example"),
        ],
    )
    .await;
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn the_form_asks_as_lookers_own_slack_action_does_for_each_channel_type() {
    let app = hub_app().await;
    let form = |app: &TestApp, body: Value| {
        let app_address = app.address.clone();
        let http = app.http.clone();
        async move {
            let response = http
                .post(format!("{app_address}/actions/slack/form"))
                .header("Authorization", auth(HUB_TOKEN))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    // Manual: the same fields as Looker's own action, in the same order.
    let manual = form(&app, hub_fixture("actions_hub/form/slack_form_request_manual.json")).await;
    let expected = hub_fixture("actions_hub/form/slack_form_response_manual.json");
    assert_eq!(manual, expected);
    // An empty body is a manual form.
    let response = post(&app, "/actions/slack/form", "", &[("Authorization", &auth(HUB_TOKEN))]).await;
    assert_eq!(response.json::<Value>().await.unwrap(), expected);

    // Channels: the bot's own, sorted, archived ones and those it is not in left out, across pages.
    app.slack.add_channel(Channel {
        is_archived: true,
        ..Channel::public("C0000ARCHIVE", "old-news")
    });
    app.slack.add_channel(Channel {
        is_member: false,
        ..Channel::public("C00000NOTME1", "watercooler")
    });
    let channels = form(&app, hub_fixture("actions_hub/form/slack_form_request_channels.json")).await;
    let share_in = &channels["fields"][1];
    assert_eq!(share_in["label"], "Share In");
    assert_eq!(share_in["required"], true);
    assert_eq!(share_in["type"], "select");
    let labels: Vec<&str> = share_in["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "#alerts",
            "#exec-team",
            "#general",
            "#metrics",
            "#mychannel",
            "#random",
            "#sales"
        ]
    );
    assert_eq!(share_in["options"][0]["name"], "C0G9QF9GW");
    assert_eq!(
        channels["fields"][0], expected["fields"][0],
        "channelType as Looker has it"
    );
    assert!(app.slack.calls_to("users.conversations") >= 4, "followed the cursors");
    assert_eq!(
        app.slack.calls_to("conversations.list"),
        0,
        "the bot's channels only, by default"
    );

    // People: no guests, bots, the bot itself or Slackbot.
    let people = form(&app, hub_fixture("actions_hub/form/slack_form_request_users.json")).await;
    let labels: Vec<&str> = people["fields"][1]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["@alice", "@bob", "@carol", "@olga", "@uma"]);

    // Lists are kept: asking again costs Slack nothing.
    let calls = app.slack.calls().len();
    form(&app, hub_fixture("actions_hub/form/slack_form_request_channels.json")).await;
    assert_eq!(app.slack.calls().len(), calls);
}

#[tokio::test]
async fn every_public_channel_when_the_operator_asks() {
    let app = hub_app_with(|raw| raw.lookerbot_hub_all_channels = Some("true".into())).await;
    app.slack.add_channel(Channel {
        is_member: false,
        ..Channel::public("C00000NOTME1", "watercooler")
    });
    let response = post(
        &app,
        "/actions/slack/form",
        hub_fixture("actions_hub/form/slack_form_request_channels.json").to_string(),
        &[("Authorization", &auth(HUB_TOKEN))],
    )
    .await;
    let form: Value = response.json().await.unwrap();
    let text = form["fields"][1].to_string();
    assert!(text.contains("#watercooler") && text.contains("#exec-team"), "{text}");
    assert_eq!(text.matches("#general").count(), 1, "listed once");
}

#[tokio::test]
async fn a_workspace_with_ten_thousand_channels_answers_the_form_from_the_bots_own() {
    let app = hub_app().await;
    app.slack.set_page_size(1000);
    for n in 0..10_000 {
        app.slack.add_channel(Channel {
            is_member: n % 1000 == 0,
            ..Channel::public(&format!("C{n:010}"), &format!("channel-{n:05}"))
        });
    }
    let started = std::time::Instant::now();
    let response = post(
        &app,
        "/actions/slack/form",
        hub_fixture("actions_hub/form/slack_form_request_channels.json").to_string(),
        &[("Authorization", &auth(HUB_TOKEN))],
    )
    .await;
    let form: Value = response.json().await.unwrap();
    assert_eq!(form["fields"][1]["options"].as_array().unwrap().len(), 7 + 10);
    assert!(app.slack.calls_to("users.conversations") <= 11, "pages of 1,000");
    let _ = started; // speed is measured in the benchmark, not here
}

#[tokio::test]
async fn inline_csv_goes_to_the_channel_named_with_lookers_filename_rules() {
    let app = hub_app().await;
    let body = hub_fixture("actions_hub/execute/req_test_utils_channel_filename_comment.json");
    let answer = execute(&app, &body).await;
    assert_eq!(answer["looker"]["success"], true, "{answer}");
    app.drain_jobs().await;
    let files = app.slack.files();
    assert_eq!(files.len(), 1);
    let file = &files[0];
    assert_eq!(
        file.filename, "mywackyfilename.csv",
        "the expectation of Looker's own test"
    );
    assert_eq!(file.title.as_deref(), Some("mywackyfilename.csv"));
    assert_eq!(file.bytes.as_deref(), Some(&b"1,2,3,4"[..]));
    assert_eq!(file.shared_to.as_deref(), Some("C0G9QKBBL"));
    assert_eq!(
        file.initial_comment.as_deref(),
        Some("mycomment"),
        "a plain comment rides along"
    );
    assert!(app.slack.messages().is_empty());
}

#[tokio::test]
async fn base64_png_and_a_captured_csv_zip_with_line_breaks_are_decoded() {
    let app = hub_app().await;
    // As Looker wrote it (mimetype first: decoded while it is read) ...
    let png = fixture_text("actions_hub/execute/req_dashboard_png_base64.json");
    assert_eq!(execute_text(&app, png).await["looker"]["success"], true);
    // ... and with its members in another order (data first: decoded once read).
    let mut zip = hub_fixture("actions_hub/execute/req_dashboard_csv_zip_captured.json");
    zip["form_params"] = json!({"channel": "#general", "filename": "acquisition.zip"});
    let encoded = zip["attachment"]["data"].as_str().unwrap().to_string();
    assert!(encoded.contains('\n'), "the captured body wraps its base64");
    assert_eq!(execute(&app, &zip).await["looker"]["success"], true);
    app.drain_jobs().await;

    let files = app.slack.files();
    let png_file = files.iter().find(|f| f.filename.ends_with(".png")).unwrap();
    assert_eq!(png_file.filename, "Executive Overview.png");
    assert_eq!(&png_file.bytes.as_ref().unwrap()[..8], &PNG[..8]);
    let zip_file = files.iter().find(|f| f.filename.ends_with(".zip")).unwrap();
    assert_eq!(zip_file.filename, "acquisition.zip");
    use base64::Engine;
    let expected = base64::engine::general_purpose::STANDARD
        .decode(encoded.replace('\n', ""))
        .unwrap();
    assert_eq!(zip_file.bytes.as_ref().unwrap(), &expected);
    assert_eq!(&expected[..2], b"PK");
    assert_eq!(zip_file.shared_to.as_deref(), Some("C0000GENERAL"));
    // The PNG's comment has no formatting: it is the file's comment.
    assert_eq!(png_file.initial_comment.as_deref(), Some("Dashboard snapshot"));
}

#[tokio::test]
async fn a_user_id_gets_the_file_in_a_direct_message() {
    let app = hub_app().await;
    let body = hub_fixture("actions_hub/execute/req_test_utils_user_U.json");
    assert_eq!(execute(&app, &body).await["looker"]["success"], true);
    app.drain_jobs().await;
    let files = app.slack.files();
    assert_eq!(files[0].shared_to.as_deref(), Some("D12345"));
    assert!(
        files[0].filename.starts_with("looker_file_") && files[0].filename.ends_with(".csv"),
        "{}",
        files[0].filename
    );
    assert!(app.slack.calls().contains(&"conversations.open".to_string()));
}

#[tokio::test]
async fn a_comment_with_links_is_posted_as_its_own_message() {
    let app = hub_app().await;
    let mut body = hub_fixture("actions_hub/execute/req_test_utils_channel_filename_comment.json");
    body["form_params"]["initial_comment"] =
        json!("Numbers for <https://looker.example.com/dashboards/7|the board>, *weekly*");
    assert_eq!(execute(&app, &body).await["looker"]["success"], true);
    app.drain_jobs().await;
    assert_eq!(app.slack.files()[0].initial_comment, None);
    let messages = app.slack.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].channel, "C0G9QKBBL");
    assert!(
        messages[0]
            .blocks
            .to_string()
            .contains("<https://looker.example.com/dashboards/7|the board>")
    );
}

#[tokio::test]
async fn a_missing_channel_is_named_and_nothing_is_uploaded() {
    let app = hub_app().await;
    let body = hub_fixture("actions_hub/execute/req_test_utils_no_channel.json");
    let answer = execute(&app, &body).await;
    assert_eq!(answer["looker"]["success"], false);
    assert!(
        answer["looker"]["message"].as_str().unwrap().contains("channel"),
        "{answer}"
    );
    assert_eq!(
        answer["looker"]["validation_errors"]["channel"],
        "Choose a channel or a person."
    );
    // Every member null is a request without a channel, not an error.
    let answer = execute(&app, &hub_fixture("actions_hub/execute/req_null_fields.json")).await;
    assert_eq!(answer["looker"]["success"], false);
    assert!(app.jobs().await.is_empty());
    assert!(app.slack.calls().is_empty());
}

#[tokio::test]
async fn a_cell_request_and_malformed_json_are_refused_with_a_json_reason() {
    let app = hub_app().await;
    let token = auth(HUB_TOKEN);
    let cell = hub_fixture("actions_hub/execute/req_cell_twilio_test.json").to_string();
    let response = post(&app, "/actions/slack/execute", cell, &[("Authorization", &token)]).await;
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.unwrap();
    assert!(answer["error"].as_str().unwrap().contains("\"cell\""), "{answer}");
    for junk in [
        "{\"type\": \"query\", \"attachment\": ",
        "[1,2]",
        "{} trailing",
        "\u{0}",
    ] {
        let response = post(&app, "/actions/slack/execute", junk, &[("Authorization", &token)]).await;
        assert_eq!(response.status(), 400, "{junk:?}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["success"], false);
    }
    let bad_base64 = json!({"type": "query", "form_params": {"channel": "#general"},
        "attachment": {"mimetype": "image/png;base64", "extension": "png", "data": "not base64 at all!"}});
    let response = post(
        &app,
        "/actions/slack/execute",
        bad_base64.to_string(),
        &[("Authorization", &token)],
    )
    .await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("base64"));
    assert!(app.jobs().await.is_empty());
}

#[tokio::test]
async fn a_chunked_body_is_read_like_any_other() {
    let app = hub_app().await;
    let body = hub_fixture("actions_hub/execute/req_dashboard_png_base64.json")
        .to_string()
        .into_bytes();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = body.chunks(7).map(|c| Ok(c.to_vec())).collect();
    let stream = futures_util::stream::iter(chunks);
    let response = post(
        &app,
        "/actions/slack/execute",
        reqwest::Body::wrap_stream(stream),
        &[("Authorization", &auth(HUB_TOKEN))],
    )
    .await;
    assert_eq!(response.status(), 200);
    app.drain_jobs().await;
    assert_eq!(app.slack.files().len(), 1);
}

#[tokio::test]
async fn a_download_url_is_fetched_once_even_when_the_upload_is_retried() {
    let app = hub_app().await;
    let csv = b"county,orders\nKing,12\n".to_vec();
    let mut body = hub_fixture("actions_hub/execute/req_slack_app_streaming_download_url.json");
    body["scheduled_plan"]["url"] = json!(format!("{}/looks/12", app.looker.web_url));
    body["scheduled_plan"]["download_url"] = json!(app.looker.add_download("abc123", "text/csv", csv.clone()));
    app.slack
        .fail_next("files.completeUploadExternal", Failure::Status(503));
    assert_eq!(execute(&app, &body).await["looker"]["success"], true);
    app.drain_jobs().await;
    assert_eq!(app.looker.fetched_downloads(), 1);
    let shared: Vec<_> = app
        .slack
        .files()
        .into_iter()
        .filter(|f| f.shared_to.is_some())
        .collect();
    assert_eq!(shared.len(), 1);
    assert_eq!(shared[0].bytes.as_ref().unwrap(), &csv);
    assert_eq!(shared[0].filename, "Orders by County.csv");
    assert_eq!(shared[0].shared_to.as_deref(), Some("C0G9QF9GW"));
}

#[tokio::test]
async fn a_download_url_elsewhere_is_refused_before_anything_is_recorded() {
    let app = hub_app().await;
    let mut body = hub_fixture("actions_hub/execute/req_slack_app_streaming_download_url.json");
    body["scheduled_plan"]["url"] = json!(format!("{}/looks/12", app.looker.web_url));
    body["scheduled_plan"]["download_url"] = json!("http://169.254.169.254/latest/meta-data/");
    let answer = execute(&app, &body).await;
    assert_eq!(answer["looker"]["success"], false);
    assert!(answer["looker"]["message"].as_str().unwrap().contains("download_url"));
    assert!(app.jobs().await.is_empty());
}

#[tokio::test]
async fn a_download_url_is_not_vouched_for_by_the_plan_it_came_with() {
    let app = hub_app().await;
    let mut body = hub_fixture("actions_hub/execute/req_slack_app_streaming_download_url.json");
    // Both from the same body: the plan's URL cannot vouch for the download's address.
    body["scheduled_plan"]["url"] = json!("http://169.254.169.254/looks/12");
    body["scheduled_plan"]["download_url"] = json!("http://169.254.169.254/latest/meta-data/iam/");
    let answer = execute(&app, &body).await;
    assert_eq!(answer["looker"]["success"], false);
    assert!(
        answer["looker"]["message"]
            .as_str()
            .unwrap()
            .contains("LOOKERBOT_HUB_DOWNLOAD_HOSTS")
    );
    assert!(app.jobs().await.is_empty());
}

#[tokio::test]
async fn a_customer_hosted_looker_the_operator_lists_may_stream_over_https() {
    let (elsewhere, ca_pem) = crate::fake_looker::FakeLooker::start_tls().await;
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, ca_pem).unwrap();
    let host = elsewhere.web_url.trim_start_matches("https://").to_string();
    let app = hub_app_with(|raw| {
        raw.lookerbot_hub_download_hosts = Some(format!("other.example.com, {host}"));
        raw.looker_ca_cert = Some(ca_path.display().to_string());
    })
    .await;
    let mut body = hub_fixture("actions_hub/execute/req_slack_app_streaming_download_url.json");
    body["scheduled_plan"]["url"] = json!(format!("{}/looks/12", elsewhere.web_url));
    body["scheduled_plan"]["download_url"] = json!(elsewhere.add_download("x1", "text/csv", b"a,b\n1,2\n".to_vec()));
    assert_eq!(execute(&app, &body).await["looker"]["success"], true);
    app.drain_jobs().await;
    assert_eq!(elsewhere.fetched_downloads(), 1);
    assert_eq!(app.slack.files()[0].bytes.as_deref(), Some(&b"a,b\n1,2\n"[..]));

    // The same host over plain HTTP is not the listed one.
    body["scheduled_plan"]["download_url"] = json!(format!("http://{host}/downloads/x2"));
    assert_eq!(execute(&app, &body).await["looker"]["success"], false);
}

#[tokio::test]
async fn a_delivery_that_cannot_succeed_lets_its_file_go() {
    let app = hub_app().await;
    let mut body = hub_fixture("actions_hub/execute/req_dashboard_png_base64.json");
    body["form_params"]["channel"] = json!("#nowhere");
    assert_eq!(execute(&app, &body).await["looker"]["success"], true);
    let file = app.jobs().await.len();
    assert_eq!(file, 1);
    let mut kept = None;
    for id in 1..10 {
        if app.store.file_length(id).await.unwrap().is_some() {
            kept = Some(id);
        }
    }
    let kept = kept.expect("the file is kept while the job waits");
    app.drain_jobs().await;
    assert_eq!(app.dead_jobs().await.len(), 1);
    assert_eq!(
        app.store.file_length(kept).await.unwrap(),
        None,
        "not kept for a job that is dead"
    );
}

#[tokio::test]
async fn a_redelivered_request_is_sent_once() {
    let app = hub_app().await;
    let body = hub_fixture("actions_hub/execute/req_test_utils_channel_filename_comment.json").to_string();
    let headers = [
        ("Authorization", auth(HUB_TOKEN)),
        ("X-Looker-Webhook-Id", "wh-77".into()),
    ];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for _ in 0..3 {
        assert_eq!(
            post(&app, "/actions/slack/execute", body.clone(), &headers)
                .await
                .status(),
            200
        );
    }
    app.drain_jobs().await;
    assert_eq!(app.slack.files().len(), 1);
}

#[tokio::test]
async fn looker_is_told_what_really_happened() {
    let app = hub_app_with(|raw| {
        raw.lookerbot_hub_wait_secs = Some("30".into());
        raw.lookerbot_workers = Some("1".into());
    })
    .await;
    let body = hub_fixture("actions_hub/execute/req_test_utils_channel_filename_comment.json");
    let answer = execute(&app, &body).await;
    assert_eq!(answer["looker"]["success"], true, "{answer}");
    assert_eq!(answer["looker"]["message"], "Sent to mychannel.");
    assert_eq!(app.slack.files().len(), 1, "answered after the upload");

    // Slack refuses for good: Looker's schedule history says so, with Slack's reason.
    app.slack
        .fail_next("files.completeUploadExternal", Failure::Error("not_in_channel"));
    let answer = execute(&app, &body).await;
    assert_eq!(answer["looker"]["success"], false, "{answer}");
    let message = answer["looker"]["message"].as_str().unwrap();
    assert!(
        message.contains("not_in_channel") && message.contains("invite the bot"),
        "{message}"
    );
    assert!(!message.contains(crate::fake_slack::BOT_TOKEN));

    // A channel the bot cannot see.
    let mut unknown = body.clone();
    unknown["form_params"]["channel"] = json!("#nowhere");
    let answer = execute(&app, &unknown).await;
    assert_eq!(answer["looker"]["success"], false);
    assert!(answer["looker"]["message"].as_str().unwrap().contains("#nowhere"));
}

#[tokio::test]
async fn a_delivery_still_running_at_the_deadline_is_not_called_a_success_and_finishes_behind() {
    let app = hub_app_with(|raw| {
        raw.lookerbot_hub_wait_secs = Some("1".into());
        raw.lookerbot_workers = Some("1".into());
    })
    .await;
    // Slack is rate limiting for longer than Looker is made to wait.
    app.slack
        .fail_next("files.getUploadURLExternal", Failure::RateLimited(3));
    let body = hub_fixture("actions_hub/execute/req_test_utils_channel_filename_comment.json");
    let answer = execute(&app, &body).await;
    assert_eq!(answer["looker"]["success"], false, "no success not yet had: {answer}");
    let message = answer["looker"]["message"].as_str().unwrap();
    assert!(
        message.contains("Still sending") && message.contains("lookerbot jobs"),
        "{message}"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while app.slack.files().iter().all(|f| f.shared_to.is_none()) {
        assert!(std::time::Instant::now() < deadline, "the delivery finishes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn lookerbots_form_lists_only_the_channels_the_bot_is_in() {
    let app = hub_app().await;
    let response = post(
        &app,
        "/data_actions/form",
        "{}",
        &[("X-Looker-Webhook-Token", WEBHOOK_TOKEN)],
    )
    .await;
    assert_eq!(response.status(), 200);
    let form: Value = response.json().await.unwrap();
    let theirs = hub_fixture("lookerbot/form_response.json");
    assert!(form.is_array(), "a bare array, as Lookerbot answered");
    for key in ["description", "label", "name", "required", "type"] {
        assert_eq!(form[0][key], theirs[0][key], "{key}");
    }
    let labels: Vec<&str> = form[0]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels.first(), Some(&"#alerts"));
    // Anyone holding the webhook token may ask for this form: it never lists the workspace's
    // people, nor channels the bot is not in.
    assert!(labels.iter().all(|l| l.starts_with('#')), "{labels:?}");
    let members = app.slack.member_channel_names();
    assert!(
        labels.iter().all(|l| members.iter().any(|m| l[1..] == *m)),
        "{labels:?} {members:?}"
    );
    // The hub token works too.
    let response = post(&app, "/data_actions/form", "", &[("Authorization", &auth(HUB_TOKEN))]).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn lookerbots_data_actions_send_the_message_to_the_channel() {
    let app = hub_app().await;
    for (n, fixture) in [
        "data_actions_request_ping_channel.json",
        "data_actions_request_form_channel.json",
        "data_actions_request_form_message.json",
    ]
    .iter()
    .enumerate()
    {
        let body = hub_fixture(&format!("lookerbot/{fixture}")).to_string();
        let id = format!("da-{n}");
        let response = post(
            &app,
            "/data_actions",
            body,
            &[("X-Looker-Webhook-Token", WEBHOOK_TOKEN), ("X-Looker-Webhook-Id", &id)],
        )
        .await;
        assert_eq!(response.status(), 200);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["looker"]["success"], true, "{fixture}: {answer}");
        assert!(
            answer["looker"]["message"]
                .as_str()
                .unwrap()
                .starts_with("Sent message to ")
        );
    }
    app.drain_jobs().await;
    let messages = app.slack.messages();
    assert_eq!(messages.len(), 3);
    assert!(
        messages
            .iter()
            .any(|m| m.channel == "C0G9QKBBL" && m.text.contains("Jane Doe"))
    );
    assert_eq!(
        messages.iter().filter(|m| m.channel == "C0G9QF9GW").count(),
        2,
        "#alerts by name"
    );

    // Lookerbot's checks, in Lookerbot's words.
    let answers = hub_fixture("lookerbot/data_actions_responses.json");
    let not_text = json!({"form_params": {"message": 7, "channel": "#alerts"}});
    let response = post(
        &app,
        "/data_actions",
        not_text.to_string(),
        &[("X-Looker-Webhook-Token", WEBHOOK_TOKEN)],
    )
    .await;
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["looker"]["message"], "message must be a string.");
    assert!(answers.to_string().contains("message must be a string."));
}

#[tokio::test]
async fn lookerbots_post_integration_runs_the_look_and_renders_it() {
    let app = hub_app().await;
    app.looker.add_look(
        "42",
        "Daily signups",
        query("1234", "table"),
        status_counts(&[("complete", 42), ("pending", 7)]),
    );
    let mut body = hub_fixture("lookerbot/post_from_query_action_request.json");
    body["scheduled_plan"]["url"] = json!(format!("{}/looks/42", app.looker.web_url));
    // Looker sends the webhook token to any address a user schedules to: it does not open this
    // route, which runs what it is given as the bot. Only the hub's own token does.
    let response = post(
        &app,
        "/slack/post_from_query_action",
        body.to_string(),
        &[("X-Looker-Webhook-Token", WEBHOOK_TOKEN)],
    )
    .await;
    assert_eq!(response.status(), 401);
    assert!(app.jobs().await.is_empty());
    let response = post(
        &app,
        "/slack/post_from_query_action",
        body.to_string(),
        &[("Authorization", &auth(HUB_TOKEN))],
    )
    .await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["success"], true, "{answer}");
    assert_eq!(answer["looker"]["success"], true);
    app.drain_jobs().await;
    let posted = app.slack.only_post_to("C0G9QKBBL");
    assert!(posted.title().contains("Daily signups"), "{}", posted.title());
    assert!(app.slack.files().is_empty(), "rendered, not uploaded");

    // Lookerbot's refusals.
    let mut no_channel = body.clone();
    no_channel["form_params"] = json!({});
    let response = post(
        &app,
        "/slack/post_from_query_action",
        no_channel.to_string(),
        &[("Authorization", &auth(HUB_TOKEN))],
    )
    .await;
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["reason"], "Channel not specified.");
}

/// The form offered `G0FIN1` (a private channel with an old, short id); someone then made a
/// public channel named `g0fin1`. The id the bot offered still means the channel it offered.
#[tokio::test]
async fn a_channel_id_the_form_offered_is_never_taken_for_a_channel_named_like_it() {
    use crate::fake_slack::Channel;
    let app = hub_app().await;
    app.slack.add_channel(Channel {
        is_private: true,
        ..Channel::public("G0FIN1", "finance")
    });
    app.slack.add_channel(Channel::public("C0SQUATTER1", "g0fin1"));
    let mut body = hub_fixture("actions_hub/execute/req_test_utils_channel_filename_comment.json");
    body["form_params"]["channel"] = serde_json::json!("G0FIN1");
    let answer = execute(&app, &body).await;
    assert_eq!(answer["looker"]["success"], true, "{answer}");
    app.drain_jobs().await;
    let files = app.slack.files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].shared_to.as_deref(), Some("G0FIN1"));
}

#[tokio::test]
async fn a_send_that_keeps_failing_is_never_reported_to_looker_as_a_success() {
    let app = hub_app_with(|raw| {
        raw.lookerbot_hub_wait_secs = Some("2".into());
        raw.lookerbot_workers = Some("1".into());
        raw.lookerbot_job_max_attempts = Some("50".into());
        raw.lookerbot_job_backoff_ms = Some("100".into());
    })
    .await;
    app.slack.outage_for(Duration::from_secs(30));
    let body = hub_fixture("actions_hub/execute/req_test_utils_channel_filename_comment.json");
    let answer = execute(&app, &body).await;
    assert_eq!(answer["looker"]["success"], false, "{answer}");
    let message = answer["looker"]["message"].as_str().unwrap();
    assert!(message.contains("so far: ") && message.contains("503"), "{message}");
}
