//! A notification as an application sends it (`POST /api/notify`), checked field by field: every
//! problem is named at once, so a sender fixes its request in one go.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a notification is shown: what it asks of the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info = 0,
    Warn = 1,
    Error = 2,
}

/// One line of a notification's fields section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub title: String,
    pub value: String,
}

/// A checked notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub channel: String,
    pub title: String,
    pub text: String,
    pub level: Level,
    pub dedupe_key: Option<String>,
    /// Repeats (same title or dedupe key, same channel) within this long are counted, not posted.
    pub wait_ms: Option<u64>,
    pub thread_key: Option<String>,
    pub fields: Vec<Field>,
    pub link: Option<String>,
}

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub field: &'static str,
    pub problem: String,
}

const MAX_TITLE: usize = 150;
const MAX_TEXT: usize = 3_000;
const MAX_KEY: usize = 200;
const MAX_FIELDS: usize = 10;
const MAX_WAIT: Duration = Duration::from_secs(7 * 24 * 3600);

impl Notification {
    /// Reads a JSON body; every problem found, or the notification.
    pub fn parse(body: &[u8]) -> Result<Notification, Vec<Problem>> {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            vec![Problem {
                field: "body",
                problem: format!("not JSON: {e}"),
            }]
        })?;
        let Value::Object(object) = value else {
            return Err(vec![problem("body", "expected a JSON object")]);
        };
        let mut problems = Vec::new();
        let text = |name: &'static str, required: bool, max: usize, problems: &mut Vec<Problem>| match object.get(name)
        {
            None | Some(Value::Null) if required => {
                problems.push(problem(name, "required"));
                None
            }
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if required && s.trim().is_empty() => {
                problems.push(problem(name, "must not be empty"));
                None
            }
            Some(Value::String(s)) if s.chars().count() > max => {
                problems.push(problem(name, &format!("at most {max} characters")));
                None
            }
            Some(Value::String(s)) => Some(s.trim().to_string()),
            Some(_) => {
                problems.push(problem(name, "must be a string"));
                None
            }
        };
        let channel = text("channel", true, 80, &mut problems);
        let title = text("title", true, MAX_TITLE, &mut problems);
        let body_text = text("text", false, MAX_TEXT, &mut problems);
        let dedupe_key = text("dedupe_key", false, MAX_KEY, &mut problems);
        let thread_key = text("thread_key", false, MAX_KEY, &mut problems);
        let link = text("link", false, 2_000, &mut problems);
        let level = match object.get("level") {
            None | Some(Value::Null) => Some(Level::Info),
            Some(value) => match serde_json::from_value::<Level>(value.clone()) {
                Ok(level) => Some(level),
                Err(_) => {
                    problems.push(problem("level", "one of info, warn, error"));
                    None
                }
            },
        };
        let wait_ms = wait(object.get("wait_duration"), &mut problems);
        let fields = fields(object.get("fields"), &mut problems);
        if let Some(link) = &link
            && !valid_link(link)
        {
            problems.push(problem("link", "an http:// or https:// URL"));
        }
        if let Some(channel) = &channel
            && !valid_channel(channel)
        {
            problems.push(problem("channel", "a channel name (#name) or id (C0123…)"));
        }
        match (channel, title, level) {
            (Some(channel), Some(title), Some(level)) if problems.is_empty() => Ok(Notification {
                channel,
                title,
                text: body_text.unwrap_or_default(),
                level,
                dedupe_key,
                wait_ms,
                thread_key,
                fields,
                link,
            }),
            _ => Err(problems),
        }
    }

    /// What repeats are recognised by: the dedupe key, else the title.
    pub fn repeat_key(&self) -> &str {
        self.dedupe_key.as_deref().unwrap_or(&self.title)
    }
}

fn problem(field: &'static str, problem: &str) -> Problem {
    Problem {
        field,
        problem: problem.to_string(),
    }
}

/// Seconds as a number, or a duration such as `"10m"`, `"1h 30m"`.
fn wait(value: Option<&Value>, problems: &mut Vec<Problem>) -> Option<u64> {
    let wait = match value? {
        Value::Null => return None,
        Value::Number(n) => match n.as_f64() {
            Some(secs) if secs >= 0.0 && secs.is_finite() => Duration::from_secs_f64(secs.min(1e9)),
            _ => {
                problems.push(problem("wait_duration", "a number of seconds, 0 or more"));
                return None;
            }
        },
        Value::String(text) => match humantime::parse_duration(text.trim()) {
            Ok(wait) => wait,
            Err(_) => {
                problems.push(problem(
                    "wait_duration",
                    "seconds, or a duration such as \"10m\" or \"1h\"",
                ));
                return None;
            }
        },
        _ => {
            problems.push(problem("wait_duration", "seconds, or a duration such as \"10m\""));
            return None;
        }
    };
    if wait > MAX_WAIT {
        problems.push(problem("wait_duration", "at most 7 days"));
        return None;
    }
    Some(wait.as_millis() as u64)
}

/// `{"Region": "EMEA"}` or `[{"title": "Region", "value": "EMEA"}]`, in that order.
fn fields(value: Option<&Value>, problems: &mut Vec<Problem>) -> Vec<Field> {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let fields: Option<Vec<Field>> = match value {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| {
                text(v).map(|value| Field {
                    title: k.clone(),
                    value,
                })
            })
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                Some(Field {
                    title: text(item.get("title")?)?,
                    value: text(item.get("value")?)?,
                })
            })
            .collect(),
        Some(_) => None,
    };
    match fields {
        Some(fields) if fields.len() <= MAX_FIELDS => fields,
        Some(_) => {
            problems.push(problem("fields", &format!("at most {MAX_FIELDS} fields")));
            Vec::new()
        }
        None => {
            problems.push(problem(
                "fields",
                "an object of names to text, or a list of {title, value}",
            ));
            Vec::new()
        }
    }
}

fn valid_link(link: &str) -> bool {
    url::Url::parse(link).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

fn valid_channel(channel: &str) -> bool {
    let name = channel.strip_prefix('#').unwrap_or(channel);
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') || !c.is_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_notification_is_read_with_its_defaults() {
        let body = br##"{"channel": "#ops", "title": "Nightly load", "text": "done",
            "wait_duration": "10m", "fields": {"rows": 12, "table": "orders"}, "link": "https://ci.example.com/1"}"##;
        let n = Notification::parse(body).unwrap();
        assert_eq!(n.level, Level::Info);
        assert_eq!(n.wait_ms, Some(600_000));
        assert_eq!(n.fields.len(), 2);
        assert_eq!(n.repeat_key(), "Nightly load");
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let body = br#"{"title": "", "level": "fatal", "wait_duration": -3, "link": "javascript:alert(1)",
            "fields": [{"title": "x"}]}"#;
        let problems = Notification::parse(body).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field).collect();
        for field in ["channel", "title", "level", "wait_duration", "link", "fields"] {
            assert!(fields.contains(&field), "{field} in {problems:?}");
        }
        assert_eq!(Notification::parse(b"[1]").unwrap_err()[0].field, "body");
        assert_eq!(Notification::parse(b"{").unwrap_err()[0].field, "body");
    }
}
