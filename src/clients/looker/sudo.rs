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

#[derive(Default)]
pub(super) struct SudoCache {
    users: Mutex<HashMap<String, (Instant, Option<String>)>>,
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
                Some(id) => Acting::User(id),
                None if identity == Identity::SudoOrShared => Acting::Api,
                None => {
                    return Err(LookerError::NoLookerUser {
                        looker: self.settings.url.host_str().unwrap_or("Looker").to_string(),
                    });
                }
            },
        };
        crate::scope::note_acting(|| match &acting {
            Acting::Api => format!("{}: the API user", self.settings.host()),
            Acting::User(id) | Acting::Linked { user: id, .. } => format!(
                "{}: user {id}{}",
                self.settings.host(),
                person.email.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
            ),
        });
        Ok(acting)
    }

    /// The enabled Looker user with the person's email, if any.
    async fn looker_user(&self, person: &Person) -> Result<Option<String>, LookerError> {
        let Some(email) = person.email.as_deref().map(str::to_ascii_lowercase) else {
            return Ok(None);
        };
        if let Some((at, id)) = self.sudo.users.lock().await.get(&email)
            && at.elapsed() < USER_TTL
        {
            return Ok(id.clone());
        }
        let query = [("email", email.as_str()), ("fields", "id,email,is_disabled")];
        let what = "GET /users/search";
        let response = self
            .send_once_relogging(Method::GET, "users/search", &query, None, what, &Acting::Api)
            .await?;
        let found: Vec<FoundUser> = response.json().await.map_err(|e| LookerError::Decode {
            what: what.into(),
            message: e.to_string(),
        })?;
        let id = found
            .into_iter()
            .find(|u| !u.is_disabled && u.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(&email)))
            .map(|u| match u.id {
                serde_json::Value::String(id) => id,
                other => other.to_string(),
            });
        tracing::debug!(looker = %self.settings.url, found = id.is_some(), "looked up an asker's Looker user");
        self.sudo.users.lock().await.insert(email, (Instant::now(), id.clone()));
        Ok(id)
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
