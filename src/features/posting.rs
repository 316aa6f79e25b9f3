//! Posting rendered results: fetch the image Looker must draw, keep it where the operator chose
//! (a Slack upload by default, S3 when configured), attach the CSV, and thread what follows.
//! A transient failure (Looker or Slack down) fails the whole post before anything is shown, so
//! the job retries cleanly; a permanent one is shown to the reader as one plain sentence.

use slack_morphism::prelude::*;

use super::Context;
use super::errors::{Error, UserError};
use super::ledger::Ledger;
use crate::clients::looker::{Format, Image, ImageError, LookerClient, RenderRequest, RenderTarget};
use crate::clients::slack::FileUpload;
use crate::domain::looker::models::{Query, QueryResult};
use crate::domain::slack::OutgoingMessage;
use crate::render::{ActionKeys, Heading, RenderContext, Rendered, Source, render_query, warning};
use crate::store::now_millis;

/// Renders a result from this Looker with the bot's render options (Looker's drill links are
/// made absolute against its web address). The data actions it offers as buttons are kept
/// before it is returned, so that whatever posts it, a click finds its action.
pub async fn render_result(
    ctx: &Context,
    looker: &LookerClient,
    heading: &Heading,
    source: Source,
    result: &QueryResult,
    query: Option<&Query>,
) -> Result<Rendered, Error> {
    let web_base = looker.web_base();
    let keys = ctx.action_keys.mint(now_millis() / 1000);
    let render_ctx = RenderContext {
        heading,
        looker_web_base: &web_base,
        source,
        options: &ctx.render,
        actions: ctx
            .features
            .data_actions_in_messages
            .then_some(&keys as &dyn ActionKeys),
    };
    let rendered = render_query(result, query, &render_ctx);
    if let Some(problem) = &rendered.problem {
        tracing::warn!(title = %rendered.title, %problem, "Looker could not run a query");
    }
    super::data_actions::keep(ctx, looker, &rendered.actions).await?;
    Ok(rendered)
}

/// A file name from a title: letters, digits and dashes, the rest underscores.
pub fn file_stem(title: &str) -> String {
    let stem: String = title
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = stem.trim_matches('_').to_string();
    if stem.is_empty() { "looker".into() } else { stem }
}

/// A chart for a rendered result: the tile, the Look, or the query, in that order.
pub fn render_request(source: &Source) -> Option<RenderRequest> {
    let (target, width, height) = if let Some(id) = &source.dashboard_element_id {
        (RenderTarget::Tile(id.clone()), 800, 600)
    } else if let Some(id) = &source.look_id {
        (RenderTarget::Look(id.clone()), 1000, 700)
    } else {
        (RenderTarget::Query(source.query_id.clone()?), 1000, 700)
    };
    Some(RenderRequest {
        target,
        format: Format::Png,
        width,
        height,
        query_id: source.query_id.clone(),
    })
}

/// What came of asking Looker to draw.
pub enum Drawn {
    Image(Image),
    /// Looker could not draw it for good: readers see this sentence instead.
    Missing(UserError),
}

/// Draws an image; transient Looker trouble is an error (the job retries), the rest a sentence.
pub async fn draw(ctx: &Context, looker: &LookerClient, request: &RenderRequest) -> Result<Drawn, Error> {
    match looker.draw(request, ctx.render_timeout).await {
        Ok(image) => Ok(Drawn::Image(image)),
        Err(ImageError::Looker(error)) if error.is_transient() => Err(error.into()),
        Err(error) => Ok(Drawn::Missing(UserError::from_image(&error))),
    }
}

/// Posts one rendered result; returns the message's timestamp when Slack gave one.
pub async fn post_rendered(
    ctx: &Context,
    ledger: &Ledger<'_>,
    looker: &LookerClient,
    channel: &SlackChannelId,
    thread: Option<&SlackTs>,
    rendered: Rendered,
) -> Result<Option<SlackTs>, Error> {
    let Rendered {
        title,
        mut message,
        image,
        csv,
        ..
    } = rendered;
    let drawn = match &image {
        None => None,
        Some(need) => Some(match render_request(&need.source) {
            Some(request) => draw(ctx, looker, &request).await?,
            None => Drawn::Missing(UserError::ChartFailed {
                detail: "nothing to draw it from".into(),
            }),
        }),
    };
    let alt_text = image.map(|need| need.alt_text).unwrap_or_default();
    let mut uploaded = false;
    match drawn {
        Some(Drawn::Image(image)) => match &ctx.images {
            Some(bucket) => message.blocks.push(match bucket.store(&image).await {
                Ok(url) => SlackBlock::Image(SlackImageBlock::new(
                    SlackImageUrlOrFile::ImageUrl { image_url: url },
                    alt_text,
                )),
                Err(error) => warning(&UserError::from_bucket(&error).to_string()),
            }),
            None => {
                // No public URL anywhere: the image is a private Slack upload shared with the message.
                let file = FileUpload {
                    filename: format!("{}.{}", file_stem(&title), image.extension),
                    title: title.clone(),
                    content_type: image.content_type.to_string(),
                    content: image.bytes.into(),
                    comment: None,
                };
                ledger
                    .upload(channel, &file, Some(std::mem::take(&mut message.blocks)), thread)
                    .await?;
                uploaded = true;
            }
        },
        Some(Drawn::Missing(sentence)) => message.blocks.push(warning(&sentence.to_string())),
        None => {}
    }
    let posted = if uploaded {
        None
    } else {
        Some(ledger.post(channel, &message, thread).await?.ts)
    };

    if let Some(csv) = csv {
        attach_csv(ledger, channel, posted.as_ref().or(thread), &title, csv).await?;
    }
    Ok(posted)
}

/// The whole result as CSV under the answer. The result is already in the channel: a failed
/// attachment is reported, not retried (unless it waits for an earlier attempt's upload to land:
/// then the job comes back).
async fn attach_csv(
    ledger: &Ledger<'_>,
    channel: &SlackChannelId,
    under: Option<&SlackTs>,
    title: &str,
    csv: crate::render::CsvFile,
) -> Result<(), Error> {
    let file = FileUpload {
        filename: csv.filename,
        title: format!("{title} (CSV)"),
        content_type: "text/csv".into(),
        content: csv.bytes.into(),
        comment: None,
    };
    let Err(error) = ledger.upload(channel, &file, None, under).await else {
        return Ok(());
    };
    if error.waits_its_turn() {
        return Err(error);
    }
    let sentence = UserError::CsvNotAttached {
        detail: error.to_string(),
    };
    tracing::error!(%error, %title, "could not attach the CSV");
    let note = OutgoingMessage {
        text: sentence.to_string(),
        blocks: vec![warning(&sentence.to_string())],
    };
    let _ = ledger.post(channel, &note, under).await;
    Ok(())
}
