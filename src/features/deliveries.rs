//! Scheduled deliveries: Looker posts a schedule to `/slack/post/...`, the HTTP layer records a
//! [`Delivery`], and this job runs the Look again (or takes the dashboard's file) and posts it.

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize};
use slack_morphism::prelude::*;

use super::Context;
use super::dashboards::{DashboardRequest, post_dashboard};
use super::downloads::{fetch_once, on_looker};
use super::errors::{Error, UserError};
use super::ledger::Ledger;
use super::looks::{LookRun, render_look};
use super::posting::{file_stem, post_rendered};
use super::stored_files::{content_of, forget_when_finished};
use crate::clients::looker::LookerClient;
use crate::clients::slack::{FileContent, FileUpload};
use crate::domain::looker::models::{LookerId, Query};
use crate::domain::looker::{Content as LinkContent, LookerChoice, LookerKey};
use crate::queue::{Job, JobError, JobRun};
use crate::render::{Heading, heading_block, heading_with_note};

/// Where Lookerbot's URL says to post: `/slack/post/{channel|group|dm}/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "lowercase")]
pub enum Destination {
    Channel(String),
    Group(String),
    Dm(String),
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Channel(name) | Destination::Group(name) => write!(f, "#{}", name.trim_start_matches('#')),
            Destination::Dm(user) => write!(f, "@{}", user.trim_start_matches('@')),
        }
    }
}

/// A file Looker attached to the delivery, already decoded from its base64 lines.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attachment {
    pub content_type: String,
    pub extension: String,
    /// The bytes, kept in the job store beside the job.
    #[serde(default)]
    pub file_id: Option<i64>,
    /// Older payloads carry the bytes as standard base64 in the payload itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_base64: Option<String>,
}

/// What the schedule delivers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    /// A Look (run again here so the bot can render it), or a bare query.
    Look {
        look_id: Option<LookerId>,
        /// The plan's query: differs from the Look's for a filtered schedule.
        query_id: Option<LookerId>,
        query: Option<Box<Query>>,
        url: Option<String>,
        /// The plan's filters (`filters_string`), applied to the Look's query.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        filters: Vec<(String, String)>,
    },
    Dashboard {
        url: Option<String>,
        attachment: Option<Attachment>,
        /// Looker's one-time link to the file, sealed.
        download_url: Option<crate::sealing::SealedText>,
    },
}

/// The job payload: one scheduled delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    pub destination: Destination,
    /// The Looker that sent it (`None` for a dashboard file from a Looker the bot cannot tell).
    #[serde(deserialize_with = "key_or_none")]
    pub looker: Option<LookerKey>,
    pub title: Option<String>,
    pub content: Content,
    /// The Looker user who owns the plan: where the Looker answers people as themselves, the
    /// delivery runs as them, so a schedule shows no more than its owner may see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// Older payloads wrote an unknown Looker as `""`.
fn key_or_none<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<LookerKey>, D::Error> {
    let key = Option::<LookerKey>::deserialize(deserializer)?;
    Ok(key.filter(|k| !k.as_str().is_empty()))
}

impl Delivery {
    /// The dashboard's attachment, kept in the job store under `file_id`.
    pub fn keep_attachment(&mut self, content_type: String, extension: String, file_id: i64) {
        if let Content::Dashboard { attachment, .. } = &mut self.content {
            *attachment = Some(Attachment {
                content_type,
                extension,
                file_id: Some(file_id),
                data_base64: None,
            });
        }
    }
}

impl Job for Delivery {
    const KIND: &'static str = "looker_delivery";
    type Context = Context;

    /// One line for logs and `lookerbot jobs`.
    fn summary(&self) -> String {
        let kind = match self.content {
            Content::Look { .. } => "Look",
            Content::Dashboard { .. } => "dashboard",
        };
        format!(
            "scheduled {kind} '{}' to {}",
            self.title.as_deref().unwrap_or("untitled"),
            self.destination
        )
    }

    /// The Looker it queries: a slow one then holds only its own share of the workers.
    fn lane(&self) -> Option<String> {
        self.looker.as_ref().map(super::lanes::looker)
    }

    async fn run(self, ctx: &Context, run: &JobRun) -> Result<(), JobError> {
        let ledger = Ledger::new(ctx, run)?;
        let kept = match &self.content {
            Content::Dashboard {
                attachment: Some(Attachment { file_id: Some(id), .. }),
                ..
            } => Some(*id),
            _ => None,
        };
        let (looker, owner) = (self.looker.clone(), self.owner.clone());
        let delivered = match looker {
            Some(looker) => {
                let work = deliver(ctx, &ledger, self);
                super::identity::as_schedule_owner(ctx, &looker, owner.as_deref(), work).await
            }
            None => deliver(ctx, &ledger, self).await,
        }
        .map_err(JobError::from);
        let files: Vec<i64> = kept.into_iter().chain(ledger.kept_files()).collect();
        forget_when_finished(ctx.queue.store(), run, &delivered, files).await?;
        delivered
    }
}

/// The channel to post in, resolved from the name in the URL. A name is pinned to the channel it
/// first resolved to: when it later names another channel (renamed, re-created), nothing is
/// posted until an operator confirms (`lookerbot jobs retry ID --repin`). Ids always work.
async fn resolve(ctx: &Context, destination: &Destination) -> Result<SlackChannelId, Error> {
    let directory = &ctx.slack.directory;
    match destination {
        Destination::Channel(name) | Destination::Group(name) => {
            let id = directory.channel_id(&ctx.slack, name).await?.ok_or_else(|| {
                Error::from(JobError::permanent(format!(
                    "no channel named #{name} that the bot can see (check the name; invite the bot to private channels)"
                )))
            })?;
            if id.0 == name.trim() {
                return Ok(id);
            }
            let pins = ctx.queue.store().pins();
            let pinned = pins
                .pin(&pin_key(destination), &id.0, crate::store::now_millis())
                .await
                .map_err(|e| JobError::transient(format!("could not read the channel pins: {e}")))?;
            if pinned != id.0 {
                return Err(JobError::permanent(format!(
                    "#{name} now names another channel ({id}) than the one its deliveries went to ({pinned}); nothing was posted. If the new channel is right, confirm with `lookerbot jobs retry <job> --repin`",
                    id = id.0
                ))
                .into());
            }
            Ok(id)
        }
        Destination::Dm(name) => {
            let user = directory.user_id(&ctx.slack, name).await?.ok_or_else(|| {
                Error::from(JobError::permanent(format!(
                    "no Slack user with the account name or email @{name} (display names are not used)"
                )))
            })?;
            Ok(ctx.slack.open_dm(&user).await?)
        }
    }
}

/// The name a destination's channel is pinned under (`channel/` and `group/` name one channel).
pub fn pin_key(destination: &Destination) -> String {
    match destination {
        Destination::Channel(name) | Destination::Group(name) => {
            format!("channel:{}", name.trim().trim_start_matches('#').to_lowercase())
        }
        Destination::Dm(name) => format!("dm:{}", name.trim().trim_start_matches('@').to_lowercase()),
    }
}

fn looker_for<'a>(ctx: &'a Context, delivery: &Delivery) -> Result<&'a LookerClient, Error> {
    delivery
        .looker
        .as_ref()
        .and_then(|key| ctx.lookers.get(key))
        .ok_or_else(|| JobError::permanent(format!("{:?} is not a configured Looker", delivery.looker)).into())
}

async fn deliver(ctx: &Context, ledger: &Ledger<'_>, delivery: Delivery) -> Result<(), Error> {
    let channel = resolve(ctx, &delivery.destination).await?;
    // Behind a flood to this channel the job waits its turn before running anything on Looker.
    ctx.slack.turn_within_reach(&channel).await?;
    match &delivery.content {
        Content::Look {
            look_id,
            query_id,
            query,
            url,
            filters,
        } => {
            let looker = looker_for(ctx, &delivery)?;
            let filtered = match (look_id, query_id, filters.is_empty()) {
                (Some(look), None, false) => Some(filtered_look_query(looker, look, filters).await?),
                _ => None,
            };
            let run = LookRun {
                look_id: look_id.as_ref(),
                plan_query_id: filtered.as_ref().and_then(|q| q.id.as_ref()).or(query_id.as_ref()),
                plan_query: filtered.as_ref().or(query.as_deref()),
                plan_url: url.as_deref(),
                title: delivery.title.as_deref(),
            };
            let rendered = render_look(ctx, looker, run).await?;
            post_rendered(ctx, ledger, looker, &channel, None, rendered).await?;
        }
        Content::Dashboard {
            url,
            attachment,
            download_url,
        } => {
            let heading = Heading {
                title: delivery.title.clone().unwrap_or_else(|| "Dashboard".into()),
                link: url.clone(),
            };
            let sender = delivery.looker.as_ref().and_then(|key| ctx.lookers.get(key));
            let file = dashboard_file(
                ctx,
                ledger,
                sender,
                &heading.title,
                attachment.as_ref(),
                download_url.as_ref().and_then(|url| url.open(&ctx.sealer)).as_deref(),
            )
            .await?;
            let shown = url.as_deref().and_then(|url| ctx.lookers.registry().link(url));
            match (file, shown.map(|link| link.content)) {
                (Some(file), _) => {
                    ledger
                        .upload(&channel, &file, Some(vec![heading_block(&heading)]), None)
                        .await?;
                }
                // No file: the bot renders the dashboard itself, every tile.
                (None, Some(LinkContent::Dashboard { id, filters })) => {
                    let looker = looker_for(ctx, &delivery)?;
                    let request = DashboardRequest {
                        looker: delivery.looker.clone().map(LookerChoice::Key).unwrap_or_default(),
                        id,
                        filters,
                        title: delivery.title.clone(),
                        link: url.clone(),
                        strict_filters: false,
                    };
                    post_dashboard(ctx, ledger, looker, &channel, None, &request, ctx.dashboard_style).await?;
                }
                (None, _) => {
                    let note = UserError::NoFileInDelivery.to_string();
                    ledger
                        .post(&channel, &heading_with_note(&heading, Some(&note)), None)
                        .await?;
                }
            }
        }
    }
    Ok(())
}

/// The Look's query with the plan's filters set: a filtered schedule of an unfiltered Look.
async fn filtered_look_query(
    looker: &LookerClient,
    look_id: &LookerId,
    filters: &[(String, String)],
) -> Result<Query, Error> {
    let look = looker.look(look_id).await?;
    let mut query = match (look.query, look.query_id) {
        (Some(query), _) => query,
        (None, Some(id)) => looker.query(&id).await?,
        (None, None) => {
            return Err(UserError::NoQuery {
                what: format!("Look {look_id}"),
            }
            .into());
        }
    };
    let set = query.filters.get_or_insert_with(Default::default);
    for (field, value) in filters {
        set.insert(field.clone(), Some(value.clone()));
    }
    Ok(looker.create_query(&query).await?)
}

/// The dashboard's file: the inline attachment, or one fetch of Looker's single-use download link.
async fn dashboard_file(
    ctx: &Context,
    ledger: &Ledger<'_>,
    looker: Option<&LookerClient>,
    title: &str,
    attachment: Option<&Attachment>,
    download_url: Option<&str>,
) -> Result<Option<FileUpload>, Error> {
    let stem = file_stem(title);
    let file = |extension: &str, content_type: String, content: FileContent| FileUpload {
        filename: format!("{stem}.{extension}"),
        title: title.to_string(),
        content_type,
        content,
        comment: None,
    };
    let gone = || JobError::permanent("Looker's attachment is no longer kept (files are kept for seven days)");
    if let Some(attachment) = attachment {
        let content = match (attachment.file_id, &attachment.data_base64) {
            (Some(id), _) => content_of(ctx.queue.store(), id).await?.ok_or_else(gone)?,
            (None, Some(data)) => base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|e| JobError::permanent(format!("attachment is not valid base64: {e}")))?
                .into(),
            (None, None) => return Err(JobError::permanent("the attachment has no bytes").into()),
        };
        return Ok(Some(file(
            &attachment.extension,
            attachment.content_type.clone(),
            content,
        )));
    }
    let Some(url) = download_url else { return Ok(None) };
    let url = looker_download(looker, url)?;
    let kept = fetch_once(ctx, ledger, url, ctx.download_limit).await?;
    let content = content_of(ctx.queue.store(), kept.id).await?.ok_or_else(gone)?;
    Ok(Some(file(
        extension_for(&kept.content_type),
        kept.content_type,
        content,
    )))
}

/// A download link is fetched only from the Looker that sent the schedule (its web or API host):
/// a payload naming any other address is refused, so a webhook cannot make the bot fetch from
/// elsewhere.
fn looker_download(looker: Option<&LookerClient>, url: &str) -> Result<url::Url, Error> {
    let refused = |why: &str| -> Error {
        tracing::warn!(url = %crate::telemetry::printable(url), why, "refused a download link");
        JobError::permanent(format!("refused Looker's download link: {why}")).into()
    };
    let looker = looker.ok_or_else(|| refused("the bot cannot tell which Looker sent this schedule"))?;
    let parsed = url::Url::parse(url).map_err(|_| refused("it is not a URL"))?;
    if on_looker(looker, &parsed) {
        Ok(parsed)
    } else {
        Err(refused("it does not point at the Looker that sent the schedule"))
    }
}

/// A file extension for a MIME type Looker sends.
pub fn extension_for(content_type: &str) -> &'static str {
    let mime = content_type.split(';').next().unwrap_or("").trim();
    match mime {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "application/pdf" => "pdf",
        "text/csv" => "csv",
        "text/plain" => "txt",
        "application/json" => "json",
        "application/zip" => "zip",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "text/html" => "html",
        _ => "bin",
    }
}
