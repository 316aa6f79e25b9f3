//! `find <words>`, `find look <words>`, `find dashboard <words>` (optionally after a Looker host):
//! Looker's title search, then a fuzzy ranking on titles so near misses and word order still
//! find the right content. The top five, with their folders, linked to Looker.

use serde::{Deserialize, Serialize};

use super::reply::Conversation;
use crate::clients::looker::{ContentKind, LookerClient, LookerError};
use crate::domain::looker::LookerChoice;
use crate::domain::slack::OutgoingMessage;
use crate::features::errors::{About, Error, UserError};
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
    let mut seen = std::collections::HashSet::new();
    let mut hits = Vec::new();
    for term in terms {
        let pattern = format!("%{}%", term.replace(['%', '_'], ""));
        let searched = if kind == "Look" {
            ContentKind::Look
        } else {
            ContentKind::Dashboard
        };
        let found = looker.search(searched, &pattern, 50).await?;
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

/// Answers `find` in the conversation: every Looker, or the one named by host.
pub async fn answer(conversation: &mut Conversation<'_>, request: &FindRequest) -> Result<(), Error> {
    let lookers = &conversation.ctx.lookers;
    let chosen: Vec<&LookerClient> = match &request.host {
        Some(host) => vec![
            lookers
                .choose(&LookerChoice::Host(host.clone()))
                .map_err(|unknown| UserError::unknown_looker(&unknown))?
                .1,
        ],
        None => lookers.all().map(|(_, l)| l).collect(),
    };
    let message = find(&chosen, request).await.about("that search")?;
    // Titles and links, no data: fine where only links may go, private where answers are.
    let placement = conversation.placement;
    if placement.in_conversation() || placement.links_only() {
        conversation.show_message(&message).await
    } else {
        conversation.show_privately(message, false).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranking_prefers_titles_holding_every_word_in_any_order() {
        assert!(score("sales weekly", "Weekly Sales Overview") > score("sales weekly", "Sales by Region"));
        assert!(score("revenu", "Revenue") > score("revenu", "Orders"));
    }
}
