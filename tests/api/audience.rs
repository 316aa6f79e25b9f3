//! The audience guard: per channel an answer is posted (`public`), shown to the asker alone with
//! a "Share to channel" button that asks again as the person who clicks (`private`), or given as
//! a link to Looker only (`links`). Slack Connect channels are private unless the operator says
//! otherwise, link previews appear only where the channel may see data, and the audit records
//! who asked what, as whom, where and with what outcome.

use serde_json::{Value, json};

use crate::fake_slack::Channel;
use crate::helpers::*;

/// Look 7 has data (`won 12`); #sales is private, #metrics takes links only.
async fn guarded_app(customise: impl FnOnce(&mut lookerbot::config::RawSettings)) -> TestApp {
    let app = spawn_app_with(|s| {
        s.lookerbot_audience = Some("#sales=private, #metr*=links".into());
        customise(s);
    })
    .await;
    app.looker.add_look(
        "7",
        "Pipeline by Rep",
        query("q7", "table"),
        status_counts(&[("won", 12)]),
    );
    app
}

/// `/looker <text>` from `user` in `channel`, as Slack sends it.
async fn slash_in(app: &TestApp, channel: &str, name: &str, user: &str, text: &str) {
    let body = slash_form(app, user, text)
        .replace("C0000GENERAL", channel)
        .replace("channel_name=general", &format!("channel_name={name}"));
    let signed = (lookerbot::store::now_millis() / 1000, SIGNING_SECRET);
    let ack = app.post_signed("/slack/receive", FORM, &body, signed, &[]).await;
    assert_eq!(ack.status(), 200);
    app.drain_jobs().await;
}

/// The share button in an answer's blocks, if it has one.
fn share_button(blocks: &Value) -> Option<Value> {
    blocks.as_array()?.iter().find_map(|block| {
        block["elements"]
            .as_array()?
            .iter()
            .find(|e| e["action_id"] == "lookerbot_share")
            .cloned()
    })
}

/// A click on `button` as Slack sends it from an ephemeral message (python-slack-sdk's capture).
fn share_click(app: &TestApp, button: &Value, user: &str, channel: &str) -> String {
    let mut payload: Value =
        serde_json::from_str(&slack_fixture("interactive_block_actions_ephemeral_state.json")).unwrap();
    payload["user"]["id"] = json!(user);
    payload["user"]["team_id"] = json!("T000000ACME");
    payload["team"]["id"] = json!("T000000ACME");
    payload["channel"]["id"] = json!(channel);
    payload["container"]["channel_id"] = json!(channel);
    payload["response_url"] = json!(app.slack.response_url());
    payload["trigger_id"] = json!(app.slack.trigger());
    payload["actions"][0]["action_id"] = button["action_id"].clone();
    payload["actions"][0]["value"] = button["value"].clone();
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

async fn click(app: &TestApp, body: &str) {
    let signed = (lookerbot::store::now_millis() / 1000, SIGNING_SECRET);
    let ack = app.post_signed("/slack/action", FORM, body, signed, &[]).await;
    assert_eq!(ack.status(), 200);
    app.drain_jobs().await;
}

/// `lookerbot audit --format json` against the app's database.
async fn audit(app: &TestApp, args: &[&str]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let output = lookerbot(dir.path())
        .env("DATABASE_URL", &app.database_url)
        .arg("audit")
        .args(["--format", "json"])
        .args(args)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn a_private_channel_answers_the_asker_alone_until_they_share_it() {
    let app = guarded_app(|_| {}).await;
    slash_in(&app, "C00000SALES1", "sales", "U000000ALICE", "look 7").await;
    assert!(app.slack.posts_to("#sales").is_empty(), "nothing posted in #sales");
    let private = app.slack.responses().last().cloned().unwrap();
    assert_eq!(private["response_type"], "ephemeral");
    let blocks = private["blocks"].to_string();
    assert!(blocks.contains("won") && blocks.contains("12"), "{blocks}");
    assert!(blocks.contains("Only you can see this answer"), "{blocks}");
    let button = share_button(&private["blocks"]).expect("a share button");
    assert_eq!(button["text"]["text"], "Share to channel");

    click(&app, &share_click(&app, &button, "U000000ALICE", "C00000SALES1")).await;
    let shared = app.slack.only_post_to("#sales");
    assert!(shared.text.contains("Pipeline by Rep"), "{}", shared.text);
    assert!(shared.blocks.to_string().contains("won"));
    assert_eq!(
        app.slack.responses().last().unwrap(),
        &json!({"delete_original": true}),
        "the private copy is taken away once shared"
    );

    let entries = audit(&app, &["--user", "U000000ALICE"]).await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0]["kind"], "share");
    assert_eq!(entries[0]["audience"], "public");
    assert_eq!(entries[1]["kind"], "command");
    assert_eq!(entries[1]["audience"], "private");
    assert_eq!(entries[1]["what"], "look 7");
    assert_eq!(entries[1]["channel"], "C00000SALES1");
    assert_eq!(entries[1]["outcome"], "answered");
    assert_eq!(entries[1]["looker_acting_as"], "api_user");
    assert_eq!(entries[1]["team"], "T000000ACME");
    assert!(
        entries[1]["looker_host"].as_str().unwrap().starts_with("127.0.0.1"),
        "{entries:?}"
    );
}

#[tokio::test]
async fn sharing_checks_again_that_the_sharer_may_still_see_it() {
    let app = guarded_app(|s| s.lookerbot_identity = Some("sudo".into())).await;
    app.looker.add_user("10", "alice@acme.example");
    slash_in(&app, "C00000SALES1", "sales", "U000000ALICE", "look 7").await;
    let button = share_button(&app.slack.responses().last().unwrap()["blocks"]).unwrap();
    // Alice loses access to the Look before she shares it.
    app.looker.restrict_look("7", &["99"]);
    click(&app, &share_click(&app, &button, "U000000ALICE", "C00000SALES1")).await;
    assert!(app.slack.posts_to("#sales").is_empty(), "nothing shared");
    assert_eq!(
        app.slack.said().last().unwrap(),
        "I couldn't find Look 7 in Looker, or your Looker user can't see it."
    );
    let entries = audit(&app, &[]).await;
    assert_eq!(entries[0]["kind"], "share");
    assert!(
        entries[0]["outcome"].as_str().unwrap().starts_with("refused: "),
        "{entries:?}"
    );
    // Each fact in its own field, for a SIEM.
    assert_eq!(entries[0]["looker_acting_as"], "user");
    assert_eq!(entries[0]["looker_user_id"], "10");
    assert_eq!(entries[0]["looker_user_email"], "alice@acme.example");
    assert_eq!(entries[0]["slack_user"], "U000000ALICE");
    assert!(
        entries[0].get("looker_user").is_none(),
        "no composite string: {entries:?}"
    );
}

#[tokio::test]
async fn a_links_channel_gets_a_link_and_never_data() {
    let app = guarded_app(|_| {}).await;
    slash_in(&app, "C0000METRICS", "metrics", "U000000ALICE", "look 7").await;
    let posted = app.slack.only_post_to("#metrics");
    let everything = format!("{} {}", posted.text, posted.blocks);
    assert!(everything.contains("/looks/7|Pipeline by Rep>"), "{everything}");
    assert!(!everything.contains("won"), "no data: {everything}");
    assert!(
        !app.looker.requests().iter().any(|r| r.contains("/run/")),
        "no query ran: {:?}",
        app.looker.requests()
    );
    assert!(share_button(&posted.blocks).is_none());
}

#[tokio::test]
async fn a_slack_connect_channel_is_private_by_default_and_its_mentions_answered_ephemerally() {
    let app = guarded_app(|_| {}).await;
    app.slack.add_channel(Channel {
        is_ext_shared: true,
        ..Channel::public("C0000PARTNR", "acme-partner")
    });
    // Slack's own capture of a mention in a channel shared with another organisation.
    let mut body: Value = serde_json::from_str(&slack_fixture("event_app_mention_shared_channel.json")).unwrap();
    body["team_id"] = json!("T000000ACME");
    body["event"]["team"] = json!("T000000ACME");
    body["event"]["user"] = json!("U000000ALICE");
    body["event"]["channel"] = json!("C0000PARTNR");
    body["event"]["text"] = json!("<@U0000000BOT> look 7");
    assert_eq!(app.post_event_body(&body.to_string()).await.status(), 200);
    app.drain_jobs().await;
    assert!(
        app.slack.posts_to("C0000PARTNR").is_empty(),
        "{:?}",
        app.slack.messages()
    );
    let ephemeral = app.slack.ephemeral_bodies().pop().expect("an ephemeral answer");
    assert_eq!(ephemeral["user"], "U000000ALICE");
    assert_eq!(ephemeral["thread_ts"], "1605835902.008000", "in the mention's thread");
    let blocks = match &ephemeral["blocks"] {
        Value::String(text) => serde_json::from_str(text).unwrap(),
        other => other.clone(),
    };
    assert!(blocks.to_string().contains("won"));
    assert!(share_button(&blocks).is_some());
    let entries = audit(&app, &["--since", "1h"]).await;
    assert_eq!(entries[0]["kind"], "mention");
    assert_eq!(entries[0]["audience"], "private");
}

#[tokio::test]
async fn the_operator_may_open_slack_connect_channels_and_dms_stay_with_the_asker() {
    let app = guarded_app(|s| s.lookerbot_audience_external = Some("public".into())).await;
    app.slack.add_channel(Channel {
        is_ext_shared: true,
        ..Channel::public("C0000PARTNR", "acme-partner")
    });
    slash_in(&app, "C0000PARTNR", "acme-partner", "U000000ALICE", "look 7").await;
    assert_eq!(app.slack.posts_to("C0000PARTNR").len(), 1);

    // A DM with the bot: answered there, and recorded as the asker's alone.
    let dm = json!({"type": "event_callback", "team_id": "T000000ACME", "api_app_id": "A0000000APP",
        "event_id": "Ev0DM", "event_time": 1_700_000_000,
        "event": {"type": "message", "channel_type": "im", "user": "U000000ALICE", "text": "look 7",
                  "ts": "1700000200.000100", "channel": "D000000ALICE", "event_ts": "1700000200.000100"}});
    assert_eq!(app.post_event_body(&dm.to_string()).await.status(), 200);
    app.drain_jobs().await;
    assert_eq!(app.slack.posts_to("D000000ALICE").len(), 1);
    let entries = audit(&app, &[]).await;
    assert_eq!(entries[0]["kind"], "dm");
    assert_eq!(entries[0]["audience"], "dm");
}

#[tokio::test]
async fn a_link_is_previewed_only_where_the_channel_may_see_data() {
    let app = guarded_app(|_| {}).await;
    let url = format!("{}/looks/7", app.looker.web_url);
    for (channel, ts) in [
        ("C00000SALES1", "1700000300.000100"),
        ("C0000GENERAL", "1700000301.000100"),
    ] {
        let event = json!({"type": "event_callback", "team_id": "T000000ACME", "api_app_id": "A0000000APP",
            "event_id": format!("Ev{ts}"), "event_time": 1_700_000_000,
            "event": {"type": "link_shared", "channel": channel, "is_bot_user_member": true, "user": "U000000ALICE",
                      "message_ts": ts, "unfurl_id": format!("U{ts}"), "source": "conversations_history",
                      "links": [{"domain": "127.0.0.1", "url": url}], "event_ts": ts}});
        assert_eq!(app.post_event_body(&event.to_string()).await.status(), 200);
    }
    // Previews wait a moment for the message to settle; drain until both jobs ran.
    for _ in 0..40 {
        app.drain_jobs().await;
        if app.jobs().await.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let unfurls = app.slack.unfurls();
    assert_eq!(unfurls.len(), 1, "only #general's link is previewed: {unfurls:?}");
    let entries = audit(&app, &[]).await;
    let sales = entries.iter().find(|e| e["channel"] == "C00000SALES1").unwrap();
    assert_eq!(sales["kind"], "preview");
    assert!(sales["outcome"].as_str().unwrap().starts_with("not previewed"));
}

#[tokio::test]
async fn a_channel_tied_to_a_looker_group_shows_only_data_from_its_models() {
    let app = guarded_app(|s| s.lookerbot_audience_groups = Some("#general=Field Sales".into())).await;
    app.looker.add_group("Field Sales", &["sales"]);
    let mut sales_query = query("q8", "table");
    sales_query["model"] = json!("sales");
    app.looker
        .add_look("8", "Bookings", sales_query, status_counts(&[("booked", 3)]));
    // Look 8's model is the group's: posted. Look 7's (thelook) is not: the asker alone sees it.
    slash_in(&app, "C0000GENERAL", "general", "U000000ALICE", "look 8").await;
    assert_eq!(app.slack.posts_to("#general").len(), 1);
    slash_in(&app, "C0000GENERAL", "general", "U000000ALICE", "look 7").await;
    assert_eq!(app.slack.posts_to("#general").len(), 1, "Look 7 was not posted");
    let private = app.slack.responses().last().cloned().unwrap();
    assert_eq!(private["response_type"], "ephemeral");
    let blocks = private["blocks"].to_string();
    assert!(
        blocks.contains("won") && blocks.contains("Field Sales group"),
        "{blocks}"
    );
    assert!(
        share_button(&private["blocks"]).is_none(),
        "sharing would not pass the tie either"
    );
}

#[tokio::test]
async fn an_answer_is_shared_once_though_clicked_twice_and_the_bot_killed_after_posting() {
    let app = guarded_app(|s| s.lookerbot_job_lease_secs = Some("2".into())).await;
    slash_in(&app, "C00000SALES1", "sales", "U000000ALICE", "look 7").await;
    let button = share_button(&app.slack.responses().last().unwrap()["blocks"]).unwrap();
    // The bot dies right after Slack took the shared post, before it learnt so.
    let signed = (lookerbot::store::now_millis() / 1000, SIGNING_SECRET);
    let first = share_click(&app, &button, "U000000ALICE", "C00000SALES1");
    assert_eq!(
        app.post_signed("/slack/action", FORM, &first, signed, &[])
            .await
            .status(),
        200
    );
    app.slack
        .hang_next("chat.postMessage", crate::fake_slack::Hang::AfterEffect);
    app.kill_worker_when(app.slack.wait_until_hung()).await;
    assert_eq!(app.slack.posts_to("#sales").len(), 1);
    // An impatient second click on the same answer, then the job taken over after its lease.
    click(&app, &share_click(&app, &button, "U000000ALICE", "C00000SALES1")).await;
    tokio::time::sleep(app.settings.jobs.lease + std::time::Duration::from_millis(100)).await;
    app.drain_jobs().await;
    assert_eq!(app.slack.posts_to("#sales").len(), 1, "shared once");
    let shares: Vec<Value> = audit(&app, &[])
        .await
        .into_iter()
        .filter(|e| e["kind"] == "share")
        .collect();
    assert_eq!(shares.len(), 1, "{shares:?}");
}
