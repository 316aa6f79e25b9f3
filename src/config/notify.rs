//! The notify API's settings: who may send (each sender named, with its own token) and whether
//! their text may mention people and channels.

use super::checker::{Checker, non_empty};
use super::{RawSettings, Secret};

#[derive(Debug, Clone, Default)]
pub struct NotifySettings {
    /// `LOOKERBOT_NOTIFY_TOKENS=ci:<secret>,ml:<secret>`: each sender's name and token. Empty:
    /// `/api/notify` is off.
    pub senders: Vec<(String, Secret)>,
    /// Leave `<!channel>`, `<@U…>` in a sender's text as mentions (else they are shown as text).
    pub allow_mentions: bool,
    /// Notifications one sender may send a minute (per replica); past it, 429.
    pub per_minute: u32,
}

impl NotifySettings {
    /// The sender whose token this is, compared in constant time with every sender's.
    pub fn sender(&self, presented: &str) -> Option<&str> {
        let mut found = None;
        for (name, token) in &self.senders {
            if token.matches(presented) && found.is_none() {
                found = Some(name.as_str());
            }
        }
        found
    }
}

impl RawSettings {
    pub(super) fn notify(&self, c: &mut Checker) -> NotifySettings {
        let mut senders = Vec::new();
        for entry in non_empty(&self.lookerbot_notify_tokens).unwrap_or("").split(',') {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            match entry.split_once(':') {
                Some((name, token)) if valid_name(name) && token.len() >= 16 => {
                    if senders.iter().any(|(n, _): &(String, Secret)| n == name) {
                        c.problem("LOOKERBOT_NOTIFY_TOKENS", format!("sender {name} is named twice"));
                    }
                    senders.push((name.to_string(), Secret::new(token)));
                }
                Some((name, _)) if valid_name(name) => c.problem(
                    "LOOKERBOT_NOTIFY_TOKENS",
                    format!("the token of {name} is shorter than 16 characters"),
                ),
                _ => c.problem(
                    "LOOKERBOT_NOTIFY_TOKENS",
                    "expected name:token pairs separated by commas (names of letters, digits, - and _)",
                ),
            }
        }
        NotifySettings {
            senders,
            allow_mentions: c.flag(
                "LOOKERBOT_NOTIFY_ALLOW_MENTIONS",
                &self.lookerbot_notify_allow_mentions,
                false,
            ),
            per_minute: c.number(
                "LOOKERBOT_NOTIFY_PER_MINUTE",
                &self.lookerbot_notify_per_minute,
                120u32,
                1,
                1_000_000,
            ),
        }
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 40 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
