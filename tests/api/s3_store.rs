//! Images in S3, against a real S3-protocol server started here (s3s + s3s-fs, which checks
//! SigV4 signatures): put, presign, fetch the object back through the URL Slack is given.

use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;

use crate::fake_looker::PNG;
use crate::helpers::*;

pub const ACCESS_KEY: &str = "lookerbot-test-access";
pub const SECRET_KEY: &str = "lookerbot-test-secret-key";

/// An S3 server on loopback storing buckets as folders; returns its endpoint.
pub async fn start_s3(buckets: &[&str]) -> (String, Arc<tempfile::TempDir>) {
    let root = Arc::new(tempfile::tempdir().unwrap());
    for bucket in buckets {
        std::fs::create_dir(root.path().join(bucket)).unwrap();
    }
    let fs = s3s_fs::FileSystem::new(root.path()).unwrap();
    let mut builder = s3s::service::S3ServiceBuilder::new(fs);
    builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
    let service = builder.build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let service = service.clone();
            tokio::spawn(async move {
                let _ = Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    (endpoint, root)
}

async fn app_with_bucket(endpoint: &str, bucket: &str, public: bool) -> TestApp {
    app_with_credentials(endpoint, bucket, public, SECRET_KEY).await
}

async fn app_with_credentials(endpoint: &str, bucket: &str, public: bool, secret: &str) -> TestApp {
    let (endpoint, bucket, secret) = (endpoint.to_string(), bucket.to_string(), secret.to_string());
    let app = spawn_app_with(move |s| {
        s.slackbot_s3_bucket = Some(bucket);
        s.slackbot_s3_bucket_region = Some("us-east-1".into());
        s.slackbot_s3_endpoint = Some(endpoint);
        s.slackbot_s3_force_path_style = Some("true".into());
        s.slackbot_s3_public_read = Some(public.to_string());
        s.slackbot_s3_url_expiry_secs = Some("600".into());
        s.aws_access_key_id = Some(ACCESS_KEY.into());
        s.aws_secret_access_key = Some(secret);
    })
    .await;
    add_scatter_look(&app);
    app
}

#[tokio::test]
async fn images_go_to_the_bucket_under_a_random_key_and_are_linked_by_a_presigned_url() {
    let (endpoint, root) = start_s3(&["charts"]).await;
    let app = app_with_bucket(&endpoint, "charts", false).await;
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
    let message = &app.slack.messages()[0];
    let image = message
        .blocks
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "image")
        .expect("an image block");
    let url = image["image_url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{endpoint}/charts/lookerbot/")), "{url}");
    assert!(
        url.contains("X-Amz-Signature=") && url.contains("X-Amz-Expires=600"),
        "{url}"
    );

    let fetched = reqwest::get(url).await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), PNG);
    // The object is private: without the signature the server refuses it.
    let unsigned = reqwest::get(url.split('?').next().unwrap()).await.unwrap();
    assert_eq!(unsigned.status(), 403);
    let stored: Vec<_> = std::fs::read_dir(root.path().join("charts/lookerbot"))
        .unwrap()
        .collect();
    assert_eq!(stored.len(), 1);
}

#[tokio::test]
async fn a_refused_upload_is_one_sentence_for_the_reader() {
    // (s3s-fs creates a missing bucket on the fly, so refusal is shown with wrong credentials.)
    let (endpoint, _root) = start_s3(&["charts"]).await;
    let app = app_with_credentials(&endpoint, "charts", false, "not-the-secret").await;
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders Scatter", None),
    )
    .await;
    app.drain_jobs().await;
    let text = app.slack.messages()[0].blocks.to_string();
    assert!(text.contains("could not be stored for Slack"), "{text}");
    assert!(
        !text.contains("SignatureDoesNotMatch"),
        "the cause goes to the log, not the channel"
    );
    assert!(!text.contains("image_url"), "no broken image");
}

#[tokio::test]
async fn public_read_is_an_explicit_opt_in_and_links_without_a_signature() {
    let (endpoint, _root) = start_s3(&["charts"]).await;
    let app = app_with_bucket(&endpoint, "charts", true).await;
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders Scatter", None),
    )
    .await;
    app.drain_jobs().await;
    let message = &app.slack.messages()[0];
    let image = message
        .blocks
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "image")
        .unwrap();
    let url = image["image_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{endpoint}/charts/lookerbot/")) && !url.contains('?'),
        "{url}"
    );
}
