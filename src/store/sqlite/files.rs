//! Files kept for jobs, in chunks of [`FILE_CHUNK`]: written and read a chunk at a time, so a
//! file never has to fit in memory, and data actions kept behind buttons.

use sqlx::sqlite::SqlitePool;
use sqlx::{Row, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use super::SqliteStore;
use crate::store::batch::answer_all;
use crate::store::{DataActionRecord, FILE_CHUNK, Millis, StoreError};

impl SqliteStore {
    /// Keeps a whole file through the group-commit writer: every file waiting at a moment is
    /// written in one transaction (many Action Hub sends, one fsync).
    pub(super) async fn put_whole_file(&self, bytes: Vec<u8>, now: Millis) -> Result<i64, StoreError> {
        let (reply, answer) = oneshot::channel();
        let closed = || StoreError::new("the database writer has stopped");
        self.files.send((bytes, now, reply)).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    pub(super) async fn whole_file(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(length) = self.length_of(id).await? else {
            return Ok(None);
        };
        let mut bytes = Vec::with_capacity(length as usize);
        let mut seq = 0;
        while let Some(chunk) = self.chunk_of(id, seq).await? {
            bytes.extend_from_slice(&chunk);
            seq += 1;
        }
        Ok(Some(bytes))
    }

    pub(super) async fn new_file(&self, now: Millis) -> Result<i64, StoreError> {
        let id = sqlx::query_scalar("INSERT INTO job_files (bytes, created_at) VALUES (x'', ?1) RETURNING id")
            .bind(now)
            .fetch_one(&self.writer)
            .await?;
        Ok(id)
    }

    pub(super) async fn add_chunk(&self, id: i64, seq: u32, bytes: Vec<u8>) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO job_file_chunks (file_id, seq, bytes) VALUES (?1, ?2, ?3)")
            .bind(id)
            .bind(seq as i64)
            .bind(bytes)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub(super) async fn chunk_of(&self, id: i64, seq: u32) -> Result<Option<Vec<u8>>, StoreError> {
        let bytes = sqlx::query_scalar("SELECT bytes FROM job_file_chunks WHERE file_id = ?1 AND seq = ?2")
            .bind(id)
            .bind(seq as i64)
            .fetch_optional(&self.reader)
            .await?;
        Ok(bytes)
    }

    pub(super) async fn length_of(&self, id: i64) -> Result<Option<u64>, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COALESCE(SUM(length(bytes)), 0) FROM job_file_chunks WHERE file_id = f.id) AS length
             FROM job_files f WHERE f.id = ?1",
        )
        .bind(id)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(|row| row.get::<i64, _>("length") as u64))
    }

    pub(super) async fn remove_file(&self, id: i64) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM job_file_chunks WHERE file_id = ?1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM job_files WHERE id = ?1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Files kept since before `before`, and their chunks; data actions expired before it.
    /// Forgets finished and dead jobs, paces, files and data actions older than `before`.
    pub(super) async fn prune_before(&self, before: Millis) -> Result<u64, StoreError> {
        let finished = sqlx::query("DELETE FROM jobs WHERE state IN ('done', 'dead') AND updated_at < ?1")
            .bind(before)
            .execute(&self.writer)
            .await?;
        sqlx::query("DELETE FROM paces WHERE tat < ?1")
            .bind(before)
            .execute(&self.writer)
            .await?;
        self.prune_files(before).await?;
        Ok(finished.rows_affected())
    }

    async fn prune_files(&self, before: Millis) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM job_file_chunks WHERE file_id IN (SELECT id FROM job_files WHERE created_at < ?1)")
            .bind(before)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM job_files WHERE created_at < ?1")
            .bind(before)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM data_actions WHERE expires_at < ?1")
            .bind(before)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn insert_data_actions(&self, actions: Vec<DataActionRecord>) -> Result<(), StoreError> {
        if actions.is_empty() {
            return Ok(());
        }
        let mut tx = self.writer.begin().await?;
        for action in actions {
            sqlx::query(
                "INSERT OR IGNORE INTO data_actions (id, looker, action, form, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(action.id)
            .bind(action.looker)
            .bind(action.action)
            .bind(action.form)
            .bind(action.created_at)
            .bind(action.expires_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn find_data_action(&self, id: &str) -> Result<Option<DataActionRecord>, StoreError> {
        let row =
            sqlx::query("SELECT id, looker, action, form, created_at, expires_at FROM data_actions WHERE id = ?1")
                .bind(id)
                .fetch_optional(&self.reader)
                .await?;
        Ok(row.map(|row| DataActionRecord {
            id: row.get("id"),
            looker: row.get("looker"),
            action: row.get("action"),
            form: row.get("form"),
            created_at: row.get("created_at"),
            expires_at: row.get("expires_at"),
        }))
    }
}

/// A whole file to keep, and where to send its id.
pub(super) type FileRequest = crate::store::batch::Waiting<Vec<u8>, i64>;

/// The most files committed in one transaction (each is already in its sender's memory).
pub(super) const MAX_FILES: usize = 32;

/// Group commit for whole files, like enqueues: one transaction, one fsync, for every file
/// waiting; a batch that fails is not kept at all and every sender is told.
pub(super) async fn commit_files(writer: SqlitePool, mut queue: mpsc::Receiver<FileRequest>) {
    let mut batch = Vec::with_capacity(MAX_FILES);
    while queue.recv_many(&mut batch, MAX_FILES).await > 0 {
        let outcome = async {
            let mut tx = writer.begin().await?;
            let mut ids = Vec::with_capacity(batch.len());
            for (bytes, now, _) in &batch {
                ids.push(insert_file(&mut tx, bytes, *now).await?);
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(ids)
        }
        .await;
        answer_all(&mut batch, outcome);
    }
}

async fn insert_file(conn: &mut SqliteConnection, bytes: &[u8], now: Millis) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query_scalar("INSERT INTO job_files (bytes, created_at) VALUES (x'', ?1) RETURNING id")
        .bind(now)
        .fetch_one(&mut *conn)
        .await?;
    for (seq, chunk) in bytes.chunks(FILE_CHUNK).enumerate() {
        sqlx::query("INSERT INTO job_file_chunks (file_id, seq, bytes) VALUES (?1, ?2, ?3)")
            .bind(id)
            .bind(seq as i64)
            .bind(chunk)
            .execute(&mut *conn)
            .await?;
    }
    Ok(id)
}
