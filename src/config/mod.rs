//! Settings: read once from the environment (and `.env`), validated in one pass that reports every
//! problem at once, then handed to the clients. No other module reads the environment.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use subtle::ConstantTimeEq;
use url::Url;

/// A secret value: never printed by `Debug`/`Display`, compared in constant time.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw value, for the one place that must send it (an HTTP header or a login form).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison against a value presented by a caller.
    pub fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// The raw variables as clap reads them. Every field is a string so that validation can report
/// every problem at once instead of stopping at the first unparsable number.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct RawSettings {
    /// Slack bot token (xoxb-...). Lookerbot's name for it.
    #[arg(long, env = "SLACK_API_KEY", hide_env_values = true)]
    pub slack_api_key: Option<String>,
    /// Slack bot token; alias of SLACK_API_KEY.
    #[arg(long, env = "SLACK_BOT_TOKEN", hide_env_values = true)]
    pub slack_bot_token: Option<String>,
    /// Slack app signing secret; required for requests from Slack over HTTP.
    #[arg(long, env = "SLACK_SIGNING_SECRET", hide_env_values = true)]
    pub slack_signing_secret: Option<String>,
    /// Legacy slash-command verification token (deprecated; accepted only when set).
    #[arg(long, env = "SLACK_SLASH_COMMAND_TOKEN", hide_env_values = true)]
    pub slack_slash_command_token: Option<String>,
    /// Slack app-level token (xapp-...) for Socket Mode.
    #[arg(long, env = "SLACK_APP_TOKEN", hide_env_values = true)]
    pub slack_app_token: Option<String>,
    /// Slack Web API base URL [default: https://slack.com/api].
    #[arg(long, env = "SLACK_API_BASE_URL")]
    pub slack_api_base_url: Option<String>,
    /// Web address of your Looker, e.g. https://company.looker.com.
    #[arg(long, env = "LOOKER_URL")]
    pub looker_url: Option<String>,
    /// Looker API base URL, e.g. https://company.looker.com/api/4.0 (3.x paths are upgraded).
    #[arg(long, env = "LOOKER_API_BASE_URL")]
    pub looker_api_base_url: Option<String>,
    /// Looker API client id.
    #[arg(long, env = "LOOKER_API_CLIENT_ID")]
    pub looker_api_client_id: Option<String>,
    /// Looker API client secret.
    #[arg(long, env = "LOOKER_API_CLIENT_SECRET", hide_env_values = true)]
    pub looker_api_client_secret: Option<String>,
    /// Older name of LOOKER_API_CLIENT_ID.
    #[arg(long, env = "LOOKER_API_3_CLIENT_ID")]
    pub looker_api_3_client_id: Option<String>,
    /// Older name of LOOKER_API_CLIENT_SECRET.
    #[arg(long, env = "LOOKER_API_3_CLIENT_SECRET", hide_env_values = true)]
    pub looker_api_3_client_secret: Option<String>,
    /// Folder whose dashboards become custom commands.
    #[arg(long, env = "LOOKER_CUSTOM_COMMAND_FOLDER_ID")]
    pub looker_custom_command_folder_id: Option<String>,
    /// Older name of LOOKER_CUSTOM_COMMAND_FOLDER_ID.
    #[arg(long, env = "LOOKER_CUSTOM_COMMAND_SPACE_ID")]
    pub looker_custom_command_space_id: Option<String>,
    /// Token Looker sends in X-Looker-Webhook-Token with scheduled deliveries.
    #[arg(long, env = "LOOKER_WEBHOOK_TOKEN", hide_env_values = true)]
    pub looker_webhook_token: Option<String>,
    /// Shared token for `Authorization: Token token="..."` (Action Hub and webhooks).
    #[arg(long, env = "LOOKERBOT_AUTH_TOKEN", hide_env_values = true)]
    pub lookerbot_auth_token: Option<String>,
    /// JSON array of Lookers: [{url, apiBaseUrl, clientId, clientSecret, customCommandFolderId?, webhookToken?}].
    #[arg(long, env = "LOOKERS", hide_env_values = true)]
    pub lookers: Option<String>,
    /// HTTP port [default: 3333].
    #[arg(long, env = "PORT")]
    pub port: Option<String>,
    /// Show a "working on it" message while answering [default: true].
    #[arg(long, env = "LOOKER_SLACKBOT_LOADING_MESSAGES")]
    pub looker_slackbot_loading_messages: Option<String>,
    /// Show Looker data actions as buttons under results [default: false].
    #[arg(long, env = "LOOKERBOT_DATA_ACTIONS_IN_MESSAGES")]
    pub lookerbot_data_actions_in_messages: Option<String>,
    /// Unfurl Looker links posted in channels [default: true].
    #[arg(long, env = "LOOKER_SLACKBOT_EXPAND_URLS")]
    pub looker_slackbot_expand_urls: Option<String>,
    /// Let guest users use the bot [default: false].
    #[arg(long, env = "ALLOW_SLACK_GUEST_USERS")]
    pub allow_slack_guest_users: Option<String>,
    /// Let users from other workspaces (Slack Connect) use the bot [default: false].
    #[arg(long, env = "ALLOW_SLACK_SHARED_WORKSPACES")]
    pub allow_slack_shared_workspaces: Option<String>,
    /// S3 bucket for chart images (default: images are uploaded to Slack).
    #[arg(long, env = "SLACKBOT_S3_BUCKET")]
    pub slackbot_s3_bucket: Option<String>,
    /// Region of SLACKBOT_S3_BUCKET.
    #[arg(long, env = "SLACKBOT_S3_BUCKET_REGION")]
    pub slackbot_s3_bucket_region: Option<String>,
    /// S3-compatible endpoint (MinIO, R2, GCS interoperability) instead of AWS.
    #[arg(long, env = "SLACKBOT_S3_ENDPOINT")]
    pub slackbot_s3_endpoint: Option<String>,
    /// Address the bucket by path (endpoint/bucket/key), as most S3-compatible stores want [default: false].
    #[arg(long, env = "SLACKBOT_S3_FORCE_PATH_STYLE")]
    pub slackbot_s3_force_path_style: Option<String>,
    /// Make images public-read (Lookerbot's way) instead of presigned links [default: false].
    #[arg(long, env = "SLACKBOT_S3_PUBLIC_READ")]
    pub slackbot_s3_public_read: Option<String>,
    /// Lifetime of presigned image links, in seconds (at most 7 days) [default: 604800].
    #[arg(long, env = "SLACKBOT_S3_URL_EXPIRY_SECS")]
    pub slackbot_s3_url_expiry_secs: Option<String>,
    /// AWS access key id (or any other source of the standard AWS credential chain).
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    pub aws_access_key_id: Option<String>,
    /// AWS secret access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub aws_secret_access_key: Option<String>,
    /// Database URL: sqlite://... [default: sqlite://./data/lookerbot.db].
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Log format: text or json [default: text].
    #[arg(long, env = "LOG_FORMAT")]
    pub log_format: Option<String>,
    /// PEM bundle of certificates to trust for Looker (self-signed Lookers).
    #[arg(long, env = "LOOKER_CA_CERT")]
    pub looker_ca_cert: Option<String>,
    /// Skip TLS verification for Looker (development only) [default: false].
    #[arg(long, env = "LOOKER_TLS_INSECURE")]
    pub looker_tls_insecure: Option<String>,
    /// Lookerbot's name for LOOKER_TLS_INSECURE.
    #[arg(long, env = "UNSAFE_LOCAL_DEV")]
    pub unsafe_local_dev: Option<String>,
    /// Background job workers [default: 4; 0 runs no worker].
    #[arg(long, env = "LOOKERBOT_WORKERS")]
    pub lookerbot_workers: Option<String>,
    /// Attempts before a job is marked dead [default: 8].
    #[arg(long, env = "LOOKERBOT_JOB_MAX_ATTEMPTS")]
    pub lookerbot_job_max_attempts: Option<String>,
    /// First retry delay in milliseconds, doubled on each attempt [default: 2000].
    #[arg(long, env = "LOOKERBOT_JOB_BACKOFF_MS")]
    pub lookerbot_job_backoff_ms: Option<String>,
    /// Seconds a worker holds a job before another may take it over [default: 300].
    #[arg(long, env = "LOOKERBOT_JOB_LEASE_SECS")]
    pub lookerbot_job_lease_secs: Option<String>,
    /// Largest webhook body accepted from Looker, in MiB [default: 64].
    #[arg(long, env = "LOOKERBOT_WEBHOOK_MAX_MB")]
    pub lookerbot_webhook_max_mb: Option<String>,
    /// Rows shown in a table before "Showing N of M rows" (at most 99) [default: 20].
    #[arg(long, env = "LOOKERBOT_TABLE_MAX_ROWS")]
    pub lookerbot_table_max_rows: Option<String>,
    /// Attach the whole result as CSV when a table is cut [default: false].
    #[arg(long, env = "LOOKERBOT_ATTACH_CSV")]
    pub lookerbot_attach_csv: Option<String>,
    /// Longest wait for Looker to draw an image, in seconds [default: 120].
    #[arg(long, env = "LOOKERBOT_RENDER_TIMEOUT_SECS")]
    pub lookerbot_render_timeout_secs: Option<String>,
    /// Dashboards as tiles (every tile rendered), or one png / pdf of the whole dashboard [default: tiles].
    #[arg(long, env = "LOOKERBOT_DASHBOARD_STYLE")]
    pub lookerbot_dashboard_style: Option<String>,
    /// Timeout of one Looker API call, in seconds [default: 60].
    #[arg(long, env = "LOOKER_TIMEOUT_SECS")]
    pub looker_timeout_secs: Option<String>,
    /// Timeout of one Slack API call, in seconds [default: 30].
    #[arg(long, env = "SLACK_TIMEOUT_SECS")]
    pub slack_timeout_secs: Option<String>,
}

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

#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    pub region: Option<String>,
    pub endpoint: Option<Url>,
    pub force_path_style: bool,
    /// Lookerbot's public-read objects; off unless the operator opts in.
    pub public_read: bool,
    pub url_expiry: Duration,
    /// Static credentials when both are given; otherwise the standard AWS chain.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
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

#[derive(Debug, Clone)]
pub struct JobSettings {
    pub workers: usize,
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub lease: Duration,
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
    pub port: u16,
    pub slack: SlackSettings,
    pub lookers: Vec<LookerSettings>,
    pub lookerbot_auth_token: Option<Secret>,
    pub features: Features,
    pub s3: Option<S3Settings>,
    pub database_url: String,
    pub log_format: LogFormat,
    pub looker_tls: LookerTls,
    pub looker_timeout: Duration,
    pub jobs: JobSettings,
    pub webhook_max_bytes: usize,
    pub table_max_rows: usize,
    pub attach_csv: bool,
    pub render_timeout: Duration,
    pub dashboard_style: DashboardStyle,
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

/// The `LOOKERS` JSON entry, with Lookerbot's camelCase names.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LookerEntry {
    url: String,
    api_base_url: String,
    client_id: String,
    client_secret: String,
    #[serde(default, alias = "customCommandSpaceId")]
    custom_command_folder_id: Option<serde_json::Value>,
    #[serde(default)]
    webhook_token: Option<String>,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/lookerbot.db";
pub const DEFAULT_SLACK_API_BASE_URL: &str = "https://slack.com/api";

/// Collects problems while parsing, so the user sees them all in one run.
#[derive(Default)]
struct Checker {
    problems: Vec<SettingProblem>,
    warnings: Vec<String>,
}

impl Checker {
    fn problem(&mut self, variable: &'static str, message: impl Into<String>) {
        self.problems.push(SettingProblem {
            variable,
            message: message.into(),
        });
    }

    fn flag(&mut self, variable: &'static str, value: &Option<String>, default: bool) -> bool {
        match non_empty(value).map(|v| v.to_ascii_lowercase()) {
            None => default,
            Some(v) if matches!(v.as_str(), "true" | "1" | "yes" | "on") => true,
            Some(v) if matches!(v.as_str(), "false" | "0" | "no" | "off") => false,
            Some(v) => {
                self.problem(variable, format!("expected true or false, got {v:?}"));
                default
            }
        }
    }

    fn number<T: std::str::FromStr + PartialOrd + fmt::Display + Copy>(
        &mut self,
        variable: &'static str,
        value: &Option<String>,
        default: T,
        min: T,
        max: T,
    ) -> T {
        let Some(text) = non_empty(value) else { return default };
        match text.parse::<T>() {
            Ok(n) if n >= min && n <= max => n,
            _ => {
                self.problem(
                    variable,
                    format!("expected a whole number from {min} to {max}, got {text:?}"),
                );
                default
            }
        }
    }

    fn url(&mut self, variable: &'static str, value: &str) -> Option<Url> {
        match Url::parse(value.trim()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Some(url),
            _ => {
                self.problem(variable, format!("expected an http(s) URL, got {value:?}"));
                None
            }
        }
    }
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Lookerbot was configured against API 3.x; the bot speaks 4.0, so upgrade such paths.
fn upgrade_api_base(mut url: Url, checker: &mut Checker, variable: &'static str) -> Url {
    let path = url.path().trim_end_matches('/').to_string();
    if let Some(prefix) = path.strip_suffix("/api/3.0").or_else(|| path.strip_suffix("/api/3.1")) {
        checker
            .warnings
            .push(format!("{variable}: API 3.x is retired; using {prefix}/api/4.0"));
        url.set_path(&format!("{prefix}/api/4.0"));
    } else if !path.ends_with("/api/4.0") {
        if path.is_empty() {
            url.set_path("/api/4.0");
        } else {
            url.set_path(&path);
        }
        if !url.path().ends_with("/api/4.0") {
            checker
                .warnings
                .push(format!("{variable}: {url} does not end in /api/4.0; using it as given"));
        }
    } else {
        url.set_path(&path);
    }
    url
}

impl RawSettings {
    /// The configured Looker web URLs, for commands (such as `manifest`) that need nothing else.
    pub fn looker_urls(&self) -> Result<Vec<Url>, SettingsError> {
        let mut checker = Checker::default();
        let lookers = self.parse_lookers(&mut checker);
        if checker.problems.is_empty() {
            Ok(lookers.into_iter().map(|l| l.url).collect())
        } else {
            Err(SettingsError(checker.problems))
        }
    }

    pub fn database_url(&self) -> String {
        non_empty(&self.database_url)
            .unwrap_or(DEFAULT_DATABASE_URL)
            .to_string()
    }

    pub fn log_format(&self) -> LogFormat {
        match non_empty(&self.log_format) {
            Some(v) if v.eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }

    fn parse_lookers(&self, checker: &mut Checker) -> Vec<LookerSettings> {
        if let Some(json) = non_empty(&self.lookers) {
            let entries: Vec<LookerEntry> = match serde_json::from_str(json) {
                Ok(entries) => entries,
                Err(err) => {
                    checker.problem(
                        "LOOKERS",
                        format!("expected a JSON array of {{url, apiBaseUrl, clientId, clientSecret}} objects: {err}"),
                    );
                    return Vec::new();
                }
            };
            if entries.is_empty() {
                checker.problem("LOOKERS", "the array is empty");
            }
            return entries
                .into_iter()
                .filter_map(|entry| {
                    let url = checker.url("LOOKERS", &entry.url)?;
                    let api = checker.url("LOOKERS", &entry.api_base_url)?;
                    if entry.client_id.trim().is_empty() || entry.client_secret.trim().is_empty() {
                        checker.problem("LOOKERS", format!("{url}: clientId and clientSecret are required"));
                        return None;
                    }
                    Some(LookerSettings {
                        url: normalise_web_url(url),
                        api_base_url: upgrade_api_base(api, checker, "LOOKERS"),
                        client_id: entry.client_id,
                        client_secret: Secret::new(entry.client_secret),
                        custom_command_folder_id: entry.custom_command_folder_id.and_then(|v| match v {
                            serde_json::Value::String(s) if !s.is_empty() => Some(s),
                            serde_json::Value::Number(n) => Some(n.to_string()),
                            _ => None,
                        }),
                        webhook_token: entry.webhook_token.filter(|t| !t.is_empty()).map(Secret::new),
                    })
                })
                .collect();
        }

        let url = match non_empty(&self.looker_url) {
            Some(v) => checker.url("LOOKER_URL", v),
            None => {
                checker.problem("LOOKER_URL", "required (or set LOOKERS for several Lookers)");
                None
            }
        };
        let api = match non_empty(&self.looker_api_base_url) {
            Some(v) => checker.url("LOOKER_API_BASE_URL", v),
            None => {
                checker.problem(
                    "LOOKER_API_BASE_URL",
                    "required, e.g. https://company.looker.com/api/4.0",
                );
                None
            }
        };
        let client_id = non_empty(&self.looker_api_client_id).or(non_empty(&self.looker_api_3_client_id));
        let client_secret = non_empty(&self.looker_api_client_secret).or(non_empty(&self.looker_api_3_client_secret));
        if client_id.is_none() {
            checker.problem("LOOKER_API_CLIENT_ID", "required: the API client id of a Looker user");
        }
        if client_secret.is_none() {
            checker.problem(
                "LOOKER_API_CLIENT_SECRET",
                "required: the API client secret of that user",
            );
        }
        match (url, api, client_id, client_secret) {
            (Some(url), Some(api), Some(id), Some(secret)) => vec![LookerSettings {
                url: normalise_web_url(url),
                api_base_url: upgrade_api_base(api, checker, "LOOKER_API_BASE_URL"),
                client_id: id.to_string(),
                client_secret: Secret::new(secret),
                custom_command_folder_id: non_empty(&self.looker_custom_command_folder_id)
                    .or(non_empty(&self.looker_custom_command_space_id))
                    .map(str::to_string),
                webhook_token: non_empty(&self.looker_webhook_token).map(Secret::new),
            }],
            _ => Vec::new(),
        }
    }

    /// Validates everything; returns the settings and the warnings to log, or every problem.
    pub fn validate(&self) -> Result<(Settings, Vec<String>), SettingsError> {
        let mut c = Checker::default();

        let bot_token = non_empty(&self.slack_api_key).or(non_empty(&self.slack_bot_token));
        match bot_token {
            None => c.problem(
                "SLACK_API_KEY",
                "required: the bot token (xoxb-...) from your Slack app's OAuth page",
            ),
            Some(t) if !t.starts_with("xox") => {
                c.problem("SLACK_API_KEY", "expected a Slack token starting with xoxb-")
            }
            Some(t) if !t.starts_with("xoxb-") => c
                .warnings
                .push("SLACK_API_KEY is not a bot token (xoxb-); some features need one".into()),
            Some(_) => {}
        }
        let signing_secret = non_empty(&self.slack_signing_secret).map(Secret::new);
        let app_token = non_empty(&self.slack_app_token).map(Secret::new);
        if signing_secret.is_none() && app_token.is_none() {
            c.problem(
                "SLACK_SIGNING_SECRET",
                "required to verify requests from Slack (Basic Information → Signing Secret), unless SLACK_APP_TOKEN enables Socket Mode",
            );
        }
        if let Some(token) = &app_token
            && !token.expose().starts_with("xapp-")
        {
            c.problem("SLACK_APP_TOKEN", "expected an app-level token starting with xapp-");
        }
        let legacy = non_empty(&self.slack_slash_command_token).map(Secret::new);
        if legacy.is_some() {
            c.warnings.push(
                "SLACK_SLASH_COMMAND_TOKEN is deprecated by Slack: requests carrying it are still accepted; move to SLACK_SIGNING_SECRET".into(),
            );
        }
        let slack_api_base_url = c
            .url(
                "SLACK_API_BASE_URL",
                non_empty(&self.slack_api_base_url).unwrap_or(DEFAULT_SLACK_API_BASE_URL),
            )
            .map(|mut u| {
                let trimmed = u.path().trim_end_matches('/').to_string();
                u.set_path(&trimmed);
                u
            });

        let lookers = self.parse_lookers(&mut c);

        let port = c.number("PORT", &self.port, 3333u16, 0, u16::MAX);
        let features = Features {
            loading_messages: c.flag(
                "LOOKER_SLACKBOT_LOADING_MESSAGES",
                &self.looker_slackbot_loading_messages,
                true,
            ),
            data_actions_in_messages: c.flag(
                "LOOKERBOT_DATA_ACTIONS_IN_MESSAGES",
                &self.lookerbot_data_actions_in_messages,
                false,
            ),
            expand_urls: c.flag("LOOKER_SLACKBOT_EXPAND_URLS", &self.looker_slackbot_expand_urls, true),
            allow_guest_users: c.flag("ALLOW_SLACK_GUEST_USERS", &self.allow_slack_guest_users, false),
            allow_shared_workspaces: c.flag(
                "ALLOW_SLACK_SHARED_WORKSPACES",
                &self.allow_slack_shared_workspaces,
                false,
            ),
        };

        let s3_endpoint = non_empty(&self.slackbot_s3_endpoint).and_then(|v| c.url("SLACKBOT_S3_ENDPOINT", v));
        let force_path_style = c.flag(
            "SLACKBOT_S3_FORCE_PATH_STYLE",
            &self.slackbot_s3_force_path_style,
            false,
        );
        let public_read = c.flag("SLACKBOT_S3_PUBLIC_READ", &self.slackbot_s3_public_read, false);
        let url_expiry = Duration::from_secs(c.number(
            "SLACKBOT_S3_URL_EXPIRY_SECS",
            &self.slackbot_s3_url_expiry_secs,
            604_800u64,
            60,
            604_800,
        ));
        let s3 = non_empty(&self.slackbot_s3_bucket).map(|bucket| S3Settings {
            bucket: bucket.to_string(),
            region: non_empty(&self.slackbot_s3_bucket_region).map(str::to_string),
            endpoint: s3_endpoint,
            force_path_style,
            public_read,
            url_expiry,
            access_key_id: non_empty(&self.aws_access_key_id).map(str::to_string),
            secret_access_key: non_empty(&self.aws_secret_access_key).map(Secret::new),
        });
        if s3.as_ref().is_some_and(|s| s.public_read) {
            c.warnings.push(
                "SLACKBOT_S3_PUBLIC_READ is on: chart images are readable by anyone with the link, forever".into(),
            );
        }
        if s3.is_none() && non_empty(&self.slackbot_s3_bucket_region).is_some() {
            c.warnings
                .push("SLACKBOT_S3_BUCKET_REGION is set without SLACKBOT_S3_BUCKET; images go to Slack".into());
        }

        let database_url = self.database_url();
        if !database_url.starts_with("sqlite:") {
            c.problem(
                "DATABASE_URL",
                "expected a sqlite:// URL (for example sqlite://./data/lookerbot.db)",
            );
        }

        let log_format = match non_empty(&self.log_format).map(str::to_ascii_lowercase).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                c.problem("LOG_FORMAT", format!("expected text or json, got {other:?}"));
                LogFormat::Text
            }
        };

        let ca_cert_pem = non_empty(&self.looker_ca_cert).and_then(|path| match std::fs::read(PathBuf::from(path)) {
            Ok(pem) if pem.windows(11).any(|w| w == b"-----BEGIN ") => Some(pem),
            Ok(_) => {
                c.problem("LOOKER_CA_CERT", format!("{path} holds no PEM certificate"));
                None
            }
            Err(err) => {
                c.problem("LOOKER_CA_CERT", format!("cannot read {path}: {err}"));
                None
            }
        });
        let mut insecure = c.flag("LOOKER_TLS_INSECURE", &self.looker_tls_insecure, false);
        if c.flag("UNSAFE_LOCAL_DEV", &self.unsafe_local_dev, false) {
            insecure = true;
        }
        if insecure {
            c.warnings.push(
                "LOOKER_TLS_INSECURE is on: Looker's TLS certificate is NOT verified. Never use this in production"
                    .into(),
            );
        }

        let jobs = JobSettings {
            workers: c.number("LOOKERBOT_WORKERS", &self.lookerbot_workers, 4usize, 0, 64),
            max_attempts: c.number(
                "LOOKERBOT_JOB_MAX_ATTEMPTS",
                &self.lookerbot_job_max_attempts,
                8u32,
                1,
                100,
            ),
            backoff_base: Duration::from_millis(c.number(
                "LOOKERBOT_JOB_BACKOFF_MS",
                &self.lookerbot_job_backoff_ms,
                2000u64,
                0,
                3_600_000,
            )),
            lease: Duration::from_secs(c.number(
                "LOOKERBOT_JOB_LEASE_SECS",
                &self.lookerbot_job_lease_secs,
                300u64,
                1,
                86_400,
            )),
        };
        let webhook_max_mb = c.number(
            "LOOKERBOT_WEBHOOK_MAX_MB",
            &self.lookerbot_webhook_max_mb,
            64usize,
            1,
            1024,
        );
        let table_max_rows = c.number(
            "LOOKERBOT_TABLE_MAX_ROWS",
            &self.lookerbot_table_max_rows,
            20usize,
            1,
            99,
        );
        let attach_csv = c.flag("LOOKERBOT_ATTACH_CSV", &self.lookerbot_attach_csv, false);
        let render_timeout = Duration::from_secs(c.number(
            "LOOKERBOT_RENDER_TIMEOUT_SECS",
            &self.lookerbot_render_timeout_secs,
            120u64,
            1,
            3600,
        ));
        let dashboard_style = match non_empty(&self.lookerbot_dashboard_style)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("tiles") => DashboardStyle::Tiles,
            Some("png") => DashboardStyle::Png,
            Some("pdf") => DashboardStyle::Pdf,
            Some(other) => {
                c.problem(
                    "LOOKERBOT_DASHBOARD_STYLE",
                    format!("expected tiles, png or pdf, got {other:?}"),
                );
                DashboardStyle::Tiles
            }
        };
        let looker_timeout =
            Duration::from_secs(c.number("LOOKER_TIMEOUT_SECS", &self.looker_timeout_secs, 60u64, 1, 3600));
        let slack_timeout =
            Duration::from_secs(c.number("SLACK_TIMEOUT_SECS", &self.slack_timeout_secs, 30u64, 1, 600));

        if !c.problems.is_empty() {
            return Err(SettingsError(c.problems));
        }
        let settings = Settings {
            port,
            slack: SlackSettings {
                bot_token: Secret::new(bot_token.unwrap_or_default()),
                signing_secret,
                legacy_verification_token: legacy,
                app_token,
                api_base_url: slack_api_base_url.expect("checked above"),
                timeout: slack_timeout,
            },
            lookers,
            lookerbot_auth_token: non_empty(&self.lookerbot_auth_token).map(Secret::new),
            features,
            s3,
            database_url,
            log_format,
            looker_tls: LookerTls { ca_cert_pem, insecure },
            looker_timeout,
            jobs,
            webhook_max_bytes: webhook_max_mb * 1024 * 1024,
            table_max_rows,
            attach_csv,
            render_timeout,
            dashboard_style,
        };
        Ok((settings, c.warnings))
    }
}

/// Web URLs are compared by prefix: drop a trailing slash so `https://x/` matches `https://x/looks/1`.
fn normalise_web_url(mut url: Url) -> Url {
    let trimmed = url.path().trim_end_matches('/').to_string();
    url.set_path(&trimmed);
    url.set_query(None);
    url.set_fragment(None);
    url
}

impl LookerSettings {
    /// The host people name this Looker by: `looker.example.com`, with its port when the URL
    /// has one (`localhost:9999`).
    pub fn host(&self) -> String {
        let name = self.url.host_str().unwrap_or_default();
        match self.url.port() {
            Some(port) => format!("{name}:{port}"),
            None => name.to_string(),
        }
    }

    /// `LOOKER_URL` without the trailing slash, for building links.
    pub fn web_base(&self) -> String {
        self.url.as_str().trim_end_matches('/').to_string()
    }

    /// Whether `content_url` (a look, dashboard or explore link) belongs to this Looker.
    pub fn owns_url(&self, content_url: &str) -> bool {
        let base = self.web_base();
        content_url.starts_with(&base)
            && matches!(
                content_url.as_bytes().get(base.len()),
                None | Some(b'/') | Some(b'?') | Some(b'#')
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> RawSettings {
        RawSettings {
            slack_api_key: Some("xoxb-1".into()),
            slack_signing_secret: Some("s".into()),
            looker_url: Some("https://looker.example.com/".into()),
            looker_api_base_url: Some("https://looker.example.com:19999/api/3.1".into()),
            looker_api_3_client_id: Some("id".into()),
            looker_api_3_client_secret: Some("secret".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_lookerbot_env_is_accepted_and_upgraded_to_api_4() {
        let (settings, warnings) = minimal().validate().unwrap();
        assert_eq!(
            settings.lookers[0].api_base_url.as_str(),
            "https://looker.example.com:19999/api/4.0"
        );
        assert_eq!(settings.lookers[0].web_base(), "https://looker.example.com");
        assert_eq!(settings.port, 3333);
        assert!(settings.features.loading_messages);
        assert!(warnings.iter().any(|w| w.contains("3.x")));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let raw = RawSettings {
            port: Some("seventy".into()),
            log_format: Some("xml".into()),
            allow_slack_guest_users: Some("perhaps".into()),
            ..Default::default()
        };
        let err = raw.validate().unwrap_err();
        let vars: Vec<_> = err.0.iter().map(|p| p.variable).collect();
        for expected in [
            "SLACK_API_KEY",
            "SLACK_SIGNING_SECRET",
            "LOOKER_URL",
            "LOOKER_API_BASE_URL",
            "LOOKER_API_CLIENT_ID",
            "LOOKER_API_CLIENT_SECRET",
            "PORT",
            "LOG_FORMAT",
            "ALLOW_SLACK_GUEST_USERS",
        ] {
            assert!(vars.contains(&expected), "{expected} missing from {vars:?}");
        }
    }

    #[test]
    fn lookers_json_replaces_the_single_looker_variables() {
        let raw = RawSettings {
            lookers: Some(
                r#"[{"url":"https://a.looker.com","apiBaseUrl":"https://a.looker.com/api/4.0","clientId":"a","clientSecret":"as","webhookToken":"wa","customCommandFolderId":7},
                    {"url":"https://b.looker.com","apiBaseUrl":"https://b.looker.com/api/4.0","clientId":"b","clientSecret":"bs"}]"#
                    .into(),
            ),
            looker_url: None,
            looker_api_base_url: None,
            looker_api_3_client_id: None,
            looker_api_3_client_secret: None,
            ..minimal()
        };
        let (settings, _) = raw.validate().unwrap();
        assert_eq!(settings.lookers.len(), 2);
        assert_eq!(settings.lookers[0].custom_command_folder_id.as_deref(), Some("7"));
        assert!(settings.lookers[0].webhook_token.as_ref().unwrap().matches("wa"));
        assert!(settings.lookers[1].webhook_token.is_none());
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let (settings, _) = minimal().validate().unwrap();
        let printed = format!("{settings:?}");
        assert!(!printed.contains("xoxb-1"));
        assert!(!printed.contains("secret\""));
        assert!(printed.contains("[redacted]"));
    }

    #[test]
    fn url_ownership_is_by_prefix_on_a_path_boundary() {
        let (settings, _) = minimal().validate().unwrap();
        let looker = &settings.lookers[0];
        assert!(looker.owns_url("https://looker.example.com/looks/1"));
        assert!(looker.owns_url("https://looker.example.com"));
        assert!(!looker.owns_url("https://looker.example.com.evil.net/looks/1"));
    }
}
