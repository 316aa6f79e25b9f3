//! Images Looker draws: render tasks, polled to a deadline, with the old `run/png` as a fallback
//! for queries when render tasks are refused.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;

use super::http::segment;
use super::{LookerClient, LookerError};
use crate::domain::looker::models::LookerId;

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

/// Output formats Looker renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Pdf,
}

impl Format {
    pub fn name(self) -> &'static str {
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

/// What Looker draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderTarget {
    Look(LookerId),
    Query(LookerId),
    /// A dashboard tile, with its saved filters.
    Tile(LookerId),
    /// A whole dashboard, with these filter values (a URL query string), tiled.
    Dashboard {
        id: String,
        filters: String,
    },
}

impl RenderTarget {
    /// The render task's path, each id one path segment.
    fn path(&self) -> String {
        match self {
            RenderTarget::Look(id) => format!("looks/{}", segment(id.as_str())),
            RenderTarget::Query(id) => format!("queries/{}", segment(id.as_str())),
            RenderTarget::Tile(id) => format!("dashboard_elements/{}", segment(id.as_str())),
            RenderTarget::Dashboard { id, .. } => format!("dashboards/{}", segment(id)),
        }
    }

    /// Only dashboards take a body (their filters and style); Looker's spec defines none for the
    /// others, so none is sent.
    fn body(&self) -> Option<Value> {
        match self {
            RenderTarget::Dashboard { filters, .. } => {
                Some(serde_json::json!({"dashboard_filters": filters, "dashboard_style": "tiled"}))
            }
            _ => None,
        }
    }
}

/// What to ask Looker to draw, and how big.
#[derive(Debug, Clone)]
pub struct RenderRequest {
    pub target: RenderTarget,
    pub format: Format,
    pub width: u32,
    pub height: u32,
    /// For the `run/png` fallback.
    pub query_id: Option<LookerId>,
}

fn is_renderer_missing(detail: &str) -> bool {
    let detail = detail.to_ascii_lowercase();
    detail.contains("render")
        && (detail.contains("not available") || detail.contains("unavailable") || detail.contains("disabled"))
}

/// `POST /render_tasks/...` and `GET /render_tasks/{id}`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
struct RenderTask {
    id: LookerId,
    /// enqueued_for_query, querying, enqueued_for_render, rendering, success, failure
    status: Option<String>,
    status_detail: Option<String>,
}

impl LookerClient {
    /// Asks Looker to draw, polls until done or the deadline, falls back to `run/png` for queries
    /// when render tasks are refused.
    pub async fn draw(&self, request: &RenderRequest, deadline: Duration) -> Result<Image, ImageError> {
        draw(self, request, deadline).await
    }

    /// Starts a render task.
    async fn start_render(&self, request: &RenderRequest) -> Result<RenderTask, LookerError> {
        let (width, height) = (request.width.to_string(), request.height.to_string());
        self.post_json(
            &format!("render_tasks/{}/{}", request.target.path(), request.format.name()),
            &[("width", &width), ("height", &height)],
            request.target.body().as_ref(),
        )
        .await
    }

    async fn render_status(&self, id: &LookerId) -> Result<RenderTask, LookerError> {
        self.get_json(&format!("render_tasks/{}", segment(id.as_str())), &[])
            .await
    }

    /// The rendered bytes, or `None` while Looker answers 202 (not ready yet).
    async fn render_results(&self, id: &LookerId) -> Result<Option<Vec<u8>>, LookerError> {
        self.get_bytes(&format!("render_tasks/{}/results", segment(id.as_str())), &[])
            .await
    }

    /// Looker's old synchronous image path; an empty body means no renderer is available.
    async fn run_query_png(&self, id: &LookerId, width: u32, height: u32) -> Result<Vec<u8>, LookerError> {
        let (width, height) = (width.to_string(), height.to_string());
        let bytes = self
            .get_bytes(
                &format!("queries/{}/run/png", segment(id.as_str())),
                &[("image_width", &width), ("image_height", &height)],
            )
            .await?;
        Ok(bytes.unwrap_or_default())
    }
}

async fn draw(looker: &LookerClient, request: &RenderRequest, deadline: Duration) -> Result<Image, ImageError> {
    let started = Instant::now();
    let task = match looker.start_render(request).await {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_targets_are_path_segments_and_only_dashboards_have_a_body() {
        let lookml = RenderTarget::Dashboard {
            id: "thelook::sales overview".into(),
            filters: "status=open".into(),
        };
        assert_eq!(lookml.path(), "dashboards/thelook%3A%3Asales%20overview");
        assert_eq!(lookml.body().unwrap()["dashboard_filters"], "status=open");
        let look = RenderTarget::Look(LookerId("7".into()));
        assert_eq!((look.path().as_str(), look.body()), ("looks/7", None));
        assert_eq!(
            RenderTarget::Tile(LookerId("a/b".into())).path(),
            "dashboard_elements/a%2Fb"
        );
    }
}
