//! The `lookerbot` binary: settings errors, `check`, `manifest`, `jobs` and `--help`.

use serde_json::Value;

use crate::fake_slack::Failure;
use crate::helpers::*;

#[tokio::test]
async fn bad_settings_list_every_problem_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = lookerbot(dir.path())
        .env("PORT", "eighty")
        .env("LOG_FORMAT", "xml")
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = text(&output);
    for variable in [
        "SLACK_API_KEY",
        "SLACK_SIGNING_SECRET",
        "LOOKER_URL",
        "LOOKER_API_BASE_URL",
        "LOOKER_API_CLIENT_ID",
        "LOOKER_API_CLIENT_SECRET",
        "PORT",
        "LOG_FORMAT",
    ] {
        assert!(text.contains(variable), "{variable} not named in:\n{text}");
    }
}

#[tokio::test]
async fn help_documents_every_variable() {
    let dir = tempfile::tempdir().unwrap();
    let output = lookerbot(dir.path()).arg("--help").output().await.unwrap();
    let text = text(&output);
    for variable in [
        "SLACK_API_KEY",
        "LOOKERS",
        "LOOKER_WEBHOOK_TOKEN",
        "DATABASE_URL",
        "SLACKBOT_S3_BUCKET",
        "UNSAFE_LOCAL_DEV",
    ] {
        assert!(text.contains(variable), "{variable} missing from --help");
    }
}

#[tokio::test]
async fn check_reports_every_service_and_exits_0_when_all_is_well() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let mut command = lookerbot(dir.path());
    with_settings(&mut command, &app);
    let output = command.arg("check").output().await.unwrap();
    let report = text(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(report.contains("database: reachable, schema up to date"), "{report}");
    assert!(report.contains("logged in"), "{report}");
    assert!(report.contains("bot user U0000000BOT"), "{report}");
    assert!(report.contains("Action Hub: off"), "{report}");
    assert!(!report.contains(crate::fake_looker::CLIENT_SECRET) && !report.contains(crate::fake_slack::BOT_TOKEN));
}

#[tokio::test]
async fn the_system_s_certificates_are_trusted_as_ssl_cert_file_names_them() {
    // A Looker behind a TLS-inspecting proxy: its certificate is signed by a CA only the
    // machine's own store (here SSL_CERT_FILE) knows.
    let app = spawn_app().await;
    let (looker, ca_pem) = crate::fake_looker::FakeLooker::start_tls().await;
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("corporate-ca.pem");
    std::fs::write(&ca_path, ca_pem).unwrap();
    let check = |ssl_cert_file: Option<&std::path::Path>| {
        let mut command = lookerbot(dir.path());
        with_settings(&mut command, &app);
        command
            .env("LOOKER_URL", &looker.web_url)
            .env("LOOKER_API_BASE_URL", &looker.api_url);
        if let Some(path) = ssl_cert_file {
            command.env("SSL_CERT_FILE", path);
        }
        command.arg("check").output()
    };
    let refused = check(None).await.unwrap();
    assert_ne!(refused.status.code(), Some(0), "{}", text(&refused));
    let trusted = check(Some(&ca_path)).await.unwrap();
    let report = text(&trusted);
    assert_eq!(trusted.status.code(), Some(0), "{report}");
    assert!(report.contains("logged in"), "{report}");
}

#[tokio::test]
async fn check_says_where_looker_finds_the_action_hub() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let mut command = lookerbot(dir.path());
    with_settings(&mut command, &app);
    command
        .env("LOOKERBOT_AUTH_TOKEN", "hub-token-for-check")
        .env("PUBLIC_URL", "https://bot.example.com");
    let output = command.arg("check").output().await.unwrap();
    let report = text(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("Action Hub: on; in Looker add the hub https://bot.example.com/"),
        "{report}"
    );
    assert!(
        report.contains("the form will offer the 5 channel(s) the bot is in"),
        "{report}"
    );
    assert!(!report.contains("hub-token-for-check"));
}

#[tokio::test]
async fn check_names_the_variable_to_fix_and_exits_non_zero() {
    let app = spawn_app().await;
    app.slack.fail_next("auth.test", Failure::Error("invalid_auth"));
    let dir = tempfile::tempdir().unwrap();
    let mut command = lookerbot(dir.path());
    with_settings(&mut command, &app);
    let output = command
        .env("LOOKER_API_CLIENT_SECRET", "wrong")
        .arg("check")
        .output()
        .await
        .unwrap();
    let report = text(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("FAIL Looker") && report.contains("LOOKER_API_CLIENT_SECRET"),
        "{report}"
    );
    assert!(
        report.contains("FAIL Slack") && report.contains("invalid_auth") && report.contains("SLACK_API_KEY"),
        "{report}"
    );
}

#[tokio::test]
async fn the_manifest_is_valid_for_slack_and_names_our_routes() {
    let dir = tempfile::tempdir().unwrap();
    let output = lookerbot(dir.path())
        .env("LOOKER_URL", "https://company.looker.com")
        .env("LOOKER_API_BASE_URL", "https://company.looker.com/api/4.0")
        .env("LOOKER_API_CLIENT_ID", "x")
        .env("LOOKER_API_CLIENT_SECRET", "y")
        .args(["manifest", "--url", "https://bot.example.com/", "--format", "json"])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let manifest: Value = serde_json::from_slice(&output.stdout).unwrap();

    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/slack-app-manifest.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&manifest)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    assert_eq!(
        manifest["features"]["slash_commands"][0]["url"],
        "https://bot.example.com/slack/receive"
    );
    assert_eq!(
        manifest["settings"]["event_subscriptions"]["request_url"],
        "https://bot.example.com/slack/events"
    );
    assert_eq!(
        manifest["settings"]["interactivity"]["request_url"],
        "https://bot.example.com/slack/action"
    );
    assert_eq!(
        manifest["features"]["unfurl_domains"],
        serde_json::json!(["company.looker.com"])
    );
    assert_eq!(manifest["settings"]["socket_mode_enabled"], false);

    let yaml = lookerbot(dir.path())
        .env("LOOKER_URL", "https://company.looker.com")
        .env("LOOKER_API_BASE_URL", "https://company.looker.com/api/4.0")
        .env("LOOKER_API_CLIENT_ID", "x")
        .env("LOOKER_API_CLIENT_SECRET", "y")
        .args(["manifest", "--url", "https://bot.example.com"])
        .output()
        .await
        .unwrap();
    let from_yaml: Value = serde_yaml_ng::from_slice(&yaml.stdout).unwrap();
    assert_eq!(from_yaml, manifest, "YAML and JSON say the same");
}

#[tokio::test]
async fn jobs_failed_shows_dead_deliveries_with_their_error() {
    let app = spawn_app().await;
    app.deliver(
        "/slack/post/channel/nowhere",
        &look_webhook(&app.looker, "7", "Daily Orders", None),
    )
    .await;
    app.drain_jobs().await;
    let dir = tempfile::tempdir().unwrap();
    let output = lookerbot(dir.path())
        .env("DATABASE_URL", &app.database_url)
        .args(["jobs", "--failed"])
        .output()
        .await
        .unwrap();
    let listing = text(&output);
    assert_eq!(output.status.code(), Some(0), "{listing}");
    assert!(
        listing.contains("dead") && listing.contains("scheduled Look 'Daily Orders' to #nowhere"),
        "{listing}"
    );
    assert!(listing.contains("no channel named #nowhere"), "{listing}");
}

#[tokio::test]
async fn a_failed_delivery_runs_again_once_its_cause_is_fixed_and_another_is_dropped() {
    let app = spawn_app().await;
    app.looker
        .add_look("7", "Daily Orders", query("q7", "table"), status_counts(&[("a", 1)]));
    // The bot is not in #general yet: Slack refuses the post, and the delivery fails for good.
    app.slack
        .fail_next("chat.postMessage", crate::fake_slack::Failure::Error("not_in_channel"));
    for channel in ["general", "nowhere"] {
        app.deliver(
            &format!("/slack/post/channel/{channel}"),
            &look_webhook(&app.looker, "7", "Daily Orders", None),
        )
        .await;
        app.drain_jobs().await;
    }
    let dead = app.dead_jobs().await;
    assert_eq!(dead.len(), 2);
    let id_of = |channel: &str| {
        dead.iter()
            .find(|j| j.summary.contains(channel))
            .unwrap()
            .id
            .to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let jobs = |args: Vec<String>| {
        let mut command = lookerbot(dir.path());
        command.env("DATABASE_URL", &app.database_url).arg("jobs").args(args);
        async move {
            let output = command.output().await.unwrap();
            (output.status.code(), text(&output))
        }
    };

    // The bot is invited; the operator runs the delivery again.
    let (code, said) = jobs(vec!["retry".into(), id_of("general")]).await;
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("will run again"), "{said}");
    assert_eq!(app.drain_jobs().await, [lookerbot::queue::Outcome::Done]);
    assert_eq!(app.slack.posts_to("#general").len(), 1);

    let (code, said) = jobs(vec!["retry".into(), id_of("general")]).await;
    assert_eq!(code, Some(1), "done, no longer failed: {said}");
    assert!(said.contains("is not a failed job"), "{said}");
    let (code, said) = jobs(vec!["drop".into(), id_of("nowhere")]).await;
    assert_eq!(
        (code, said.trim()),
        (Some(0), format!("Job {} is dropped.", id_of("nowhere")).as_str())
    );
    assert!(app.dead_jobs().await.is_empty());
    let (code, said) = jobs(vec!["retry".into(), "--all-failed".into()]).await;
    assert_eq!((code, said.trim()), (Some(0), "No failed jobs."));
    let (code, said) = jobs(vec!["retry".into()]).await;
    assert_eq!(code, Some(2), "an ID or --all-failed is needed: {said}");
}

#[tokio::test]
async fn check_tries_the_image_bucket_when_one_is_configured() {
    use crate::s3_store::{ACCESS_KEY, SECRET_KEY, start_s3};
    let app = spawn_app().await;
    let (endpoint, _root) = start_s3(&["charts"]).await;
    let dir = tempfile::tempdir().unwrap();
    for (secret, ok) in [(SECRET_KEY, true), ("wrong-secret", false)] {
        let mut command = lookerbot(dir.path());
        with_settings(&mut command, &app);
        command
            .env("SLACKBOT_S3_BUCKET", "charts")
            .env("SLACKBOT_S3_BUCKET_REGION", "us-east-1")
            .env("SLACKBOT_S3_ENDPOINT", &endpoint)
            .env("SLACKBOT_S3_FORCE_PATH_STYLE", "true")
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", secret);
        let output = command.arg("check").output().await.unwrap();
        let report = text(&output);
        assert_eq!(output.status.success(), ok, "{report}");
        if ok {
            assert!(report.contains("S3 bucket charts: reachable"), "{report}");
        } else {
            assert!(
                report.contains("FAIL S3 bucket charts") && report.contains("SLACKBOT_S3_BUCKET"),
                "{report}"
            );
            assert!(!report.contains("wrong-secret"), "no secret in the report");
        }
    }
}

#[tokio::test]
async fn check_tries_the_socket_mode_token_when_one_is_set() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let mut command = lookerbot(dir.path());
    with_settings(&mut command, &app);
    // The fake Slack has no socket URL to give yet: apps.connections.open fails.
    let output = command
        .env("SLACK_APP_TOKEN", "xapp-1-A-bad")
        .arg("check")
        .output()
        .await
        .unwrap();
    let report = text(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("FAIL Slack Socket Mode") && report.contains("SLACK_APP_TOKEN"),
        "{report}"
    );
    assert!(!report.contains("xapp-1-A-bad"), "no token in the report");

    app.slack.set_socket_url("ws://127.0.0.1:9/socket");
    let mut command = lookerbot(dir.path());
    with_settings(&mut command, &app);
    let output = command
        .env("SLACK_APP_TOKEN", "xapp-1-A-good")
        .arg("check")
        .output()
        .await
        .unwrap();
    let report = text(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(report.contains("ok   Slack Socket Mode"), "{report}");
}

#[tokio::test]
async fn check_looks_at_the_database_without_creating_or_migrating_it() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("not-yet.db");
    let mut command = lookerbot(dir.path());
    with_settings(&mut command, &app);
    let output = command
        .env("DATABASE_URL", format!("sqlite://{}", missing.display()))
        .arg("check")
        .output()
        .await
        .unwrap();
    let report = text(&output);
    assert!(report.contains("ok   database: not created yet"), "{report}");
    assert!(!missing.exists(), "check created the database");

    // A database from before the latest migration is reported, and left as it is.
    let older = dir.path().join("older.db");
    let url = format!("sqlite://{}", older.display());
    lookerbot::store::connect(&url, true).await.unwrap();
    let forget = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('delete from _sqlx_migrations where version=(select max(version) from _sqlx_migrations)'); c.commit()",
        ])
        .arg(&older)
        .status()
        .unwrap();
    assert!(forget.success());
    let mut command = lookerbot(dir.path());
    with_settings(&mut command, &app);
    let output = command.env("DATABASE_URL", &url).arg("check").output().await.unwrap();
    let report = text(&output);
    assert!(report.contains("1 migration(s) to apply"), "{report}");
    let mut command = lookerbot(dir.path());
    with_settings(&mut command, &app);
    let again = text(&command.env("DATABASE_URL", &url).arg("check").output().await.unwrap());
    assert!(
        again.contains("1 migration(s) to apply"),
        "check must not migrate: {again}"
    );
}

#[tokio::test]
async fn the_manifest_needs_no_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let bare = lookerbot(dir.path())
        .args(["manifest", "--url", "https://bot.example.com", "--format", "json"])
        .output()
        .await
        .unwrap();
    assert_eq!(bare.status.code(), Some(0), "{}", text(&bare));
    let manifest: Value = serde_json::from_slice(&bare.stdout).unwrap();
    assert!(manifest["features"]["unfurl_domains"].is_null());
    let said = String::from_utf8_lossy(&bare.stderr);
    assert!(
        said.contains("App unfurl domains"),
        "says how to add them later: {said}"
    );

    let with_looker = lookerbot(dir.path())
        .env("LOOKER_URL", "https://company.looker.com")
        .args(["manifest", "--url", "https://bot.example.com", "--format", "json"])
        .output()
        .await
        .unwrap();
    assert_eq!(with_looker.status.code(), Some(0), "{}", text(&with_looker));
    let manifest: Value = serde_json::from_slice(&with_looker.stdout).unwrap();
    assert_eq!(
        manifest["features"]["unfurl_domains"],
        serde_json::json!(["company.looker.com"])
    );
}
