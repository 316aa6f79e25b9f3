//! Group commit on PostgreSQL: every enqueue waiting at a moment goes into one multi-row
//! `INSERT … ON CONFLICT DO NOTHING RETURNING` in one transaction (one commit, one WAL flush for
//! many webhooks), with the keys that were already there looked up in the same transaction.

use std::collections::HashMap;

use sqlx::postgres::{PgConnection, PgPool};
use tokio::sync::mpsc;

use super::EnqueueRequest;
use crate::store::Enqueued;
use crate::store::batch::{Inserted, answer_all};

/// The most enqueues committed in one transaction.
pub(super) const MAX_BATCH: usize = 256;

pub(super) async fn commit_enqueues(pool: PgPool, mut queue: mpsc::Receiver<EnqueueRequest>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let outcome = async {
            let mut tx = pool.begin().await?;
            let results = insert_jobs(&mut tx, &batch).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(results)
        }
        .await;
        answer_all(&mut batch, outcome);
    }
}

/// Inserts a batch in one statement and says, for each job in order, whether it was created or
/// which job holds its dedupe key. A key another replica is inserting at the same moment waits
/// for that transaction and then counts as taken.
async fn insert_jobs(conn: &mut PgConnection, batch: &[EnqueueRequest]) -> Result<Vec<Enqueued>, sqlx::Error> {
    let mut insert = sqlx::QueryBuilder::<sqlx::Postgres>::new(
        "INSERT INTO jobs (kind, payload, summary, dedupe_key, priority, max_attempts, run_after, created_at, updated_at, lane) ",
    );
    insert.push_values(batch, |mut row, (job, now, _)| {
        row.push_bind(&job.kind)
            .push_bind(&job.payload)
            .push_bind(&job.summary)
            .push_bind(&job.dedupe_key)
            .push_bind(job.priority as i16)
            .push_bind(job.max_attempts as i32)
            .push_bind(*now + job.delay.as_millis() as i64)
            .push_bind(*now)
            .push_bind(*now)
            .push_bind(&job.lane);
    });
    insert.push(" ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key");
    // A sequence hands out ids in the order the VALUES rows are inserted.
    let inserted = Inserted::new(insert.build_query_as().fetch_all(&mut *conn).await?);
    let keys: Vec<Option<&str>> = batch.iter().map(|(job, _, _)| job.dedupe_key.as_deref()).collect();
    let taken = inserted.taken_keys(&keys);
    let mut earlier = HashMap::new();
    if !taken.is_empty() {
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, dedupe_key FROM jobs WHERE dedupe_key = ANY($1)")
            .bind(&taken)
            .fetch_all(&mut *conn)
            .await?;
        earlier.extend(rows.into_iter().map(|(id, key)| (key, id)));
    }
    inserted.answers(&keys, earlier)
}
