//! `POST /actions/slack/execute`: a schedule or a query sent to Slack as a file. The request is
//! checked (token, type, channel, where a `download_url` points), recorded as a durable job, and
//! Looker is answered with what really happened: the job's outcome if it finishes within
//! `LOOKERBOT_HUB_WAIT_SECS`, so that the schedule's history in Looker tells the truth; a job
//! still running then goes on (with retries) in the background.

use crate::sealing::SealedText;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::HubToken;
use super::body::ActionRequest;
use super::intake::{Kept, Refused};
use super::record::{execute_request, forget, record};
use super::{outcome, refusal};
use crate::features::action_hub::{HubDelivery, HubFile, Target};
use crate::features::deliveries::extension_for;
use crate::features::downloads::on_looker;
use crate::http::AppState;
use crate::queue::Settled;
use crate::store::now_millis;

/// The request types the `slack` integration takes.
const TYPES: &[&str] = &["query", "dashboard"];

fn bad_request(reason: impl Into<String>) -> Response {
    refusal(Refused::new(StatusCode::BAD_REQUEST, reason))
}

/// The request's type, or why it is refused; a plan without a type says what it is.
pub(super) fn request_type(request: &ActionRequest) -> Result<&'static str, String> {
    let plan_type = request.plan.as_ref().and_then(|p| p.plan_type.as_deref());
    let kind = request.kind.as_deref().or(match plan_type {
        Some("Look") => Some("query"),
        Some("Dashboard" | "LookMLDashboard") => Some("dashboard"),
        _ => None,
    });
    match kind {
        Some(kind) => TYPES.iter().find(|t| **t == kind).copied().ok_or_else(|| {
            format!("This action does not support requests of type {kind:?}. The request must be of type: \"query\", \"dashboard\".")
        }),
        None if request.has_data || request.plan.is_some() => Ok("query"),
        None => Err("No request type specified. The request must be of type: \"query\", \"dashboard\".".into()),
    }
}

/// The `download_url`, if it points at the system that sent the request: a configured Looker
/// (its web or API address), or a host the operator listed in `LOOKERBOT_HUB_DOWNLOAD_HOSTS`.
/// Nothing else in the request can vouch for an address: the plan's own URL comes from the same
/// body, so it is not trusted.
pub(super) fn checked_download(state: &AppState, request: &ActionRequest) -> Result<Option<SealedText>, String> {
    let Some(plan) = &request.plan else { return Ok(None) };
    let Some(link) = plan.download_url.as_deref().filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    let url = url::Url::parse(link).map_err(|_| "refused the download_url: it is not a URL".to_string())?;
    let on_configured = state.bot.lookers.all().any(|(_, looker)| on_looker(looker, &url));
    let listed = || {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let with_port = url.port().map(|p| format!("{host}:{p}"));
        url.scheme() == "https"
            && state
                .bot
                .hub
                .download_hosts
                .iter()
                .any(|allowed| *allowed == host || Some(allowed) == with_port.as_ref())
    };
    if on_configured || listed() {
        Ok(Some(SealedText::seal(&state.bot.sealer, link)))
    } else {
        tracing::warn!(url = %crate::telemetry::printable(url.origin().ascii_serialization().as_str()), "refused an Action Hub download_url");
        Err("refused the download_url: it is not on a Looker this bot is configured for (add the Looker to LOOKERS, or its host to LOOKERBOT_HUB_DOWNLOAD_HOSTS)".into())
    }
}

pub(super) async fn execute(
    State(state): State<AppState>,
    token: HubToken,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (request, kept) = match execute_request(&state, token, &headers, body).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let delivery = match delivery_for(&state, &request, kept) {
        Ok(delivery) => delivery,
        Err(answer) => {
            forget(&state, kept).await;
            return *answer;
        }
    };
    let target = delivery.target.to_string();
    let id = match record(&state, &headers, &delivery, kept, "looker-action:").await {
        Ok(id) => id,
        Err(refused) => return refused,
    };
    match state.queue.settled(id, state.bot.hub.wait).await {
        Ok(Settled::Done | Settled::Gone) => outcome(true, Some(format!("Sent to {target}.")), json!({})),
        Ok(Settled::Failed(reason)) => outcome(false, Some(format!("Not sent to {target}: {reason}")), json!({})),
        Ok(Settled::Pending { last_error }) => {
            let (success, message) = super::still_sending(&state, &target, last_error);
            outcome(success, Some(message), json!({}))
        }
        Err(error) => {
            let (success, message) = super::still_sending(&state, &target, Some(error.to_string()));
            outcome(success, Some(message), json!({}))
        }
    }
}

/// The job for a request, or Looker's answer when there is nothing to record.
fn delivery_for(state: &AppState, request: &ActionRequest, kept: Option<Kept>) -> Result<HubDelivery, Box<Response>> {
    if let Err(reason) = request_type(request) {
        return Err(Box::new(bad_request(reason)));
    }
    let Some(target) = request.param("channel").and_then(Target::parse) else {
        return Err(Box::new(outcome(
            false,
            Some("Missing channel: choose a channel or a person in the action's form.".into()),
            json!({"channel": "Choose a channel or a person."}),
        )));
    };
    let download_url = match kept {
        Some(_) => None,
        None => checked_download(state, request).map_err(|reason| Box::new(outcome(false, Some(reason), json!({}))))?,
    };
    let comment = request.param("initial_comment").map(str::to_string);
    if kept.is_none() && download_url.is_none() && comment.is_none() {
        return Err(Box::new(outcome(
            false,
            Some("Looker sent no data and no comment: nothing to send.".into()),
            json!({}),
        )));
    }
    let content_type = request
        .content_type()
        .unwrap_or_else(|| "application/octet-stream".into());
    let file = kept.map(|kept| HubFile {
        file_id: kept.file_id,
        extension: request
            .extension
            .clone()
            .filter(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_alphanumeric()))
            .unwrap_or_else(|| extension_for(&content_type).to_string()),
        content_type: content_type.clone(),
    });
    Ok(HubDelivery {
        target,
        comment,
        filename: request.param("filename").map(str::to_string),
        title: request
            .plan
            .as_ref()
            .and_then(|p| p.title.clone())
            .filter(|t| !t.trim().is_empty()),
        format: request.param("format").map(str::to_string),
        file,
        download_url,
        received_at: now_millis(),
    })
}
