//! `LOOKERBOT_IDENTITY=oauth`: each person connects their own Looker account through Looker's
//! OAuth (PKCE, a state used once and tied to the browser), the bot keeps the tokens sealed,
//! renews them when they expire or Looker refuses them, and forgets them on `/looker
//! disconnect`, `lookerbot identity revoke` or when Looker stops taking them.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;

use crate::helpers::*;

const PUBLIC: &str = "https://bot.example.test";
const CALLBACK: &str = "https://bot.example.test/looker/oauth/callback";
const CLIENT_GUID: &str = "lookerbot-slack";
const KEY: &str = "3q2+7wQZ1x5J8rK0m9bC4dE6fG7hI8jK9lM0nO1pQ2s=";

/// Alice and Bob are Looker users 10 and 11; Look 7 is only Alice's to see.
async fn oauth_app(identity: &str) -> TestApp {
    oauth_app_with(identity, |_| {}).await
}

async fn oauth_app_with(identity: &str, customise: impl FnOnce(&mut lookerbot::config::RawSettings)) -> TestApp {
    let identity = identity.to_string();
    let app = spawn_app_with(move |s| {
        s.lookerbot_identity = Some(identity);
        s.lookerbot_audience_default = Some("public".into());
        s.looker_oauth_client_id = Some(CLIENT_GUID.into());
        s.lookerbot_token_key = Some(KEY.into());
        s.public_url = Some(PUBLIC.into());
        customise(s);
    })
    .await;
    app.looker.register_oauth_app(CLIENT_GUID, CALLBACK);
    app.looker.add_user("10", "alice@acme.example");
    app.looker.add_user("11", "bob@acme.example");
    app.looker.add_look(
        "7",
        "Pipeline by Rep",
        query("q7", "table"),
        status_counts(&[("won", 12)]),
    );
    app.looker.restrict_look("7", &["10"]);
    app
}

async fn ask(app: &TestApp, user: &str, text: &str) {
    send_slash(app, user, text).await;
    app.drain_jobs().await;
}

/// The connect link in the last sentence said to the asker.
fn connect_link(app: &TestApp) -> String {
    let said = app.slack.said().pop().unwrap();
    let start = said.find("<https://").unwrap_or_else(|| panic!("no link in {said:?}")) + 1;
    let end = start + said[start..].find('|').unwrap();
    said[start..end].to_string()
}

/// An address under PUBLIC_URL, at the bot under test.
fn at_bot(app: &TestApp, url: &str) -> String {
    url.replace(PUBLIC, &app.address)
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Opens the connect link: the bot's redirect to Looker and the sign-in cookie.
async fn open_link(app: &TestApp, link: &str) -> (url::Url, String) {
    let start = browser().get(at_bot(app, link)).send().await.unwrap();
    assert_eq!(start.status(), StatusCode::FOUND, "{:?}", start.text().await);
    let cookie = start.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Secure") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let location = url::Url::parse(start.headers()[LOCATION].to_str().unwrap()).unwrap();
    (location, cookie.split(';').next().unwrap().to_string())
}

/// Looker's `/auth`, for a browser signed in to Looker as `looker_user`: where it sends it back.
async fn authorise(app: &TestApp, at_looker: &url::Url, looker_user: &str) -> String {
    app.looker.sign_in_browser_as(looker_user);
    let answer = browser().get(at_looker.clone()).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::FOUND, "{:?}", answer.text().await);
    answer.headers()[LOCATION].to_str().unwrap().to_string()
}

async fn come_back(app: &TestApp, callback: &str, cookie: Option<&str>) -> (StatusCode, String) {
    let mut request = browser().get(at_bot(app, callback));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let answer = request.send().await.unwrap();
    (answer.status(), answer.text().await.unwrap())
}

/// The whole connection, from the asker's first question to the page saying it worked.
async fn connect(app: &TestApp, slack_user: &str, looker_user: &str) -> (StatusCode, String) {
    ask(app, slack_user, "look 7").await;
    let link = connect_link(app);
    let (at_looker, cookie) = open_link(app, &link).await;
    let callback = authorise(app, &at_looker, looker_user).await;
    come_back(app, &callback, Some(&cookie)).await
}

/// Everything the database keeps on disk (the SQLite file and its write-ahead log).
fn database_bytes(app: &TestApp) -> Vec<u8> {
    let path = app.database_url.trim_start_matches("sqlite://").to_string();
    let mut bytes = std::fs::read(&path).unwrap();
    if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
        bytes.extend(wal);
    }
    bytes
}

#[tokio::test]
async fn someone_not_connected_gets_their_own_link_and_nothing_runs_as_the_shared_user() {
    let app = oauth_app("oauth").await;
    ask(&app, "U000000ALICE", "look 7").await;
    assert!(app.slack.posts_to("#general").is_empty());
    let said = app.slack.said().pop().unwrap();
    assert!(said.contains("connect your account at 127.0.0.1"), "{said}");
    assert!(connect_link(&app).starts_with("https://bot.example.test/looker/oauth/start?ticket="));
    assert!(
        !app.looker.requests().iter().any(|r| r.contains("/looks/7")),
        "{:?}",
        app.looker.requests()
    );

    // `oauth_or_shared` answers them as its fallback API user instead, never the bot's own: what
    // the fallback may see (Look 8), not what only the admin may (Look 7).
    let shared = oauth_app_with("oauth_or_shared", |s| {
        s.looker_fallback_client_id = Some(crate::fake_looker::FALLBACK_CLIENT_ID.into());
        s.looker_fallback_client_secret = Some(crate::fake_looker::FALLBACK_CLIENT_SECRET.into());
    })
    .await;
    shared
        .looker
        .add_look("8", "Open Tickets", query("q8", "table"), status_counts(&[("open", 3)]));
    ask(&shared, "U000000ALICE", "look 8").await;
    assert_eq!(shared.slack.posts_to("#general").len(), 1);
    ask(&shared, "U000000ALICE", "look 7").await;
    assert_eq!(shared.slack.posts_to("#general").len(), 1, "not Look 7");
    let calls: Vec<(String, String)> = shared
        .looker
        .requests()
        .into_iter()
        .zip(shared.looker.callers())
        .collect();
    assert!(
        calls
            .iter()
            .filter(|(r, _)| r.contains("/looks/"))
            .all(|(_, c)| c == "fallback"),
        "{calls:?}"
    );
    // Without a fallback credential, nothing runs for them.
    let none = oauth_app("oauth_or_shared").await;
    ask(&none, "U000000ALICE", "look 7").await;
    assert!(none.slack.posts_to("#general").is_empty());
}

#[tokio::test]
async fn connecting_end_to_end_answers_with_the_persons_own_account_and_keeps_no_token_in_clear() {
    let app = oauth_app("oauth").await;
    ask(&app, "U000000ALICE", "look 7").await;
    let (at_looker, cookie) = open_link(&app, &connect_link(&app)).await;
    let params: std::collections::HashMap<String, String> = at_looker.query_pairs().into_owned().collect();
    assert_eq!(at_looker.path(), "/auth", "Looker's web host");
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["client_id"], CLIENT_GUID);
    assert_eq!(params["redirect_uri"], CALLBACK);
    assert_eq!(params["scope"], "cors_api");
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["code_challenge"].len(), 43, "base64url of a SHA-256");
    assert!(params["state"].len() >= 32);
    let callback = authorise(&app, &at_looker, "10").await;
    let (status, page) = come_back(&app, &callback, Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("alice@acme.example at 127.0.0.1") && page.contains("is connected"),
        "{page}"
    );

    let exchange = &app.looker.token_calls()[0];
    assert_eq!(exchange["grant_type"], "authorization_code");
    assert_eq!(exchange["client_id"], CLIENT_GUID);
    assert_eq!(exchange["redirect_uri"], CALLBACK);
    assert!(exchange["code_verifier"].as_str().unwrap().len() >= 43);

    ask(&app, "U000000ALICE", "look 7").await;
    let posted = app.slack.only_post_to("#general");
    assert!(posted.text.contains("Pipeline by Rep"));
    assert!(
        app.looker.callers().contains(&"10".to_string()),
        "{:?}",
        app.looker.callers()
    );

    // Bob connects his own account and gets Looker's refusal for Alice's Look.
    let (status, _) = connect(&app, "U00000000BOB", "11").await;
    assert_eq!(status, StatusCode::OK);
    ask(&app, "U00000000BOB", "look 7").await;
    assert_eq!(
        app.slack.said().last().unwrap(),
        "I couldn't find Look 7 in Looker, or your Looker user can't see it."
    );

    let stored = database_bytes(&app);
    let issued = app.looker.oauth_tokens_issued();
    assert!(issued.len() >= 4);
    for token in issued {
        assert!(
            !stored.windows(token.len()).any(|w| w == token.as_bytes()),
            "{token} is in the database in clear"
        );
    }
}

#[tokio::test]
async fn the_state_is_checked_against_forgery_works_once_and_only_in_its_browser() {
    let app = oauth_app("oauth").await;
    ask(&app, "U000000ALICE", "look 7").await;
    let link = connect_link(&app);
    let (at_looker, cookie) = open_link(&app, &link).await;
    let callback = authorise(&app, &at_looker, "10").await;

    let (status, page) = come_back(&app, &callback, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no cookie: {page}");
    let someone_elses = format!("{}=someone-elses", cookie.split('=').next().unwrap());
    let (status, _) = come_back(&app, &callback, Some(&someone_elses)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "another browser's cookie");
    let forged = callback.replace("state=", "state=x");
    assert_eq!(come_back(&app, &forged, Some(&cookie)).await.0, StatusCode::BAD_REQUEST);
    assert!(
        app.looker.token_calls().is_empty(),
        "no code was traded for any of them"
    );

    assert_eq!(come_back(&app, &callback, Some(&cookie)).await.0, StatusCode::OK);
    let (status, page) = come_back(&app, &callback, Some(&cookie)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "used once: {page}");
    assert!(page.contains("already finished"), "{page}");

    // Two sign-ins under way in one browser (two tabs, two links) do not undo each other.
    ask(&app, "U00000000BOB", "look 7").await;
    let bobs_first = connect_link(&app);
    ask(&app, "U00000000BOB", "look 7").await;
    let bobs_second = connect_link(&app);
    let (first, first_cookie) = open_link(&app, &bobs_first).await;
    let (second, second_cookie) = open_link(&app, &bobs_second).await;
    assert_ne!(first_cookie.split('=').next(), second_cookie.split('=').next());
    let first_back = authorise(&app, &first, "11").await;
    let second_back = authorise(&app, &second, "11").await;
    let both = format!("{first_cookie}; {second_cookie}");
    assert_eq!(come_back(&app, &second_back, Some(&both)).await.0, StatusCode::OK);
    assert_eq!(come_back(&app, &first_back, Some(&both)).await.0, StatusCode::OK);

    let tampered = link.replace("ticket=", "ticket=e");
    let answer = browser().get(at_bot(&app, &tampered)).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(answer.text().await.unwrap().contains("not a link I made"));
}

#[tokio::test]
async fn someone_elses_looker_account_is_not_linked_and_a_refusal_links_nothing() {
    let app = oauth_app("oauth").await;
    // Bob opens his link in a browser signed in to Looker as Alice.
    let (status, page) = connect(&app, "U00000000BOB", "10").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        page.contains("alice@acme.example") && page.contains("is not yours"),
        "{page}"
    );
    assert_eq!(app.looker.live_refresh_tokens(), 0, "the token Looker gave is ended");

    app.looker.deny_consent();
    let (status, page) = connect(&app, "U000000ALICE", "10").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("did not allow"), "{page}");
    ask(&app, "U000000ALICE", "look 7").await;
    assert!(app.slack.said().last().unwrap().contains("connect your account"));
}

#[tokio::test]
async fn tokens_are_renewed_when_they_expire_or_looker_refuses_them() {
    let app = oauth_app("oauth").await;
    // Tokens that expire within the minute are renewed before use; Looker rotates the refresh token.
    app.looker.set_token_ttl(std::time::Duration::from_secs(30));
    assert_eq!(connect(&app, "U000000ALICE", "10").await.0, StatusCode::OK);
    ask(&app, "U000000ALICE", "look 7").await;
    ask(&app, "U000000ALICE", "look 7").await;
    assert_eq!(app.slack.posts_to("#general").len(), 2);
    let calls = app.looker.token_calls();
    let renewals: Vec<&Value> = calls.iter().filter(|c| c["grant_type"] == "refresh_token").collect();
    assert!(renewals.len() >= 2, "{calls:?}");
    assert_ne!(
        renewals[0]["refresh_token"], renewals[1]["refresh_token"],
        "the rotated one is used"
    );
    assert_eq!(renewals[0]["client_id"], CLIENT_GUID);

    // Looker forgets its access tokens (a restart): the next call's 401 is met with a renewal.
    app.looker.set_token_ttl(std::time::Duration::from_secs(3600));
    ask(&app, "U000000ALICE", "look 7").await;
    app.looker.revoke_tokens();
    ask(&app, "U000000ALICE", "look 7").await;
    assert_eq!(app.slack.posts_to("#general").len(), 4, "{:?}", app.slack.said());
}

#[tokio::test]
async fn a_link_looker_revoked_is_forgotten_and_the_person_asked_to_connect_again() {
    let app = oauth_app("oauth").await;
    assert_eq!(connect(&app, "U000000ALICE", "10").await.0, StatusCode::OK);
    app.looker.revoke_oauth_tokens();
    ask(&app, "U000000ALICE", "look 7").await;
    assert!(app.slack.posts_to("#general").is_empty());
    assert!(
        app.slack.said().last().unwrap().contains("connect your account"),
        "{:?}",
        app.slack.said()
    );
    assert_eq!(connect(&app, "U000000ALICE", "10").await.0, StatusCode::OK);
    ask(&app, "U000000ALICE", "look 7").await;
    assert_eq!(app.slack.posts_to("#general").len(), 1);
}

#[tokio::test]
async fn disconnect_and_identity_revoke_forget_the_account_and_end_its_session() {
    let app = oauth_app("oauth").await;
    assert_eq!(connect(&app, "U000000ALICE", "10").await.0, StatusCode::OK);
    assert_eq!(connect(&app, "U00000000BOB", "11").await.0, StatusCode::OK);
    ask(&app, "U000000ALICE", "disconnect").await;
    let said = app.slack.said().pop().unwrap();
    assert!(
        said.starts_with("I've forgotten your Looker account at 127.0.0.1:"),
        "{said}"
    );
    assert!(said.ends_with("Connect it again with `/looker connect`."), "{said}");
    assert_eq!(app.looker.oauth_logouts(), 1);
    ask(&app, "U000000ALICE", "look 7").await;
    assert!(app.slack.said().last().unwrap().contains("connect your account"));
    ask(&app, "U000000ALICE", "connect").await;
    assert!(app.slack.said().last().unwrap().contains("/looker/oauth/start?ticket="));

    // The operator revokes Bob's link from the command line.
    let dir = tempfile::tempdir().unwrap();
    let mut command = lookerbot(dir.path());
    with_settings(&mut command, &app);
    let output = command
        .env("LOOKERBOT_IDENTITY", "oauth")
        .env("LOOKER_OAUTH_CLIENT_ID", CLIENT_GUID)
        .env("LOOKERBOT_TOKEN_KEY", KEY)
        .env("PUBLIC_URL", PUBLIC)
        .args(["identity", "revoke", "U00000000BOB"])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        text.contains("Forgot U00000000BOB's Looker account (user 11)") && text.contains("session at Looker is ended"),
        "{text}"
    );
    assert_eq!(app.looker.live_refresh_tokens(), 0);
    ask(&app, "U00000000BOB", "look 7").await;
    assert!(app.slack.said().last().unwrap().contains("connect your account"));
}

#[tokio::test]
async fn broken_or_missing_sign_in_requests_get_a_clear_4xx_page() {
    let app = oauth_app("oauth").await;
    for path in [
        "/looker/oauth/start",
        "/looker/oauth/start?ticket=",
        "/looker/oauth/start?ticket=%ZZ.%00",
        "/looker/oauth/start?ticket=bm90LWpzb24.c2ln",
        "/looker/oauth/callback",
        "/looker/oauth/callback?state=abc&code=def",
        "/looker/oauth/callback?error=access_denied",
    ] {
        let answer = browser().get(format!("{}{path}", app.address)).send().await.unwrap();
        let status = answer.status();
        let page = answer.text().await.unwrap();
        assert!(status.is_client_error(), "{path}: {status} {page}");
        assert!(!page.is_empty(), "{path} says why");
    }
    // A bot with no Looker set to oauth has nothing to connect.
    let shared = spawn_app().await;
    let answer = browser()
        .get(format!("{}/looker/oauth/start?ticket=a.b", shared.address))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn check_reports_whether_looker_knows_the_bot_as_an_oauth_client_app() {
    let app = oauth_app("oauth").await;
    let report = lookerbot::cli::check::run(&app.settings).await.0;
    assert!(
        report.contains("ok   Looker") && report.contains("registered in Looker as OAuth client app lookerbot-slack"),
        "{report}"
    );
    app.looker
        .register_oauth_app(CLIENT_GUID, "https://elsewhere.example/callback");
    let (report, healthy) = lookerbot::cli::check::run(&app.settings).await;
    assert!(!healthy);
    assert!(
        report.contains("but the bot listens at https://bot.example.test/looker/oauth/callback"),
        "{report}"
    );

    let sudo = spawn_app_with(|s| {
        s.lookerbot_identity = Some("sudo".into());
        s.lookerbot_audience_default = Some("public".into());
    })
    .await;
    let (report, healthy) = lookerbot::cli::check::run(&sudo.settings).await;
    assert!(!healthy && report.contains("may not log in as other users"), "{report}");
    sudo.looker.add_user("1", "api@acme.example");
    let report = lookerbot::cli::check::run(&sudo.settings).await.0;
    assert!(
        report.contains("identity sudo: the API user may answer people as their own Looker users"),
        "{report}"
    );
}

#[tokio::test]
async fn without_the_email_check_the_person_confirms_whom_they_connect_on_our_own_page() {
    let app = spawn_app_with(|s| {
        s.lookerbot_identity = Some("oauth".into());
        s.lookerbot_audience_default = Some("public".into());
        s.looker_oauth_client_id = Some(CLIENT_GUID.into());
        s.lookerbot_token_key = Some(KEY.into());
        s.public_url = Some(PUBLIC.into());
        s.lookerbot_oauth_same_email = Some("false".into());
    })
    .await;
    app.looker.register_oauth_app(CLIENT_GUID, CALLBACK);
    app.looker.add_user("20", "alice.smith@other.example");
    app.looker.add_look(
        "7",
        "Pipeline by Rep",
        query("q7", "table"),
        status_counts(&[("won", 12)]),
    );
    ask(&app, "U000000ALICE", "look 7").await;
    let link = connect_link(&app);
    let page = browser().get(at_bot(&app, &link)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    // Whom it connects by id and verified email, not only by a name anyone may choose.
    assert!(
        page.contains("alice@acme.example") && page.contains("U000000ALICE") && page.contains("method=\"post\""),
        "{page}"
    );
    let ticket = link.split_once("ticket=").unwrap().1.to_string();
    let form = [("ticket", ticket.as_str())];
    let start = format!("{}/looker/oauth/start", app.address);
    // Another site's form posting the link (no Origin, or its own) is refused.
    for origin in [None, Some("https://attacker.example")] {
        let mut post = browser().post(&start).form(&form);
        if let Some(origin) = origin {
            post = post.header("origin", origin);
        }
        assert_eq!(post.send().await.unwrap().status(), StatusCode::FORBIDDEN, "{origin:?}");
    }
    let confirmed = browser()
        .post(&start)
        .form(&form)
        .header("origin", PUBLIC)
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), StatusCode::FOUND);
    let again = browser()
        .post(&start)
        .form(&form)
        .header("origin", PUBLIC)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "the link opens one sign-in");
    let cookie = confirmed.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let at_looker = url::Url::parse(confirmed.headers()[LOCATION].to_str().unwrap()).unwrap();
    let callback = authorise(&app, &at_looker, "20").await;
    let (status, page) = come_back(&app, &callback, Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "another email is accepted here: {page}");
    ask(&app, "U000000ALICE", "look 7").await;
    assert_eq!(app.slack.posts_to("#general").len(), 1);
    assert!(app.looker.callers().contains(&"20".to_string()));
}

#[tokio::test]
async fn help_lists_connect_and_disconnect_where_people_connect_their_accounts() {
    for (identity, listed) in [("oauth", true), ("shared", false)] {
        let app = oauth_app(identity).await;
        let body = slash_form(&app, "U000000ALICE", "help");
        let signed = (lookerbot::store::now_millis() / 1000, SIGNING_SECRET);
        let answer: Value = app
            .post_signed("/slack/receive", FORM, &body, signed, &[])
            .await
            .json()
            .await
            .unwrap();
        let text = answer["blocks"].to_string();
        assert_eq!(
            text.contains("/looker connect`: connect your own Looker account"),
            listed,
            "{identity}: {text}"
        );
        assert_eq!(text.contains("/looker disconnect`"), listed, "{identity}");
    }
}

/// A connect link seen by someone else (forwarded, in a screenshot, in a browser history) opens
/// nothing once used; and whoever connected, the person is told in a DM, with how to undo it.
#[tokio::test]
async fn a_connect_link_works_once_and_the_person_is_told_in_a_dm_of_every_connection() {
    let app = oauth_app("oauth").await;
    ask(&app, "U000000ALICE", "look 7").await;
    let link = connect_link(&app);
    let (at_looker, cookie) = open_link(&app, &link).await;
    let replay = browser().get(at_bot(&app, &link)).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(replay.text().await.unwrap().contains("already used"));
    let callback = authorise(&app, &at_looker, "10").await;
    let (status, _) = come_back(&app, &callback, Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    app.drain_jobs().await;
    let dm = app.slack.posts_to("D000000ALICE");
    assert_eq!(dm.len(), 1, "{:?}", app.slack.messages());
    let text = dm[0].all_text();
    assert!(
        text.contains("alice@acme.example") && text.contains("/looker disconnect"),
        "{text}"
    );
    // Run again (a crash after the post): still one notice.
    app.drain_jobs().await;
    assert_eq!(app.slack.posts_to("D000000ALICE").len(), 1);
}

/// The oauth settings of `oauth_app`, over the same fakes and database, with these keys.
async fn restart_with_keys(app: &mut TestApp, keys: Option<&str>, single: Option<&str>) -> TestApp {
    app.stop().await;
    let (slack, looker, dir) = app.parts();
    let mut raw = test_settings(&slack, &looker, &app.database_url);
    raw.lookerbot_identity = Some("oauth".into());
    raw.lookerbot_audience_default = Some("public".into());
    raw.looker_oauth_client_id = Some(CLIENT_GUID.into());
    raw.public_url = Some(PUBLIC.into());
    raw.lookerbot_token_keys = keys.map(str::to_string);
    raw.lookerbot_token_key = single.map(str::to_string);
    start(raw, slack, looker, dir).await
}

#[tokio::test]
async fn a_new_key_in_front_keeps_people_connected_and_rekey_lets_the_old_key_go() {
    const NEW: &str = "2026-12:9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";
    let mut app = oauth_app("oauth").await;
    let (status, _) = connect(&app, "U000000ALICE", "10").await;
    assert_eq!(status, StatusCode::OK);

    // Without the old key, Alice's tokens open with nothing: she is asked to connect again.
    let mut only_new = restart_with_keys(&mut app, Some(NEW), None).await;
    ask(&only_new, "U000000ALICE", "look 7").await;
    assert!(
        only_new.slack.said().last().unwrap().contains("connect"),
        "{:?}",
        only_new.slack.said()
    );

    // The new key in front, the old one still there: nothing changes for anyone.
    let mut both = restart_with_keys(&mut only_new, Some(NEW), Some(KEY)).await;
    ask(&both, "U000000ALICE", "look 7").await;
    assert!(both.slack.only_post_to("#general").text.contains("Pipeline by Rep"));
    assert!(both.looker.callers().contains(&"10".to_string()));
    both.stop().await;

    // `lookerbot identity rekey` seals everything again under the new key...
    let workdir = tempfile::tempdir().unwrap();
    let mut rekey = lookerbot(workdir.path());
    with_settings(&mut rekey, &both);
    let out = rekey
        .env("LOOKERBOT_TOKEN_KEYS", NEW)
        .env("LOOKERBOT_TOKEN_KEY", KEY)
        .args(["identity", "rekey"])
        .output()
        .await
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{printed} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        printed.contains("Sealed again under key 2026-12: 1 linked account(s)"),
        "{printed}"
    );
    assert!(
        !printed.contains(" 0 job payload(s)"),
        "the slash commands' response URLs: {printed}"
    );

    // ...so the old key can go: Alice is still herself, and nothing sealed under it is left.
    let only_new = restart_with_keys(&mut both, Some(NEW), None).await;
    let before = only_new.looker.callers().len();
    ask(&only_new, "U000000ALICE", "look 7").await;
    assert!(only_new.looker.callers()[before..].contains(&"10".to_string()));
    for link in only_new.store.sealed().all_links().await.unwrap() {
        assert!(link.sealed.starts_with("v2.2026-12."), "{}", link.sealed);
    }
    for (_, payload) in only_new.store.sealed().payloads(0, 100).await.unwrap() {
        assert!(
            !payload.contains("v2.k0.") && !payload.contains("hooks.slack") && !payload.contains("/response/"),
            "{payload}"
        );
    }
}

#[tokio::test]
async fn sign_ins_a_person_starts_are_limited_to_five_in_ten_minutes() {
    let app = oauth_app("oauth").await;
    let mut links = Vec::new();
    for _ in 0..6 {
        ask(&app, "U000000ALICE", "look 7").await;
        links.push(connect_link(&app));
    }
    for link in &links[..5] {
        open_link(&app, link).await;
    }
    let sixth = browser().get(at_bot(&app, &links[5])).send().await.unwrap();
    assert_eq!(sixth.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(sixth.text().await.unwrap().contains("Wait ten minutes"));
    // Someone else's sign-in is not held up by Alice's.
    ask(&app, "U00000000BOB", "look 7").await;
    open_link(&app, &connect_link(&app)).await;
}
