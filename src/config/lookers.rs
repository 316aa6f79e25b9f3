//! The Lookers section: Lookerbot's single-Looker variables or the `LOOKERS` JSON array.

use serde::Deserialize;
use url::Url;

use super::checker::{Checker, non_empty};
use super::{Identity, LookerSettings, RawSettings, Secret, SettingsError};

/// The `LOOKERS` JSON entry, with Lookerbot's camelCase names.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LookerEntry {
    url: String,
    #[serde(default)]
    api_base_url: String,
    /// `clientID` is how Lookerbot's README spelled it.
    #[serde(default, alias = "clientID")]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default, alias = "customCommandSpaceId")]
    custom_command_folder_id: Option<serde_json::Value>,
    #[serde(default)]
    webhook_token: Option<String>,
    /// Queries the bot runs at once on this Looker (else `LOOKER_MAX_QUERIES`).
    #[serde(default)]
    max_queries: Option<usize>,
    /// Queries the bot runs at once on this Looker as every user (else `LOOKER_MAX_INSTANCE_QUERIES`).
    #[serde(default)]
    max_instance_queries: Option<usize>,
    /// `shared`, `sudo`, `sudo_or_shared`, `oauth` or `oauth_or_shared` (else `LOOKERBOT_IDENTITY`).
    #[serde(default)]
    identity: Option<String>,
    /// The bot's OAuth client app in this Looker (else `LOOKER_OAUTH_CLIENT_ID`).
    #[serde(default)]
    oauth_client_id: Option<String>,
    /// The less privileged API user `*_or_shared` falls back to (else `LOOKER_FALLBACK_CLIENT_*`).
    #[serde(default)]
    fallback_client_id: Option<String>,
    #[serde(default)]
    fallback_client_secret: Option<String>,
}

/// The API user a `*_or_shared` Looker answers people without a Looker user of their own as: a
/// credential of its own, never the admin the bot logs in as others with.
#[derive(Debug, Clone)]
pub struct FallbackCredential {
    pub client_id: String,
    pub client_secret: Secret,
}

/// The fallback of one Looker, refused when it is the bot's own API user.
fn fallback(
    id: Option<&str>,
    secret: Option<&str>,
    own_client_id: &str,
    checker: &mut Checker,
    variable: &'static str,
) -> Option<FallbackCredential> {
    match (
        id.map(str::trim).filter(|i| !i.is_empty()),
        secret.filter(|s| !s.is_empty()),
    ) {
        (Some(id), _) if id == own_client_id => {
            checker.problem(
                variable,
                "the fallback must be another, less privileged API user than the bot's own",
            );
            None
        }
        (Some(id), Some(secret)) => Some(FallbackCredential {
            client_id: id.to_string(),
            client_secret: Secret::new(secret),
        }),
        (None, None) => None,
        _ => {
            checker.problem(variable, "give both the fallback client id and its secret");
            None
        }
    }
}

impl RawSettings {
    /// The Looker web URLs alone (`LOOKERS` entries' `url`, or `LOOKER_URL`), for commands such as
    /// `manifest` that run before any credential exists. Empty when none is set.
    pub fn looker_web_urls(&self) -> Result<Vec<Url>, SettingsError> {
        let mut checker = Checker::default();
        let urls = match non_empty(&self.lookers) {
            Some(json) => match serde_json::from_str::<Vec<LookerEntry>>(json) {
                Ok(entries) => entries
                    .iter()
                    .filter_map(|e| checker.url("LOOKERS", &e.url))
                    .map(normalise_web_url)
                    .collect(),
                Err(err) => {
                    checker.problem(
                        "LOOKERS",
                        format!("expected a JSON array of {{url, ...}} objects: {err}"),
                    );
                    Vec::new()
                }
            },
            None => non_empty(&self.looker_url)
                .and_then(|url| checker.url("LOOKER_URL", url))
                .map(normalise_web_url)
                .into_iter()
                .collect(),
        };
        checker.finish().map(|_| urls)
    }

    pub(super) fn parse_lookers(&self, checker: &mut Checker) -> Vec<LookerSettings> {
        // Looker's default per-user limit of concurrent queries.
        let max_queries = checker.number("LOOKER_MAX_QUERIES", &self.looker_max_queries, 15usize, 1, 1000);
        // ...and its default per-instance limit.
        let max_instance_queries = checker.number(
            "LOOKER_MAX_INSTANCE_QUERIES",
            &self.looker_max_instance_queries,
            75usize,
            1,
            10_000,
        );
        let identities = Identity::NAMES;
        let oauth_client_id = non_empty(&self.looker_oauth_client_id).map(str::to_string);
        let identity = checker.choice(
            "LOOKERBOT_IDENTITY",
            &self.lookerbot_identity,
            Identity::Shared,
            &identities,
        );
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
                    if entry.api_base_url.trim().is_empty() {
                        checker.problem("LOOKERS", format!("{url}: apiBaseUrl is required"));
                        return None;
                    }
                    let api = checker.url("LOOKERS", &entry.api_base_url)?;
                    if entry.client_id.trim().is_empty() || entry.client_secret.trim().is_empty() {
                        checker.problem("LOOKERS", format!("{url}: clientId and clientSecret are required"));
                        return None;
                    }
                    Some(LookerSettings {
                        url: normalise_web_url(url),
                        api_base_url: upgrade_api_base(api, checker, "LOOKERS"),
                        client_id: entry.client_id.clone(),
                        client_secret: Secret::new(entry.client_secret),
                        custom_command_folder_id: entry.custom_command_folder_id.and_then(|v| match v {
                            serde_json::Value::String(s) if !s.is_empty() => Some(s),
                            serde_json::Value::Number(n) => Some(n.to_string()),
                            _ => None,
                        }),
                        webhook_token: entry.webhook_token.filter(|t| !t.is_empty()).map(Secret::new),
                        max_queries: entry.max_queries.unwrap_or(max_queries).max(1),
                        max_instance_queries: entry.max_instance_queries.unwrap_or(max_instance_queries).max(1),
                        identity: match entry.identity.as_deref() {
                            None => identity,
                            Some(named) => identities
                                .iter()
                                .find(|(n, _)| *n == named)
                                .map(|(_, i)| *i)
                                .unwrap_or_else(|| {
                                    checker.problem(
                                        "LOOKERS",
                                        format!(
                                            "identity must be shared, sudo, sudo_or_shared, oauth or \
                                             oauth_or_shared (got {named:?})"
                                        ),
                                    );
                                    identity
                                }),
                        },
                        oauth_client_id: entry
                            .oauth_client_id
                            .filter(|id| !id.trim().is_empty())
                            .or_else(|| oauth_client_id.clone()),
                        fallback: fallback(
                            entry.fallback_client_id.as_deref(),
                            entry.fallback_client_secret.as_deref(),
                            &entry.client_id,
                            checker,
                            "LOOKERS",
                        ),
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
                max_queries,
                max_instance_queries,
                identity,
                oauth_client_id,
                fallback: fallback(
                    non_empty(&self.looker_fallback_client_id),
                    non_empty(&self.looker_fallback_client_secret),
                    id,
                    checker,
                    "LOOKER_FALLBACK_CLIENT_ID",
                ),
            }],
            _ => Vec::new(),
        }
    }
}

/// Lookerbot was configured against API 3.x; the bot speaks 4.0, so upgrade such paths.
pub(super) fn upgrade_api_base(mut url: Url, checker: &mut Checker, variable: &'static str) -> Url {
    let path = url.path().trim_end_matches('/').to_string();
    if let Some(prefix) = path.strip_suffix("/api/3.0").or_else(|| path.strip_suffix("/api/3.1")) {
        checker.warn(format!("{variable}: API 3.x is retired; using {prefix}/api/4.0"));
        url.set_path(&format!("{prefix}/api/4.0"));
    } else if !path.ends_with("/api/4.0") {
        if path.is_empty() {
            url.set_path("/api/4.0");
        } else {
            url.set_path(&path);
        }
        if !url.path().ends_with("/api/4.0") {
            checker.warn(format!("{variable}: {url} does not end in /api/4.0; using it as given"));
        }
    } else {
        url.set_path(&path);
    }
    url
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
    use crate::config::examples::lookers;

    #[test]
    fn lookerbots_spelling_client_id_is_read_as_well() {
        let settings = lookers(serde_json::json!([
            {"url": "https://a.looker.com", "apiBaseUrl": "https://a.looker.com/api/4.0", "clientID": "lookerbot-id", "clientSecret": "s"},
            {"url": "https://b.looker.com", "apiBaseUrl": "https://b.looker.com/api/4.0", "clientId": "new-id", "clientSecret": "s"}
        ]));
        assert_eq!(settings[0].client_id, "lookerbot-id");
        assert_eq!(settings[1].client_id, "new-id");
    }
}
