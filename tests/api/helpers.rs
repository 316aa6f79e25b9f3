//! The harness every test uses: the real app on port 0 with a temporary database, fake Slack and
//! Looker servers, a worker the test drives by hand, and Slack's request signing.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use lookerbot::config::{RawSettings, Settings};
use lookerbot::features::Context;
use lookerbot::queue::{Outcome, Worker};
use lookerbot::startup::App;
use lookerbot::store::{JobRecord, JobState, JobStore};
use serde_json::{Value, json};
use sha2::Sha256;
use tempfile::TempDir;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::fake_looker::{self, FakeLooker};
use crate::fake_slack::{self, FakeSlack};

pub const WEBHOOK_TOKEN: &str = "looker-webhook-token";
pub const SIGNING_SECRET: &str = "slack-signing-secret";

pub struct TestApp {
    pub address: String,
    pub slack: FakeSlack,
    pub looker: FakeLooker,
    pub store: Arc<dyn JobStore>,
    pub worker: Worker<Context>,
    /// The bot's context, as its jobs and acknowledgements see it.
    pub bot: Arc<Context>,
    pub http: reqwest::Client,
    pub database_url: String,
    pub settings: Settings,
    shutdown: CancellationToken,
    server: Option<JoinHandle<()>>,
    _db_dir: Arc<TempDir>,
}

/// Settings pointing at the fakes: no background workers (tests drive the queue), fast retries.
pub fn test_settings(slack: &FakeSlack, looker: &FakeLooker, database_url: &str) -> RawSettings {
    RawSettings {
        slack_api_key: Some(fake_slack::BOT_TOKEN.into()),
        slack_signing_secret: Some(SIGNING_SECRET.into()),
        slack_api_base_url: Some(slack.base_url.clone()),
        looker_url: Some(looker.web_url.clone()),
        looker_api_base_url: Some(looker.api_url.clone()),
        looker_api_client_id: Some(fake_looker::CLIENT_ID.into()),
        looker_api_client_secret: Some(fake_looker::CLIENT_SECRET.into()),
        looker_webhook_token: Some(WEBHOOK_TOKEN.into()),
        database_url: Some(database_url.into()),
        port: Some("0".into()),
        lookerbot_workers: Some("0".into()),
        lookerbot_job_backoff_ms: Some("5".into()),
        lookerbot_job_max_attempts: Some("4".into()),
        lookerbot_job_lease_secs: Some("30".into()),
        looker_timeout_secs: Some("10".into()),
        slack_timeout_secs: Some("10".into()),
        // Tests ask fast; the limit has its own tests (trust_keys.rs).
        lookerbot_per_user_per_minute: Some("0".into()),
        ..Default::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customise: impl FnOnce(&mut RawSettings)) -> TestApp {
    let slack = FakeSlack::start().await;
    let looker = FakeLooker::start().await;
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let database_url = format!("sqlite://{}/lookerbot.db", dir.path().display());
    let mut raw = test_settings(&slack, &looker, &database_url);
    customise(&mut raw);
    start(raw, slack, looker, dir).await
}

/// Starts (or restarts) the app with these settings against existing fakes and database.
pub async fn start(raw: RawSettings, slack: FakeSlack, looker: FakeLooker, dir: Arc<TempDir>) -> TestApp {
    let (settings, _) = raw.validate().expect("test settings are valid");
    let app = App::build(settings.clone()).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let store = app.queue().store().clone();
    let worker = app.worker();
    let bot = app.bot();
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let server = tokio::spawn(async move { app.run_until_stopped(stop).await.expect("server runs") });
    TestApp {
        address,
        slack,
        looker,
        store,
        worker,
        bot,
        http: reqwest::Client::new(),
        database_url: settings.database_url.clone(),
        settings,
        shutdown,
        server: Some(server),
        _db_dir: dir,
    }
}

impl TestApp {
    /// The same fakes and database, for a second app (a restart).
    pub fn parts(&self) -> (FakeSlack, FakeLooker, Arc<TempDir>) {
        (self.slack.clone(), self.looker.clone(), self._db_dir.clone())
    }

    /// Runs the next job on a worker of its own until `reached` (the fake Slack or Looker hung at
    /// the point under test), and kills the worker there, as `kill -9` would: nothing after that
    /// point runs, and the job stays leased until its lease runs out.
    pub async fn kill_worker_when(&self, reached: impl std::future::Future<Output = ()>) {
        let worker = Worker::new(
            self.store.clone(),
            Arc::new(lookerbot::features::jobs()),
            self.bot.clone(),
            self.settings.jobs.clone(),
        );
        let running = tokio::spawn(async move { worker.run_next(&CancellationToken::new()).await });
        tokio::time::timeout(Duration::from_secs(10), reached)
            .await
            .expect("the job reached the point under test");
        running.abort();
        let _ = running.await;
    }

    /// Kills the app where it stands, like a crash: no graceful shutdown, jobs left mid-way.
    /// Returns once it is gone (its hold on the SQLite file released, as a dead process's is).
    pub async fn kill(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
    }

    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// Posts a webhook as Looker's scheduler does: for a plan Looker keeps (made from the body
    /// when the fake has none with its id) that sends to this address.
    pub async fn post_webhook(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> reqwest::Response {
        self.looker.plan_behind(&format!("{}{}", self.address, path), body);
        self.post_forged(path, body, headers).await
    }

    /// Posts a webhook body exactly as given, with no plan behind it at Looker (an attacker's).
    pub async fn post_forged(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.http.post(format!("{}{}", self.address, path)).json(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    /// Posts `body` to `path` as Slack does: `X-Slack-Signature` over it at `timestamp` with
    /// `secret`, plus any other headers (retry counts).
    pub async fn post_signed(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
        (timestamp, secret): (i64, &str),
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}{}", self.address, path))
            .header("Content-Type", content_type)
            .header("X-Slack-Request-Timestamp", timestamp.to_string())
            .header("X-Slack-Signature", slack_signature(secret, timestamp, body.as_bytes()));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(body.to_string()).send().await.unwrap()
    }

    /// Posts a webhook with this Looker's token and expects it accepted.
    pub async fn deliver(&self, path: &str, body: &Value) {
        let response = self
            .post_webhook(path, body, &[("X-Looker-Webhook-Token", WEBHOOK_TOKEN)])
            .await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }

    /// Runs jobs until none is queued, waiting out short retry delays; returns what happened.
    pub async fn drain_jobs(&self) -> Vec<Outcome> {
        let never = CancellationToken::new();
        let mut outcomes = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            match self.worker.run_next(&never).await.unwrap() {
                Some(outcome) => outcomes.push(outcome),
                None => {
                    let waiting = self.jobs().await.iter().any(|j| j.state == JobState::Queued);
                    if !waiting || tokio::time::Instant::now() > deadline {
                        return outcomes;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }

    /// Fetches the custom-command catalogs now, as the background refresh does.
    pub async fn refresh_custom_commands(&self) {
        let failures = self.bot.custom_commands.refresh(&self.bot.lookers, false).await;
        assert!(failures.is_empty(), "{failures:?}");
    }

    /// Every job that is not done.
    pub async fn jobs(&self) -> Vec<JobRecord> {
        self.store.list(false, 1000).await.unwrap()
    }

    pub async fn dead_jobs(&self) -> Vec<JobRecord> {
        self.store.list(true, 1000).await.unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// `v0=` + HMAC-SHA256 of `v0:{timestamp}:{body}`, exactly as Slack signs requests.
#[allow(dead_code)]
/// Slack's form content type (slash commands, interactions).
pub const FORM: &str = "application/x-www-form-urlencoded";

pub fn slack_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    format!("v0={}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

// ---- Looker payloads, shaped as Looker sends them (see Looker.4.0.oas.json) ----

pub fn field(name: &str, label_short: &str, numeric: bool) -> Value {
    let view = name.split('.').next().unwrap();
    json!({"name": name, "label": format!("{} {label_short}", capitalise(view)), "label_short": label_short,
           "view_label": capitalise(view), "type": if numeric { "count" } else { "string" },
           "measure": numeric, "is_numeric": numeric, "value_format": null, "hidden": false})
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

pub fn query(id: &str, vis_type: &str) -> Value {
    json!({"id": id, "model": "thelook", "view": "orders", "fields": ["orders.status", "orders.count"],
           "pivots": null, "filters": {"orders.created_date": "7 days"}, "sorts": [], "limit": "500",
           "vis_config": {"type": vis_type}, "share_url": format!("https://looker.example.com/x/{id}"),
           "slug": format!("slug{id}"), "client_id": "abc", "dynamic_fields": null})
}

/// A json_detail result with a `orders.status` dimension and `orders.count` measure.
pub fn status_counts(rows: &[(&str, i64)]) -> Value {
    let data: Vec<Value> = rows
        .iter()
        .map(|(status, count)| {
            json!({"orders.status": {"value": status},
                   "orders.count": {"value": count, "rendered": format_thousands(*count),
                                    "links": [{"label": "Show All", "url": "/explore/thelook/orders?fields=orders.id", "type": "measure_default"}]}})
        })
        .collect();
    json!({"fields": {"dimensions": [field("orders.status", "Status", false)],
                      "measures": [field("orders.count", "Count", true)],
                      "table_calculations": [], "pivots": []},
           "data": data, "pivots": null, "has_totals": false})
}

pub fn format_thousands(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Looker's webhook body for a scheduled Look.
pub fn look_webhook(looker: &FakeLooker, look_id: &str, title: &str, query_id: Option<&str>) -> Value {
    json!({"type": "query",
           "scheduled_plan": {"scheduled_plan_id": 91, "title": title, "type": "Look",
                              "url": format!("{}/looks/{look_id}", looker.web_url),
                              "query_id": query_id, "query": null, "filters_differ_from_look": false,
                              "download_url": null},
           "attachment": null, "data": null})
}

/// A Slack payload captured from a real workspace (tests/fixtures/slack/SOURCES.md says where
/// each comes from), as its bytes.
pub fn slack_fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/slack/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

impl TestApp {
    /// Posts an Events API body as Slack signs it, now.
    pub async fn post_event_body(&self, body: &str) -> reqwest::Response {
        let signed = (lookerbot::store::now_millis() / 1000, SIGNING_SECRET);
        self.post_signed("/slack/events", "application/json", body, signed, &[])
            .await
    }
}

/// A `/looker` slash command as Slack sends it (form fields as in Slack's docs), from `user` in
/// #general.
pub fn slash_form(app: &TestApp, user: &str, text: &str) -> String {
    slash_form_from(app, "T000000ACME", user, text)
}

/// The same command, naming `team` as the sender's workspace (Slack Connect senders name theirs).
pub fn slash_form_from(app: &TestApp, team: &str, user: &str, text: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", "legacy-token")
        .append_pair("team_id", team)
        .append_pair("channel_id", "C0000GENERAL")
        .append_pair("channel_name", "general")
        .append_pair("user_id", user)
        .append_pair("command", "/looker")
        .append_pair("text", text)
        .append_pair("api_app_id", "A0000000APP")
        .append_pair("response_url", &app.slack.response_url())
        .append_pair("trigger_id", "13345224609.738474920.8088930838d88f008e0")
        .finish()
}

/// Sends a signed `/looker` command and expects it acknowledged.
pub async fn send_slash(app: &TestApp, user: &str, text: &str) {
    let body = slash_form(app, user, text);
    let ack = app
        .post_signed(
            "/slack/receive",
            FORM,
            &body,
            (lookerbot::store::now_millis() / 1000, SIGNING_SECRET),
            &[],
        )
        .await;
    assert_eq!(ack.status(), 200);
}

/// The binary with a clean environment and an empty working directory (no stray `.env`).
/// What the binary printed, stdout then stderr.
pub fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn lookerbot(dir: &std::path::Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_lookerbot"));
    command.env_clear().current_dir(dir).env("RUST_LOG", "warn");
    command
}

pub fn with_settings(command: &mut tokio::process::Command, app: &TestApp) {
    let raw = test_settings(&app.slack, &app.looker, &app.database_url);
    command
        .env("SLACK_API_KEY", raw.slack_api_key.unwrap())
        .env("SLACK_SIGNING_SECRET", raw.slack_signing_secret.unwrap())
        .env("SLACK_API_BASE_URL", raw.slack_api_base_url.unwrap())
        .env("LOOKER_URL", raw.looker_url.unwrap())
        .env("LOOKER_API_BASE_URL", raw.looker_api_base_url.unwrap())
        .env("LOOKER_API_CLIENT_ID", raw.looker_api_client_id.unwrap())
        .env("LOOKER_API_CLIENT_SECRET", raw.looker_api_client_secret.unwrap())
        .env("DATABASE_URL", raw.database_url.unwrap());
}

/// `lookerbot check` through the binary with `app`'s settings and `extra` ones: its exit code and
/// report.
pub async fn check_with(app: &TestApp, extra: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = lookerbot(dir.path());
    with_settings(&mut command, app);
    let output = command.envs(extra.iter().copied()).arg("check").output().await.unwrap();
    (output.status.code(), text(&output))
}

/// Look 7, "Orders Scatter": a chart Looker draws as an image (for the image bucket tests).
pub fn add_scatter_look(app: &TestApp) {
    let mut result = status_counts(&[("a", 1), ("b", 2)]);
    result["fields"]["dimensions"][0]["is_numeric"] = serde_json::json!(false);
    app.looker
        .add_look("7", "Orders Scatter", query("q7", "looker_scatter"), result);
}

/// The address of the first message's image block, if it has one.
pub fn image_url(app: &TestApp) -> Option<String> {
    let message = &app.slack.messages()[0];
    let blocks = message.blocks.as_array()?;
    let image = blocks.iter().find(|b| b["type"] == "image")?;
    image["image_url"].as_str().map(str::to_string)
}
