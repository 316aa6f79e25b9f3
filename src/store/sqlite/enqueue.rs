//! Enqueues in a group commit: every enqueue waiting at a moment is written by one statement in
//! the writer task's transaction (many webhooks, one fsync).

use std::collections::HashMap;

use sqlx::SqliteConnection;

use super::EnqueueRequest;
use crate::store::Enqueued;
use crate::store::batch::Inserted;

/// The most enqueues committed in one transaction.
pub(super) const MAX_BATCH: usize = 256;

/// Inserts a batch in one multi-row statement (atomic on its own) and says, for each job in
/// order, whether it was created or which earlier job holds its dedupe key (`AUTOINCREMENT`
/// ids grow in the order the `VALUES` rows are inserted).
pub(super) async fn insert_jobs(
    conn: &mut SqliteConnection,
    batch: &[EnqueueRequest],
) -> Result<Vec<Enqueued>, sqlx::Error> {
    let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "INSERT INTO jobs (kind, payload, summary, dedupe_key, priority, max_attempts, run_after, created_at, updated_at, lane) ",
    );
    insert.push_values(batch, |mut row, (job, now, _)| {
        row.push_bind(&job.kind)
            .push_bind(&job.payload)
            .push_bind(&job.summary)
            .push_bind(&job.dedupe_key)
            .push_bind(job.priority as i64)
            .push_bind(job.max_attempts as i64)
            .push_bind(*now + job.delay.as_millis() as i64)
            .push_bind(*now)
            .push_bind(*now)
            .push_bind(&job.lane);
    });
    insert.push(" ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key");
    let inserted = Inserted::new(insert.build_query_as().fetch_all(&mut *conn).await?);

    // Keys that were already in the table before this batch: one lookup, only when there are any.
    let keys: Vec<Option<&str>> = batch.iter().map(|(job, _, _)| job.dedupe_key.as_deref()).collect();
    let taken = inserted.taken_keys(&keys);
    let mut earlier = HashMap::new();
    if !taken.is_empty() {
        let mut select =
            sqlx::QueryBuilder::<sqlx::Sqlite>::new("SELECT id, dedupe_key FROM jobs WHERE dedupe_key IN (");
        let mut separated = select.separated(", ");
        for key in &taken {
            separated.push_bind(*key);
        }
        select.push(")");
        let rows: Vec<(i64, String)> = select.build_query_as().fetch_all(&mut *conn).await?;
        earlier.extend(rows.into_iter().map(|(id, key)| (key, id)));
    }
    inserted.answers(&keys, earlier)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::JobStore;
    use crate::store::sqlite::tests::{job, store};
    use tokio::sync::oneshot;

    #[tokio::test]
    async fn one_batch_answers_each_job_in_order() {
        let (_dir, store) = store().await;
        let Enqueued::Created(old) = store.enqueue(job(Some("old")), 1).await.unwrap() else {
            panic!("first should be created")
        };
        let jobs = [None, Some("new"), Some("old"), None, Some("new"), Some("other"), None];
        let batch: Vec<EnqueueRequest> = jobs
            .iter()
            .enumerate()
            .map(|(position, key)| {
                let mut job = job(*key);
                job.summary = format!("job {position}");
                (job, 2, oneshot::channel().0)
            })
            .collect();
        let mut conn = store.writer.acquire().await.unwrap();
        let results = insert_jobs(&mut conn, &batch).await.unwrap();
        let created: Vec<i64> = results
            .iter()
            .filter_map(|r| match r {
                Enqueued::Created(id) => Some(*id),
                Enqueued::Duplicate(_) => None,
            })
            .collect();
        assert_eq!(created.len(), 5, "{results:?}");
        assert!(
            created.windows(2).all(|w| w[0] < w[1]),
            "ids follow the batch order: {results:?}"
        );
        assert_eq!(results[2], Enqueued::Duplicate(old));
        assert_eq!(results[4], Enqueued::Duplicate(created[1]));
        // Every created id holds that very job, keyed or not.
        for (position, (result, key)) in results.iter().zip(jobs).enumerate() {
            if let Enqueued::Created(id) = result {
                let (summary, stored_key): (String, Option<String>) =
                    sqlx::query_as("SELECT summary, dedupe_key FROM jobs WHERE id = ?1")
                        .bind(id)
                        .fetch_one(&mut *conn)
                        .await
                        .unwrap();
                assert_eq!((summary, stored_key.as_deref()), (format!("job {position}"), key));
            }
        }
    }
}
