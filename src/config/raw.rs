//! The raw variables as clap reads them from the environment (and `.env`): the only place the
//! bot reads its environment.

/// The raw variables as clap reads them. Every field is a string so that validation can report
/// every problem at once instead of stopping at the first unparsable number.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct RawSettings {
    /// Slack bot token (xoxb-...). Lookerbot's name for it.
    #[arg(long, global = true, env = "SLACK_API_KEY", hide_env_values = true)]
    pub slack_api_key: Option<String>,
    /// Slack bot token; alias of SLACK_API_KEY.
    #[arg(long, global = true, env = "SLACK_BOT_TOKEN", hide_env_values = true)]
    pub slack_bot_token: Option<String>,
    /// Slack app signing secret; required for requests from Slack over HTTP.
    #[arg(long, global = true, env = "SLACK_SIGNING_SECRET", hide_env_values = true)]
    pub slack_signing_secret: Option<String>,
    /// Legacy slash-command verification token (deprecated; accepted only when set).
    #[arg(long, global = true, env = "SLACK_SLASH_COMMAND_TOKEN", hide_env_values = true)]
    pub slack_slash_command_token: Option<String>,
    /// Slack app-level token (xapp-...) for Socket Mode.
    #[arg(long, global = true, env = "SLACK_APP_TOKEN", hide_env_values = true)]
    pub slack_app_token: Option<String>,
    /// Slack Web API base URL.
    #[arg(long, global = true, env = "SLACK_API_BASE_URL")]
    pub slack_api_base_url: Option<String>,
    /// Web address of your Looker, e.g. https://company.looker.com.
    #[arg(long, global = true, env = "LOOKER_URL")]
    pub looker_url: Option<String>,
    /// Looker API base URL, e.g. https://company.looker.com/api/4.0 (3.x paths are upgraded).
    #[arg(long, global = true, env = "LOOKER_API_BASE_URL")]
    pub looker_api_base_url: Option<String>,
    /// Looker API client id.
    #[arg(long, global = true, env = "LOOKER_API_CLIENT_ID")]
    pub looker_api_client_id: Option<String>,
    /// Looker API client secret.
    #[arg(long, global = true, env = "LOOKER_API_CLIENT_SECRET", hide_env_values = true)]
    pub looker_api_client_secret: Option<String>,
    /// Older name of LOOKER_API_CLIENT_ID.
    #[arg(long, global = true, env = "LOOKER_API_3_CLIENT_ID")]
    pub looker_api_3_client_id: Option<String>,
    /// Older name of LOOKER_API_CLIENT_SECRET.
    #[arg(long, global = true, env = "LOOKER_API_3_CLIENT_SECRET", hide_env_values = true)]
    pub looker_api_3_client_secret: Option<String>,
    /// Folder whose dashboards become custom commands.
    #[arg(long, global = true, env = "LOOKER_CUSTOM_COMMAND_FOLDER_ID")]
    pub looker_custom_command_folder_id: Option<String>,
    /// Older name of LOOKER_CUSTOM_COMMAND_FOLDER_ID.
    #[arg(long, global = true, env = "LOOKER_CUSTOM_COMMAND_SPACE_ID")]
    pub looker_custom_command_space_id: Option<String>,
    /// Token Looker sends in X-Looker-Webhook-Token with scheduled deliveries.
    #[arg(long, global = true, env = "LOOKER_WEBHOOK_TOKEN", hide_env_values = true)]
    pub looker_webhook_token: Option<String>,
    /// Shared token for `Authorization: Token token="..."` (Action Hub and webhooks).
    #[arg(long, global = true, env = "LOOKERBOT_AUTH_TOKEN", hide_env_values = true)]
    pub lookerbot_auth_token: Option<String>,
    /// JSON array of Lookers: [{url, apiBaseUrl, clientId, clientSecret, customCommandFolderId?, webhookToken?}].
    #[arg(long, global = true, env = "LOOKERS", hide_env_values = true)]
    pub lookers: Option<String>,
    /// HTTP port.
    #[arg(long, global = true, env = "PORT")]
    pub port: Option<String>,
    /// Show a "working on it" message while answering.
    #[arg(long, global = true, env = "LOOKER_SLACKBOT_LOADING_MESSAGES")]
    pub looker_slackbot_loading_messages: Option<String>,
    /// Show Looker data actions as buttons under results.
    #[arg(long, global = true, env = "LOOKERBOT_DATA_ACTIONS_IN_MESSAGES")]
    pub lookerbot_data_actions_in_messages: Option<String>,
    /// Unfurl Looker links posted in channels.
    #[arg(long, global = true, env = "LOOKER_SLACKBOT_EXPAND_URLS")]
    pub looker_slackbot_expand_urls: Option<String>,
    /// Let guest users use the bot.
    #[arg(long, global = true, env = "ALLOW_SLACK_GUEST_USERS")]
    pub allow_slack_guest_users: Option<String>,
    /// Let users from other workspaces (Slack Connect) use the bot.
    #[arg(long, global = true, env = "ALLOW_SLACK_SHARED_WORKSPACES")]
    pub allow_slack_shared_workspaces: Option<String>,
    /// S3 bucket for chart images (default: images are uploaded to Slack).
    #[arg(long, global = true, env = "SLACKBOT_S3_BUCKET")]
    pub slackbot_s3_bucket: Option<String>,
    /// Azure storage account for chart images (Lookerbot's Azure store).
    #[arg(long, global = true, env = "AZURE_STORAGE_ACCOUNT")]
    pub azure_storage_account: Option<String>,
    /// Container of AZURE_STORAGE_ACCOUNT for chart images.
    #[arg(long, global = true, env = "SLACKBOT_AZURE_CONTAINER")]
    pub slackbot_azure_container: Option<String>,
    /// Access key of AZURE_STORAGE_ACCOUNT.
    #[arg(long, global = true, env = "AZURE_STORAGE_ACCESS_KEY", hide_env_values = true)]
    pub azure_storage_access_key: Option<String>,
    /// Blob service address other than the account's own (Azurite, a sovereign cloud).
    #[arg(long, global = true, env = "SLACKBOT_AZURE_ENDPOINT")]
    pub slackbot_azure_endpoint: Option<String>,
    /// Google Cloud Storage bucket for chart images (Lookerbot's GCS store).
    #[arg(long, global = true, env = "GOOGLE_CLOUD_BUCKET")]
    pub google_cloud_bucket: Option<String>,
    /// Google Cloud project of GOOGLE_CLOUD_BUCKET.
    #[arg(long, global = true, env = "GOOGLE_CLOUD_PROJECT")]
    pub google_cloud_project: Option<String>,
    /// A service account's JSON key (its content); without it, the machine's own credentials.
    #[arg(long, global = true, env = "GOOGLE_CLOUD_CREDENTIALS_JSON", hide_env_values = true)]
    pub google_cloud_credentials_json: Option<String>,
    /// Storage address other than https://storage.googleapis.com (an emulator, a private endpoint).
    #[arg(long, global = true, env = "SLACKBOT_GCS_ENDPOINT")]
    pub slackbot_gcs_endpoint: Option<String>,
    /// Region of SLACKBOT_S3_BUCKET.
    #[arg(long, global = true, env = "SLACKBOT_S3_BUCKET_REGION")]
    pub slackbot_s3_bucket_region: Option<String>,
    /// S3-compatible endpoint (MinIO, R2, GCS interoperability) instead of AWS.
    #[arg(long, global = true, env = "SLACKBOT_S3_ENDPOINT")]
    pub slackbot_s3_endpoint: Option<String>,
    /// Address the bucket by path (endpoint/bucket/key), as most S3-compatible stores want.
    #[arg(long, global = true, env = "SLACKBOT_S3_FORCE_PATH_STYLE")]
    pub slackbot_s3_force_path_style: Option<String>,
    /// Make images public-read (Lookerbot's way) instead of presigned links.
    #[arg(long, global = true, env = "SLACKBOT_S3_PUBLIC_READ")]
    pub slackbot_s3_public_read: Option<String>,
    /// Lifetime of presigned image links (`1d`, `12h`; at most 7d).
    #[arg(long, global = true, env = "SLACKBOT_S3_LINK_TTL")]
    pub slackbot_s3_link_ttl: Option<String>,
    /// Older setting: the lifetime of presigned image links, in seconds, if SLACKBOT_S3_LINK_TTL is unset.
    #[arg(long, global = true, env = "SLACKBOT_S3_URL_EXPIRY_SECS")]
    pub slackbot_s3_url_expiry_secs: Option<String>,
    /// AWS access key id (or any other source of the standard AWS credential chain).
    #[arg(long, global = true, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    pub aws_access_key_id: Option<String>,
    /// AWS secret access key.
    #[arg(long, global = true, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub aws_secret_access_key: Option<String>,
    /// Database URL: sqlite://....
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Log format: text or json.
    #[arg(long, global = true, env = "LOG_FORMAT")]
    pub log_format: Option<String>,
    /// PEM bundle of certificates to trust for Looker (self-signed Lookers).
    #[arg(long, global = true, env = "LOOKER_CA_CERT")]
    pub looker_ca_cert: Option<String>,
    /// Skip TLS verification for Looker (development only).
    #[arg(long, global = true, env = "LOOKER_TLS_INSECURE")]
    pub looker_tls_insecure: Option<String>,
    /// Lookerbot's name for LOOKER_TLS_INSECURE.
    #[arg(long, global = true, env = "UNSAFE_LOCAL_DEV")]
    pub unsafe_local_dev: Option<String>,
    /// 0 skips TLS verification for Looker only, as Lookerbot (Node) did; prefer LOOKER_CA_CERT.
    #[arg(long, global = true, env = "NODE_TLS_REJECT_UNAUTHORIZED")]
    pub node_tls_reject_unauthorized: Option<String>,
    /// A channel (#name or id) where deliveries that fail for good are reported, grouped.
    #[arg(long, global = true, env = "LOOKERBOT_ALERTS_CHANNEL")]
    pub lookerbot_alerts_channel: Option<String>,
    /// Bearer token for GET /metrics (Prometheus); without it (and without
    /// LOOKERBOT_METRICS_OPEN) /metrics is off.
    #[arg(long, global = true, env = "LOOKERBOT_METRICS_TOKEN", hide_env_values = true)]
    pub lookerbot_metrics_token: Option<String>,
    /// Serve GET /metrics without a token (only on a private network).
    #[arg(long, global = true, env = "LOOKERBOT_METRICS_OPEN")]
    pub lookerbot_metrics_open: Option<String>,
    /// Queries run at once on each Looker (Looker's per-user default).
    #[arg(long, global = true, env = "LOOKER_MAX_QUERIES")]
    pub looker_max_queries: Option<String>,
    /// Queries run at once on each Looker whoever the bot acts as; `maxInstanceQueries` in LOOKERS overrides it per Looker.
    #[arg(long, global = true, env = "LOOKER_MAX_INSTANCE_QUERIES")]
    pub looker_max_instance_queries: Option<String>,
    /// As whom a person's questions run on Looker: shared (the API user, for everyone), sudo
    /// (the Looker user with the asker's Slack email; the API user must be an admin) or
    /// sudo_or_shared, oauth (the Looker account each person links through Looker's OAuth) or
    /// oauth_or_shared; `identity` in LOOKERS sets it per Looker.
    #[arg(long, global = true, env = "LOOKERBOT_IDENTITY")]
    pub lookerbot_identity: Option<String>,
    /// The client_guid of the bot's OAuth client app in Looker, for LOOKERBOT_IDENTITY=oauth
    /// (`oauthClientId` in LOOKERS sets it per Looker).
    #[arg(long, global = true, env = "LOOKER_OAUTH_CLIENT_ID")]
    pub looker_oauth_client_id: Option<String>,
    /// Key sealing people's Looker OAuth tokens at rest: 32 random bytes, base64 or hex
    /// (`openssl rand -base64 32`); required with LOOKERBOT_IDENTITY=oauth.
    #[arg(long, global = true, env = "LOOKERBOT_TOKEN_KEY", hide_env_values = true)]
    pub lookerbot_token_key: Option<String>,
    /// A keyring instead of LOOKERBOT_TOKEN_KEY: `id:key,id:key`, the first seals, every one
    /// opens; `lookerbot identity rekey` re-seals everything under the first.
    #[arg(long, global = true, env = "LOOKERBOT_TOKEN_KEYS", hide_env_values = true)]
    pub lookerbot_token_keys: Option<String>,
    /// With LOOKERBOT_IDENTITY=oauth, link a Looker account only when its email is the person's
    /// Slack email (so nobody links someone else's account to themselves).
    #[arg(long, global = true, env = "LOOKERBOT_OAUTH_SAME_EMAIL")]
    pub lookerbot_oauth_same_email: Option<String>,
    /// Senders allowed to post through POST /api/notify, as name:token pairs
    /// (`ci:<secret>,ml:<secret>`; tokens of 16 characters or more).
    #[arg(long, global = true, env = "LOOKERBOT_NOTIFY_TOKENS", hide_env_values = true)]
    pub lookerbot_notify_tokens: Option<String>,
    /// Let notification text mention people and channels (<!channel>, <@U…>).
    #[arg(long, global = true, env = "LOOKERBOT_NOTIFY_ALLOW_MENTIONS")]
    pub lookerbot_notify_allow_mentions: Option<String>,
    /// Notifications one sender may send a minute, per replica; past it, 429 with Retry-After
    ///.
    #[arg(long, global = true, env = "LOOKERBOT_NOTIFY_PER_MINUTE")]
    pub lookerbot_notify_per_minute: Option<String>,
    /// Braze REST endpoints the Action Hub's braze integration accepts besides Braze's own
    /// https://*.braze.com and *.braze.eu hosts, comma-separated (a proxy).
    #[arg(long, global = true, env = "LOOKERBOT_BRAZE_ENDPOINTS")]
    pub lookerbot_braze_endpoints: Option<String>,
    /// Apply database migrations when `serve` starts (PostgreSQL).
    #[arg(long, global = true, env = "LOOKERBOT_MIGRATE_ON_START")]
    pub lookerbot_migrate_on_start: Option<String>,
    /// Jobs run at once.
    /// Each Looker's LOOKER_MAX_QUERIES bounds its queries whatever this is, and a Looker's jobs
    /// take at most three workers per slot, so a slow Looker leaves workers to the others.
    #[arg(long, global = true, env = "LOOKERBOT_WORKERS")]
    pub lookerbot_workers: Option<String>,
    /// Attempts before a job is marked dead.
    #[arg(long, global = true, env = "LOOKERBOT_JOB_MAX_ATTEMPTS")]
    pub lookerbot_job_max_attempts: Option<String>,
    /// First retry delay in milliseconds, doubled on each attempt.
    #[arg(long, global = true, env = "LOOKERBOT_JOB_BACKOFF_MS")]
    pub lookerbot_job_backoff_ms: Option<String>,
    /// Seconds one attempt of a job may run; meanwhile its worker renews a 30 s lease, so a
    /// dead replica's job is taken over within about 30 s.
    #[arg(long, global = true, env = "LOOKERBOT_JOB_LEASE_SECS")]
    pub lookerbot_job_lease_secs: Option<String>,
    /// Largest webhook body accepted from Looker, in MiB.
    #[arg(long, global = true, env = "LOOKERBOT_WEBHOOK_MAX_MB")]
    pub lookerbot_webhook_max_mb: Option<String>,
    /// Rows shown in a table before "Showing N of M rows" (at most 99).
    #[arg(long, global = true, env = "LOOKERBOT_TABLE_MAX_ROWS")]
    pub lookerbot_table_max_rows: Option<String>,
    /// Attach the whole result as CSV when a table is cut.
    #[arg(long, global = true, env = "LOOKERBOT_ATTACH_CSV")]
    pub lookerbot_attach_csv: Option<String>,
    /// Longest wait for Looker to draw an image, in seconds.
    #[arg(long, global = true, env = "LOOKERBOT_RENDER_TIMEOUT_SECS")]
    pub lookerbot_render_timeout_secs: Option<String>,
    /// Dashboards as tiles (every tile rendered), or one png / pdf of the whole dashboard.
    #[arg(long, global = true, env = "LOOKERBOT_DASHBOARD_STYLE")]
    pub lookerbot_dashboard_style: Option<String>,
    /// Timeout of one Looker API call, in seconds.
    #[arg(long, global = true, env = "LOOKER_TIMEOUT_SECS")]
    pub looker_timeout_secs: Option<String>,
    /// Timeout of one Slack API call, in seconds.
    #[arg(long, global = true, env = "SLACK_TIMEOUT_SECS")]
    pub slack_timeout_secs: Option<String>,
    /// Log filter, e.g. `info` or `lookerbot=debug,info`.
    #[arg(long, global = true, env = "RUST_LOG")]
    pub rust_log: Option<String>,
    /// AWS session token, with temporary AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
    #[arg(long, global = true, env = "AWS_SESSION_TOKEN", hide_env_values = true)]
    pub aws_session_token: Option<String>,
    /// AWS region of the image bucket when SLACKBOT_S3_BUCKET_REGION is not set.
    #[arg(long, global = true, env = "AWS_REGION")]
    pub aws_region: Option<String>,
    /// AWS region, the SDK's older name.
    #[arg(long, global = true, env = "AWS_DEFAULT_REGION")]
    pub aws_default_region: Option<String>,
    /// AWS profile (from ~/.aws) for the image bucket's credentials, when no keys are given.
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub aws_profile: Option<String>,
    /// Role to assume with a web identity token (EKS service accounts), with AWS_WEB_IDENTITY_TOKEN_FILE.
    #[arg(long, global = true, env = "AWS_ROLE_ARN")]
    pub aws_role_arn: Option<String>,
    /// File holding the web identity token for AWS_ROLE_ARN.
    #[arg(long, global = true, env = "AWS_WEB_IDENTITY_TOKEN_FILE")]
    pub aws_web_identity_token_file: Option<String>,
    /// Where large request bodies wait while they are read.
    #[arg(long, global = true, env = "LOOKERBOT_SPOOL_DIR")]
    pub lookerbot_spool_dir: Option<String>,
    /// Seconds a client has to send its request headers, and the longest an idle connection is kept.
    #[arg(long, global = true, env = "LOOKERBOT_HEADER_TIMEOUT_SECS")]
    pub lookerbot_header_timeout_secs: Option<String>,
    /// Seconds a client has to send a request body (Slack's: at most 10).
    #[arg(long, global = true, env = "LOOKERBOT_BODY_TIMEOUT_SECS")]
    pub lookerbot_body_timeout_secs: Option<String>,
    /// Connections served at once; past it, a clear 503.
    #[arg(long, global = true, env = "LOOKERBOT_MAX_CONNECTIONS")]
    pub lookerbot_max_connections: Option<String>,
    /// The bot's public HTTPS address, for the Action Hub's integration URLs and the app manifest.
    #[arg(long, global = true, env = "PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Largest Action Hub request accepted, in MiB (streamed to disk; base64 adds a third).
    #[arg(long, global = true, env = "LOOKERBOT_HUB_MAX_MB")]
    pub lookerbot_hub_max_mb: Option<String>,
    /// Seconds an Action Hub delivery is waited on for its outcome before Looker is answered (0:
    /// answer once recorded; Looker is then not told the outcome).
    #[arg(long, global = true, env = "LOOKERBOT_HUB_WAIT_SECS")]
    pub lookerbot_hub_wait_secs: Option<String>,
    /// List every public channel in the Action Hub's form, not only those the bot is in.
    #[arg(long, global = true, env = "LOOKERBOT_HUB_ALL_CHANNELS")]
    pub lookerbot_hub_all_channels: Option<String>,
    /// Hosts (comma-separated, `host` or `host:port`) whose Action Hub download links are followed besides the configured Lookers'.
    #[arg(long, global = true, env = "LOOKERBOT_HUB_DOWNLOAD_HOSTS")]
    pub lookerbot_hub_download_hosts: Option<String>,
    /// Who may read answers, per channel: channel=audience pairs, comma-separated, the channel an
    /// id, a #name or a #pattern-*, the audience public (posted in the channel), private (the
    /// asker alone, with a button to share) or links (a link to Looker, never data); the first
    /// rule naming a channel wins.
    #[arg(long, global = true, env = "LOOKERBOT_AUDIENCE")]
    pub lookerbot_audience: Option<String>,
    /// Audience of our own channels no LOOKERBOT_AUDIENCE rule names.
    #[arg(long, global = true, env = "LOOKERBOT_AUDIENCE_DEFAULT")]
    pub lookerbot_audience_default: Option<String>,
    /// Audience of Slack Connect channels (shared with other organisations) no rule names.
    #[arg(long, global = true, env = "LOOKERBOT_AUDIENCE_EXTERNAL")]
    pub lookerbot_audience_external: Option<String>,
    /// Channels tied to a Looker group: channel=group pairs (`#sales=Sales Team`); an answer is
    /// posted there only if its data comes from a model the group may use.
    #[arg(long, global = true, env = "LOOKERBOT_AUDIENCE_GROUPS")]
    pub lookerbot_audience_groups: Option<String>,
    /// Days the audit of questions and data actions is kept.
    #[arg(long, global = true, env = "LOOKERBOT_AUDIT_DAYS")]
    pub lookerbot_audit_days: Option<String>,
    /// Days a data-action button keeps working.
    #[arg(long, global = true, env = "LOOKERBOT_DATA_ACTION_DAYS")]
    pub lookerbot_data_action_days: Option<String>,
    /// Keys (comma-separated, 32+ characters each; the first signs) for webhook addresses
    /// printed by `lookerbot webhook-url`, which name their channel with a signature.
    #[arg(long, global = true, env = "LOOKERBOT_WEBHOOK_URL_SECRET", hide_env_values = true)]
    pub lookerbot_webhook_url_secret: Option<String>,
    /// Refuse scheduled deliveries to webhook addresses without a valid signature.
    #[arg(long, global = true, env = "LOOKERBOT_WEBHOOK_SIGNED_ONLY")]
    pub lookerbot_webhook_signed_only: Option<String>,
    /// API client id of a less privileged Looker user that sudo_or_shared / oauth_or_shared answer
    /// people without a Looker user of their own as; without it they get no answer.
    #[arg(long, global = true, env = "LOOKER_FALLBACK_CLIENT_ID")]
    pub looker_fallback_client_id: Option<String>,
    /// That user's API client secret.
    #[arg(long, global = true, env = "LOOKER_FALLBACK_CLIENT_SECRET", hide_env_values = true)]
    pub looker_fallback_client_secret: Option<String>,
    /// Days finished and dead jobs (and their files) are kept, then forgotten.
    #[arg(long, global = true, env = "LOOKERBOT_JOB_RETENTION_DAYS")]
    pub lookerbot_job_retention_days: Option<String>,
    /// Questions, commands and clicks one person may start a minute; 0 turns the limit off
    ///.
    #[arg(long, global = true, env = "LOOKERBOT_PER_USER_PER_MINUTE")]
    pub lookerbot_per_user_per_minute: Option<String>,
}
