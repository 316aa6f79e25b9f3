//! Every setting the bot reads, once: its section, its default, what it means and whether
//! Lookerbot had it. `.env.example`, the settings table of the docs and the defaults that
//! `--help` shows are all generated from this list (`lookerbot settings`), and tests hold the
//! three and the code's own defaults to it.

/// A setting's default as the docs state it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initial {
    /// Must be given (with the condition, if any).
    Required(&'static str),
    /// Nothing: the feature it names is off, or another setting decides.
    Unset,
    /// This exact value: setting it changes nothing (a test checks the code agrees).
    Value(&'static str),
    /// Worked out from other settings, as described.
    Computed(&'static str),
}

/// What `.env.example` shows for a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Example {
    /// Set (uncommented): a placeholder the operator must replace.
    Set(&'static str),
    /// Commented out, in the form it takes.
    Like(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub name: &'static str,
    pub default: Initial,
    /// Markdown; the first sentence is the short help.
    pub meaning: &'static str,
    /// `same` (Lookerbot read it too), `new`, or what Lookerbot called it.
    pub lookerbot: &'static str,
    pub example: Option<Example>,
}

/// A group of settings, in the order `.env.example` and the docs list them.
pub struct Section(pub &'static str, pub &'static [Setting]);

use Initial::{Computed, Required, Unset, Value};

/// Every setting, by section (a table: one setting a line).
#[rustfmt::skip]
pub const SECTIONS: &[Section] = &[
    Section("Slack (api.slack.com/apps → your app)", &[
        Setting { name: "SLACK_API_KEY", default: Required("required"), meaning: "bot token (`xoxb-...`); `SLACK_BOT_TOKEN` is accepted too", lookerbot: "same", example: Some(Example::Set("xoxb-replace-me")) },
        Setting { name: "SLACK_BOT_TOKEN", default: Unset, meaning: "the bot token, Slack's own name for `SLACK_API_KEY`", lookerbot: "new", example: None },
        Setting { name: "SLACK_SIGNING_SECRET", default: Required("required unless `SLACK_APP_TOKEN`"), meaning: "verifies requests from Slack", lookerbot: "new", example: Some(Example::Set("replace-me")) },
        Setting { name: "SLACK_APP_TOKEN", default: Unset, meaning: "app-level token (`xapp-...`) for Socket Mode", lookerbot: "new", example: None },
        Setting { name: "SLACK_SLASH_COMMAND_TOKEN", default: Unset, meaning: "legacy verification token, accepted only when set (deprecated)", lookerbot: "same", example: None },
        Setting { name: "SLACK_API_BASE_URL", default: Value("https://slack.com/api"), meaning: "Slack Web API base (a proxy or a test server)", lookerbot: "new", example: None },
        Setting { name: "SLACK_TIMEOUT_SECS", default: Value("30"), meaning: "timeout of one Slack API call", lookerbot: "new", example: None },
    ]),
    Section("Looker (Admin → Users → API keys)", &[
        Setting { name: "LOOKER_URL", default: Required("required unless `LOOKERS` is set"), meaning: "Looker's web address; chooses the Looker by URL prefix", lookerbot: "same", example: Some(Example::Set("https://company.looker.com")) },
        Setting { name: "LOOKER_API_BASE_URL", default: Required("required unless `LOOKERS` is set"), meaning: "API base; `/api/3.x` is upgraded to `/api/4.0`", lookerbot: "same", example: Some(Example::Set("https://company.looker.com/api/4.0")) },
        Setting { name: "LOOKER_API_CLIENT_ID", default: Required("required unless `LOOKERS` is set"), meaning: "the Looker API user's client id (`LOOKER_API_3_CLIENT_ID` too)", lookerbot: "same", example: Some(Example::Set("replace-me")) },
        Setting { name: "LOOKER_API_CLIENT_SECRET", default: Required("required unless `LOOKERS` is set"), meaning: "the Looker API user's client secret (`LOOKER_API_3_CLIENT_SECRET` too)", lookerbot: "same", example: Some(Example::Set("replace-me")) },
        Setting { name: "LOOKER_API_3_CLIENT_ID", default: Unset, meaning: "Lookerbot's name for `LOOKER_API_CLIENT_ID`", lookerbot: "same", example: None },
        Setting { name: "LOOKER_API_3_CLIENT_SECRET", default: Unset, meaning: "Lookerbot's name for `LOOKER_API_CLIENT_SECRET`", lookerbot: "same", example: None },
        Setting { name: "LOOKER_WEBHOOK_TOKEN", default: Unset, meaning: "token in `X-Looker-Webhook-Token`", lookerbot: "same", example: None },
        Setting { name: "LOOKERBOT_AUTH_TOKEN", default: Unset, meaning: "`Authorization: Token token=\"...\"` secret", lookerbot: "same", example: None },
        Setting { name: "LOOKER_CUSTOM_COMMAND_FOLDER_ID", default: Unset, meaning: "folder whose dashboards become commands (`..._SPACE_ID` too)", lookerbot: "same", example: None },
        Setting { name: "LOOKER_CUSTOM_COMMAND_SPACE_ID", default: Unset, meaning: "Lookerbot's name for `LOOKER_CUSTOM_COMMAND_FOLDER_ID` (Looker called folders spaces)", lookerbot: "same", example: None },
        Setting { name: "LOOKERS", default: Unset, meaning: "JSON array `[{url, apiBaseUrl, clientId, clientSecret, customCommandFolderId?, webhookToken?, maxQueries?}]` replacing the `LOOKER_*` variables above (*); Lookerbot's spellings `clientID` and `customCommandSpaceId` are read too; write it unquoted in `.env`", lookerbot: "same", example: Some(Example::Like("[{\"url\":\"https://a.looker.com\",\"apiBaseUrl\":\"https://a.looker.com/api/4.0\",\"clientId\":\"...\",\"clientSecret\":\"...\",\"webhookToken\":\"...\"}]")) },
        Setting { name: "LOOKER_CA_CERT", default: Unset, meaning: "PEM bundle to trust a self-signed Looker", lookerbot: "new", example: Some(Example::Like("/etc/ssl/looker-ca.pem")) },
        Setting { name: "LOOKER_TLS_INSECURE", default: Value("false"), meaning: "skip Looker TLS verification (development only; `UNSAFE_LOCAL_DEV` too)", lookerbot: "`UNSAFE_LOCAL_DEV`", example: None },
        Setting { name: "UNSAFE_LOCAL_DEV", default: Value("false"), meaning: "Lookerbot's name for `LOOKER_TLS_INSECURE`", lookerbot: "same", example: None },
        Setting { name: "NODE_TLS_REJECT_UNAUTHORIZED", default: Unset, meaning: "`0` skips TLS verification for Looker only, as Lookerbot (Node) did; Slack is always verified; warned about at start and in `check`, which recommend `LOOKER_CA_CERT`", lookerbot: "same", example: None },
        Setting { name: "LOOKER_TIMEOUT_SECS", default: Value("60"), meaning: "timeout of one Looker API call", lookerbot: "new", example: None },
    ]),
    Section("Looker limits and identity", &[
        Setting { name: "LOOKER_MAX_QUERIES", default: Value("15"), meaning: "queries (and render tasks started) at once on each Looker, Looker's default per-user limit; `maxQueries` in `LOOKERS` sets it per Looker", lookerbot: "new", example: None },
        Setting { name: "LOOKER_MAX_INSTANCE_QUERIES", default: Value("75"), meaning: "queries at once on each Looker whoever the bot acts as, Looker's default per-instance limit; `maxInstanceQueries` in `LOOKERS` sets it per Looker", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_IDENTITY", default: Value("shared"), meaning: "as whom a person's questions run on Looker: `shared` (the API user, for everyone, Lookerbot's way), `sudo` (the Looker user with the asker's verified Slack email; the API user must be a Looker admin), `sudo_or_shared` (as `sudo`, and the fallback API user for someone with no Looker user), `oauth` (the Looker account each person connects), `oauth_or_shared`; `identity` in `LOOKERS` sets it per Looker", lookerbot: "new", example: None },
        Setting { name: "LOOKER_FALLBACK_CLIENT_ID", default: Unset, meaning: "client id of a less privileged Looker API user that `*_or_shared` answers people without a Looker user as (`fallbackClientId` in `LOOKERS`); must not be the bot's own API user", lookerbot: "new", example: None },
        Setting { name: "LOOKER_FALLBACK_CLIENT_SECRET", default: Unset, meaning: "client secret of that fallback API user (`fallbackClientSecret` in `LOOKERS`)", lookerbot: "new", example: None },
        Setting { name: "LOOKER_OAUTH_CLIENT_ID", default: Unset, meaning: "the `client_guid` of the bot's OAuth client app in Looker (`oauthClientId` in `LOOKERS`); required with `oauth`", lookerbot: "new", example: Some(Example::Like("lookerbot")) },
        Setting { name: "LOOKERBOT_TOKEN_KEY", default: Unset, meaning: "32 random bytes, base64 or hex, sealing people's Looker tokens and the secrets in jobs at rest; required with `oauth` (`PUBLIC_URL` too)", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_TOKEN_KEYS", default: Unset, meaning: "a keyring instead: `id:key,id:key` (ids of letters, digits, `-`, `_`), the first seals, every one opens; `LOOKERBOT_TOKEN_KEY`, if also set, joins the ring as `k0`; `lookerbot identity rekey` seals everything again under the first", lookerbot: "new", example: Some(Example::Like("2026-12:<32 random bytes, base64>")) },
        Setting { name: "LOOKERBOT_OAUTH_SAME_EMAIL", default: Value("true"), meaning: "connect a Looker account only when its email is the person's Slack email", lookerbot: "new", example: None },
    ]),
    Section("Trust and abuse", &[
        Setting { name: "LOOKERBOT_WEBHOOK_URL_SECRET", default: Unset, meaning: "keys for signed schedule addresses (`lookerbot webhook-url`), comma-separated; the first signs, every one verifies", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_WEBHOOK_SIGNED_ONLY", default: Value("false"), meaning: "refuse schedule addresses that are not signed with `LOOKERBOT_WEBHOOK_URL_SECRET`", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_JOB_RETENTION_DAYS", default: Value("14"), meaning: "days finished and dead jobs (and the files they kept) stay, for `lookerbot jobs` and to recognise redelivered webhooks", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_PER_USER_PER_MINUTE", default: Value("20"), meaning: "questions, commands, shares and data-action clicks one person may start a minute (a token bucket shared by replicas; 0: no limit); past it the person is told to wait a minute", lookerbot: "new", example: None },
    ]),
    Section("Who reads answers", &[
        Setting { name: "LOOKERBOT_AUDIENCE", default: Unset, meaning: "per channel `public`, `private` or `links`: `#name=…`, `#pattern-*=…` or `C0123=…` pairs, the first naming a channel wins", lookerbot: "new", example: Some(Example::Like("#finance=private,#exec-*=links")) },
        Setting { name: "LOOKERBOT_AUDIENCE_DEFAULT", default: Computed("`public` (`private` with a per-person identity)"), meaning: "audience of our own channels no `LOOKERBOT_AUDIENCE` rule names", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_AUDIENCE_EXTERNAL", default: Value("private"), meaning: "audience of Slack Connect channels (shared with other organisations) no rule names", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_AUDIENCE_GROUPS", default: Unset, meaning: "`#channel=Looker group` pairs: data posted there only from models the group may use", lookerbot: "new", example: Some(Example::Like("#sales=Field Sales")) },
        Setting { name: "LOOKERBOT_AUDIT_DAYS", default: Value("90"), meaning: "how long the audit is kept", lookerbot: "new", example: None },
    ]),
    Section("Behaviour", &[
        Setting { name: "LOOKER_SLACKBOT_LOADING_MESSAGES", default: Value("true"), meaning: "\"working on it\" messages", lookerbot: "same", example: None },
        Setting { name: "LOOKERBOT_DATA_ACTIONS_IN_MESSAGES", default: Value("true"), meaning: "data-action buttons on results", lookerbot: "same (Lookerbot also needed `SLACK_SLASH_COMMAND_TOKEN`)", example: None },
        Setting { name: "LOOKERBOT_DATA_ACTION_DAYS", default: Value("30"), meaning: "how long a data-action button keeps working", lookerbot: "new", example: None },
        Setting { name: "LOOKER_SLACKBOT_EXPAND_URLS", default: Value("true"), meaning: "unfurl Looker links", lookerbot: "same", example: None },
        Setting { name: "ALLOW_SLACK_GUEST_USERS", default: Value("false"), meaning: "guests may use the bot", lookerbot: "same", example: None },
        Setting { name: "ALLOW_SLACK_SHARED_WORKSPACES", default: Value("false"), meaning: "users of other workspaces may use the bot", lookerbot: "same", example: None },
        Setting { name: "LOOKERBOT_TABLE_MAX_ROWS", default: Value("20"), meaning: "table rows shown (at most 99)", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_ATTACH_CSV", default: Value("false"), meaning: "attach the whole result as CSV when a table is cut", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_RENDER_TIMEOUT_SECS", default: Value("120"), meaning: "longest wait for Looker to draw an image", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_DASHBOARD_STYLE", default: Value("tiles"), meaning: "`tiles`, or one `png` / `pdf` of the whole dashboard", lookerbot: "new", example: None },
    ]),
    Section("Chart images (default: uploaded to Slack, never public)", &[
        Setting { name: "SLACKBOT_S3_BUCKET", default: Unset, meaning: "S3 bucket for chart images (default: private Slack uploads)", lookerbot: "same", example: None },
        Setting { name: "SLACKBOT_S3_BUCKET_REGION", default: Unset, meaning: "the region of `SLACKBOT_S3_BUCKET`", lookerbot: "same", example: None },
        Setting { name: "SLACKBOT_S3_ENDPOINT", default: Unset, meaning: "S3-compatible endpoint (MinIO, R2, GCS interoperability)", lookerbot: "new", example: None },
        Setting { name: "SLACKBOT_S3_FORCE_PATH_STYLE", default: Value("false"), meaning: "address buckets by path, as most S3-compatible stores want", lookerbot: "new", example: None },
        Setting { name: "SLACKBOT_S3_LINK_TTL", default: Value("1d"), meaning: "lifetime of signed image links (S3 presigned, Azure SAS, GCS V4) (`12h`, `2d`; at most 7d); `SLACKBOT_S3_URL_EXPIRY_SECS` (seconds) is the older name", lookerbot: "new", example: None },
        Setting { name: "SLACKBOT_S3_URL_EXPIRY_SECS", default: Unset, meaning: "the older name of `SLACKBOT_S3_LINK_TTL`, in seconds", lookerbot: "new", example: None },
        Setting { name: "SLACKBOT_S3_PUBLIC_READ", default: Value("false"), meaning: "public-read images (Lookerbot's behaviour); off unless opted in", lookerbot: "new", example: None },
        Setting { name: "AZURE_STORAGE_ACCOUNT", default: Unset, meaning: "Azure storage account for chart images instead of S3 (with `SLACKBOT_AZURE_CONTAINER` and `AZURE_STORAGE_ACCESS_KEY`); images are private, linked by read-only SAS links that expire", lookerbot: "same", example: None },
        Setting { name: "SLACKBOT_AZURE_CONTAINER", default: Unset, meaning: "the container in `AZURE_STORAGE_ACCOUNT` for chart images (private: no public access level needed)", lookerbot: "same", example: None },
        Setting { name: "AZURE_STORAGE_ACCESS_KEY", default: Unset, meaning: "an access key of `AZURE_STORAGE_ACCOUNT`: images are written and their SAS links signed with it", lookerbot: "same", example: None },
        Setting { name: "SLACKBOT_AZURE_ENDPOINT", default: Unset, meaning: "Blob service address other than `https://<account>.blob.core.windows.net` (Azurite, a sovereign cloud)", lookerbot: "new", example: None },
        Setting { name: "GOOGLE_CLOUD_BUCKET", default: Unset, meaning: "Google Cloud Storage bucket for chart images instead of S3 or Azure; images are private, linked by V4 signed URLs that expire", lookerbot: "same", example: None },
        Setting { name: "GOOGLE_CLOUD_PROJECT", default: Unset, meaning: "the project of `GOOGLE_CLOUD_BUCKET` (read as Lookerbot did; a bucket's name is enough)", lookerbot: "same", example: None },
        Setting { name: "GOOGLE_CLOUD_CREDENTIALS_JSON", default: Unset, meaning: "a service account's JSON key, its content on one line (it needs `storage.objects.create` and `storage.objects.get` on the bucket); without it, the machine's own service account on Compute Engine or GKE, which also needs `iam.serviceAccounts.signBlob` to sign links", lookerbot: "same", example: None },
        Setting { name: "SLACKBOT_GCS_ENDPOINT", default: Unset, meaning: "storage address other than `https://storage.googleapis.com` (an emulator, a private endpoint)", lookerbot: "new", example: None },
        Setting { name: "AWS_ACCESS_KEY_ID", default: Unset, meaning: "S3 access key id; without it and its secret, a profile (`AWS_PROFILE`), a web identity (`AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE`), the container's or the instance's role", lookerbot: "same", example: None },
        Setting { name: "AWS_SECRET_ACCESS_KEY", default: Unset, meaning: "the secret of `AWS_ACCESS_KEY_ID` (`AWS_SESSION_TOKEN` for temporary keys)", lookerbot: "same", example: None },
        Setting { name: "AWS_SESSION_TOKEN", default: Unset, meaning: "the session token of temporary S3 credentials", lookerbot: "new", example: None },
        Setting { name: "AWS_REGION", default: Unset, meaning: "the bucket's region when `SLACKBOT_S3_BUCKET_REGION` is not set (else `us-east-1`)", lookerbot: "new", example: None },
        Setting { name: "AWS_DEFAULT_REGION", default: Unset, meaning: "the bucket's region when neither `SLACKBOT_S3_BUCKET_REGION` nor `AWS_REGION` is set", lookerbot: "new", example: None },
        Setting { name: "AWS_PROFILE", default: Unset, meaning: "a profile of the AWS shared credentials file, for S3", lookerbot: "new", example: None },
        Setting { name: "AWS_ROLE_ARN", default: Unset, meaning: "a role to assume with a web identity token (`AWS_WEB_IDENTITY_TOKEN_FILE`), for S3 on Kubernetes", lookerbot: "new", example: None },
        Setting { name: "AWS_WEB_IDENTITY_TOKEN_FILE", default: Unset, meaning: "the web identity token file for `AWS_ROLE_ARN`", lookerbot: "new", example: None },
    ]),
    Section("Action Hub (LOOKERBOT_AUTH_TOKEN turns it on)", &[
        Setting { name: "PUBLIC_URL", default: Unset, meaning: "the bot's HTTPS address, for the Action Hub's integration URLs (else the request's forwarded host, over HTTPS)", lookerbot: "new", example: Some(Example::Like("https://bot.example.com")) },
        Setting { name: "LOOKERBOT_HUB_WAIT_SECS", default: Value("1800"), meaning: "how long an Action Hub delivery is waited on for its real outcome before Looker is answered (at most 1,800, Looker's own patience; 0: at once, and Looker is not told the outcome)", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_HUB_MAX_MB", default: Value("1536"), meaning: "largest Action Hub request (streamed to disk; base64 in escaped lines adds 41 %, so 1 GiB of data fits)", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_HUB_DOWNLOAD_HOSTS", default: Unset, meaning: "hosts (`host` or `host:port`, comma-separated) whose `download_url`s the hub follows over HTTPS besides the configured Lookers'", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_HUB_ALL_CHANNELS", default: Value("false"), meaning: "the hub's form lists every public channel, not only the bot's", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_BRAZE_ENDPOINTS", default: Unset, meaning: "Braze REST endpoints the `braze` integration accepts besides `https://*.braze.com` and `*.braze.eu` (a proxy), exactly, comma-separated", lookerbot: "new", example: None },
    ]),
    Section("Notify API", &[
        Setting { name: "LOOKERBOT_NOTIFY_TOKENS", default: Unset, meaning: "senders allowed to use `POST /api/notify`, as `name:token` pairs separated by commas (tokens of 16 characters or more); without it the notify API answers 404", lookerbot: "new", example: Some(Example::Like("ci:<a secret of 16 characters or more>,ml:<another>")) },
        Setting { name: "LOOKERBOT_NOTIFY_ALLOW_MENTIONS", default: Value("false"), meaning: "leave `<!channel>` and `<@U…>` in notifications as mentions instead of showing them as text", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_NOTIFY_PER_MINUTE", default: Value("120"), meaning: "notifications one sender may send a minute (per replica); past it, 429 with `Retry-After`, nothing recorded", lookerbot: "new", example: None },
    ]),
    Section("Server", &[
        Setting { name: "PORT", default: Value("3333"), meaning: "HTTP port", lookerbot: "same", example: None },
        Setting { name: "DATABASE_URL", default: Value("sqlite://./data/lookerbot.db"), meaning: "where jobs are stored: a SQLite file (one server at a time: a second `serve` on the same file refuses to start, since each takes back the jobs it finds running), or `postgres://user:pass@host/db` (Heroku's `DATABASE_URL` as given; TLS is used when the server offers it, `?sslmode=require` or `verify-full` to insist) for several replicas", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_MIGRATE_ON_START", default: Value("true"), meaning: "`serve` applies missing migrations when it starts; `false` when a deploy step runs `lookerbot migrate` (a PostgreSQL schema behind the binary then stops it with that advice)", lookerbot: "new", example: None },
        Setting { name: "LOG_FORMAT", default: Value("text"), meaning: "`text` or `json`", lookerbot: "new", example: None },
        Setting { name: "RUST_LOG", default: Value("info,sqlx=warn,hyper=warn"), meaning: "log filter", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_WORKERS", default: Computed("16 + three per query slot of each Looker (61 with one Looker)"), meaning: "jobs run at once (0: none); they are tasks, not threads. A Looker's jobs take at most three workers per query slot, so a slow Looker leaves the rest to the others, and a job waiting for Slack's pace holds no query slot", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_JOB_MAX_ATTEMPTS", default: Value("8"), meaning: "attempts before a job is dead", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_JOB_BACKOFF_MS", default: Value("2000"), meaning: "first retry delay, doubled each attempt (with jitter, capped at 1 h)", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_JOB_LEASE_SECS", default: Value("300"), meaning: "how long one attempt of a job may run. While it runs, its worker holds a 30 s lease renewed every 10 s, so a killed replica's job is taken over within about 30 s; a SQLite server takes back every lease when it starts", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_WEBHOOK_MAX_MB", default: Value("64"), meaning: "largest webhook body (Slack routes: 1 MiB)", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_SPOOL_DIR", default: Computed("beside the SQLite file"), meaning: "where webhook bodies over 1 MiB wait while they are read", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_HEADER_TIMEOUT_SECS", default: Value("10"), meaning: "time a client has to send its request headers; also how long an idle connection is kept", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_BODY_TIMEOUT_SECS", default: Value("120"), meaning: "time a client has to send a webhook body (Slack's routes: 10 s; Action Hub requests: between pieces)", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_MAX_CONNECTIONS", default: Value("4096"), meaning: "connections served at once (within the open-file limit, raised to its hard limit at start, less 192 descriptors for the bot and 64 for answers past the cap); past it the oldest connection makes room, else a 503, the health check still answered", lookerbot: "new", example: None },
    ]),
    Section("Operations", &[
        Setting { name: "LOOKERBOT_ALERTS_CHANNEL", default: Unset, meaning: "a channel (`#name` or id) where scheduled deliveries and Action Hub sends that fail for good are reported: once each, grouped (one message for everything that failed within 30 s, ten listed and the rest counted), with what, where to, why and the `lookerbot jobs retry` command; failures already a day old when first seen (the channel just set) are only listed by `lookerbot jobs --failed`", lookerbot: "new", example: Some(Example::Like("#lookerbot-alerts")) },
        Setting { name: "LOOKERBOT_METRICS_TOKEN", default: Unset, meaning: "turns on `GET /metrics` (Prometheus), for callers sending `Authorization: Bearer <token>`", lookerbot: "new", example: None },
        Setting { name: "LOOKERBOT_METRICS_OPEN", default: Value("false"), meaning: "`GET /metrics` without a token (only where the port is on a private network)", lookerbot: "new", example: None },
    ]),
];

/// Every setting, in order.
pub fn settings() -> impl Iterator<Item = &'static Setting> {
    SECTIONS.iter().flat_map(|section| section.1.iter())
}

/// The setting read from `name`.
pub fn setting(name: &str) -> Option<&'static Setting> {
    settings().find(|s| s.name == name)
}

/// The default `--help` shows for the setting read from `name`.
pub fn help_default(name: &str) -> Option<String> {
    match setting(name)?.default {
        Value(value) => Some(value.to_string()),
        Computed(text) | Required(text) => Some(text.replace('`', "")),
        Unset => None,
    }
}
