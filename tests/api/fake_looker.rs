//! A fake Looker API 4.0 on loopback: form login issuing tokens that really expire, 401 for
//! expired or revoked tokens, `{message, documentation_url}` errors, slow queries on demand.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

pub const CLIENT_ID: &str = "looker-client-id";
/// What the fake's renderer draws: a real 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];
pub const PDF: &[u8] = b"%PDF-1.4\n% lookerbot test\n%%EOF\n";

/// How the fake's image renderer behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renderer {
    /// Render tasks succeed after this many status polls.
    Available { polls: u32 },
    /// The instance has no renderer: tasks fail, `run/png` answers an empty body.
    Missing,
    /// Done at once, results ready on the first ask (for measuring the bot, not Looker).
    #[allow(dead_code)] // used by benches/image_path.rs
    Instant,
}

/// A render task Looker was asked for.
#[derive(Debug, Clone)]
pub struct RenderCall {
    pub target: String,
    pub format: String,
    pub width: Option<String>,
    pub height: Option<String>,
    pub body: Value,
}

struct TaskState {
    polls_left: u32,
    format: String,
    results_asked: u32,
}
pub const CLIENT_SECRET: &str = "looker-client-secret";
/// A second, less privileged API user (`LOOKER_FALLBACK_CLIENT_*`): its calls run as `fallback`.
pub const FALLBACK_CLIENT_ID: &str = "looker-fallback-client-id";
pub const FALLBACK_CLIENT_SECRET: &str = "looker-fallback-client-secret";

pub(crate) struct LookerState {
    pub(crate) token_ttl: Duration,
    pub(crate) tokens: HashMap<String, Instant>,
    /// The Looker user a token was made for with `POST /login/{user_id}` (none: the API user).
    pub(crate) token_users: HashMap<String, String>,
    /// Looker users: (id, email, disabled).
    pub(crate) users: Vec<(String, String, bool)>,
    /// Looks only some users may see (the API user sees all), as model access decides in Looker.
    look_access: HashMap<String, Vec<String>>,
    logins: usize,
    pub(crate) looks: HashMap<String, Value>,
    queries: HashMap<String, Value>,
    results: HashMap<String, Value>,
    query_delay: Duration,
    /// Queries running now, and the most that ever ran at once.
    queries_running: usize,
    most_queries_running: usize,
    queries_run: usize,
    failures: HashMap<String, VecDeque<u16>>,
    pub(crate) requests: Vec<String>,
    pub(crate) callers: Vec<String>,
    denials: usize,
    /// Every API call (but login) answers 503, as a Looker in maintenance does.
    down: bool,
    /// Every call waits this long first, as an overloaded Looker does.
    latency: Duration,
    /// One-time download links: id to (content type, bytes), gone once fetched.
    downloads: HashMap<String, (String, Vec<u8>)>,
    fetched_downloads: usize,
    counter: u64,
    dashboards: HashMap<String, Value>,
    folders: HashMap<String, Value>,
    merge_queries: HashMap<String, Value>,
    created_queries: Vec<Value>,
    filtered_results: Vec<(String, String, Value)>,
    renderer: Renderer,
    render_calls: Vec<RenderCall>,
    tasks: HashMap<String, TaskState>,
    /// What the action server behind each data action's `url` answers, through Looker.
    action_answers: HashMap<String, Value>,
    /// The form each data action's `url` asks for.
    action_forms: HashMap<String, Value>,
    /// Bodies of `POST /data_actions` and `POST /data_actions/form`.
    action_calls: Vec<Value>,
    form_calls: Vec<Value>,
    /// How long `POST /data_actions/form` takes (the action server building its form).
    form_delay: Duration,
    /// The next `POST /data_actions` performs the action, then never answers (the bot killed
    /// while waiting for Looker's answer).
    hang_action: bool,
    hung: Arc<tokio::sync::Notify>,
    /// Looker's OAuth, as `/auth` and `/api/token` implement it.
    pub(crate) oauth: crate::fake_looker_oauth::OauthState,
    /// Scheduled plans, as `GET /scheduled_plans/{id}` answers them.
    pub(crate) plans: HashMap<String, Value>,
}

#[derive(Clone)]
pub struct FakeLooker {
    /// What `LOOKER_URL` should be (the fake serves no web pages).
    pub web_url: String,
    /// What `LOOKER_API_BASE_URL` should be.
    pub api_url: String,
    pub(crate) state: Arc<Mutex<LookerState>>,
}

pub(crate) fn looker_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"message": message, "documentation_url": "https://cloud.google.com/looker/docs/"})),
    )
        .into_response()
}

impl FakeLooker {
    pub async fn start() -> FakeLooker {
        Self::start_on(0).await
    }

    /// The fake on a given port (0: any free one), for scripts that run it on its own.
    pub async fn start_on(port: u16) -> FakeLooker {
        let (looker, app, listener) = Self::prepare(port).await;
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        looker
    }

    /// The same fake over HTTPS with a certificate from a throwaway CA; returns the CA's PEM.
    pub async fn start_tls() -> (FakeLooker, String) {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &ca, &ca_key)
            .unwrap();
        let config = tokio_rustls::rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(leaf.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

        let (mut looker, app, listener) = Self::prepare(0).await;
        looker.web_url = looker.web_url.replace("http://", "https://");
        looker.api_url = looker.api_url.replace("http://", "https://");
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { return };
                let (acceptor, app) = (acceptor.clone(), app.clone());
                tokio::spawn(async move {
                    // A client that refuses the certificate ends the handshake: nothing to serve.
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        (looker, ca.pem())
    }

    async fn prepare(port: u16) -> (FakeLooker, Router, tokio::net::TcpListener) {
        let state = Arc::new(Mutex::new(LookerState {
            token_ttl: Duration::from_secs(3600),
            tokens: HashMap::new(),
            token_users: HashMap::new(),
            users: Vec::new(),
            look_access: HashMap::new(),
            logins: 0,
            looks: HashMap::new(),
            queries: HashMap::new(),
            results: HashMap::new(),
            query_delay: Duration::ZERO,
            queries_running: 0,
            most_queries_running: 0,
            queries_run: 0,
            failures: HashMap::new(),
            requests: Vec::new(),
            callers: Vec::new(),
            denials: 0,
            down: false,
            latency: Duration::ZERO,
            downloads: HashMap::new(),
            fetched_downloads: 0,
            counter: 0,
            dashboards: HashMap::new(),
            folders: HashMap::new(),
            merge_queries: HashMap::new(),
            created_queries: Vec::new(),
            filtered_results: Vec::new(),
            renderer: Renderer::Available { polls: 2 },
            render_calls: Vec::new(),
            tasks: HashMap::new(),
            action_answers: HashMap::new(),
            action_forms: HashMap::new(),
            action_calls: Vec::new(),
            form_calls: Vec::new(),
            form_delay: Duration::ZERO,
            hang_action: false,
            hung: Arc::new(tokio::sync::Notify::new()),
            oauth: Default::default(),
            plans: HashMap::new(),
        }));
        let app = Router::new()
            .route("/api/4.0/login", post(login))
            .route("/api/4.0/login/{user_id}", post(login_as))
            .route("/api/4.0/users/search", get(search_users))
            .route("/downloads/{id}", get(download))
            .route("/api/4.0/looks/search", get(search_looks))
            .route("/api/4.0/dashboards/search", get(search_dashboards))
            .route("/api/4.0/looks/{id}", get(look))
            .route("/api/4.0/queries/{id}", get(query))
            .route("/api/4.0/queries/slug/{slug}", get(query_by_slug))
            .route("/api/4.0/queries/{id}/run/{format}", get(run_query))
            .route("/api/4.0/queries", post(create_query))
            .route("/api/4.0/dashboards/{id}", get(dashboard))
            .route("/api/4.0/folders/{id}", get(folder))
            .route("/api/4.0/folders/{id}/children", get(folder_children))
            .route("/api/4.0/merge_queries/{id}", get(merge_query))
            .route("/api/4.0/render_tasks/{kind}/{id}/{format}", post(start_render))
            .route("/api/4.0/render_tasks/{id}", get(render_status))
            .route("/api/4.0/render_tasks/{id}/results", get(render_results))
            .route("/api/4.0/data_actions", post(perform_data_action))
            .route("/api/4.0/data_actions/form", post(data_action_form))
            .route("/__fake/stats", get(fake_stats))
            .merge(crate::fake_looker_oauth::routes())
            .merge(crate::fake_looker_plans::routes())
            .layer(axum::middleware::from_fn_with_state(state.clone(), slow))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let looker = FakeLooker {
            web_url: format!("http://{addr}"),
            api_url: format!("http://{addr}/api/4.0"),
            state,
        };
        (looker, app, listener)
    }

    /// A Look with its saved query and the query's json_detail result.
    /// A Looker user the API user may log in as (`POST /login/{id}`).
    pub fn add_user(&self, id: &str, email: &str) {
        self.state.lock().unwrap().users.push((id.into(), email.into(), false));
    }

    /// A Looker user whose account an admin disabled.
    pub fn add_disabled_user(&self, id: &str, email: &str) {
        self.state.lock().unwrap().users.push((id.into(), email.into(), true));
    }

    /// Only these Looker users (and the API user) may see the Look; others get Looker's 404.
    pub fn restrict_look(&self, look_id: &str, users: &[&str]) {
        let users = users.iter().map(|u| u.to_string()).collect();
        self.state.lock().unwrap().look_access.insert(look_id.into(), users);
    }

    /// The Looker user each request ran as, in order (`api` for the API user).
    pub fn callers(&self) -> Vec<String> {
        self.state.lock().unwrap().callers.clone()
    }

    pub fn add_look(&self, id: &str, title: &str, query: Value, result: Value) {
        let query_id = query["id"].as_str().unwrap().to_string();
        let mut s = self.state.lock().unwrap();
        s.looks.insert(
            id.into(),
            json!({"id": id, "title": title, "short_url": format!("/x/short{id}"), "query_id": query_id,
                   "query": query.clone(), "folder": {"id": "1", "name": "Shared"}}),
        );
        s.results.insert(query_id.clone(), result);
        s.queries.insert(query_id, query);
    }

    /// A query on its own (a filtered schedule's), with its result.
    pub fn add_query(&self, query: Value, result: Value) {
        let query_id = query["id"].as_str().unwrap().to_string();
        let mut s = self.state.lock().unwrap();
        s.results.insert(query_id.clone(), result);
        s.queries.insert(query_id, query);
    }

    pub fn add_dashboard(&self, dashboard: Value) {
        let id = dashboard["id"].as_str().unwrap().to_string();
        self.state.lock().unwrap().dashboards.insert(id, dashboard);
    }

    /// A folder `{id, name, parent_id?}`; its dashboards are those added with this `folder_id`.
    pub fn add_folder(&self, folder: Value) {
        let id = folder["id"].as_str().unwrap().to_string();
        self.state.lock().unwrap().folders.insert(id, folder);
    }

    pub fn add_merge_query(&self, merge: Value) {
        let id = merge["id"].as_str().unwrap().to_string();
        self.state.lock().unwrap().merge_queries.insert(id, merge);
    }

    /// The result a query created by the bot gets when its `field` filter equals `value`.
    pub fn result_when_filtered(&self, field: &str, value: &str, result: Value) {
        self.state
            .lock()
            .unwrap()
            .filtered_results
            .push((field.into(), value.into(), result));
    }

    /// Bodies of `POST /queries`.
    pub fn created_queries(&self) -> Vec<Value> {
        self.state.lock().unwrap().created_queries.clone()
    }

    pub fn set_renderer(&self, renderer: Renderer) {
        self.state.lock().unwrap().renderer = renderer;
    }

    pub fn render_calls(&self) -> Vec<RenderCall> {
        self.state.lock().unwrap().render_calls.clone()
    }

    pub fn set_token_ttl(&self, ttl: Duration) {
        self.state.lock().unwrap().token_ttl = ttl;
    }

    pub fn set_query_delay(&self, delay: Duration) {
        self.state.lock().unwrap().query_delay = delay;
    }

    /// The most queries that ever ran at once.
    pub fn most_queries_running(&self) -> usize {
        self.state.lock().unwrap().most_queries_running
    }

    /// Forgets every token, as a Looker restart or an admin's logout would.
    pub fn revoke_tokens(&self) {
        self.state.lock().unwrap().tokens.clear();
    }

    /// The next request whose path starts with `prefix` (after `/api/4.0/`) answers `status`.
    pub fn fail_next(&self, prefix: &str, status: u16) {
        self.state
            .lock()
            .unwrap()
            .failures
            .entry(prefix.into())
            .or_default()
            .push_back(status);
    }

    /// A one-time download link to these bytes, as Looker gives a webhook that streams; the
    /// link works once (a second fetch is a 404).
    pub fn add_download(&self, id: &str, content_type: &str, bytes: Vec<u8>) -> String {
        self.state
            .lock()
            .unwrap()
            .downloads
            .insert(id.into(), (content_type.into(), bytes));
        format!("{}/downloads/{id}", self.web_url)
    }

    /// How many download links were fetched (the ones that worked).
    pub fn fetched_downloads(&self) -> usize {
        self.state.lock().unwrap().fetched_downloads
    }

    /// What Looker answers (`DataActionResponse`) when the action at `url` is sent.
    pub fn answer_data_action(&self, url: &str, answer: Value) {
        self.state.lock().unwrap().action_answers.insert(url.into(), answer);
    }

    /// The form (`DataActionForm`) the action at `url` asks for.
    pub fn data_action_form_for(&self, url: &str, form: Value) {
        self.state.lock().unwrap().action_forms.insert(url.into(), form);
    }

    /// Bodies of `POST /data_actions`.
    pub fn data_action_calls(&self) -> Vec<Value> {
        self.state.lock().unwrap().action_calls.clone()
    }

    /// Bodies of `POST /data_actions/form`.
    pub fn data_action_form_calls(&self) -> Vec<Value> {
        self.state.lock().unwrap().form_calls.clone()
    }

    /// The next `POST /data_actions` is performed but never answered; resolves once it was.
    pub fn hang_next_data_action(&self) -> Arc<tokio::sync::Notify> {
        let mut s = self.state.lock().unwrap();
        s.hang_action = true;
        s.hung.clone()
    }

    /// Makes `POST /data_actions/form` take this long.
    pub fn set_form_delay(&self, delay: Duration) {
        self.state.lock().unwrap().form_delay = delay;
    }

    /// Makes every call wait this long before it is answered.
    pub fn set_latency(&self, latency: Duration) {
        self.state.lock().unwrap().latency = latency;
    }

    /// Takes the whole API down (503) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.state.lock().unwrap().down = down;
    }

    pub fn logins(&self) -> usize {
        self.state.lock().unwrap().logins
    }

    /// How many requests were refused for a missing, expired or revoked token.
    pub fn denials(&self) -> usize {
        self.state.lock().unwrap().denials
    }

    /// `METHOD /path` of every authenticated request.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }
}

async fn slow(
    State(state): State<Arc<Mutex<LookerState>>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let latency = state.lock().unwrap().latency;
    tokio::time::sleep(latency).await;
    next.run(request).await
}

/// Looker's one-time download links take no auth header and work once.
async fn download(State(state): State<Arc<Mutex<LookerState>>>, Path(id): Path<String>) -> Response {
    let mut s = state.lock().unwrap();
    match s.downloads.remove(&id) {
        Some((content_type, bytes)) => {
            s.fetched_downloads += 1;
            (StatusCode::OK, [("content-type", content_type)], bytes).into_response()
        }
        None => looker_error(StatusCode::NOT_FOUND, "Not found"),
    }
}

async fn login(
    State(state): State<Arc<Mutex<LookerState>>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut fields: HashMap<String, String> = query;
    if headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .starts_with("application/x-www-form-urlencoded")
    {
        fields.extend(url::form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())));
    }
    let mut s = state.lock().unwrap();
    if let Some(status) = s.failures.get_mut("login").and_then(VecDeque::pop_front) {
        return looker_error(StatusCode::from_u16(status).unwrap(), "Looker is unavailable");
    }
    let presented = (
        fields.get("client_id").map(String::as_str),
        fields.get("client_secret").map(String::as_str),
    );
    let fallback = match presented {
        (Some(CLIENT_ID), Some(CLIENT_SECRET)) => false,
        (Some(FALLBACK_CLIENT_ID), Some(FALLBACK_CLIENT_SECRET)) => true,
        _ => return looker_error(StatusCode::NOT_FOUND, "Not found"),
    };
    s.logins += 1;
    s.counter += 1;
    let token = format!("token-{}-{}", s.counter, uuid::Uuid::new_v4());
    let ttl = s.token_ttl;
    s.tokens.insert(token.clone(), Instant::now() + ttl);
    if fallback {
        s.token_users.insert(token.clone(), "fallback".into());
    }
    axum::Json(
        json!({"access_token": token, "token_type": "Bearer", "expires_in": ttl.as_secs(), "refresh_token": null}),
    )
    .into_response()
}

/// `POST /login/{user_id}`: a token for that user, for the API user only (an admin's sudo).
async fn login_as(
    State(state): State<Arc<Mutex<LookerState>>>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let caller = match admit(&state, &headers, format!("POST /login/{user_id}"), "login/") {
        Ok(caller) => caller,
        Err(denied) => return denied,
    };
    let mut s = state.lock().unwrap();
    if caller != "api" {
        return looker_error(StatusCode::FORBIDDEN, "Only an admin may log in as another user");
    }
    if !s.users.iter().any(|(id, _, disabled)| *id == user_id && !disabled) {
        return looker_error(StatusCode::NOT_FOUND, "Not found");
    }
    s.counter += 1;
    let token = format!("sudo-{}-{}", s.counter, uuid::Uuid::new_v4());
    let ttl = s.token_ttl;
    s.tokens.insert(token.clone(), Instant::now() + ttl);
    s.token_users.insert(token.clone(), user_id);
    axum::Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": ttl.as_secs()})).into_response()
}

/// `GET /users/search?email=`: Looker's users with that email (any letter case).
async fn search_users(
    State(state): State<Arc<Mutex<LookerState>>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(denied) = admit(&state, &headers, "GET /users/search".into(), "users/search") {
        return denied;
    }
    let s = state.lock().unwrap();
    let email = query.get("email").map(|e| e.to_ascii_lowercase()).unwrap_or_default();
    let found: Vec<Value> = s
        .users
        .iter()
        .filter(|(_, e, _)| e.to_ascii_lowercase() == email)
        .map(|(id, e, disabled)| json!({"id": id, "email": e, "is_disabled": disabled}))
        .collect();
    axum::Json(found).into_response()
}

/// Checks `Authorization: token ...`, records the request and applies scripted failures.
/// Answers who the caller is (`api`, or the Looker user of a sudo token).
pub(crate) fn admit(
    state: &Arc<Mutex<LookerState>>,
    headers: &HeaderMap,
    what: String,
    path: &str,
) -> Result<String, Response> {
    let mut s = state.lock().unwrap();
    let presented = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("token ").or_else(|| v.strip_prefix("Bearer ")));
    let valid = presented
        .and_then(|t| s.tokens.get(t))
        .is_some_and(|expiry| Instant::now() < *expiry);
    if !valid {
        s.denials += 1;
        return Err(looker_error(StatusCode::UNAUTHORIZED, "Requires authentication."));
    }
    s.requests.push(what);
    let caller = presented
        .and_then(|t| s.token_users.get(t).cloned())
        .unwrap_or_else(|| "api".into());
    s.callers.push(caller.clone());
    if s.down {
        return Err(looker_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Looker is down for maintenance",
        ));
    }
    let failure = s
        .failures
        .iter_mut()
        .find(|(prefix, q)| path.starts_with(prefix.as_str()) && !q.is_empty());
    if let Some((_, queue)) = failure {
        let status = queue.pop_front().unwrap();
        return Err(looker_error(StatusCode::from_u16(status).unwrap(), "Scripted failure"));
    }
    Ok(caller)
}

async fn look(State(state): State<Arc<Mutex<LookerState>>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let caller = match admit(&state, &headers, format!("GET /looks/{id}"), &format!("looks/{id}")) {
        Ok(caller) => caller,
        Err(denied) => return denied,
    };
    let s = state.lock().unwrap();
    if let Some(allowed) = s.look_access.get(&id)
        && caller != "api"
        && !allowed.contains(&caller)
    {
        return looker_error(StatusCode::NOT_FOUND, "Not found");
    }
    match s.looks.get(&id) {
        Some(look) => axum::Json(look.clone()).into_response(),
        None => looker_error(StatusCode::NOT_FOUND, "Not found"),
    }
}

async fn query(State(state): State<Arc<Mutex<LookerState>>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Err(denied) = admit(&state, &headers, format!("GET /queries/{id}"), &format!("queries/{id}")) {
        return denied;
    }
    match state.lock().unwrap().queries.get(&id) {
        Some(query) => axum::Json(query.clone()).into_response(),
        None => looker_error(StatusCode::NOT_FOUND, "Not found"),
    }
}

async fn run_query(
    State(state): State<Arc<Mutex<LookerState>>>,
    Path((id, format)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("queries/{id}/run/{format}");
    if let Err(denied) = admit(&state, &headers, format!("GET /{path}"), &path) {
        return denied;
    }
    if format == "png" {
        let s = state.lock().unwrap();
        if !s.queries.contains_key(&id) {
            return looker_error(StatusCode::NOT_FOUND, "Not found");
        }
        let bytes = if s.renderer == Renderer::Missing {
            Vec::new()
        } else {
            PNG.to_vec()
        };
        return (StatusCode::OK, [("content-type", "image/png")], bytes).into_response();
    }
    if format != "json_detail" {
        return looker_error(StatusCode::BAD_REQUEST, "unsupported format in this fake");
    }
    let delay = {
        let mut s = state.lock().unwrap();
        s.queries_running += 1;
        s.queries_run += 1;
        s.most_queries_running = s.most_queries_running.max(s.queries_running);
        s.query_delay
    };
    tokio::time::sleep(delay).await;
    state.lock().unwrap().queries_running -= 1;
    match state.lock().unwrap().results.get(&id) {
        Some(result) => axum::Json(result.clone()).into_response(),
        None => looker_error(StatusCode::NOT_FOUND, "Not found"),
    }
}

async fn dashboard(
    State(state): State<Arc<Mutex<LookerState>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(denied) = admit(
        &state,
        &headers,
        format!("GET /dashboards/{id}"),
        &format!("dashboards/{id}"),
    ) {
        return denied;
    }
    match state.lock().unwrap().dashboards.get(&id) {
        Some(dashboard) => axum::Json(dashboard.clone()).into_response(),
        None => looker_error(StatusCode::NOT_FOUND, "Not found"),
    }
}

async fn merge_query(
    State(state): State<Arc<Mutex<LookerState>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(denied) = admit(
        &state,
        &headers,
        format!("GET /merge_queries/{id}"),
        &format!("merge_queries/{id}"),
    ) {
        return denied;
    }
    match state.lock().unwrap().merge_queries.get(&id) {
        Some(merge) => axum::Json(merge.clone()).into_response(),
        None => looker_error(StatusCode::NOT_FOUND, "Not found"),
    }
}

/// `POST /queries`: a new id; its result is the one registered for its filters, else that of a
/// saved query on the same view.
async fn create_query(State(state): State<Arc<Mutex<LookerState>>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(denied) = admit(&state, &headers, "POST /queries".into(), "queries") {
        return denied;
    }
    let Ok(mut query) = serde_json::from_slice::<Value>(&body) else {
        return looker_error(StatusCode::BAD_REQUEST, "Could not parse JSON");
    };
    if query["model"].as_str().is_none_or(str::is_empty) || query["view"].as_str().is_none_or(str::is_empty) {
        return looker_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation Failed: model and view are required",
        );
    }
    if query.get("id").is_some() || query.get("client_id").is_some() {
        return looker_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation Failed: id and client_id are read-only",
        );
    }
    let mut s = state.lock().unwrap();
    s.created_queries.push(query.clone());
    s.counter += 1;
    let id = format!("created{}", s.counter);
    let by_filter = s
        .filtered_results
        .iter()
        .find(|(field, value, _)| query["filters"][field] == json!(value))
        .map(|(_, _, r)| r.clone());
    let view = query["view"].clone();
    let by_view = s
        .queries
        .iter()
        .find(|(_, q)| q["view"] == view)
        .and_then(|(qid, _)| s.results.get(qid).cloned());
    if let Some(result) = by_filter.or(by_view) {
        s.results.insert(id.clone(), result);
    }
    query["id"] = json!(id);
    s.queries.insert(id, query.clone());
    axum::Json(query).into_response()
}

async fn start_render(
    State(state): State<Arc<Mutex<LookerState>>>,
    Path((kind, id, format)): Path<(String, String, String)>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("render_tasks/{kind}/{id}/{format}");
    if let Err(denied) = admit(&state, &headers, format!("POST /{path}"), &path) {
        return denied;
    }
    if !params.contains_key("width") || !params.contains_key("height") {
        return looker_error(StatusCode::BAD_REQUEST, "width and height are required");
    }
    let mut s = state.lock().unwrap();
    s.render_calls.push(RenderCall {
        target: format!("{kind}/{id}"),
        format: format.clone(),
        width: params.get("width").cloned(),
        height: params.get("height").cloned(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    s.counter += 1;
    let task_id = format!("task{}", s.counter);
    let polls_left = match s.renderer {
        Renderer::Available { polls } => polls,
        Renderer::Missing | Renderer::Instant => 0,
    };
    s.tasks.insert(
        task_id.clone(),
        TaskState {
            polls_left,
            format,
            results_asked: 0,
        },
    );
    axum::Json(
        json!({"id": task_id, "status": "enqueued_for_query", "width": params["width"], "height": params["height"]}),
    )
    .into_response()
}

async fn render_status(
    State(state): State<Arc<Mutex<LookerState>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(denied) = admit(
        &state,
        &headers,
        format!("GET /render_tasks/{id}"),
        &format!("render_tasks/{id}"),
    ) {
        return denied;
    }
    let mut s = state.lock().unwrap();
    let renderer = s.renderer;
    let Some(task) = s.tasks.get_mut(&id) else {
        return looker_error(StatusCode::NOT_FOUND, "Not found");
    };
    let (status, detail) = match renderer {
        Renderer::Missing => ("failure", Some("Rendering is not available on this instance")),
        Renderer::Instant => ("success", None),
        Renderer::Available { .. } if task.polls_left == 0 => ("success", None),
        Renderer::Available { .. } => {
            task.polls_left -= 1;
            ("rendering", None)
        }
    };
    axum::Json(json!({"id": id, "status": status, "status_detail": detail})).into_response()
}

async fn render_results(
    State(state): State<Arc<Mutex<LookerState>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("render_tasks/{id}/results");
    if let Err(denied) = admit(&state, &headers, format!("GET /{path}"), &path) {
        return denied;
    }
    let mut s = state.lock().unwrap();
    let instant = s.renderer == Renderer::Instant;
    let Some(task) = s.tasks.get_mut(&id) else {
        return looker_error(StatusCode::NOT_FOUND, "Not found");
    };
    task.results_asked += 1;
    // Like Looker, the first ask right after success may still find the bytes being written.
    if !instant && (task.polls_left > 0 || task.results_asked == 1) {
        return (StatusCode::ACCEPTED, [("retry-after", "1")], "").into_response();
    }
    let (content_type, bytes) = if task.format == "pdf" {
        ("application/pdf", PDF)
    } else {
        ("image/png", PNG)
    };
    (StatusCode::OK, [("content-type", content_type)], bytes.to_vec()).into_response()
}

/// Looker's title search: `%` matches any run, case-insensitive.
fn title_matches(pattern: &str, title: &str) -> bool {
    let (pattern, title) = (pattern.to_lowercase(), title.to_lowercase());
    let parts: Vec<&str> = pattern.split('%').collect();
    let mut rest = title.as_str();
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        match rest.find(part) {
            Some(at) if i > 0 || at == 0 => rest = &rest[at + part.len()..],
            _ => return false,
        }
    }
    parts.last().is_some_and(|p| p.is_empty()) || rest.is_empty()
}

fn search(
    state: &Arc<Mutex<LookerState>>,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    dashboards: bool,
) -> Response {
    let what = if dashboards {
        "dashboards/search"
    } else {
        "looks/search"
    };
    if let Err(denied) = admit(state, headers, format!("GET /{what}"), what) {
        return denied;
    }
    let pattern = params.get("title").cloned().unwrap_or_else(|| "%".into());
    let s = state.lock().unwrap();
    let items = if dashboards { &s.dashboards } else { &s.looks };
    let mut found: Vec<Value> = items
        .values()
        .filter(|v| v["title"].as_str().is_some_and(|t| title_matches(&pattern, t)))
        .cloned()
        .collect();
    found.sort_by_key(|v| v["id"].as_str().unwrap_or_default().to_string());
    axum::Json(found).into_response()
}

async fn search_looks(
    State(state): State<Arc<Mutex<LookerState>>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    search(&state, &headers, &params, false)
}

async fn search_dashboards(
    State(state): State<Arc<Mutex<LookerState>>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    search(&state, &headers, &params, true)
}

async fn folder(State(state): State<Arc<Mutex<LookerState>>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Err(denied) = admit(&state, &headers, format!("GET /folders/{id}"), &format!("folders/{id}")) {
        return denied;
    }
    let s = state.lock().unwrap();
    let Some(folder) = s.folders.get(&id) else {
        return looker_error(StatusCode::NOT_FOUND, "Not found");
    };
    // Looker lists a folder's dashboards without their elements or filters.
    let dashboards: Vec<Value> = s
        .dashboards
        .values()
        .filter(|d| d["folder_id"] == json!(id))
        .map(|d| json!({"id": d["id"], "title": d["title"], "description": d["description"], "folder_id": id}))
        .collect();
    let mut folder = folder.clone();
    folder["dashboards"] = json!(dashboards);
    folder["looks"] = json!([]);
    axum::Json(folder).into_response()
}

async fn folder_children(
    State(state): State<Arc<Mutex<LookerState>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(denied) = admit(
        &state,
        &headers,
        format!("GET /folders/{id}/children"),
        &format!("folders/{id}/children"),
    ) {
        return denied;
    }
    let s = state.lock().unwrap();
    if !s.folders.contains_key(&id) {
        return looker_error(StatusCode::NOT_FOUND, "Not found");
    }
    let children: Vec<Value> = s
        .folders
        .values()
        .filter(|f| f["parent_id"] == json!(id))
        .cloned()
        .collect();
    axum::Json(children).into_response()
}

async fn query_by_slug(
    State(state): State<Arc<Mutex<LookerState>>>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(denied) = admit(
        &state,
        &headers,
        format!("GET /queries/slug/{slug}"),
        &format!("queries/slug/{slug}"),
    ) {
        return denied;
    }
    match state
        .lock()
        .unwrap()
        .queries
        .values()
        .find(|q| q["slug"] == json!(slug))
    {
        Some(query) => axum::Json(query.clone()).into_response(),
        None => looker_error(StatusCode::NOT_FOUND, "Not found"),
    }
}

/// `POST /data_actions`: Looker sends the action to its action server and answers what that
/// said (`DataActionResponse`). The body must be `{action: {...}, form_values: {name: text}}`.
async fn perform_data_action(
    State(state): State<Arc<Mutex<LookerState>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(denied) = admit(&state, &headers, "POST /data_actions".into(), "data_actions") {
        return denied;
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return looker_error(StatusCode::BAD_REQUEST, "Could not parse JSON");
    };
    let Some(url) = request["action"]["url"].as_str().map(str::to_string) else {
        return looker_error(StatusCode::BAD_REQUEST, "action is required");
    };
    if request["form_values"]
        .as_object()
        .is_some_and(|values| values.values().any(|v| !v.is_string()))
    {
        return looker_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation Failed: form_values must be strings",
        );
    }
    let hang = {
        let mut s = state.lock().unwrap();
        s.action_calls.push(request);
        std::mem::take(&mut s.hang_action).then(|| s.hung.clone())
    };
    if let Some(hung) = hang {
        hung.notify_one();
        return std::future::pending().await;
    }
    let s = state.lock().unwrap();
    match s.action_answers.get(&url) {
        Some(answer) => axum::Json(answer.clone()).into_response(),
        None => looker_error(StatusCode::NOT_FOUND, "Not found"),
    }
}

/// `POST /data_actions/form`: the form the action's server asks for, after its own delay.
async fn data_action_form(State(state): State<Arc<Mutex<LookerState>>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(denied) = admit(&state, &headers, "POST /data_actions/form".into(), "data_actions/form") {
        return denied;
    }
    let Ok(action) = serde_json::from_slice::<Value>(&body) else {
        return looker_error(StatusCode::BAD_REQUEST, "Could not parse JSON");
    };
    let delay = {
        let mut s = state.lock().unwrap();
        s.form_calls.push(action.clone());
        s.form_delay
    };
    tokio::time::sleep(delay).await;
    let s = state.lock().unwrap();
    match action["url"].as_str().and_then(|url| s.action_forms.get(url)) {
        Some(form) => axum::Json(form.clone()).into_response(),
        None => looker_error(StatusCode::NOT_FOUND, "Not found"),
    }
}

/// `GET /__fake/stats`, for load scripts: queries answered and the most that ran at once.
async fn fake_stats(State(state): State<Arc<Mutex<LookerState>>>) -> Response {
    let s = state.lock().unwrap();
    axum::Json(json!({"queries_run": s.queries_run, "most_queries_running": s.most_queries_running})).into_response()
}
