//! The grammar, as people type it and as Slack wraps links.

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
    assert_eq!(parse("dashboard 12 west"), Command::NotAFilter { word: "west".into() });
}

#[test]
fn jobs_recorded_by_the_previous_version_still_read() {
    let old = |json: serde_json::Value| serde_json::from_value::<Command>(json).unwrap();
    assert_eq!(
        old(
            serde_json::json!({"command": "look", "id": "7", "url": "https://looker.example.com/looks/7", "host": null})
        ),
        Command::Look {
            id: LookerId("7".into()),
            looker: LookerChoice::Url("https://looker.example.com/looks/7".into())
        }
    );
    assert_eq!(
        old(serde_json::json!({"command": "look", "id": "7", "url": null, "host": "eu.looker.example.com"})),
        Command::Look {
            id: LookerId("7".into()),
            looker: LookerChoice::Host("eu.looker.example.com".into())
        }
    );
    let Command::Dashboard { request } = old(serde_json::json!({"command": "dashboard", "request":
        {"id": "5", "filters": [["Status", "open"]], "title": null, "link": "https://looker.example.com/dashboards/5", "host": null}}))
    else {
        panic!("a dashboard")
    };
    assert_eq!(
        request.looker,
        LookerChoice::Url("https://looker.example.com/dashboards/5".into())
    );
    assert_eq!(
        lookers().choose(&request.looker).unwrap().as_str(),
        "https://looker.example.com"
    );
    let command = parse("look 7", &lookers());
    let again: Command = serde_json::from_str(&serde_json::to_string(&command).unwrap()).unwrap();
    assert_eq!(again, command, "what this version writes, it reads");
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

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_words_are_a_command_that_survives_the_queue(text in ".*", link in "(<)?https?://[a-z.]{1,20}(:[0-9]{1,5})?/(looks|dashboards|x|explore)/[^ >]{0,30}(>)?") {
            for text in [text, link.clone(), format!("dashboard {link} a=b")] {
                let command = parse(&text, &lookers());
                let stored = serde_json::to_string(&command).unwrap();
                let read: Command = serde_json::from_str(&stored).unwrap();
                prop_assert_eq!(read, command);
            }
        }
    }
}
