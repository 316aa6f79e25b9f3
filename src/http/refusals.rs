//! Refused requests are logged, but a flood of them cannot flood the log: the first refusal in
//! an interval is logged at once with its reason; later ones are counted and reported, with the
//! count and their reasons, by the next refusal after the interval.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often refusals of one kind are written to the log at most.
pub const INTERVAL: Duration = Duration::from_secs(60);

struct Window {
    started: Instant,
    /// Refusals not logged yet, by reason.
    unlogged: BTreeMap<&'static str, u64>,
}

/// The refusals of one kind of caller (Slack, Looker, the routing of unknown paths).
pub struct Refusals {
    caller: &'static str,
    window: Mutex<Option<Window>>,
}

impl Refusals {
    pub const fn new(caller: &'static str) -> Self {
        Self {
            caller,
            window: Mutex::new(None),
        }
    }

    /// Notes one refusal; logs it now or counts it for the next line.
    pub fn note(&self, reason: &'static str) {
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        match window.as_mut() {
            Some(open) if open.started.elapsed() < INTERVAL => {
                *open.unlogged.entry(reason).or_default() += 1;
            }
            _ => {
                if let Some(old) = window.take().filter(|w| !w.unlogged.is_empty()) {
                    let count: u64 = old.unlogged.values().sum();
                    let reasons: Vec<String> = old.unlogged.iter().map(|(r, n)| format!("{r} ({n})")).collect();
                    tracing::warn!(
                        caller = self.caller,
                        count,
                        reasons = %reasons.join("; "),
                        "more requests refused since the last report"
                    );
                }
                tracing::warn!(caller = self.caller, reason, "refused a request");
                *window = Some(Window {
                    started: Instant::now(),
                    unlogged: BTreeMap::new(),
                });
            }
        }
    }
}
