//! Reading a request body that was allowed in: within a size limit enforced while it streams
//! (never after buffering it), within a deadline (a client trickling bytes is cut off: for the
//! whole body, or, for bodies that may be a gigabyte, between pieces of it), and
//! kept in memory only while it is small: past [`IN_MEMORY`] it goes to a spool file, which is
//! parsed from disk and removed when the request is done.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use axum::body::{Body, Bytes};
use bytes::BytesMut;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

/// Bodies up to this size are read into memory; larger ones are spooled to disk.
pub const IN_MEMORY: usize = 1024 * 1024;

/// A body, read.
pub enum Received {
    Memory(Bytes),
    Spooled(tempfile::NamedTempFile),
}

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the body is larger than allowed")]
    TooLarge,
    #[error("the body did not arrive within {}s", .0.as_secs())]
    TooSlow(Duration),
    #[error("the body stalled: nothing arrived for {}s", .0.as_secs())]
    Stalled(Duration),
    #[error("the body was cut off: {0}")]
    Broken(String),
    #[error("the body could not be kept for reading: {0}")]
    Spool(std::io::Error),
}

/// How long a body may take.
#[derive(Debug, Clone, Copy)]
pub enum Deadline {
    /// The whole body within this.
    Whole(Duration),
    /// Each piece within this of the one before (a large upload, however long it takes).
    BetweenPieces(Duration),
}

/// Reads `body`, at most `limit` bytes, within `deadline`.
pub async fn receive(body: Body, limit: usize, deadline: Deadline, spool: &Path) -> Result<Received, BodyError> {
    let (whole, between) = match deadline {
        Deadline::Whole(whole) => (whole, None),
        Deadline::BetweenPieces(gap) => (Duration::MAX, Some(gap)),
    };
    let read = async {
        let mut stream = body.into_data_stream();
        let mut memory = BytesMut::new();
        let mut file: Option<tempfile::NamedTempFile> = None;
        let mut total = 0usize;
        loop {
            let next = match between {
                Some(gap) => tokio::time::timeout(gap, stream.next())
                    .await
                    .map_err(|_| BodyError::Stalled(gap))?,
                None => stream.next().await,
            };
            let Some(chunk) = next else { break };
            let chunk = chunk.map_err(|e| BodyError::Broken(e.to_string()))?;
            total += chunk.len();
            if total > limit {
                return Err(BodyError::TooLarge);
            }
            match &mut file {
                Some(file) => file.write_all(&chunk).map_err(BodyError::Spool)?,
                None if memory.len() + chunk.len() <= IN_MEMORY => memory.extend_from_slice(&chunk),
                None => {
                    std::fs::create_dir_all(spool).map_err(BodyError::Spool)?;
                    let mut spooled = tempfile::NamedTempFile::new_in(spool).map_err(BodyError::Spool)?;
                    spooled.write_all(&memory).map_err(BodyError::Spool)?;
                    spooled.write_all(&chunk).map_err(BodyError::Spool)?;
                    memory = BytesMut::new();
                    file = Some(spooled);
                }
            }
        }
        Ok(match file {
            Some(file) => Received::Spooled(file),
            None => Received::Memory(memory.freeze()),
        })
    };
    match between {
        Some(_) => read.await,
        None => tokio::time::timeout(whole, read)
            .await
            .map_err(|_| BodyError::TooSlow(whole))?,
    }
}

impl Received {
    /// Whether the body was large enough to wait on disk.
    pub fn is_spooled(&self) -> bool {
        matches!(self, Received::Spooled(_))
    }

    /// Parses the JSON body: from memory, or from its spool file off the async threads.
    pub async fn json<T: DeserializeOwned + Send + 'static>(self) -> Result<T, serde_json::Error> {
        match self {
            Received::Memory(bytes) => serde_json::from_slice(&bytes),
            Received::Spooled(mut file) => tokio::task::spawn_blocking(move || {
                use std::io::Seek;
                file.as_file_mut().rewind().map_err(serde_json::Error::io)?;
                serde_json::from_reader(std::io::BufReader::new(file.as_file()))
            })
            .await
            .unwrap_or_else(|e| Err(serde_json::Error::io(std::io::Error::other(e)))),
        }
    }
}
