//! Reading an Action API request: the body within its limit and deadline (spooled to disk past a
//! megabyte), parsed as a stream off the async threads, its attachment handed block by block to
//! the job store as it is read. Memory stays a few blocks deep whatever the attachment's size.

use std::sync::Arc;

use axum::body::Body;
use axum::http::StatusCode;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream;

use super::body::{ActionRequest, BodyProblem, read_request};
use crate::features::stored_files::{KeepError, keep_stream};
use crate::http::AppState;
use crate::http::request_body::{BodyError, Deadline, Received, receive};
use crate::store::JobStore;

/// A request refused before anything was recorded.
#[derive(Debug)]
pub struct Refused {
    pub status: StatusCode,
    pub reason: String,
}

impl Refused {
    pub fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: reason.into(),
        }
    }
}

/// The attachment's bytes, kept in the job store.
#[derive(Debug, Clone, Copy)]
pub struct Kept {
    pub file_id: i64,
    /// Its size in bytes, decoded.
    pub length: u64,
}

/// Blocks in flight between the parser and the store.
const IN_FLIGHT: usize = 4;

fn unavailable(error: impl std::fmt::Display) -> Refused {
    tracing::error!(%error, "could not keep an Action Hub request's data");
    Refused::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "the bot could not record this request; try again shortly",
    )
}

/// Reads the body; its attachment (if any) is kept, decoded, in the job store.
pub async fn read(state: &AppState, body: Body, limit: usize) -> Result<(ActionRequest, Option<Kept>), Refused> {
    let server = &state.settings.server;
    // A gigabyte takes as long as it takes; a request that stops sending is cut off.
    let received = receive(
        body,
        limit,
        Deadline::BetweenPieces(server.body_timeout),
        &server.spool_dir,
    )
    .await
    .map_err(|error| match error {
        BodyError::TooLarge => Refused::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request is larger than LOOKERBOT_HUB_MAX_MB allows",
        ),
        error @ (BodyError::TooSlow(_) | BodyError::Stalled(_)) => {
            Refused::new(StatusCode::REQUEST_TIMEOUT, error.to_string())
        }
        error @ BodyError::Broken(_) => Refused::new(StatusCode::BAD_REQUEST, error.to_string()),
        error @ BodyError::Spool(_) => unavailable(error),
    })?;
    let store = state.queue.store().clone();
    let (blocks, mut incoming) = tokio::sync::mpsc::channel::<Vec<u8>>(IN_FLIGHT);
    let parse = tokio::task::spawn_blocking(move || {
        let mut sink = |block: Vec<u8>| {
            blocks
                .blocking_send(block)
                .map_err(|_| "the store stopped taking data".to_string())
        };
        match received {
            Received::Memory(bytes) => read_request(&bytes[..], &mut sink),
            Received::Spooled(file) => {
                let file = file
                    .reopen()
                    .map_err(|e| BodyProblem::Sink(format!("the spooled body: {e}")))?;
                read_request(file, &mut sink)
            }
        }
    });
    // The first block decides whether there is anything to keep.
    let kept = match incoming.recv().await {
        None => None,
        Some(first) => {
            let rest = stream::unfold(incoming, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) });
            let blocks = stream::once(async move { first })
                .chain(rest)
                .map(|b| Ok::<_, std::io::Error>(Bytes::from(b)));
            Some(keep_stream(&store, blocks, usize::MAX).await)
        }
    };
    let parsed = parse.await.map_err(unavailable)?;
    let kept = match kept.transpose() {
        Ok(kept) => kept,
        Err(error) => return Err(unavailable(error)),
    };
    let request = match parsed {
        Ok(request) => request,
        Err(problem) => {
            if let Some((id, _)) = kept {
                let _ = store.forget_file(id).await;
            }
            return Err(match problem {
                BodyProblem::Sink(error) => unavailable(error),
                other => Refused::new(StatusCode::BAD_REQUEST, other.to_string()),
            });
        }
    };
    let Some((id, length)) = kept else {
        return Ok((request, None));
    };
    if request.is_base64() && !request.decoded {
        // The mimetype came after the data: decode what was kept as it was sent.
        let decoded = decode_kept(&store, id).await;
        let _ = store.forget_file(id).await;
        return match decoded {
            Ok((file_id, length)) => Ok((request, Some(Kept { file_id, length }))),
            Err(DecodeFailure::NotBase64) => Err(Refused::new(
                StatusCode::BAD_REQUEST,
                BodyProblem::NotBase64.to_string(),
            )),
            Err(DecodeFailure::Store(error)) => Err(unavailable(error)),
        };
    }
    Ok((request, Some(Kept { file_id: id, length })))
}

/// Why a kept file could not be decoded.
enum DecodeFailure {
    NotBase64,
    Store(String),
}

/// Decodes a kept file of base64 text in lines into a new kept file, a chunk at a time.
async fn decode_kept(store: &Arc<dyn JobStore>, id: i64) -> Result<(i64, u64), DecodeFailure> {
    use base64::Engine;
    let store_failed = std::sync::Mutex::new(None::<String>);
    let chunks = stream::unfold((0u32, Vec::<u8>::new(), false), |(seq, mut carry, done)| {
        let store = store.clone();
        let store_failed = &store_failed;
        async move {
            if done {
                return None;
            }
            let chunk = match store.file_chunk(id, seq).await {
                Ok(chunk) => chunk,
                Err(error) => {
                    *store_failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(error.to_string());
                    return Some((Err("the store failed".to_string()), (seq, carry, true)));
                }
            };
            let last = chunk.is_none();
            carry.extend(
                chunk
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|b| !b.is_ascii_whitespace()),
            );
            let whole = if last { carry.len() } else { carry.len() / 4 * 4 };
            let rest = carry.split_off(whole);
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(&carry)
                .map(Bytes::from)
                .map_err(|e| e.to_string());
            Some((decoded, (seq + 1, rest, last)))
        }
    });
    let kept = keep_stream(store, chunks, usize::MAX).await;
    match (kept, store_failed.into_inner().unwrap_or_else(|p| p.into_inner())) {
        (Ok(kept), _) => Ok(kept),
        (Err(_), Some(error)) => Err(DecodeFailure::Store(error)),
        (Err(KeepError::Store(error)), None) => Err(DecodeFailure::Store(error.to_string())),
        (Err(_), None) => Err(DecodeFailure::NotBase64),
    }
}
