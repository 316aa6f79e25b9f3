//! Settings: read once from the environment (and `.env`) by [`RawSettings`], validated in one pass
//! that reports every problem at once, then handed to the clients. No other module reads the
//! environment.

mod audience;
pub mod catalog;
mod checker;
pub mod env_file;
mod hub;
mod images;
mod lookers;
mod notify;
mod raw;
mod secret;
mod summary;
mod trust;
mod validate;

use std::fmt;
use std::time::Duration;

use url::Url;

pub use audience::{Audience, AudienceSettings};
pub use hub::HubSettings;
pub use notify::NotifySettings;
pub use raw::RawSettings;
pub use secret::Secret;
pub use trust::{TokenKey, TrustSettings};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/lookerbot.db";
pub const DEFAULT_SLACK_API_BASE_URL: &str = "https://slack.com/api";
pub const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn,hyper=warn";

/// One Looker instance the bot talks to.
#[derive(Debug, Clone)]
pub struct LookerSettings {
    /// The web address users see; chosen by prefix for incoming content.
    pub url: Url,
    /// The API 4.0 base, without a trailing slash.
    pub api_base_url: Url,
    pub client_id: String,
    pub client_secret: Secret,
    pub custom_command_folder_id: Option<String>,
    pub webhook_token: Option<Secret>,
    /// How many queries (and renders) the bot runs at once on this Looker: Looker queues what
    /// is past a user's limit (15 by default) and the bot would only hold workers waiting.
    pub max_queries: usize,
    /// How many it runs at once there whoever it acts as: Looker's per-instance limit (75).
    pub max_instance_queries: usize,
    /// As whom the work a person starts runs on this Looker.
    pub identity: Identity,
    /// The `client_guid` the bot is registered under in this Looker as an OAuth client app.
    pub oauth_client_id: Option<String>,
    pub fallback: Option<lookers::FallbackCredential>,
}

/// As whom the bot runs what a person asks (`LOOKERBOT_IDENTITY`, or `identity` in `LOOKERS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Identity {
    /// The API user of the settings, for everyone (Lookerbot's way).
    #[default]
    Shared,
    /// The Looker user with the asker's verified Slack email, through `POST /login/{user_id}`
    /// (the API user must be a Looker admin; customer-hosted Looker).
    Sudo,
    /// As `Sudo`, and the shared API user for someone with no Looker user.
    SudoOrShared,
    /// The Looker account each person linked through Looker's OAuth (the bot registered in
    /// Looker as an OAuth client app; works on Looker (Google Cloud core) too).
    Oauth,
    /// As `Oauth`, and the shared API user for someone who has not linked.
    OauthOrShared,
}

impl Identity {
    pub const NAMES: [(&'static str, Identity); 5] = [
        ("shared", Identity::Shared),
        ("sudo", Identity::Sudo),
        ("sudo_or_shared", Identity::SudoOrShared),
        ("oauth", Identity::Oauth),
        ("oauth_or_shared", Identity::OauthOrShared),
    ];

    pub fn is_oauth(self) -> bool {
        matches!(self, Identity::Oauth | Identity::OauthOrShared)
    }
}

impl LookerSettings {
    /// How many jobs of this Looker's lane a replica runs at once: three per query slot, so
    /// that while some jobs post their answers (at Slack's pace, holding no slot) others keep
    /// every slot busy; the rest of the workers stay free for other Lookers.
    pub fn lane_cap(&self) -> usize {
        3 * self.max_queries.min(self.max_instance_queries)
    }
}

#[derive(Debug, Clone)]
pub struct SlackSettings {
    pub bot_token: Secret,
    pub signing_secret: Option<Secret>,
    pub legacy_verification_token: Option<Secret>,
    pub app_token: Option<Secret>,
    pub api_base_url: Url,
    pub timeout: Duration,
}

impl SlackSettings {
    /// The secret the bot's own signed values (data-action keys) derive from: the signing
    /// secret, else the app-level token (Socket Mode), else the bot token.
    pub fn key_secret(&self) -> &[u8] {
        self.signing_secret
            .as_ref()
            .or(self.app_token.as_ref())
            .unwrap_or(&self.bot_token)
            .expose()
            .as_bytes()
    }
}

#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    pub region: Option<String>,
    pub endpoint: Option<Url>,
    pub force_path_style: bool,
    /// Lookerbot's public-read objects; off unless the operator opts in.
    pub public_read: bool,
    pub url_expiry: Duration,
    pub credentials: AwsCredentials,
}

/// Chart images in an Azure Blob Storage container (Lookerbot's Azure settings).
#[derive(Debug, Clone)]
pub struct AzureSettings {
    pub account: String,
    pub container: String,
    pub access_key: Secret,
    /// The Blob service's address when not `https://<account>.blob.core.windows.net`.
    pub endpoint: Option<Url>,
    /// Lifetime of the SAS links (`SLACKBOT_S3_LINK_TTL`, shared by every bucket).
    pub url_expiry: Duration,
}

/// Chart images in a Google Cloud Storage bucket (Lookerbot's GCS settings).
#[derive(Debug, Clone)]
pub struct GcsSettings {
    pub bucket: String,
    pub project: Option<String>,
    /// A service account's JSON key; `None`: the machine's own credentials (GCE, GKE, ADC).
    pub credentials_json: Option<Secret>,
    /// The storage API's address when not `https://storage.googleapis.com`.
    pub endpoint: Option<Url>,
    /// Lifetime of the signed links (`SLACKBOT_S3_LINK_TTL`, shared by every bucket).
    pub url_expiry: Duration,
}

/// Where the image bucket's credentials come from.
#[derive(Debug, Clone)]
pub enum AwsCredentials {
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and a session token for temporary keys).
    Keys {
        access_key_id: String,
        secret_access_key: Secret,
        session_token: Option<Secret>,
    },
    /// What the machine provides: a profile in `~/.aws`, a web identity (EKS), the container's or
    /// the instance's role.
    Ambient {
        profile: Option<String>,
        /// `AWS_ROLE_ARN` and `AWS_WEB_IDENTITY_TOKEN_FILE`.
        web_identity: Option<(String, String)>,
    },
}

/// How a dashboard is shown: every tile rendered, or one image or PDF of the whole dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DashboardStyle {
    Tiles,
    Png,
    Pdf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct LookerTls {
    pub ca_cert_pem: Option<Vec<u8>>,
    pub insecure: bool,
}

/// Who may read `GET /metrics`: callers with the bearer token, or anyone with `open` (a
/// private network); with neither it answers 404 and nothing is recorded.
#[derive(Debug, Clone, Default)]
pub struct MetricsAccess {
    pub token: Option<Secret>,
    pub open: bool,
}

impl MetricsAccess {
    pub fn enabled(&self) -> bool {
        self.token.is_some() || self.open
    }
}

#[derive(Debug, Clone)]
pub struct JobSettings {
    pub workers: usize,
    /// Whether `serve` applies the database's migrations when it starts (PostgreSQL; a
    /// deployment that runs `lookerbot migrate` as its own step turns it off).
    pub migrate_on_start: bool,
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub lease: Duration,
}

/// How the HTTP server treats its connections.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub port: u16,
    /// For the request headers, and the longest a connection is kept idle.
    pub header_timeout: Duration,
    /// For a request body (Slack's routes use the shorter of this and ten seconds).
    pub body_timeout: Duration,
    pub max_connections: usize,
    /// Where large bodies wait while they are read.
    pub spool_dir: std::path::PathBuf,
}

/// Lookerbot's behaviour switches, kept under their old names.
#[derive(Debug, Clone)]
pub struct Features {
    pub loading_messages: bool,
    pub data_actions_in_messages: bool,
    pub expand_urls: bool,
    pub allow_guest_users: bool,
    pub allow_shared_workspaces: bool,
}

/// Validated settings of a running bot.
#[derive(Debug, Clone)]
pub struct Settings {
    pub metrics: MetricsAccess,
    /// Where failed deliveries are reported (`#name`, a channel id, or `@person`).
    pub alerts_channel: Option<String>,
    pub port: u16,
    pub server: ServerSettings,
    pub slack: SlackSettings,
    pub lookers: Vec<LookerSettings>,
    pub lookerbot_auth_token: Option<Secret>,
    pub features: Features,
    pub s3: Option<S3Settings>,
    pub azure: Option<AzureSettings>,
    pub gcs: Option<GcsSettings>,
    pub database_url: String,
    pub log_format: LogFormat,
    /// The log filter (`RUST_LOG`'s syntax).
    pub log_filter: String,
    pub looker_tls: LookerTls,
    pub looker_timeout: Duration,
    pub jobs: JobSettings,
    pub webhook_max_bytes: usize,
    pub table_max_rows: usize,
    pub attach_csv: bool,
    pub render_timeout: Duration,
    pub dashboard_style: DashboardStyle,
    pub hub: HubSettings,
    pub trust: TrustSettings,
    pub notify: NotifySettings,
    /// How long a data-action button keeps working.
    pub data_action_lifetime: Duration,
    /// Who may read answers in each channel.
    pub audience: AudienceSettings,
    /// How long the audit is kept.
    pub audit_retention: Duration,
    /// Link a Looker account only when its email is the person's Slack email.
    pub oauth_same_email: bool,
}

/// One thing wrong with the settings, naming the variable to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingProblem {
    pub variable: &'static str,
    pub message: String,
}

impl fmt::Display for SettingProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.message)
    }
}

/// Every problem found, printed one per line.
#[derive(Debug, Clone)]
pub struct SettingsError(pub Vec<SettingProblem>);

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "lookerbot cannot start: {} setting problem(s):", self.0.len())?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SettingsError {}

/// Settings for unit tests elsewhere in the crate.
#[cfg(test)]
pub(crate) mod examples {
    use super::{LookerSettings, RawSettings};

    /// The Lookers a `LOOKERS` JSON array describes (a bot token and signing secret added).
    pub fn lookers(json: serde_json::Value) -> Vec<LookerSettings> {
        let raw = RawSettings {
            slack_api_key: Some("xoxb-1".into()),
            slack_signing_secret: Some("s".into()),
            lookers: Some(json.to_string()),
            ..Default::default()
        };
        raw.validate().expect("example settings are valid").0.lookers
    }

    /// One Looker at `https://looker.example.com`.
    pub fn one_looker() -> Vec<LookerSettings> {
        lookers(serde_json::json!([{"url": "https://looker.example.com",
            "apiBaseUrl": "https://looker.example.com/api/4.0", "clientId": "a", "clientSecret": "b"}]))
    }
}

#[cfg(test)]
mod tests;
