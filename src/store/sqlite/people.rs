//! The audit, linked Looker accounts and sign-ins on SQLite.

use async_trait::async_trait;
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow as Row;

use super::SqliteStore;
use crate::store::people::{AuditEntry, AuditQuery, LinkRecord, PeopleStore, SignIn, people_rows, sql};
use crate::store::{Millis, StoreError};

people_rows!();

#[async_trait]
impl PeopleStore for SqliteStore {
    async fn record_audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(sql::RECORD_AUDIT)
            .bind(e.at)
            .bind(&e.team)
            .bind(&e.slack_user)
            .bind(&e.looker_user)
            .bind(&e.kind)
            .bind(&e.what)
            .bind(&e.channel)
            .bind(&e.audience)
            .bind(&e.outcome)
            .bind(&e.key)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn audit(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(sql::AUDIT)
            .bind(&q.slack_user)
            .bind(q.since.unwrap_or(0))
            .bind(i64::from(q.limit))
            .fetch_all(&self.reader)
            .await?;
        Ok(rows.iter().map(audit_entry).collect())
    }

    async fn prune_audit(&self, before: Millis) -> Result<u64, StoreError> {
        sqlx::query(sql::PRUNE_SIGN_INS)
            .bind(before.max(crate::store::now_millis() - 86_400_000))
            .execute(&self.writer)
            .await?;
        let done = sqlx::query(sql::PRUNE_AUDIT).bind(before).execute(&self.writer).await?;
        Ok(done.rows_affected())
    }

    async fn put_link(&self, l: &LinkRecord) -> Result<(), StoreError> {
        sqlx::query(sql::PUT_LINK)
            .bind(&l.looker)
            .bind(&l.team)
            .bind(&l.slack_user)
            .bind(&l.looker_user)
            .bind(&l.sealed)
            .bind(l.linked_at)
            .bind(l.updated_at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn link(&self, looker: &str, team: &str, slack_user: &str) -> Result<Option<LinkRecord>, StoreError> {
        let row = sqlx::query(sql::LINK)
            .bind(looker)
            .bind(team)
            .bind(slack_user)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.as_ref().map(link_record))
    }

    async fn swap_link(&self, l: &LinkRecord, previous: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(sql::SWAP_LINK)
            .bind(&l.looker)
            .bind(&l.team)
            .bind(&l.slack_user)
            .bind(&l.sealed)
            .bind(l.updated_at)
            .bind(previous)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn drop_links(
        &self,
        looker: Option<&str>,
        team: Option<&str>,
        slack_user: &str,
    ) -> Result<Vec<LinkRecord>, StoreError> {
        let rows = sqlx::query(sql::DROP_LINKS)
            .bind(slack_user)
            .bind(team)
            .bind(looker)
            .fetch_all(&self.writer)
            .await?;
        Ok(rows.iter().map(link_record).collect())
    }

    async fn put_sign_in(&self, state: &str, s: &SignIn) -> Result<(), StoreError> {
        sqlx::query(sql::PUT_SIGN_IN)
            .bind(state)
            .bind(&s.looker)
            .bind(&s.team)
            .bind(&s.slack_user)
            .bind(&s.sealed_verifier)
            .bind(&s.browser)
            .bind(s.created_at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn take_sign_in(&self, state: &str, browser: &str, not_before: Millis) -> Result<Option<SignIn>, StoreError> {
        let row = sqlx::query(sql::TAKE_SIGN_IN)
            .bind(state)
            .bind(browser)
            .fetch_optional(&self.writer)
            .await?;
        Ok(row.as_ref().map(sign_in).filter(|s| s.created_at >= not_before))
    }
}
