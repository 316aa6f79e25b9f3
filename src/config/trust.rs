//! The settings of the trust boundary: how Looker's webhooks prove which channel they were
//! addressed to. Looker sends one webhook token to every address a user types, so the token alone
//! proves only that Looker (or someone who scheduled to their own server) sent the request.

use super::checker::{Checker, non_empty};
use super::{RawSettings, Secret};

#[derive(Debug, Clone, Default)]
pub struct TrustSettings {
    /// Keys of signed webhook addresses (`LOOKERBOT_WEBHOOK_URL_SECRET`, comma-separated): the
    /// first signs, every one verifies, so a key can be rotated without breaking schedules.
    pub webhook_url_secrets: Vec<Secret>,
    /// Refuse webhook addresses without a valid signature.
    pub webhook_signed_only: bool,
    /// The keyring that seals what is kept at rest (`LOOKERBOT_TOKEN_KEYS`, else
    /// `LOOKERBOT_TOKEN_KEY` as key `k0`); the first key seals.
    pub token_keys: Vec<TokenKey>,
    /// How long finished and dead jobs, and their files, are kept.
    pub job_retention: std::time::Duration,
    /// Interactive work one person may start a minute (0: no limit).
    pub per_user_per_minute: u32,
}

/// One key of the keyring: its id is written into every seal it makes.
#[derive(Debug, Clone)]
pub struct TokenKey {
    pub id: String,
    pub key: Secret,
}

impl RawSettings {
    /// How long a presigned image link works: `SLACKBOT_S3_LINK_TTL` (`1d`, `12h`), else the older
    /// `SLACKBOT_S3_URL_EXPIRY_SECS`; a day by default, at most the seven days S3 allows.
    pub(super) fn s3_link_ttl(&self, c: &mut Checker) -> std::time::Duration {
        const DAY: u64 = 86_400;
        let Some(text) = non_empty(&self.slackbot_s3_link_ttl) else {
            return c.seconds(
                "SLACKBOT_S3_URL_EXPIRY_SECS",
                &self.slackbot_s3_url_expiry_secs,
                DAY,
                60,
                7 * DAY,
            );
        };
        match humantime::parse_duration(text) {
            Ok(ttl) if (60..=7 * DAY).contains(&ttl.as_secs()) => ttl,
            _ => {
                c.problem(
                    "SLACKBOT_S3_LINK_TTL",
                    "expected a duration from 1m to 7d, e.g. 1d or 12h",
                );
                std::time::Duration::from_secs(DAY)
            }
        }
    }
}

/// Fewer characters than this is not a key worth the name.
const SHORTEST_SECRET: usize = 32;

impl RawSettings {
    pub(super) fn trust(&self, c: &mut Checker) -> TrustSettings {
        let webhook_url_secrets: Vec<Secret> = non_empty(&self.lookerbot_webhook_url_secret)
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(Secret::new)
                    .collect()
            })
            .unwrap_or_default();
        if webhook_url_secrets.iter().any(|s| s.expose().len() < SHORTEST_SECRET) {
            c.problem(
                "LOOKERBOT_WEBHOOK_URL_SECRET",
                "each key must be at least 32 characters, e.g. from `openssl rand -base64 32`",
            );
        }
        let webhook_signed_only = c.flag(
            "LOOKERBOT_WEBHOOK_SIGNED_ONLY",
            &self.lookerbot_webhook_signed_only,
            false,
        );
        if webhook_signed_only && webhook_url_secrets.is_empty() {
            c.problem(
                "LOOKERBOT_WEBHOOK_SIGNED_ONLY",
                "signed webhook addresses need LOOKERBOT_WEBHOOK_URL_SECRET to sign them with",
            );
        }
        TrustSettings {
            webhook_url_secrets,
            webhook_signed_only,
            token_keys: self.token_keys(c),
            job_retention: std::time::Duration::from_secs(
                86_400
                    * c.number(
                        "LOOKERBOT_JOB_RETENTION_DAYS",
                        &self.lookerbot_job_retention_days,
                        14u64,
                        1,
                        3650,
                    ),
            ),
            per_user_per_minute: c.number(
                "LOOKERBOT_PER_USER_PER_MINUTE",
                &self.lookerbot_per_user_per_minute,
                20u32,
                0,
                100_000,
            ),
        }
    }

    /// `LOOKERBOT_TOKEN_KEYS` (`id:key,...`), then `LOOKERBOT_TOKEN_KEY` as `k0` unless the ring
    /// already holds it: adding a new key in front while the old setting stays is a rotation.
    fn token_keys(&self, c: &mut Checker) -> Vec<TokenKey> {
        const WHAT: &str = "expected 32 random bytes in base64 or hex, e.g. from `openssl rand -base64 32`";
        let mut keys = Vec::new();
        for entry in non_empty(&self.lookerbot_token_keys).unwrap_or_default().split(',') {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let Some((id, key)) = entry.split_once(':') else {
                c.problem(
                    "LOOKERBOT_TOKEN_KEYS",
                    "expected id:key pairs separated by commas, e.g. 2026-12:BASE64KEY",
                );
                continue;
            };
            let id = id.trim();
            let good_id = !id.is_empty()
                && id.len() <= 32
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !good_id || keys.iter().any(|k: &TokenKey| k.id == id) {
                c.problem(
                    "LOOKERBOT_TOKEN_KEYS",
                    format!("key id {id:?}: ids are unique, 1 to 32 letters, digits, - or _"),
                );
                continue;
            }
            let key = Secret::new(key.trim());
            if key.key_bytes().is_none() {
                c.problem("LOOKERBOT_TOKEN_KEYS", format!("key {id}: {WHAT}"));
                continue;
            }
            keys.push(TokenKey {
                id: id.to_string(),
                key,
            });
        }
        if let Some(single) = non_empty(&self.lookerbot_token_key).map(Secret::new) {
            match single.key_bytes() {
                None => c.problem("LOOKERBOT_TOKEN_KEY", WHAT),
                Some(bytes) if keys.iter().any(|k| k.key.key_bytes() == Some(bytes)) => {}
                Some(_) => keys.push(TokenKey {
                    id: "k0".into(),
                    key: single,
                }),
            }
        }
        keys
    }
}

/// Slack's legacy verification token travels in every request's body and proves little: it is
/// accepted only when nothing better is configured and every Looker answers as the shared API
/// user. Otherwise it is ignored, and only a valid signature counts.
pub(super) fn retire_legacy_token(
    slack: &mut super::SlackSettings,
    lookers: &[super::LookerSettings],
    c: &mut Checker,
) {
    if slack.legacy_verification_token.is_none() {
        return;
    }
    let better = if slack.signing_secret.is_some() {
        Some("SLACK_SIGNING_SECRET is set")
    } else if slack.app_token.is_some() {
        Some("SLACK_APP_TOKEN is set")
    } else if lookers.iter().any(|l| l.identity != super::Identity::Shared) {
        Some("a Looker answers people as themselves (LOOKERBOT_IDENTITY)")
    } else {
        None
    };
    match better {
        Some(why) => {
            slack.legacy_verification_token = None;
            c.warn(format!(
                "SLACK_SLASH_COMMAND_TOKEN is ignored because {why}: only requests signed by Slack are accepted"
            ));
        }
        None => c.warn(
            "SLACK_SLASH_COMMAND_TOKEN is deprecated by Slack and weak (it travels in every request): requests carrying it are accepted; move to SLACK_SIGNING_SECRET",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::RawSettings;

    fn raw() -> RawSettings {
        RawSettings {
            slack_api_key: Some("xoxb-1".into()),
            slack_signing_secret: Some("s".into()),
            looker_url: Some("https://looker.example.com".into()),
            looker_api_base_url: Some("https://looker.example.com/api/4.0".into()),
            looker_api_client_id: Some("admin".into()),
            looker_api_client_secret: Some("secret".into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_fallback_must_be_another_api_user_with_its_secret() {
        let same = RawSettings {
            lookerbot_identity: Some("sudo_or_shared".into()),
            looker_fallback_client_id: Some("admin".into()),
            looker_fallback_client_secret: Some("x".into()),
            ..raw()
        };
        assert!(
            same.validate()
                .unwrap_err()
                .to_string()
                .contains("LOOKER_FALLBACK_CLIENT_ID")
        );
        let half = RawSettings {
            looker_fallback_client_id: Some("viewer".into()),
            ..raw()
        };
        assert!(half.validate().is_err());
        let fine = RawSettings {
            looker_fallback_client_id: Some("viewer".into()),
            looker_fallback_client_secret: Some("v".into()),
            ..raw()
        };
        let (settings, _) = fine.validate().unwrap();
        assert_eq!(settings.lookers[0].fallback.as_ref().unwrap().client_id, "viewer");
    }

    #[test]
    fn image_links_live_a_day_unless_the_operator_says_otherwise() {
        let with = |ttl: Option<&str>, secs: Option<&str>| {
            let raw = RawSettings {
                slackbot_s3_bucket: Some("images".into()),
                slackbot_s3_link_ttl: ttl.map(str::to_string),
                slackbot_s3_url_expiry_secs: secs.map(str::to_string),
                ..raw()
            };
            raw.validate().map(|(s, _)| s.s3.unwrap().url_expiry.as_secs())
        };
        assert_eq!(with(None, None).unwrap(), 86_400);
        assert_eq!(with(Some("12h"), None).unwrap(), 43_200);
        assert_eq!(with(None, Some("3600")).unwrap(), 3_600);
        assert!(with(Some("30d"), None).is_err());
        assert!(with(Some("soon"), None).is_err());
    }

    #[test]
    fn the_keyring_puts_the_new_key_first_and_keeps_the_single_key() {
        let k = |b: u8| hex::encode([b; 32]);
        let both = RawSettings {
            lookerbot_token_keys: Some(format!("2026-12:{}, 2026-01:{}", k(2), k(1))),
            lookerbot_token_key: Some(k(3)),
            ..raw()
        };
        let ids: Vec<String> = both
            .validate()
            .unwrap()
            .0
            .trust
            .token_keys
            .into_iter()
            .map(|k| k.id)
            .collect();
        assert_eq!(ids, ["2026-12", "2026-01", "k0"]);
        let repeated = RawSettings {
            lookerbot_token_keys: Some(format!("new:{}", k(1))),
            lookerbot_token_key: Some(k(1)),
            ..raw()
        };
        assert_eq!(repeated.validate().unwrap().0.trust.token_keys.len(), 1);
        for bad in [
            k(1),
            format!("a.b:{}", k(1)),
            "a:short".into(),
            format!("a:{0},a:{0}", k(1)),
        ] {
            let raw = RawSettings {
                lookerbot_token_keys: Some(bad.clone()),
                ..raw()
            };
            assert!(
                raw.validate().unwrap_err().to_string().contains("LOOKERBOT_TOKEN_KEYS"),
                "{bad}"
            );
        }
        let (settings, _) = raw().validate().unwrap();
        assert_eq!(settings.trust.job_retention.as_secs(), 14 * 86_400);
        assert_eq!(settings.trust.per_user_per_minute, 20);
    }

    #[test]
    fn signed_only_needs_a_key_and_keys_must_be_long() {
        let none = RawSettings {
            lookerbot_webhook_signed_only: Some("true".into()),
            ..raw()
        };
        assert!(
            none.validate()
                .unwrap_err()
                .to_string()
                .contains("LOOKERBOT_WEBHOOK_URL_SECRET")
        );
        let short = RawSettings {
            lookerbot_webhook_url_secret: Some("short".into()),
            ..raw()
        };
        assert!(short.validate().is_err());
    }

    #[test]
    fn a_per_person_identity_makes_answers_private_unless_the_operator_opens_them() {
        let sudo = RawSettings {
            lookerbot_identity: Some("sudo".into()),
            ..raw()
        };
        let (settings, _) = sudo.validate().unwrap();
        assert_eq!(settings.audience.default, super::super::Audience::Private);
        let opened = RawSettings {
            lookerbot_audience_default: Some("public".into()),
            ..sudo
        };
        assert_eq!(
            opened.validate().unwrap().0.audience.default,
            super::super::Audience::Public
        );
        assert_eq!(
            raw().validate().unwrap().0.audience.default,
            super::super::Audience::Public
        );
    }
}
