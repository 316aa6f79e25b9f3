//! Images Looker draws (render tasks, polled to a deadline; the old `run/png` as a fallback) and
//! where they are kept for Slack: uploaded to Slack itself by default (no public URL anywhere),
//! or an S3 bucket with presigned links when the operator configures one.

mod s3;

use std::time::{Duration, Instant};

use crate::clients::looker::{LookerClient, LookerError};
use crate::render::Source;
pub use s3::{S3Error, S3Images};

/// A drawn image or document.
#[derive(Debug, Clone)]
pub struct Image {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub extension: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("Looker has no image renderer available ({0})")]
    NoRenderer(String),
    #[error("Looker did not finish drawing within {}s", .0.as_secs())]
    TimedOut(Duration),
    #[error("Looker could not draw it: {0}")]
    Failed(String),
    #[error(transparent)]
    Looker(#[from] LookerError),
}

impl ImageError {
    /// The sentence a Slack user reads in place of the image.
    pub fn user_message(&self) -> String {
        match self {
            ImageError::NoRenderer(_) => {
                "Looker could not draw this chart because its image renderer is not available. \
                 Ask a Looker admin to enable rendering on the instance, or open the chart in Looker."
                    .into()
            }
            ImageError::TimedOut(limit) => format!(
                "Looker took longer than {} seconds to draw this chart. Open it in Looker, or try again later.",
                limit.as_secs()
            ),
            ImageError::Failed(detail) => format!("Looker could not draw this chart ({detail}). Open it in Looker."),
            ImageError::Looker(error) => format!("Looker could not draw this chart ({error})."),
        }
    }
}

/// Output formats Looker renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Pdf,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Pdf => "pdf",
        }
    }

    fn image(self, bytes: Vec<u8>) -> Image {
        match self {
            Format::Png => Image {
                bytes,
                content_type: "image/png",
                extension: "png",
            },
            Format::Pdf => Image {
                bytes,
                content_type: "application/pdf",
                extension: "pdf",
            },
        }
    }
}

/// What to ask Looker to draw, and how big.
#[derive(Debug, Clone)]
pub struct RenderRequest {
    /// `looks/{id}`, `queries/{id}`, `dashboard_elements/{id}` or `dashboards/{id}`.
    pub target: String,
    pub format: Format,
    pub width: u32,
    pub height: u32,
    /// Dashboards: `{dashboard_filters, dashboard_style}`.
    pub body: Option<serde_json::Value>,
    /// For the `run/png` fallback.
    pub query_id: Option<crate::clients::looker::models::LookerId>,
}

impl RenderRequest {
    /// A chart for a rendered result: the tile, the Look, or the query, in that order.
    pub fn for_source(source: &Source) -> Option<RenderRequest> {
        let (target, width, height) = if let Some(id) = &source.dashboard_element_id {
            (format!("dashboard_elements/{id}"), 800, 600)
        } else if let Some(id) = &source.look_id {
            (format!("looks/{id}"), 1000, 700)
        } else {
            (format!("queries/{}", source.query_id.as_ref()?), 1000, 700)
        };
        Some(RenderRequest {
            target,
            format: Format::Png,
            width,
            height,
            body: None,
            query_id: source.query_id.clone(),
        })
    }
}

fn is_renderer_missing(detail: &str) -> bool {
    let detail = detail.to_ascii_lowercase();
    detail.contains("render")
        && (detail.contains("not available") || detail.contains("unavailable") || detail.contains("disabled"))
}

/// Asks Looker to draw, polls until done or the deadline, falls back to `run/png` for queries
/// when render tasks are refused.
pub async fn draw(looker: &LookerClient, request: &RenderRequest, deadline: Duration) -> Result<Image, ImageError> {
    let started = Instant::now();
    let task = match looker
        .start_render(
            &request.target,
            request.format.name(),
            request.width,
            request.height,
            request.body.as_ref(),
        )
        .await
    {
        Ok(task) => task,
        Err(error) if matches!(error.status(), Some(400 | 404 | 405 | 422 | 501)) => {
            let Some(query_id) = request.query_id.as_ref().filter(|_| request.format == Format::Png) else {
                return Err(ImageError::Failed(error.to_string()));
            };
            tracing::info!(%error, "render task refused; trying Looker's run/png");
            return match looker.run_query_png(query_id, request.width, request.height).await {
                Ok(bytes) if bytes.is_empty() => Err(ImageError::NoRenderer("run/png returned nothing".into())),
                Ok(bytes) => Ok(Format::Png.image(bytes)),
                Err(error) if matches!(error.status(), Some(400 | 422 | 501)) => {
                    Err(ImageError::NoRenderer(error.to_string()))
                }
                Err(error) => Err(error.into()),
            };
        }
        Err(error) => return Err(error.into()),
    };

    let mut pause = Duration::from_millis(250);
    loop {
        let status = looker.render_status(&task.id).await?;
        match status.status.as_deref() {
            Some("success") => break,
            Some("failure") => {
                let detail = status.status_detail.unwrap_or_else(|| "no detail given".into());
                return Err(if is_renderer_missing(&detail) {
                    ImageError::NoRenderer(detail)
                } else {
                    ImageError::Failed(detail)
                });
            }
            _ => {}
        }
        if started.elapsed() + pause > deadline {
            return Err(ImageError::TimedOut(deadline));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
    // Results may still answer 202 for a moment after success.
    loop {
        if let Some(bytes) = looker.render_results(&task.id).await? {
            if bytes.is_empty() {
                return Err(ImageError::NoRenderer("the render task produced no bytes".into()));
            }
            return Ok(request.format.image(bytes));
        }
        if started.elapsed() + pause > deadline {
            return Err(ImageError::TimedOut(deadline));
        }
        tokio::time::sleep(pause).await;
    }
}
