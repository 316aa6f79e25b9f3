//! Scheduled deliveries: Looker posts a schedule to `/slack/post/...`, the HTTP layer records a
//! [`Delivery`], and this job runs the Look again (or takes the dashboard's file) and posts it.

use base64::Engine;
use serde::{Deserialize, Serialize};
use slack_morphism::prelude::*;

use std::sync::LazyLock;

use regex::Regex;

use super::dashboards::{DashboardRequest, post_dashboard};
use crate::clients::looker::LookerClient;
use crate::clients::looker::models::{LookerId, Query};
use crate::clients::slack::FileUpload;
use crate::jobs::{JobContext, JobError};
use crate::present::{post_rendered, render_result};
use crate::render::{Heading, Rendered, Source, heading_block, heading_with_note};

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
    /// Standard base64 without line breaks.
    pub data_base64: String,
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
    },
    Dashboard {
        url: Option<String>,
        attachment: Option<Attachment>,
        download_url: Option<String>,
    },
}

/// The job payload: one scheduled delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    pub destination: Destination,
    /// The `LOOKER_URL` of the Looker that sent it (empty for a dashboard file from an unknown one).
    pub looker: String,
    pub title: Option<String>,
    pub content: Content,
}

impl Delivery {
    /// One line for logs and `lookerbot jobs`.
    pub fn summary(&self) -> String {
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
}

/// The channel to post in, resolved from the name in the URL.
async fn resolve(ctx: &JobContext, destination: &Destination) -> Result<SlackChannelId, JobError> {
    let directory = &ctx.slack.directory;
    match destination {
        Destination::Channel(name) | Destination::Group(name) => {
            directory.channel_id(&ctx.slack, name).await?.ok_or_else(|| {
                JobError::permanent(format!(
                    "no channel named #{name} that the bot can see (check the name; invite the bot to private channels)"
                ))
            })
        }
        Destination::Dm(name) => {
            let user = directory
                .user_id(&ctx.slack, name)
                .await?
                .ok_or_else(|| JobError::permanent(format!("no Slack user named @{name}")))?;
            Ok(ctx.slack.open_dm(&user).await?)
        }
    }
}

static DASHBOARD_URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"/dashboards(?:-next)?/([^/?#]+)").expect("valid regex"));

/// A dashboard URL as a request: its id and the filters in its query string.
pub fn dashboard_request(url: &str, title: Option<String>) -> Option<DashboardRequest> {
    let id = DASHBOARD_URL.captures(url)?[1].to_string();
    let filters = url::Url::parse(url)
        .map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default();
    Some(DashboardRequest {
        id,
        filters,
        title,
        link: Some(url.to_string()),
        host: None,
    })
}

fn looker_for<'a>(ctx: &'a JobContext, delivery: &Delivery) -> Result<&'a LookerClient, JobError> {
    ctx.lookers
        .by_web_base(&delivery.looker)
        .map(|l| l.as_ref())
        .ok_or_else(|| JobError::permanent(format!("{:?} is not a configured Looker", delivery.looker)))
}

pub async fn deliver(ctx: &JobContext, delivery: Delivery) -> Result<(), JobError> {
    let channel = resolve(ctx, &delivery.destination).await?;
    let result = match &delivery.content {
        Content::Look {
            look_id,
            query_id,
            query,
            url,
        } => {
            let looker = looker_for(ctx, &delivery)?;
            let rendered = render_look(
                ctx,
                looker,
                &delivery,
                look_id.as_ref(),
                query_id.as_ref(),
                query.as_deref(),
                url.as_deref(),
            )
            .await?;
            return post_rendered(ctx, looker, &channel, None, rendered).await.map(|_| ());
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
            let file = dashboard_file(ctx, &heading.title, attachment.as_ref(), download_url.as_deref()).await?;
            let request = url
                .as_deref()
                .and_then(|url| dashboard_request(url, delivery.title.clone()));
            match (file, request) {
                (Some(file), _) => ctx
                    .slack
                    .upload_file(&channel, &file, Some(vec![heading_block(&heading)]), None)
                    .await
                    .map(|_| ()),
                // No file: the bot renders the dashboard itself, every tile.
                (None, Some(request)) => {
                    let looker = looker_for(ctx, &delivery)?;
                    return post_dashboard(ctx, looker, &channel, None, &request, ctx.dashboard_style).await;
                }
                (None, None) => {
                    let note = "Looker sent no file with this delivery: choose PNG, PDF or CSV in the schedule, or open the dashboard.";
                    ctx.slack
                        .post_message(&channel, &heading_with_note(&heading, Some(note)), None)
                        .await
                        .map(|_| ())
                }
            }
        }
    };
    Ok(result?)
}

#[allow(clippy::too_many_arguments)]
async fn render_look(
    ctx: &JobContext,
    looker: &LookerClient,
    delivery: &Delivery,
    look_id: Option<&LookerId>,
    plan_query_id: Option<&LookerId>,
    plan_query: Option<&Query>,
    plan_url: Option<&str>,
) -> Result<Rendered, JobError> {
    let look = match look_id {
        Some(id) => Some(looker.look(id).await?),
        None => None,
    };
    let look_query_id = look.as_ref().and_then(|l| l.query_id.clone());
    let query_id = plan_query_id
        .cloned()
        .or_else(|| look_query_id.clone())
        .ok_or_else(|| JobError::permanent("the schedule names neither a Look nor a query"))?;
    // A filtered schedule runs its own query; link it to the schedule's URL, which carries the filters.
    let filtered = look.is_some() && look_query_id.as_ref() != Some(&query_id);

    let query = if !filtered && let Some(query) = look.as_ref().and_then(|l| l.query.clone()) {
        query
    } else if let Some(query) = plan_query.filter(|q| q.id.as_ref().is_none_or(|id| id == &query_id)) {
        query.clone()
    } else {
        looker.query(&query_id).await?
    };
    let result = looker.run_query_detail(&query_id).await?;

    let look_link = look
        .as_ref()
        .and_then(|l| l.short_url.as_deref())
        .map(|short| format!("{}{}", looker.web_base(), short));
    let link = if filtered {
        plan_url.map(str::to_string).or(look_link)
    } else {
        look_link.or(plan_url.map(str::to_string))
    };
    let title = delivery
        .title
        .clone()
        .or_else(|| look.as_ref().and_then(|l| l.title.clone()))
        .unwrap_or_else(|| "Looker result".into());
    let heading = Heading { title, link };
    // Looker draws a filtered schedule from its own query, an unfiltered one from the Look.
    let source = Source {
        look_id: if filtered {
            None
        } else {
            look.as_ref().map(|l| l.id.clone())
        },
        query_id: Some(query_id),
        dashboard_element_id: None,
    };
    Ok(render_result(ctx, looker, &heading, source, &result, Some(&query)))
}

/// The dashboard's file: the inline attachment, or one fetch of Looker's single-use download link.
async fn dashboard_file(
    ctx: &JobContext,
    title: &str,
    attachment: Option<&Attachment>,
    download_url: Option<&str>,
) -> Result<Option<FileUpload>, JobError> {
    let stem: String = title
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_matches('_')
        .to_string();
    let stem = if stem.is_empty() { "dashboard".to_string() } else { stem };
    if let Some(attachment) = attachment {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&attachment.data_base64)
            .map_err(|e| JobError::permanent(format!("attachment is not valid base64: {e}")))?;
        return Ok(Some(FileUpload {
            filename: format!("{stem}.{}", attachment.extension),
            title: title.to_string(),
            content_type: attachment.content_type.clone(),
            bytes,
        }));
    }
    let Some(url) = download_url else { return Ok(None) };
    let response = ctx
        .downloads
        .get(url)
        .send()
        .await
        .map_err(|e| JobError::transient(format!("could not fetch Looker's download link: {e}")))?;
    let status = response.status();
    if status.as_u16() != 200 {
        let message = format!("Looker's download link answered {status} (links work once, for an hour)");
        return Err(if status.is_server_error() {
            JobError::transient(message)
        } else {
            JobError::permanent(message)
        });
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let extension = extension_for(&content_type);
    let bytes = response
        .bytes()
        .await
        .map_err(|e| JobError::transient(format!("Looker's download was cut off: {e}")))?;
    Ok(Some(FileUpload {
        filename: format!("{stem}.{extension}"),
        title: title.to_string(),
        content_type,
        bytes: bytes.to_vec(),
    }))
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
