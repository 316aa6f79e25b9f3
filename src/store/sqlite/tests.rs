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

#[tokio::test]
async fn files_are_kept_in_chunks_and_read_back_whole_or_a_chunk_at_a_time() {
    let (_dir, store) = store().await;
    let big: Vec<u8> = (0..(crate::store::FILE_CHUNK * 2 + 10))
        .map(|i| (i % 251) as u8)
        .collect();
    let id = store.put_file(big.clone(), 1).await.unwrap();
    assert_eq!(store.file_length(id).await.unwrap(), Some(big.len() as u64));
    assert_eq!(store.get_file(id).await.unwrap().unwrap(), big);
    assert_eq!(store.file_chunk(id, 2).await.unwrap().unwrap().len(), 10);
    assert_eq!(store.file_chunk(id, 3).await.unwrap(), None);

    let streamed = store.begin_file(2).await.unwrap();
    assert_eq!(
        store.file_length(streamed).await.unwrap(),
        Some(0),
        "begun, still empty"
    );
    store.append_chunk(streamed, 0, b"abc".to_vec()).await.unwrap();
    store.append_chunk(streamed, 1, b"def".to_vec()).await.unwrap();
    assert_eq!(store.get_file(streamed).await.unwrap().unwrap(), b"abcdef");

    store.forget_file(id).await.unwrap();
    assert_eq!(store.file_length(id).await.unwrap(), None);
    assert_eq!(store.file_chunk(id, 0).await.unwrap(), None, "its chunks go with it");
    store.prune_done(3).await.unwrap();
    assert_eq!(store.get_file(streamed).await.unwrap(), None, "pruned with its age");
}

#[tokio::test]
async fn data_actions_wait_for_their_buttons_until_they_expire() {
    let (_dir, store) = store().await;
    let record = crate::store::DataActionRecord {
        id: "k1".into(),
        looker: "https://looker.example.com".into(),
        action: r#"{"label":"Ping","type":"action","url":"https://hub.example/ping"}"#.into(),
        form: None,
        created_at: 1,
        expires_at: 100,
    };
    store.put_data_actions(vec![record.clone()]).await.unwrap();
    // A second put of the same key (a retried post) keeps the first.
    store.put_data_actions(vec![record.clone()]).await.unwrap();
    assert_eq!(store.data_action("k1").await.unwrap(), Some(record));
    store.set_data_action_form("k1", r#"{"fields":[]}"#).await.unwrap();
    assert_eq!(
        store.data_action("k1").await.unwrap().unwrap().form.as_deref(),
        Some(r#"{"fields":[]}"#)
    );
    assert_eq!(store.data_action("nope").await.unwrap(), None);
    store.prune_done(50).await.unwrap();
    assert!(store.data_action("k1").await.unwrap().is_some(), "not expired yet");
    store.prune_done(101).await.unwrap();
    assert_eq!(store.data_action("k1").await.unwrap(), None);
}
