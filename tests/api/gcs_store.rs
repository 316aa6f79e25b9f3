//! Chart images in Google Cloud Storage by Lookerbot's settings, against a GCS emulator: the
//! service account's token fetched as Google issues it, the object stored private under a random
//! name, and the link Slack is given a V4 signed URL whose signature holds for that object only.

use crate::fake_looker::PNG;
use crate::gcs_emulator::{CLIENT_EMAIL, GcsEmulator, signature_holds};
use crate::helpers::*;

async fn app_with_bucket(emulator: &GcsEmulator, credentials: &str) -> TestApp {
    let (endpoint, credentials) = (emulator.endpoint.clone(), credentials.to_string());
    let app = spawn_app_with(move |s| {
        s.google_cloud_bucket = Some("charts".into());
        s.google_cloud_project = Some("lookerbot-test".into());
        s.google_cloud_credentials_json = Some(credentials);
        s.slackbot_gcs_endpoint = Some(endpoint);
        s.slackbot_s3_link_ttl = Some("10m".into());
    })
    .await;
    let mut result = status_counts(&[("a", 1), ("b", 2)]);
    result["fields"]["dimensions"][0]["is_numeric"] = serde_json::json!(false);
    app.looker
        .add_look("7", "Orders Scatter", query("q7", "looker_scatter"), result);
    app
}

#[tokio::test]
async fn images_go_to_the_private_bucket_and_are_linked_by_a_v4_signed_url() {
    let emulator = GcsEmulator::start("charts").await;
    let app = app_with_bucket(&emulator, &emulator.credentials_json).await;
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders Scatter", None),
    )
    .await;
    app.drain_jobs().await;

    assert!(
        app.slack.files().is_empty(),
        "not uploaded to Slack when a bucket is configured"
    );
    let stored = emulator.objects("charts").await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    let (name, content_type) = &stored[0];
    assert!(name.starts_with("lookerbot/") && name.ends_with(".png"), "{name}");
    assert_eq!(content_type, "image/png");
    assert_eq!(emulator.download("charts", name).await, PNG);
    assert!(
        emulator.tokens.load(std::sync::atomic::Ordering::SeqCst) >= 1,
        "a token was fetched with the key"
    );

    let message = &app.slack.messages()[0];
    let image = message
        .blocks
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "image")
        .expect("an image block");
    let url = image["image_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("https://storage.googleapis.com/charts/{name}?")),
        "{url}"
    );
    assert!(
        url.contains("X-Goog-Algorithm=GOOG4-RSA-SHA256") && url.contains("X-Goog-Expires=600"),
        "{url}"
    );
    assert!(url.contains(&CLIENT_EMAIL.replace('@', "%40")), "{url}");
    assert!(signature_holds(url), "the signature holds: {url}");
    // An attacker who changes the object, or stretches the lifetime, breaks the signature.
    assert!(!signature_holds(&url.replacen("/lookerbot/", "/lookerbot/other-", 1)));
    assert!(!signature_holds(
        &url.replace("X-Goog-Expires=600", "X-Goog-Expires=604800")
    ));
}

#[tokio::test]
async fn check_says_the_bucket_is_reachable_and_a_key_without_its_private_key_is_refused() {
    let emulator = GcsEmulator::start("charts").await;
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let mut command = lookerbot(dir.path());
    with_settings(&mut command, &app);
    let output = command
        .env("GOOGLE_CLOUD_BUCKET", "charts")
        .env("GOOGLE_CLOUD_CREDENTIALS_JSON", &emulator.credentials_json)
        .env("SLACKBOT_GCS_ENDPOINT", &emulator.endpoint)
        .arg("check")
        .output()
        .await
        .unwrap();
    let report = text(&output);
    assert!(
        report.contains("Google Cloud Storage bucket charts: reachable for chart images"),
        "{report}"
    );
    assert!(!report.contains("BEGIN PRIVATE KEY"), "the key is not printed");

    let mut command = lookerbot(dir.path());
    with_settings(&mut command, &app);
    let output = command
        .env("GOOGLE_CLOUD_BUCKET", "charts")
        .env(
            "GOOGLE_CLOUD_CREDENTIALS_JSON",
            r#"{"type":"service_account","client_email":"x@y"}"#,
        )
        .arg("check")
        .output()
        .await
        .unwrap();
    let report = text(&output);
    assert_eq!(output.status.code(), Some(2), "{report}");
    assert!(
        report.contains("GOOGLE_CLOUD_CREDENTIALS_JSON") && report.contains("private_key"),
        "{report}"
    );
}
