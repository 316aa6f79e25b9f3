//! A fake Slack Web API on loopback that answers like the real one: `ok:false` errors with HTTP
//! 200, 429 with `Retry-After`, cursor pagination, the external file-upload flow, and Block Kit
//! limits enforced with `invalid_blocks` / `msg_too_long`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use serde_json::{Map, Value, json};

pub const BOT_TOKEN: &str = "xoxb-test-bot-token";

/// A scripted failure for the next call of a method.
#[derive(Debug, Clone)]
pub enum Failure {
    /// HTTP 429 with `Retry-After` seconds.
    RateLimited(u64),
    /// An HTTP status with a non-JSON body (Slack's edge failing).
    Status(u16),
    /// HTTP 200 `{ok:false, error}`.
    Error(&'static str),
}

#[derive(Debug, Clone)]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub is_private: bool,
    /// Whether the bot is in it (`users.conversations` lists only these).
    pub is_member: bool,
    pub is_archived: bool,
    /// Shared with another organisation (Slack Connect).
    pub is_ext_shared: bool,
}

impl Channel {
    pub fn public(id: &str, name: &str) -> Channel {
        Channel {
            id: id.into(),
            name: name.into(),
            is_private: false,
            is_member: true,
            is_archived: false,
            is_ext_shared: false,
        }
    }

    /// `conversations.info`'s channel object, as Slack's docs show it.
    fn info(&self) -> Value {
        json!({"id": self.id, "name": self.name, "name_normalized": self.name, "created": 1_600_000_000,
            "creator": "U000000ALICE", "is_channel": !self.is_private, "is_group": false, "is_im": false,
            "is_mpim": false, "is_private": self.is_private, "is_archived": self.is_archived,
            "is_general": self.name == "general", "is_shared": self.is_ext_shared,
            "is_ext_shared": self.is_ext_shared, "is_org_shared": false, "is_pending_ext_shared": false,
            "is_member": self.is_member, "unlinked": 0, "context_team_id": "T000000ACME",
            "shared_team_ids": if self.is_ext_shared { json!(["T000000ACME", "T00000OTHER"]) } else { json!(["T000000ACME"]) },
            "topic": {"value": "", "creator": "", "last_set": 0}, "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": []})
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub team_id: String,
    pub is_guest: bool,
    pub is_bot: bool,
    /// The Enterprise Grid organisation the person belongs to (`enterprise_user.enterprise_id`).
    pub enterprise_id: Option<String>,
}

impl User {
    fn member(id: &str, name: &str, display_name: &str) -> User {
        User {
            id: id.into(),
            name: name.into(),
            display_name: display_name.into(),
            team_id: "T000000ACME".into(),
            is_guest: false,
            is_bot: false,
            enterprise_id: None,
        }
    }

    fn json(&self) -> Value {
        let mut user = json!({"id": self.id, "team_id": self.team_id, "name": self.name, "deleted": false, "is_bot": self.is_bot,
               "is_restricted": self.is_guest, "is_ultra_restricted": false,
               "profile": {"display_name": self.display_name, "real_name": self.name,
                           "email": format!("{}@acme.example", self.name)}});
        if let Some(enterprise) = &self.enterprise_id {
            user["enterprise_user"] = json!({"id": self.id, "enterprise_id": enterprise, "enterprise_name": "Grid",
                                             "is_admin": false, "is_owner": false, "teams": [self.team_id]});
        }
        user
    }
}

#[derive(Debug, Clone)]
pub struct PostedMessage {
    pub ts: String,
    pub channel: String,
    pub text: String,
    pub blocks: Value,
    pub thread_ts: Option<String>,
    /// A thread reply also shown in the channel.
    pub reply_broadcast: bool,
    /// Message metadata (`event_type`, `event_payload`), returned by history with
    /// `include_all_metadata`.
    pub metadata: Value,
}

/// Where a call stops answering, as when the bot is killed mid-call: before Slack acts, or after
/// Slack acted but before its answer reaches the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hang {
    BeforeEffect,
    AfterEffect,
}

#[derive(Debug, Clone, Default)]
pub struct UploadedFile {
    pub filename: String,
    pub declared_length: usize,
    pub bytes: Option<Vec<u8>>,
    pub title: Option<String>,
    pub shared_to: Option<String>,
    pub thread_ts: Option<String>,
    pub blocks: Option<Value>,
    pub initial_comment: Option<String>,
}

#[derive(Default)]
struct SlackState {
    channels: Vec<Channel>,
    users: Vec<User>,
    dms: HashMap<String, String>,
    messages: Vec<PostedMessage>,
    files: HashMap<String, UploadedFile>,
    responses: Vec<Value>,
    /// Posts each `response_url` took: Slack takes five, then answers 404.
    response_uses: HashMap<String, u32>,
    /// `response_url`s handed out, each its own.
    response_urls: u32,
    ephemerals: Vec<(String, String, String)>,
    /// Every `chat.postEphemeral` as sent (blocks, thread).
    ephemeral_bodies: Vec<Value>,
    unfurls: Vec<Value>,
    deleted: Vec<String>,
    socket_url: Option<String>,
    failures: HashMap<String, VecDeque<Failure>>,
    /// The `n`th call of a method (counted from 1) fails: (method, n, failure).
    nth_failures: Vec<(String, usize, Failure)>,
    /// (method, call number counted from the start, where it hangs).
    hangs: Vec<(String, usize, Hang)>,
    hung: Arc<tokio::sync::Notify>,
    calls: Vec<String>,
    page_size: usize,
    /// The workspace the bot is installed in, as `auth.test` says.
    team_id: String,
    /// Its Enterprise Grid organisation, as `auth.test` says.
    enterprise_id: Option<String>,
    counter: u64,
    /// Trigger ids handed out with clicks, with when (Slack honours one for three seconds, once).
    triggers: HashMap<String, (std::time::Instant, bool)>,
    /// Open modals by view id.
    views: HashMap<String, Value>,
    /// Every view opened or updated, in order: (method, view id, view).
    view_log: Vec<(String, String, Value)>,
    /// Slack's per-channel pace, when enforced: posts past it get 429 with `Retry-After`.
    pace: Option<ChannelPace>,
    /// Every Web API call answers 503 until then (an outage).
    outage_until: Option<std::time::Instant>,
    stats: Stats,
}

/// Slack's pace for posts in one channel: about one a second, short bursts allowed (GCRA, as
/// Slack describes its limits), with the theoretical arrival time per channel.
struct ChannelPace {
    interval: std::time::Duration,
    burst: u32,
    tats: HashMap<String, std::time::Instant>,
}

/// What the fake saw, for load scripts (`GET /__fake/stats`).
#[derive(Default, Clone, serde::Serialize)]
pub struct Stats {
    pub posts: u64,
    pub rate_limited: u64,
    pub unavailable: u64,
    /// The most posts one channel got within one second.
    pub most_posts_in_a_second: u64,
    #[serde(skip)]
    recent: HashMap<String, VecDeque<std::time::Instant>>,
}

impl ChannelPace {
    /// Whether a post in `channel` now keeps the pace; if not, how long until it would.
    fn admit(&mut self, channel: &str) -> Result<(), std::time::Duration> {
        let now = std::time::Instant::now();
        // Slack's edge is not a stopwatch: a post a little early is let through.
        let tolerance = self.interval * self.burst.saturating_sub(1) + std::time::Duration::from_millis(100);
        let tat = self.tats.get(channel).copied().unwrap_or(now).max(now);
        if tat > now + tolerance {
            return Err(tat - now - tolerance + std::time::Duration::from_millis(1));
        }
        self.tats.insert(channel.to_string(), tat + self.interval);
        Ok(())
    }
}

#[derive(Clone)]
pub struct FakeSlack {
    pub base_url: String,
    state: Arc<Mutex<SlackState>>,
}

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        Self::start_on(0).await
    }

    /// The fake on a given port (0: any free one), for scripts that run it on its own.
    pub async fn start_on(port: u16) -> FakeSlack {
        let state = Arc::new(Mutex::new(SlackState {
            page_size: 2,
            team_id: "T000000ACME".into(),
            channels: vec![
                Channel::public("C0000GENERAL", "general"),
                Channel::public("C0000RANDOMX", "random"),
                Channel::public("C00000SALES1", "sales"),
                Channel::public("C0000METRICS", "metrics"),
                Channel {
                    is_private: true,
                    ..Channel::public("G000PRIVATE1", "exec-team")
                },
            ],
            users: vec![
                User::member("U000000ALICE", "alice", "Alice A"),
                User::member("U00000000BOB", "bob", "bobby"),
                User::member("U0000CAROL00", "carol", ""),
                User {
                    is_guest: true,
                    ..User::member("U000000GUEST", "gus", "Gus (guest)")
                },
                User {
                    team_id: "T00000OTHER".into(),
                    ..User::member("U00000OTHER", "olga", "Olga (Other Corp)")
                },
                User {
                    is_bot: true,
                    ..User::member("U0000000ROBO", "robo", "Robo")
                },
            ],
            ..Default::default()
        }));
        let app = Router::new()
            .route("/api/{method}", any(api))
            .route(
                "/upload/{file_id}",
                post(upload).layer(axum::extract::DefaultBodyLimit::disable()),
            )
            .route("/response/{id}", post(response_url))
            .route("/__fake/messages", axum::routing::get(dump_messages))
            .route("/__fake/stats", axum::routing::get(stats))
            .route("/__fake/{what}", post(control))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeSlack {
            base_url: format!("http://{addr}/api"),
            state,
        }
    }

    /// Posts in a channel past Slack's pace (one per `interval`, bursts of `burst`) get 429.
    pub fn enforce_pace(&self, interval: std::time::Duration, burst: u32) {
        self.state.lock().unwrap().pace = Some(ChannelPace {
            interval,
            burst,
            tats: HashMap::new(),
        });
    }

    /// Every Web API call answers 503 for `length` from now.
    pub fn outage_for(&self, length: std::time::Duration) {
        self.state.lock().unwrap().outage_until = Some(std::time::Instant::now() + length);
    }

    pub fn stats(&self) -> Stats {
        self.state.lock().unwrap().stats.clone()
    }

    /// The `n`th call of `method` from now on (1 = the next) fails.
    pub fn fail_nth(&self, method: &str, n: usize, failure: Failure) {
        let mut s = self.state.lock().unwrap();
        let already = s.calls.iter().filter(|m| *m == method).count();
        s.nth_failures.push((method.into(), already + n, failure));
    }

    /// The next call of `method` never answers, stopping before or after its effect.
    pub fn hang_next(&self, method: &str, hang: Hang) {
        self.hang_nth(method, 1, hang);
    }

    /// The `n`th call of `method` from now on (1 = the next) never answers.
    pub fn hang_nth(&self, method: &str, n: usize, hang: Hang) {
        let mut s = self.state.lock().unwrap();
        let already = s.calls.iter().filter(|m| *m == method).count();
        s.hangs.push((method.into(), already + n, hang));
    }

    /// Resolves when a call has hung.
    pub async fn wait_until_hung(&self) {
        let hung = self.state.lock().unwrap().hung.clone();
        hung.notified().await;
    }

    pub fn fail_next(&self, method: &str, failure: Failure) {
        self.state
            .lock()
            .unwrap()
            .failures
            .entry(method.into())
            .or_default()
            .push_back(failure);
    }

    /// The id of a channel the fake knows, by name.
    pub fn channel_id(&self, name: &str) -> Option<String> {
        let s = self.state.lock().unwrap();
        s.channels.iter().find(|c| c.name == name).map(|c| c.id.clone())
    }

    /// Another member of a workspace (as captured payloads name them: `U111` in `T111`).
    pub fn add_member(&self, id: &str, name: &str, team_id: &str) {
        self.state.lock().unwrap().users.push(User {
            team_id: team_id.into(),
            ..User::member(id, name, name)
        });
    }

    pub fn messages(&self) -> Vec<PostedMessage> {
        self.state.lock().unwrap().messages.clone()
    }

    pub fn files(&self) -> Vec<UploadedFile> {
        self.state.lock().unwrap().files.values().cloned().collect()
    }

    /// `(channel, user, text)` of every `chat.postEphemeral`.
    pub fn ephemerals(&self) -> Vec<(String, String, String)> {
        self.state.lock().unwrap().ephemerals.clone()
    }

    /// Bodies of every `chat.postEphemeral` (with their blocks).
    pub fn ephemeral_bodies(&self) -> Vec<Value> {
        self.state.lock().unwrap().ephemeral_bodies.clone()
    }

    /// Bodies of `chat.unfurl`.
    pub fn unfurls(&self) -> Vec<Value> {
        self.state.lock().unwrap().unfurls.clone()
    }

    /// Where `apps.connections.open` sends Socket Mode clients.
    pub fn set_socket_url(&self, url: &str) {
        self.state.lock().unwrap().socket_url = Some(url.to_string());
    }

    /// Timestamps of deleted messages.
    pub fn deleted(&self) -> Vec<String> {
        self.state.lock().unwrap().deleted.clone()
    }

    /// Bodies posted to `response_url`s (`http://fake/response/...`).
    pub fn responses(&self) -> Vec<Value> {
        self.state.lock().unwrap().responses.clone()
    }

    /// A `response_url` on this fake, as Slack hands one out with each slash command.
    pub fn response_url(&self) -> String {
        let mut s = self.state.lock().unwrap();
        s.response_urls += 1;
        self.base_url
            .replace("/api", &format!("/response/T000000ACME-{}", s.response_urls))
    }

    /// Counts `uses` posts against `response_url` already, as if the command had used them.
    pub fn use_response_url(&self, response_url: &str, uses: u32) {
        let id = response_url.rsplit('/').next().unwrap_or_default().to_string();
        *self.state.lock().unwrap().response_uses.entry(id).or_default() += uses;
    }

    /// Installs the bot in another workspace (what `auth.test` answers), as in a captured payload.
    pub fn set_enterprise(&self, enterprise_id: &str) {
        self.state.lock().unwrap().enterprise_id = Some(enterprise_id.into());
    }

    /// A member of another workspace of an Enterprise Grid organisation.
    pub fn add_grid_member(&self, id: &str, name: &str, team_id: &str, enterprise_id: &str) {
        self.state.lock().unwrap().users.push(User {
            team_id: team_id.into(),
            enterprise_id: Some(enterprise_id.into()),
            ..User::member(id, name, name)
        });
    }

    pub fn set_team(&self, team_id: &str) {
        self.state.lock().unwrap().team_id = team_id.into();
    }

    /// Renames a channel (`conversations.rename`, done by a workspace member).
    pub fn rename_channel(&self, id: &str, name: &str) {
        let mut s = self.state.lock().unwrap();
        let channel = s.channels.iter_mut().find(|c| c.id == id).expect("the channel exists");
        channel.name = name.into();
    }

    /// The names of the channels the bot is in.
    pub fn member_channel_names(&self) -> Vec<String> {
        let s = self.state.lock().unwrap();
        s.channels
            .iter()
            .filter(|c| c.is_member)
            .map(|c| c.name.clone())
            .collect()
    }

    /// Adds a channel (`is_member`: whether the bot is in it).
    pub fn add_channel(&self, channel: Channel) {
        self.state.lock().unwrap().channels.push(channel);
    }

    /// Slack's page size for cursor-paginated lists (2 by default, to exercise cursors).
    pub fn set_page_size(&self, size: usize) {
        self.state.lock().unwrap().page_size = size;
    }

    /// A fresh `trigger_id`, as Slack sends one with each click (valid three seconds, once).
    pub fn trigger(&self) -> String {
        let mut s = self.state.lock().unwrap();
        s.counter += 1;
        let id = format!("{}.{}.trigger", 1_000 + s.counter, s.counter);
        s.triggers.insert(id.clone(), (std::time::Instant::now(), false));
        id
    }

    /// Every view opened or updated: (method, view id, view).
    pub fn views(&self) -> Vec<(String, String, Value)> {
        self.state.lock().unwrap().view_log.clone()
    }

    /// The current content of an open modal.
    pub fn view(&self, id: &str) -> Option<Value> {
        self.state.lock().unwrap().views.get(id).cloned()
    }

    /// Method names in the order they were called.
    pub fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }

    pub fn calls_to(&self, method: &str) -> usize {
        self.calls().iter().filter(|m| *m == method).count()
    }
}

fn ok(mut body: Value) -> Response {
    body["ok"] = json!(true);
    axum::Json(body).into_response()
}

fn slack_error(code: &str) -> Response {
    axum::Json(json!({"ok": false, "error": code})).into_response()
}

fn invalid_blocks(message: String) -> Response {
    axum::Json(json!({"ok": false, "error": "invalid_blocks", "errors": [message],
        "response_metadata": {"messages": [format!("[ERROR] {}", "invalid block")]}}))
    .into_response()
}

/// Text Slack counts towards a message's size: every `text` string, in sections, contexts, cells.
fn text_chars(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.iter().map(text_chars).sum(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                if k == "text" && v.is_string() {
                    v.as_str().unwrap().chars().count()
                } else {
                    text_chars(v)
                }
            })
            .sum(),
        _ => 0,
    }
}

/// Slack's limits on what it accepts in a message; the fake rejects what Slack rejects.
fn check_blocks(blocks: &Value) -> Result<(), Response> {
    let Some(blocks) = blocks.as_array() else { return Ok(()) };
    if blocks.len() > 50 {
        return Err(invalid_blocks(format!(
            "no more than 50 items allowed [json-pointer:/blocks], got {}",
            blocks.len()
        )));
    }
    let mut charts = 0;
    for (i, block) in blocks.iter().enumerate() {
        let kind = block["type"].as_str().unwrap_or("");
        let at = |what: &str| invalid_blocks(format!("{what} [json-pointer:/blocks/{i}]"));
        match kind {
            "section" => {
                let text = block["text"]["text"].as_str().unwrap_or("");
                let fields = block["fields"].as_array().map(Vec::len).unwrap_or(0);
                if text.chars().count() > 3000 {
                    return Err(at("must be less than 3001 characters"));
                }
                if fields > 10
                    || block["fields"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|f| text_chars(f) > 2000)
                {
                    return Err(at("no more than 10 fields of at most 2000 characters"));
                }
                if text.is_empty() && fields == 0 {
                    return Err(at("a section needs text or fields"));
                }
            }
            "context" => {
                let elements = block["elements"].as_array().map(Vec::len).unwrap_or(0);
                if elements == 0 || elements > 10 {
                    return Err(at("context needs 1 to 10 elements"));
                }
            }
            "header" => {
                if block["text"]["type"] != "plain_text"
                    || block["text"]["text"].as_str().unwrap_or("").chars().count() > 150
                {
                    return Err(at("a header is plain_text of at most 150 characters"));
                }
            }
            "table" => {
                let rows = block["rows"].as_array().cloned().unwrap_or_default();
                if rows.is_empty() || rows.len() > 100 {
                    return Err(at("a table has 1 to 100 rows"));
                }
                if rows
                    .iter()
                    .any(|r| r.as_array().is_none_or(|cells| cells.is_empty() || cells.len() > 20))
                {
                    return Err(at("a table row has 1 to 20 cells"));
                }
                let settings = block["column_settings"].as_array().map(Vec::len).unwrap_or(0);
                if settings > 20 {
                    return Err(at("no more than 20 column settings"));
                }
            }
            "data_visualization" => {
                charts += 1;
                if block["title"]
                    .as_str()
                    .is_none_or(|t| t.is_empty() || t.chars().count() > 50)
                {
                    return Err(at("a chart title has 1 to 50 characters"));
                }
                let chart = &block["chart"];
                match chart["type"].as_str() {
                    Some("pie") => {
                        let segments = chart["segments"].as_array().map(Vec::len).unwrap_or(0);
                        if !(1..=12).contains(&segments) {
                            return Err(at("a pie has 1 to 12 segments"));
                        }
                    }
                    Some("line" | "bar" | "area") => {
                        let categories = chart["axis_config"]["categories"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default();
                        let series = chart["series"].as_array().cloned().unwrap_or_default();
                        if !(1..=12).contains(&series.len()) {
                            return Err(at("1 to 12 series"));
                        }
                        if series
                            .iter()
                            .any(|s| s["data"].as_array().map(Vec::len) != Some(categories.len()))
                        {
                            return Err(at("each series has one point per category"));
                        }
                    }
                    _ => return Err(at("unknown chart type")),
                }
            }
            "image" => {
                if block["image_url"].is_null() && block["slack_file"].is_null() {
                    return Err(at("an image needs image_url or slack_file"));
                }
                if block["alt_text"].as_str().is_none_or(|a| a.chars().count() > 2000) {
                    return Err(at("an image needs alt_text of at most 2000 characters"));
                }
            }
            "divider" | "actions" | "rich_text" | "data_table" | "file" | "input" => {}
            other => {
                return Err(invalid_blocks(format!(
                    "unknown block type {other:?} [json-pointer:/blocks/{i}]"
                )));
            }
        }
    }
    if charts > 2 {
        return Err(invalid_blocks("no more than 2 data_visualization blocks".into()));
    }
    if text_chars(&Value::Array(blocks.clone())) > 12_000 {
        return Err(slack_error("msg_blocks_too_long"));
    }
    Ok(())
}

/// Query string and JSON or form body, merged like Slack reads them.
fn params(query: HashMap<String, String>, headers: &HeaderMap, body: &Bytes) -> Map<String, Value> {
    let mut params: Map<String, Value> = query.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.starts_with("application/json") {
        if let Ok(Value::Object(map)) = serde_json::from_slice(body) {
            params.extend(map);
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        for (k, v) in url::form_urlencoded::parse(body) {
            params.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    params
}

fn text_param(params: &Map<String, Value>, name: &str) -> Option<String> {
    match params.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A Web API call: answered, or left hanging where a test asked.
async fn api(
    State(state): State<Arc<Mutex<SlackState>>>,
    Path(method): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (hang, hung) = {
        let mut s = state.lock().unwrap();
        let call_number = s.calls.iter().filter(|m| **m == method).count() + 1;
        let hang = s
            .hangs
            .iter()
            .position(|(m, n, _)| *m == method && *n == call_number)
            .map(|i| s.hangs.remove(i).2);
        (hang, s.hung.clone())
    };
    if hang == Some(Hang::BeforeEffect) {
        state.lock().unwrap().calls.push(method);
        hung.notify_one();
        return std::future::pending().await;
    }
    let answer = respond(&state, method, query, headers, body);
    if hang == Some(Hang::AfterEffect) {
        hung.notify_one();
        return std::future::pending().await;
    }
    answer
}

fn respond(
    state: &Arc<Mutex<SlackState>>,
    method: String,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = state.lock().unwrap();
    s.calls.push(method.clone());
    if s.outage_until.is_some_and(|until| std::time::Instant::now() < until) {
        s.stats.unavailable += 1;
        return (StatusCode::SERVICE_UNAVAILABLE, "service unavailable").into_response();
    }
    if matches!(method.as_str(), "chat.postMessage" | "files.completeUploadExternal") {
        let p = params(query.clone(), &headers, &body);
        let channel = text_param(&p, "channel")
            .or_else(|| text_param(&p, "channel_id"))
            .unwrap_or_default();
        if let Some(pace) = s.pace.as_mut()
            && let Err(wait) = pace.admit(&channel)
        {
            s.stats.rate_limited += 1;
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    ("retry-after", secs.to_string()),
                    ("content-type", "application/json".into()),
                ],
                json!({"ok": false, "error": "ratelimited"}).to_string(),
            )
                .into_response();
        }
        s.stats.count_post(&channel);
    }
    let call_number = s.calls.iter().filter(|m| **m == method).count();
    let nth = s
        .nth_failures
        .iter()
        .position(|(m, n, _)| *m == method && *n == call_number)
        .map(|i| s.nth_failures.remove(i).2);
    if let Some(failure) = nth.or_else(|| s.failures.get_mut(&method).and_then(VecDeque::pop_front)) {
        return match failure {
            Failure::RateLimited(secs) => (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    ("retry-after", secs.to_string()),
                    ("content-type", "application/json".into()),
                ],
                json!({"ok": false, "error": "ratelimited"}).to_string(),
            )
                .into_response(),
            Failure::Status(code) => (StatusCode::from_u16(code).unwrap(), "upstream error").into_response(),
            Failure::Error(code) => slack_error(code),
        };
    }
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth.is_empty() {
        return slack_error("not_authed");
    }
    // Socket Mode takes the app-level token, and only it.
    if method == "apps.connections.open" {
        return match (auth.starts_with("Bearer xapp-"), s.socket_url.clone()) {
            (true, Some(url)) => ok(json!({"url": url})),
            (true, None) => slack_error("internal_error"),
            (false, _) => slack_error("not_allowed_token_type"),
        };
    }
    if auth != format!("Bearer {BOT_TOKEN}") {
        return slack_error("invalid_auth");
    }
    let p = params(query, &headers, &body);
    s.counter += 1;
    let n = s.counter;
    match method.as_str() {
        "auth.test" => ok(
            json!({"url": "https://acme.slack.com/", "team": "Acme", "user": "lookerbot",
            "team_id": s.team_id, "user_id": "U0000000BOT", "bot_id": "B0000000BOT",
            "enterprise_id": s.enterprise_id, "is_enterprise_install": false}),
        ),
        "conversations.list" | "users.conversations" => {
            let types = text_param(&p, "types").unwrap_or_else(|| "public_channel".into());
            let exclude_archived = text_param(&p, "exclude_archived").as_deref() == Some("true");
            // users.conversations: only the bot's; conversations.list: every public one, and
            // the private ones the bot is in.
            let mine = method == "users.conversations";
            let matching: Vec<&Channel> = s
                .channels
                .iter()
                .filter(|c| !(exclude_archived && c.is_archived))
                .filter(|c| if mine || c.is_private { c.is_member } else { true })
                .filter(|c| {
                    types.contains(if c.is_private {
                        "private_channel"
                    } else {
                        "public_channel"
                    })
                })
                .collect();
            let (page, next) = paginate(&matching, &p, s.page_size);
            let channels: Vec<Value> = page
                .iter()
                .map(|c| {
                    json!({"id": c.id, "name": c.name, "created": 1_600_000_000, "is_channel": !c.is_private,
                    "is_private": c.is_private, "is_member": c.is_member, "is_archived": c.is_archived})
                })
                .collect();
            ok(json!({"channels": channels, "response_metadata": {"next_cursor": next}}))
        }
        "conversations.info" => {
            let Some(id) = text_param(&p, "channel") else {
                return slack_error("invalid_arguments");
            };
            if let Some(channel) = s.channels.iter().find(|c| c.id == id) {
                return ok(json!({"channel": channel.info()}));
            }
            if id.starts_with('D') && known_channel(&s, &id) {
                return ok(
                    json!({"channel": {"id": id, "created": 1_600_000_000, "is_im": true, "is_org_shared": false,
                    "user": format!("U{}", &id[1..]), "is_user_deleted": false, "priority": 0}}),
                );
            }
            slack_error("channel_not_found")
        }
        "users.list" => {
            let users: Vec<&User> = s.users.iter().collect();
            let (page, next) = paginate(&users, &p, s.page_size);
            let members: Vec<Value> = page.iter().map(|u| u.json()).collect();
            ok(json!({"members": members, "response_metadata": {"next_cursor": next}}))
        }
        "users.info" => match text_param(&p, "user").and_then(|id| s.users.iter().find(|u| u.id == id)) {
            Some(user) => ok(json!({"user": user.json()})),
            None => slack_error("user_not_found"),
        },
        "conversations.open" => {
            let user = match p.get("users") {
                Some(Value::Array(users)) => users.first().and_then(Value::as_str).map(str::to_string),
                Some(Value::String(users)) => users.split(',').next().map(str::to_string),
                _ => None,
            };
            let Some(user) = user.filter(|u| s.users.iter().any(|known| &known.id == u)) else {
                return slack_error("user_not_found");
            };
            let dm = format!("D{}", &user[1..]);
            s.dms.insert(dm.clone(), user);
            ok(json!({"channel": {"id": dm, "created": 1_600_000_000}}))
        }
        "chat.postMessage" => {
            let Some(channel) = text_param(&p, "channel") else {
                return slack_error("channel_not_found");
            };
            if !known_channel(&s, &channel) {
                return slack_error("channel_not_found");
            }
            // Ephemeral messages go only where the bot is a member.
            if s.channels.iter().any(|c| c.id == channel && !c.is_member) {
                return slack_error("not_in_channel");
            }
            let text = text_param(&p, "text").unwrap_or_default();
            if text.chars().count() > 40_000 {
                return slack_error("msg_too_long");
            }
            let blocks = p.get("blocks").cloned().unwrap_or(Value::Null);
            if text.is_empty() && blocks.is_null() {
                return slack_error("no_text");
            }
            if let Err(rejection) = check_blocks(&blocks) {
                return rejection;
            }
            let ts = now_ts(n);
            let metadata = p.get("metadata").cloned().unwrap_or(Value::Null);
            let metadata = match metadata {
                Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::Null),
                other => other,
            };
            s.messages.push(PostedMessage {
                ts: ts.clone(),
                channel: channel.clone(),
                text: text.clone(),
                blocks,
                thread_ts: text_param(&p, "thread_ts"),
                reply_broadcast: p
                    .get("reply_broadcast")
                    .is_some_and(|v| v == &json!(true) || v == "true"),
                metadata,
            });
            ok(
                json!({"channel": channel, "ts": ts, "message": {"type": "message", "text": text, "ts": ts, "user": "U0000000BOT"}}),
            )
        }
        "chat.update" => {
            let (Some(channel), Some(ts)) = (text_param(&p, "channel"), text_param(&p, "ts")) else {
                return slack_error("invalid_arguments");
            };
            let blocks = p.get("blocks").cloned().unwrap_or(Value::Null);
            if let Err(rejection) = check_blocks(&blocks) {
                return rejection;
            }
            let text = text_param(&p, "text").unwrap_or_default();
            let Some(message) = s.messages.iter_mut().find(|m| m.channel == channel && m.ts == ts) else {
                return slack_error("message_not_found");
            };
            message.text = text.clone();
            message.blocks = blocks;
            ok(json!({"channel": channel, "ts": ts, "text": text, "message": {"text": text}}))
        }
        "chat.delete" => {
            let (Some(channel), Some(ts)) = (text_param(&p, "channel"), text_param(&p, "ts")) else {
                return slack_error("invalid_arguments");
            };
            let before = s.messages.len();
            s.messages.retain(|m| !(m.channel == channel && m.ts == ts));
            if s.messages.len() == before {
                return slack_error("message_not_found");
            }
            s.deleted.push(ts.clone());
            ok(json!({"channel": channel, "ts": ts}))
        }
        "chat.postEphemeral" => {
            let (Some(channel), Some(user)) = (text_param(&p, "channel"), text_param(&p, "user")) else {
                return slack_error("invalid_arguments");
            };
            if !known_channel(&s, &channel) {
                return slack_error("channel_not_found");
            }
            // Ephemeral messages go only where the bot is a member.
            if s.channels.iter().any(|c| c.id == channel && !c.is_member) {
                return slack_error("not_in_channel");
            }
            let text = text_param(&p, "text").unwrap_or_default();
            if let Some(blocks) = p.get("blocks") {
                let blocks = match blocks.clone() {
                    Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::Null),
                    other => other,
                };
                if let Err(rejection) = check_blocks(&blocks) {
                    return rejection;
                }
            }
            s.ephemerals.push((channel, user, text));
            s.ephemeral_bodies.push(Value::Object(p.clone()));
            ok(json!({"message_ts": now_ts(n)}))
        }
        "chat.unfurl" => {
            let unfurls = p.get("unfurls").cloned().unwrap_or(Value::Null);
            let Some(map) = unfurls.as_object() else {
                return slack_error("invalid_unfurls");
            };
            for preview in map.values() {
                if let Err(rejection) = check_blocks(&preview["blocks"]) {
                    return rejection;
                }
            }
            let by_ts = p.contains_key("channel") && p.contains_key("ts");
            let by_id = p.contains_key("unfurl_id") && p.contains_key("source");
            if !by_ts && !by_id {
                return slack_error("invalid_arguments");
            }
            s.unfurls.push(Value::Object(p.clone()));
            ok(json!({}))
        }
        "files.getUploadURLExternal" => {
            let (Some(filename), Some(length)) = (
                text_param(&p, "filename"),
                text_param(&p, "length").and_then(|l| l.parse::<usize>().ok()),
            ) else {
                return slack_error("invalid_arguments");
            };
            let id = format!("F{n:010}");
            s.files.insert(
                id.clone(),
                UploadedFile {
                    filename,
                    declared_length: length,
                    ..Default::default()
                },
            );
            let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
            ok(json!({"upload_url": format!("http://{host}/upload/{id}"), "file_id": id}))
        }
        "files.completeUploadExternal" => {
            let files = p.get("files").cloned().unwrap_or(Value::Null);
            let files = match files {
                Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::Null),
                other => other,
            };
            let channel = text_param(&p, "channel_id");
            if let Some(channel) = &channel
                && (!channel.starts_with(['C', 'G', 'D']) || !known_channel(&s, channel))
            {
                return slack_error("invalid_channel");
            }
            let blocks = p.get("blocks").cloned();
            if let Some(blocks) = &blocks
                && let Err(rejection) = check_blocks(blocks)
            {
                return rejection;
            }
            let mut completed = Vec::new();
            for file in files.as_array().cloned().unwrap_or_default() {
                let id = file["id"].as_str().unwrap_or_default().to_string();
                let Some(record) = s.files.get_mut(&id) else {
                    return slack_error("file_not_found");
                };
                if record.bytes.is_none() {
                    return slack_error("file_not_found");
                }
                record.title = file["title"].as_str().map(str::to_string);
                record.shared_to = channel.clone();
                record.thread_ts = text_param(&p, "thread_ts");
                record.blocks = blocks.clone();
                record.initial_comment = text_param(&p, "initial_comment");
                completed.push(json!({"id": id, "name": record.filename, "title": record.title}));
            }
            if completed.is_empty() {
                return slack_error("invalid_arguments");
            }
            ok(json!({"files": completed}))
        }
        "conversations.history" | "conversations.replies" => {
            let Some(channel) = text_param(&p, "channel") else {
                return slack_error("channel_not_found");
            };
            if !known_channel(&s, &channel) {
                return slack_error("channel_not_found");
            }
            let thread = text_param(&p, "ts");
            if method == "conversations.replies" && thread.is_none() {
                return slack_error("invalid_arguments");
            }
            let oldest: f64 = text_param(&p, "oldest").and_then(|o| o.parse().ok()).unwrap_or(0.0);
            let with_metadata = text_param(&p, "include_all_metadata").as_deref() == Some("true");
            let mut found: Vec<&PostedMessage> = s
                .messages
                .iter()
                .filter(|m| m.channel == channel && m.ts.parse::<f64>().unwrap_or(0.0) >= oldest)
                .filter(|m| match &thread {
                    // Replies: the parent and its thread.
                    Some(parent) => &m.ts == parent || m.thread_ts.as_ref() == Some(parent),
                    // History: top-level messages only.
                    None => m.thread_ts.is_none(),
                })
                .collect();
            if method == "conversations.history" {
                found.reverse(); // newest first, as Slack lists them
            }
            let (page, next) = paginate(&found, &p, s.page_size.max(100));
            let messages: Vec<Value> = page
                .iter()
                .map(|m| {
                    let mut message = json!({"type": "message", "ts": m.ts, "text": m.text,
                        "user": "U0000000BOT", "bot_id": "B0000000BOT", "thread_ts": m.thread_ts});
                    if with_metadata && !m.metadata.is_null() {
                        message["metadata"] = m.metadata.clone();
                    }
                    message
                })
                .collect();
            ok(json!({"messages": messages, "has_more": !next.is_empty(),
                      "response_metadata": {"next_cursor": next}}))
        }
        "files.info" => {
            let Some(id) = text_param(&p, "file") else {
                return slack_error("invalid_arguments");
            };
            // Slack knows a file once its upload is completed.
            let Some(file) = s.files.get(&id).filter(|f| f.shared_to.is_some()) else {
                return slack_error("file_not_found");
            };
            let shared = file.shared_to.clone().unwrap_or_default();
            let list = |prefix: char| {
                if shared.starts_with(prefix) {
                    vec![shared.clone()]
                } else {
                    vec![]
                }
            };
            ok(json!({"file": {"id": id, "name": file.filename, "title": file.title,
                "channels": list('C'), "groups": list('G'), "ims": list('D'),
                "shares": {"public": {shared.clone(): [{"ts": "1"}]}}}}))
        }
        "views.open" => {
            let Some(trigger) = text_param(&p, "trigger_id") else {
                return slack_error("invalid_arguments");
            };
            match s.triggers.get_mut(&trigger) {
                None => return slack_error("invalid_trigger_id"),
                Some((_, true)) => return slack_error("exchanged_trigger_id"),
                Some((at, _)) if at.elapsed() > std::time::Duration::from_secs(3) => {
                    return slack_error("expired_trigger_id");
                }
                Some((_, used)) => *used = true,
            }
            let view = json_param(&p, "view");
            if let Err(rejection) = check_view(&view) {
                return rejection;
            }
            let id = format!("V{n:010}");
            s.views.insert(id.clone(), view.clone());
            s.view_log.push(("views.open".into(), id.clone(), view.clone()));
            ok(json!({"view": stateful_view(&id, &view)}))
        }
        "views.update" => {
            let Some(id) = text_param(&p, "view_id") else {
                return slack_error("invalid_arguments");
            };
            if !s.views.contains_key(&id) {
                return slack_error("not_found");
            }
            let view = json_param(&p, "view");
            if let Err(rejection) = check_view(&view) {
                return rejection;
            }
            s.views.insert(id.clone(), view.clone());
            s.view_log.push(("views.update".into(), id.clone(), view.clone()));
            ok(json!({"view": stateful_view(&id, &view)}))
        }
        other => slack_error(&format!("unknown_method:{other}")),
    }
}

/// A JSON parameter, sent as JSON or as JSON text in a form.
fn json_param(params: &Map<String, Value>, name: &str) -> Value {
    match params.get(name).cloned().unwrap_or(Value::Null) {
        Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::Null),
        other => other,
    }
}

/// Slack's limits on a modal: a plain-text title of at most 24 characters, at most 100 blocks,
/// `private_metadata` of at most 3,000 characters, inputs with a label and an element.
fn check_view(view: &Value) -> Result<(), Response> {
    if view["type"] != "modal" {
        return Err(slack_error("invalid_arguments"));
    }
    let title = &view["title"];
    if title["type"] != "plain_text"
        || title["text"]
            .as_str()
            .is_none_or(|t| t.is_empty() || t.chars().count() > 24)
    {
        return Err(invalid_blocks("title must be plain_text of 1 to 24 characters".into()));
    }
    for button in ["submit", "close"] {
        if view[button]
            .as_object()
            .is_some_and(|b| b["text"].as_str().is_none_or(|t| t.chars().count() > 24))
        {
            return Err(invalid_blocks(format!(
                "{button} must be plain_text of at most 24 characters"
            )));
        }
    }
    if view["private_metadata"]
        .as_str()
        .is_some_and(|m| m.chars().count() > 3000)
    {
        return Err(invalid_blocks(
            "private_metadata must be at most 3000 characters".into(),
        ));
    }
    let blocks = view["blocks"].as_array().cloned().unwrap_or_default();
    if blocks.is_empty() || blocks.len() > 100 {
        return Err(invalid_blocks("a view has 1 to 100 blocks".into()));
    }
    let has_input = blocks.iter().any(|b| b["type"] == "input");
    if has_input && view["submit"].is_null() {
        return Err(invalid_blocks("a view with inputs needs a submit button".into()));
    }
    for block in &blocks {
        if block["type"] == "input" {
            if block["label"]["type"] != "plain_text" || block["element"]["type"].as_str().is_none() {
                return Err(invalid_blocks(
                    "an input needs a plain_text label and an element".into(),
                ));
            }
            if block["element"]["type"] == "static_select"
                && block["element"]["options"]
                    .as_array()
                    .is_none_or(|o| o.is_empty() || o.len() > 100)
            {
                return Err(invalid_blocks("a static_select has 1 to 100 options".into()));
            }
        }
    }
    let others: Vec<Value> = blocks.into_iter().filter(|b| b["type"] != "input").collect();
    check_blocks(&Value::Array(others))
}

/// A view as Slack answers `views.open` and `views.update`: the view with its id and state.
fn stateful_view(id: &str, view: &Value) -> Value {
    let mut stateful = view.clone();
    stateful["id"] = json!(id);
    stateful["team_id"] = json!("T000000ACME");
    stateful["hash"] = json!(format!("{id}.hash"));
    stateful["state"] = json!({"values": {}});
    stateful["app_id"] = json!("A0000000APP");
    stateful["bot_id"] = json!("B0000000BOT");
    stateful
}

/// Every message posted, for scripts that check what arrived (the soak test).
impl Stats {
    fn count_post(&mut self, channel: &str) {
        let now = std::time::Instant::now();
        self.posts += 1;
        let recent = self.recent.entry(channel.to_string()).or_default();
        recent.push_back(now);
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= std::time::Duration::from_secs(1))
        {
            recent.pop_front();
        }
        self.most_posts_in_a_second = self.most_posts_in_a_second.max(recent.len() as u64);
    }
}

/// `GET /__fake/stats`: posts, 429s and 503s answered, the most posts a channel got in a second.
async fn stats(State(state): State<Arc<Mutex<SlackState>>>) -> Response {
    axum::Json(state.lock().unwrap().stats.clone()).into_response()
}

/// `POST /__fake/pace?per_second=1&burst=3` enforces Slack's per-channel pace (0 stops it);
/// `POST /__fake/outage?secs=60` answers every call 503 for that long.
async fn control(
    State(state): State<Arc<Mutex<SlackState>>>,
    Path(what): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let number = |name: &str| query.get(name).and_then(|v| v.parse::<f64>().ok());
    let fake = FakeSlack {
        base_url: String::new(),
        state,
    };
    match what.as_str() {
        "pace" => match number("per_second") {
            Some(rate) if rate > 0.0 => fake.enforce_pace(
                std::time::Duration::from_secs_f64(1.0 / rate),
                number("burst").unwrap_or(3.0) as u32,
            ),
            _ => fake.state.lock().unwrap().pace = None,
        },
        "outage" => fake.outage_for(std::time::Duration::from_secs_f64(number("secs").unwrap_or(60.0))),
        _ => return StatusCode::NOT_FOUND.into_response(),
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn dump_messages(State(state): State<Arc<Mutex<SlackState>>>) -> Response {
    let s = state.lock().unwrap();
    let messages: Vec<Value> = s
        .messages
        .iter()
        .map(|m| {
            json!({"channel": m.channel, "ts": m.ts, "thread_ts": m.thread_ts, "text": m.text,
                        "metadata": m.metadata})
        })
        .collect();
    let files: Vec<Value> = s
        .files
        .values()
        .filter(|f| f.shared_to.is_some())
        .map(|f| {
            json!({"filename": f.filename, "title": f.title, "channel": f.shared_to,
                        "size": f.bytes.as_ref().map(Vec::len)})
        })
        .collect();
    axum::Json(json!({"messages": messages, "files": files})).into_response()
}

/// A message timestamp as Slack makes them: the time now, and a counter for uniqueness.
fn now_ts(n: u64) -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!("{seconds}.{:06}", n % 1_000_000)
}

fn known_channel(s: &SlackState, id: &str) -> bool {
    // A member's DM with the bot exists once they have written in it: `D` + the user id's rest.
    let dm_of_member = id
        .strip_prefix('D')
        .is_some_and(|rest| s.users.iter().any(|u| u.id[1..] == *rest));
    s.channels.iter().any(|c| c.id == id)
        || s.dms.contains_key(id)
        || s.users.iter().any(|u| u.id == id)
        || dm_of_member
}

/// Slack's cursor pagination: at most `page_size` items a page, whatever `limit` asks.
fn paginate<'a, T>(items: &'a [T], params: &Map<String, Value>, page_size: usize) -> (&'a [T], String) {
    let start = text_param(params, "cursor")
        .and_then(|c| c.strip_prefix("offset:").and_then(|o| o.parse::<usize>().ok()))
        .unwrap_or(0)
        .min(items.len());
    let limit = text_param(params, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(100);
    let end = (start + limit.min(page_size)).min(items.len());
    let next = if end < items.len() {
        format!("offset:{end}")
    } else {
        String::new()
    };
    (&items[start..end], next)
}

async fn upload(State(state): State<Arc<Mutex<SlackState>>>, Path(file_id): Path<String>, body: Bytes) -> Response {
    let mut s = state.lock().unwrap();
    s.calls.push("upload".into());
    let Some(file) = s.files.get_mut(&file_id) else {
        return (StatusCode::NOT_FOUND, "no such upload").into_response();
    };
    if body.len() != file.declared_length {
        return (StatusCode::BAD_REQUEST, "length mismatch").into_response();
    }
    file.bytes = Some(body.to_vec());
    (StatusCode::OK, format!("OK - {}", body.len())).into_response()
}

async fn response_url(State(state): State<Arc<Mutex<SlackState>>>, Path(id): Path<String>, body: Bytes) -> Response {
    let mut s = state.lock().unwrap();
    s.calls.push("response_url".into());
    if s.outage_until.is_some_and(|until| std::time::Instant::now() < until) {
        s.stats.unavailable += 1;
        return (StatusCode::SERVICE_UNAVAILABLE, "service unavailable").into_response();
    }
    // Five uses within its half hour, then Slack answers 404.
    if s.response_uses.get(&id).copied().unwrap_or(0) >= 5 {
        return (StatusCode::NOT_FOUND, "used_url").into_response();
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(value) => {
            *s.response_uses.entry(id).or_default() += 1;
            s.responses.push(value);
            (StatusCode::OK, "ok").into_response()
        }
        Err(_) => (StatusCode::BAD_REQUEST, "invalid_payload").into_response(),
    }
}
