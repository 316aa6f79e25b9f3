//! Names that can be re-pointed, attacked: a delivery address names a channel or a person, and
//! whoever can rename a channel, create one, or choose a display name must not receive what was
//! meant for someone else.

use lookerbot::queue::Outcome;

use crate::fake_slack::Channel;
use crate::helpers::*;

async fn app_with_look() -> TestApp {
    let app = spawn_app().await;
    app.looker
        .add_look("7", "Orders", query("q7", "table"), status_counts(&[("complete", 3)]));
    app
}

/// #sales is renamed and someone creates a new #sales: the schedule's data does not follow the
/// name into the new channel until an operator confirms it.
#[tokio::test]
async fn a_channel_name_taken_over_gets_nothing_until_an_operator_confirms() {
    let mut app = app_with_look().await;
    let body = look_webhook(&app.looker, "7", "Orders", None);
    app.deliver("/slack/post/channel/sales", &body).await;
    app.drain_jobs().await;
    assert_eq!(app.slack.posts_to("C00000SALES1").len(), 1);

    app.slack.rename_channel("C00000SALES1", "sales-archive");
    app.slack.add_channel(Channel::public("C0000IMPOST", "sales"));
    // A restarted bot (its name cache empty) on the same database.
    app.stop().await;
    let (slack, looker, dir) = app.parts();
    let mut raw = test_settings(&slack, &looker, &app.database_url);
    raw.port = Some("0".into());
    let again = start(raw, slack, looker, dir).await;
    let mut second = body.clone();
    second["scheduled_plan"]["scheduled_plan_id"] = serde_json::json!(92);
    again.deliver("/slack/post/channel/sales", &second).await;
    assert_eq!(again.drain_jobs().await, [Outcome::Dead]);
    assert!(
        again.slack.posts_to("C0000IMPOST").is_empty(),
        "nothing reached the new #sales"
    );
    let dead = again.dead_jobs().await;
    let error = dead[0].last_error.clone().unwrap();
    assert!(
        error.contains("now names another channel") && error.contains("--repin"),
        "{error}"
    );

    // The operator confirms: the name is pinned to the new channel and the delivery goes on.
    let work = tempfile::tempdir().unwrap();
    let mut command = lookerbot(work.path());
    command
        .env("DATABASE_URL", &again.database_url)
        .args(["jobs", "retry", &dead[0].id.to_string(), "--repin"]);
    let output = command.output().await.unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(again.drain_jobs().await, [Outcome::Done]);
    assert_eq!(again.slack.posts_to("C0000IMPOST").len(), 1);
    // A channel id in the address is never pinned: it names itself.
    let mut third = body.clone();
    third["scheduled_plan"]["scheduled_plan_id"] = serde_json::json!(93);
    again.deliver("/slack/post/channel/C00000SALES1", &third).await;
    assert_eq!(again.drain_jobs().await, [Outcome::Done]);
    assert_eq!(again.slack.posts_to("C00000SALES1").len(), 2);
}

/// Bob's display name is "bobby"; anyone could set theirs to it. A DM address finds people by
/// account name, email or id only.
#[tokio::test]
async fn a_dm_address_never_follows_a_display_name() {
    let app = app_with_look().await;
    let body = look_webhook(&app.looker, "7", "Orders", None);
    app.deliver("/slack/post/dm/bobby", &body).await;
    assert_eq!(app.drain_jobs().await, [Outcome::Dead]);
    assert!(app.slack.messages().is_empty());
    for (n, address) in ["bob", "bob@acme.example", "U00000000BOB"].iter().enumerate() {
        let mut again = body.clone();
        again["scheduled_plan"]["scheduled_plan_id"] = serde_json::json!(100 + n);
        app.deliver(&format!("/slack/post/dm/{address}"), &again).await;
    }
    app.drain_jobs().await;
    assert_eq!(app.slack.posts_to("D00000000BOB").len(), 3);
}
