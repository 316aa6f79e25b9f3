//! What every integration's execute route does around its own checks: the token and the
//! declared size checked before a byte is read, the body read (its attachment kept), and the job
//! recorded once per Looker webhook id, the kept file let go when Looker sent it before or it
//! cannot be recorded.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::HubToken;
use super::body::ActionRequest;
use super::intake::{Kept, Refused, read};
use super::refusal;
use crate::http::AppState;
use crate::queue::{Job, Push};
use crate::store::Enqueued;

/// The request of a caller holding the hub's token, once its declared size is within
/// `LOOKERBOT_HUB_MAX_MB`.
pub(super) async fn execute_request(
    state: &AppState,
    _: HubToken,
    headers: &HeaderMap,
    body: Body,
) -> Result<(ActionRequest, Option<Kept>), Response> {
    let limit = state.bot.hub.max_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(refusal(Refused::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request is larger than LOOKERBOT_HUB_MAX_MB allows",
        )));
    }
    read(state, body, limit).await.map_err(refusal)
}

/// Lets go of a kept attachment no job will read.
pub(super) async fn forget(state: &AppState, kept: Option<Kept>) {
    if let Some(kept) = kept {
        let _ = state.queue.store().forget_file(kept.file_id).await;
    }
}

/// Records `job` (once per `X-Looker-Webhook-Id`, under `key_prefix`) and returns its id.
pub(super) async fn record<J: Job>(
    state: &AppState,
    headers: &HeaderMap,
    job: &J,
    kept: Option<Kept>,
    key_prefix: &str,
) -> Result<i64, Response> {
    let how = headers
        .get("x-looker-webhook-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty())
        .map(|id| Push::once(format!("{key_prefix}{id}")))
        .unwrap_or_default();
    match state.queue.push(job, how).await {
        Ok(Enqueued::Created(id)) => {
            let bytes = kept.map(|k| k.length).unwrap_or(0);
            tracing::info!(job = id, bytes, summary = %job.summary(), "Action Hub request queued");
            Ok(id)
        }
        Ok(Enqueued::Duplicate(id)) => {
            // Looker sent this one before: its first recording stands.
            forget(state, kept).await;
            Ok(id)
        }
        Err(error) => {
            tracing::error!(%error, kind = J::KIND, "could not record an Action Hub request");
            forget(state, kept).await;
            Err(refusal(Refused::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the bot could not record this request; try again shortly",
            )))
        }
    }
}
