//! What the bot keeps about the people who use it: the audit of their questions and data
//! actions, the Looker accounts they linked through Looker's OAuth (tokens kept sealed: the
//! store only ever sees ciphertext), and the sign-ins under way (single use, short-lived).

use async_trait::async_trait;

use super::{Millis, StoreError};

/// One question or data action, as the audit keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: Millis,
    pub team: String,
    pub slack_user: String,
    /// As whom it ran on Looker (`looker.example.com: user 42 (ann@…)`), when Looker was asked.
    pub looker_user: Option<String>,
    /// `command`, `mention`, `dm`, `share`, `preview`, `data_action`.
    pub kind: String,
    /// What ran: `look 42`, `dashboard 7`, `query aB3x`, an action's label.
    pub what: String,
    pub channel: String,
    /// Who could read the answer: `public`, `private`, `links`, `dm`.
    pub audience: String,
    /// `answered`, or the sentence the person was told.
    pub outcome: String,
    /// One entry per key (a job run again after a crash records nothing more).
    pub key: Option<String>,
}

/// Which audit entries to read.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub slack_user: Option<String>,
    pub since: Option<Millis>,
    pub limit: u32,
}

/// A person's linked Looker account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecord {
    /// The Looker's host.
    pub looker: String,
    pub team: String,
    pub slack_user: String,
    pub looker_user: String,
    /// The tokens, sealed by the key of the settings.
    pub sealed: String,
    pub linked_at: Millis,
    pub updated_at: Millis,
}

/// A sign-in under way: what its `state` stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub looker: String,
    pub team: String,
    pub slack_user: String,
    /// The PKCE verifier, sealed.
    pub sealed_verifier: String,
    /// The browser it was started in must finish it (a cookie holds this, hashed here).
    pub browser: String,
    pub created_at: Millis,
}

#[async_trait]
pub trait PeopleStore: Send + Sync {
    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// Entries matching `query`, newest first.
    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError>;

    /// Forgets entries older than `before`; how many.
    async fn prune_audit(&self, before: Millis) -> Result<u64, StoreError>;

    /// Keeps (or replaces) a person's link.
    async fn put_link(&self, link: &LinkRecord) -> Result<(), StoreError>;

    async fn link(&self, looker: &str, team: &str, slack_user: &str) -> Result<Option<LinkRecord>, StoreError>;
    /// The people who linked this Looker user on `looker` (a schedule runs as its owner's link).
    async fn links_of_looker_user(&self, looker: &str, looker_user: &str) -> Result<Vec<LinkRecord>, StoreError>;

    /// Replaces a link's tokens only if they are still `previous` (two replicas refreshing at
    /// once: one wins, the other reads the winner's); `false` when they were not.
    async fn swap_link(&self, link: &LinkRecord, previous: &str) -> Result<bool, StoreError>;

    /// Forgets a Slack user's links (on every Looker when `looker` is `None`, in any workspace
    /// when `team` is); the links forgotten.
    async fn drop_links(
        &self,
        looker: Option<&str>,
        team: Option<&str>,
        slack_user: &str,
    ) -> Result<Vec<LinkRecord>, StoreError>;

    /// Forgets a link only if its tokens are still `sealed` (what the caller read); `false` when
    /// someone renewed or replaced it since.
    async fn drop_link_if(&self, link: &LinkRecord) -> Result<bool, StoreError>;

    async fn put_sign_in(&self, state: &str, sign_in: &SignIn) -> Result<(), StoreError>;

    /// Takes a sign-in for good (a state works once) if it was started in the browser whose
    /// cookie hashes to `browser` after `not_before`; from another browser it is left as it is.
    async fn take_sign_in(&self, state: &str, browser: &str, not_before: Millis) -> Result<Option<SignIn>, StoreError>;
    /// Marks a connect link used; `false` when it was used before (each opens one sign-in).
    async fn spend_ticket(&self, ticket: &str, now: Millis) -> Result<bool, StoreError>;
}

/// The statements both backends run, in SQLite's placeholders (`?1`); PostgreSQL's (`$1`) are
/// made from them by [`postgres_placeholders`].
pub(super) mod sql {
    pub const RECORD_AUDIT: &str =
        "INSERT INTO audit (at, team, slack_user, looker_user, kind, what, channel, audience, outcome, entry_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (entry_key) DO NOTHING";
    pub const AUDIT: &str =
        "SELECT at, team, slack_user, looker_user, kind, what, channel, audience, outcome, entry_key FROM audit
         WHERE (?1 IS NULL OR slack_user = ?1) AND at >= ?2 ORDER BY at DESC, id DESC LIMIT ?3";
    pub const PRUNE_AUDIT: &str = "DELETE FROM audit WHERE at < ?1";
    pub const PUT_LINK: &str =
        "INSERT INTO looker_links (looker, team, slack_user, looker_user, sealed, linked_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (looker, team, slack_user) DO UPDATE SET looker_user = excluded.looker_user,
             sealed = excluded.sealed, linked_at = excluded.linked_at, updated_at = excluded.updated_at";
    pub const LINK: &str =
        "SELECT looker, team, slack_user, looker_user, sealed, linked_at, updated_at FROM looker_links
         WHERE looker = ?1 AND team = ?2 AND slack_user = ?3";
    pub const LINKS_OF_LOOKER_USER: &str =
        "SELECT looker, team, slack_user, looker_user, sealed, linked_at, updated_at FROM looker_links
         WHERE looker = ?1 AND looker_user = ?2 ORDER BY updated_at DESC";
    pub const SWAP_LINK: &str = "UPDATE looker_links SET sealed = ?4, updated_at = ?5
         WHERE looker = ?1 AND team = ?2 AND slack_user = ?3 AND sealed = ?6";
    pub const DROP_LINKS: &str =
        "DELETE FROM looker_links WHERE slack_user = ?1 AND (?2 IS NULL OR team = ?2) AND (?3 IS NULL OR looker = ?3)
         RETURNING looker, team, slack_user, looker_user, sealed, linked_at, updated_at";
    pub const DROP_LINK_IF: &str =
        "DELETE FROM looker_links WHERE looker = ?1 AND team = ?2 AND slack_user = ?3 AND sealed = ?4";
    pub const PUT_SIGN_IN: &str =
        "INSERT INTO sign_ins (state, looker, team, slack_user, sealed_verifier, browser, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    pub const TAKE_SIGN_IN: &str = "DELETE FROM sign_ins WHERE state = ?1 AND browser = ?2
         RETURNING looker, team, slack_user, sealed_verifier, browser, created_at";
    /// Sign-ins never finished are forgotten after a day.
    pub const PRUNE_SIGN_INS: &str = "DELETE FROM sign_ins WHERE created_at < ?1";
    pub const SPEND_TICKET: &str =
        "INSERT INTO spent_tickets (ticket, spent_at) VALUES (?1, ?2) ON CONFLICT (ticket) DO NOTHING";
    pub const PRUNE_TICKETS: &str = "DELETE FROM spent_tickets WHERE spent_at < ?1";
}

/// `?1` becomes `$1`.
pub(super) fn postgres_placeholders(sql: &str) -> String {
    sql.replace('?', "$")
}

/// SQLite's statements as written.
pub(super) fn sqlite_placeholders(sql: &str) -> &str {
    sql
}

/// Reads rows of either backend into the records above.
macro_rules! people_rows {
    () => {
        fn audit_entry(r: &Row) -> AuditEntry {
            AuditEntry {
                at: r.get("at"),
                team: r.get("team"),
                slack_user: r.get("slack_user"),
                looker_user: r.get("looker_user"),
                kind: r.get("kind"),
                what: r.get("what"),
                channel: r.get("channel"),
                audience: r.get("audience"),
                outcome: r.get("outcome"),
                key: r.get("entry_key"),
            }
        }

        fn link_record(r: &Row) -> LinkRecord {
            LinkRecord {
                looker: r.get("looker"),
                team: r.get("team"),
                slack_user: r.get("slack_user"),
                looker_user: r.get("looker_user"),
                sealed: r.get("sealed"),
                linked_at: r.get("linked_at"),
                updated_at: r.get("updated_at"),
            }
        }

        fn sign_in(r: &Row) -> SignIn {
            SignIn {
                looker: r.get("looker"),
                team: r.get("team"),
                slack_user: r.get("slack_user"),
                sealed_verifier: r.get("sealed_verifier"),
                browser: r.get("browser"),
                created_at: r.get("created_at"),
            }
        }
    };
}
pub(super) use people_rows;

/// The one implementation of [`PeopleStore`] both backends share: the statements above, bound
/// alike; `$sql` turns a statement into the backend's placeholders.
macro_rules! people_store {
    ($store:ty, $write:ident, $read:ident, $sql:path) => {
        #[async_trait]
        impl PeopleStore for $store {
            async fn record_audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
                sqlx::query(&$sql(sql::RECORD_AUDIT))
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
                    .execute(&self.$write)
                    .await?;
                Ok(())
            }

            async fn audit(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
                let rows = sqlx::query(&$sql(sql::AUDIT))
                    .bind(&q.slack_user)
                    .bind(q.since.unwrap_or(0))
                    .bind(i64::from(q.limit))
                    .fetch_all(&self.$read)
                    .await?;
                Ok(rows.iter().map(audit_entry).collect())
            }

            async fn prune_audit(&self, before: Millis) -> Result<u64, StoreError> {
                let day_ago = before.max($crate::store::now_millis() - 86_400_000);
                for prune in [sql::PRUNE_SIGN_INS, sql::PRUNE_TICKETS] {
                    sqlx::query(&$sql(prune))
                        .bind(day_ago)
                        .execute(&self.$write)
                        .await?;
                }
                let done = sqlx::query(&$sql(sql::PRUNE_AUDIT))
                    .bind(before)
                    .execute(&self.$write)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn put_link(&self, l: &LinkRecord) -> Result<(), StoreError> {
                sqlx::query(&$sql(sql::PUT_LINK))
                    .bind(&l.looker)
                    .bind(&l.team)
                    .bind(&l.slack_user)
                    .bind(&l.looker_user)
                    .bind(&l.sealed)
                    .bind(l.linked_at)
                    .bind(l.updated_at)
                    .execute(&self.$write)
                    .await?;
                Ok(())
            }

            async fn link(&self, looker: &str, team: &str, slack_user: &str) -> Result<Option<LinkRecord>, StoreError> {
                let row = sqlx::query(&$sql(sql::LINK))
                    .bind(looker)
                    .bind(team)
                    .bind(slack_user)
                    .fetch_optional(&self.$read)
                    .await?;
                Ok(row.as_ref().map(link_record))
            }

            async fn links_of_looker_user(
                &self,
                looker: &str,
                looker_user: &str,
            ) -> Result<Vec<LinkRecord>, StoreError> {
                let rows = sqlx::query(&$sql(sql::LINKS_OF_LOOKER_USER))
                    .bind(looker)
                    .bind(looker_user)
                    .fetch_all(&self.$read)
                    .await?;
                Ok(rows.iter().map(link_record).collect())
            }

            async fn swap_link(&self, l: &LinkRecord, previous: &str) -> Result<bool, StoreError> {
                let done = sqlx::query(&$sql(sql::SWAP_LINK))
                    .bind(&l.looker)
                    .bind(&l.team)
                    .bind(&l.slack_user)
                    .bind(&l.sealed)
                    .bind(l.updated_at)
                    .bind(previous)
                    .execute(&self.$write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn drop_links(
                &self,
                looker: Option<&str>,
                team: Option<&str>,
                slack_user: &str,
            ) -> Result<Vec<LinkRecord>, StoreError> {
                let rows = sqlx::query(&$sql(sql::DROP_LINKS))
                    .bind(slack_user)
                    .bind(team)
                    .bind(looker)
                    .fetch_all(&self.$write)
                    .await?;
                Ok(rows.iter().map(link_record).collect())
            }

            async fn drop_link_if(&self, l: &LinkRecord) -> Result<bool, StoreError> {
                let done = sqlx::query(&$sql(sql::DROP_LINK_IF))
                    .bind(&l.looker)
                    .bind(&l.team)
                    .bind(&l.slack_user)
                    .bind(&l.sealed)
                    .execute(&self.$write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn put_sign_in(&self, state: &str, s: &SignIn) -> Result<(), StoreError> {
                sqlx::query(&$sql(sql::PUT_SIGN_IN))
                    .bind(state)
                    .bind(&s.looker)
                    .bind(&s.team)
                    .bind(&s.slack_user)
                    .bind(&s.sealed_verifier)
                    .bind(&s.browser)
                    .bind(s.created_at)
                    .execute(&self.$write)
                    .await?;
                Ok(())
            }

            async fn take_sign_in(
                &self,
                state: &str,
                browser: &str,
                not_before: Millis,
            ) -> Result<Option<SignIn>, StoreError> {
                let row = sqlx::query(&$sql(sql::TAKE_SIGN_IN))
                    .bind(state)
                    .bind(browser)
                    .fetch_optional(&self.$write)
                    .await?;
                Ok(row.as_ref().map(sign_in).filter(|s| s.created_at >= not_before))
            }

            async fn spend_ticket(&self, ticket: &str, now: Millis) -> Result<bool, StoreError> {
                let done = sqlx::query(&$sql(sql::SPEND_TICKET))
                    .bind(ticket)
                    .bind(now)
                    .execute(&self.$write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}
pub(super) use people_store;
