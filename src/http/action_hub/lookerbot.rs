//! Lookerbot's Action Hub endpoints, kept where Lookerbot had them and answered as it answered:
//! its `post` integration (`/slack/post_from_query_action`, a query or a Look rendered in a
//! channel, run again through the API as Lookerbot did), its form (`/data_actions/form`, one
//! select of channels and people), and `/data_actions`, where LookML `action:` blocks send a
//! message to a channel. The hub token or a Looker's webhook token is accepted, as Lookerbot
//! accepted them; unlike Lookerbot, Looker is answered once the work is done (or recorded).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::intake::{Refused, read};
use super::refusal;
use crate::features::action_hub::{ChannelMessage, Target, lookerbot_form};
use crate::features::deliveries::Destination;
use crate::http::AppState;
use crate::http::looker_auth::{Caller, authenticate, hub_token};
use crate::http::looker_webhook::parse;
use crate::queue::{Job, Push, Settled};
use crate::store::Enqueued;

/// Lookerbot's refusal of a bad token.
fn bad_auth(state: &AppState) -> Response {
    state.refusals.looker.note("missing or wrong Lookerbot token");
    let body = json!({"looker": {"success": false}, "reason": "Invalid authorization headers."});
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

fn caller(state: &AppState, headers: &HeaderMap) -> Option<Caller> {
    if hub_token(&state.settings, headers) {
        return Some(Caller::SharedToken);
    }
    authenticate(&state.settings, state.bot.lookers.registry(), headers)
}

/// An answer in Lookerbot's shape and the Action API's at once.
fn answer(success: bool, reason: impl Into<String>) -> Response {
    let reason = reason.into();
    Json(json!({"success": success, "reason": reason, "looker": {"success": success, "message": reason}}))
        .into_response()
}

/// `POST /data_actions/form`: a required `channel` select of the bot's channels and the people.
pub(super) async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if caller(&state, &headers).is_none() {
        return bad_auth(&state);
    }
    match lookerbot_form(&state.bot).await {
        Ok(fields) => Json(fields).into_response(),
        Err(error) => {
            tracing::warn!(%error, "Lookerbot's form could not list Slack's channels");
            let reason = "Slack did not list its channels just now; try again shortly.";
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": reason}))).into_response()
        }
    }
}

/// Waits for a recorded job, then answers Looker with how it went.
async fn answer_when_done(state: &AppState, id: i64, done: String, what: &str) -> Response {
    match state.queue.settled(id, state.bot.hub.wait).await {
        Ok(Settled::Done | Settled::Gone) => answer(true, done),
        Ok(Settled::Failed(reason)) => answer(false, format!("Could not send {what}: {reason}")),
        // Lookerbot's own words where the operator asked for an answer at once.
        Ok(Settled::Pending { last_error: None }) if state.bot.hub.wait.is_zero() => {
            answer(true, format!("{done} (still being sent)"))
        }
        Ok(Settled::Pending { last_error }) => {
            let (success, message) = super::still_sending(state, what, last_error);
            answer(success, message)
        }
        Err(error) => {
            let (success, message) = super::still_sending(state, what, Some(error.to_string()));
            answer(success, message)
        }
    }
}

fn dedupe(headers: &HeaderMap, kind: &str) -> Push {
    headers
        .get("x-looker-webhook-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty())
        .map(|id| Push::once(format!("{kind}:{id}")))
        .unwrap_or_default()
}

async fn record<J: Job>(state: &AppState, job: &J, how: Push) -> Result<i64, Response> {
    match state.queue.push(job, how).await {
        Ok(Enqueued::Created(id) | Enqueued::Duplicate(id)) => Ok(id),
        Err(error) => {
            tracing::error!(%error, "could not record a Lookerbot data action");
            Err(refusal(Refused::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the bot could not record this request; try again shortly",
            )))
        }
    }
}

/// `POST /data_actions`: `message` to `channel` (from `form_params`, else `data`).
pub(super) async fn data_action(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    if caller(&state, &headers).is_none() {
        return bad_auth(&state);
    }
    let request = match read(&state, body, super::SMALL_BODY).await {
        Ok((request, kept)) => {
            // A message needs no file.
            if let Some(kept) = kept {
                let _ = state.queue.store().forget_file(kept.file_id).await;
            }
            request
        }
        Err(refused) => return refusal(refused),
    };
    let text = |name: &str| {
        [&request.form_params, &request.data]
            .into_iter()
            .filter_map(|m| m.get(name))
            .find(|v| !v.is_null() && v.as_str() != Some(""))
            .cloned()
    };
    let (message, channel) = match (text("message"), text("channel")) {
        (Some(Value::String(message)), Some(Value::String(channel))) => (message, channel),
        (Some(Value::String(_)), _) => return answer(false, "channel must be a string."),
        _ => return answer(false, "message must be a string."),
    };
    let Some(target) = Target::parse(&channel) else {
        return answer(false, "channel must be a string.");
    };
    let sender = ["looker_user_email", "looker_user"]
        .iter()
        .find_map(|name| text(name).and_then(|v| v.as_str().map(str::to_string)));
    let job = ChannelMessage {
        target,
        message,
        sender,
    };
    match record(&state, &job, dedupe(&headers, "data-action")).await {
        Ok(id) => answer_when_done(&state, id, format!("Sent message to {channel}!"), "the message").await,
        Err(response) => response,
    }
}

/// `POST /slack/post_from_query_action`: the `post` integration. The Look or query is run again
/// and rendered in the channel, as a scheduled Look is.
pub(super) async fn post_from_query_action(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    // Only the hub's own token: Looker sends the webhook token to any address a user types, and
    // this route runs the query it is given as the bot.
    if !hub_token(&state.settings, &headers) {
        return bad_auth(&state);
    }
    let caller = Caller::SharedToken;
    let (request, kept) = match read(&state, body, state.bot.hub.max_bytes).await {
        Ok(read) => read,
        Err(refused) => return refusal(refused),
    };
    // The data is run again through the API: what Looker pushed is not needed.
    if let Some(kept) = kept {
        let _ = state.queue.store().forget_file(kept.file_id).await;
    }
    let Some(channel) = request.param("channel").and_then(Target::parse) else {
        return answer(false, "Channel not specified.");
    };
    let Some(plan) = &request.plan else {
        return answer(false, "No scheduled plan in payload.");
    };
    let destination = match &channel {
        Target::Channel(name) => Destination::Channel(name.trim_start_matches('#').to_string()),
        Target::Person(name) => Destination::Dm(name.trim_start_matches('@').to_string()),
    };
    let shaped = json!({
        "type": request.kind.clone().unwrap_or_else(|| "query".into()),
        "scheduled_plan": {
            "title": plan.title, "type": plan.plan_type.clone().unwrap_or_else(|| "Look".into()),
            "url": plan.url, "query_id": plan.query_id.as_ref().map(|id| id.as_str().to_string())
        }
    });
    let webhook: parse::WebhookBody = match serde_json::from_value(shaped) {
        Ok(webhook) => webhook,
        Err(error) => return answer(false, format!("The scheduled plan could not be read: {error}")),
    };
    let delivery = match parse::delivery(
        webhook,
        destination,
        caller,
        state.bot.lookers.registry(),
        &state.bot.sealer,
    ) {
        Ok(parsed)
            if matches!(
                parsed.delivery.content,
                crate::features::deliveries::Content::Look { .. }
            ) =>
        {
            parsed.delivery
        }
        Ok(_) => {
            return answer(
                false,
                "Scheduled plan type not supported: the post integration sends Looks and queries.",
            );
        }
        Err(refused) if refused.status == StatusCode::UNAUTHORIZED => return bad_auth(&state),
        Err(refused) => return answer(false, refused.reason),
    };
    let what = delivery.summary();
    match record(&state, &delivery, dedupe(&headers, "looker-post")).await {
        Ok(id) => answer_when_done(&state, id, format!("Sent {what}."), "it").await,
        Err(response) => response,
    }
}
