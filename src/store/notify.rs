//! What notifications from other applications need kept beside the queue: repeats throttled
//! per key (`wait_duration`), and the Slack threads related notifications share (`thread_key`).
//! Each step is atomic and answers the same to a job asking again (a retry after a crash).

use async_trait::async_trait;

use super::{Millis, StoreError};

/// Whether a notification is posted, given the ones with its key before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repeat {
    /// Post it, saying how many were held back (and since when) since the last one posted.
    Post { repeats: u64, since: Option<Millis> },
    /// Within the wait of the last one posted: counted, not posted.
    Held,
}

/// Where a notification of a thread goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreadTurn {
    /// This job starts the thread: post in the channel, then [`NotifyStore::thread_started`].
    Start,
    /// Reply under `ts`.
    Reply { ts: String },
    /// Another job is starting the thread now: come back in a moment.
    Pending,
}

/// A thread's first post not made within this long is taken over by the next notification:
/// longer than any job's lease, so a starter still at work is never overtaken.
pub const STALE_THREAD_START: Millis = 30 * 60 * 1000;

#[async_trait]
pub trait NotifyStore: Send + Sync {
    /// Decides for `job` under `key`: posted (and the window of `wait` opened) when the last
    /// post's window has passed, else held and counted. The same job asking again gets the same
    /// answer.
    async fn repeat(&self, key: &str, job: i64, now: Millis, wait: Millis) -> Result<Repeat, StoreError>;

    /// Whether `job` starts the thread `key` or replies in it.
    async fn thread_turn(&self, key: &str, job: i64, now: Millis) -> Result<ThreadTurn, StoreError>;

    /// `job`'s first post of the thread is `ts`, at `level`; `false` when the thread was already
    /// started (by this job before, or by one that took over), which is left as it is.
    async fn thread_started(&self, key: &str, job: i64, ts: &str, level: i16) -> Result<bool, StoreError>;

    /// Raises the thread's highest level to `level`; `true` when this call raised it (an
    /// escalation, told once however many arrive at once).
    async fn raise_level(&self, key: &str, level: i16) -> Result<bool, StoreError>;
}

/// The decision [`NotifyStore::repeat`] makes from a key's row, and the row after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct RepeatRow {
    pub posted_job: Option<i64>,
    pub until: Millis,
    pub repeats: i64,
    pub since: Option<Millis>,
    pub posted_repeats: i64,
    pub posted_since: Option<Millis>,
}

impl RepeatRow {
    /// What to answer `job` now, and the row to write (`None`: unchanged).
    pub(super) fn decide(&self, job: i64, now: Millis, wait: Millis) -> (Repeat, Option<RepeatRow>) {
        if self.posted_job == Some(job) {
            let answer = Repeat::Post {
                repeats: self.posted_repeats as u64,
                since: self.posted_since,
            };
            return (answer, None);
        }
        if now < self.until {
            let row = RepeatRow {
                repeats: self.repeats + 1,
                since: self.since.or(Some(now)),
                ..self.clone()
            };
            return (Repeat::Held, Some(row));
        }
        let row = RepeatRow {
            posted_job: Some(job),
            until: now + wait,
            repeats: 0,
            since: None,
            posted_repeats: self.repeats,
            posted_since: self.since,
        };
        let answer = Repeat::Post {
            repeats: self.repeats as u64,
            since: self.since,
        };
        (answer, Some(row))
    }
}

/// A thread's turn for `job`, from its row: the starter (again, after a crash) starts it.
pub(super) fn turn(job: i64, starter: i64, ts: Option<String>) -> ThreadTurn {
    match ts {
        _ if starter == job => ThreadTurn::Start,
        Some(ts) => ThreadTurn::Reply { ts },
        None => ThreadTurn::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_within_the_wait_are_held_and_told_with_the_next_post() {
        let fresh = RepeatRow::default();
        let (first, row) = fresh.decide(1, 1_000, 60_000);
        assert_eq!(
            first,
            Repeat::Post {
                repeats: 0,
                since: None
            }
        );
        let row = row.unwrap();
        let (again, unchanged) = row.decide(1, 2_000, 60_000);
        assert_eq!(again, first, "the same job gets the same answer");
        assert!(unchanged.is_none());
        let (held, row) = row.decide(2, 5_000, 60_000);
        assert_eq!(held, Repeat::Held);
        let (held, row) = row.unwrap().decide(3, 9_000, 60_000);
        assert_eq!(held, Repeat::Held);
        let (next, _) = row.unwrap().decide(4, 61_001, 60_000);
        assert_eq!(
            next,
            Repeat::Post {
                repeats: 2,
                since: Some(5_000)
            }
        );
    }
}
