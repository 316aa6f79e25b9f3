//! The command grammar: what the words after `/looker` (or after a mention) ask for. Pure and
//! fast: it runs inside Slack's acknowledgement.

use serde::{Deserialize, Serialize};

use super::find::{FindKind, FindRequest};
use crate::domain::looker::models::LookerId;
use crate::domain::looker::{Content, LookerChoice, Registry};
use crate::features::dashboards::DashboardRequest;

/// What was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
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
    /// A Looker link from a Looker this bot is not connected to.
    ForeignLink {
        url: String,
    },
    /// Words that are no built-in command: perhaps a custom command.
    Unknown {
        text: String,
    },
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
            Command::Dashboard {
                request: DashboardRequest {
                    looker: choice(host),
                    id: rest[0].clone(),
                    filters: rest[1..]
                        .iter()
                        .filter_map(|w| {
                            w.split_once('=')
                                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                        })
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
mod tests {
    use super::*;
    use crate::config::examples;

    fn lookers() -> Registry {
        Registry::new(&examples::one_looker())
    }

    fn ours() -> LookerChoice {
        LookerChoice::Key(lookers().by_host("looker.example.com").unwrap())
    }

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
    fn the_grammar() {
        let parse = |text: &str| parse(text, &lookers());
        assert_eq!(parse(""), Command::Help);
        assert_eq!(parse("HELP"), Command::Help);
        assert_eq!(
            parse("look 42"),
            Command::Look {
                id: LookerId("42".into()),
                looker: LookerChoice::First
            }
        );
        assert_eq!(
            parse("look <http://eu.looker.example.com|eu.looker.example.com> 42"),
            Command::Look {
                id: LookerId("42".into()),
                looker: LookerChoice::Host("eu.looker.example.com".into())
            }
        );
        let Command::Dashboard { request } = parse("dashboard localhost:9999 thelook::orders status=open") else {
            panic!("dashboard on a named Looker")
        };
        assert_eq!(
            (&request.looker, request.id.as_str(), request.filters.len()),
            (&LookerChoice::Host("localhost:9999".into()), "thelook::orders", 1)
        );
        assert!(request.strict_filters, "typed filter names are checked");
        assert!(
            matches!(parse("find Q1:2024 revenue"), Command::Find { request } if request.host.is_none()),
            "a colon in a search word is not a port"
        );
        let Command::Dashboard { request } = parse("dashboard thelook::orders") else {
            panic!("LookML dashboard")
        };
        assert_eq!(
            (request.looker, request.id.as_str()),
            (LookerChoice::First, "thelook::orders")
        );
        assert!(matches!(parse("look forty"), Command::Unknown { .. }));
        let Command::Dashboard { request } =
            parse(r#"dashboard 12 status=complete "Order Date"="last 7 days" region=-NULL"#)
        else {
            panic!("dashboard")
        };
        assert_eq!(request.id, "12");
        assert_eq!(
            request.filters,
            [
                ("status".to_string(), "complete".to_string()),
                ("Order Date".to_string(), "last 7 days".to_string()),
                ("region".to_string(), "-NULL".to_string())
            ]
        );
        assert!(matches!(parse("make me a sandwich"), Command::Unknown { .. }));
    }

    #[test]
    fn links_become_the_command_for_their_content_on_their_looker() {
        let parse = |text: &str| parse(text, &lookers());
        assert_eq!(
            parse("<https://looker.example.com/looks/7?f=1>"),
            Command::Look {
                id: LookerId("7".into()),
                looker: ours()
            }
        );
        assert_eq!(
            parse("<https://looker.example.com/looks/7|Orders by Status>"),
            Command::Look {
                id: LookerId("7".into()),
                looker: ours()
            }
        );
        let Command::Dashboard { request } = parse("https://looker.example.com/dashboards/5?Status=open") else {
            panic!("dashboard link")
        };
        assert_eq!((request.id.as_str(), request.filters.len()), ("5", 1));
        assert!(!request.strict_filters, "a link's address carries other parameters");
        assert_eq!(
            parse("https://looker.example.com/x/aBc123"),
            Command::Query {
                slug: "aBc123".into(),
                url: "https://looker.example.com/x/aBc123".into(),
                looker: ours()
            }
        );
        assert_eq!(
            parse("<https://looker.example.com/explore/thelook/orders?qid=Zz9&toggle=vis>"),
            Command::Query {
                slug: "Zz9".into(),
                url: "https://looker.example.com/explore/thelook/orders?qid=Zz9&toggle=vis".into(),
                looker: ours()
            }
        );
        assert_eq!(
            parse("https://other.example.com/looks/7"),
            Command::ForeignLink {
                url: "https://other.example.com/looks/7".into()
            }
        );
        assert!(matches!(parse("https://example.com/pricing"), Command::Unknown { .. }));
    }
}
