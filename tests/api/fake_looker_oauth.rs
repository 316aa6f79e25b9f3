//! The fake Looker's OAuth, as Looker's own SDKs expect it: `/auth` on the web host checks the
//! client app, its redirect address and the S256 challenge and (for the person the "browser" is
//! signed in as) sends the browser back with a code and the state; `/api/token` trades a code
//! once, against the verifier, for an access token that really expires and a refresh token,
//! which it rotates on each renewal; `DELETE /logout` ends an access token and its refresh
//! token; `GET /user` says whose a token is; `GET /oauth_client_apps/{guid}` shows the app.
//! Beside it, `GET /groups/search/with_roles`: the models a group's roles may use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::fake_looker::{FakeLooker, LookerState, admit, looker_error};

#[derive(Default)]
pub(crate) struct OauthState {
    /// Registered client apps: client_guid → redirect_uri.
    apps: HashMap<String, String>,
    /// The Looker user the browser is signed in to Looker as.
    browser_user: Option<String>,
    /// The person clicks "Deny" on Looker's consent page.
    deny: bool,
    /// Codes not yet traded: code → (user, client, redirect, challenge).
    codes: HashMap<String, (String, String, String, String)>,
    /// Refresh tokens that work: token → (user, client, the access token issued with it).
    refresh_tokens: HashMap<String, (String, String, String)>,
    /// Every token issued through OAuth (access and refresh).
    issued: Vec<String>,
    /// Bodies of `POST /api/token`.
    token_calls: Vec<Value>,
    logouts: usize,
    /// Groups: name → the model sets of their roles (`None`: all access).
    groups: HashMap<String, Vec<Option<Vec<String>>>>,
}

type Shared = Arc<Mutex<LookerState>>;

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/auth", get(authorize))
        .route("/api/token", post(token))
        .route("/api/4.0/user", get(me))
        .route("/api/4.0/logout", delete(logout))
        .route("/api/4.0/oauth_client_apps/{guid}", get(client_app))
        .route("/api/4.0/groups/search/with_roles", get(groups_with_roles))
}

impl FakeLooker {
    /// Registers the bot as an OAuth client app (`POST /oauth_client_apps/{guid}` in Looker).
    pub fn register_oauth_app(&self, guid: &str, redirect_uri: &str) {
        self.state
            .lock()
            .unwrap()
            .oauth
            .apps
            .insert(guid.into(), redirect_uri.into());
    }

    /// The browser that opens `/auth` is signed in to Looker as this user.
    pub fn sign_in_browser_as(&self, user: &str) {
        self.state.lock().unwrap().oauth.browser_user = Some(user.into());
    }

    /// The person refuses the bot on Looker's consent page.
    pub fn deny_consent(&self) {
        self.state.lock().unwrap().oauth.deny = true;
    }

    /// Every token issued through OAuth (access and refresh), oldest first.
    pub fn oauth_tokens_issued(&self) -> Vec<String> {
        self.state.lock().unwrap().oauth.issued.clone()
    }

    /// Bodies of `POST /api/token`.
    pub fn token_calls(&self) -> Vec<Value> {
        self.state.lock().unwrap().oauth.token_calls.clone()
    }

    /// Refresh tokens Looker still takes.
    pub fn live_refresh_tokens(&self) -> usize {
        self.state.lock().unwrap().oauth.refresh_tokens.len()
    }

    /// A Looker group whose roles' model sets hold these models.
    pub fn add_group(&self, name: &str, models: &[&str]) {
        let set = Some(models.iter().map(|m| m.to_string()).collect());
        self.state.lock().unwrap().oauth.groups.insert(name.into(), vec![set]);
    }

    pub fn oauth_logouts(&self) -> usize {
        self.state.lock().unwrap().oauth.logouts
    }

    /// An admin revokes the app's tokens for everyone (`DELETE /oauth_client_apps/{guid}/tokens`).
    pub fn revoke_oauth_tokens(&self) {
        let mut s = self.state.lock().unwrap();
        let issued = s.oauth.issued.clone();
        for token in issued.iter().filter(|t| t.starts_with("oauth-")) {
            s.tokens.remove(token);
        }
        s.oauth.refresh_tokens.clear();
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `GET /auth` on Looker's web host: the consent, already given by the signed-in person.
async fn authorize(State(state): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut s = state.lock().unwrap();
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let (client, redirect) = (get("client_id"), get("redirect_uri"));
    if get("response_type") != "code" || get("code_challenge_method") != "S256" || get("code_challenge").is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            "response_type=code and an S256 code_challenge are required",
        )
            .into_response();
    }
    if s.oauth.apps.get(&client) != Some(&redirect) {
        // Looker's rule: a client_guid and redirect_uri that do not match the app are a forgery.
        return (StatusCode::BAD_REQUEST, "unknown client_id or redirect_uri").into_response();
    }
    let Some(user) = s.oauth.browser_user.clone() else {
        return (StatusCode::UNAUTHORIZED, "sign in to Looker first").into_response();
    };
    let mut back = url::Url::parse(&redirect).unwrap();
    if s.oauth.deny {
        back.query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("state", &get("state"));
    } else {
        let code = b64(&rand::random::<[u8; 16]>());
        s.oauth
            .codes
            .insert(code.clone(), (user, client, redirect, get("code_challenge")));
        back.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &get("state"));
    }
    (StatusCode::FOUND, [("location", back.to_string())]).into_response()
}

fn grant_error(description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": "invalid_grant", "error_description": description})),
    )
        .into_response()
}

/// `POST /api/token` on the API host, JSON as Looker's SDKs send it (or a form).
async fn token(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let fields: Value = if form {
        let map: serde_json::Map<String, Value> = url::form_urlencoded::parse(&body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        Value::Object(map)
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => return looker_error(StatusCode::BAD_REQUEST, "the body is not JSON"),
        }
    };
    let get = |k: &str| fields[k].as_str().unwrap_or_default().to_string();
    let mut s = state.lock().unwrap();
    s.oauth.token_calls.push(fields.clone());
    let (user, client) = match get("grant_type").as_str() {
        "authorization_code" => {
            let Some((user, client, redirect, challenge)) = s.oauth.codes.remove(&get("code")) else {
                return grant_error("the code is unknown or was used");
            };
            if client != get("client_id") || redirect != get("redirect_uri") {
                return grant_error("client_id or redirect_uri differ from the authorization's");
            }
            if b64(&Sha256::digest(get("code_verifier").as_bytes())) != challenge {
                return grant_error("the code_verifier does not match the code_challenge");
            }
            (user, client)
        }
        "refresh_token" => {
            let Some((user, client, access)) = s.oauth.refresh_tokens.remove(&get("refresh_token")) else {
                return grant_error("the refresh token is unknown or revoked");
            };
            if client != get("client_id") {
                return grant_error("the refresh token is another client's");
            }
            s.tokens.remove(&access);
            (user, client)
        }
        _ => return grant_error("unsupported grant_type"),
    };
    let access = format!("oauth-{}", b64(&rand::random::<[u8; 18]>()));
    let refresh = format!("refresh-{}", b64(&rand::random::<[u8; 18]>()));
    let ttl = s.token_ttl;
    s.tokens.insert(access.clone(), Instant::now() + ttl);
    s.token_users.insert(access.clone(), user.clone());
    s.oauth
        .refresh_tokens
        .insert(refresh.clone(), (user, client, access.clone()));
    s.oauth.issued.push(access.clone());
    s.oauth.issued.push(refresh.clone());
    axum::Json(
        json!({"access_token": access, "token_type": "Bearer", "expires_in": ttl.as_secs(), "refresh_token": refresh}),
    )
    .into_response()
}

/// `GET /user`: whose the token is.
async fn me(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let caller = match admit(&state, &headers, "GET /user".into(), "user") {
        Ok(caller) => caller,
        Err(denied) => return denied,
    };
    let s = state.lock().unwrap();
    if caller == "api" {
        return axum::Json(json!({"id": "1", "email": "api@acme.example", "display_name": "API user"})).into_response();
    }
    match s.users.iter().find(|(id, _, _)| *id == caller) {
        Some((id, email, _)) => axum::Json(json!({"id": id, "email": email})).into_response(),
        None => looker_error(StatusCode::NOT_FOUND, "Not found"),
    }
}

/// `DELETE /logout`: ends the token, and the refresh token issued with it.
async fn logout(State(state): State<Shared>, headers: HeaderMap) -> Response {
    if let Err(denied) = admit(&state, &headers, "DELETE /logout".into(), "logout") {
        return denied;
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' ').map(|(_, t)| t.to_string()))
        .unwrap_or_default();
    let mut s = state.lock().unwrap();
    s.tokens.remove(&token);
    s.oauth.refresh_tokens.retain(|_, (_, _, access)| *access != token);
    s.oauth.logouts += 1;
    StatusCode::NO_CONTENT.into_response()
}

async fn client_app(State(state): State<Shared>, Path(guid): Path<String>, headers: HeaderMap) -> Response {
    if let Err(denied) = admit(
        &state,
        &headers,
        format!("GET /oauth_client_apps/{guid}"),
        "oauth_client_apps",
    ) {
        return denied;
    }
    let s = state.lock().unwrap();
    match s.oauth.apps.get(&guid) {
        Some(redirect) => axum::Json(json!({"client_guid": guid, "redirect_uri": redirect, "display_name": "lookerbot",
            "description": "Slack", "enabled": true, "group_id": null, "tokens_invalid_before": null, "activated_users": null}))
        .into_response(),
        None => looker_error(StatusCode::NOT_FOUND, "Not found"),
    }
}

/// `GET /groups/search/with_roles?name=`: the group with its roles and their model sets.
async fn groups_with_roles(
    State(state): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(denied) = admit(
        &state,
        &headers,
        "GET /groups/search/with_roles".into(),
        "groups/search",
    ) {
        return denied;
    }
    let s = state.lock().unwrap();
    let name = q.get("name").cloned().unwrap_or_default();
    let found: Vec<Value> = s
        .oauth
        .groups
        .iter()
        .filter(|(n, _)| **n == name)
        .map(|(n, sets)| {
            let roles: Vec<Value> = sets
                .iter()
                .enumerate()
                .map(|(i, set)| {
                    json!({"id": format!("{}", i + 1), "name": format!("{n} role"), "permission_set_id": "1",
                        "model_set_id": format!("{}", i + 1), "model_set": {"id": format!("{}", i + 1), "name": format!("{n} models"),
                        "all_access": set.is_none(), "built_in": false, "models": set.clone().unwrap_or_default()}})
                })
                .collect();
            json!({"id": "5", "name": n, "user_count": 3, "include_by_default": false, "externally_managed": false,
                "external_group_id": null, "contains_current_user": false, "can_add_to_content_metadata": true, "roles": roles})
        })
        .collect();
    axum::Json(found).into_response()
}
