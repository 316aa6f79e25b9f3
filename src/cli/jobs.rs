//! `lookerbot jobs`: what is queued, running and dead, with the last error of each.

use std::process::ExitCode;

use crate::store;
use crate::telemetry::printable;

/// Prints the jobs that are not done (or only the dead ones).
pub async fn list(database_url: &str, only_failed: bool, limit: u32) -> ExitCode {
    let store = match store::open_read_only(database_url).await {
        Ok(Some(store)) => store,
        Ok(None) => {
            println!("No jobs: the database does not exist yet (`lookerbot serve` creates it; check DATABASE_URL).");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("cannot open the database ({error}); check DATABASE_URL");
            return ExitCode::FAILURE;
        }
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
            utc(job.updated_at),
            printable(&job.summary)
        );
        if let Some(error) = job.last_error {
            println!("{:>48}{}", "└ ", printable(&error));
        }
    }
    ExitCode::SUCCESS
}

/// RFC 3339 UTC time, to the second, from unix milliseconds.
fn utc(millis: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(millis.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}
