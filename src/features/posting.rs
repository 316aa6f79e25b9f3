//! Posting rendered results: fetch the image Looker must draw, keep it where the operator chose
//! (a Slack upload by default, S3 when configured), attach the CSV, and thread what follows.
//! A transient failure (Looker or Slack down) fails the whole post before anything is shown, so
//! the job retries cleanly; a permanent one is shown to the reader as one plain sentence.

use slack_morphism::prelude::*;

use crate::clients::looker::LookerClient;
use crate::clients::looker::models::{Query, QueryResult};
use crate::clients::slack::FileUpload;
use crate::images::{self, Image, ImageError, RenderRequest};
use crate::jobs::{JobContext, JobError};
use crate::render::{Heading, RenderContext, Rendered, Source, render_query, warning};

/// Renders a result from this Looker with the bot's render options (Looker's drill links are
/// made absolute against its web address).
pub fn render_result(
    ctx: &JobContext,
    looker: &LookerClient,
    heading: &Heading,
    source: Source,
    result: &QueryResult,
    query: Option<&Query>,
) -> Rendered {
    let web_base = looker.web_base();
    let render_ctx = RenderContext {
        heading,
        looker_web_base: &web_base,
        source,
        options: &ctx.render,
    };
    render_query(result, query, &render_ctx)
}

/// A file name from a title: letters, digits and dashes, the rest underscores.
pub fn file_stem(title: &str) -> String {
    let stem: String = title
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' })
        .collect();
    let stem = stem.trim_matches('_').to_string();
    if stem.is_empty() { "looker".into() } else { stem }
}

/// Draws an image; transient Looker trouble becomes a job retry, the rest a sentence for the reader.
pub async fn draw(
    ctx: &JobContext,
    looker: &LookerClient,
    request: &RenderRequest,
) -> Result<Result<Image, ImageError>, JobError> {
    match images::draw(looker, request, ctx.render_timeout).await {
        Err(ImageError::Looker(error)) if error.is_transient() => Err(error.into()),
        other => Ok(other),
    }
}

/// Posts one rendered result; returns the message's timestamp when Slack gave one.
pub async fn post_rendered(
    ctx: &JobContext,
    looker: &LookerClient,
    channel: &SlackChannelId,
    thread: Option<&SlackTs>,
    rendered: Rendered,
) -> Result<Option<SlackTs>, JobError> {
    let Rendered {
        title,
        mut message,
        image,
        csv,
    } = rendered;
    let mut posted = None;

    let drawn = match &image {
        None => None,
        Some(need) => Some((
            need,
            match RenderRequest::for_source(&need.source) {
                Some(request) => draw(ctx, looker, &request).await?,
                None => Err(ImageError::Failed("nothing to draw it from".into())),
            },
        )),
    };
    match drawn {
        None => posted = Some(ctx.slack.post_message(channel, &message, thread).await?.ts),
        Some((_, Err(error))) => {
            tracing::warn!(%error, %title, "chart image unavailable");
            message.blocks.push(warning(&error.user_message()));
            posted = Some(ctx.slack.post_message(channel, &message, thread).await?.ts);
        }
        Some((need, Ok(image))) => match &ctx.images {
            Some(bucket) => {
                match bucket.store(&image).await {
                    Ok(url) => match url::Url::parse(&url) {
                        Ok(url) => message.blocks.push(SlackBlock::Image(SlackImageBlock::new(
                            SlackImageUrlOrFile::ImageUrl { image_url: url },
                            need.alt_text.clone(),
                        ))),
                        Err(error) => message
                            .blocks
                            .push(warning(&format!("The chart link was not valid ({error})."))),
                    },
                    Err(error) => {
                        tracing::error!(%error, %title, "could not store a chart image in S3");
                        message.blocks.push(warning(&error.user_message()));
                    }
                }
                posted = Some(ctx.slack.post_message(channel, &message, thread).await?.ts);
            }
            None => {
                // No public URL anywhere: the image is a private Slack upload shared with the message.
                let file = FileUpload {
                    filename: format!("{}.{}", file_stem(&title), image.extension),
                    title: title.clone(),
                    content_type: image.content_type.to_string(),
                    bytes: image.bytes,
                };
                ctx.slack
                    .upload_file(channel, &file, Some(message.blocks), thread)
                    .await?;
            }
        },
    }

    if let Some(csv) = csv {
        let file = FileUpload {
            filename: csv.filename,
            title: format!("{title} (CSV)"),
            content_type: "text/csv".into(),
            bytes: csv.bytes,
        };
        let under = posted.as_ref().or(thread);
        // The result is already in the channel: a failed attachment is reported, not retried.
        if let Err(error) = ctx.slack.upload_file(channel, &file, None, under).await {
            tracing::error!(%error, %title, "could not attach the CSV");
            let note = crate::clients::slack::OutgoingMessage {
                text: "The full result could not be attached as CSV.".into(),
                blocks: vec![warning(
                    "The full result could not be attached as CSV; open it in Looker instead.",
                )],
            };
            let _ = ctx.slack.post_message(channel, &note, under).await;
        }
    }
    Ok(posted)
}
