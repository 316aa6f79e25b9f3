//! Files in chunks and data actions on PostgreSQL (`BYTEA` chunks of [`FILE_CHUNK`]).

use sqlx::Row;

use super::PostgresStore;
use crate::store::{DataActionRecord, FILE_CHUNK, Millis, StoreError};

impl PostgresStore {
    pub(super) async fn put_whole_file(&self, bytes: Vec<u8>, now: Millis) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar("INSERT INTO job_files (created_at) VALUES ($1) RETURNING id")
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        for (seq, chunk) in bytes.chunks(FILE_CHUNK).enumerate() {
            sqlx::query("INSERT INTO job_file_chunks (file_id, seq, bytes) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(seq as i32)
                .bind(chunk)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    pub(super) async fn whole_file(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        if self.length_of(id).await?.is_none() {
            return Ok(None);
        }
        let chunks: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT bytes FROM job_file_chunks WHERE file_id = $1 ORDER BY seq")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        Ok(Some(chunks.concat()))
    }

    pub(super) async fn new_file(&self, now: Millis) -> Result<i64, StoreError> {
        let id = sqlx::query_scalar("INSERT INTO job_files (created_at) VALUES ($1) RETURNING id")
            .bind(now)
            .fetch_one(&self.pool)
            .await?;
        Ok(id)
    }

    pub(super) async fn add_chunk(&self, id: i64, seq: u32, bytes: Vec<u8>) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO job_file_chunks (file_id, seq, bytes) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(seq as i32)
            .bind(bytes)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn chunk_of(&self, id: i64, seq: u32) -> Result<Option<Vec<u8>>, StoreError> {
        let bytes = sqlx::query_scalar("SELECT bytes FROM job_file_chunks WHERE file_id = $1 AND seq = $2")
            .bind(id)
            .bind(seq as i32)
            .fetch_optional(&self.pool)
            .await?;
        Ok(bytes)
    }

    pub(super) async fn length_of(&self, id: i64) -> Result<Option<u64>, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COALESCE(SUM(octet_length(bytes)), 0) FROM job_file_chunks WHERE file_id = f.id)::BIGINT AS length
             FROM job_files f WHERE f.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| row.get::<i64, _>("length") as u64))
    }

    pub(super) async fn insert_data_actions(&self, actions: Vec<DataActionRecord>) -> Result<(), StoreError> {
        if actions.is_empty() {
            return Ok(());
        }
        let mut insert = sqlx::QueryBuilder::<sqlx::Postgres>::new(
            "INSERT INTO data_actions (id, looker, action, form, created_at, expires_at) ",
        );
        insert.push_values(&actions, |mut row, action| {
            row.push_bind(&action.id)
                .push_bind(&action.looker)
                .push_bind(&action.action)
                .push_bind(&action.form)
                .push_bind(action.created_at)
                .push_bind(action.expires_at);
        });
        insert.push(" ON CONFLICT (id) DO NOTHING");
        insert.build().execute(&self.pool).await?;
        Ok(())
    }

    pub(super) async fn find_data_action(&self, id: &str) -> Result<Option<DataActionRecord>, StoreError> {
        let row =
            sqlx::query("SELECT id, looker, action, form, created_at, expires_at FROM data_actions WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
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
