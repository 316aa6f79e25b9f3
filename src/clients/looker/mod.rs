//! Looker API 4.0 client: form login, a cached token refreshed before it expires, one re-login on
//! a 401, a timeout on every call, and errors that carry Looker's own message.

pub mod models;

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::config::{LookerSettings, LookerTls, Secret};
use models::{AccessToken, ApiErrorBody, Dashboard, Look, LookerId, MergeQuery, Query, QueryResult, RenderTask};

#[derive(Debug, thiserror::Error)]
pub enum LookerError {
    #[error("Looker login failed at {looker}: {message}")]
    Login {
        looker: String,
        status: Option<u16>,
        message: String,
    },
    #[error("Looker answered {status} to {what}: {message}")]
    Api { status: u16, what: String, message: String },
    #[error("could not reach Looker for {what}: {}", cause_chain(source))]
    Network {
        what: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("Looker's answer to {what} could not be read: {message}")]
    Decode { what: String, message: String },
}

/// An error and its causes, `a: b: c`: reqwest's own text ("error sending request") hides the
/// cause an operator needs (a refused certificate, a refused connection).
pub fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}

impl LookerError {
    /// Worth trying again later: the network, Looker being busy or down, or a failed login (an
    /// instance restarting or an admin fixing credentials; attempts run out if it stays broken).
    pub fn is_transient(&self) -> bool {
        match self {
            LookerError::Login { .. } => true,
            LookerError::Api { status, .. } => *status == 408 || *status == 429 || *status >= 500,
            LookerError::Network { .. } => true,
            LookerError::Decode { .. } => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            LookerError::Api { status, .. } => Some(*status),
            LookerError::Login { status, .. } => *status,
            _ => None,
        }
    }
}

struct CachedToken {
    value: Secret,
    refresh_at: Instant,
}

/// One Looker instance.
pub struct LookerClient {
    settings: LookerSettings,
    http: reqwest::Client,
    token: Mutex<Option<CachedToken>>,
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
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .user_agent(concat!("lookerbot/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = &tls.ca_cert_pem {
        for cert in reqwest::Certificate::from_pem_bundle(pem)? {
            builder = builder.add_root_certificate(cert);
        }
    }
    if tls.insecure {
        builder = builder.danger_accept_invalid_certs(true);
    }
    Ok(builder.build()?)
}

impl LookerClient {
    pub fn new(settings: LookerSettings, http: reqwest::Client) -> Self {
        Self {
            settings,
            http,
            token: Mutex::new(None),
        }
    }

    pub fn settings(&self) -> &LookerSettings {
        &self.settings
    }

    /// `LOOKER_URL` without a trailing slash, for links.
    pub fn web_base(&self) -> String {
        self.settings.web_base()
    }

    fn endpoint(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.settings.api_base_url.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }

    /// Logs in (form-encoded, as Looker documents) and returns the new token.
    async fn login(&self) -> Result<CachedToken, LookerError> {
        let looker = self.settings.url.to_string();
        let response = self
            .http
            .post(self.endpoint("login"))
            .form(&[
                ("client_id", self.settings.client_id.as_str()),
                ("client_secret", self.settings.client_secret.expose()),
            ])
            .send()
            .await
            .map_err(|e| LookerError::Login {
                looker: looker.clone(),
                status: None,
                message: cause_chain(&e),
            })?;
        let status = response.status();
        if !status.is_success() {
            let message = error_message(response).await;
            return Err(LookerError::Login {
                looker,
                status: Some(status.as_u16()),
                message,
            });
        }
        let token: AccessToken = response.json().await.map_err(|e| LookerError::Login {
            looker,
            status: Some(status.as_u16()),
            message: e.to_string(),
        })?;
        let lifetime = Duration::from_secs(token.expires_in.unwrap_or(3600).max(1) as u64);
        // Refresh a little early so a call never starts with a token about to expire.
        let margin = (lifetime / 10).min(Duration::from_secs(60));
        tracing::debug!(looker = %self.settings.url, expires_in = lifetime.as_secs(), "logged in to Looker");
        Ok(CachedToken {
            value: Secret::new(token.access_token),
            refresh_at: Instant::now() + lifetime - margin,
        })
    }

    /// A valid token: the cached one, or a fresh login when it is missing, due or was just refused.
    async fn token(&self, refused: Option<&Secret>) -> Result<Secret, LookerError> {
        let mut cached = self.token.lock().await;
        let usable = cached
            .as_ref()
            .filter(|t| Instant::now() < t.refresh_at && refused.is_none_or(|r| r != &t.value));
        if let Some(token) = usable {
            return Ok(token.value.clone());
        }
        let fresh = self.login().await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    /// Checks the credentials by logging in, for `lookerbot check`.
    pub async fn verify_login(&self) -> Result<(), LookerError> {
        self.token(None).await.map(|_| ())
    }

    /// Sends one API call; on a 401 logs in again once and repeats it.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<reqwest::Response, LookerError> {
        let what = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let mut refused: Option<Secret> = None;
        loop {
            let token = self.token(refused.as_ref()).await?;
            let mut request = self
                .http
                .request(method.clone(), self.endpoint(path))
                .header(reqwest::header::AUTHORIZATION, format!("token {}", token.expose()))
                .query(query);
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(|source| LookerError::Network {
                what: what.clone(),
                source,
            })?;
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && refused.is_none() {
                tracing::info!(looker = %self.settings.url, "Looker refused the token; logging in again");
                refused = Some(token);
                continue;
            }
            if !status.is_success() {
                let message = error_message(response).await;
                return Err(LookerError::Api {
                    status: status.as_u16(),
                    what,
                    message,
                });
            }
            return Ok(response);
        }
    }

    pub async fn get_json<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T, LookerError> {
        let response = self.send(Method::GET, path, query, None).await?;
        decode(response, path).await
    }

    pub async fn post_json<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, LookerError> {
        let response = self.send(Method::POST, path, &[], Some(body)).await?;
        decode(response, path).await
    }

    pub async fn look(&self, id: &LookerId) -> Result<Look, LookerError> {
        self.get_json(&format!("looks/{}", encode(id.as_str())), &[]).await
    }

    pub async fn query(&self, id: &LookerId) -> Result<Query, LookerError> {
        self.get_json(&format!("queries/{}", encode(id.as_str())), &[]).await
    }

    /// The query behind a share (`/x/<slug>`) or explore (`?qid=<slug>`) link.
    pub async fn query_by_slug(&self, slug: &str) -> Result<Query, LookerError> {
        self.get_json(&format!("queries/slug/{}", encode(slug)), &[]).await
    }

    /// Runs a saved query as `json_detail` (rendered values, labels, links, pivots).
    pub async fn run_query_detail(&self, id: &LookerId) -> Result<QueryResult, LookerError> {
        self.get_json(
            &format!("queries/{}/run/json_detail", encode(id.as_str())),
            &[
                ("apply_formatting", "true"),
                ("apply_vis", "true"),
                ("generate_drill_links", "true"),
            ],
        )
        .await
    }

    pub async fn dashboard(&self, id: &str) -> Result<Dashboard, LookerError> {
        self.get_json(&format!("dashboards/{}", encode(id)), &[]).await
    }

    pub async fn merge_query(&self, id: &LookerId) -> Result<MergeQuery, LookerError> {
        self.get_json(&format!("merge_queries/{}", encode(id.as_str())), &[])
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
        self.post_json("queries", &body).await
    }

    /// Starts a render task: `target` is `looks/{id}`, `queries/{id}`, `dashboard_elements/{id}` or
    /// `dashboards/{id}`; dashboards take a body with their filters and style.
    pub async fn start_render(
        &self,
        target: &str,
        format: &str,
        width: u32,
        height: u32,
        body: Option<&Value>,
    ) -> Result<RenderTask, LookerError> {
        let (width, height) = (width.to_string(), height.to_string());
        let response = self
            .send(
                Method::POST,
                &format!("render_tasks/{target}/{format}"),
                &[("width", &width), ("height", &height)],
                Some(body.unwrap_or(&Value::Object(Default::default()))),
            )
            .await?;
        decode(response, "render_tasks").await
    }

    pub async fn render_status(&self, id: &LookerId) -> Result<RenderTask, LookerError> {
        self.get_json(&format!("render_tasks/{}", encode(id.as_str())), &[])
            .await
    }

    /// The rendered bytes, or `None` while Looker answers 202 (not ready yet).
    pub async fn render_results(&self, id: &LookerId) -> Result<Option<Vec<u8>>, LookerError> {
        let what = "render_tasks results";
        let response = self
            .send(
                Method::GET,
                &format!("render_tasks/{}/results", encode(id.as_str())),
                &[],
                None,
            )
            .await?;
        if response.status() == StatusCode::ACCEPTED {
            return Ok(None);
        }
        let bytes = response.bytes().await.map_err(|source| LookerError::Network {
            what: what.into(),
            source,
        })?;
        Ok(Some(bytes.to_vec()))
    }

    /// Looker's old synchronous image path; an empty body means no renderer is available.
    pub async fn run_query_png(&self, id: &LookerId, width: u32, height: u32) -> Result<Vec<u8>, LookerError> {
        let (width, height) = (width.to_string(), height.to_string());
        let what = "run/png";
        let response = self
            .send(
                Method::GET,
                &format!("queries/{}/run/png", encode(id.as_str())),
                &[("image_width", &width), ("image_height", &height)],
                None,
            )
            .await?;
        let bytes = response.bytes().await.map_err(|source| LookerError::Network {
            what: what.into(),
            source,
        })?;
        Ok(bytes.to_vec())
    }
}

fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

async fn decode<T: DeserializeOwned>(response: reqwest::Response, what: &str) -> Result<T, LookerError> {
    let bytes = response.bytes().await.map_err(|source| LookerError::Network {
        what: what.to_string(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| LookerError::Decode {
        what: what.to_string(),
        message: e.to_string(),
    })
}

/// Looker's `message`, or the status text when the body is not Looker's error shape.
async fn error_message(response: reqwest::Response) -> String {
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    serde_json::from_slice::<ApiErrorBody>(&body)
        .ok()
        .and_then(|b| b.message)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string())
}

/// Every configured Looker, chosen by the URL of the content at hand.
#[derive(Debug, Clone)]
pub struct Lookers {
    instances: Vec<Arc<LookerClient>>,
}

impl Lookers {
    pub fn new(settings: &[LookerSettings], tls: &LookerTls, timeout: Duration) -> anyhow::Result<Self> {
        let http = http_client(tls, timeout)?;
        let instances = settings
            .iter()
            .map(|s| Arc::new(LookerClient::new(s.clone(), http.clone())))
            .collect();
        Ok(Self { instances })
    }

    pub fn all(&self) -> &[Arc<LookerClient>] {
        &self.instances
    }

    /// The Looker whose `LOOKER_URL` is the longest prefix of `content_url`.
    pub fn for_url(&self, content_url: &str) -> Option<&Arc<LookerClient>> {
        self.instances
            .iter()
            .filter(|l| l.settings.owns_url(content_url))
            .max_by_key(|l| l.settings.web_base().len())
    }

    /// The Looker at `host`: its name, or its name and port (the scheme's default port too).
    pub fn for_host(&self, host: &str) -> Option<&Arc<LookerClient>> {
        self.instances.iter().find(|l| {
            let url = &l.settings.url;
            let name = url.host_str().unwrap_or_default();
            let with_default_port = url.port_or_known_default().map(|port| format!("{name}:{port}"));
            [Some(name.to_string()), Some(l.settings.host()), with_default_port]
                .iter()
                .flatten()
                .any(|known| known.eq_ignore_ascii_case(host))
        })
    }

    /// The Looker configured with exactly this web URL (as stored in a job).
    pub fn by_web_base(&self, web_base: &str) -> Option<&Arc<LookerClient>> {
        self.instances.iter().find(|l| l.web_base() == web_base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RawSettings;

    #[test]
    fn a_looker_is_found_by_its_host_with_or_without_its_port() {
        let raw = RawSettings {
            slack_api_key: Some("xoxb-1".into()),
            slack_signing_secret: Some("s".into()),
            lookers: Some(
                serde_json::json!([
                    {"url": "https://looker.example.com", "apiBaseUrl": "https://looker.example.com/api/4.0",
                     "clientId": "a", "clientSecret": "a"},
                    {"url": "http://localhost:9999", "apiBaseUrl": "http://localhost:9999/api/4.0",
                     "clientId": "b", "clientSecret": "b"}
                ])
                .to_string(),
            ),
            ..Default::default()
        };
        let (settings, _) = raw.validate().unwrap();
        let lookers = Lookers::new(&settings.lookers, &settings.looker_tls, settings.looker_timeout).unwrap();
        let found = |host: &str| lookers.for_host(host).map(|l| l.settings.host());
        assert_eq!(found("LOOKER.example.com").as_deref(), Some("looker.example.com"));
        assert_eq!(found("looker.example.com:443").as_deref(), Some("looker.example.com"));
        assert_eq!(found("localhost:9999").as_deref(), Some("localhost:9999"));
        assert_eq!(found("looker.example.com:8443"), None);
        assert_eq!(found("other.example.com"), None);
    }
}
