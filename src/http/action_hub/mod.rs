//! The Action Hub's routes. Looker's `POST /` lists the integrations, `POST
//! /actions/slack/form` and `/actions/slack/execute` are the `slack` integration's (and
//! `/actions/braze/...` the `braze` one's), and
//! Lookerbot's `POST /data_actions/form`, `/data_actions` and `/slack/post_from_query_action`
//! are kept where Lookerbot had them. Every route checks its token from the headers before it
//! reads a body; a wrong or missing token is refused with a JSON reason and nothing else.

mod body;
mod braze;
mod execute;
mod intake;
mod lookerbot;
mod record;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use super::AppState;
use super::looker_auth::{authenticate, hub_token};
use crate::features::action_hub;
pub use intake::Refused;

/// List and form bodies are small.
const SMALL_BODY: usize = 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", post(list))
        .route("/actions/slack/form", post(slack_form))
        .route("/actions/slack/execute", post(execute::execute))
        .route("/actions/braze/form", post(braze::form))
        .route("/actions/braze/execute", post(braze::execute))
        .route("/data_actions/form", post(lookerbot::form))
        .route("/data_actions", post(lookerbot::data_action))
        .route("/slack/post_from_query_action", post(lookerbot::post_from_query_action))
        .layer(DefaultBodyLimit::disable())
}

/// Proof that a request holds the Action Hub's token (`LOOKERBOT_AUTH_TOKEN`), checked from the
/// headers before anything reads the body: a handler (or helper) that takes one cannot forget
/// the check. A wrong or missing token is refused as Looker's own hub refuses it.
pub(super) struct HubToken(());

impl axum::extract::FromRequestParts<AppState> for HubToken {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, Response> {
        match hub_token(&state.settings, &parts.headers) {
            true => Ok(HubToken(())),
            false => Err(refused_token(state)),
        }
    }
}

/// The Action API's refusal: Looker's own hub answers a bad token exactly so.
fn refused_token(state: &AppState) -> Response {
    state.refusals.looker.note("missing or wrong Action Hub token");
    let reason = if state.settings.lookerbot_auth_token.is_none() {
        "Invalid 'Authorization' header: the Action Hub is off until LOOKERBOT_AUTH_TOKEN is set."
    } else {
        "Invalid 'Authorization' header."
    };
    (StatusCode::FORBIDDEN, Json(json!({"success": false, "error": reason}))).into_response()
}

/// A request refused before anything was recorded: the reason in JSON, in both shapes Looker reads.
fn refusal(refused: Refused) -> Response {
    let body = json!({
        "success": false,
        "error": refused.reason,
        "looker": {"success": false, "message": refused.reason}
    });
    (refused.status, Json(body)).into_response()
}

/// The Action API's answer to an execute call (HTTP 200 whatever happened, as Looker's hub does).
fn outcome(success: bool, message: Option<String>, validation_errors: Value) -> Response {
    let mut looker = json!({"success": success, "refresh_query": false, "validation_errors": validation_errors});
    if let Some(message) = message {
        looker["message"] = Value::String(message);
    }
    Json(json!({ "looker": looker })).into_response()
}

/// What Looker is told of a send still under way when the wait ran out: never a success not yet
/// had. Only where the operator asked for an answer at once (`LOOKERBOT_HUB_WAIT_SECS=0`) and
/// nothing has failed yet is it an acceptance.
fn still_sending(state: &AppState, what: &str, last_error: Option<String>) -> (bool, String) {
    if state.bot.hub.wait.is_zero() && last_error.is_none() {
        return (
            true,
            format!("Accepted; sending to {what} now. Looker is not told the final result: `lookerbot jobs` shows it."),
        );
    }
    let so_far = last_error.map(|e| format!(" (so far: {e})")).unwrap_or_default();
    (
        false,
        format!(
            "Still sending to {what}{so_far}: the bot keeps retrying, but Looker will not be told the final result; see `lookerbot jobs` (a failure is also reported in the alerts channel)."
        ),
    )
}

/// Where the bot lives, for the integration URLs: `PUBLIC_URL`, else the host Looker reached
/// (as a proxy forwarded it), always HTTPS unless the proxy says otherwise.
fn base_url(state: &AppState, headers: &HeaderMap) -> Result<String, Refused> {
    if let Some(url) = &state.bot.hub.public_url {
        return Ok(url.as_str().trim_end_matches('/').to_string());
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let host = header("x-forwarded-host").or(header("host")).unwrap_or_default();
    let scheme = match header("x-forwarded-proto") {
        Some("http") => "http",
        _ => "https",
    };
    let url = format!("{scheme}://{host}");
    match url::Url::parse(&url) {
        Ok(parsed) if !host.is_empty() && parsed.path() == "/" && parsed.query().is_none() => Ok(url),
        _ => Err(Refused::new(
            StatusCode::BAD_REQUEST,
            "cannot tell the bot's address from the Host header; set PUBLIC_URL",
        )),
    }
}

/// Reads a small body (list, form) after the token is checked; empty is `{}`.
pub(super) async fn small_request(state: &AppState, body: Body) -> Result<body::ActionRequest, Refused> {
    let (request, kept) = intake::read(state, body, SMALL_BODY).await?;
    if let Some(kept) = kept {
        let _ = state.queue.store().forget_file(kept.file_id).await;
    }
    Ok(request)
}

/// `POST /`: the integrations. Lookerbot's webhook tokens are accepted here too, as Lookerbot did.
async fn list(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let lookerbot_caller = authenticate(&state.settings, state.bot.lookers.registry(), &headers).is_some();
    if !hub_token(&state.settings, &headers) && !lookerbot_caller {
        return refused_token(&state);
    }
    if let Err(refused) = small_request(&state, body).await {
        return refusal(refused);
    }
    match base_url(&state, &headers) {
        Ok(base) => Json(action_hub::integrations(&base)).into_response(),
        Err(refused) => refusal(refused),
    }
}

/// `POST /actions/slack/form`: the `slack` integration's form for the values so far.
async fn slack_form(State(state): State<AppState>, _: HubToken, body: Body) -> Response {
    let request = match small_request(&state, body).await {
        Ok(request) => request,
        Err(refused) => return refusal(refused),
    };
    let params = Value::Object(request.form_params);
    Json(action_hub::slack_form(&state.bot, &params, state.bot.hub.all_channels).await).into_response()
}
