//! `lookerbot audit`: who asked what, as which Looker user, where the answer went and what came
//! of it, newest first; as a table, or as JSON lines for a SIEM.

use std::process::ExitCode;
use std::time::Duration;

use super::jobs::existing;
use crate::store::people::AuditQuery;
use crate::store::{now_millis, utc_text};
use crate::telemetry::printable;

/// What `lookerbot audit` was asked for.
pub struct AuditRequest {
    pub user: Option<String>,
    pub since: Option<Duration>,
    pub json: bool,
    pub limit: u32,
}

pub async fn list(database_url: &str, request: AuditRequest) -> ExitCode {
    let store = match existing(database_url, false).await {
        Ok(Some(store)) => store,
        Ok(None) => {
            println!("Nothing audited: the database does not exist yet (check DATABASE_URL).");
            return ExitCode::SUCCESS;
        }
        Err(code) => return code,
    };
    let query = AuditQuery {
        slack_user: request.user,
        since: request.since.map(|d| now_millis() - d.as_millis() as i64),
        limit: request.limit,
    };
    let entries = match store.people().audit(&query).await {
        Ok(entries) => entries,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    if request.json {
        for e in entries {
            let line = serde_json::json!({"at": utc_text(e.at), "team": e.team, "slack_user": e.slack_user,
                "looker_user": e.looker_user, "kind": e.kind, "what": e.what, "channel": e.channel,
                "audience": e.audience, "outcome": e.outcome});
            println!("{line}");
        }
        return ExitCode::SUCCESS;
    }
    if entries.is_empty() {
        println!("Nothing audited in that time.");
        return ExitCode::SUCCESS;
    }
    println!(
        "{:<20}  {:<12}  {:<11}  {:<12}  {:<8}  WHAT → OUTCOME (AS)",
        "AT", "SLACK USER", "KIND", "CHANNEL", "AUDIENCE"
    );
    for e in entries {
        println!(
            "{:<20}  {:<12}  {:<11}  {:<12}  {:<8}  {} → {} ({})",
            utc_text(e.at),
            printable(&e.slack_user),
            e.kind,
            printable(&e.channel),
            e.audience,
            printable(&e.what),
            printable(&e.outcome),
            printable(e.looker_user.as_deref().unwrap_or("Looker not asked"))
        );
    }
    ExitCode::SUCCESS
}
