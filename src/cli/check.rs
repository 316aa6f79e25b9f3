//! `lookerbot check`: everything the bot needs, tried once, in one readable report.

use std::fmt::Write;

use crate::clients::bucket::ImageBucket;
use crate::clients::looker::Lookers;
use crate::clients::slack::SlackApi;
use crate::config::Settings;
use crate::store::{self, Probe};

/// The report and whether everything is well.
pub async fn run(settings: &Settings) -> (String, bool) {
    let mut report = String::new();
    let mut healthy = true;
    let mut line = |ok: bool, text: String| {
        healthy &= ok;
        let _ = writeln!(report, "{} {text}", if ok { "ok  " } else { "FAIL" });
    };

    for (ok, text) in super::setup::report(settings) {
        line(ok, text);
    }
    // Looked at read-only: `check` never creates or migrates the database.
    match store::probe(&settings.database_url).await {
        Ok(Probe::Missing { location }) => line(
            true,
            format!("database: not created yet; `lookerbot serve` creates {location}"),
        ),
        Ok(Probe::Reachable { applied, known }) if applied == known => {
            line(true, "database: reachable, schema up to date".into())
        }
        Ok(Probe::Reachable { applied, known }) if applied < known => line(
            true,
            format!(
                "database: reachable; {} migration(s) to apply, which `lookerbot serve` does when it starts",
                known - applied
            ),
        ),
        Ok(Probe::Reachable { applied, known }) => line(
            false,
            format!(
                "database: its schema is from a newer lookerbot ({applied} migrations, this one knows {known}); upgrade the bot"
            ),
        ),
        Err(error) => line(false, format!("database: {error:#} (fix DATABASE_URL)")),
    }

    match Lookers::new(&settings.lookers, &settings.looker_tls, settings.looker_timeout) {
        Ok(lookers) => {
            for (_, looker) in lookers.all() {
                let name = looker.web_base();
                match looker.verify_login().await {
                    Ok(()) => {
                        line(
                            true,
                            format!("Looker {name}: logged in to {}", looker.settings().api_base_url),
                        );
                        let redirect = settings
                            .hub
                            .public_url
                            .as_ref()
                            .map(crate::features::identity::connect::redirect_uri);
                        match looker.identity_readiness(redirect.as_deref()).await {
                            Some(Ok(ready)) => line(true, format!("Looker {name}: {ready}")),
                            Some(Err(missing)) => line(false, format!("Looker {name}: {missing}")),
                            None => {}
                        }
                    }
                    Err(error) => line(
                        false,
                        format!(
                            "Looker {name}: {error} (check LOOKER_API_BASE_URL and LOOKER_API_CLIENT_ID / LOOKER_API_CLIENT_SECRET, or LOOKERS)"
                        ),
                    ),
                }
            }
        }
        Err(error) => line(false, format!("Looker: {error} (check LOOKER_CA_CERT)")),
    }

    match SlackApi::new(&settings.slack) {
        Ok(slack) => {
            match slack.auth_test().await {
                Ok(me) => line(
                    true,
                    format!(
                        "Slack: authenticated as bot user {} in workspace {} ({})",
                        me.user_id, me.team, me.team_id
                    ),
                ),
                Err(error) => line(
                    false,
                    format!("Slack: {error} (check SLACK_API_KEY and SLACK_API_BASE_URL)"),
                ),
            }
            if settings.lookerbot_auth_token.is_some() {
                match slack
                    .bot_conversations(vec![
                        slack_morphism::prelude::SlackConversationType::Public,
                        slack_morphism::prelude::SlackConversationType::Private,
                    ])
                    .await
                {
                    Ok(channels) => line(
                        true,
                        format!(
                            "Action Hub: the form will offer the {} channel(s) the bot is in",
                            channels.len()
                        ),
                    ),
                    Err(error) => line(
                        false,
                        format!(
                            "Action Hub: Slack will not list the bot's channels: {error} (recreate the app from `lookerbot manifest`)"
                        ),
                    ),
                }
            }
            if let Some(app_token) = &settings.slack.app_token {
                match slack.open_socket(app_token).await {
                    Ok(_) => line(true, "Slack Socket Mode: the app-level token opens a connection".into()),
                    Err(error) => line(
                        false,
                        format!(
                            "Slack Socket Mode: {error} (check SLACK_APP_TOKEN, and that Socket Mode is on in the app)"
                        ),
                    ),
                }
            }
        }
        Err(error) => line(false, format!("Slack: {error}")),
    }
    match (&settings.lookerbot_auth_token, &settings.hub.public_url) {
        (Some(_), Some(url)) => line(
            true,
            format!(
                "Action Hub: on; in Looker add the hub {url} with LOOKERBOT_AUTH_TOKEN as its token (Admin → Platform → Actions)"
            ),
        ),
        (Some(_), None) => line(
            true,
            "Action Hub: on; in Looker add this server's public HTTPS address with LOOKERBOT_AUTH_TOKEN as its token (set PUBLIC_URL to fix the URLs it lists)".into(),
        ),
        (None, _) => line(
            true,
            "Action Hub: off (set LOOKERBOT_AUTH_TOKEN to let Looker send schedules and queries to Slack through the bot)".into(),
        ),
    }
    for (ok, text) in trust_report(settings) {
        line(ok, text);
    }
    if let Some((ok, text)) = image_bucket_report(settings).await {
        line(ok, text);
    }
    (report, healthy)
}

/// The settings that decide what a stolen webhook token or a replayed Slack request could do.
fn trust_report(settings: &Settings) -> Vec<(bool, String)> {
    let trust = &settings.trust;
    let mut said = vec![match (trust.webhook_url_secrets.is_empty(), trust.webhook_signed_only) {
        (true, _) => (
            true,
            "schedules: each webhook is checked against Looker's own plan; warning: addresses are not signed, so anyone who may schedule can name any channel (set LOOKERBOT_WEBHOOK_URL_SECRET, use `lookerbot webhook-url`, then LOOKERBOT_WEBHOOK_SIGNED_ONLY=true)".to_string(),
        ),
        (false, false) => (
            true,
            "schedules: checked against Looker's plan; signed addresses verified; warning: unsigned addresses still accepted (LOOKERBOT_WEBHOOK_SIGNED_ONLY=true refuses them)".to_string(),
        ),
        (false, true) => (true, "schedules: checked against Looker's plan; only signed addresses accepted".to_string()),
    }];
    if settings.hub.public_url.is_none() {
        said.push((
            true,
            "schedules: warning: PUBLIC_URL is not set, so a plan's address is matched by host header and path only"
                .into(),
        ));
    }
    for looker in &settings.lookers {
        use crate::config::Identity::{OauthOrShared, SudoOrShared};
        if matches!(looker.identity, SudoOrShared | OauthOrShared) && looker.fallback.is_none() {
            said.push((
                true,
                format!(
                    "Looker {}: no fallback: people without a Looker user of their own get no answer (set LOOKER_FALLBACK_CLIENT_ID and _SECRET, a less privileged API user)",
                    looker.host()
                ),
            ));
        }
    }
    let personal = settings
        .lookers
        .iter()
        .any(|l| l.identity != crate::config::Identity::Shared);
    if personal && settings.audience.default == crate::config::Audience::Public {
        said.push((
            true,
            "audience: warning: answers hold what each person may see, yet channels no rule names get them in public (LOOKERBOT_AUDIENCE_DEFAULT=public); everyone in the channel reads them".into(),
        ));
    }
    if settings.slack.legacy_verification_token.is_some() {
        said.push((
            true,
            "Slack: warning: the legacy verification token (SLACK_SLASH_COMMAND_TOKEN) is accepted; remove it".into(),
        ));
    }
    said.extend(at_rest_report(settings));
    said
}

/// How what is kept at rest is sealed and for how long, and the per-person limit.
fn at_rest_report(settings: &Settings) -> Vec<(bool, String)> {
    let trust = &settings.trust;
    let keys = match trust.token_keys.first() {
        Some(first) => format!(
            "secrets at rest: sealed with key {} of LOOKERBOT_TOKEN_KEYS ({} key(s) open older seals)",
            first.id,
            trust.token_keys.len()
        ),
        None => "secrets at rest: response URLs, download links and Braze keys in jobs are sealed with a key derived from Slack's secret; warning: set LOOKERBOT_TOKEN_KEYS to rotate it on its own".into(),
    };
    let mut said = vec![
        (true, keys),
        (
            true,
            format!(
                "jobs: finished and dead jobs and their files are forgotten after {} day(s) (LOOKERBOT_JOB_RETENTION_DAYS)",
                trust.job_retention.as_secs() / 86_400
            ),
        ),
    ];
    if trust.per_user_per_minute == 0 {
        said.push((
            true,
            "abuse: warning: no per-person limit on questions and clicks (LOOKERBOT_PER_USER_PER_MINUTE=0); one person can keep Looker busy".into(),
        ));
    }
    said
}

/// Whether the image bucket the settings name (S3, Azure or GCS) takes these credentials.
async fn image_bucket_report(settings: &Settings) -> Option<(bool, String)> {
    let (s3, azure, gcs) = (settings.s3.as_ref(), settings.azure.as_ref(), settings.gcs.as_ref());
    let hint = match (s3, azure) {
        (Some(_), _) => {
            "check SLACKBOT_S3_BUCKET, SLACKBOT_S3_BUCKET_REGION, SLACKBOT_S3_ENDPOINT and the AWS credentials"
        }
        (None, Some(_)) => "check AZURE_STORAGE_ACCOUNT, SLACKBOT_AZURE_CONTAINER and AZURE_STORAGE_ACCESS_KEY",
        (None, None) => "check GOOGLE_CLOUD_BUCKET and GOOGLE_CLOUD_CREDENTIALS_JSON, or the machine's service account",
    };
    let bucket = match ImageBucket::from_settings(s3, azure, gcs).await {
        Ok(Some(bucket)) => bucket,
        Ok(None) => return None,
        Err(error) => return Some((false, format!("{error} ({hint})"))),
    };
    Some(match bucket.check().await {
        Ok(()) => (true, format!("{}: reachable for chart images", bucket.name())),
        Err(error) => (false, format!("{error} ({hint})")),
    })
}
