//! `lookerbot jobs`: what is queued, running and dead, with the last error of each; dead jobs run
//! again (`retry`) or forgotten (`drop`).

use std::process::ExitCode;
use std::sync::Arc;

use crate::store::{self, JobRecord, JobState, JobStore, now_millis, utc_text};
use crate::telemetry::printable;

/// The database `DATABASE_URL` names, if it exists (`None`: nothing created yet): read-only, or
/// `writable` for `retry` and `drop`. What went wrong is printed.
pub(super) async fn existing(database_url: &str, writable: bool) -> Result<Option<Arc<dyn JobStore>>, ExitCode> {
    let cannot = |error: anyhow::Error| {
        eprintln!("cannot open the database ({error:#}); check DATABASE_URL");
        ExitCode::FAILURE
    };
    match store::open_read_only(database_url).await.map_err(cannot)? {
        Some(_) if writable => store::connect(database_url, false).await.map(Some).map_err(cannot),
        found => Ok(found),
    }
}

/// Prints the jobs that are not done (or only the dead ones).
pub async fn list(database_url: &str, only_failed: bool, limit: u32) -> ExitCode {
    let store = match existing(database_url, false).await {
        Ok(Some(store)) => store,
        Ok(None) => {
            println!("No jobs: the database does not exist yet (`lookerbot serve` creates it; check DATABASE_URL).");
            return ExitCode::SUCCESS;
        }
        Err(code) => return code,
    };
    let jobs = match store.list(only_failed, limit).await {
        Ok(jobs) => jobs,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    if jobs.is_empty() {
        println!(
            "{}",
            if only_failed {
                "No failed jobs."
            } else {
                "No queued, running or failed jobs."
            }
        );
        return ExitCode::SUCCESS;
    }
    println!(
        "{:>6}  {:<8}  {:>8}  {:<20}  WHAT / LAST ERROR",
        "ID", "STATE", "ATTEMPTS", "UPDATED"
    );
    for job in jobs {
        println!(
            "{:>6}  {:<8}  {:>8}  {:<20}  {}",
            job.id,
            job.state.as_str(),
            format!("{}/{}", job.attempts, job.max_attempts),
            utc_text(job.updated_at),
            printable(&job.summary)
        );
        if let Some(why) = why_not_done(&job, now_millis()) {
            println!("{:>48}{}", "└ ", printable(&why));
        }
        if let Some(error) = job.last_error {
            println!("{:>48}{}", "└ last error: ", printable(&error));
        }
    }
    ExitCode::SUCCESS
}

/// What a job that is not done waits for: its turn at Slack's pace or a Looker's query slots
/// (as the job said), or the time of its next attempt.
fn why_not_done(job: &JobRecord, now: i64) -> Option<String> {
    match (job.state, &job.waiting) {
        (JobState::Running, Some(waiting)) => Some(format!("now {waiting}")),
        (JobState::Queued, Some(waiting)) => Some(format!("{waiting}; back at {}", utc_text(job.run_after))),
        (JobState::Queued, None) if job.run_after > now => Some(format!("next attempt at {}", utc_text(job.run_after))),
        _ => None,
    }
}

/// What to do with dead jobs.
pub enum Repair {
    /// One dead job, or all of them, run again with a fresh set of attempts.
    Retry(Option<i64>),
    /// One dead job forgotten.
    Drop(i64),
    /// A delivery refused because its channel name now names another channel: the name is
    /// pinned to the new channel and the job runs again.
    Repin(i64),
}

/// Runs dead jobs again or drops one, on the database a running bot uses (its workers pick
/// revived jobs up within a second).
pub async fn repair(database_url: &str, repair: Repair) -> ExitCode {
    let store = match existing(database_url, true).await {
        Ok(Some(store)) => store,
        Ok(None) => {
            println!("No jobs: the database does not exist yet (check DATABASE_URL).");
            return ExitCode::FAILURE;
        }
        Err(code) => return code,
    };
    let outcome = match repair {
        Repair::Retry(id) => store.revive(id, now_millis()).await.map(|revived| match (id, revived) {
            (Some(id), 0) => Err(format!("Job {id} is not a failed job (see `lookerbot jobs --failed`).")),
            (Some(id), _) => Ok(format!("Job {id} will run again, where it stopped.")),
            (None, 0) => Ok("No failed jobs.".to_string()),
            (None, n) => Ok(format!("{n} failed job(s) will run again, each where it stopped.")),
        }),
        Repair::Repin(id) => repin(store.as_ref(), id).await,
        Repair::Drop(id) => store.drop_dead(id).await.map(|dropped| {
            if dropped {
                Ok(format!("Job {id} is dropped."))
            } else {
                Err(format!(
                    "Job {id} is not a failed job (see `lookerbot jobs --failed`); only failed jobs are dropped."
                ))
            }
        }),
    };
    match outcome {
        Ok(Ok(done)) => {
            println!("{done}");
            ExitCode::SUCCESS
        }
        Ok(Err(refused)) => {
            eprintln!("{refused}");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

/// Forgets the pin of a failed delivery's channel name, then runs it again: it pins the name to
/// the channel it names now.
async fn repin(store: &dyn JobStore, id: i64) -> Result<Result<String, String>, crate::store::StoreError> {
    #[derive(serde::Deserialize)]
    struct Addressed {
        destination: crate::features::deliveries::Destination,
    }
    let Some(detail) = store.job_detail(id).await? else {
        return Ok(Err(format!("There is no job {id}.")));
    };
    let Ok(job) = serde_json::from_str::<Addressed>(&detail.payload) else {
        return Ok(Err(format!(
            "Job {id} is not a scheduled delivery; --repin is for those."
        )));
    };
    let key = crate::features::deliveries::pin_key(&job.destination);
    store.pins().unpin(&key).await?;
    Ok(match store.revive(Some(id), now_millis()).await? {
        0 => Err(format!("Job {id} is not a failed job (see `lookerbot jobs --failed`).")),
        _ => Ok(format!(
            "{} is pinned to the channel it names now; job {id} will run again.",
            job.destination
        )),
    })
}
