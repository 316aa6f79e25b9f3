//! The queue's lanes for this bot: one per Looker, so that a slow Looker holds at most its own
//! share of the workers (three per query slot) and the other Lookers' deliveries keep flowing.
//! Work a person waits for has no lane: it is never held back behind a full one.

use std::collections::HashMap;
use std::sync::Arc;

use crate::clients::looker::Lookers;
use crate::domain::looker::LookerKey;
use crate::queue::Lanes;

const PREFIX: &str = "looker:";

/// The lane of work that queries this Looker.
pub fn looker(key: &LookerKey) -> String {
    format!("{PREFIX}{key}")
}

/// Each Looker's lane with its cap, from its query limits.
pub fn for_lookers(lookers: &Lookers) -> Arc<Lanes> {
    let caps: HashMap<String, usize> = lookers
        .all()
        .map(|(key, client)| (looker(key), client.settings().lane_cap()))
        .collect();
    // A lane of a Looker no longer configured: its jobs fail fast, so any cap will do.
    let fallback = caps.values().copied().min().unwrap_or(45);
    Lanes::new(move |lane| caps.get(lane).copied().unwrap_or(fallback))
}
