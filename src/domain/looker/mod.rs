//! Looker as the bot knows it: the content shapes of API 4.0 ([`models`]), links to content
//! ([`link`]), and one [`Registry`] that answers "which Looker" by web address, host or webhook
//! token, so that no other place decides it.

pub mod link;
pub mod models;

use serde::{Deserialize, Serialize};

use crate::config::LookerSettings;
pub use link::{Content, Link};

/// Names one connected Looker: its web address without a trailing slash (as `LOOKER_URL` gives
/// it). Stable across restarts, so job payloads can hold it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LookerKey(String);

impl LookerKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for LookerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which Looker a request means.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum LookerChoice {
    /// Nothing said: the first Looker configured.
    #[default]
    First,
    /// Named by the person asking (`look looker.example.com 7`).
    Host(String),
    /// Known already (a link's Looker, a custom command's, a webhook's).
    Key(LookerKey),
    /// The Looker a link belongs to (jobs recorded by earlier versions name Lookers this way).
    Url(String),
}

/// A host nobody connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLooker {
    /// What was asked for (`None` when the bot has no Looker at all).
    pub host: Option<String>,
    /// The hosts the bot does know, for the answer.
    pub known: Vec<String>,
}

/// Every connected Looker, by key.
#[derive(Debug, Clone)]
pub struct Registry {
    lookers: Vec<(LookerKey, LookerSettings)>,
}

impl Registry {
    pub fn new(settings: &[LookerSettings]) -> Self {
        Self {
            lookers: settings.iter().map(|s| (LookerKey(s.web_base()), s.clone())).collect(),
        }
    }

    /// Every Looker in the order the settings list them.
    pub fn all(&self) -> impl Iterator<Item = (&LookerKey, &LookerSettings)> {
        self.lookers.iter().map(|(key, settings)| (key, settings))
    }

    pub fn settings(&self, key: &LookerKey) -> Option<&LookerSettings> {
        self.lookers.iter().find(|(k, _)| k == key).map(|(_, s)| s)
    }

    /// The key a job stored, if that Looker is still configured.
    pub fn key(&self, stored: &str) -> Option<LookerKey> {
        self.lookers.iter().find(|(k, _)| k.0 == stored).map(|(k, _)| k.clone())
    }

    /// The Looker whose web address is the longest prefix of `content_url`.
    pub fn by_url(&self, content_url: &str) -> Option<LookerKey> {
        self.lookers
            .iter()
            .filter(|(_, s)| s.owns_url(content_url))
            .max_by_key(|(k, _)| k.0.len())
            .map(|(k, _)| k.clone())
    }

    /// The Looker at `host`: its name, or its name and port (the scheme's default port too).
    pub fn by_host(&self, host: &str) -> Option<LookerKey> {
        self.lookers
            .iter()
            .find(|(_, s)| {
                let name = s.url.host_str().unwrap_or_default();
                let with_default_port = s.url.port_or_known_default().map(|port| format!("{name}:{port}"));
                [Some(name.to_string()), Some(s.host()), with_default_port]
                    .iter()
                    .flatten()
                    .any(|known| known.eq_ignore_ascii_case(host))
            })
            .map(|(k, _)| k.clone())
    }

    /// The Lookers whose webhook token this is. Every token is compared (no early exit), so the
    /// time taken says nothing about which one matched.
    pub fn by_webhook_token(&self, presented: &str) -> Vec<LookerKey> {
        self.lookers
            .iter()
            .filter(|(_, s)| s.webhook_token.as_ref().is_some_and(|t| t.matches(presented)))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The Looker a request means.
    pub fn choose(&self, choice: &LookerChoice) -> Result<LookerKey, UnknownLooker> {
        let found = match choice {
            LookerChoice::First => self.lookers.first().map(|(k, _)| k.clone()),
            LookerChoice::Host(host) => self.by_host(host),
            LookerChoice::Key(key) => self.settings(key).map(|_| key.clone()),
            LookerChoice::Url(url) => self.by_url(url),
        };
        found.ok_or_else(|| UnknownLooker {
            host: match choice {
                LookerChoice::Host(host) => Some(host.clone()),
                LookerChoice::Key(key) => Some(key.0.clone()),
                LookerChoice::Url(url) => url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string)),
                LookerChoice::First => None,
            },
            known: self.hosts(),
        })
    }

    /// A link to Looker content, with the connected Looker it belongs to.
    pub fn link(&self, url: &str) -> Option<Link> {
        let url = link::unwrap_slack_link(url);
        Some(Link {
            content: Content::of(url)?,
            looker: self.by_url(url),
            url: url.to_string(),
        })
    }

    /// The hosts people name the Lookers by.
    pub fn hosts(&self) -> Vec<String> {
        self.lookers.iter().map(|(_, s)| s.host()).collect()
    }

    pub fn len(&self) -> usize {
        self.lookers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lookers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::examples;

    fn registry() -> Registry {
        Registry::new(&examples::lookers(serde_json::json!([
            {"url": "https://looker.example.com", "apiBaseUrl": "https://looker.example.com/api/4.0",
             "clientId": "a", "clientSecret": "a", "webhookToken": "wa"},
            {"url": "http://localhost:9999", "apiBaseUrl": "http://localhost:9999/api/4.0",
             "clientId": "b", "clientSecret": "b", "webhookToken": "wb"}
        ])))
    }

    #[test]
    fn a_looker_is_found_by_its_host_with_or_without_its_port() {
        let registry = registry();
        let found = |host: &str| registry.by_host(host).map(|k| k.to_string());
        assert_eq!(
            found("LOOKER.example.com").as_deref(),
            Some("https://looker.example.com")
        );
        assert_eq!(
            found("looker.example.com:443").as_deref(),
            Some("https://looker.example.com")
        );
        assert_eq!(found("localhost:9999").as_deref(), Some("http://localhost:9999"));
        assert_eq!(found("looker.example.com:8443"), None);
        assert_eq!(found("other.example.com"), None);
    }

    #[test]
    fn links_webhook_tokens_and_choices_name_one_looker() {
        let registry = registry();
        let link = registry.link("<http://localhost:9999/looks/7|Orders>").unwrap();
        assert_eq!(
            link.looker.as_ref().map(LookerKey::as_str),
            Some("http://localhost:9999")
        );
        assert_eq!(link.url, "http://localhost:9999/looks/7");
        assert!(
            registry
                .link("https://elsewhere.example.com/looks/7")
                .unwrap()
                .looker
                .is_none()
        );
        assert_eq!(
            registry.by_webhook_token("wb"),
            [LookerKey("http://localhost:9999".into())]
        );
        assert!(registry.by_webhook_token("nope").is_empty());
        assert_eq!(
            registry.choose(&LookerChoice::First).unwrap().as_str(),
            "https://looker.example.com"
        );
        let unknown = registry
            .choose(&LookerChoice::Host("x.example.com".into()))
            .unwrap_err();
        assert_eq!(unknown.known, ["looker.example.com", "localhost:9999"]);
    }
}
