//! Looker links, parsed once: `/looks/<id>`, `/dashboards/<id>` (numbers or LookML ids such as
//! `model::name`, with filters in the query string), share links `/x/<slug>` and explore links
//! `/explore/...?qid=<slug>`, each with the Looker it belongs to when that Looker is connected.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::LookerKey;
use super::models::LookerId;

static LOOK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"/looks/(\d+)(?:[/?#]|$)").expect("valid regex"));
static DASHBOARD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"/dashboards(?:-next)?/([^/?#]+)").expect("valid regex"));

/// What a link shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Content {
    Look {
        id: LookerId,
    },
    /// A dashboard with the filter values in its address (by filter name).
    Dashboard {
        id: String,
        filters: Vec<(String, String)>,
    },
    /// A query behind a share or explore link.
    Query {
        slug: String,
    },
}

/// A link to Looker content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The address as given (Slack's `<url|text>` wrapping removed).
    pub url: String,
    /// The connected Looker it belongs to; `None` for a Looker this bot does not know.
    pub looker: Option<LookerKey>,
    pub content: Content,
}

impl Content {
    /// What an address shows, if it is a Looker content address at all.
    pub fn of(url: &str) -> Option<Content> {
        let parsed = url::Url::parse(url).ok()?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return None;
        }
        let path = parsed.path();
        if let Some(found) = LOOK.captures(path) {
            return Some(Content::Look {
                id: LookerId(found[1].to_string()),
            });
        }
        if let Some(found) = DASHBOARD.captures(path) {
            let id = percent_decoded(&found[1]);
            let filters = parsed
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            return Some(Content::Dashboard { id, filters });
        }
        if let Some(slug) = path.strip_prefix("/x/").map(|s| s.trim_end_matches('/')) {
            return Some(Content::Query { slug: slug.to_string() }).filter(|_| !slug.is_empty() && !slug.contains('/'));
        }
        if path.starts_with("/explore/") {
            return parsed
                .query_pairs()
                .find(|(k, _)| k == "qid")
                .map(|(_, v)| v.into_owned())
                .filter(|slug| !slug.is_empty())
                .map(|slug| Content::Query { slug });
        }
        None
    }
}

/// A path segment as Looker means it (`thelook%3A%3Aorders` is `thelook::orders`).
fn percent_decoded(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| segment.to_string())
}

/// Slack writes links in messages as `<url>` or `<url|text>`: the address alone.
pub fn unwrap_slack_link(text: &str) -> &str {
    let text = text.trim();
    let inner = text.strip_prefix('<').and_then(|t| t.strip_suffix('>')).unwrap_or(text);
    inner.split('|').next().unwrap_or(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_addresses_are_recognised() {
        assert_eq!(
            Content::of("https://looker.example.com/looks/7?f=1"),
            Some(Content::Look {
                id: LookerId("7".into())
            })
        );
        assert_eq!(
            Content::of("https://looker.example.com/embed/dashboards/thelook%3A%3Aorders?Status=open"),
            Some(Content::Dashboard {
                id: "thelook::orders".into(),
                filters: vec![("Status".into(), "open".into())]
            })
        );
        assert_eq!(
            Content::of("https://looker.example.com/dashboards-next/5"),
            Some(Content::Dashboard {
                id: "5".into(),
                filters: vec![]
            })
        );
        assert_eq!(
            Content::of("https://looker.example.com/x/aBc123"),
            Some(Content::Query { slug: "aBc123".into() })
        );
        assert_eq!(
            Content::of("https://looker.example.com/explore/thelook/orders?qid=Zz9&toggle=vis"),
            Some(Content::Query { slug: "Zz9".into() })
        );
        assert_eq!(Content::of("https://looker.example.com/looks/seven"), None);
        assert_eq!(Content::of("https://looker.example.com/folders/3"), None);
        assert_eq!(Content::of("mailto:someone@example.com"), None);
    }

    #[test]
    fn slack_link_wrapping_is_removed() {
        assert_eq!(unwrap_slack_link("<https://x/looks/1|Look 1>"), "https://x/looks/1");
        assert_eq!(unwrap_slack_link("<https://x/looks/1>"), "https://x/looks/1");
        assert_eq!(unwrap_slack_link("https://x/looks/1"), "https://x/looks/1");
    }
}
