//! What this server will do, said once when it starts: where its database is, and each feature
//! on or off with the reason, so that an operator reading the log sees a missing setting before a
//! user meets it (a webhook refused, a hub that answers 403, a command that never arrives).

use super::{Identity, Settings};

/// One feature as these settings leave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureState {
    pub name: &'static str,
    pub on: bool,
    /// How it works when on; what would turn it on when off.
    pub how: String,
}

fn feature(name: &'static str, on: bool, when_on: impl Into<String>, when_off: impl Into<String>) -> FeatureState {
    let how = if on { when_on.into() } else { when_off.into() };
    FeatureState { name, on, how }
}

impl Settings {
    /// Where the database is, without its password.
    pub fn database_location(&self) -> String {
        let url = &self.database_url;
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            return format!("SQLite file {}", path.split('?').next().unwrap_or(path));
        }
        match url::Url::parse(url) {
            Ok(mut parsed) => {
                let _ = parsed.set_password(None);
                format!(
                    "PostgreSQL {}{}",
                    parsed.host_str().unwrap_or("localhost"),
                    parsed.path()
                )
            }
            Err(_) => "a database whose URL could not be read".into(),
        }
    }

    /// Every feature, on or off, with the setting behind it.
    pub fn feature_states(&self) -> Vec<FeatureState> {
        let mut states = self.ways_in();
        states.extend(self.answers());
        states.extend(self.outputs());
        states
    }

    /// How work reaches the bot: Slack, Looker's webhooks and Action Hub.
    fn ways_in(&self) -> Vec<FeatureState> {
        let webhook_tokens = self.lookers.iter().any(|l| l.webhook_token.is_some());
        let signed_addresses = !self.trust.webhook_url_secrets.is_empty();
        vec![
            feature(
                "slack over HTTP",
                self.slack.signing_secret.is_some(),
                "Slack's signed requests at /slack/events, /slack/commands and /slack/interactions",
                "no SLACK_SIGNING_SECRET: Slack's HTTP requests are refused",
            ),
            feature(
                "socket mode",
                self.slack.app_token.is_some(),
                "events, commands and clicks over Slack's WebSocket (SLACK_APP_TOKEN)",
                "no SLACK_APP_TOKEN",
            ),
            feature(
                "scheduled deliveries",
                webhook_tokens || self.lookerbot_auth_token.is_some() || signed_addresses,
                "Looker's webhooks at /slack/post/... with the webhook token, the shared token or a signed address",
                "no LOOKER_WEBHOOK_TOKEN, LOOKERBOT_AUTH_TOKEN or LOOKERBOT_WEBHOOK_URL_SECRET: every Looker webhook is refused",
            ),
            feature(
                "action hub",
                self.lookerbot_auth_token.is_some(),
                "Looker's Action API at /actions (LOOKERBOT_AUTH_TOKEN)",
                "no LOOKERBOT_AUTH_TOKEN: the hub answers 403",
            ),
            feature(
                "braze",
                self.lookerbot_auth_token.is_some() && !self.hub.braze_endpoints.is_empty(),
                "the Braze destination of the Action Hub",
                "needs LOOKERBOT_AUTH_TOKEN and LOOKERBOT_BRAZE_ENDPOINTS",
            ),
        ]
    }

    /// Whom it answers as, and what else may ask it.
    fn answers(&self) -> Vec<FeatureState> {
        let personal = self.lookers.iter().filter(|l| l.identity != Identity::Shared).count();
        let folders = self
            .lookers
            .iter()
            .filter(|l| l.custom_command_folder_id.is_some())
            .count();
        vec![
            feature(
                "personal identity",
                personal > 0,
                format!(
                    "{personal} of {} Lookers answer each person as their own Looker user",
                    self.lookers.len()
                ),
                "everyone is answered as the API user (LOOKERBOT_IDENTITY=shared)",
            ),
            feature(
                "notify api",
                !self.notify.senders.is_empty(),
                format!("{} senders may post at /notify", self.notify.senders.len()),
                "no LOOKERBOT_NOTIFY_TOKENS",
            ),
            feature(
                "custom commands",
                folders > 0,
                format!("dashboards of {folders} folders are commands"),
                "no LOOKER_CUSTOM_COMMAND_FOLDER_ID",
            ),
        ]
    }

    /// What its answers carry, and where failures and figures go.
    fn outputs(&self) -> Vec<FeatureState> {
        vec![
            feature(
                "link unfurls",
                self.features.expand_urls,
                "Looker links posted in channels are expanded",
                "LOOKER_SLACKBOT_EXPAND_URLS=false",
            ),
            feature(
                "data actions",
                self.features.data_actions_in_messages,
                "Looker's data actions are buttons under results",
                "LOOKERBOT_DATA_ACTIONS_IN_MESSAGES=false",
            ),
            feature(
                "image bucket",
                self.s3.is_some(),
                "chart images in the S3 bucket, private, behind signed links",
                "chart images are uploaded to Slack",
            ),
            feature(
                "alerts channel",
                self.alerts_channel.is_some(),
                format!(
                    "failures are reported in {}",
                    self.alerts_channel.as_deref().unwrap_or_default()
                ),
                "no LOOKERBOT_ALERTS_CHANNEL: failures are in the log and `lookerbot jobs` only",
            ),
            feature(
                "metrics",
                self.metrics.enabled(),
                "Prometheus metrics at /metrics",
                "no LOOKERBOT_METRICS_TOKEN: /metrics answers 404",
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use crate::config::RawSettings;

    fn settings(raw: RawSettings) -> crate::config::Settings {
        let raw = RawSettings {
            slack_api_key: Some("xoxb-1".into()),
            slack_signing_secret: Some("s".into()),
            looker_url: Some("https://looker.example.com".into()),
            looker_api_base_url: Some("https://looker.example.com/api/4.0".into()),
            looker_api_client_id: Some("id".into()),
            looker_api_client_secret: Some("secret".into()),
            ..raw
        };
        raw.validate().unwrap().0
    }

    #[test]
    fn the_database_is_named_without_its_password() {
        let mut settings = settings(RawSettings::default());
        settings.database_url = "postgres://bot:s3cret-password@db.internal:5432/lookerbot?sslmode=require".into();
        assert_eq!(settings.database_location(), "PostgreSQL db.internal/lookerbot");
        settings.database_url = "sqlite://data/lookerbot.db?mode=rwc".into();
        assert_eq!(settings.database_location(), "SQLite file data/lookerbot.db");
    }

    #[test]
    fn a_feature_left_off_says_which_setting_would_turn_it_on() {
        let states = settings(RawSettings::default()).feature_states();
        let state = |name: &str| states.iter().find(|s| s.name == name).unwrap().clone();
        assert!(!state("scheduled deliveries").on);
        assert!(state("scheduled deliveries").how.contains("LOOKER_WEBHOOK_TOKEN"));
        assert!(!state("action hub").on && state("action hub").how.contains("LOOKERBOT_AUTH_TOKEN"));
        assert!(state("slack over HTTP").on && !state("socket mode").on);

        let states = settings(RawSettings {
            looker_webhook_token: Some("w".into()),
            lookerbot_identity: Some("sudo".into()),
            ..Default::default()
        })
        .feature_states();
        let state = |name: &str| states.iter().find(|s| s.name == name).unwrap().clone();
        assert!(state("scheduled deliveries").on);
        assert!(state("personal identity").on, "{:?}", state("personal identity"));
    }
}
