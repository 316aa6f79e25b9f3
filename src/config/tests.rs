//! The settings as a whole: a Lookerbot `.env`, every problem at once, secrets kept out of logs.

use super::*;

fn minimal() -> RawSettings {
    RawSettings {
        slack_api_key: Some("xoxb-1".into()),
        slack_signing_secret: Some("s".into()),
        looker_url: Some("https://looker.example.com/".into()),
        looker_api_base_url: Some("https://looker.example.com:19999/api/3.1".into()),
        looker_api_3_client_id: Some("id".into()),
        looker_api_3_client_secret: Some("secret".into()),
        ..Default::default()
    }
}

#[test]
fn a_lookerbot_env_is_accepted_and_upgraded_to_api_4() {
    let (settings, warnings) = minimal().validate().unwrap();
    assert_eq!(
        settings.lookers[0].api_base_url.as_str(),
        "https://looker.example.com:19999/api/4.0"
    );
    assert_eq!(settings.lookers[0].web_base(), "https://looker.example.com");
    assert_eq!(settings.port, 3333);
    assert!(settings.features.loading_messages);
    assert!(warnings.iter().any(|w| w.contains("3.x")));
}

#[test]
fn every_problem_is_reported_at_once() {
    let raw = RawSettings {
        port: Some("seventy".into()),
        log_format: Some("xml".into()),
        allow_slack_guest_users: Some("perhaps".into()),
        ..Default::default()
    };
    let err = raw.validate().unwrap_err();
    let vars: Vec<_> = err.0.iter().map(|p| p.variable).collect();
    for expected in [
        "SLACK_API_KEY",
        "SLACK_SIGNING_SECRET",
        "LOOKER_URL",
        "LOOKER_API_BASE_URL",
        "LOOKER_API_CLIENT_ID",
        "LOOKER_API_CLIENT_SECRET",
        "PORT",
        "LOG_FORMAT",
        "ALLOW_SLACK_GUEST_USERS",
    ] {
        assert!(vars.contains(&expected), "{expected} missing from {vars:?}");
    }
}

#[test]
fn lookers_json_replaces_the_single_looker_variables() {
    let raw = RawSettings {
        lookers: Some(
            r#"[{"url":"https://a.looker.com","apiBaseUrl":"https://a.looker.com/api/4.0","clientId":"a","clientSecret":"as","webhookToken":"wa","customCommandFolderId":7},
                {"url":"https://b.looker.com","apiBaseUrl":"https://b.looker.com/api/4.0","clientId":"b","clientSecret":"bs"}]"#
                .into(),
        ),
        looker_url: None,
        looker_api_base_url: None,
        looker_api_3_client_id: None,
        looker_api_3_client_secret: None,
        ..minimal()
    };
    let (settings, _) = raw.validate().unwrap();
    assert_eq!(settings.lookers.len(), 2);
    assert_eq!(settings.lookers[0].custom_command_folder_id.as_deref(), Some("7"));
    assert!(settings.lookers[0].webhook_token.as_ref().unwrap().matches("wa"));
    assert!(settings.lookers[1].webhook_token.is_none());
}

#[test]
fn secrets_never_show_in_debug_output() {
    let (settings, _) = minimal().validate().unwrap();
    let printed = format!("{settings:?}");
    assert!(!printed.contains("xoxb-1"));
    assert!(!printed.contains("secret\""));
    assert!(printed.contains("[redacted]"));
}

#[test]
fn url_ownership_is_by_prefix_on_a_path_boundary() {
    let (settings, _) = minimal().validate().unwrap();
    let looker = &settings.lookers[0];
    assert!(looker.owns_url("https://looker.example.com/looks/1"));
    assert!(looker.owns_url("https://looker.example.com"));
    assert!(!looker.owns_url("https://looker.example.com.evil.net/looks/1"));
}
