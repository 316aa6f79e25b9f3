//! Looker's OAuth, as Looker's own SDKs speak it: the person is sent to `/auth` on the web host
//! (PKCE with S256, a `state` against forgery), Looker sends them back with a code, and the bot
//! trades it at `/api/token` on the API host (JSON, the verifier, the client id, the redirect
//! address) for an access token and a refresh token. Where the tokens are kept, sealed, is the
//! business of whoever implements [`LinkedAccounts`] (the identity feature); this module only
//! speaks the protocol and runs a person's calls with their token.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use super::LookerClient;
use super::acting::Acting;
use super::error::LookerError;
use crate::config::Secret;
use crate::scope::Person;

/// A linked person's current access token.
#[derive(Debug, Clone)]
pub struct LinkedToken {
    pub looker_user: String,
    pub token: Secret,
}

/// Where people's linked accounts are kept.
#[async_trait]
pub trait LinkedAccounts: Send + Sync {
    /// The person's current access token on `looker`, renewed when it is about to expire or is
    /// `refused` (Looker just answered 401 to it); `None` when they have not linked, or their
    /// link no longer works (it is then forgotten).
    async fn access(
        &self,
        looker: &LookerClient,
        person: &Person,
        refused: Option<&Secret>,
    ) -> Result<Option<LinkedToken>, LookerError>;
}

/// What `/api/token` grants.
#[derive(Debug, Clone, Deserialize)]
pub struct Grant {
    pub access_token: Secret,
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// Seconds.
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// Who a token belongs to (`GET /user`).
#[derive(Debug, Clone, Deserialize)]
pub struct TokenOwner {
    pub id: Value,
    #[serde(default)]
    pub email: Option<String>,
}

impl TokenOwner {
    pub fn id_text(&self) -> String {
        match &self.id {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

impl LookerClient {
    /// Sets where people's linked accounts are kept (once, at start-up).
    pub fn keep_links_in(&self, links: Arc<dyn LinkedAccounts>) {
        let _ = self.links.set(links);
    }

    /// The bot's OAuth client id in this Looker, when it is registered there.
    pub fn oauth_client_id(&self) -> Option<&str> {
        self.settings.oauth_client_id.as_deref()
    }

    /// The address a person authorises the bot at (Looker's web host, `/auth`).
    pub fn authorize_url(&self, redirect_uri: &str, state: &str, challenge: &str) -> Url {
        let mut url = self.settings.url.clone();
        url.set_path("/auth");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", self.oauth_client_id().unwrap_or_default())
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "cors_api")
            .append_pair("state", state)
            .append_pair("code_challenge_method", "S256")
            .append_pair("code_challenge", challenge);
        url
    }

    /// `POST /api/token` on the API host (beside `/api/4.0`).
    async fn grant(&self, body: Value) -> Result<Grant, LookerError> {
        let mut url = self.settings.api_base_url.clone();
        let base = url.path().trim_end_matches('/').trim_end_matches("/4.0").to_string();
        url.set_path(&format!("{base}/token"));
        let what = "POST /api/token";
        let response = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .map_err(|source| LookerError::Network {
                what: what.into(),
                source,
            })?;
        let status = response.status();
        if !status.is_success() {
            // Looker answers `{message}`; OAuth servers `{error, error_description}`.
            let text = response.text().await.unwrap_or_default();
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| {
                    ["error_description", "message", "error"]
                        .iter()
                        .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_string))
                })
                .unwrap_or_else(|| crate::telemetry::printable(&text.chars().take(200).collect::<String>()));
            return Err(LookerError::Api {
                status: status.as_u16(),
                what: what.into(),
                message,
                as_person: true,
            });
        }
        response.json().await.map_err(|e| LookerError::Decode {
            what: what.into(),
            message: e.to_string(),
        })
    }

    /// Trades the code Looker sent back for tokens.
    pub async fn exchange_code(&self, code: &str, verifier: &str, redirect_uri: &str) -> Result<Grant, LookerError> {
        self.grant(
            json!({"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
            "client_id": self.oauth_client_id(), "redirect_uri": redirect_uri}),
        )
        .await
    }

    /// A fresh access token for a refresh token.
    pub async fn refresh_grant(&self, refresh_token: &Secret, redirect_uri: &str) -> Result<Grant, LookerError> {
        self.grant(
            json!({"grant_type": "refresh_token", "refresh_token": refresh_token.expose(),
            "client_id": self.oauth_client_id(), "redirect_uri": redirect_uri}),
        )
        .await
    }

    /// The Looker user a token belongs to.
    pub async fn token_owner(&self, token: &Secret) -> Result<TokenOwner, LookerError> {
        let acting = Acting::Linked {
            user: String::new(),
            token: token.clone(),
        };
        let response = self
            .send_once_relogging(
                Method::GET,
                "user",
                &[("fields", "id,email")],
                None,
                "GET /user",
                &acting,
            )
            .await?;
        response.json().await.map_err(|e| LookerError::Decode {
            what: "GET /user".into(),
            message: e.to_string(),
        })
    }

    /// Ends a token's session at Looker (`DELETE /logout`), which revokes it and its refresh token.
    pub async fn logout(&self, token: &Secret) -> Result<(), LookerError> {
        let acting = Acting::Linked {
            user: String::new(),
            token: token.clone(),
        };
        self.send_once_relogging(Method::DELETE, "logout", &[], None, "DELETE /logout", &acting)
            .await
            .map(|_| ())
    }

    /// As whom a person's work runs on a Looker set to `oauth`: their linked account.
    pub(super) async fn linked(&self, person: &Person) -> Result<Acting, LookerError> {
        let linked = match self.links.get() {
            Some(links) => links.access(self, person, None).await?,
            None => None,
        };
        // A schedule's owner runs only as their own account, never as another link or the API user.
        if let Some(owner) = &person.looker_user {
            return match linked {
                Some(linked) if &linked.looker_user == owner => Ok(Acting::Linked {
                    user: linked.looker_user,
                    token: linked.token,
                }),
                _ => Err(LookerError::NotLinked {
                    looker: self.settings.host(),
                }),
            };
        }
        match linked {
            Some(linked) => Ok(Acting::Linked {
                user: linked.looker_user,
                token: linked.token,
            }),
            None => self.fallback_for(person),
        }
    }

    /// The token after Looker refused `refused`: renewed, or the link is gone.
    pub(super) async fn linked_again(&self, refused: &Secret) -> Result<Secret, LookerError> {
        let renewed = match (self.links.get(), crate::scope::person()) {
            (Some(links), Some(person)) => links.access(self, &person, Some(refused)).await?,
            _ => None,
        };
        renewed.map(|l| l.token).ok_or_else(|| LookerError::NotLinked {
            looker: self.settings.host(),
        })
    }
}
