//! Looker's one-time `download_url`s (a schedule or an Action Hub request that streams instead of
//! pushing): fetched only from the system that sent them (a configured Looker's web or API
//! address, or for the Action Hub the address the plan itself names), without following
//! redirects, streamed into the job store within a size limit, and fetched once: the link works
//! once, so the bytes are kept for the rest of the job and a retry never needs it again.

use futures_util::StreamExt;

use super::Context;
use super::errors::Error;
use super::ledger::{KeptFile, Ledger};
use super::stored_files::keep_stream;
use crate::clients::looker::LookerClient;
use crate::queue::JobError;

/// The name a fetched download is kept under for the rest of the job.
const DOWNLOAD: &str = "download";

/// The scheme, host and port of an address.
fn origin(url: &url::Url) -> (String, Option<String>, Option<u16>) {
    (
        url.scheme().to_string(),
        url.host_str().map(str::to_ascii_lowercase),
        url.port_or_known_default(),
    )
}

/// Whether `url` is on this Looker (its web or API address).
pub fn on_looker(looker: &LookerClient, url: &url::Url) -> bool {
    let settings = looker.settings();
    origin(url) == origin(&settings.url) || origin(url) == origin(&settings.api_base_url)
}

/// A sealed value of a job's payload, opened; a permanent failure when no key opens it (the key it
/// was sealed with left the keyring).
pub fn unsealed(ctx: &Context, sealed: &crate::sealing::SealedText, what: &str) -> Result<String, JobError> {
    sealed.open(&ctx.sealer).ok_or_else(|| {
        JobError::permanent(format!(
            "the {what} does not open with LOOKERBOT_TOKEN_KEYS (its key was removed); send it again from Looker"
        ))
    })
}

/// Fetches the link once (or finds the bytes an earlier attempt kept); the link must already be
/// known to come from its sender.
pub async fn fetch_once(ctx: &Context, ledger: &Ledger<'_>, url: url::Url, limit: usize) -> Result<KeptFile, Error> {
    if let Some(kept) = ledger.kept_file(DOWNLOAD) {
        return Ok(kept);
    }
    let response = ctx
        .downloads
        .get(url)
        .send()
        .await
        // The link itself is a secret for its hour: never in a message.
        .map_err(|e| JobError::transient(format!("could not fetch Looker's download link: {}", e.without_url())))?;
    let status = response.status();
    if status.as_u16() != 200 {
        let message = format!("Looker's download link answered {status} (links work once, for an hour)");
        return Err(if status.is_server_error() {
            JobError::transient(message)
        } else {
            JobError::permanent(message)
        }
        .into());
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let store = ctx.queue.store();
    let pieces = response
        .bytes_stream()
        .map(|piece| piece.map_err(reqwest::Error::without_url));
    let (id, _) = keep_stream(store, pieces.boxed(), limit)
        .await
        .map_err(|error| match error {
            super::stored_files::KeepError::Broken(why) => {
                Error::from(JobError::transient(format!("Looker's download was cut off: {why}")))
            }
            super::stored_files::KeepError::TooLarge(limit) => Error::from(JobError::permanent(format!(
                "Looker's download is larger than {} MiB",
                limit / 1024 / 1024
            ))),
            other => other.into(),
        })?;
    let kept = KeptFile { id, content_type };
    ledger.remember_file(DOWNLOAD, kept.clone()).await?;
    Ok(kept)
}
