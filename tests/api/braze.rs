//! The Action Hub's `braze` integration from outside: Looker's own Braze test request (endpoint
//! pointed at the fake Braze) gives the objects Looker's action sends; batches of 75, a 429
//! waited out as Braze's headers ask, a refusal recorded with Braze's message, 100,001 rows capped
//! with the count told, a streamed `download_url`, a pivot and a bad endpoint refused, and the API
//! key in no log line.

use serde_json::{Value, json};

use crate::action_hub::HUB_TOKEN;
use crate::fake_braze::{BRAZE_KEY, BrazeFailure, FakeBraze};
use crate::helpers::*;
use crate::process::ServerProcess;

async fn braze_app(braze: &FakeBraze) -> TestApp {
    let endpoint = braze.base_url.clone();
    spawn_app_with(move |raw| {
        raw.lookerbot_auth_token = Some(HUB_TOKEN.into());
        raw.public_url = Some("https://lookerbot.example.com".into());
        raw.lookerbot_braze_endpoints = Some(endpoint);
        raw.lookerbot_hub_wait_secs = Some("60".into());
        raw.lookerbot_workers = Some("2".into());
    })
    .await
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/braze/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Looker's request to the action, its detail as the attachment and the endpoint the fake.
fn request(braze: &FakeBraze, detail: &Value) -> Value {
    json!({
        "type": "query",
        "scheduled_plan": {"title": "Active users", "type": "Look"},
        "data": {"braze_api_key": BRAZE_KEY, "braze_api_endpoint": braze.base_url},
        "form_params": {"braze_key": "external_id", "braze_segment": "looker_export"},
        "attachment": {"mimetype": "application/json", "extension": "json", "data": detail.to_string()}
    })
}

async fn execute_at(address: &str, body: &Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{address}/actions/braze/execute"))
        .header("Authorization", format!("Token token=\"{HUB_TOKEN}\""))
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["looker"].clone()
}

fn users(n: usize) -> Value {
    let rows: Vec<Value> = (0..n)
        .map(|i| json!({"users.id": {"value": format!("u{i}")}, "users.plan": {"value": "pro", "rendered": "Pro"}}))
        .collect();
    json!({"fields": {"dimensions": [{"name": "users.id", "tags": ["braze_id"]},
                                     {"name": "users.plan", "tags": ["braze[Plan]"]}],
                      "measures": [], "pivots": []},
           "data": rows})
}

#[tokio::test]
async fn the_integration_is_listed_with_looker_s_settings_and_form() {
    let braze = FakeBraze::start().await;
    let app = braze_app(&braze).await;
    let auth = format!("Token token=\"{HUB_TOKEN}\"");
    let list: Value = app
        .http
        .post(format!("{}/", app.address))
        .header("Authorization", &auth)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let integration = list["integrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "braze")
        .unwrap()
        .clone();
    assert_eq!(integration["supported_formats"], json!(["json_detail"]));
    assert_eq!(integration["required_fields"], json!([{"tag": "braze_id"}]));
    assert_eq!(integration["params"][1]["sensitive"], true);
    let form: Value = app
        .http
        .post(format!("{}/actions/braze/form", app.address))
        .header("Authorization", &auth)
        .json(&json!({"data": {"braze_api_key": "k", "braze_api_endpoint": "https://rest.iad-01.braze.com"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(form["fields"][0]["name"], "braze_key");
    assert_eq!(form["fields"][1]["default"], "LOOKER_EXPORT");
    let unset: Value = app
        .http
        .post(format!("{}/actions/braze/form", app.address))
        .header("Authorization", &auth)
        .json(&json!({"data": {}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        unset["error"],
        "Required setting \"Braze API Key\" not specified in action settings."
    );
}

#[tokio::test]
async fn looker_s_own_test_request_sends_what_looker_s_action_sends() {
    let braze = FakeBraze::start().await;
    let app = braze_app(&braze).await;
    let mut body = fixture("derived_success_wire_payload.json");
    body["data"]["braze_api_endpoint"] = json!(braze.base_url);
    body["data"]["braze_api_key"] = json!(BRAZE_KEY);
    let answer = execute_at(&app.address, &body).await;
    assert_eq!(answer["success"], true, "{answer}");
    assert_eq!(answer["message"], "Sent 2 rows to Braze.");
    let expected = fixture("success_with_sample_data.expected_braze_request.json");
    assert_eq!(Value::Array(braze.objects()), expected["body"]["attributes"]);
}

#[tokio::test]
async fn rows_go_in_batches_of_75_and_a_rate_limit_is_waited_out() {
    let braze = FakeBraze::start().await;
    let app = braze_app(&braze).await;
    braze.fail_next(BrazeFailure::RateLimited(1));
    braze.fail_next(BrazeFailure::Status(503, "Service Unavailable"));
    let answer = execute_at(&app.address, &request(&braze, &users(200))).await;
    assert_eq!(answer["message"], "Sent 200 rows to Braze.", "{answer}");
    assert_eq!(braze.batches(), vec![75, 75, 50]);
    assert_eq!(braze.requests(), 5, "the 429 and the 503 were tried again");
    let first = &braze.objects()[0];
    assert_eq!(
        *first,
        json!({"_update_existing_only": true, "external_id": "u0", "Plan": "pro",
                              "looker_export": {"add": ["looker_export"]}})
    );
}

#[tokio::test]
async fn a_batch_braze_refuses_is_counted_and_told_with_braze_s_message() {
    let braze = FakeBraze::start().await;
    let app = braze_app(&braze).await;
    braze.fail_next(BrazeFailure::Status(400, "Valid data must be provided"));
    braze.fail_next(BrazeFailure::Partial(2));
    let mut detail = users(160);
    detail["data"]
        .as_array_mut()
        .unwrap()
        .push(json!({"users.id": {"value": null}}));
    let answer = execute_at(&app.address, &request(&braze, &detail)).await;
    assert_eq!(answer["success"], false, "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Sent 83 rows to Braze; 1 skipped without a braze_id; 77 failed (Braze: Valid data must be provided)"
        ),
        "{message}"
    );
}

#[tokio::test]
async fn an_export_of_more_than_100000_rows_sends_the_first_100000_and_says_so() {
    let braze = FakeBraze::start().await;
    let app = braze_app(&braze).await;
    let answer = execute_at(&app.address, &request(&braze, &users(100_001))).await;
    assert_eq!(
        answer["message"], "Sent 100,000 rows to Braze; 1 more not sent: an export sends at most 100,000 rows.",
        "{answer}"
    );
    assert_eq!(braze.objects().len(), 100_000);
    assert!(braze.batches().iter().all(|n| *n <= 75));
}

#[tokio::test]
async fn a_streamed_download_url_is_read_from_the_looker_that_sent_it() {
    let braze = FakeBraze::start().await;
    let app = braze_app(&braze).await;
    let link = app
        .looker
        .add_download("users", "application/json", users(10).to_string().into_bytes());
    let mut body = request(&braze, &users(0));
    body.as_object_mut().unwrap().remove("attachment");
    body["scheduled_plan"]["download_url"] = json!(link);
    let answer = execute_at(&app.address, &body).await;
    assert_eq!(answer["message"], "Sent 10 rows to Braze.", "{answer}");
    body["scheduled_plan"]["download_url"] = json!("https://elsewhere.example.com/downloads/users");
    let answer = execute_at(&app.address, &body).await;
    assert_eq!(answer["success"], false);
    assert!(
        answer["message"].as_str().unwrap().contains("refused the download_url"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_pivot_a_missing_tag_and_a_bad_endpoint_are_refused_with_a_sentence() {
    let braze = FakeBraze::start().await;
    let app = braze_app(&braze).await;
    let mut pivoted = users(3);
    pivoted["fields"]["pivots"] = json!([{"name": "users.plan"}]);
    let answer = execute_at(&app.address, &request(&braze, &pivoted)).await;
    assert_eq!(answer["success"], false);
    assert!(
        answer["message"].as_str().unwrap().contains("remove the pivot"),
        "{answer}"
    );
    let untagged = json!({"fields": {"dimensions": [{"name": "users.id", "tags": []}]}, "data": []});
    let answer = execute_at(&app.address, &request(&braze, &untagged)).await;
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("No field is tagged braze_id"),
        "{answer}"
    );
    for endpoint in [
        "https://rest.notbraze.com",
        "rest.braze.com",
        "https://evil.example.com/x.braze.com",
    ] {
        let mut body = request(&braze, &users(1));
        body["data"]["braze_api_endpoint"] = json!(endpoint);
        let answer = execute_at(&app.address, &body).await;
        assert_eq!(answer["success"], false);
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .starts_with("The Braze REST endpoint must be an https:// address"),
            "{answer}"
        );
    }
    assert_eq!(braze.requests(), 0);
    assert!(
        app.jobs()
            .await
            .iter()
            .all(|j| j.kind != "braze_export" || j.state.as_str() == "dead")
    );
}

#[tokio::test]
async fn the_api_key_is_in_no_log_line_whatever_braze_answers() {
    let braze = FakeBraze::start().await;
    let app = spawn_app().await;
    let server = ServerProcess::start(
        &app,
        &[
            ("LOOKERBOT_AUTH_TOKEN", HUB_TOKEN),
            ("PUBLIC_URL", "https://lookerbot.example.com"),
            ("LOOKERBOT_BRAZE_ENDPOINTS", &braze.base_url),
            ("LOOKERBOT_WORKERS", "1"),
            ("LOOKERBOT_HUB_WAIT_SECS", "30"),
            ("RUST_LOG", "debug"),
        ],
    )
    .await;
    braze.fail_next(BrazeFailure::RateLimited(1));
    braze.fail_next(BrazeFailure::Status(500, "Internal error"));
    let answer = execute_at(&server.address, &request(&braze, &users(80))).await;
    assert_eq!(answer["success"], true, "{answer}");
    let mut wrong = request(&braze, &users(5));
    wrong["data"]["braze_api_key"] = json!("wrong-braze-key-77aa");
    let refused = execute_at(&server.address, &wrong).await;
    assert!(refused["message"].as_str().unwrap().contains("HTTP 401"), "{refused}");
    assert!(!refused.to_string().contains("wrong-braze-key-77aa"));
    let log = server.log().join("\n");
    assert!(log.contains("Braze export finished"), "the export was logged");
    assert!(
        !log.contains(BRAZE_KEY) && !log.contains("wrong-braze-key-77aa"),
        "a key was logged"
    );
}

#[tokio::test]
async fn an_export_killed_mid_way_goes_on_from_the_batch_it_was_sending() {
    let braze = FakeBraze::start().await;
    let endpoint = braze.base_url.clone();
    let app = spawn_app_with(move |raw| {
        raw.lookerbot_auth_token = Some(HUB_TOKEN.into());
        raw.public_url = Some("https://lookerbot.example.com".into());
        raw.lookerbot_braze_endpoints = Some(endpoint);
        raw.lookerbot_hub_wait_secs = Some("0".into());
        raw.lookerbot_job_lease_secs = Some("2".into());
    })
    .await;
    // Killed while Braze holds the second batch unapplied, then while it holds the fourth
    // applied: the first is lost to no one, the fourth is the one Braze may see twice.
    braze.hang_nth(2, false);
    braze.hang_nth(5, true);
    let answer = execute_at(&app.address, &request(&braze, &users(300))).await;
    assert_eq!(answer["success"], true, "{answer}");
    app.kill_worker_when(braze.wait_until_hung()).await;
    assert_eq!(braze.batches(), vec![75], "the first batch went before the kill");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    app.kill_worker_when(braze.wait_until_hung()).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    app.drain_jobs().await;
    let ids: Vec<String> = braze
        .objects()
        .iter()
        .map(|o| o["external_id"].as_str().unwrap().to_string())
        .collect();
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 300, "every user flagged");
    assert_eq!(
        braze.batches(),
        vec![75, 75, 75, 75, 75],
        "batch 1 and 2 once; 4 applied, unrecorded, sent again"
    );
    assert!(app.jobs().await.is_empty());
}

#[tokio::test]
async fn the_braze_key_is_sealed_in_the_job_and_still_reaches_braze() {
    let braze = FakeBraze::start().await;
    let app = braze_app(&braze).await;
    let answer = execute_at(&app.address, &request(&braze, &users(3))).await;
    assert_eq!(answer["success"], true, "{answer}");
    assert_eq!(braze.objects().len(), 3, "the sealed key opened and Braze took it");
    let payloads = app.store.sealed().payloads(0, 100).await.unwrap();
    assert!(!payloads.is_empty());
    for (_, payload) in payloads {
        assert!(!payload.contains(BRAZE_KEY), "{payload}");
    }
}
