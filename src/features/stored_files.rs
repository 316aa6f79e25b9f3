//! Files kept in the job store (attachments Looker pushed, downloads fetched once), written and
//! read a chunk at a time: a stream is kept without holding it whole, and a large file goes to
//! Slack streamed from the store. Small files are simply read back whole.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, Stream, StreamExt};

use super::errors::Error;
use crate::clients::slack::{FileContent, FileSource};
use crate::queue::{Failure, JobError, JobRun};
use crate::store::{FILE_CHUNK, JobStore, now_millis};

/// A kept file, as Slack's upload reads it.
struct StoredFile {
    store: Arc<dyn JobStore>,
    id: i64,
    len: u64,
}

impl FileSource for StoredFile {
    fn size(&self) -> u64 {
        self.len
    }

    fn open(&self) -> BoxStream<'static, std::io::Result<Bytes>> {
        let store = self.store.clone();
        let id = self.id;
        stream::unfold(0u32, move |seq| {
            let store = store.clone();
            async move {
                match store.file_chunk(id, seq).await {
                    Ok(Some(chunk)) => Some((Ok(Bytes::from(chunk)), seq + 1)),
                    Ok(None) => None,
                    Err(error) => Some((Err(std::io::Error::other(error.to_string())), u32::MAX)),
                }
            }
        })
        .boxed()
    }
}

/// Forgets a job's files once the job is finished with them: delivered, failed for good, or out
/// of attempts (a gigabyte is not kept for a week for nothing).
pub async fn forget_when_finished(
    store: &Arc<dyn JobStore>,
    run: &JobRun,
    outcome: &Result<(), JobError>,
    files: impl IntoIterator<Item = i64>,
) -> Result<(), JobError> {
    let finished = match outcome {
        Ok(()) => true,
        // A job deferred to its turn runs again whatever its attempts: it still needs them.
        Err(error) => match error.failure {
            Failure::Permanent => true,
            Failure::Transient => run.is_last_attempt(),
            Failure::Deferred => false,
        },
    };
    if finished {
        for id in files {
            store.forget_file(id).await?;
        }
    }
    Ok(())
}

/// A kept file's content for an upload; `None` when it is no longer kept.
pub async fn content_of(store: &Arc<dyn JobStore>, id: i64) -> Result<Option<FileContent>, Error> {
    let Some(len) = store.file_length(id).await? else {
        return Ok(None);
    };
    if len as usize <= FILE_CHUNK {
        return Ok(store.get_file(id).await?.map(FileContent::Bytes));
    }
    Ok(Some(FileContent::Streamed(Arc::new(StoredFile {
        store: store.clone(),
        id,
        len,
    }))))
}

/// Why a stream could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum KeepError {
    #[error("larger than {0} bytes")]
    TooLarge(usize),
    #[error("{0}")]
    Broken(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<KeepError> for Error {
    fn from(error: KeepError) -> Self {
        match error {
            KeepError::Store(error) => Error::Store(error),
            other => JobError::permanent(other.to_string()).into(),
        }
    }
}

/// Keeps a stream of bytes as a file, in chunks, within `limit`; returns its id and size. A
/// stream cut off or over the limit leaves nothing behind. A stream that ends within its first
/// chunk is kept in one write (committed with others waiting); a longer one a chunk at a time.
pub async fn keep_stream<S, E>(store: &Arc<dyn JobStore>, stream: S, limit: usize) -> Result<(i64, u64), KeepError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: std::fmt::Display,
{
    let mut begun: Option<i64> = None;
    let kept = async {
        futures_util::pin_mut!(stream);
        let (mut buffer, mut seq, mut total) = (Vec::with_capacity(FILE_CHUNK), 0u32, 0usize);
        while let Some(piece) = stream.next().await {
            let piece = piece.map_err(|e| KeepError::Broken(e.to_string()))?;
            total += piece.len();
            if total > limit {
                return Err(KeepError::TooLarge(limit));
            }
            let mut rest = &piece[..];
            while !rest.is_empty() {
                let room = FILE_CHUNK - buffer.len();
                let (now, later) = rest.split_at(room.min(rest.len()));
                buffer.extend_from_slice(now);
                rest = later;
                if buffer.len() == FILE_CHUNK {
                    let id = match begun {
                        Some(id) => id,
                        None => *begun.insert(store.begin_file(now_millis()).await?),
                    };
                    store.append_chunk(id, seq, std::mem::take(&mut buffer)).await?;
                    buffer.reserve(FILE_CHUNK);
                    seq += 1;
                }
            }
        }
        let id = match begun {
            None => store.put_file(buffer, now_millis()).await?,
            Some(id) => {
                if !buffer.is_empty() {
                    store.append_chunk(id, seq, buffer).await?;
                }
                id
            }
        };
        Ok((id, total as u64))
    }
    .await;
    if kept.is_err()
        && let Some(id) = begun
    {
        let _ = store.forget_file(id).await;
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    /// Streams of sizes around the chunk boundary, in pieces that straddle it, come back whole.
    #[tokio::test]
    async fn streams_of_any_size_are_kept_as_sent() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("files.db").display());
        let store: Arc<dyn JobStore> = Arc::new(SqliteStore::connect(&url).await.unwrap());
        for size in [0, 1, FILE_CHUNK - 1, FILE_CHUNK, FILE_CHUNK + 1, 2 * FILE_CHUNK + 7] {
            let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let pieces: Vec<Result<Bytes, String>> = bytes
                .chunks(999_983)
                .map(|piece| Ok(Bytes::copy_from_slice(piece)))
                .collect();
            let (id, len) = keep_stream(&store, stream::iter(pieces), 3 * FILE_CHUNK).await.unwrap();
            assert_eq!(len, size as u64);
            assert_eq!(store.file_length(id).await.unwrap(), Some(size as u64));
            let mut kept = Vec::new();
            let mut seq = 0;
            while let Some(chunk) = store.file_chunk(id, seq).await.unwrap() {
                kept.extend_from_slice(&chunk);
                seq += 1;
            }
            assert!(kept == bytes, "size {size}");
        }
        let big: Vec<Result<Bytes, String>> = vec![Ok(Bytes::from(vec![1u8; FILE_CHUNK + 10]))];
        assert!(matches!(
            keep_stream(&store, stream::iter(big), FILE_CHUNK).await,
            Err(KeepError::TooLarge(_))
        ));
    }
}
