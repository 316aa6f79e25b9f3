//! One Action Hub delivery: a file Looker sent to the `slack` integration, shared in a channel or
//! with a person. Recorded as a job before Looker is answered; the job finds the conversation,
//! takes the file Looker pushed (kept beside the job) or fetches its `download_url` once, names it
//! by Looker's rules and shares it with Slack's external upload flow, streamed from the store. A
//! plain comment rides along as the file's comment; one with links or formatting is posted as its
//! own message after it (Slack shows a file's comment as plain text).

use serde::{Deserialize, Serialize};
use slack_morphism::prelude::*;

use super::filename::{complete_filename, extension_for_format};
use crate::clients::slack::FileUpload;
use crate::domain::slack::OutgoingMessage;
use crate::features::Context;
use crate::features::deliveries::extension_for;
use crate::features::downloads::fetch_once;
use crate::features::errors::Error;
use crate::features::ledger::Ledger;
use crate::features::stored_files::{content_of, forget_when_finished};
use crate::queue::{Job, JobError, JobRun};
use crate::render::section;

/// Where the form says to share: a channel (an id, or `#name`) or a person (an id, or `@name`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "lowercase")]
pub enum Target {
    Channel(String),
    Person(String),
}

/// Slack's user ids (`U…`, `W…`; channel names are never upper case), as Looker's hub tells them.
fn is_user_id(raw: &str) -> bool {
    raw.len() >= 2 && raw.starts_with(['U', 'W']) && raw.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

impl Target {
    /// The form's `channel`: `U…`/`W…` ids and `@names` are people, the rest channels.
    pub fn parse(raw: &str) -> Option<Target> {
        let raw = raw.trim();
        if raw.is_empty() {
            return None;
        }
        Some(if raw.starts_with('@') || is_user_id(raw) {
            Target::Person(raw.to_string())
        } else {
            Target::Channel(raw.to_string())
        })
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Channel(name) | Target::Person(name) => f.write_str(name),
        }
    }
}

/// A file Looker pushed, kept in the job store beside the job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HubFile {
    pub file_id: i64,
    pub content_type: String,
    pub extension: String,
}

/// The job payload: one delivery through the `slack` integration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HubDelivery {
    pub target: Target,
    pub comment: Option<String>,
    /// The name the user typed in the form.
    pub filename: Option<String>,
    /// The schedule's title.
    pub title: Option<String>,
    /// `form_params.format` (how a streamed file is named).
    pub format: Option<String>,
    pub file: Option<HubFile>,
    /// Checked at intake to point at the system that sent it.
    pub download_url: Option<crate::sealing::SealedText>,
    /// When Looker's request arrived (names a file that has no title the same on every attempt).
    pub received_at: i64,
}

impl Job for HubDelivery {
    const KIND: &'static str = "action_hub_delivery";
    type Context = Context;

    fn summary(&self) -> String {
        format!(
            "Action Hub file '{}' to {}",
            self.title.as_deref().unwrap_or("untitled"),
            self.target
        )
    }

    async fn run(self, ctx: &Context, run: &JobRun) -> Result<(), JobError> {
        let ledger = Ledger::new(ctx, run)?;
        let delivered = deliver(ctx, &ledger, &self).await.map_err(JobError::from);
        let files: Vec<i64> = self.file.iter().map(|f| f.file_id).chain(ledger.kept_files()).collect();
        forget_when_finished(ctx.queue.store(), run, &delivered, files).await?;
        delivered
    }
}

/// The conversation to share in.
pub async fn conversation(ctx: &Context, target: &Target) -> Result<SlackChannelId, Error> {
    let directory = &ctx.slack.directory;
    match target {
        Target::Channel(name) => directory.channel_id(&ctx.slack, name).await?.ok_or_else(|| {
            JobError::permanent(format!(
                "no channel {name} that the bot can see (check the name; invite the bot to private channels)"
            ))
            .into()
        }),
        Target::Person(name) => {
            let user = match is_user_id(name) {
                true => SlackUserId(name.clone()),
                false => directory
                    .user_id(&ctx.slack, name)
                    .await?
                    .ok_or_else(|| Error::from(JobError::permanent(format!("no Slack user {name}"))))?,
            };
            Ok(ctx.slack.open_dm(&user).await?)
        }
    }
}

/// Whether Slack would lose something of the comment as a file's plain comment.
fn formatted(comment: &str) -> bool {
    comment.contains("://") || comment.chars().any(|c| matches!(c, '<' | '*' | '_' | '~' | '`' | '>'))
}

async fn deliver(ctx: &Context, ledger: &Ledger<'_>, delivery: &HubDelivery) -> Result<(), Error> {
    let channel = conversation(ctx, &delivery.target).await?;
    let comment = delivery.comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let store = ctx.queue.store();
    let gone = || {
        JobError::permanent(
            "Looker's file is no longer kept (it is let go when a send fails for good, and after seven days); send it again from Looker",
        )
    };
    let (content, content_type, extension) = match (&delivery.file, &delivery.download_url) {
        (Some(file), _) => (
            content_of(store, file.file_id).await?.ok_or_else(gone)?,
            file.content_type.clone(),
            file.extension.clone(),
        ),
        (None, Some(url)) => {
            let url = super::super::downloads::unsealed(ctx, url, "download_url")?;
            let url = url::Url::parse(&url).map_err(|_| JobError::permanent("the download_url is not a URL"))?;
            let kept = fetch_once(ctx, ledger, url, ctx.hub.max_bytes).await?;
            let extension = match delivery.format.as_deref() {
                Some(format) => extension_for_format(format).to_string(),
                None => extension_for(&kept.content_type).to_string(),
            };
            let content = content_of(store, kept.id).await?.ok_or_else(gone)?;
            (content, kept.content_type, extension)
        }
        (None, None) => {
            // Nothing to upload: the comment alone, as Looker's own action does.
            let Some(comment) = comment else {
                return Err(JobError::permanent("Looker sent no data and no comment: nothing to deliver").into());
            };
            ledger.post(&channel, &message(comment), None).await?;
            return Ok(());
        }
    };
    let filename = complete_filename(
        delivery.filename.as_deref(),
        delivery.title.as_deref(),
        &extension,
        delivery.received_at,
    );
    let file = FileUpload {
        title: filename.clone(),
        filename,
        content_type,
        content,
        comment: comment.filter(|c| !formatted(c)).map(str::to_string),
    };
    ledger.upload(&channel, &file, None, None).await?;
    if let Some(comment) = comment.filter(|c| formatted(c)) {
        ledger.post(&channel, &message(comment), None).await?;
    }
    Ok(())
}

/// The comment as a message: Slack's formatting, as the user wrote it.
fn message(comment: &str) -> OutgoingMessage {
    OutgoingMessage {
        text: comment.to_string(),
        blocks: vec![section(comment)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_channel_names_a_channel_or_a_person() {
        assert_eq!(Target::parse(" C0123ABCD "), Some(Target::Channel("C0123ABCD".into())));
        assert_eq!(Target::parse("#sales"), Some(Target::Channel("#sales".into())));
        assert_eq!(Target::parse("U0123ABCD"), Some(Target::Person("U0123ABCD".into())));
        assert_eq!(Target::parse("W0123ABCD"), Some(Target::Person("W0123ABCD".into())));
        assert_eq!(Target::parse("@glinda"), Some(Target::Person("@glinda".into())));
        assert_eq!(Target::parse("U12345"), Some(Target::Person("U12345".into())));
        assert_eq!(Target::parse("Unicorns"), Some(Target::Channel("Unicorns".into())));
        assert_eq!(Target::parse("  "), None);
    }

    #[test]
    fn comments_with_links_or_formatting_are_posted_on_their_own() {
        assert!(!formatted("Weekly numbers attached"));
        assert!(formatted("See <https://looker.example.com/dashboards/1|the dashboard>"));
        assert!(formatted("*Revenue* is up"));
        assert!(formatted("details at https://example.com"));
    }
}
