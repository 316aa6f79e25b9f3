//! Validation, one function per section, all reporting into one [`Checker`] so that a single run
//! lists every problem.

use std::path::PathBuf;
use std::time::Duration;

use super::checker::{Checker, non_empty};
use super::{
    AwsCredentials, DEFAULT_DATABASE_URL, DEFAULT_LOG_FILTER, DEFAULT_SLACK_API_BASE_URL, DashboardStyle, Features,
    JobSettings, LogFormat, LookerSettings, LookerTls, MetricsAccess, RawSettings, S3Settings, Secret, ServerSettings,
    Settings, SettingsError, SlackSettings,
};

impl RawSettings {
    /// Validates everything; returns the settings and the warnings to log, or every problem.
    pub fn validate(&self) -> Result<(Settings, Vec<String>), SettingsError> {
        let mut c = Checker::default();
        let mut slack = self.slack(&mut c);
        let lookers = self.parse_lookers(&mut c);
        if let Some(slack) = &mut slack {
            super::trust::retire_legacy_token(slack, &lookers, &mut c);
        }
        let features = self.features(&mut c);
        let s3 = self.s3(&mut c);
        let azure = self.azure(&mut c, s3.is_some());
        let gcs = self.gcs(&mut c, s3.is_some() || azure.is_some());
        let database_url = self.database_url();
        let scheme = database_url.split(':').next().unwrap_or("").to_ascii_lowercase();
        if !matches!(scheme.as_str(), "sqlite" | "postgres" | "postgresql") || !database_url.contains(':') {
            c.problem(
                "DATABASE_URL",
                "expected a sqlite:// URL (for example sqlite://./data/lookerbot.db) or a postgres:// URL",
            );
        }
        let log_format = c.choice(
            "LOG_FORMAT",
            &self.log_format,
            LogFormat::Text,
            &[("text", LogFormat::Text), ("json", LogFormat::Json)],
        );
        let looker_tls = self.looker_tls(&mut c);
        let jobs = self.jobs(&mut c, &lookers);
        let port = c.number("PORT", &self.port, 3333u16, 0, u16::MAX);
        let server = ServerSettings {
            port,
            header_timeout: c.seconds(
                "LOOKERBOT_HEADER_TIMEOUT_SECS",
                &self.lookerbot_header_timeout_secs,
                10,
                1,
                300,
            ),
            body_timeout: c.seconds(
                "LOOKERBOT_BODY_TIMEOUT_SECS",
                &self.lookerbot_body_timeout_secs,
                120,
                1,
                3600,
            ),
            max_connections: c.number(
                "LOOKERBOT_MAX_CONNECTIONS",
                &self.lookerbot_max_connections,
                4096usize,
                16,
                1_000_000,
            ),
            spool_dir: self.spool_dir(&database_url),
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
        let render_timeout = c.seconds(
            "LOOKERBOT_RENDER_TIMEOUT_SECS",
            &self.lookerbot_render_timeout_secs,
            120,
            1,
            3600,
        );
        let dashboard_style = c.choice(
            "LOOKERBOT_DASHBOARD_STYLE",
            &self.lookerbot_dashboard_style,
            DashboardStyle::Tiles,
            &[
                ("tiles", DashboardStyle::Tiles),
                ("png", DashboardStyle::Png),
                ("pdf", DashboardStyle::Pdf),
            ],
        );
        let looker_timeout = c.seconds("LOOKER_TIMEOUT_SECS", &self.looker_timeout_secs, 60, 1, 3600);
        let hub = self.hub(&mut c);
        let trust = self.trust(&mut c);
        let notify = self.notify(&mut c);
        let data_action_lifetime = self.data_action_lifetime(&mut c);
        let audience = self.audience(&mut c, lookers.iter().any(|l| l.identity != super::Identity::Shared));
        for looker in lookers.iter().filter(|l| l.identity.is_oauth()) {
            let host = looker.host();
            if looker.oauth_client_id.is_none() {
                c.problem(
                    "LOOKER_OAUTH_CLIENT_ID",
                    format!("{host} answers people with their linked Looker accounts (oauth): register the bot in Looker as an OAuth client app and give its client_guid here or as oauthClientId in LOOKERS"),
                );
            }
            if trust.token_keys.is_empty() {
                c.problem("LOOKERBOT_TOKEN_KEY", format!("{host} uses oauth: people's tokens are sealed with this key; set 32 random bytes (`openssl rand -base64 32`)"));
            }
            if hub.public_url.is_none() {
                c.problem("PUBLIC_URL", format!("{host} uses oauth: Looker sends people back to PUBLIC_URL/looker/oauth/callback, so the bot's public address is needed"));
            }
        }
        let oauth_same_email = c.flag("LOOKERBOT_OAUTH_SAME_EMAIL", &self.lookerbot_oauth_same_email, true);
        let audit_days = c.number("LOOKERBOT_AUDIT_DAYS", &self.lookerbot_audit_days, 90u64, 1, 36_500);
        let metrics = MetricsAccess {
            token: non_empty(&self.lookerbot_metrics_token).map(Secret::new),
            open: c.flag("LOOKERBOT_METRICS_OPEN", &self.lookerbot_metrics_open, false),
        };
        let warnings = c.finish()?;
        let settings = Settings {
            port,
            server,
            slack: slack.expect("a missing Slack section is a problem reported above"),
            lookers,
            lookerbot_auth_token: non_empty(&self.lookerbot_auth_token).map(Secret::new),
            features,
            s3,
            azure,
            gcs,
            database_url,
            log_format,
            log_filter: self.log_filter(),
            looker_tls,
            looker_timeout,
            jobs,
            webhook_max_bytes: webhook_max_mb * 1024 * 1024,
            table_max_rows,
            attach_csv,
            render_timeout,
            dashboard_style,
            hub,
            trust,
            notify,
            data_action_lifetime,
            audience,
            audit_retention: Duration::from_secs(audit_days * 86_400),
            oauth_same_email,
            metrics,
            alerts_channel: non_empty(&self.lookerbot_alerts_channel).map(str::to_string),
        };
        Ok((settings, warnings))
    }

    /// `LOOKERBOT_SPOOL_DIR`, or a `spool` folder beside the SQLite file (else `./data/spool`).
    fn spool_dir(&self, database_url: &str) -> std::path::PathBuf {
        if let Some(dir) = non_empty(&self.lookerbot_spool_dir) {
            return dir.into();
        }
        let beside_sqlite = database_url
            .strip_prefix("sqlite://")
            .or_else(|| database_url.strip_prefix("sqlite:"))
            .map(|path| path.split('?').next().unwrap_or(path))
            .and_then(|path| std::path::Path::new(path).parent().map(|p| p.join("spool")));
        beside_sqlite
            .filter(|p| !p.as_os_str().is_empty() && p != std::path::Path::new("spool"))
            .unwrap_or_else(|| "./data/spool".into())
    }

    pub fn database_url(&self) -> String {
        non_empty(&self.database_url)
            .unwrap_or(DEFAULT_DATABASE_URL)
            .to_string()
    }

    /// The log format, read leniently: logging starts before the settings are validated.
    pub fn log_format(&self) -> LogFormat {
        match non_empty(&self.log_format) {
            Some(v) if v.eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }

    /// `RUST_LOG`, or the default filter.
    pub fn log_filter(&self) -> String {
        non_empty(&self.rust_log).unwrap_or(DEFAULT_LOG_FILTER).to_string()
    }

    fn slack(&self, c: &mut Checker) -> Option<SlackSettings> {
        let bot_token = non_empty(&self.slack_api_key).or(non_empty(&self.slack_bot_token));
        match bot_token {
            None => c.problem(
                "SLACK_API_KEY",
                "required: the bot token (xoxb-...) from your Slack app's OAuth page",
            ),
            Some(t) if !t.starts_with("xox") => {
                c.problem("SLACK_API_KEY", "expected a Slack token starting with xoxb-")
            }
            Some(t) if !t.starts_with("xoxb-") => {
                c.warn("SLACK_API_KEY is not a bot token (xoxb-); some features need one")
            }
            Some(_) => {}
        }
        let signing_secret = non_empty(&self.slack_signing_secret).map(Secret::new);
        let app_token = non_empty(&self.slack_app_token).map(Secret::new);
        if signing_secret.is_none() && app_token.is_none() {
            c.problem(
                "SLACK_SIGNING_SECRET",
                "today's Slack needs one of two ways in (it retired the RTM connection Lookerbot used): SLACK_SIGNING_SECRET (Basic Information → Signing Secret) to take Slack's requests over HTTP at PUBLIC_URL, or SLACK_APP_TOKEN (an xapp- token with connections:write) for Socket Mode, which needs no public URL",
            );
        }
        if let Some(token) = &app_token
            && !token.expose().starts_with("xapp-")
        {
            c.problem("SLACK_APP_TOKEN", "expected an app-level token starting with xapp-");
        }
        let legacy = non_empty(&self.slack_slash_command_token).map(Secret::new);
        let api_base_url = c
            .url(
                "SLACK_API_BASE_URL",
                non_empty(&self.slack_api_base_url).unwrap_or(DEFAULT_SLACK_API_BASE_URL),
            )
            .map(|mut u| {
                let trimmed = u.path().trim_end_matches('/').to_string();
                u.set_path(&trimmed);
                u
            });
        let timeout = c.seconds("SLACK_TIMEOUT_SECS", &self.slack_timeout_secs, 30, 1, 600);
        Some(SlackSettings {
            bot_token: Secret::new(bot_token?),
            signing_secret,
            legacy_verification_token: legacy,
            app_token,
            api_base_url: api_base_url?,
            timeout,
        })
    }

    fn features(&self, c: &mut Checker) -> Features {
        Features {
            loading_messages: c.flag(
                "LOOKER_SLACKBOT_LOADING_MESSAGES",
                &self.looker_slackbot_loading_messages,
                true,
            ),
            // Lookerbot's default: on unless set to false.
            data_actions_in_messages: c.flag(
                "LOOKERBOT_DATA_ACTIONS_IN_MESSAGES",
                &self.lookerbot_data_actions_in_messages,
                true,
            ),
            expand_urls: c.flag("LOOKER_SLACKBOT_EXPAND_URLS", &self.looker_slackbot_expand_urls, true),
            allow_guest_users: c.flag("ALLOW_SLACK_GUEST_USERS", &self.allow_slack_guest_users, false),
            allow_shared_workspaces: c.flag(
                "ALLOW_SLACK_SHARED_WORKSPACES",
                &self.allow_slack_shared_workspaces,
                false,
            ),
        }
    }

    fn s3(&self, c: &mut Checker) -> Option<S3Settings> {
        let endpoint = non_empty(&self.slackbot_s3_endpoint).and_then(|v| c.url("SLACKBOT_S3_ENDPOINT", v));
        let force_path_style = c.flag(
            "SLACKBOT_S3_FORCE_PATH_STYLE",
            &self.slackbot_s3_force_path_style,
            false,
        );
        let public_read = c.flag("SLACKBOT_S3_PUBLIC_READ", &self.slackbot_s3_public_read, false);
        let url_expiry = self.s3_link_ttl(c);
        let Some(bucket) = non_empty(&self.slackbot_s3_bucket) else {
            if non_empty(&self.slackbot_s3_bucket_region).is_some() {
                c.warn("SLACKBOT_S3_BUCKET_REGION is set without SLACKBOT_S3_BUCKET; images go to Slack");
            }
            return None;
        };
        if public_read {
            c.warn("SLACKBOT_S3_PUBLIC_READ is on: chart images are readable by anyone with the link, forever");
        }
        let text = |value: &Option<String>| non_empty(value).map(str::to_string);
        let credentials = match (text(&self.aws_access_key_id), non_empty(&self.aws_secret_access_key)) {
            (Some(access_key_id), Some(secret)) => AwsCredentials::Keys {
                access_key_id,
                secret_access_key: Secret::new(secret),
                session_token: non_empty(&self.aws_session_token).map(Secret::new),
            },
            (Some(_), None) | (None, Some(_)) => {
                c.problem(
                    "AWS_ACCESS_KEY_ID",
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: set both, or neither to use a profile or the instance's role",
                );
                AwsCredentials::Ambient {
                    profile: None,
                    web_identity: None,
                }
            }
            (None, None) => AwsCredentials::Ambient {
                profile: text(&self.aws_profile),
                web_identity: text(&self.aws_role_arn).zip(text(&self.aws_web_identity_token_file)),
            },
        };
        Some(S3Settings {
            bucket: bucket.to_string(),
            region: text(&self.slackbot_s3_bucket_region)
                .or(text(&self.aws_region))
                .or(text(&self.aws_default_region)),
            endpoint,
            force_path_style,
            public_read,
            url_expiry,
            credentials,
        })
    }

    fn looker_tls(&self, c: &mut Checker) -> LookerTls {
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
        // Node's switch, which Lookerbot users set for a self-signed Looker: honoured for Looker
        // connections only (Slack's are always verified).
        let node_insecure = self.node_tls_reject_unauthorized.as_deref().map(str::trim) == Some("0");
        if node_insecure {
            c.warn("NODE_TLS_REJECT_UNAUTHORIZED=0: Looker's TLS certificate is NOT verified (Slack's still is); set LOOKER_CA_CERT to your Looker's CA certificate instead");
        }
        let insecure = c.flag("LOOKER_TLS_INSECURE", &self.looker_tls_insecure, false)
            | c.flag("UNSAFE_LOCAL_DEV", &self.unsafe_local_dev, false)
            | node_insecure;
        if insecure && !node_insecure {
            c.warn("LOOKER_TLS_INSECURE is on: Looker's TLS certificate is NOT verified. Never use this in production");
        }
        LookerTls { ca_cert_pem, insecure }
    }

    fn jobs(&self, c: &mut Checker, lookers: &[LookerSettings]) -> JobSettings {
        // Enough for every Looker's lane to be full with workers to spare for the rest.
        let workers = 16 + lookers.iter().map(LookerSettings::lane_cap).sum::<usize>();
        JobSettings {
            workers: c.number("LOOKERBOT_WORKERS", &self.lookerbot_workers, workers.min(4096), 0, 4096),
            migrate_on_start: c.flag("LOOKERBOT_MIGRATE_ON_START", &self.lookerbot_migrate_on_start, true),
            max_attempts: c.number(
                "LOOKERBOT_JOB_MAX_ATTEMPTS",
                &self.lookerbot_job_max_attempts,
                8u32,
                1,
                100,
            ),
            backoff_base: std::time::Duration::from_millis(c.number(
                "LOOKERBOT_JOB_BACKOFF_MS",
                &self.lookerbot_job_backoff_ms,
                2000u64,
                0,
                3_600_000,
            )),
            lease: c.seconds(
                "LOOKERBOT_JOB_LEASE_SECS",
                &self.lookerbot_job_lease_secs,
                300,
                1,
                86_400,
            ),
        }
    }
}
