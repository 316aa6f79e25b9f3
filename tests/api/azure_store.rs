//! Chart images in Azure Blob Storage by Lookerbot's settings, against Azurite: the blob is
//! private, the link Slack is given is a read-only SAS that works, and the same address without
//! the signature is refused.

use crate::azurite::{ACCOUNT, Azurite, KEY};
use crate::fake_looker::PNG;
use crate::helpers::*;

async fn app_with_container(azurite: &Azurite, key: &str) -> TestApp {
    let (endpoint, key) = (azurite.endpoint.clone(), key.to_string());
    let app = spawn_app_with(move |s| {
        s.azure_storage_account = Some(ACCOUNT.into());
        s.slackbot_azure_container = Some("charts".into());
        s.azure_storage_access_key = Some(key);
        s.slackbot_azure_endpoint = Some(endpoint);
        s.slackbot_s3_link_ttl = Some("10m".into());
    })
    .await;
    add_scatter_look(&app);
    app
}

/// Azurite's container as the settings name it.
fn container_settings<'a>(azurite: &'a Azurite, key: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("AZURE_STORAGE_ACCOUNT", ACCOUNT),
        ("SLACKBOT_AZURE_CONTAINER", "charts"),
        ("AZURE_STORAGE_ACCESS_KEY", key),
        ("SLACKBOT_AZURE_ENDPOINT", azurite.endpoint.as_str()),
    ]
}

#[tokio::test]
async fn images_go_to_the_private_container_and_are_linked_by_a_sas_that_expires() {
    let azurite = Azurite::start(&["charts"]).await;
    let app = app_with_container(&azurite, KEY).await;
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders Scatter", None),
    )
    .await;
    app.drain_jobs().await;

    assert!(
        app.slack.files().is_empty(),
        "not uploaded to Slack when a container is configured"
    );
    let url = image_url(&app).expect("an image block");
    assert!(
        url.starts_with(&format!("{}/charts/lookerbot/", azurite.endpoint)),
        "{url}"
    );
    let query: std::collections::HashMap<String, String> =
        url::Url::parse(&url).unwrap().query_pairs().into_owned().collect();
    assert_eq!(query.get("sp").map(String::as_str), Some("r"), "read-only: {url}");
    assert!(query.contains_key("sig") && query.contains_key("se"), "{url}");

    let fetched = reqwest::get(&url).await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.headers()["content-type"], "image/png");
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), PNG);
    let unsigned = reqwest::get(url.split('?').next().unwrap()).await.unwrap();
    assert!(unsigned.status().is_client_error(), "private: {}", unsigned.status());
    // A signature for one blob does not open another.
    let other = url.replacen("/lookerbot/", "/lookerbot/other-", 1);
    assert!(reqwest::get(&other).await.unwrap().status().is_client_error());
}

#[tokio::test]
async fn a_wrong_key_is_one_sentence_for_the_reader_and_named_by_check() {
    let azurite = Azurite::start(&["charts"]).await;
    let wrong = "bm90LXRoZS1hY2NvdW50LWtleS1ub3QtdGhlLWFjY291bnQta2V5LW5vdC10aGUta2V5IQ==";
    let app = app_with_container(&azurite, wrong).await;
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders Scatter", None),
    )
    .await;
    app.drain_jobs().await;
    let said = app.slack.messages()[0].blocks.to_string();
    assert!(said.contains("could not be stored for Slack"), "{said}");
    assert!(
        !said.contains("AuthorizationFailure") && !said.contains("403"),
        "the cause goes to the log: {said}"
    );
    assert!(image_url(&app).is_none(), "no broken image");

    let (code, report) = check_with(&app, &container_settings(&azurite, wrong)).await;
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("Azure container charts") && report.contains("AZURE_STORAGE_ACCESS_KEY"),
        "{report}"
    );
    assert!(!report.contains(wrong), "the key is not printed");
}

#[tokio::test]
async fn check_says_the_container_is_reachable_and_half_the_settings_are_refused() {
    let azurite = Azurite::start(&["charts"]).await;
    let app = spawn_app().await;
    let (_, report) = check_with(&app, &container_settings(&azurite, KEY)).await;
    assert!(
        report.contains("Azure container charts: reachable for chart images"),
        "{report}"
    );

    let (code, report) = check_with(&app, &[("AZURE_STORAGE_ACCOUNT", ACCOUNT)]).await;
    assert_eq!(code, Some(2), "{report}");
    assert!(
        report.contains("missing: SLACKBOT_AZURE_CONTAINER, AZURE_STORAGE_ACCESS_KEY"),
        "{report}"
    );
}
