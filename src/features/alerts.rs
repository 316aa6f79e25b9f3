//! Never silent: a scheduled delivery or an Action Hub send that fails for good is reported once
//! in the operators' channel (`LOOKERBOT_ALERTS_CHANNEL`): what, where to, why, and how to run it
//! again. Failures that come together (a Slack or Looker outage) arrive as one message, not one
//! each. The report is a job of its own, posted once like any other.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::Context;
use super::action_hub::{HubDelivery, Target};
use super::deliveries::Delivery;
use super::errors::Error;
use super::ledger::Ledger;
use crate::domain::slack::OutgoingMessage;
use crate::queue::{Job, JobError, JobRun, Push};
use crate::render::{mrkdwn, section};
use crate::store::{StoreError, now_millis};

/// The jobs whose failure nobody would see otherwise (people asking get their answer in Slack).
const WATCHED: &[&str] = &[Delivery::KIND, HubDelivery::KIND];
/// The most failures one report covers; more make another.
const GROUP: u32 = 500;
/// Failures listed one by one in a report; the rest are counted.
const LISTED: usize = 10;
/// How often the store is looked at: failures within this window share a report.
pub const EVERY: Duration = Duration::from_secs(30);
/// Failures older than this when first seen (the channel was just set, or the bot was down) are
/// not reported, only marked: `lookerbot jobs --failed` lists them.
const TOO_OLD: Duration = Duration::from_secs(24 * 3600);

/// One failure, as the report shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failed {
    pub id: i64,
    pub summary: String,
    pub error: String,
}

/// A report of failures, to post in the alerts channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailureReport {
    pub channel: String,
    pub failures: Vec<Failed>,
}

impl Job for FailureReport {
    const KIND: &'static str = "failure_report";
    type Context = Context;

    fn summary(&self) -> String {
        format!(
            "report of {} failed deliveries to {}",
            self.failures.len(),
            self.channel
        )
    }

    async fn run(self, ctx: &Context, run: &JobRun) -> Result<(), JobError> {
        let ledger = Ledger::new(ctx, run)?;
        post(ctx, &ledger, &self).await.map_err(JobError::from)
    }
}

async fn post(ctx: &Context, ledger: &Ledger<'_>, report: &FailureReport) -> Result<(), Error> {
    let channel = super::action_hub::conversation(
        ctx,
        &Target::parse(&report.channel).unwrap_or(Target::Channel(report.channel.clone())),
    )
    .await?;
    let text = report_text(&report.failures);
    let message = OutgoingMessage {
        text: text.lines().next().unwrap_or_default().to_string(),
        blocks: vec![section(&text)],
    };
    ledger.post(&channel, &message, None).await?;
    Ok(())
}

/// The report: a headline, the first failures with their reason, how many more, and what to do.
pub fn report_text(failures: &[Failed]) -> String {
    let headline = match failures.len() {
        1 => "*A delivery failed for good.*".to_string(),
        n => format!("*{n} deliveries failed for good.*"),
    };
    let mut lines = vec![headline];
    for failed in failures.iter().take(LISTED) {
        lines.push(format!(
            "• {} (job {}): {}",
            mrkdwn::escape(&failed.summary),
            failed.id,
            mrkdwn::escape(&failed.error)
        ));
    }
    if failures.len() > LISTED {
        lines.push(format!("…and {} more.", failures.len() - LISTED));
    }
    lines.push(
        "Fix the cause, then run `lookerbot jobs retry --all-failed` (or `lookerbot jobs retry <job>` for one); \
         `lookerbot jobs --failed` lists them all."
            .to_string(),
    );
    lines.join("\n")
}

/// Reports the failures not reported yet, in one job; how many it covered. The report is
/// recorded before the failures are marked, so a crash in between reports them twice rather
/// than never.
pub async fn report_new_failures(ctx: &Context, channel: &str) -> Result<usize, StoreError> {
    let store = ctx.queue.store();
    let now = now_millis();
    let (dead, old): (Vec<_>, Vec<_>) = store
        .unalerted_dead(WATCHED, GROUP)
        .await?
        .into_iter()
        .partition(|job| now - job.updated_at < TOO_OLD.as_millis() as i64);
    if !old.is_empty() {
        let ids: Vec<i64> = old.iter().map(|job| job.id).collect();
        store.mark_alerted(&ids, now).await?;
        tracing::info!(
            failures = ids.len(),
            "older failed deliveries not reported; `lookerbot jobs --failed` lists them"
        );
    }
    let (Some(first), Some(last)) = (dead.first(), dead.last()) else {
        return Ok(0);
    };
    let key = format!("failure-report:{}-{}-{}", first.id, last.id, dead.len());
    let report = FailureReport {
        channel: channel.to_string(),
        failures: dead
            .iter()
            .map(|job| Failed {
                id: job.id,
                summary: job.summary.clone(),
                error: job.last_error.clone().unwrap_or_default(),
            })
            .collect(),
    };
    ctx.queue.push(&report, Push::once(key)).await?;
    let ids: Vec<i64> = dead.iter().map(|job| job.id).collect();
    store.mark_alerted(&ids, now).await?;
    Ok(ids.len())
}

/// Looks for new failures every [`EVERY`] until `stop`.
pub async fn watch(ctx: Arc<Context>, channel: String, stop: CancellationToken) {
    loop {
        match report_new_failures(&ctx, &channel).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(failures = n, "reported failed deliveries in the alerts channel"),
            Err(error) => tracing::warn!(%error, "could not look for failed deliveries to report"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.cancelled() => return,
        }
    }
}
