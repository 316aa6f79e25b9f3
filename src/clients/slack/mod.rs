//! Slack Web API client on slack-morphism: a timeout on every call, 429 answered by waiting
//! `Retry-After`, `chat.postMessage` paced per channel, and `ok:false` codes as typed errors.

mod directory;

use std::collections::HashMap;
use std::future::Future;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;

use crate::config::SlackSettings;
pub use directory::Directory;

type Connector = SlackClientHyperConnector<HttpsConnector<HttpConnector>>;

/// Slack's `error` codes the bot acts on; every other one is kept as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlackErrorCode {
    ChannelNotFound,
    NotInChannel,
    IsArchived,
    UserNotFound,
    InvalidAuth,
    NotAuthed,
    AccountInactive,
    TokenRevoked,
    MissingScope,
    InvalidBlocks,
    MsgTooLong,
    Ratelimited,
    InternalError,
    ServiceUnavailable,
    Other(String),
}

impl SlackErrorCode {
    pub fn parse(code: &str) -> Self {
        match code {
            "channel_not_found" => Self::ChannelNotFound,
            "not_in_channel" => Self::NotInChannel,
            "is_archived" => Self::IsArchived,
            "user_not_found" | "users_not_found" => Self::UserNotFound,
            "invalid_auth" => Self::InvalidAuth,
            "not_authed" => Self::NotAuthed,
            "account_inactive" => Self::AccountInactive,
            "token_revoked" => Self::TokenRevoked,
            "missing_scope" => Self::MissingScope,
            "invalid_blocks" => Self::InvalidBlocks,
            "msg_too_long" | "msg_blocks_too_long" => Self::MsgTooLong,
            "ratelimited" => Self::Ratelimited,
            "internal_error" | "fatal_error" | "request_timeout" => Self::InternalError,
            "service_unavailable" => Self::ServiceUnavailable,
            other => Self::Other(other.to_string()),
        }
    }

    /// What an operator should do about the errors that stop work for good.
    pub fn operator_hint(&self) -> Option<&'static str> {
        match self {
            Self::NotInChannel => Some("invite the bot to the channel (/invite @lookerbot)"),
            Self::ChannelNotFound => Some("check the channel name, and invite the bot to private channels"),
            Self::IsArchived => Some("the channel is archived; point the schedule elsewhere"),
            Self::InvalidAuth | Self::TokenRevoked | Self::AccountInactive | Self::NotAuthed => {
                Some("SLACK_API_KEY is not valid any more; reinstall the app and update it")
            }
            Self::MissingScope => Some("the Slack app lacks a scope; recreate it from `lookerbot manifest`"),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::ChannelNotFound => "channel_not_found",
            Self::NotInChannel => "not_in_channel",
            Self::IsArchived => "is_archived",
            Self::UserNotFound => "user_not_found",
            Self::InvalidAuth => "invalid_auth",
            Self::NotAuthed => "not_authed",
            Self::AccountInactive => "account_inactive",
            Self::TokenRevoked => "token_revoked",
            Self::MissingScope => "missing_scope",
            Self::InvalidBlocks => "invalid_blocks",
            Self::MsgTooLong => "msg_too_long",
            Self::Ratelimited => "ratelimited",
            Self::InternalError => "internal_error",
            Self::ServiceUnavailable => "service_unavailable",
            Self::Other(code) => code,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    #[error("Slack {method} failed: {}{}", code.as_str(), detail_suffix(detail))]
    Api {
        method: &'static str,
        code: SlackErrorCode,
        detail: Vec<String>,
    },
    #[error("Slack rate-limited {method}; retry after {}s", retry_after.as_secs())]
    RateLimited {
        method: &'static str,
        retry_after: Duration,
    },
    #[error("Slack answered HTTP {status} to {method}")]
    Http { method: &'static str, status: u16 },
    #[error("Slack {method} did not answer within {}s", timeout.as_secs())]
    Timeout { method: &'static str, timeout: Duration },
    #[error("could not reach Slack for {method}: {message}")]
    Transport { method: &'static str, message: String },
}

fn detail_suffix(detail: &[String]) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(" ({})", detail.join("; "))
    }
}

impl SlackError {
    /// Worth trying again later (network, Slack's own trouble, rate limits).
    pub fn is_transient(&self) -> bool {
        match self {
            SlackError::Api { code, .. } => {
                matches!(
                    code,
                    SlackErrorCode::Ratelimited | SlackErrorCode::InternalError | SlackErrorCode::ServiceUnavailable
                )
            }
            SlackError::RateLimited { .. } | SlackError::Timeout { .. } | SlackError::Transport { .. } => true,
            SlackError::Http { status, .. } => *status == 408 || *status >= 500,
        }
    }

    /// How long Slack asked us to wait, when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SlackError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<&SlackErrorCode> {
        match self {
            SlackError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    fn from_client(method: &'static str, error: SlackClientError) -> Self {
        match error {
            SlackClientError::ApiError(e) => SlackError::Api {
                method,
                code: SlackErrorCode::parse(&e.code),
                detail: e.errors.unwrap_or_default(),
            },
            SlackClientError::RateLimitError(e) => SlackError::RateLimited {
                method,
                retry_after: e.retry_after.unwrap_or(Duration::from_secs(1)),
            },
            SlackClientError::HttpError(e) => SlackError::Http {
                method,
                status: e.status_code.as_u16(),
            },
            other => SlackError::Transport {
                method,
                message: other.to_string(),
            },
        }
    }
}

/// Who the bot is in this workspace (`auth.test`).
#[derive(Debug, Clone)]
pub struct SlackIdentity {
    pub user_id: String,
    pub bot_id: Option<String>,
    pub team_id: String,
    pub team: String,
}

/// A message ready to post: fallback text for notifications plus Block Kit blocks.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct OutgoingMessage {
    pub text: String,
    pub blocks: Vec<SlackBlock>,
}

/// Where a posted message landed.
#[derive(Debug, Clone)]
pub struct Posted {
    pub channel: SlackChannelId,
    pub ts: SlackTs,
}

/// A file to share with the external upload flow.
#[derive(Debug, Clone)]
pub struct FileUpload {
    pub filename: String,
    pub title: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

pub struct SlackApi {
    client: SlackClient<Connector>,
    /// For `response_url` replies, which slack-morphism posts without `response_type`.
    http: reqwest::Client,
    /// Hosts a `response_url` may point at: Slack's, or the configured API host (a proxy, tests).
    response_hosts: Vec<String>,
    users: tokio::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, SlackUser)>>,
    token: SlackApiToken,
    timeout: Duration,
    /// Longest total wait on `Retry-After` inside one call before handing back to the job queue.
    max_inline_wait: Duration,
    pacer: DefaultKeyedRateLimiter<String>,
    pub directory: Directory,
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

    /// Runs one Web API call with a timeout, waiting out short rate limits.
    async fn call<T, F, Fut>(&self, method: &'static str, call: F) -> Result<T, SlackError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = ClientResult<T>>,
    {
        let mut waited = Duration::ZERO;
        loop {
            let error = match tokio::time::timeout(self.timeout, call()).await {
                Err(_) => {
                    return Err(SlackError::Timeout {
                        method,
                        timeout: self.timeout,
                    });
                }
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(error)) => SlackError::from_client(method, error),
            };
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

    /// Posts a message, waiting for the channel's pace (about one a second, short bursts).
    pub async fn post_message(
        &self,
        channel: &SlackChannelId,
        message: &OutgoingMessage,
        thread_ts: Option<&SlackTs>,
    ) -> Result<Posted, SlackError> {
        self.pacer.until_key_ready(&channel.to_string()).await;
        let request = SlackApiChatPostMessageRequest::new(
            channel.clone(),
            SlackMessageContent::new()
                .with_text(message.text.clone())
                .with_blocks(message.blocks.clone()),
        )
        .opt_thread_ts(thread_ts.cloned())
        .with_unfurl_links(false)
        .with_unfurl_media(false);
        let answer = self
            .call("chat.postMessage", {
                let request = &request;
                move || async move { self.session().chat_post_message(request).await }
            })
            .await?;
        Ok(Posted {
            channel: answer.channel,
            ts: answer.ts,
        })
    }

    /// Replaces a message the bot posted (a "working on it" line by its answer).
    pub async fn update_message(
        &self,
        channel: &SlackChannelId,
        ts: &SlackTs,
        message: &OutgoingMessage,
    ) -> Result<(), SlackError> {
        let request = SlackApiChatUpdateRequest::new(
            channel.clone(),
            SlackMessageContent::new()
                .with_text(message.text.clone())
                .with_blocks(message.blocks.clone()),
            ts.clone(),
        );
        self.call("chat.update", {
            let request = &request;
            move || async move { self.session().chat_update(request).await }
        })
        .await
        .map(|_| ())
    }

    pub async fn delete_message(&self, channel: &SlackChannelId, ts: &SlackTs) -> Result<(), SlackError> {
        let request = SlackApiChatDeleteRequest::new(channel.clone(), ts.clone());
        self.call("chat.delete", {
            let request = &request;
            move || async move { self.session().chat_delete(request).await }
        })
        .await
        .map(|_| ())
    }

    /// A sentence only `user` sees, in `channel`.
    pub async fn post_ephemeral(
        &self,
        channel: &SlackChannelId,
        user: &SlackUserId,
        sentence: &str,
    ) -> Result<(), SlackError> {
        let request = SlackApiChatPostEphemeralRequest::new(
            channel.clone(),
            user.clone(),
            SlackMessageContent::new().with_text(sentence.into()),
        );
        self.call("chat.postEphemeral", {
            let request = &request;
            move || async move { self.session().chat_post_ephemeral(request).await }
        })
        .await
        .map(|_| ())
    }

    /// Link previews for a message (`link_shared`), by channel and ts or by unfurl id and source.
    pub async fn unfurl(
        &self,
        id: SlackUnfurlRequestId,
        unfurls: HashMap<String, Vec<SlackBlock>>,
    ) -> Result<(), SlackError> {
        let unfurls = unfurls
            .into_iter()
            .map(|(url, blocks)| (url, SlackApiChatUnfurlMapItemV2::new(blocks)))
            .collect();
        let request = SlackApiChatUnfurlRequestV3::new(id, unfurls);
        self.call("chat.unfurl", {
            let request = &request;
            move || async move { self.session().chat_unfurl_v3(request).await }
        })
        .await
        .map(|_| ())
    }

    /// A Socket Mode WebSocket URL (`apps.connections.open`, with the app-level token).
    pub async fn open_socket(&self, app_token: &crate::config::Secret) -> Result<String, SlackError> {
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

    /// The DM channel with a user (files must be shared to a C/G/D id, not a user id).
    pub async fn open_dm(&self, user: &SlackUserId) -> Result<SlackChannelId, SlackError> {
        let request = SlackApiConversationsOpenRequest::new()
            .with_users(vec![user.clone()])
            .with_return_im(false);
        let answer = self
            .call("conversations.open", {
                let request = &request;
                move || async move { self.session().conversations_open(request).await }
            })
            .await?;
        Ok(answer.channel.id)
    }

    /// Shares a file in a channel with Slack's external upload flow, with blocks as its message.
    pub async fn upload_file(
        &self,
        channel: &SlackChannelId,
        file: &FileUpload,
        blocks: Option<Vec<SlackBlock>>,
        thread_ts: Option<&SlackTs>,
    ) -> Result<SlackFileId, SlackError> {
        let ticket_request = SlackApiFilesGetUploadUrlExternalRequest::new(file.filename.clone(), file.bytes.len());
        let ticket = self
            .call("files.getUploadURLExternal", {
                let ticket_request = &ticket_request;
                move || async move { self.session().get_upload_url_external(ticket_request).await }
            })
            .await?;
        let upload = SlackApiFilesUploadViaUrlRequest::new(
            ticket.upload_url.clone(),
            file.bytes.clone(),
            file.content_type.clone(),
        );
        self.call("files.upload (bytes)", {
            let upload = &upload;
            move || async move { self.session().files_upload_via_url(upload).await }
        })
        .await?;
        self.pacer.until_key_ready(&channel.to_string()).await;
        let complete = SlackApiFilesCompleteUploadExternalRequest::new(vec![
            SlackApiFilesComplete::new(ticket.file_id.clone()).with_title(file.title.clone()),
        ])
        .with_channel_id(channel.clone())
        .opt_blocks(blocks)
        .opt_thread_ts(thread_ts.cloned());
        self.call("files.completeUploadExternal", {
            let complete = &complete;
            move || async move { self.session().files_complete_upload_external(complete).await }
        })
        .await?;
        Ok(ticket.file_id)
    }

    /// A user's profile and flags (`users.info`), cached for ten minutes.
    pub async fn user_info(&self, user_id: &str) -> Result<SlackUser, SlackError> {
        const TTL: Duration = Duration::from_secs(600);
        if let Some((at, user)) = self.users.lock().await.get(user_id)
            && at.elapsed() < TTL
        {
            return Ok(user.clone());
        }
        let request = SlackApiUsersInfoRequest::new(SlackUserId(user_id.to_string()));
        let answer = self
            .call("users.info", {
                let request = &request;
                move || async move { self.session().users_info(request).await }
            })
            .await?;
        self.users
            .lock()
            .await
            .insert(user_id.to_string(), (std::time::Instant::now(), answer.user.clone()));
        Ok(answer.user)
    }

    /// An ephemeral sentence to the person who asked, through the command's `response_url`.
    pub async fn respond(&self, response_url: &str, sentence: &str) -> Result<(), SlackError> {
        self.respond_message(
            response_url,
            &OutgoingMessage {
                text: sentence.into(),
                blocks: Vec::new(),
            },
        )
        .await
    }

    /// An ephemeral message (with blocks) to the person who asked, through `response_url`.
    pub async fn respond_message(&self, response_url: &str, message: &OutgoingMessage) -> Result<(), SlackError> {
        let method = "response_url";
        let url = url::Url::parse(response_url)
            .ok()
            .filter(|u| {
                u.host_str()
                    .is_some_and(|h| self.response_hosts.iter().any(|allowed| allowed == h))
            })
            .ok_or(SlackError::Api {
                method,
                code: SlackErrorCode::Other("untrusted_response_url".into()),
                detail: vec![],
            })?;
        let mut body =
            serde_json::json!({"response_type": "ephemeral", "replace_original": false, "text": message.text});
        if !message.blocks.is_empty() {
            body["blocks"] = serde_json::to_value(&message.blocks).unwrap_or_default();
        }
        let response = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .map_err(|e| SlackError::Transport {
                method,
                message: crate::clients::looker::cause_chain(&e),
            })?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            429 => Err(SlackError::RateLimited {
                method,
                retry_after: Duration::from_secs(1),
            }),
            status => Err(SlackError::Http { method, status }),
        }
    }

    /// Every conversation of the given kinds, following cursors.
    pub async fn list_conversations(
        &self,
        types: Vec<SlackConversationType>,
    ) -> Result<Vec<SlackChannelInfo>, SlackError> {
        let mut all = Vec::new();
        let mut cursor: Option<SlackCursorId> = None;
        loop {
            let request = SlackApiConversationsListRequest::new()
                .with_limit(1000)
                .with_exclude_archived(true)
                .with_types(types.clone())
                .opt_cursor(cursor.clone());
            let page = self
                .call("conversations.list", {
                    let request = &request;
                    move || async move { self.session().conversations_list(request).await }
                })
                .await?;
            all.extend(page.channels);
            cursor = next_cursor(page.response_metadata);
            if cursor.is_none() {
                return Ok(all);
            }
        }
    }

    /// Every member of the workspace, following cursors.
    pub async fn list_users(&self) -> Result<Vec<SlackUser>, SlackError> {
        let mut all = Vec::new();
        let mut cursor: Option<SlackCursorId> = None;
        loop {
            let request = SlackApiUsersListRequest::new()
                .with_limit(1000)
                .opt_cursor(cursor.clone());
            let page = self
                .call("users.list", {
                    let request = &request;
                    move || async move { self.session().users_list(request).await }
                })
                .await?;
            all.extend(page.members);
            cursor = next_cursor(page.response_metadata);
            if cursor.is_none() {
                return Ok(all);
            }
        }
    }
}

fn next_cursor(metadata: Option<SlackResponseMetadata>) -> Option<SlackCursorId> {
    metadata.and_then(|m| m.next_cursor).filter(|c| !c.0.is_empty())
}
