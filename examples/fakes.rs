//! The test suite's fake Slack and fake Looker, on their own, for scripts that run the real bot
//! against them (the soak test, load drills):
//!
//!     cargo run --release --example fakes -- SLACK_PORT LOOKER_PORT [LOOKER_QUERY_MS] [DOWNLOAD_MB]
//!
//! The fake Looker holds Looks 1 to 20 ("Orders by Status") and, with DOWNLOAD_MB, a one-time
//! download link `/downloads/big` of that many MiB of CSV; the fake Slack has channels `#burst-00`
//! to `#burst-99` besides its usual ones and lists what was posted (and each shared file's size)
//! at `GET /__fake/messages`. Both count what they saw at `GET /__fake/stats`; the fake Slack
//! keeps Slack's per-channel pace after `POST /__fake/pace?per_second=1&burst=3` and answers 503
//! to everything for a while after `POST /__fake/outage?secs=60`. A fake Braze (`/users/track`,
//! key `braze-rest-key-2f9c41`) listens on a port of its own, printed at start.
//!
//! The bot takes a schedule only when Looker's plan sends to its address, so the fake Looker keeps
//! plan `look × 1000 + channel` for each Look 1 to 20 and each channel (`#burst-00` to `#burst-99`
//! are 0 to 99; `#general`, `#random`, `#sales`, `#metrics` are 100 to 103), sending to
//! `$FAKE_BOT_URL/slack/post/channel/<name>` (default `https://lookerbot.drill.example`: start the
//! bot with that `PUBLIC_URL`), and plan 900, dashboard 1 to `#general`.

#[path = "../tests/api/fake_braze.rs"]
#[allow(dead_code)]
mod fake_braze;
#[path = "../tests/api/fake_looker.rs"]
#[allow(dead_code, clippy::result_large_err)]
mod fake_looker;
#[path = "../tests/api/fake_looker_oauth.rs"]
#[allow(dead_code)]
mod fake_looker_oauth;
#[path = "../tests/api/fake_looker_plans.rs"]
#[allow(dead_code)]
mod fake_looker_plans;
#[path = "../tests/api/fake_slack.rs"]
#[allow(dead_code, clippy::result_large_err)]
mod fake_slack;

use serde_json::json;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port = |i: usize| args.get(i).and_then(|p| p.parse().ok()).unwrap_or(0);
    let slack = fake_slack::FakeSlack::start_on(port(1)).await;
    let looker = fake_looker::FakeLooker::start_on(port(2)).await;
    if let Some(delay) = args.get(3).and_then(|d| d.parse().ok()) {
        looker.set_query_delay(std::time::Duration::from_millis(delay));
    }
    if let Some(mib) = args.get(4).and_then(|m| m.parse::<usize>().ok()) {
        let line = b"county 0042,1234,98765.50\n";
        let bytes: Vec<u8> = line.iter().copied().cycle().take(mib * 1024 * 1024).collect();
        looker.add_download("big", "text/csv", bytes);
    }
    for n in 0..100 {
        slack.add_channel(fake_slack::Channel::public(
            &format!("C0BURST{n:04}"),
            &format!("burst-{n:02}"),
        ));
    }
    for id in 1..=20 {
        let rows: Vec<serde_json::Value> = ["complete", "pending", "cancelled"]
            .iter()
            .map(|status| json!({"orders.status": {"value": status}, "orders.count": {"value": id, "rendered": id.to_string()}}))
            .collect();
        looker.add_look(
            &id.to_string(),
            "Orders by Status",
            json!({"id": format!("q{id}"), "model": "thelook", "view": "orders",
                   "fields": ["orders.status", "orders.count"], "vis_config": {"type": "table"}}),
            json!({"fields": {"dimensions": [{"name": "orders.status", "label_short": "Status"}],
                              "measures": [{"name": "orders.count", "label_short": "Count", "is_numeric": true, "measure": true}],
                              "table_calculations": [], "pivots": []},
                   "data": rows}),
        );
    }
    seed_plans(&looker);
    let braze = fake_braze::FakeBraze::start().await;
    println!(
        "slack {} looker {} {} braze {}",
        slack.base_url, looker.web_url, looker.api_url, braze.base_url
    );
    std::future::pending::<()>().await;
}

/// The plans the scripts' webhooks name (see the top of this file).
fn seed_plans(looker: &fake_looker::FakeLooker) {
    let base = std::env::var("FAKE_BOT_URL").unwrap_or_else(|_| "https://lookerbot.drill.example".into());
    let named = ["general", "random", "sales", "metrics"];
    let channels = (0..100)
        .map(|n| format!("burst-{n:02}"))
        .chain(named.iter().map(|n| n.to_string()));
    for (index, channel) in channels.enumerate() {
        let address = format!("{base}/slack/post/channel/{channel}");
        for look in 1..=20 {
            let id = (look * 1000 + index).to_string();
            let content = json!({"look_id": look.to_string()});
            looker.add_plan(fake_looker_plans::scheduled_plan(&id, "1", &address, content));
        }
    }
    let general = format!("{base}/slack/post/channel/general");
    looker.add_plan(fake_looker_plans::scheduled_plan(
        "900",
        "1",
        &general,
        json!({"dashboard_id": "1"}),
    ));
}
