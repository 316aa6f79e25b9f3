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
    pub async fn channel_id(&self, api: &SlackApi, name: &str) -> Result<Option<SlackChannelId>, SlackError> {
        if looks_like_id(name, &['C', 'G']) {
            return Ok(Some(SlackChannelId(name.trim().to_string())));
        }
        lookup(&self.channels, &normalise(name), || async {
            let list = api
                .list_conversations(vec![SlackConversationType::Public, SlackConversationType::Private])
                .await?;
            Ok(list
                .into_iter()
                .filter_map(|c| Some((normalise(c.name.as_deref()?), c.id)))
                .collect())
        })
        .await
    }

    /// The id of a user by Slack name or display name (or an id passed through).
    pub async fn user_id(&self, api: &SlackApi, name: &str) -> Result<Option<SlackUserId>, SlackError> {
        if looks_like_id(name, &['U', 'W']) {
            return Ok(Some(SlackUserId(name.trim().to_string())));
        }
        lookup(&self.users, &normalise(name), || async {
            let mut by_name = HashMap::new();
            for user in api
                .list_users()
                .await?
                .into_iter()
                .filter(|u| !u.deleted.unwrap_or(false))
            {
                let display = user
                    .profile
                    .as_ref()
                    .and_then(|p| p.display_name.clone())
                    .filter(|d| !d.is_empty());
                // The account name wins over someone else's identical display name.
                if let Some(display) = display {
                    by_name.entry(normalise(&display)).or_insert_with(|| user.id.clone());
                }
                if let Some(name) = &user.name {
                    by_name.insert(normalise(name), user.id.clone());
                }
            }
            Ok(by_name)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_pass_through_and_names_are_normalised() {
        assert!(looks_like_id("C0123ABCD", &['C', 'G']));
        assert!(!looks_like_id("general", &['C', 'G']));
        assert!(!looks_like_id("Cats", &['C', 'G']));
        assert_eq!(normalise(" #Sales-Team "), "sales-team");
    }
}
