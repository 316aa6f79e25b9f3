//! Slack's pace: about one message a second per channel (short bursts allowed), and the waits a
//! 429's `Retry-After` asks for. Kept as GCRA theoretical arrival times in a [`PaceBook`]: in this
//! process's memory for one server, in the shared database for replicas, so that N replicas keep
//! one channel's pace instead of multiplying it. A call that would wait longer than a job should
//! hold a worker is not reserved at all; the caller hands the job back until then.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

/// Unix milliseconds.
pub type Millis = i64;

/// Where paces are kept. Each method is one atomic step, whoever else calls it at once.
#[async_trait]
pub trait PaceBook: Send + Sync + 'static {
    /// Reserves the next call under `key` if it could go by `latest` (`tat - burst·interval` is
    /// when it may go): the new theoretical arrival time, `max(tat, now) + interval`; `None`, and
    /// nothing reserved, when even the next free turn is later than `latest`.
    async fn reserve(
        &self,
        key: &str,
        now: Millis,
        interval: Millis,
        burst: u32,
        latest: Millis,
    ) -> Result<Option<Millis>, String>;

    /// Pushes `key`'s theoretical arrival time to at least `tat`.
    async fn hold(&self, key: &str, tat: Millis) -> Result<(), String>;

    /// `key`'s theoretical arrival time, if any was kept.
    async fn peek(&self, key: &str) -> Result<Option<Millis>, String>;
}

/// Paces in this process's memory (one server).
#[derive(Default)]
pub struct LocalPaces {
    tats: Mutex<HashMap<String, Millis>>,
}

#[async_trait]
impl PaceBook for LocalPaces {
    async fn reserve(
        &self,
        key: &str,
        now: Millis,
        interval: Millis,
        burst: u32,
        latest: Millis,
    ) -> Result<Option<Millis>, String> {
        let mut tats = self.tats.lock().unwrap_or_else(|p| p.into_inner());
        let tat = tats.get(key).copied().unwrap_or(now).max(now) + interval;
        if tat - interval * burst as Millis > latest {
            return Ok(None);
        }
        tats.insert(key.to_string(), tat);
        Ok(Some(tat))
    }

    async fn hold(&self, key: &str, tat: Millis) -> Result<(), String> {
        let mut tats = self.tats.lock().unwrap_or_else(|p| p.into_inner());
        let kept = tats.entry(key.to_string()).or_insert(tat);
        *kept = (*kept).max(tat);
        Ok(())
    }

    async fn peek(&self, key: &str) -> Result<Option<Millis>, String> {
        Ok(self.tats.lock().unwrap_or_else(|p| p.into_inner()).get(key).copied())
    }
}

/// How far ahead jobs sent back from a busy channel are given turns of their own; beyond it they
/// come back spread over the next window (about one claim per job per window).
const PARKING_WINDOW: Duration = Duration::from_secs(300);

/// What a caller must do before a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Go after waiting this long (zero: at once).
    After(Duration),
    /// Too far off to wait for here: come back in this long.
    Later(Duration),
}

/// The bot's paces: per channel for posts, per method after a 429.
pub struct Paces {
    book: Arc<dyn PaceBook>,
    /// Between two posts to one channel, and how many may go at once.
    interval: Duration,
    burst: u32,
}

impl Paces {
    pub fn new(book: Arc<dyn PaceBook>, interval: Duration, burst: u32) -> Self {
        Self {
            book,
            interval,
            burst: burst.max(1),
        }
    }

    fn channel_key(channel: &str) -> String {
        format!("slack:channel:{channel}")
    }

    /// The line of jobs sent back to wait for `channel`'s turns.
    fn parked_key(channel: &str) -> String {
        format!("slack:parked:{channel}")
    }

    fn method_key(method: &str) -> String {
        format!("slack:method:{method}")
    }

    /// A turn to post in `channel` (or, without one, to call `method`), waiting at most `patience`.
    pub async fn turn(&self, method: &str, channel: Option<&str>, patience: Duration) -> Turn {
        let now = now_millis();
        let latest = now + patience.as_millis() as Millis;
        let interval = self.interval.as_millis() as Millis;
        let answer = match channel {
            Some(channel) => {
                let key = Self::channel_key(channel);
                let reserved = self.book.reserve(&key, now, interval, self.burst, latest).await;
                reserved.map(|tat| tat.map(|tat| tat - interval * self.burst as Millis))
            }
            None => self.book.peek(&Self::method_key(method)).await,
        };
        match answer {
            Ok(Some(go_at)) if go_at > latest => Turn::Later(millis(go_at - now)),
            Ok(Some(go_at)) => Turn::After(millis(go_at - now)),
            Ok(None) if channel.is_some() => Turn::Later(self.next_turn(channel.unwrap_or_default(), now).await),
            Ok(None) => Turn::After(Duration::ZERO),
            Err(error) => {
                // Without the shared pace, Slack's own 429s still keep it.
                tracing::warn!(%error, "could not read Slack's pace; calling anyway");
                Turn::After(Duration::ZERO)
            }
        }
    }

    /// How long until `channel`'s next free turn when that is further off than `patience`,
    /// without reserving anything: work that would end waiting for a turn (a Look run, then
    /// sent back) is sent back before it is done.
    pub async fn out_of_reach(&self, channel: &str, patience: Duration) -> Option<Duration> {
        let now = now_millis();
        let interval = self.interval.as_millis() as Millis;
        let tat = self.book.peek(&Self::channel_key(channel)).await.ok().flatten()?;
        let go_at = tat - interval * (self.burst as Millis - 1);
        if go_at <= now + patience.as_millis() as Millis {
            return None;
        }
        Some(self.next_turn(channel, now).await)
    }

    /// How long until a job sent back from `channel` should come back: a turn of its own in the
    /// line behind the channel's next free one, so that a flood of jobs comes back one per turn
    /// instead of all of them every turn (each return is a claim and a deferral). Past
    /// [`PARKING_WINDOW`] of line, a job comes back at a random moment of the window after it,
    /// when the line has moved.
    async fn next_turn(&self, channel: &str, now: Millis) -> Duration {
        let interval = self.interval.as_millis() as Millis;
        let tat = self
            .book
            .peek(&Self::channel_key(channel))
            .await
            .ok()
            .flatten()
            .unwrap_or(now);
        let go_at = (tat - interval * (self.burst as Millis - 1)).max(now);
        let window = PARKING_WINDOW.as_millis() as Millis;
        let parked = self
            .book
            .reserve(&Self::parked_key(channel), go_at, interval, 1, now + window)
            .await;
        let come_back = match parked {
            // The line's new end, one interval after the turn just taken in it.
            Ok(Some(line_end)) => line_end - interval,
            _ => now + window + rand::random_range(0..=window),
        };
        millis(come_back - now).max(self.interval)
    }

    /// Slack asked to wait `retry_after` before calling again (in `channel`, or `method`).
    pub async fn hold(&self, method: &str, channel: Option<&str>, retry_after: Duration) {
        let until = now_millis() + retry_after.as_millis() as Millis;
        let interval = self.interval.as_millis() as Millis;
        let held = match channel {
            // The next reservation then may go at `until`.
            Some(channel) => {
                let tat = until + interval * (self.burst as Millis - 1);
                self.book.hold(&Self::channel_key(channel), tat).await
            }
            None => self.book.hold(&Self::method_key(method), until).await,
        };
        if let Err(error) = held {
            tracing::warn!(%error, "could not share Slack's Retry-After with other replicas");
        }
    }
}

fn millis(ms: Millis) -> Duration {
    Duration::from_millis(ms.max(0) as u64)
}

fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_goes_at_once_then_one_a_second_and_a_far_turn_is_not_reserved() {
        let book = LocalPaces::default();
        let (second, burst) = (1000, 3);
        let mut go = Vec::new();
        for _ in 0..5 {
            let tat = book.reserve("c", 0, second, burst, 10_000).await.unwrap().unwrap();
            go.push(tat - second * burst as Millis);
        }
        assert_eq!(go, [-2000, -1000, 0, 1000, 2000], "three at once, then a second apart");
        assert_eq!(book.reserve("c", 0, second, burst, 2_500).await.unwrap(), None);
        let next = book.reserve("c", 0, second, burst, 3_000).await.unwrap().unwrap();
        assert_eq!(next - 3000, 3000, "the refused turn was not taken");
    }

    #[tokio::test]
    async fn a_turn_out_of_reach_is_told_without_taking_one() {
        let paces = Paces::new(Arc::new(LocalPaces::default()), Duration::from_secs(1), 3);
        let patience = Duration::from_secs(5);
        assert_eq!(paces.out_of_reach("C1", patience).await, None, "a quiet channel");
        // A burst of three goes at once, then one a second: the seventh goes 4 s from now.
        for _ in 0..7 {
            assert!(matches!(
                paces.turn("chat.postMessage", Some("C1"), patience).await,
                Turn::After(_)
            ));
        }
        assert_eq!(
            paces.out_of_reach("C1", patience).await,
            None,
            "the next turn is 5 s off"
        );
        assert!(matches!(
            paces.turn("chat.postMessage", Some("C1"), patience).await,
            Turn::After(_)
        ));
        let Some(wait) = paces.out_of_reach("C1", patience).await else {
            panic!("the next turn is 6 s off")
        };
        assert!(wait >= Duration::from_secs(5), "{wait:?}");
        let Turn::Later(_) = paces.turn("chat.postMessage", Some("C1"), patience).await else {
            panic!("asking took no turn: the next is still out of reach")
        };
        assert_eq!(paces.out_of_reach("C2", patience).await, None, "another channel");
    }

    #[tokio::test]
    async fn jobs_sent_back_from_a_busy_channel_each_get_a_turn_of_their_own() {
        let paces = Paces::new(Arc::new(LocalPaces::default()), Duration::from_secs(1), 1);
        let patience = Duration::from_secs(2);
        for _ in 0..3 {
            paces.turn("chat.postMessage", Some("C1"), patience).await;
        }
        // The channel's next free turn is about 3 s off; the jobs sent back queue behind it.
        let mut back = Vec::new();
        for _ in 0..4 {
            back.push(paces.out_of_reach("C1", patience).await.unwrap().as_millis() as i64);
        }
        assert!((2_900..=3_000).contains(&back[0]), "{back:?}");
        for pair in back.windows(2) {
            assert!((990..=1_010).contains(&(pair[1] - pair[0])), "one turn apart: {back:?}");
        }
        // A line longer than the parking window: the rest come back spread over the next window.
        let window = PARKING_WINDOW.as_millis() as i64;
        let mut late = Vec::new();
        for _ in 0..(window / 1000 + 20) {
            late.push(paces.out_of_reach("C1", patience).await.unwrap().as_millis() as i64);
        }
        let beyond: Vec<_> = late.iter().filter(|ms| **ms > window + 100).collect();
        assert!(beyond.len() >= 15, "{} came back past the window", beyond.len());
        assert!(beyond.iter().all(|ms| **ms <= 2 * window), "{beyond:?}");
        assert_eq!(
            paces.out_of_reach("C2", patience).await,
            None,
            "another channel has no line"
        );
    }

    #[tokio::test]
    async fn a_retry_after_holds_one_channel_and_not_another() {
        let paces = Paces::new(Arc::new(LocalPaces::default()), Duration::from_secs(1), 3);
        paces
            .hold("chat.postMessage", Some("C1"), Duration::from_secs(20))
            .await;
        let patience = Duration::from_secs(5);
        assert!(matches!(
            paces.turn("chat.postMessage", Some("C1"), patience).await,
            Turn::Later(_)
        ));
        assert_eq!(
            paces.turn("chat.postMessage", Some("C2"), patience).await,
            Turn::After(Duration::ZERO)
        );
        paces.hold("conversations.history", None, Duration::from_secs(3)).await;
        let Turn::After(wait) = paces.turn("conversations.history", None, patience).await else {
            panic!("a 3 s hold is waited out")
        };
        assert!(wait > Duration::from_secs(2) && wait <= Duration::from_secs(3));
    }
}
