//! The command grammar: what the words after `/looker` (or after a mention) ask for. Pure and
//! fast: it runs inside Slack's acknowledgement.

use serde::{Deserialize, Serialize};

use super::find::{FindKind, FindRequest};
use crate::domain::looker::models::LookerId;
use crate::domain::looker::{Content, LookerChoice, Registry};
use crate::features::dashboards::DashboardRequest;

/// What was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", from = "CommandWire")]
pub enum Command {
    Help,
    Find {
        request: FindRequest,
    },
    Look {
        id: LookerId,
        looker: LookerChoice,
    },
    /// A share (`/x/<slug>`) or explore (`?qid=<slug>`) link.
    Query {
        slug: String,
        url: String,
        looker: LookerChoice,
    },
    Dashboard {
        request: DashboardRequest,
    },
    /// `dashboard <id> west`: a word where a `name=value` filter belongs.
    NotAFilter {
        word: String,
    },
    /// A Looker link from a Looker this bot is not connected to.
    ForeignLink {
        url: String,
    },
    /// Words that are no built-in command: perhaps a custom command.
    Unknown {
        text: String,
    },
    /// `connect`: the person's own link to connect their Looker account (`oauth` Lookers).
    Connect,
    /// `disconnect`: forget the person's connected Looker accounts.
    Disconnect,
}

/// A command as job payloads hold it, including those recorded by earlier versions (a Look or a
/// query named its Looker by `url` or `host` then).
#[derive(Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
enum CommandWire {
    Help,
    Find {
        request: FindRequest,
    },
    Look {
        id: LookerId,
        #[serde(default)]
        looker: Option<LookerChoice>,
        #[serde(default)]
        url: Option<String>,
        #[serde(default)]
        host: Option<String>,
    },
    Query {
        slug: String,
        url: String,
        #[serde(default)]
        looker: Option<LookerChoice>,
    },
    Dashboard {
        request: DashboardRequest,
    },
    NotAFilter {
        word: String,
    },
    ForeignLink {
        url: String,
    },
    Unknown {
        text: String,
    },
    Connect,
    Disconnect,
}

impl From<CommandWire> for Command {
    fn from(wire: CommandWire) -> Self {
        match wire {
            CommandWire::Help => Command::Help,
            CommandWire::Find { request } => Command::Find { request },
            CommandWire::Look { id, looker, url, host } => Command::Look {
                id,
                looker: looker
                    .or(url.map(LookerChoice::Url))
                    .or(host.map(LookerChoice::Host))
                    .unwrap_or_default(),
            },
            CommandWire::Query { slug, url, looker } => Command::Query {
                looker: looker.unwrap_or_else(|| LookerChoice::Url(url.clone())),
                slug,
                url,
            },
            CommandWire::Dashboard { request } => Command::Dashboard { request },
            CommandWire::NotAFilter { word } => Command::NotAFilter { word },
            CommandWire::ForeignLink { url } => Command::ForeignLink { url },
            CommandWire::Unknown { text } => Command::Unknown { text },
            CommandWire::Connect => Command::Connect,
            CommandWire::Disconnect => Command::Disconnect,
        }
    }
}

/// Splits `a=b "c d"=e f="g h"` into words, keeping quoted runs (and Looker expressions) whole.
pub fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.trim().chars() {
        match c {
            '"' | '“' | '”' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
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

fn choice(host: Option<String>) -> LookerChoice {
    host.map(LookerChoice::Host).unwrap_or_default()
}

/// Parses the text after `/looker` (or after a mention); links are matched to the connected
/// Lookers.
pub fn parse(text: &str, lookers: &Registry) -> Command {
    let text = text.trim();
    // A link Slack wrapped, `<https://...|label with spaces>`, is one word.
    if text.starts_with("<http")
        && let Some(end) = text.find('>')
    {
        return link(&text[..=end], text, lookers);
    }
    let words = words(text);
    let first = words.first().map(|w| w.to_ascii_lowercase());
    let unknown = || Command::Unknown { text: text.to_string() };
    match first.as_deref() {
        None | Some("help") => Command::Help,
        Some("connect") if words.len() == 1 => Command::Connect,
        Some("disconnect") if words.len() == 1 => Command::Disconnect,
        Some("find" | "search") => match parse_find(&words[1..]) {
            Some(request) => Command::Find { request },
            None => unknown(),
        },
        Some("look") => {
            let host = words.get(1).and_then(|w| looker_host(w));
            match &words[1 + usize::from(host.is_some())..] {
                [id] if id.chars().all(|c| c.is_ascii_digit()) => Command::Look {
                    id: LookerId(id.clone()),
                    looker: choice(host),
                },
                _ => unknown(),
            }
        }
        Some("dashboard") if words.len() >= 2 => {
            let host = words.get(1).filter(|_| words.len() >= 3).and_then(|w| looker_host(w));
            let rest = &words[1 + usize::from(host.is_some())..];
            if let Some(word) = rest[1..].iter().find(|w| !w.contains('=')) {
                return Command::NotAFilter { word: word.clone() };
            }
            Command::Dashboard {
                request: DashboardRequest {
                    looker: choice(host),
                    id: rest[0].clone(),
                    filters: rest[1..]
                        .iter()
                        .filter_map(|w| w.split_once('='))
                        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                        .collect(),
                    title: None,
                    link: None,
                    strict_filters: true,
                },
            }
        }
        Some(word) if word.starts_with("http://") || word.starts_with("https://") => link(&words[0], text, lookers),
        _ => unknown(),
    }
}

/// A link: the command for its content, on its Looker; other addresses are just words.
fn link(word: &str, text: &str, lookers: &Registry) -> Command {
    let Some(link) = lookers.link(word) else {
        return Command::Unknown { text: text.to_string() };
    };
    let Some(key) = link.looker else {
        return Command::ForeignLink { url: link.url };
    };
    let looker = LookerChoice::Key(key);
    match link.content {
        Content::Look { id } => Command::Look { id, looker },
        Content::Query { slug } => Command::Query {
            slug,
            url: link.url,
            looker,
        },
        Content::Dashboard { id, filters } => Command::Dashboard {
            request: DashboardRequest {
                looker,
                id,
                filters,
                title: None,
                link: Some(link.url),
                strict_filters: false,
            },
        },
    }
}

#[cfg(test)]
mod tests;
