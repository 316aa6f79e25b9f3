//! `POST /actions/braze/form` and `/actions/braze/execute`: the `braze` integration. Looker sends
//! a query's `json_detail` (pushed, or as a `download_url` on the Looker that sent it) with the
//! integration's settings (`braze_api_key`, `braze_api_endpoint`) and the form's choices; the
//! export is recorded as a durable job, and Looker is answered with its counts when it finishes
//! within `LOOKERBOT_HUB_WAIT_SECS` (else it goes on, visible in `lookerbot jobs`).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::HubToken;
use super::body::ActionRequest;
use super::execute::{checked_download, request_type};
use super::intake::Kept;
use super::record::{execute_request, forget, record};
use super::{outcome, refusal, small_request};
use crate::clients::braze::endpoint;
use crate::features::action_hub::{HubFile, braze_form};
use crate::features::braze::{BrazeExport, Progress};
use crate::features::ledger::Ledger;
use crate::http::AppState;
use crate::queue::Settled;

/// The integration's settings, checked as Looker's hub checks them before a form or an export.
fn setting<'a>(request: &'a ActionRequest, name: &str, label: &str) -> Result<&'a str, String> {
    request
        .data
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("Required setting \"{label}\" not specified in action settings."))
}

pub(super) async fn form(State(state): State<AppState>, _: HubToken, body: Body) -> Response {
    let request = match small_request(&state, body).await {
        Ok(request) => request,
        Err(refused) => return refusal(refused),
    };
    for (name, label) in [
        ("braze_api_key", "Braze API Key"),
        ("braze_api_endpoint", "Braze REST API Endpoint"),
    ] {
        if let Err(error) = setting(&request, name, label) {
            return Json(json!({ "error": error })).into_response();
        }
    }
    Json(braze_form()).into_response()
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
    let export = match export_for(&state, &request, kept) {
        Ok(export) => export,
        Err(reason) => {
            forget(&state, kept).await;
            return outcome(false, Some(reason), json!({}));
        }
    };
    let id = match record(&state, &headers, &export, kept, "looker-action:braze:").await {
        Ok(id) => id,
        Err(refused) => return refused,
    };
    match state.queue.settled(id, state.bot.hub.wait).await {
        Ok(Settled::Done) => {
            let detail = state.queue.store().job_detail(id).await.ok().flatten();
            let progress: Option<Progress> = detail.and_then(|d| d.progress).and_then(|p| Ledger::more_of(&p));
            match progress {
                Some(progress) => outcome(progress.failed == 0, Some(progress.summary()), json!({})),
                None => outcome(true, Some("Sent to Braze.".into()), json!({})),
            }
        }
        Ok(Settled::Gone) => outcome(true, Some("Sent to Braze.".into()), json!({})),
        Ok(Settled::Failed(reason)) => outcome(false, Some(format!("Not sent to Braze: {reason}")), json!({})),
        Ok(Settled::Pending { last_error }) => {
            let (success, message) = super::still_sending(&state, "Braze", last_error);
            outcome(success, Some(message), json!({}))
        }
        Err(error) => {
            let (success, message) = super::still_sending(&state, "Braze", Some(error.to_string()));
            outcome(success, Some(message), json!({}))
        }
    }
}

/// The job for a request, or the sentence Looker shows when there is nothing to record.
fn export_for(state: &AppState, request: &ActionRequest, kept: Option<Kept>) -> Result<BrazeExport, String> {
    match request_type(request) {
        Ok("query") => {}
        Ok(other) => return Err(format!("Braze takes query results, not a {other}.")),
        Err(reason) => return Err(reason),
    }
    let api_key = setting(request, "braze_api_key", "Braze API Key")?;
    let raw_endpoint = setting(request, "braze_api_endpoint", "Braze REST API Endpoint")?;
    let endpoint = endpoint(raw_endpoint, &state.bot.hub.braze_endpoints)?;
    let key = match request
        .form_params
        .get("braze_key")
        .and_then(Value::as_str)
        .map(str::trim)
    {
        None | Some("") | Some("external_id") => "external_id",
        Some("braze_id") => "braze_id",
        Some(_) => return Err("Unique Key must be external_id or braze_id.".into()),
    };
    let label = request
        .form_params
        .get("braze_segment")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .unwrap_or("LOOKER_EXPORT");
    let download_url = match kept {
        Some(_) => None,
        None => checked_download(state, request)?,
    };
    if kept.is_none() && download_url.is_none() {
        return Err("Looker sent no data: send the query's results (json_detail) to Braze.".into());
    }
    Ok(BrazeExport {
        endpoint: endpoint.to_string(),
        api_key: crate::sealing::SealedText::seal(&state.bot.sealer, api_key),
        key: key.to_string(),
        label: label.chars().take(255).collect(),
        title: request
            .plan
            .as_ref()
            .and_then(|p| p.title.clone())
            .filter(|t| !t.trim().is_empty()),
        file: kept.map(|kept| HubFile {
            file_id: kept.file_id,
            content_type: "application/json".into(),
            extension: "json".into(),
        }),
        download_url,
    })
}
