//! What the task making a call works for: whether a person waits for it (their calls go first
//! for a shared budget such as a Looker's query slots), who that person is (a Looker that runs
//! each person's work as their own Looker user reads it), and where to say what it waits for, so
//! that `lookerbot jobs` can tell an operator why a job has not finished. The queue sets it around
//! each job; the clients read it. Outside any job (an HTTP handler) a person is waiting.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

tokio::task_local! {
    static SCOPE: Scope;
}

/// The person work is done for: their Slack id and, when Slack gave it, their verified email;
/// or, for a schedule, the Looker user who owns it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Person {
    pub team: String,
    pub slack_user: String,
    pub email: Option<String>,
    /// The Looker user the work must run as, already known (a schedule's owner): never looked
    /// up by email, and never replaced by the API user.
    pub looker_user: Option<String>,
    /// Slack did not say who this is (its answer failed): nothing may run as anyone for them.
    pub unknown: bool,
}

#[derive(Clone)]
pub struct Scope {
    interactive: bool,
    person: Option<Arc<Person>>,
    /// As whom the person's work ran on Looker, for the audit.
    acted: Option<Acted>,
    waits: Option<Arc<watch::Sender<Option<String>>>>,
    /// When the job must have finished (its lease): a wait past it is handed back to the queue.
    deadline: Option<Instant>,
}

impl Scope {
    /// A job's scope: `waits` receives what it waits for, `None` when it waits no more.
    pub fn job(interactive: bool, waits: watch::Sender<Option<String>>, deadline: Instant) -> Self {
        Self {
            interactive,
            waits: Some(Arc::new(waits)),
            deadline: Some(deadline),
            person: None,
            acted: None,
        }
    }

    /// Runs `work` in this scope.
    pub async fn enter<F: Future>(self, work: F) -> F::Output {
        SCOPE.scope(self, work).await
    }
}

/// Where the Looker client notes as whom a person's work ran (the last Looker user it acted as).
pub type Acted = Arc<std::sync::Mutex<Option<String>>>;

/// Runs `work` for `person`, in the current scope otherwise (outside a job: a person waits);
/// `acted` learns as whom it ran.
pub async fn for_person<F: Future>(person: Person, acted: Acted, work: F) -> F::Output {
    let mut scope = SCOPE.try_with(Scope::clone).unwrap_or(Scope {
        interactive: true,
        waits: None,
        deadline: None,
        person: None,
        acted: None,
    });
    scope.person = Some(Arc::new(person));
    scope.acted = Some(acted);
    scope.enter(work).await
}

/// Notes as whom the running person's work runs on Looker (nothing outside a person's work).
pub fn note_acting(who: impl FnOnce() -> String) {
    if let Ok(Some(acted)) = SCOPE.try_with(|scope| scope.acted.clone()) {
        *acted.lock().unwrap_or_else(|p| p.into_inner()) = Some(who());
    }
}

/// The person the running work is for, if it was started by one.
pub fn person() -> Option<Arc<Person>> {
    SCOPE.try_with(|scope| scope.person.clone()).ok().flatten()
}

/// Whether a person waits for the work running now.
pub fn interactive() -> bool {
    SCOPE.try_with(|scope| scope.interactive).unwrap_or(true)
}

/// How long the running job may still wait inline, keeping a margin to finish its work after;
/// `None` outside a job.
pub fn time_left() -> Option<Duration> {
    let deadline = SCOPE.try_with(|scope| scope.deadline).ok().flatten()?;
    let left = deadline.saturating_duration_since(Instant::now());
    Some(left.saturating_sub(left / 2).saturating_sub(Duration::from_millis(250)))
}

/// Says what the running job waits for, until the returned guard is dropped.
#[must_use = "the wait is over when the guard is dropped"]
pub fn waiting(what: impl FnOnce() -> String) -> Waiting {
    let waits = SCOPE.try_with(|scope| scope.waits.clone()).ok().flatten();
    if let Some(waits) = &waits {
        waits.send_replace(Some(what()));
    }
    Waiting { waits }
}

pub struct Waiting {
    waits: Option<Arc<watch::Sender<Option<String>>>>,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(waits) = &self.waits {
            waits.send_replace(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wait_is_said_while_the_guard_lives_and_unsaid_after() {
        let (sender, receiver) = watch::channel(None);
        Scope::job(false, sender, Instant::now() + Duration::from_secs(10))
            .enter(async {
                assert!(!interactive());
                let left = time_left().unwrap();
                assert!(
                    left > Duration::from_secs(4) && left < Duration::from_secs(5),
                    "{left:?}"
                );
                let guard = waiting(|| "Slack's pace in C1".into());
                assert_eq!(receiver.borrow().as_deref(), Some("Slack's pace in C1"));
                drop(guard);
                assert_eq!(*receiver.borrow(), None);
            })
            .await;
        assert!(interactive(), "outside a job a person waits");
        assert_eq!(time_left(), None);
        drop(waiting(|| unreachable!("nobody listens outside a job")));
    }
}
