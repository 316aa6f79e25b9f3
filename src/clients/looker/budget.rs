//! A Looker's query budget: Looker runs at most so many queries at once per user (15 by default)
//! and per instance (75), and queues the rest where the bot cannot see them. The bot waits here
//! instead, holding nothing else, and a person's question goes before scheduled work waiting for
//! the same slots, so a burst of deliveries never makes someone in Slack wait behind it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

pub struct QueryBudget {
    per_user: usize,
    per_instance: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    running: usize,
    by_user: HashMap<String, usize>,
    /// Waiting, in order: people first, then scheduled work.
    interactive: VecDeque<Waiter>,
    scheduled: VecDeque<Waiter>,
}

struct Waiter {
    user: String,
    grant: oneshot::Sender<QuerySlot>,
}

/// One query running; dropping it frees the slot for the next waiter.
pub struct QuerySlot {
    budget: Arc<QueryBudget>,
    user: String,
}

impl QueryBudget {
    pub fn new(per_user: usize, per_instance: usize) -> Arc<Self> {
        Arc::new(Self {
            per_user: per_user.max(1),
            per_instance: per_instance.max(1),
            state: Mutex::new(State::default()),
        })
    }

    /// A slot right away, if one is free and nobody as urgent waits for it.
    pub fn try_take(self: &Arc<Self>, user: &str, interactive: bool) -> Option<QuerySlot> {
        let mut state = self.lock();
        let queue_ahead = !state.interactive.is_empty() || (!interactive && !state.scheduled.is_empty());
        if queue_ahead || !self.fits(&state, user) {
            return None;
        }
        Some(self.grant(&mut state, user))
    }

    /// Waits for a slot for a query run as `user`.
    pub async fn take(self: &Arc<Self>, user: &str, interactive: bool) -> QuerySlot {
        if let Some(slot) = self.try_take(user, interactive) {
            return slot;
        }
        let (grant, granted) = oneshot::channel();
        {
            let mut state = self.lock();
            let waiter = Waiter {
                user: user.to_string(),
                grant,
            };
            match interactive {
                true => state.interactive.push_back(waiter),
                false => state.scheduled.push_back(waiter),
            }
        }
        self.hand_out();
        // The budget outlives every waiter (they hold it), so the grant always comes.
        granted.await.expect("the query budget hands every waiter a slot")
    }

    /// How many queries run now.
    pub fn running(&self) -> usize {
        self.lock().running
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fits(&self, state: &State, user: &str) -> bool {
        state.running < self.per_instance && state.by_user.get(user).copied().unwrap_or(0) < self.per_user
    }

    fn grant(self: &Arc<Self>, state: &mut State, user: &str) -> QuerySlot {
        state.running += 1;
        *state.by_user.entry(user.to_string()).or_default() += 1;
        QuerySlot {
            budget: self.clone(),
            user: user.to_string(),
        }
    }

    /// Gives free slots to waiters, people first, each queue in order (a waiter whose user is at
    /// its limit lets those behind it of other users go).
    fn hand_out(self: &Arc<Self>) {
        let mut refused = Vec::new();
        {
            let mut state = self.lock();
            for interactive in [true, false] {
                let mut index = 0;
                loop {
                    let queue = if interactive {
                        &state.interactive
                    } else {
                        &state.scheduled
                    };
                    let Some(waiter) = queue.get(index) else { break };
                    if !self.fits(&state, &waiter.user) {
                        index += 1;
                        continue;
                    }
                    let queue = if interactive {
                        &mut state.interactive
                    } else {
                        &mut state.scheduled
                    };
                    let waiter = queue.remove(index).expect("the waiter just seen");
                    let slot = self.grant(&mut state, &waiter.user);
                    // A waiter that gave up hands the slot back, once the lock is released.
                    if let Err(slot) = waiter.grant.send(slot) {
                        refused.push(slot);
                    }
                }
            }
        }
        drop(refused);
    }
}

impl Drop for QuerySlot {
    fn drop(&mut self) {
        {
            let mut state = self.budget.lock();
            state.running -= 1;
            if let Some(count) = state.by_user.get_mut(&self.user) {
                *count -= 1;
                if *count == 0 {
                    state.by_user.remove(&self.user);
                }
            }
        }
        self.budget.hand_out();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn limits_per_user_and_per_instance_are_both_kept() {
        let budget = QueryBudget::new(2, 3);
        let a1 = budget.take("a", false).await;
        let _a2 = budget.take("a", false).await;
        assert!(budget.try_take("a", false).is_none(), "a is at its own limit");
        let _b1 = budget.take("b", false).await;
        assert!(budget.try_take("c", false).is_none(), "the instance is full");
        assert_eq!(budget.running(), 3);
        drop(a1);
        assert!(budget.try_take("c", false).is_some());
    }

    #[tokio::test]
    async fn a_person_goes_before_scheduled_work_already_waiting() {
        let budget = QueryBudget::new(1, 1);
        let first = budget.take("bot", false).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for (name, interactive) in [("scheduled-1", false), ("scheduled-2", false), ("person", true)] {
            let (budget, order) = (budget.clone(), order.clone());
            waiting.push(tokio::spawn(async move {
                let _slot = budget.take("bot", interactive).await;
                order.lock().unwrap().push(name);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(first);
        for task in waiting {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), ["person", "scheduled-1", "scheduled-2"]);
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_does_not_keep_a_slot() {
        let budget = QueryBudget::new(1, 1);
        let held = budget.take("bot", false).await;
        let gave_up = tokio::time::timeout(Duration::from_millis(20), budget.take("bot", false)).await;
        assert!(gave_up.is_err());
        drop(held);
        assert_eq!(budget.running(), 0);
        assert!(budget.try_take("bot", false).is_some());
    }
}
