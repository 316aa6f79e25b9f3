//! Notification repeats and threads on SQLite: one writer connection, so each step's
//! transaction never races another.

use async_trait::async_trait;
use sqlx::Row;

use super::SqliteStore;
use crate::store::notify::{NotifyStore, Repeat, RepeatRow, STALE_THREAD_START, ThreadTurn, turn};
use crate::store::{Millis, StoreError};

#[async_trait]
impl NotifyStore for SqliteStore {
    async fn repeat(&self, key: &str, job: i64, now: Millis, wait: Millis) -> Result<Repeat, StoreError> {
        let mut tx = self.writer.begin().await?;
        // The row exists before it is read (and, on PostgreSQL, locked), so two asking at once
        // decide one after the other.
        sqlx::query("INSERT INTO notify_repeats (key, until_at) VALUES (?1, 0) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(
            "SELECT posted_job, until_at, repeats, since, posted_repeats, posted_since FROM notify_repeats WHERE key = ?1",
        )
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        let current = row.map(|r| RepeatRow {
            posted_job: r.get("posted_job"),
            until: r.get("until_at"),
            repeats: r.get("repeats"),
            since: r.get("since"),
            posted_repeats: r.get("posted_repeats"),
            posted_since: r.get("posted_since"),
        });
        let (answer, write) = current.unwrap_or_default().decide(job, now, wait);
        if let Some(row) = write {
            sqlx::query(
                "UPDATE notify_repeats SET posted_job = ?2, until_at = ?3, repeats = ?4, since = ?5,
                     posted_repeats = ?6, posted_since = ?7
                 WHERE key = ?1",
            )
            .bind(key)
            .bind(row.posted_job)
            .bind(row.until)
            .bind(row.repeats)
            .bind(row.since)
            .bind(row.posted_repeats)
            .bind(row.posted_since)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(answer)
    }

    async fn thread_turn(&self, key: &str, job: i64, now: Millis) -> Result<ThreadTurn, StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO notify_threads (key, starter_job, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(job)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE notify_threads SET starter_job = ?2, created_at = ?3 WHERE key = ?1 AND ts IS NULL AND created_at < ?4",
        )
        .bind(key)
        .bind(job)
        .bind(now)
        .bind(now - STALE_THREAD_START)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query("SELECT starter_job, ts FROM notify_threads WHERE key = ?1")
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(turn(job, row.get("starter_job"), row.get("ts")))
    }

    async fn thread_started(&self, key: &str, job: i64, ts: &str, level: i16) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE notify_threads SET ts = ?3, max_level = MAX(max_level, ?4)
             WHERE key = ?1 AND starter_job = ?2 AND ts IS NULL",
        )
        .bind(key)
        .bind(job)
        .bind(ts)
        .bind(level)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn raise_level(&self, key: &str, level: i16) -> Result<bool, StoreError> {
        let raised = sqlx::query("UPDATE notify_threads SET max_level = ?2 WHERE key = ?1 AND max_level < ?2")
            .bind(key)
            .bind(level)
            .execute(&self.writer)
            .await?;
        Ok(raised.rows_affected() == 1)
    }
}
