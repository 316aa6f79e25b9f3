//! The audit: every question and every data action, with who asked, as which Looker user it ran,
//! what ran, where the answer went and what came of it. A failure to record is logged and never
//! stops an answer. Read with `lookerbot audit`; kept `LOOKERBOT_AUDIT_DAYS`.

use super::Context;
use super::errors::{Error, UserError};
use crate::store::now_millis;
use crate::store::people::AuditEntry;

/// What was asked, where; the rest is learnt while it runs.
#[derive(Debug, Clone)]
pub struct Asked<'a> {
    pub team: &'a str,
    pub slack_user: &'a str,
    pub kind: &'a str,
    pub what: String,
    pub channel: &'a str,
    pub audience: &'a str,
    /// The job or click it was: recorded once however often that runs.
    pub key: String,
}

/// What came of it, as the audit says it.
pub fn outcome<T>(result: &Result<T, Error>) -> String {
    match result {
        Ok(_) => "answered".into(),
        Err(error) => told(&error.for_user()),
    }
}

/// The sentence a person was told: a failure an operator can fix, or a refusal.
pub fn told(sentence: &UserError) -> String {
    match sentence.detail() {
        Some(_) => format!("failed: {sentence}"),
        None => format!("refused: {sentence}"),
    }
}

/// Records one entry.
pub async fn record(ctx: &Context, asked: Asked<'_>, looker_user: Option<String>, outcome: String) {
    let printable = crate::telemetry::printable;
    let entry = AuditEntry {
        at: now_millis(),
        team: asked.team.to_string(),
        slack_user: asked.slack_user.to_string(),
        looker_user,
        kind: asked.kind.to_string(),
        what: printable(&crate::render::mrkdwn::truncate(&asked.what, 300)),
        channel: asked.channel.to_string(),
        audience: asked.audience.to_string(),
        outcome: printable(&crate::render::mrkdwn::truncate(&outcome, 300)),
        key: Some(asked.key),
    };
    if let Err(error) = ctx.queue.store().people().record_audit(&entry).await {
        tracing::error!(%error, kind = %entry.kind, "could not record a question in the audit");
    }
}

/// Forgets what is older than the retention (called from the bot's housekeeping).
pub async fn prune(ctx: &Context, retention: std::time::Duration) {
    let before = now_millis() - retention.as_millis() as i64;
    match ctx.queue.store().people().prune_audit(before).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(entries = n, "forgot audit entries past their retention"),
        Err(error) => tracing::warn!(%error, "could not prune the audit"),
    }
}
