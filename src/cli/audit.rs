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
            let acted = e.looker_user.as_deref().map(LookerActor::parse).unwrap_or_default();
            let line = serde_json::json!({"at": utc_text(e.at), "team": e.team, "slack_user": e.slack_user,
                "looker_host": acted.host, "looker_acting_as": acted.acting_as, "looker_user_id": acted.user_id,
                "looker_user_email": acted.email, "kind": e.kind, "what": e.what, "channel": e.channel,
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

/// As whom a question ran on Looker, fact by fact, from what the audit keeps
/// (`looker.example.com: user 42 (ann@example.com)`, `…: the API user`, `…: the fallback API user`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LookerActor {
    pub host: Option<String>,
    /// `user`, `api_user` or `fallback_api_user`; none when Looker was not asked.
    pub acting_as: Option<&'static str>,
    pub user_id: Option<String>,
    pub email: Option<String>,
}

impl LookerActor {
    pub fn parse(text: &str) -> LookerActor {
        let Some((host, who)) = text.split_once(": ") else {
            return LookerActor::default();
        };
        let host = Some(host.to_string());
        match who {
            "the API user" => LookerActor {
                host,
                acting_as: Some("api_user"),
                ..Default::default()
            },
            "the fallback API user" => LookerActor {
                host,
                acting_as: Some("fallback_api_user"),
                ..Default::default()
            },
            _ => {
                let who = who.strip_prefix("user ").unwrap_or(who);
                let (id, email) = match who.split_once(" (") {
                    Some((id, email)) => (id, email.strip_suffix(')').map(str::to_string)),
                    None => (who, None),
                };
                LookerActor {
                    host,
                    acting_as: Some("user"),
                    user_id: Some(id.to_string()),
                    email,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LookerActor;

    #[test]
    fn as_whom_a_question_ran_is_split_into_its_facts() {
        let person = LookerActor::parse("looker.example.com: user 42 (ann@example.com)");
        assert_eq!(person.host.as_deref(), Some("looker.example.com"));
        assert_eq!(person.acting_as, Some("user"));
        assert_eq!(person.user_id.as_deref(), Some("42"));
        assert_eq!(person.email.as_deref(), Some("ann@example.com"));
        let no_email = LookerActor::parse("looker.example.com:19999: user 7");
        assert_eq!((no_email.user_id.as_deref(), no_email.email), (Some("7"), None));
        let api = LookerActor::parse("looker.example.com: the fallback API user");
        assert_eq!((api.acting_as, api.user_id), (Some("fallback_api_user"), None));
        assert_eq!(LookerActor::parse("garbled"), LookerActor::default());
    }
}
