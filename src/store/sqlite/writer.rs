//! The writer task. SQLite takes one writer at a time, so everything the intake and the workers
//! write at a moment is committed together: enqueues first (one multi-row statement), then the
//! workers' bookkeeping (claims, deferrals, outcomes, progress), one statement each, all in one
//! transaction. A webhook then waits for at most one batch before its own, never behind sixty
//! workers taking the connection in turn, and a batch costs one commit.
//!
//! An enqueue that arrives while a batch runs its bookkeeping cuts it short: the statements run so
//! far are committed and the rest wait for the batch after the enqueue's, so an ack waits for one
//! statement, not thirty-two. Each batch still runs at least one statement, so a flood of
//! enqueues cannot starve the workers.
//!
//! A batch with enqueues is committed with a full fsync (a 200 means the job is on disk). A batch
//! of bookkeeping alone is committed with `synchronous = NORMAL`: SQLite keeps it through a crash
//! of the process (`kill -9`), and the next fully synced commit makes it durable against power loss
//! too, since the WAL is written in order. Losing one to a power cut costs at most a job run again,
//! which the ledger already makes harmless.

use futures_util::future::BoxFuture;
use sqlx::sqlite::SqlitePool;
use sqlx::{Connection, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use super::EnqueueRequest;
use super::enqueue::{MAX_BATCH, insert_jobs};
use crate::store::StoreError;
use crate::store::batch::answer_all;

/// The most bookkeeping statements committed in one transaction: few enough that an enqueue
/// arriving as a batch starts waits about a millisecond for it.
pub(super) const MAX_OPS: usize = 32;

/// Sends a bookkeeping statement's result once the batch's commit is known.
type Answer = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// One bookkeeping statement, run inside the batch's transaction.
pub(super) type Op = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Answer> + Send>;

/// Wraps `statement` for the writer task and waits for its result, given only once the batch it
/// ran in is committed. A statement that fails is undone alone (SQLite's statements are atomic);
/// the others of its batch stand.
pub(super) async fn bookkeep<T, F>(ops: &mpsc::Sender<Op>, statement: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, sqlx::Error>> + Send + 'static,
{
    let (reply, answer) = oneshot::channel();
    let op: Op = Box::new(move |conn| {
        Box::pin(async move {
            let result = statement(conn).await;
            Box::new(move |committed: Result<(), StoreError>| {
                let _ = reply.send(committed.and(result.map_err(StoreError::from)));
            }) as Answer
        })
    });
    let stopped = || StoreError::new("the database writer has stopped");
    ops.send(op).await.map_err(|_| stopped())?;
    answer.await.map_err(|_| stopped())?
}

/// Commits whatever is waiting, enqueues first, until both queues are closed.
pub(super) async fn run(writer: SqlitePool, mut enqueues: mpsc::Receiver<EnqueueRequest>, mut ops: mpsc::Receiver<Op>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    let mut statements = Vec::with_capacity(MAX_OPS);
    loop {
        // Statements left over from a batch cut short go first, without waiting for more.
        if statements.is_empty() {
            tokio::select! {
                biased;
                n = enqueues.recv_many(&mut jobs, MAX_BATCH) => if n == 0 && ops.is_closed() && ops.is_empty() { break },
                n = ops.recv_many(&mut statements, MAX_OPS) => if n == 0 && enqueues.is_closed() && enqueues.is_empty() { break },
            }
        }
        // Whatever else is already waiting joins this batch.
        while jobs.len() < MAX_BATCH
            && let Ok(job) = enqueues.try_recv()
        {
            jobs.push(job);
        }
        while statements.len() < MAX_OPS
            && let Ok(op) = ops.try_recv()
        {
            statements.push(op);
        }
        if jobs.is_empty() && statements.is_empty() {
            continue;
        }
        commit(&writer, &mut jobs, &mut statements, &enqueues).await;
    }
}

/// One transaction: the enqueues (all or none), then each statement until an enqueue is waiting
/// (at least one); the statements not run stay in `statements`.
async fn commit(
    writer: &SqlitePool,
    jobs: &mut Vec<EnqueueRequest>,
    statements: &mut Vec<Op>,
    enqueues: &mpsc::Receiver<EnqueueRequest>,
) {
    let synced = !jobs.is_empty();
    let mut answers: Vec<Answer> = Vec::with_capacity(statements.len());
    let outcome = async {
        let mut conn = writer.acquire().await?;
        if !synced {
            sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await?;
        }
        let written = async {
            let mut tx = conn.begin().await?;
            let enqueued = if jobs.is_empty() {
                Vec::new()
            } else {
                insert_jobs(&mut tx, jobs).await?
            };
            let mut pending = std::mem::take(statements).into_iter();
            for statement in pending.by_ref() {
                answers.push(statement(&mut tx).await);
                if !enqueues.is_empty() {
                    break;
                }
            }
            statements.extend(pending);
            tx.commit().await?;
            Ok::<_, sqlx::Error>(enqueued)
        }
        .await;
        if !synced {
            // Whoever takes the connection next (a file, a sign-in) is fully synced again; a
            // connection that cannot be is not handed back.
            if sqlx::query("PRAGMA synchronous = FULL")
                .execute(&mut *conn)
                .await
                .is_err()
            {
                conn.close_on_drop();
            }
        }
        written
    }
    .await;
    let committed = outcome.as_ref().map(|_| ()).map_err(|e| StoreError::new(e.to_string()));
    for answer in answers {
        answer(committed.clone());
    }
    // When the batch failed, statements that never ran (no connection could be had) are dropped:
    // their callers hear that the writer could not take them.
    if committed.is_err() {
        statements.clear();
    }
    answer_all(jobs, outcome);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::JobStore;
    use crate::store::sqlite::tests::store;

    #[tokio::test]
    async fn a_failing_statement_is_undone_alone_and_the_writer_is_fully_synced_after() {
        let (_dir, store) = store().await;
        let failing = bookkeep(&store.ops, |conn| {
            Box::pin(async move { sqlx::query("UPDATE no_such_table SET x = 1").execute(conn).await })
        });
        let working = bookkeep(&store.ops, |conn| {
            Box::pin(async move {
                sqlx::query("INSERT INTO paces (key, tat) VALUES ('k', 5)")
                    .execute(conn)
                    .await
            })
        });
        let (failed, worked) = tokio::join!(failing, working);
        assert!(failed.is_err());
        assert_eq!(worked.unwrap().rows_affected(), 1);
        assert_eq!(
            store.peek_pace("k").await.unwrap(),
            Some(5),
            "committed despite its neighbour"
        );
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&store.writer)
            .await
            .unwrap();
        assert_eq!(synchronous, 2, "FULL again for whoever writes next");
    }

    /// A statement for `commit` that records a pace: whether it ran shows in the table.
    fn pace(key: &'static str) -> Op {
        Box::new(move |conn| {
            Box::pin(async move {
                let result = sqlx::query("INSERT INTO paces (key, tat) VALUES (?, 1)")
                    .bind(key)
                    .execute(conn)
                    .await;
                Box::new(move |committed: Result<(), StoreError>| {
                    committed.unwrap();
                    result.unwrap();
                }) as Answer
            })
        })
    }

    #[tokio::test]
    async fn an_enqueue_waiting_cuts_the_bookkeeping_short_and_nothing_is_lost() {
        let (_dir, store) = store().await;
        let (send, waiting) = mpsc::channel(4);
        let (reply, enqueued) = oneshot::channel();
        send.send((crate::store::conformance::job(None), 0, reply))
            .await
            .unwrap();
        let mut statements = vec![pace("a"), pace("b"), pace("c")];
        commit(&store.writer, &mut Vec::new(), &mut statements, &waiting).await;
        assert_eq!(statements.len(), 2, "one statement ran before the enqueue's turn");
        assert_eq!(store.peek_pace("a").await.unwrap(), Some(1), "and was committed");
        assert_eq!(store.peek_pace("b").await.unwrap(), None);

        let (mut jobs, mut waiting) = (Vec::new(), waiting);
        waiting.recv_many(&mut jobs, 4).await;
        commit(&store.writer, &mut jobs, &mut statements, &waiting).await;
        assert!(enqueued.await.unwrap().is_ok(), "the enqueue is committed");
        assert!(statements.is_empty(), "the rest ran with it once nothing else waited");
        assert_eq!(store.peek_pace("c").await.unwrap(), Some(1));
    }
}
