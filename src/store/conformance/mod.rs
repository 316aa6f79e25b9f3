//! One suite for every backend: each test runs against SQLite and against PostgreSQL (each test in
//! its own schema). PostgreSQL is the one at `LOOKERBOT_TEST_POSTGRES_URL`, which `.ci/run` sets
//! and which then must answer; without it, `postgres://postgres@127.0.0.1:5432/test` is tried and
//! skipped with a note when nothing listens there.

mod harness;

use std::time::Duration;

use super::*;
use harness::backends;

/// A job for the suite: kind `test`, keyed or not, due at once.
pub(crate) fn job(key: Option<&str>) -> NewJob {
    NewJob {
        kind: "test".into(),
        payload: "{}".into(),
        summary: "a test job".into(),
        dedupe_key: key.map(str::to_string),
        max_attempts: 3,
        priority: Priority::Scheduled,
        delay: Duration::ZERO,
        lane: None,
    }
}

/// Runs `test` against each backend, naming the backend when it fails.
macro_rules! each_backend {
    (|$harness:ident, $store:ident| $body:block) => {
        for $harness in backends().await {
            let $store = $harness.open().await;
            let name = $harness.name;
            let outcome = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(async { $body })).await;
            $harness.finish().await;
            if let Err(panic) = outcome {
                eprintln!("failed on {name}");
                std::panic::resume_unwind(panic);
            }
        }
    };
}

#[tokio::test]
async fn dedupe_keys_make_one_job() {
    each_backend!(|harness, store| {
        let Enqueued::Created(id) = store.enqueue(job(Some("k")), 1).await.unwrap() else {
            panic!("first should be created")
        };
        assert_eq!(store.enqueue(job(Some("k")), 2).await.unwrap(), Enqueued::Duplicate(id));
        assert!(store.has_key("k").await.unwrap());
        assert!(!store.has_key("other").await.unwrap());
        // Jobs without a key never collide.
        for _ in 0..2 {
            assert!(matches!(
                store.enqueue(job(None), 3).await.unwrap(),
                Enqueued::Created(_)
            ));
        }
    });
}

#[tokio::test]
async fn concurrent_enqueues_are_each_answered_once() {
    each_backend!(|harness, store| {
        let other = harness.open().await;
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..200 {
            // Two replicas given the same 100 keys at once, and 100 keyless jobs.
            let replica = if n % 2 == 0 { store.clone() } else { other.clone() };
            let key = format!("event-{}", n % 100);
            tasks.spawn(async move { replica.enqueue(job(Some(&key)), 1).await.unwrap() });
            let replica = store.clone();
            tasks.spawn(async move { replica.enqueue(job(None), 1).await.unwrap() });
        }
        let results = tasks.join_all().await;
        let created = results.iter().filter(|r| matches!(r, Enqueued::Created(_))).count();
        assert_eq!(created, 100 + 200, "each key once, each keyless job once");
        let mut ids: Vec<i64> = results
            .iter()
            .filter_map(|r| match r {
                Enqueued::Created(id) => Some(*id),
                Enqueued::Duplicate(_) => None,
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 300, "no id handed out twice");
    });
}

#[tokio::test]
async fn replicas_never_claim_the_same_job() {
    each_backend!(|harness, store| {
        let other = harness.open().await;
        for _ in 0..100 {
            store.enqueue(job(None), 0).await.unwrap();
        }
        let mut tasks = tokio::task::JoinSet::new();
        for worker in 0..8 {
            let store = if worker % 2 == 0 { store.clone() } else { other.clone() };
            tasks.spawn(async move {
                let mut mine = Vec::new();
                let owner = format!("w{worker}");
                while let Some(job) = store.claim(&owner, 10, Duration::from_secs(60), &[]).await.unwrap() {
                    mine.push(job.id);
                    store.complete(job.id, &owner, 11).await.unwrap();
                }
                mine
            });
        }
        let mut all: Vec<i64> = tasks.join_all().await.concat();
        assert_eq!(all.len(), 100);
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 100, "every job claimed by exactly one worker");
    });
}

#[tokio::test]
async fn a_claimed_job_is_invisible_until_its_lease_expires() {
    each_backend!(|harness, store| {
        store.enqueue(job(None), 100).await.unwrap();
        let lease = Duration::from_millis(1000);
        let claimed = store.claim("a", 100, lease, &[]).await.unwrap().unwrap();
        assert_eq!(claimed.attempts, 1);
        assert!(store.claim("b", 500, lease, &[]).await.unwrap().is_none());
        // The owner died: after the lease another worker takes it over, attempts counted.
        let taken = store.claim("b", 1101, lease, &[]).await.unwrap().unwrap();
        assert_eq!((taken.id, taken.attempts), (claimed.id, 2));
        // The old owner can no longer record progress or finish it.
        assert!(!store.save_progress(claimed.id, "a", "{}", 1150).await.unwrap());
        assert!(
            store
                .save_progress(claimed.id, "b", r#"{"posted":1}"#, 1150)
                .await
                .unwrap()
        );
        store.complete(claimed.id, "a", 1200).await.unwrap();
        assert_eq!(store.get(claimed.id).await.unwrap().unwrap().state, JobState::Running);
        store.complete(claimed.id, "b", 1200).await.unwrap();
        assert_eq!(store.get(claimed.id).await.unwrap().unwrap().state, JobState::Done);
    });
}

#[tokio::test]
async fn progress_survives_a_takeover() {
    each_backend!(|harness, store| {
        store.enqueue(job(None), 0).await.unwrap();
        let first = store
            .claim("a", 0, Duration::from_millis(100), &[])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.progress, None);
        assert!(store.save_progress(first.id, "a", r#"{"ts":"1.2"}"#, 50).await.unwrap());
        let second = store
            .claim("b", 200, Duration::from_secs(60), &[])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second.progress.as_deref(), Some(r#"{"ts":"1.2"}"#));
    });
}

#[tokio::test]
async fn retries_wait_for_their_time_and_dead_jobs_stay_listed_for_their_retention() {
    each_backend!(|harness, store| {
        store.enqueue(job(None), 0).await.unwrap();
        let lease = Duration::from_secs(60);
        let claimed = store.claim("w", 0, lease, &[]).await.unwrap().unwrap();
        store
            .retry_at(claimed.id, "w", 5000, "Slack answered 500", 10)
            .await
            .unwrap();
        assert!(store.claim("w", 4999, lease, &[]).await.unwrap().is_none());
        let again = store.claim("w", 5000, lease, &[]).await.unwrap().unwrap();
        store.bury(again.id, "w", "channel_not_found", 5001).await.unwrap();
        let dead = store.list(true, 10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].last_error.as_deref(), Some("channel_not_found"));
        assert_eq!((dead[0].attempts, dead[0].state), (2, JobState::Dead));
        assert_eq!(store.prune_finished(5001).await.unwrap(), 0, "kept for their retention");
        assert_eq!(store.prune_finished(5002).await.unwrap(), 1, "then forgotten");
        assert!(store.list(true, 10).await.unwrap().is_empty());
    });
}

#[tokio::test]
async fn dead_jobs_can_be_run_again_or_dropped() {
    each_backend!(|harness, store| {
        let lease = Duration::from_secs(60);
        for _ in 0..3 {
            store.enqueue(job(None), 0).await.unwrap();
        }
        let mut dead = Vec::new();
        for _ in 0..3 {
            let claimed = store.claim("w", 0, lease, &[]).await.unwrap().unwrap();
            assert!(
                store
                    .save_progress(claimed.id, "w", r#"{"posted":1}"#, 1)
                    .await
                    .unwrap()
            );
            store.bury(claimed.id, "w", "channel_not_found", 2).await.unwrap();
            dead.push(claimed.id);
        }
        assert!(store.claim("w", 3, lease, &[]).await.unwrap().is_none());
        assert_eq!(store.counts().await.unwrap(), [("test".to_string(), JobState::Dead, 3)]);
        let unalerted: Vec<i64> = store
            .unalerted_dead(&["test"], 10)
            .await
            .unwrap()
            .iter()
            .map(|j| j.id)
            .collect();
        assert_eq!(unalerted, dead);
        assert!(store.unalerted_dead(&["other"], 10).await.unwrap().is_empty());
        store.mark_alerted(&dead, 5).await.unwrap();
        assert!(
            store.unalerted_dead(&["test"], 10).await.unwrap().is_empty(),
            "each reported once"
        );
        assert_eq!(store.revive(Some(dead[0]), 10).await.unwrap(), 1);
        assert_eq!(store.revive(Some(dead[0]), 10).await.unwrap(), 0, "no longer dead");
        let again = store.claim("w", 10, lease, &[]).await.unwrap().unwrap();
        assert_eq!((again.id, again.attempts), (dead[0], 1), "a fresh set of attempts");
        assert_eq!(
            again.progress.as_deref(),
            Some(r#"{"posted":1}"#),
            "it goes on where it stopped"
        );
        assert!(
            !store.drop_dead(again.id).await.unwrap(),
            "a running job is not dropped"
        );
        assert!(store.drop_dead(dead[1]).await.unwrap());
        assert_eq!(store.get(dead[1]).await.unwrap().map(|j| j.id), None);
        assert_eq!(store.revive(None, 20).await.unwrap(), 1, "only the one still dead");
        let revived = store.claim("w", 20, lease, &[]).await.unwrap().unwrap();
        assert_eq!(revived.id, dead[2]);
        store.bury(revived.id, "w", "still not found", 21).await.unwrap();
        let again: Vec<i64> = store
            .unalerted_dead(&["test"], 10)
            .await
            .unwrap()
            .iter()
            .map(|j| j.id)
            .collect();
        assert_eq!(again, [dead[2]], "dead again after a retry: reported again");
    });
}

#[tokio::test]
async fn done_jobs_are_pruned_with_age_but_their_keys_hold_until_then() {
    each_backend!(|harness, store| {
        store.enqueue(job(Some("webhook-1")), 0).await.unwrap();
        let claimed = store
            .claim("w", 0, Duration::from_secs(60), &[])
            .await
            .unwrap()
            .unwrap();
        store.complete(claimed.id, "w", 100).await.unwrap();
        assert!(
            store.list(false, 10).await.unwrap().is_empty(),
            "done jobs are not listed"
        );
        assert!(matches!(
            store.enqueue(job(Some("webhook-1")), 150).await.unwrap(),
            Enqueued::Duplicate(_)
        ));
        assert_eq!(store.prune_finished(100).await.unwrap(), 0);
        assert_eq!(store.prune_finished(101).await.unwrap(), 1);
        assert!(!store.has_key("webhook-1").await.unwrap());
    });
}

#[tokio::test]
async fn a_released_job_runs_again_at_once_without_losing_an_attempt() {
    each_backend!(|harness, store| {
        store.enqueue(job(None), 0).await.unwrap();
        let claimed = store
            .claim("w", 0, Duration::from_secs(60), &[])
            .await
            .unwrap()
            .unwrap();
        store.release(claimed.id, "w", 10).await.unwrap();
        let again = store
            .claim("v", 10, Duration::from_secs(60), &[])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.attempts, 1);
    });
}

#[tokio::test]
async fn files_are_kept_in_chunks_and_read_back_whole_or_a_chunk_at_a_time() {
    each_backend!(|harness, store| {
        let big: Vec<u8> = (0..(FILE_CHUNK * 2 + 10)).map(|i| (i % 251) as u8).collect();
        let id = store.put_file(big.clone(), 1).await.unwrap();
        assert_eq!(store.file_length(id).await.unwrap(), Some(big.len() as u64));
        assert!(store.get_file(id).await.unwrap().unwrap() == big);
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

        // Many small files at once (group-committed where the backend does) each keep their bytes.
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..50u8 {
            let store = store.clone();
            tasks.spawn(async move { (n, store.put_file(vec![n; n as usize], 3).await.unwrap()) });
        }
        for (n, id) in tasks.join_all().await {
            assert_eq!(store.get_file(id).await.unwrap().unwrap(), vec![n; n as usize]);
        }

        store.forget_file(id).await.unwrap();
        assert_eq!(store.file_length(id).await.unwrap(), None);
        assert_eq!(store.file_chunk(id, 0).await.unwrap(), None, "its chunks go with it");
        store.prune_finished(3).await.unwrap();
        assert_eq!(store.get_file(streamed).await.unwrap(), None, "pruned with its age");
    });
}

#[tokio::test]
async fn data_actions_wait_for_their_buttons_until_they_expire() {
    each_backend!(|harness, store| {
        let record = DataActionRecord {
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
        assert_eq!(store.data_action("nope").await.unwrap(), None);
        store.prune_finished(50).await.unwrap();
        assert!(store.data_action("k1").await.unwrap().is_some(), "not expired yet");
        store.prune_finished(101).await.unwrap();
        assert_eq!(store.data_action("k1").await.unwrap(), None);
    });
}

#[tokio::test]
async fn a_store_answers_its_ping_and_lists_newest_first() {
    each_backend!(|harness, store| {
        store.ping().await.unwrap();
        for n in 0..3 {
            let mut job = job(None);
            job.summary = format!("job {n}");
            store.enqueue(job, n).await.unwrap();
        }
        let listed: Vec<String> = store
            .list(false, 2)
            .await
            .unwrap()
            .into_iter()
            .map(|j| j.summary)
            .collect();
        assert_eq!(listed, ["job 2", "job 1"]);
    });
}

mod lanes;
mod people;
