//! `find <words>`, `find look <words>`, `find dashboard <words>` (optionally after a Looker host):
//! Looker's title search, then a fuzzy ranking on titles so near misses and word order still
//! find the right content. The top five, with their folders, linked to Looker.

use serde::{Deserialize, Serialize};

use crate::clients::looker::models::FolderBase;
use crate::clients::looker::{LookerClient, LookerError};
use crate::clients::slack::OutgoingMessage;
use crate::render::mrkdwn::{escape, link};
use crate::render::section;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindKind {
    Any,
    Look,
    Dashboard,
}

/// What `find` asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindRequest {
    pub kind: FindKind,
    /// A Looker host, when several Lookers are configured.
    pub host: Option<String>,
    pub words: String,
}

/// A word naming a Looker by host (`looker.example.com`, `https://looker.example.com/`,
/// `localhost:9999`), as opposed to a search word (`Q1:2024`), a LookML dashboard id
/// (`model::name`) or a filter.
pub fn looker_host(word: &str) -> Option<String> {
    // Slack writes a domain in a message as a link: `<http://looker.example.com|looker.example.com>`.
    let word = word.trim_start_matches('<').trim_end_matches('>');
    let word = word.split('|').next().unwrap_or(word);
    let host = word
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    // `looker.example.com`, `localhost`, either with a port; not `Q1:2024` or `revenue:2023`.
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    let plausible = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && (name.contains('.') || name == "localhost");
    plausible.then(|| host.to_string())
}

/// Parses the words after `find`.
pub fn parse_find(words: &[String]) -> Option<FindRequest> {
    let mut rest = words;
    let host = rest.first().and_then(|w| looker_host(w));
    if host.is_some() {
        rest = &rest[1..];
    }
    let kind = match rest.first().map(|w| w.to_ascii_lowercase()).as_deref() {
        Some("look" | "looks") => FindKind::Look,
        Some("dashboard" | "dashboards") => FindKind::Dashboard,
        _ => FindKind::Any,
    };
    if kind != FindKind::Any {
        rest = &rest[1..];
    }
    let words = rest.join(" ");
    (!words.trim().is_empty()).then_some(FindRequest { kind, host, words })
}

#[derive(Debug, Clone, Deserialize)]
struct Found {
    id: crate::clients::looker::models::LookerId,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    short_url: Option<String>,
    #[serde(default)]
    folder: Option<FolderBase>,
}

struct Hit {
    score: f64,
    title: String,
    url: String,
    kind: &'static str,
    folder: Option<String>,
}

/// How well a title matches: the share of query words it contains, plus string similarity.
pub fn score(query: &str, title: &str) -> f64 {
    let (query, title) = (query.to_lowercase(), title.to_lowercase());
    let words: Vec<&str> = query.split_whitespace().collect();
    let contained = words.iter().filter(|w| title.contains(*w)).count() as f64 / words.len().max(1) as f64;
    contained + 0.5 * strsim::jaro_winkler(&query, &title)
}

/// Looker's search takes `%` wildcards: titles holding any of the (up to four) longer words,
/// merged and ranked here.
async fn search(looker: &LookerClient, kind: &'static str, words: &str) -> Result<Vec<Hit>, LookerError> {
    let mut terms: Vec<&str> = words.split_whitespace().filter(|w| w.chars().count() >= 3).collect();
    if terms.is_empty() {
        terms = words.split_whitespace().collect();
    }
    terms.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    terms.dedup();
    terms.truncate(4);
    let path = if kind == "Look" {
        "looks/search"
    } else {
        "dashboards/search"
    };
    let mut seen = std::collections::HashSet::new();
    let mut hits = Vec::new();
    for term in terms {
        let pattern = format!("%{}%", term.replace(['%', '_'], ""));
        let found: Vec<Found> = looker
            .get_json(
                path,
                &[
                    ("title", pattern.as_str()),
                    ("fields", "id,title,short_url,folder"),
                    ("limit", "50"),
                ],
            )
            .await?;
        for f in found {
            let Some(title) = f.title.clone() else { continue };
            if !seen.insert(f.id.clone()) {
                continue;
            }
            let url = match (kind, &f.short_url) {
                ("Look", Some(short)) => format!("{}{short}", looker.web_base()),
                ("Look", None) => format!("{}/looks/{}", looker.web_base(), f.id),
                _ => format!("{}/dashboards/{}", looker.web_base(), f.id),
            };
            hits.push(Hit {
                score: score(words, &title),
                title,
                url,
                kind,
                folder: f.folder.and_then(|d| d.name),
            });
        }
    }
    Ok(hits)
}

/// The top five matches across the Lookers asked, as a message.
pub async fn find(lookers: &[&LookerClient], request: &FindRequest) -> Result<OutgoingMessage, LookerError> {
    let mut hits = Vec::new();
    for looker in lookers {
        if request.kind != FindKind::Dashboard {
            hits.extend(search(looker, "Look", &request.words).await?);
        }
        if request.kind != FindKind::Look {
            hits.extend(search(looker, "Dashboard", &request.words).await?);
        }
    }
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.title.cmp(&b.title)));
    hits.truncate(5);
    if hits.is_empty() {
        let text = format!("Nothing in Looker matches “{}”.", request.words);
        return Ok(OutgoingMessage {
            blocks: vec![section(&escape(&text))],
            text,
        });
    }
    let lines: Vec<String> = hits
        .iter()
        .map(|h| {
            let folder = h
                .folder
                .as_deref()
                .map(|f| format!(" in _{}_", escape(f)))
                .unwrap_or_default();
            format!("• {} ({}{folder})", link(&h.url, &h.title), h.kind)
        })
        .collect();
    let text = format!(
        "*Found in Looker for “{}”*\n{}",
        escape(&request.words),
        lines.join("\n")
    );
    Ok(OutgoingMessage {
        text: format!("{} results for {}", hits.len(), request.words),
        blocks: vec![section(&text)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_grammar() {
        let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            parse_find(&words("dashboard weekly sales")),
            Some(FindRequest {
                kind: FindKind::Dashboard,
                host: None,
                words: "weekly sales".into()
            })
        );
        assert_eq!(
            parse_find(&words("eu.looker.com look churn")),
            Some(FindRequest {
                kind: FindKind::Look,
                host: Some("eu.looker.com".into()),
                words: "churn".into()
            })
        );
        assert_eq!(parse_find(&words("look")), None);
    }

    #[test]
    fn ranking_prefers_titles_holding_every_word_in_any_order() {
        assert!(score("sales weekly", "Weekly Sales Overview") > score("sales weekly", "Sales by Region"));
        assert!(score("revenu", "Revenue") > score("revenu", "Orders"));
    }
}
