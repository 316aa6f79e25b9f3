//! The conformance suite, continued: fair claims (people first, lanes at their cap skipped), jobs that wait their turn, and
//! paces shared by every handle on one database (as replicas share it).

use std::time::Duration;

use super::*;

fn in_lane(lane: Option<&str>) -> NewJob {
    NewJob {
        lane: lane.map(str::to_string),
        ..job(None)
    }
}

#[tokio::test]
async fn a_busy_lane_is_skipped_and_its_jobs_wait_for_it() {
    each_backend!(|harness, store| {
        let lease = Duration::from_secs(60);
        for lane in [Some("looker:slow"), Some("looker:slow"), Some("looker:fast"), None] {
            store.enqueue(in_lane(lane), 1).await.unwrap();
        }
        let busy = vec!["looker:slow".to_string()];
        let first = store.claim("w", 10, lease, &busy).await.unwrap().unwrap();
        assert_eq!(first.lane.as_deref(), Some("looker:fast"));
        let second = store.claim("w", 10, lease, &busy).await.unwrap().unwrap();
        assert_eq!(second.lane, None);
        assert!(
            store.claim("w", 10, lease, &busy).await.unwrap().is_none(),
            "only the busy lane is left"
        );
        let slow = store.claim("w", 10, lease, &[]).await.unwrap().unwrap();
        assert_eq!(slow.lane.as_deref(), Some("looker:slow"));
    });
}

#[tokio::test]
async fn a_deferred_job_keeps_its_attempts_and_says_what_it_waits_for() {
    each_backend!(|harness, store| {
        let lease = Duration::from_secs(60);
        let Enqueued::Created(id) = store.enqueue(job(None), 1).await.unwrap() else {
            panic!("created")
        };
        let claimed = store.claim("w", 10, lease, &[]).await.unwrap().unwrap();
        store
            .note_wait(id, "w", Some("waiting for a query slot"))
            .await
            .unwrap();
        store.note_wait(id, "someone else", Some("not theirs")).await.unwrap();
        let running = store.get(id).await.unwrap().unwrap();
        assert_eq!(running.waiting.as_deref(), Some("waiting for a query slot"));
        store
            .defer(id, "w", 5_000, "waiting for Slack's pace in C1", 20)
            .await
            .unwrap();
        let queued = store.get(id).await.unwrap().unwrap();
        assert_eq!(queued.state, JobState::Queued);
        assert_eq!(queued.attempts, claimed.attempts - 1, "the attempt is not counted");
        assert_eq!(queued.run_after, 5_000);
        assert_eq!(queued.waiting.as_deref(), Some("waiting for Slack's pace in C1"));
        assert!(store.claim("w", 4_999, lease, &[]).await.unwrap().is_none());
        let again = store.claim("w", 5_000, lease, &[]).await.unwrap().unwrap();
        assert_eq!(again.attempts, claimed.attempts);
        assert_eq!(store.get(id).await.unwrap().unwrap().waiting, None);
        store.complete(id, "w", 5_001).await.unwrap();
    });
}

#[tokio::test]
async fn two_handles_share_one_pace_and_a_refused_turn_is_not_taken() {
    each_backend!(|harness, store| {
        let other = harness.open().await;
        let (second, burst) = (1000, 3);
        let mut turns = Vec::new();
        for n in 0..6 {
            let replica = if n % 2 == 0 { &store } else { &other };
            let tat = replica
                .reserve_pace("slack:channel:C1", 0, second, burst, 10_000)
                .await
                .unwrap();
            turns.push(tat.unwrap() - second * burst as Millis);
        }
        assert_eq!(turns, [-2000, -1000, 0, 1000, 2000, 3000], "one pace for both");
        assert_eq!(
            other
                .reserve_pace("slack:channel:C1", 0, second, burst, 3_500)
                .await
                .unwrap(),
            None
        );
        assert_eq!(store.peek_pace("slack:channel:C1").await.unwrap(), Some(6000));
        store.hold_pace("slack:channel:C1", 30_000).await.unwrap();
        store.hold_pace("slack:channel:C1", 20_000).await.unwrap();
        assert_eq!(
            other.peek_pace("slack:channel:C1").await.unwrap(),
            Some(30_000),
            "a hold only pushes later"
        );
        assert_eq!(other.peek_pace("slack:channel:C2").await.unwrap(), None);
        store.prune_finished(40_000).await.unwrap();
        assert_eq!(
            other.peek_pace("slack:channel:C1").await.unwrap(),
            None,
            "old paces are pruned"
        );
    });
}

#[tokio::test]
async fn people_waiting_go_before_scheduled_work() {
    each_backend!(|harness, store| {
        for _ in 0..3 {
            store.enqueue(job(None), 0).await.unwrap();
        }
        let asked = NewJob {
            priority: Priority::Interactive,
            ..job(None)
        };
        let Enqueued::Created(asked) = store.enqueue(asked, 5).await.unwrap() else {
            panic!()
        };
        let first = store
            .claim("w", 10, Duration::from_secs(60), &[])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.id, asked, "the interactive job, though it came last");
        // Not yet due stays not due, whatever its priority.
        let later = NewJob {
            priority: Priority::Interactive,
            delay: Duration::from_secs(60),
            ..job(None)
        };
        store.enqueue(later, 10).await.unwrap();
        let next = store
            .claim("w", 10, Duration::from_secs(60), &[])
            .await
            .unwrap()
            .unwrap();
        assert_ne!(next.id, asked);
        assert_eq!(store.get(next.id).await.unwrap().unwrap().summary, "a test job");
    });
}

#[tokio::test]
async fn a_thread_is_started_once_and_an_escalation_claimed_once() {
    use crate::store::notify::{Repeat, ThreadTurn};
    each_backend!(|harness, store| {
        let other = harness.open().await;
        let notify = store.notify();
        assert_eq!(notify.thread_turn("k", 1, 1_000).await.unwrap(), ThreadTurn::Start);
        assert_eq!(
            other.notify().thread_turn("k", 2, 1_001).await.unwrap(),
            ThreadTurn::Pending
        );
        assert!(notify.thread_started("k", 1, "1700.1", 0).await.unwrap());
        assert!(
            !other.notify().thread_started("k", 2, "1700.2", 0).await.unwrap(),
            "not overwritten"
        );
        let reply = ThreadTurn::Reply { ts: "1700.1".into() };
        assert_eq!(other.notify().thread_turn("k", 2, 1_002).await.unwrap(), reply);
        assert_eq!(
            notify.thread_turn("k", 1, 1_003).await.unwrap(),
            ThreadTurn::Start,
            "the starter again, after a crash"
        );
        assert!(!notify.raise_level("k", 0).await.unwrap());
        assert!(notify.raise_level("k", 2).await.unwrap());
        assert!(
            !other.notify().raise_level("k", 2).await.unwrap(),
            "one escalation, once"
        );
        // Repeats: the first posts, the next within the wait is held, the same job asking again
        // gets its first answer.
        assert_eq!(
            notify.repeat("r", 5, 0, 1_000).await.unwrap(),
            Repeat::Post {
                repeats: 0,
                since: None
            }
        );
        assert_eq!(other.notify().repeat("r", 6, 500, 1_000).await.unwrap(), Repeat::Held);
        assert_eq!(
            notify.repeat("r", 5, 900, 1_000).await.unwrap(),
            Repeat::Post {
                repeats: 0,
                since: None
            }
        );
        assert_eq!(
            notify.repeat("r", 7, 1_000, 1_000).await.unwrap(),
            Repeat::Post {
                repeats: 1,
                since: Some(500)
            }
        );
    });
}
