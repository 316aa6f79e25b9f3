//! Lanes keep one slow system from holding every worker: a job names the resource it mostly waits
//! on (a Looker), and a replica runs at most that lane's cap of its jobs at once, leaving the
//! other workers to the other lanes and to jobs without one. Caps come from the layer above.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Caps = dyn Fn(&str) -> usize + Send + Sync;

pub struct Lanes {
    caps: Box<Caps>,
    running: Mutex<HashMap<String, usize>>,
}

impl Lanes {
    /// `caps` gives a lane's cap (a Looker's: a few times the queries it may run at once).
    pub fn new(caps: impl Fn(&str) -> usize + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Self {
            caps: Box::new(caps),
            running: Mutex::new(HashMap::new()),
        })
    }

    /// No lane is ever full.
    pub fn unbounded() -> Arc<Self> {
        Self::new(|_| usize::MAX)
    }

    /// The lanes at their cap now: a worker takes none of their jobs.
    pub fn busy(&self) -> Vec<String> {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running
            .iter()
            .filter(|(lane, count)| **count >= (self.caps)(lane))
            .map(|(lane, _)| lane.clone())
            .collect()
    }

    /// Counts a job in its lane until the guard is dropped, if the lane has room; the check and
    /// the count are one step, so workers claiming at once cannot pass the cap together.
    pub fn try_enter(self: &Arc<Self>, lane: Option<&str>) -> Option<InLane> {
        if let Some(lane) = lane {
            let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
            let count = running.entry(lane.to_string()).or_default();
            if *count >= (self.caps)(lane) {
                if *count == 0 {
                    running.remove(lane);
                }
                return None;
            }
            *count += 1;
        }
        Some(InLane {
            lanes: self.clone(),
            lane: lane.map(str::to_string),
        })
    }
}

pub struct InLane {
    lanes: Arc<Lanes>,
    lane: Option<String>,
}

impl Drop for InLane {
    fn drop(&mut self) {
        if let Some(lane) = &self.lane {
            let mut running = self.lanes.running.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(count) = running.get_mut(lane) {
                *count -= 1;
                if *count == 0 {
                    running.remove(lane);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lane_is_busy_at_its_cap_and_free_again_when_a_job_leaves() {
        let lanes = Lanes::new(|lane| if lane == "looker:slow" { 2 } else { 5 });
        let first = lanes.try_enter(Some("looker:slow")).unwrap();
        let _other = lanes.try_enter(Some("looker:fast")).unwrap();
        let _none = lanes.try_enter(None).unwrap();
        assert!(lanes.busy().is_empty());
        let _second = lanes.try_enter(Some("looker:slow")).unwrap();
        assert_eq!(lanes.busy(), vec!["looker:slow".to_string()]);
        drop(first);
        assert!(lanes.busy().is_empty());
        let third = lanes.try_enter(Some("looker:slow"));
        assert!(third.is_some());
        assert!(lanes.try_enter(Some("looker:slow")).is_none(), "the cap is kept");
        assert!(lanes.try_enter(None).is_some());
    }
}
