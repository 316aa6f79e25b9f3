//! Running a person's work as their own Looker user (`LOOKERBOT_IDENTITY=sudo`): the Looker user
//! whose email is the person's verified Slack email (`GET /users/search`), remembered for ten
//! minutes, and a token for that user from `POST /login/{user_id}` (the bot's API user must be an
//! admin), kept until shortly before it expires and never logged. Work no person started (a
//! schedule) runs as the API user, as Looker's scheduler decided.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::LookerClient;
use super::acting::Acting;
use super::auth::{AccessToken, CachedToken};
use super::error::LookerError;
use crate::config::{Identity, Secret};
use crate::scope::Person;

/// How long the Looker user found for an email is trusted (someone removed from Looker stops
/// being answered within this time).
const USER_TTL: Duration = Duration::from_secs(600);

/// What Looker knows of an email.
#[derive(Debug, Clone)]
enum Found {
    Enabled(String),
    /// Only disabled users have it: no fallback for them.
    Disabled,
    Nobody,
}

#[derive(Default)]
pub(super) struct SudoCache {
    users: Mutex<HashMap<String, (Instant, Found)>>,
    tokens: Mutex<HashMap<String, CachedToken>>,
}

#[derive(Deserialize)]
struct FoundUser {
    id: serde_json::Value,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    is_disabled: bool,
}

impl LookerClient {
    /// As whom the running work's calls go: the person's own Looker user where this Looker
    /// says so, else the API user.
    pub(super) async fn acting(&self) -> Result<Acting, LookerError> {
        let identity = self.settings.identity;
        let Some(person) = crate::scope::person() else {
            return Ok(Acting::Api);
        };
        let acting = match (identity, &person.looker_user) {
            (Identity::Shared, _) => Acting::Api,
            (Identity::Oauth | Identity::OauthOrShared, _) => self.linked(&person).await?,
            // A schedule's owner: that user, whatever the fallback.
            (Identity::Sudo | Identity::SudoOrShared, Some(owner)) => Acting::User(owner.clone()),
            (Identity::Sudo | Identity::SudoOrShared, None) => match self.looker_user(&person).await? {
                Found::Enabled(id) => Acting::User(id),
                Found::Disabled => {
                    return Err(LookerError::DisabledUser {
                        looker: self.settings.host(),
                    });
                }
                Found::Nobody => self.fallback_for(&person)?,
            },
        };
        crate::scope::note_acting(|| match &acting {
            Acting::Api => format!("{}: the API user", self.settings.host()),
            Acting::Fallback => format!("{}: the fallback API user", self.settings.host()),
            Acting::User(id) | Acting::Linked { user: id, .. } => format!(
                "{}: user {id}{}",
                self.settings.host(),
                person.email.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
            ),
        });
        Ok(acting)
    }

    /// As whom someone with no Looker user of their own is answered: the fallback API user where
    /// the Looker is `*_or_shared` and has one, and only when Slack said who they are. Never the
    /// bot's own (admin) API user.
    pub(super) fn fallback_for(&self, person: &Person) -> Result<Acting, LookerError> {
        let looker = self.settings.host();
        if person.unknown {
            return Err(LookerError::UnknownAsker { looker });
        }
        let shared = matches!(self.settings.identity, Identity::SudoOrShared | Identity::OauthOrShared);
        match (shared, &self.settings.fallback) {
            (true, Some(_)) => Ok(Acting::Fallback),
            _ if self.settings.identity.is_oauth() => Err(LookerError::NotLinked { looker }),
            _ => Err(LookerError::NoLookerUser { looker }),
        }
    }

    /// The Looker user with the person's email: enabled, disabled, or none.
    async fn looker_user(&self, person: &Person) -> Result<Found, LookerError> {
        let Some(email) = person.email.as_deref().map(str::to_ascii_lowercase) else {
            return Ok(Found::Nobody);
        };
        if let Some((at, found)) = self.sudo.users.lock().await.get(&email)
            && at.elapsed() < USER_TTL
        {
            return Ok(found.clone());
        }
        let query = [("email", email.as_str()), ("fields", "id,email,is_disabled")];
        let what = "GET /users/search";
        let response = self
            .send_once_relogging(Method::GET, "users/search", &query, None, what, &Acting::Api)
            .await?;
        let users: Vec<FoundUser> = response.json().await.map_err(|e| LookerError::Decode {
            what: what.into(),
            message: e.to_string(),
        })?;
        let mine: Vec<FoundUser> = users
            .into_iter()
            .filter(|u| u.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(&email)))
            .collect();
        let found = match mine.iter().find(|u| !u.is_disabled) {
            Some(user) => Found::Enabled(match &user.id {
                serde_json::Value::String(id) => id.clone(),
                other => other.to_string(),
            }),
            None if !mine.is_empty() => Found::Disabled,
            None => Found::Nobody,
        };
        tracing::debug!(looker = %self.settings.url, ?found, "looked up an asker's Looker user");
        self.sudo
            .users
            .lock()
            .await
            .insert(email, (Instant::now(), found.clone()));
        Ok(found)
    }

    /// A token for this Looker user: kept, or a fresh `POST /login/{user_id}` as the API user.
    pub(super) async fn user_token(&self, user_id: &str, refused: Option<&Secret>) -> Result<Secret, LookerError> {
        let mut tokens = self.sudo.tokens.lock().await;
        if let Some(token) = tokens.get(user_id)
            && token.usable(refused)
        {
            return Ok(token.value.clone());
        }
        let path = format!("login/{}", super::http::segment(user_id));
        let what = "POST /login/{user_id}";
        let response = self
            .send_once_relogging(Method::POST, &path, &[], None, what, &Acting::Api)
            .await?;
        let token: AccessToken = response.json().await.map_err(|e| LookerError::Decode {
            what: what.into(),
            message: e.to_string(),
        })?;
        let fresh = CachedToken::from(token);
        let value = fresh.value.clone();
        tokens.insert(user_id.to_string(), fresh);
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(identity: &str, fallback: bool) -> LookerClient {
        let mut looker = serde_json::json!({"url": "https://looker.example.com", "apiBaseUrl": "https://looker.example.com/api/4.0",
            "clientId": "admin", "clientSecret": "s", "identity": identity});
        if fallback {
            looker["fallbackClientId"] = "viewer".into();
            looker["fallbackClientSecret"] = "v".into();
        }
        let settings = crate::config::examples::lookers(serde_json::json!([looker])).remove(0);
        LookerClient::new(settings, reqwest::Client::new())
    }

    fn person(unknown: bool) -> Person {
        Person {
            slack_user: "U0000CAROL00".into(),
            unknown,
            ..Default::default()
        }
    }

    #[test]
    fn the_fallback_is_its_own_user_and_only_for_someone_slack_vouched_for() {
        let shared = client("sudo_or_shared", true);
        assert!(matches!(shared.fallback_for(&person(false)), Ok(Acting::Fallback)));
        assert!(matches!(
            shared.fallback_for(&person(true)),
            Err(LookerError::UnknownAsker { .. })
        ));
        for (identity, fallback) in [("sudo_or_shared", false), ("sudo", true)] {
            assert!(
                matches!(
                    client(identity, fallback).fallback_for(&person(false)),
                    Err(LookerError::NoLookerUser { .. })
                ),
                "{identity} {fallback}"
            );
        }
    }
}
