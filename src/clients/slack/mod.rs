//! Slack Web API client on slack-morphism: a timeout on every call, 429 answered by waiting
//! `Retry-After`, `chat.postMessage` paced per channel, and `ok:false` codes as typed errors.
//! Each Web API method is one [`slack_call!`] through [`SlackApi::call`].

/// One Web API call: `slack_call!(api, "chat.update", chat_update(&request))` runs slack-morphism's
/// typed method through [`SlackApi::call`] (timeout, rate limits, typed errors).
macro_rules! slack_call {
    ($api:expr, $name:literal, $method:ident($request:expr)) => {{
        let api = $api;
        let request = $request;
        api.call($name, None, move || async move { api.session().$method(request).await })
            .await
    }};
    // A post in a channel: it keeps the channel's pace, and a 429 holds that channel only.
    ($api:expr, $name:literal, in $channel:expr, $method:ident($request:expr)) => {{
        let api = $api;
        let request = $request;
        api.call($name, Some($channel), move || async move {
            api.session().$method(request).await
        })
        .await
    }};
}

mod channels;
mod directory;
mod error;
mod files;
mod history;
mod messages;
mod pace;
mod response_url;
mod users;
mod views;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use slack_morphism::prelude::*;

use crate::config::{Secret, SlackSettings};
pub use channels::ChannelFacts;
pub use directory::Directory;
pub use error::{SlackError, SlackErrorCode};
pub use files::{FileContent, FileSource, FileUpload, UploadTicket};
pub use history::PostTag;
pub use messages::Posted;
pub use pace::{LocalPaces, Millis, PaceBook};
use pace::{Paces, Turn};

type Connector = SlackClientHyperConnector<HttpsConnector<HttpConnector>>;

/// Who the bot is in this workspace (`auth.test`).
#[derive(Debug, Clone)]
pub struct SlackIdentity {
    pub user_id: String,
    pub bot_id: Option<String>,
    pub team_id: String,
    pub team: String,
    /// The workspace's address (`https://acme.slack.com/`), for links to messages.
    pub url: String,
    /// The Enterprise Grid organisation the workspace belongs to, if any.
    pub enterprise_id: Option<String>,
}

/// Slack's pace for posts in one channel: about one a second, bursts of three.
const CHANNEL_INTERVAL: Duration = Duration::from_secs(1);
const CHANNEL_BURST: u32 = 3;

pub struct SlackApi {
    client: SlackClient<Connector>,
    /// For `response_url` replies, which slack-morphism posts without `response_type`.
    http: reqwest::Client,
    /// For streamed file uploads: no overall deadline (a gigabyte takes a while), a read timeout.
    uploads: reqwest::Client,
    /// Hosts a `response_url` may point at: Slack's, or the configured API host (a proxy, tests).
    response_hosts: Vec<String>,
    users: users::UserCache,
    channels: channels::ChannelCache,
    token: SlackApiToken,
    timeout: Duration,
    /// Longest total wait on `Retry-After` inside one call before handing back to the job queue.
    max_inline_wait: Duration,
    /// Per channel for posts, per method after a 429; shared by replicas when they share a store.
    paces: Paces,
    pub directory: Directory,
    /// Who the bot is, from `auth.test`, once it was needed.
    identity: tokio::sync::OnceCell<SlackIdentity>,
    /// The Web API's host, named when it cannot be reached.
    api_host: Option<String>,
}

impl SlackApi {
    pub fn new(settings: &SlackSettings) -> anyhow::Result<Self> {
        // https_or_http: real Slack is HTTPS; SLACK_API_BASE_URL may name a plain-HTTP proxy or test server.
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(crate::clients::tls::client_config()?)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .build();
        let connector = SlackClientHyperConnector::with_connector(https)
            .with_slack_api_url(settings.api_base_url.as_str().trim_end_matches('/'));
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
            channels: Default::default(),
            token: SlackApiToken::new(SlackApiTokenValue(settings.bot_token.expose().to_string())),
            timeout: settings.timeout,
            max_inline_wait: Duration::from_secs(30),
            paces: Paces::new(Arc::new(LocalPaces::default()), CHANNEL_INTERVAL, CHANNEL_BURST),
            directory: Directory::default(),
            identity: tokio::sync::OnceCell::new(),
            api_host: settings.api_base_url.host_str().map(str::to_string),
        })
    }

    /// Replaces the per-channel pace (about one message a second by default); for benchmarks
    /// that must measure the bot rather than Slack's pace.
    pub fn with_channel_pace(mut self, interval: Duration, burst: u32) -> Self {
        self.paces = Paces::new(Arc::new(LocalPaces::default()), interval, burst);
        self
    }

    /// Keeps paces in `book` (the shared database, for replicas) instead of this process.
    pub fn with_pace_book(mut self, book: Arc<dyn PaceBook>) -> Self {
        self.paces = Paces::new(book, CHANNEL_INTERVAL, CHANNEL_BURST);
        self
    }

    fn session(&self) -> SlackClientSession<'_, Connector> {
        self.client.open_session(&self.token)
    }

    /// Waits for the turn of `method` (in `channel`), unless it is further off than what is
    /// left of the inline wait: then the job should come back later.
    async fn wait_turn(
        &self,
        method: &'static str,
        channel: Option<&SlackChannelId>,
        waited: &mut Duration,
    ) -> Result<(), SlackError> {
        let mut patience = self.max_inline_wait.saturating_sub(*waited);
        if let Some(left) = crate::scope::time_left() {
            patience = patience.min(left);
        }
        let channel_id = channel.map(|c| c.0.as_str());
        match self.paces.turn(method, channel_id, patience).await {
            Turn::After(wait) if wait.is_zero() => Ok(()),
            Turn::After(wait) => {
                let _waiting = (wait >= Duration::from_secs(1)).then(|| {
                    crate::scope::waiting(|| {
                        let place = channel_id.map(|c| format!(" in {c}")).unwrap_or_default();
                        format!("waiting {}s for Slack's pace{place} ({method})", wait.as_secs())
                    })
                });
                tokio::time::sleep(wait).await;
                *waited += wait;
                Ok(())
            }
            Turn::Later(retry_after) => Err(SlackError::Paced {
                method,
                channel: channel_id.map(str::to_string),
                retry_after,
            }),
        }
    }

    /// Fails with [`SlackError::Paced`] when `channel`'s next turn to post is further off than a
    /// job waits inline, taking no turn: a job checks this before work it would otherwise do
    /// twice (running a Look, then being sent back to wait).
    pub async fn turn_within_reach(&self, channel: &SlackChannelId) -> Result<(), SlackError> {
        let mut patience = self.max_inline_wait;
        if let Some(left) = crate::scope::time_left() {
            patience = patience.min(left);
        }
        match self.paces.out_of_reach(&channel.0, patience).await {
            None => Ok(()),
            Some(retry_after) => Err(SlackError::Paced {
                method: "chat.postMessage",
                channel: Some(channel.0.clone()),
                retry_after,
            }),
        }
    }

    /// Runs one Web API call with a timeout, keeping Slack's pace and waiting out short rate
    /// limits; a longer wait is handed back to the job queue.
    async fn call<T, F, Fut>(
        &self,
        method: &'static str,
        channel: Option<&SlackChannelId>,
        call: F,
    ) -> Result<T, SlackError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = ClientResult<T>>,
    {
        let mut waited = Duration::ZERO;
        loop {
            self.wait_turn(method, channel, &mut waited).await?;
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
                Ok(Err(error)) => SlackError::from_client(method, self.api_host.as_deref(), error),
            };
            metrics::counter!("lookerbot_slack_calls_total", "method" => method, "result" => error.metric_label())
                .increment(1);
            if error.retry_after().is_some() {
                metrics::counter!("lookerbot_slack_rate_limited_total", "method" => method).increment(1);
            }
            match error.retry_after() {
                Some(wait) => {
                    tracing::warn!(
                        method,
                        wait_secs = wait.as_secs(),
                        "Slack rate limit; keeping its Retry-After"
                    );
                    self.paces.hold(method, channel.map(|c| c.0.as_str()), wait).await;
                }
                None => return Err(error),
            }
        }
    }

    /// `auth.test`, read whole: slack-morphism's answer type leaves out `enterprise_id`, which
    /// tells an Enterprise Grid organisation's other workspaces from strangers.
    pub async fn auth_test(&self) -> Result<SlackIdentity, SlackError> {
        #[derive(serde::Deserialize)]
        struct AuthTest {
            user_id: String,
            team_id: String,
            team: String,
            bot_id: Option<String>,
            url: String,
            #[serde(default)]
            enterprise_id: Option<String>,
        }
        let answer: AuthTest = self
            .call("auth.test", None, move || async move {
                self.session()
                    .http_session_api
                    .http_post("auth.test", &serde_json::json!({}), None)
                    .await
            })
            .await?;
        Ok(SlackIdentity {
            user_id: answer.user_id,
            bot_id: answer.bot_id,
            team_id: answer.team_id,
            team: answer.team,
            url: answer.url,
            enterprise_id: answer.enterprise_id.filter(|e| !e.is_empty()),
        })
    }

    /// A Socket Mode WebSocket URL (`apps.connections.open`, with the app-level token).
    pub async fn open_socket(&self, app_token: &Secret) -> Result<String, SlackError> {
        let token = SlackApiToken::new(SlackApiTokenValue(app_token.expose().to_string()));
        let request = SlackApiAppsConnectionOpenRequest::new();
        let answer = self
            .call("apps.connections.open", None, {
                let (request, token) = (&request, &token);
                move || async move { self.client.open_session(token).apps_connections_open(request).await }
            })
            .await?;
        Ok(answer.url.0.to_string())
    }
}
