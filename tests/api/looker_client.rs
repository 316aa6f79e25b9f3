//! The Looker client against the fake: token refresh before expiry and one re-login on a 401.

use std::time::Duration;

use lookerbot::clients::looker::Lookers;
use lookerbot::domain::looker::models::LookerId;

use crate::helpers::*;

fn lookers(app: &TestApp) -> Lookers {
    Lookers::new(
        &app.settings.lookers,
        &app.settings.looker_tls,
        app.settings.looker_timeout,
    )
    .unwrap()
}

#[tokio::test]
async fn tokens_are_refreshed_before_they_expire() {
    let app = spawn_app().await;
    app.looker.add_query(query("q1", "table"), status_counts(&[("a", 1)]));
    app.looker.set_token_ttl(Duration::from_secs(1));
    let lookers = lookers(&app);
    let looker = lookers.all().next().unwrap().1;
    looker.run_query_detail(&LookerId("q1".into())).await.unwrap();
    looker.run_query_detail(&LookerId("q1".into())).await.unwrap();
    assert_eq!(app.looker.logins(), 1, "the token is reused while valid");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    looker.run_query_detail(&LookerId("q1".into())).await.unwrap();
    assert_eq!(app.looker.logins(), 2);
    assert_eq!(app.looker.denials(), 0, "refreshed before Looker had to refuse it");
}

#[tokio::test]
async fn a_refused_token_means_one_new_login_and_a_retry() {
    let app = spawn_app().await;
    app.looker.add_query(query("q1", "table"), status_counts(&[("a", 1)]));
    let lookers = lookers(&app);
    let looker = lookers.all().next().unwrap().1;
    looker.run_query_detail(&LookerId("q1".into())).await.unwrap();
    app.looker.revoke_tokens();
    let result = looker.run_query_detail(&LookerId("q1".into())).await.unwrap();
    assert_eq!(result.data.len(), 1);
    assert_eq!((app.looker.logins(), app.looker.denials()), (2, 1));
}

#[tokio::test]
async fn errors_carry_lookers_message_and_say_whether_to_retry() {
    let app = spawn_app().await;
    let lookers = lookers(&app);
    let looker = lookers.all().next().unwrap().1;
    let missing = looker.look(&LookerId("999".into())).await.unwrap_err();
    assert_eq!(missing.status(), Some(404));
    assert!(!missing.is_transient());
    assert!(missing.to_string().contains("Not found"), "{missing}");

    app.looker.fail_next("looks/", 503);
    let busy = looker.look(&LookerId("999".into())).await.unwrap_err();
    assert!(busy.is_transient());
    assert!(busy.to_string().contains("Scripted failure"), "{busy}");
}

#[tokio::test]
async fn a_failing_looker_is_retried_with_backoff_until_it_answers() {
    let app = spawn_app().await;
    app.looker.add_look(
        "7",
        "Orders",
        query("q7", "table"),
        status_counts(&[("a", 1), ("b", 2)]),
    );
    app.looker.fail_next("queries/q7/run", 502);
    app.looker.fail_next("queries/q7/run", 500);
    app.deliver(
        "/slack/post/channel/general",
        &look_webhook(&app.looker, "7", "Orders", None),
    )
    .await;
    let outcomes = app.drain_jobs().await;
    use lookerbot::queue::Outcome;
    assert!(
        matches!(
            outcomes[..],
            [Outcome::Retrying { .. }, Outcome::Retrying { .. }, Outcome::Done]
        ),
        "{outcomes:?}"
    );
    assert_eq!(app.slack.messages().len(), 1);
}

mod tls {
    use lookerbot::config::RawSettings;

    use crate::fake_looker::{self, FakeLooker};

    fn raw(looker: &FakeLooker) -> RawSettings {
        RawSettings {
            slack_api_key: Some("xoxb-x".into()),
            slack_signing_secret: Some("s".into()),
            looker_url: Some(looker.web_url.clone()),
            looker_api_base_url: Some(looker.api_url.clone()),
            looker_api_client_id: Some(fake_looker::CLIENT_ID.into()),
            looker_api_client_secret: Some(fake_looker::CLIENT_SECRET.into()),
            ..Default::default()
        }
    }

    async fn login(raw: RawSettings) -> Result<(), String> {
        let (settings, _) = raw.validate().map_err(|e| e.to_string())?;
        let lookers = super::Lookers::new(&settings.lookers, &settings.looker_tls, settings.looker_timeout)
            .map_err(|e| e.to_string())?;
        lookers
            .all()
            .next()
            .unwrap()
            .1
            .verify_login()
            .await
            .map_err(|e| format!("{e:?}"))
    }

    #[tokio::test]
    async fn a_self_signed_looker_is_refused_unless_its_ca_is_given() {
        let (looker, ca_pem) = FakeLooker::start_tls().await;
        let refused = login(raw(&looker)).await.unwrap_err();
        assert!(refused.to_lowercase().contains("certificate"), "{refused}");

        let dir = tempfile::tempdir().unwrap();
        let ca_path = dir.path().join("looker-ca.pem");
        std::fs::write(&ca_path, ca_pem).unwrap();
        login(RawSettings {
            looker_ca_cert: Some(ca_path.display().to_string()),
            ..raw(&looker)
        })
        .await
        .unwrap();
        assert_eq!(looker.logins(), 1);
    }

    #[tokio::test]
    async fn tls_verification_can_be_switched_off_for_development_under_lookerbots_name_too() {
        let (looker, _) = FakeLooker::start_tls().await;
        login(RawSettings {
            looker_tls_insecure: Some("true".into()),
            ..raw(&looker)
        })
        .await
        .unwrap();
        login(RawSettings {
            unsafe_local_dev: Some("true".into()),
            ..raw(&looker)
        })
        .await
        .unwrap();
        // Node's switch, as Lookerbot's users set it; any other value verifies.
        login(RawSettings {
            node_tls_reject_unauthorized: Some("0".into()),
            ..raw(&looker)
        })
        .await
        .unwrap();
        let refused = login(RawSettings {
            node_tls_reject_unauthorized: Some("1".into()),
            ..raw(&looker)
        })
        .await
        .unwrap_err();
        assert!(refused.to_lowercase().contains("certificate"), "{refused}");
        assert_eq!(looker.logins(), 3);
    }
}

#[tokio::test]
async fn ids_are_sent_as_path_segments_a_space_as_percent_20() {
    let app = spawn_app().await;
    // A LookML dashboard id with a space in its name, as `model::name` ids may have.
    app.looker.add_dashboard(
        serde_json::json!({"id": "thelook::sales overview", "title": "Sales Overview",
        "dashboard_elements": [{"id": "t1", "type": "text", "title_text": "Hello", "body_text": "world"}]}),
    );
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("team_id", "T000000ACME")
        .append_pair("channel_id", "C0000GENERAL")
        .append_pair("user_id", "U000000ALICE")
        .append_pair("command", "/looker")
        .append_pair("text", r#"dashboard "thelook::sales overview""#)
        .append_pair("response_url", &app.slack.response_url())
        .finish();
    let signed = (lookerbot::store::now_millis() / 1000, SIGNING_SECRET);
    app.post_signed("/slack/receive", FORM, &form, signed, &[]).await;
    app.drain_jobs().await;
    assert!(app.slack.responses().is_empty(), "{:?}", app.slack.responses());
    assert!(app.slack.only_post_to("#general").title().contains("Sales Overview"));
}
