//! The SQLite store's own behaviour; the queue's tests drive it through the trait.

use super::*;
use crate::store::NewJob;

pub(crate) async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/jobs.db", dir.path().display());
    let store = SqliteStore::connect(&url).await.unwrap();
    (dir, store)
}

pub(crate) fn job(key: Option<&str>) -> NewJob {
    NewJob {
        kind: "test".into(),
        payload: "{}".into(),
        summary: "a test job".into(),
        dedupe_key: key.map(str::to_string),
        max_attempts: 3,
        delay: Duration::ZERO,
    }
}

#[tokio::test]
async fn dedupe_keys_make_one_job() {
    let (_dir, store) = store().await;
    let first = store.enqueue(job(Some("k")), 1).await.unwrap();
    let second = store.enqueue(job(Some("k")), 2).await.unwrap();
    let Enqueued::Created(id) = first else {
        panic!("first should be created")
    };
    assert_eq!(second, Enqueued::Duplicate(id));
    // Jobs without a key never collide.
    assert!(matches!(
        store.enqueue(job(None), 3).await.unwrap(),
        Enqueued::Created(_)
    ));
    assert!(matches!(
        store.enqueue(job(None), 3).await.unwrap(),
        Enqueued::Created(_)
    ));
}

#[tokio::test]
async fn a_claimed_job_is_invisible_until_its_lease_expires() {
    let (_dir, store) = store().await;
    store.enqueue(job(None), 100).await.unwrap();
    let lease = Duration::from_millis(1000);
    let claimed = store.claim("a", 100, lease).await.unwrap().unwrap();
    assert_eq!(claimed.attempts, 1);
    assert!(store.claim("b", 500, lease).await.unwrap().is_none());
    // The owner died: after the lease another worker takes it over, attempts counted.
    let taken = store.claim("b", 1101, lease).await.unwrap().unwrap();
    assert_eq!((taken.id, taken.attempts), (claimed.id, 2));
    // The old owner can no longer finish it.
    store.complete(claimed.id, "a", 1200).await.unwrap();
    assert_eq!(store.get(claimed.id).await.unwrap().unwrap().state, JobState::Running);
    store.complete(claimed.id, "b", 1200).await.unwrap();
    assert_eq!(store.get(claimed.id).await.unwrap().unwrap().state, JobState::Done);
}

#[tokio::test]
async fn retries_wait_for_their_time_and_dead_jobs_stay_listed() {
    let (_dir, store) = store().await;
    store.enqueue(job(None), 0).await.unwrap();
    let lease = Duration::from_secs(60);
    let claimed = store.claim("w", 0, lease).await.unwrap().unwrap();
    store
        .retry_at(claimed.id, "w", 5000, "Slack answered 500", 10)
        .await
        .unwrap();
    assert!(store.claim("w", 4999, lease).await.unwrap().is_none());
    let again = store.claim("w", 5000, lease).await.unwrap().unwrap();
    store.bury(again.id, "w", "channel_not_found", 5001).await.unwrap();
    let dead = store.list(true, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("channel_not_found"));
    assert_eq!(dead[0].attempts, 2);
    assert_eq!(store.prune_done(i64::MAX).await.unwrap(), 0, "dead jobs are kept");
}

#[tokio::test]
async fn a_released_job_runs_again_at_once_without_losing_an_attempt() {
    let (_dir, store) = store().await;
    store.enqueue(job(None), 0).await.unwrap();
    let claimed = store.claim("w", 0, Duration::from_secs(60)).await.unwrap().unwrap();
    store.release(claimed.id, "w", 10).await.unwrap();
    let again = store.claim("v", 10, Duration::from_secs(60)).await.unwrap().unwrap();
    assert_eq!(again.attempts, 1);
}
