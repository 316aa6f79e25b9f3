//! Looker API 4.0 client: typed calls for the content the bot shows (so no caller builds an API
//! path), over one login per Looker with its token cached, a timeout on every call, and errors
//! that carry Looker's own message.

mod acting;
mod auth;
mod budget;
mod error;
mod groups;
mod http;
mod images;
mod oauth;
mod readiness;
mod registry;
mod sudo;

use std::time::Duration;

use serde_json::Value;
use tokio::sync::Mutex;

use crate::config::{LookerSettings, LookerTls};
use crate::domain::looker::models::{
    ContentSummary, Dashboard, DataActionForm, DataActionResponse, Folder, FolderBase, Look, LookerId, MergeQuery,
    Query, QueryResult, ScheduledPlan,
};
pub use error::LookerError;
pub use groups::GroupModels;
use http::segment;
pub use images::{Format, Image, ImageError, RenderRequest, RenderTarget};
pub use oauth::{Grant, LinkedAccounts, LinkedToken, TokenOwner};
pub use registry::Lookers;

/// One Looker instance.
pub struct LookerClient {
    settings: LookerSettings,
    http: reqwest::Client,
    token: Mutex<Option<auth::CachedToken>>,
    /// The fallback API user's token (`*_or_shared`).
    fallback: Mutex<Option<auth::CachedToken>>,
    /// Query runs and renders in flight: at most `max_queries` per Looker user the bot acts
    /// as, `max_instance_queries` in all.
    queries: std::sync::Arc<budget::QueryBudget>,
    /// People's own Looker users and their tokens, where work runs as each person.
    sudo: sudo::SudoCache,
    /// Where people's OAuth-linked accounts are kept (set at start-up where any Looker uses them).
    links: std::sync::OnceLock<std::sync::Arc<dyn oauth::LinkedAccounts>>,
    /// The models of the groups channels are tied to.
    groups: groups::GroupCache,
}

impl std::fmt::Debug for LookerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LookerClient")
            .field("url", &self.settings.url.as_str())
            .finish()
    }
}

/// Builds the HTTP client every Looker call goes through, trusting an extra CA when configured.
pub fn http_client(tls: &LookerTls, timeout: Duration) -> anyhow::Result<reqwest::Client> {
    Ok(builder(tls)?
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .build()?)
}

/// The client for Looker's one-time download links: the same trust, no redirects followed (a
/// link is fetched only from the Looker that sent it), and no deadline for the whole download (a
/// gigabyte takes a while), only for connecting and between reads.
pub fn downloads_client(tls: &LookerTls, timeout: Duration) -> anyhow::Result<reqwest::Client> {
    Ok(builder(tls)?
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .read_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

fn builder(tls: &LookerTls) -> anyhow::Result<reqwest::ClientBuilder> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .user_agent(concat!("lookerbot/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = &tls.ca_cert_pem {
        for cert in reqwest::Certificate::from_pem_bundle(pem)? {
            builder = builder.add_root_certificate(cert);
        }
    }
    if tls.insecure {
        builder = builder.danger_accept_invalid_certs(true);
    }
    Ok(builder)
}

/// What a title search looks through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Look,
    Dashboard,
}

/// Fields a search answers with: enough to link and place each hit.
const SEARCH_FIELDS: &str = "id,title,short_url,folder";

impl LookerClient {
    pub fn new(settings: LookerSettings, http: reqwest::Client) -> Self {
        let queries = budget::QueryBudget::new(settings.max_queries, settings.max_instance_queries);
        Self {
            settings,
            http,
            token: Mutex::new(None),
            fallback: Mutex::new(None),
            queries,
            sudo: Default::default(),
            links: Default::default(),
            groups: Default::default(),
        }
    }

    pub fn settings(&self) -> &LookerSettings {
        &self.settings
    }

    /// `LOOKER_URL` without a trailing slash, for links.
    pub fn web_base(&self) -> String {
        self.settings.web_base()
    }

    pub async fn look(&self, id: &LookerId) -> Result<Look, LookerError> {
        self.get_json(&format!("looks/{}", segment(id.as_str())), &[]).await
    }

    /// A scheduled plan as Looker keeps it, read as the API user (who sees everyone's plans).
    pub async fn scheduled_plan(&self, id: &LookerId) -> Result<ScheduledPlan, LookerError> {
        self.get_json(&format!("scheduled_plans/{}", segment(id.as_str())), &[])
            .await
    }

    pub async fn query(&self, id: &LookerId) -> Result<Query, LookerError> {
        self.get_json(&format!("queries/{}", segment(id.as_str())), &[]).await
    }

    /// The query behind a share (`/x/<slug>`) or explore (`?qid=<slug>`) link.
    pub async fn query_by_slug(&self, slug: &str) -> Result<Query, LookerError> {
        self.get_json(&format!("queries/slug/{}", segment(slug)), &[]).await
    }

    /// Runs a saved query as `json_detail` (rendered values, labels, links, pivots).
    pub async fn run_query_detail(&self, id: &LookerId) -> Result<QueryResult, LookerError> {
        self.get_json(
            &format!("queries/{}/run/json_detail", segment(id.as_str())),
            &[
                ("apply_formatting", "true"),
                ("apply_vis", "true"),
                ("generate_drill_links", "true"),
            ],
        )
        .await
    }

    /// A dashboard with its tiles and filters (LookML dashboards take `model::name` ids).
    pub async fn dashboard(&self, id: &str) -> Result<Dashboard, LookerError> {
        self.get_json(&format!("dashboards/{}", segment(id)), &[]).await
    }

    pub async fn merge_query(&self, id: &LookerId) -> Result<MergeQuery, LookerError> {
        self.get_json(&format!("merge_queries/{}", segment(id.as_str())), &[])
            .await
    }

    /// A folder with the dashboards and Looks it holds (without their details).
    pub async fn folder(&self, id: &str) -> Result<Folder, LookerError> {
        self.get_json(&format!("folders/{}", segment(id)), &[]).await
    }

    /// The folders inside a folder.
    pub async fn folder_children(&self, id: &str) -> Result<Vec<FolderBase>, LookerError> {
        self.get_json(&format!("folders/{}/children", segment(id)), &[]).await
    }

    /// Looks or dashboards whose title matches `pattern` (`%` matches any run of characters).
    pub async fn search(
        &self,
        kind: ContentKind,
        pattern: &str,
        limit: u32,
    ) -> Result<Vec<ContentSummary>, LookerError> {
        let path = match kind {
            ContentKind::Look => "looks/search",
            ContentKind::Dashboard => "dashboards/search",
        };
        let limit = limit.to_string();
        self.get_json(
            path,
            &[("title", pattern), ("fields", SEARCH_FIELDS), ("limit", &limit)],
        )
        .await
    }

    /// Creates (or finds) a query; Looker wants no id, slug or client id on a changed query.
    pub async fn create_query(&self, query: &Query) -> Result<Query, LookerError> {
        let mut body = serde_json::to_value(query).map_err(|e| LookerError::Decode {
            what: "a query to create".into(),
            message: e.to_string(),
        })?;
        if let Some(map) = body.as_object_mut() {
            for key in [
                "id",
                "slug",
                "share_url",
                "client_id",
                "expanded_share_url",
                "url",
                "can",
            ] {
                map.remove(key);
            }
            map.insert("filter_config".into(), Value::Null);
        }
        self.post_json("queries", &[], Some(&body)).await
    }

    /// Sends a data action (`POST /data_actions`) with Looker's action object exactly as a
    /// result gave it, and the form's values.
    pub async fn perform_data_action(
        &self,
        action: &Value,
        form_values: &std::collections::BTreeMap<String, String>,
    ) -> Result<DataActionResponse, LookerError> {
        let body = serde_json::json!({"action": action, "form_values": form_values});
        self.post_json("data_actions", &[], Some(&body)).await
    }

    /// The form an action asks for first (`POST /data_actions/form`, the action object as body).
    pub async fn data_action_form(&self, action: &Value) -> Result<DataActionForm, LookerError> {
        self.post_json("data_actions/form", &[], Some(action)).await
    }
}
