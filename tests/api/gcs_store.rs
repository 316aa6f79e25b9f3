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
    add_scatter_look(&app);
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

    let url = image_url(&app).expect("an image block");
    let url = url.as_str();
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
    let settings = [
        ("GOOGLE_CLOUD_BUCKET", "charts"),
        ("GOOGLE_CLOUD_CREDENTIALS_JSON", emulator.credentials_json.as_str()),
        ("SLACKBOT_GCS_ENDPOINT", emulator.endpoint.as_str()),
    ];
    let (_, report) = check_with(&app, &settings).await;
    assert!(
        report.contains("Google Cloud Storage bucket charts: reachable for chart images"),
        "{report}"
    );
    assert!(!report.contains("BEGIN PRIVATE KEY"), "the key is not printed");

    let no_private_key = r#"{"type":"service_account","client_email":"x@y"}"#;
    let settings = [
        ("GOOGLE_CLOUD_BUCKET", "charts"),
        ("GOOGLE_CLOUD_CREDENTIALS_JSON", no_private_key),
    ];
    let (code, report) = check_with(&app, &settings).await;
    assert_eq!(code, Some(2), "{report}");
    assert!(
        report.contains("GOOGLE_CLOUD_CREDENTIALS_JSON") && report.contains("private_key"),
        "{report}"
    );
}
