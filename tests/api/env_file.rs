//! The `.env` file through the real binary: read as Docker and Kubernetes read the same file, a
//! leading `#` kept as part of the value, a line that would mean something else elsewhere refused
//! with its number.

use crate::helpers::*;

/// The settings of `app` written as an operator writes them: one `.env`, no environment.
fn env_file_of(app: &TestApp, extra: &str) -> String {
    let raw = test_settings(&app.slack, &app.looker, &app.database_url);
    let lookers = serde_json::json!([{
        "url": raw.looker_url.unwrap(),
        "apiBaseUrl": raw.looker_api_base_url.unwrap(),
        "clientId": raw.looker_api_client_id.unwrap(),
        "clientSecret": raw.looker_api_client_secret.unwrap(),
    }]);
    format!(
        "# written as the README says\nSLACK_API_KEY={}\nSLACK_SIGNING_SECRET={}\nSLACK_API_BASE_URL={}\nLOOKERS={}\nDATABASE_URL={}\n{extra}",
        raw.slack_api_key.unwrap(),
        raw.slack_signing_secret.unwrap(),
        raw.slack_api_base_url.unwrap(),
        lookers,
        raw.database_url.unwrap(),
    )
}

#[tokio::test]
async fn the_readmes_forms_work_as_written_json_and_leading_hashes_included() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let rules = "LOOKERBOT_AUDIENCE=#finance=private, #exec-*=links\nLOOKERBOT_AUDIENCE_GROUPS=#sales=Field Sales\nLOOKERBOT_ALERTS_CHANNEL=#lookerbot-alerts\n";
    std::fs::write(dir.path().join(".env"), env_file_of(&app, rules)).unwrap();
    let output = lookerbot(dir.path()).arg("check").output().await.unwrap();
    let report = text(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(
        report.contains("logged in"),
        "the LOOKERS JSON was read whole: {report}"
    );
}

#[tokio::test]
async fn a_value_starting_with_a_hash_is_read_not_skipped_as_a_comment() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    // Read as comments, these set nothing and the server started with #finance public.
    let wrong = "PORT=#abc\nLOOKERBOT_AUDIENCE=#fin ance=private\n";
    std::fs::write(dir.path().join(".env"), env_file_of(&app, wrong)).unwrap();
    let output = lookerbot(dir.path()).arg("check").output().await.unwrap();
    let report = text(&output);
    assert_eq!(output.status.code(), Some(2), "{report}");
    assert!(report.contains("PORT"), "{report}");
    assert!(report.contains("#fin ance=private"), "{report}");
}

#[tokio::test]
async fn a_trailing_comment_stops_the_start_naming_the_file_and_line() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        env_file_of(&app, "PORT=3000 # the web port\nLOG_FORMAT=json\n"),
    )
    .unwrap();
    for args in [&[][..], &["serve"][..], &["check"][..]] {
        let output = lookerbot(dir.path()).args(args).output().await.unwrap();
        let report = text(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {report}");
        assert!(
            report.contains(".env line 7: PORT's value ends in what looks like a comment"),
            "{report}"
        );
        assert!(!report.contains("listening"), "{report}");
    }
}

#[tokio::test]
async fn the_environment_wins_over_the_file() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), env_file_of(&app, "PORT=#abc\n")).unwrap();
    let output = lookerbot(dir.path())
        .env("PORT", "eighty")
        .arg("check")
        .output()
        .await
        .unwrap();
    let report = text(&output);
    assert_eq!(output.status.code(), Some(2), "{report}");
    assert!(report.contains("eighty") && !report.contains("#abc"), "{report}");
}

#[tokio::test]
async fn settings_are_accepted_after_the_subcommand_and_shown_in_its_help() {
    let dir = tempfile::tempdir().unwrap();
    let output = lookerbot(dir.path())
        .args(["serve", "--port", "eighty"])
        .output()
        .await
        .unwrap();
    let report = text(&output);
    assert_eq!(output.status.code(), Some(2), "{report}");
    assert!(
        report.contains("setting problem") && report.contains("PORT"),
        "{report}"
    );
    assert!(!report.contains("unexpected argument"), "{report}");
    for command in ["serve", "check"] {
        let output = lookerbot(dir.path()).args([command, "--help"]).output().await.unwrap();
        let help = text(&output);
        for variable in ["SLACK_API_KEY", "LOOKERS", "DATABASE_URL", "LOOKERBOT_AUDIENCE"] {
            assert!(help.contains(variable), "`{command} --help` lacks {variable}:\n{help}");
        }
    }
}

#[tokio::test]
async fn a_second_server_on_the_same_sqlite_file_refuses_to_start() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let mut second = lookerbot(dir.path());
    with_settings(&mut second, &app);
    let output = second.env("PORT", "0").arg("serve").output().await.unwrap();
    let report = text(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.contains("another lookerbot server is running on"), "{report}");
    assert!(report.contains("replicas on PostgreSQL"), "{report}");
}

#[tokio::test]
async fn migrate_jobs_and_audit_need_only_the_database_url() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/only.db", dir.path().display());
    for (args, says) in [
        (&["migrate"][..], "migration(s); the database schema is up to date"),
        (&["migrate"][..], "The database schema is up to date."),
        (&["jobs"][..], ""),
        (&["audit"][..], ""),
    ] {
        let output = lookerbot(dir.path())
            .env("DATABASE_URL", &url)
            .args(args)
            .output()
            .await
            .unwrap();
        let report = text(&output);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {report}");
        assert!(
            report.contains(says) && !report.contains("setting problem"),
            "{args:?}: {report}"
        );
    }
}

#[tokio::test]
async fn check_names_the_traps_of_a_first_set_up() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let raw = test_settings(&app.slack, &app.looker, &app.database_url);
    let file = env_file_of(
        &app,
        "PUBLIC_URL=http://lookerbot.example.com\nLOOKERBOT_AUTH_TOKEN=short-hub-token\nNODE_TLS_REJECT_UNAUTHORIZED=0\n",
    )
    .replace(&raw.slack_signing_secret.unwrap(), "replace-me");
    std::fs::write(dir.path().join(".env"), file).unwrap();
    let output = lookerbot(dir.path()).arg("check").output().await.unwrap();
    let report = text(&output);
    assert_ne!(output.status.code(), Some(0), "a placeholder cannot work: {report}");
    assert!(
        report.contains("FAIL settings: SLACK_SIGNING_SECRET still holds the `replace-me` placeholder"),
        "{report}"
    );
    assert!(
        report.contains("PUBLIC_URL: warning: http://lookerbot.example.com/ is plain http"),
        "{report}"
    );
    assert!(report.contains("LOOKERBOT_AUTH_TOKEN is 15 characters"), "{report}");
    // Lookerbot's Node switch: Looker alone goes unverified, said at start and in the report.
    assert!(
        report.contains("NODE_TLS_REJECT_UNAUTHORIZED=0: Looker's TLS certificate is NOT verified"),
        "{report}"
    );
    assert!(report.contains("Looker TLS: warning"), "{report}");
    assert!(
        !report.contains("replace-me\n") && !report.contains("short-hub-token"),
        "no secret printed: {report}"
    );

    // Without a webhook token or a hub token, every schedule Looker sends is refused: said so.
    let file = env_file_of(&app, "");
    std::fs::write(dir.path().join(".env"), file).unwrap();
    let output = lookerbot(dir.path()).arg("check").output().await.unwrap();
    let report = text(&output);
    assert!(
        report.contains("every webhook Looker sends will be refused"),
        "{report}"
    );
}

#[tokio::test]
async fn the_start_says_where_the_database_is_and_which_features_are_on_and_off() {
    let app = spawn_app().await;
    let server = crate::process::ServerProcess::start(
        &app,
        &[("LOOKERBOT_AUTH_TOKEN", "a-hub-token-of-thirty-two-characters")],
    )
    .await;
    let log = server.log().join("\n");
    assert!(
        log.contains("using the database") && log.contains("SQLite file"),
        "{log}"
    );
    let line = |feature: &str| {
        log.lines()
            .find(|l| l.contains(&format!("feature=\"{feature}\"")))
            .unwrap_or_else(|| panic!("no line for {feature}: {log}"))
            .to_string()
    };
    assert!(line("action hub").contains("state=\"on\""), "{log}");
    let socket = line("socket mode");
    assert!(
        socket.contains("state=\"off\"") && socket.contains("no SLACK_APP_TOKEN"),
        "{socket}"
    );
    assert!(line("scheduled deliveries").contains("state=\"on\""));
    assert!(
        !log.contains("a-hub-token-of-thirty-two-characters"),
        "no secret in the log"
    );
}
