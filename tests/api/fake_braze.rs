//! A fake Braze REST API on loopback that answers `POST /users/track` as Braze does: 201 with
//! `{"message": "success", "attributes_processed": n}`, 401 for a wrong key, 400 past 75
//! attribute objects, and on demand 429 with Braze's rate-limit headers, a 5xx, or a refusal
//! with Braze's message.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

pub const BRAZE_KEY: &str = "braze-rest-key-2f9c41";

/// What the next request gets instead of success.
#[derive(Debug, Clone)]
pub enum BrazeFailure {
    /// 429, its `X-RateLimit-Reset` this many seconds ahead.
    RateLimited(u64),
    Status(u16, &'static str),
    /// 201, with these objects reported as not applied.
    Partial(usize),
}

#[derive(Default)]
struct BrazeState {
    objects: Vec<Value>,
    batches: Vec<usize>,
    requests: usize,
    failures: VecDeque<BrazeFailure>,
    /// Request numbers (from 1) that never answer: before Braze applies them, or after.
    hangs: Vec<(usize, bool)>,
    hung: Arc<tokio::sync::Notify>,
}

#[derive(Clone)]
pub struct FakeBraze {
    pub base_url: String,
    state: Arc<Mutex<BrazeState>>,
}

impl FakeBraze {
    pub async fn start() -> FakeBraze {
        let state = Arc::new(Mutex::new(BrazeState::default()));
        let app = Router::new()
            .route("/users/track", post(track))
            .layer(axum::extract::DefaultBodyLimit::max(8 * 1024 * 1024))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeBraze {
            base_url: format!("http://{addr}"),
            state,
        }
    }

    /// The `n`th request (from 1) never answers; with `after_effect`, Braze applies it first, as
    /// when the bot dies between Braze's work and its answer.
    pub fn hang_nth(&self, n: usize, after_effect: bool) {
        self.state.lock().unwrap().hangs.push((n, after_effect));
    }

    pub async fn wait_until_hung(&self) {
        let hung = self.state.lock().unwrap().hung.clone();
        hung.notified().await;
    }

    pub fn fail_next(&self, failure: BrazeFailure) {
        self.state.lock().unwrap().failures.push_back(failure);
    }

    /// Every attribute object accepted, in order.
    pub fn objects(&self) -> Vec<Value> {
        self.state.lock().unwrap().objects.clone()
    }

    /// The size of each accepted batch.
    pub fn batches(&self) -> Vec<usize> {
        self.state.lock().unwrap().batches.clone()
    }

    /// Requests answered, accepted or not.
    pub fn requests(&self) -> usize {
        self.state.lock().unwrap().requests
    }
}

async fn track(State(state): State<Arc<Mutex<BrazeState>>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let (hang, hung) = {
        let mut s = state.lock().unwrap();
        s.requests += 1;
        let number = s.requests;
        let hang = s
            .hangs
            .iter()
            .position(|(n, _)| *n == number)
            .map(|i| s.hangs.remove(i).1);
        (hang, s.hung.clone())
    };
    if hang == Some(false) {
        hung.notify_one();
        return std::future::pending().await;
    }
    let answer = respond(&state, &headers, &body);
    if hang == Some(true) {
        hung.notify_one();
        return std::future::pending().await;
    }
    answer
}

fn respond(state: &Arc<Mutex<BrazeState>>, headers: &HeaderMap, body: &[u8]) -> Response {
    let mut s = state.lock().unwrap();
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth != format!("Bearer {BRAZE_KEY}") {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "Invalid API key: the key does not exist or was deactivated"})),
        )
            .into_response();
    }
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"message": "Invalid JSON"}))).into_response();
    };
    let attributes = body["attributes"].as_array().cloned().unwrap_or_default();
    if attributes.len() > 75 {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(
                json!({"message": "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields.",
                              "errors": ["attributes: too many objects (at most 75)"]}),
            ),
        )
            .into_response();
    }
    match s.failures.pop_front() {
        Some(BrazeFailure::RateLimited(secs)) => {
            let reset = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + secs;
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    ("x-ratelimit-limit", "250000".to_string()),
                    ("x-ratelimit-remaining", "0".to_string()),
                    ("x-ratelimit-reset", reset.to_string()),
                ],
                axum::Json(json!({"message": "Rate limit exceeded"})),
            )
                .into_response();
        }
        Some(BrazeFailure::Status(status, message)) => {
            return (
                StatusCode::from_u16(status).unwrap(),
                axum::Json(json!({"message": message})),
            )
                .into_response();
        }
        Some(BrazeFailure::Partial(n)) => {
            let errors: Vec<Value> = (0..n)
                .map(|i| json!({"type": "'external_id' or 'braze_id' or 'user_alias' is required", "input_array": "attributes", "index": i}))
                .collect();
            let applied = attributes.len().saturating_sub(n);
            s.objects.extend(attributes.into_iter().skip(n));
            s.batches.push(applied);
            return (
                StatusCode::CREATED,
                axum::Json(json!({"message": "success", "attributes_processed": applied, "errors": errors})),
            )
                .into_response();
        }
        None => {}
    }
    let n = attributes.len();
    s.objects.extend(attributes);
    s.batches.push(n);
    (
        StatusCode::CREATED,
        axum::Json(json!({"message": "success", "attributes_processed": n})),
    )
        .into_response()
}
