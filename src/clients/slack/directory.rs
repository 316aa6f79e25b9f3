//! Names to ids: Lookerbot's webhook URLs name channels and users, Slack's API wants ids.
//! Lists are fetched with cursor pagination and cached for a while (`conversations.list` and
//! `users.list` are Tier 2); an unknown name triggers one early refresh, not one per request.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use slack_morphism::prelude::*;
use tokio::sync::Mutex;

use super::{SlackApi, SlackError};

const TTL: Duration = Duration::from_secs(600);
/// An unknown name refreshes the list early, but not more often than this.
const MIN_REFRESH: Duration = Duration::from_secs(30);

struct Cached<T> {
    fetched: Instant,
    by_name: HashMap<String, T>,
}

#[derive(Default)]
pub struct Directory {
    channels: Mutex<Option<Cached<SlackChannelId>>>,
    users: Mutex<Option<Cached<SlackUserId>>>,
}

fn normalise(name: &str) -> String {
    name.trim().trim_start_matches(['#', '@']).to_lowercase()
}

/// Ids are accepted where names are expected: `C0123ABCD`, `G…`, `U…`, `W…`.
fn looks_like_id(name: &str, prefixes: &[char]) -> bool {
    let name = name.trim();
    name.len() >= 9 && name.starts_with(prefixes) && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Upper-case letters and digits, starting with a letter: an id of any length, never a name.
fn id_shaped(name: &str) -> bool {
    let name = name.trim();
    name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A name from a cache that is refreshed when old, and once early when the name is unknown.
async fn lookup<T, F, Fut>(cache: &Mutex<Option<Cached<T>>>, wanted: &str, fetch: F) -> Result<Option<T>, SlackError>
where
    T: Clone,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<HashMap<String, T>, SlackError>>,
{
    let mut cache = cache.lock().await;
    for attempt in 0..2 {
        let stale = cache.as_ref().is_none_or(|c| {
            let age = c.fetched.elapsed();
            age > TTL || (attempt == 1 && age > MIN_REFRESH)
        });
        if stale {
            *cache = Some(Cached {
                fetched: Instant::now(),
                by_name: fetch().await?,
            });
        }
        if let Some(id) = cache.as_ref().and_then(|c| c.by_name.get(wanted)) {
            return Ok(Some(id.clone()));
        }
    }
    Ok(None)
}

impl Directory {
    /// The id of a public or private channel by name (or an id passed through).
    ///
    /// An id always wins over a name: the lists are keyed by name (lower case, as Slack keeps
    /// channel names) and by id (upper case, as Slack makes them), and a value in upper case is
    /// looked up only as an id. A channel someone names after another channel's id (`g0fin1`
    /// for `G0FIN1`) is never taken for it, however short the id the bot offered in a form.
    pub async fn channel_id(&self, api: &SlackApi, name: &str) -> Result<Option<SlackChannelId>, SlackError> {
        if looks_like_id(name, &['C', 'G']) {
            return Ok(Some(SlackChannelId(name.trim().to_string())));
        }
        let key = match id_shaped(name) {
            true => name.trim().to_string(),
            false => normalise(name),
        };
        lookup(&self.channels, &key, || async {
            let list = api
                .list_conversations(vec![SlackConversationType::Public, SlackConversationType::Private])
                .await?;
            Ok(list
                .into_iter()
                .flat_map(|c| {
                    let by_name = c.name.as_deref().map(|n| (normalise(n), c.id.clone()));
                    by_name.into_iter().chain([(c.id.to_string(), c.id)])
                })
                .collect())
        })
        .await
    }

    /// The id of a user by account name or email (or an id passed through). Never by display
    /// name: anyone may set theirs to a colleague's and receive their deliveries. A name two
    /// people answer to is refused, with the candidates in the log.
    pub async fn user_id(&self, api: &SlackApi, name: &str) -> Result<Option<SlackUserId>, SlackError> {
        if looks_like_id(name, &['U', 'W']) {
            return Ok(Some(SlackUserId(name.trim().to_string())));
        }
        lookup(&self.users, &normalise(name), || async {
            let users = api.list_users().await?;
            let people = users.into_iter().filter(|u| !u.deleted.unwrap_or(false)).map(|user| {
                let email = user
                    .profile
                    .as_ref()
                    .and_then(|p| p.email.as_ref())
                    .map(|e| e.to_string());
                (user.id, user.name, email)
            });
            Ok(unambiguous_names(people))
        })
        .await
    }
}

/// Account names and emails to ids, leaving out any that more than one person answers to.
fn unambiguous_names(
    people: impl Iterator<Item = (SlackUserId, Option<String>, Option<String>)>,
) -> HashMap<String, SlackUserId> {
    let mut candidates: HashMap<String, Vec<SlackUserId>> = HashMap::new();
    for (id, name, email) in people {
        for key in [name, email].into_iter().flatten().map(|k| normalise(&k)) {
            let ids = candidates.entry(key).or_default();
            if !ids.contains(&id) {
                ids.push(id.clone());
            }
        }
    }
    candidates
        .into_iter()
        .filter_map(|(name, ids)| match ids.as_slice() {
            [one] => Some((name, one.clone())),
            many => {
                let ids: Vec<&str> = many.iter().map(|i| i.0.as_str()).collect();
                tracing::warn!(%name, candidates = ?ids, "a Slack name more than one person answers to is not used for delivery");
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_are_found_by_account_name_or_email_never_display_name_and_never_ambiguously() {
        let person =
            |id: &str, name: &str, email: &str| (SlackUserId(id.into()), Some(name.into()), Some(email.into()));
        let names = unambiguous_names(
            [
                person("U000000ALICE", "alice", "alice@acme.example"),
                person("U00000000BOB", "bob", "bob@acme.example"),
                // Another workspace of the organisation: the same account name, another person.
                person("W0000000BOB2", "bob", "bob@other.example"),
            ]
            .into_iter(),
        );
        assert_eq!(names["alice"].0, "U000000ALICE");
        assert_eq!(names["alice@acme.example"].0, "U000000ALICE");
        assert_eq!(names["bob@other.example"].0, "W0000000BOB2");
        assert!(!names.contains_key("bob"), "ambiguous");
        assert!(!names.contains_key("alice a"), "no display names");
    }

    #[test]
    fn ids_pass_through_and_names_are_normalised() {
        assert!(looks_like_id("C0123ABCD", &['C', 'G']));
        assert!(!looks_like_id("general", &['C', 'G']));
        assert!(!looks_like_id("Cats", &['C', 'G']));
        assert_eq!(normalise(" #Sales-Team "), "sales-team");
    }
}
