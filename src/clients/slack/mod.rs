//! Slack Web API client on slack-morphism: a timeout on every call, 429 answered by waiting
//! `Retry-After`, `chat.postMessage` paced per channel, and `ok:false` codes as typed errors.
//! Each Web API method is one [`slack_call!`] through [`SlackApi::call`].

/// One Web API call: `slack_call!(api, "chat.update", chat_update(&request))` runs slack-morphism's
/// typed method through [`SlackApi::call`] (timeout, rate limits, typed errors).
macro_rules! slack_call {
    ($api:expr, $name:literal, $method:ident($request:expr)) => {{
        let api = $api;
        let request = $request;
        api.call($name, move || async move { api.session().$method(request).await })
            .await
    }};
}

mod directory;
mod error;
mod files;
mod history;
mod messages;
mod response_url;
mod users;
mod views;

use std::future::Future;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use slack_morphism::prelude::*;

use crate::config::{Secret, SlackSettings};
pub use directory::Directory;
pub use error::{SlackError, SlackErrorCode};
pub use files::{FileContent, FileSource, FileUpload, UploadTicket};
pub use history::PostTag;
pub use messages::Posted;

type Connector = SlackClientHyperConnector<HttpsConnector<HttpConnector>>;

/// Who the bot is in this workspace (`auth.test`).
#[derive(Debug, Clone)]
pub struct SlackIdentity {
    pub user_id: String,
    pub bot_id: Option<String>,
    pub team_id: String,
    pub team: String,
}

pub struct SlackApi {
    client: SlackClient<Connector>,
    /// For `response_url` replies, which slack-morphism posts without `response_type`.
    http: reqwest::Client,
    /// For streamed file uploads: no overall deadline (a gigabyte takes a while), a read timeout.
    uploads: reqwest::Client,
    /// Hosts a `response_url` may point at: Slack's, or the configured API host (a proxy, tests).
    response_hosts: Vec<String>,
    users: users::UserCache,
    token: SlackApiToken,
    timeout: Duration,
    /// Longest total wait on `Retry-After` inside one call before handing back to the job queue.
    max_inline_wait: Duration,
    pacer: DefaultKeyedRateLimiter<String>,
    pub directory: Directory,
    /// Who the bot is, from `auth.test`, once it was needed.
    identity: tokio::sync::OnceCell<SlackIdentity>,
}

impl SlackApi {
    pub fn new(settings: &SlackSettings) -> anyhow::Result<Self> {
        // https_or_http: real Slack is HTTPS; SLACK_API_BASE_URL may name a plain-HTTP proxy or test server.
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .build();
        let connector = SlackClientHyperConnector::with_connector(https)
            .with_slack_api_url(settings.api_base_url.as_str().trim_end_matches('/'));
        let quota = Quota::per_second(NonZeroU32::MIN).allow_burst(NonZeroU32::new(3).expect("non-zero"));
        Ok(Self {
            client: SlackClient::new(connector),
            http: reqwest::Client::builder()
                .use_rustls_tls()
                .timeout(settings.timeout)
                .build()?,
            uploads: reqwest::Client::builder()
                .use_rustls_tls()
                .connect_timeout(settings.timeout)
                .read_timeout(settings.timeout)
                .build()?,
            response_hosts: [
                "hooks.slack.com",
                settings.api_base_url.host_str().unwrap_or("slack.com"),
            ]
            .iter()
            .map(|h| h.to_string())
            .collect(),
            users: Default::default(),
            token: SlackApiToken::new(SlackApiTokenValue(settings.bot_token.expose().to_string())),
            timeout: settings.timeout,
            max_inline_wait: Duration::from_secs(30),
            pacer: RateLimiter::keyed(quota),
            directory: Directory::default(),
            identity: tokio::sync::OnceCell::new(),
        })
    }

    /// Replaces the per-channel pace (about one message a second by default); for load tests
    /// that must measure the bot rather than Slack's pace.
    pub fn with_channel_pace(mut self, per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        self.pacer = RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst));
        self
    }

    fn session(&self) -> SlackClientSession<'_, Connector> {
        self.client.open_session(&self.token)
    }

    /// Waits for the channel's pace (about one message a second, short bursts).
    async fn paced(&self, channel: &SlackChannelId) {
        self.pacer.until_key_ready(&channel.to_string()).await;
    }

    /// Runs one Web API call with a timeout, waiting out short rate limits.
    async fn call<T, F, Fut>(&self, method: &'static str, call: F) -> Result<T, SlackError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = ClientResult<T>>,
    {
        let mut waited = Duration::ZERO;
        loop {
            let started = std::time::Instant::now();
            let answer = tokio::time::timeout(self.timeout, call()).await;
            metrics::histogram!("lookerbot_slack_call_duration_seconds", "method" => method)
                .record(started.elapsed().as_secs_f64());
            let error = match answer {
                Err(_) => {
                    metrics::counter!("lookerbot_slack_calls_total", "method" => method, "result" => "timeout")
                        .increment(1);
                    return Err(SlackError::Timeout {
                        method,
                        timeout: self.timeout,
                    });
                }
                Ok(Ok(value)) => {
                    metrics::counter!("lookerbot_slack_calls_total", "method" => method, "result" => "ok").increment(1);
                    return Ok(value);
                }
                Ok(Err(error)) => SlackError::from_client(method, error),
            };
            metrics::counter!("lookerbot_slack_calls_total", "method" => method, "result" => error.metric_label())
                .increment(1);
            if error.retry_after().is_some() {
                metrics::counter!("lookerbot_slack_rate_limited_total", "method" => method).increment(1);
            }
            match error.retry_after() {
                Some(wait) if waited + wait <= self.max_inline_wait => {
                    tracing::warn!(
                        method,
                        wait_secs = wait.as_secs(),
                        "Slack rate limit; waiting as Retry-After asks"
                    );
                    tokio::time::sleep(wait).await;
                    waited += wait;
                }
                _ => return Err(error),
            }
        }
    }

    pub async fn auth_test(&self) -> Result<SlackIdentity, SlackError> {
        let answer = self
            .call("auth.test", move || async move { self.session().auth_test().await })
            .await?;
        Ok(SlackIdentity {
            user_id: answer.user_id.to_string(),
            bot_id: answer.bot_id.map(|b| b.to_string()),
            team_id: answer.team_id.to_string(),
            team: answer.team,
        })
    }

    /// A Socket Mode WebSocket URL (`apps.connections.open`, with the app-level token).
    pub async fn open_socket(&self, app_token: &Secret) -> Result<String, SlackError> {
        let token = SlackApiToken::new(SlackApiTokenValue(app_token.expose().to_string()));
        let request = SlackApiAppsConnectionOpenRequest::new();
        let answer = self
            .call("apps.connections.open", {
                let (request, token) = (&request, &token);
                move || async move { self.client.open_session(token).apps_connections_open(request).await }
            })
            .await?;
        Ok(answer.url.0.to_string())
    }
}
