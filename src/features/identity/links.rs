//! People's linked Looker accounts, kept in the store with their tokens sealed: read and opened
//! when the person's work calls Looker, renewed with the refresh token shortly before the access
//! token expires (or when Looker refuses it), and forgotten when Looker no longer takes the
//! refresh token (the person is asked to connect again). Replicas renewing at once settle on one
//! result: a renewal is written only over the tokens it renewed.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clients::looker::{Grant, LinkedAccounts, LinkedToken, LookerClient, LookerError};
use crate::config::Secret;
use crate::scope::Person;
use crate::sealing::Sealer;
use crate::store::people::LinkRecord;
use crate::store::{JobStore, Millis, now_millis};

/// An access token this close to expiring is renewed before use.
const RENEW_BEFORE: Millis = 60_000;

/// What is sealed in a link.
#[derive(Serialize, Deserialize)]
pub struct Tokens {
    pub access: String,
    #[serde(default)]
    pub refresh: Option<String>,
    /// Unix ms; Looker's tokens last an hour.
    pub expires_at: Millis,
}

impl Tokens {
    pub fn from_grant(grant: &Grant, previous_refresh: Option<String>) -> Tokens {
        Tokens {
            access: grant.access_token.expose().to_string(),
            // No refresh token in a renewal: the one before goes on working.
            refresh: grant
                .refresh_token
                .as_ref()
                .map(|t| t.expose().to_string())
                .or(previous_refresh),
            // At most a day, whatever Looker says: an absurd lifetime is not trusted.
            expires_at: now_millis() + grant.expires_in.unwrap_or(3600).min(86_400) as Millis * 1000,
        }
    }
}

/// The owner a link's seal is bound to.
pub fn owner(looker: &str, team: &str, slack_user: &str) -> String {
    format!("{looker}/{team}/{slack_user}")
}

pub struct StoredLinks {
    pub store: Arc<dyn JobStore>,
    pub sealer: Arc<Sealer>,
    /// The callback Looker knows the bot by (sent again with each renewal).
    pub redirect_uri: String,
    /// One renewal at a time per person in this process: a person's lock is one of a fixed
    /// set, chosen by their key, so the set never grows.
    renewing: Vec<tokio::sync::Mutex<()>>,
}

impl StoredLinks {
    pub fn new(store: Arc<dyn JobStore>, sealer: Arc<Sealer>, redirect_uri: String) -> Self {
        Self {
            store,
            sealer,
            redirect_uri,
            renewing: (0..64).map(|_| tokio::sync::Mutex::new(())).collect(),
        }
    }

    /// The link's tokens, opened; `None` when they were sealed with another key.
    pub fn open(&self, link: &LinkRecord) -> Option<Tokens> {
        let owner = owner(&link.looker, &link.team, &link.slack_user);
        let plain = self.sealer.open(&owner, &link.sealed)?;
        serde_json::from_slice(&plain).ok()
    }

    pub fn seal(&self, looker: &str, team: &str, slack_user: &str, tokens: &Tokens) -> String {
        let plain = serde_json::to_vec(tokens).expect("tokens serialise");
        self.sealer.seal(&owner(looker, team, slack_user), &plain)
    }

    /// Forgets a link that no longer works, unless someone renewed or replaced it since it was
    /// read: then theirs is used.
    async fn forget_unless_renewed(
        &self,
        link: &LinkRecord,
        token: impl Fn(&Tokens) -> LinkedToken,
    ) -> Result<Option<LinkedToken>, LookerError> {
        let people = self.store.people();
        if people.drop_link_if(link).await.map_err(store_error)? {
            return Ok(None);
        }
        let now = people
            .link(&link.looker, &link.team, &link.slack_user)
            .await
            .map_err(store_error)?;
        Ok(now.as_ref().and_then(|l| self.open(l)).map(|t| token(&t)))
    }

    fn person_lock(&self, key: &str) -> &tokio::sync::Mutex<()> {
        let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        &self.renewing[(hash % self.renewing.len() as u64) as usize]
    }
}

/// A database failure, as the Looker client hears it: worth trying again.
fn store_error(error: crate::store::StoreError) -> LookerError {
    LookerError::AccountsUnavailable {
        message: error.to_string(),
    }
}

#[async_trait]
impl LinkedAccounts for StoredLinks {
    async fn access(
        &self,
        looker: &LookerClient,
        person: &Person,
        refused: Option<&Secret>,
    ) -> Result<Option<LinkedToken>, LookerError> {
        let host = looker.settings().host();
        let people = self.store.people();
        let key = owner(&host, &person.team, &person.slack_user);
        let _one_at_a_time = self.person_lock(&key).lock().await;
        let Some(link) = people
            .link(&host, &person.team, &person.slack_user)
            .await
            .map_err(store_error)?
        else {
            return Ok(None);
        };
        let Some(tokens) = self.open(&link) else {
            tracing::warn!(looker = %host, "a linked Looker account's tokens open with no key of LOOKERBOT_TOKEN_KEYS (or LOOKERBOT_TOKEN_KEY); the person is asked to connect again");
            return Ok(None);
        };
        let current = |tokens: &Tokens| LinkedToken {
            looker_user: link.looker_user.clone(),
            token: Secret::new(tokens.access.clone()),
        };
        let fresh = tokens.expires_at - now_millis() > RENEW_BEFORE;
        match refused {
            None if fresh => return Ok(Some(current(&tokens))),
            // Renewed by someone else since it was refused.
            Some(refused) if !refused.matches(&tokens.access) => return Ok(Some(current(&tokens))),
            _ => {}
        }
        let Some(refresh) = tokens.refresh.clone() else {
            return self.forget_unless_renewed(&link, current).await;
        };
        match looker
            .refresh_grant(&Secret::new(refresh.clone()), &self.redirect_uri)
            .await
        {
            Ok(grant) => {
                let renewed = Tokens::from_grant(&grant, Some(refresh));
                let mut record = link.clone();
                record.sealed = self.seal(&host, &person.team, &person.slack_user, &renewed);
                record.updated_at = now_millis();
                if people.swap_link(&record, &link.sealed).await.map_err(store_error)? {
                    return Ok(Some(current(&renewed)));
                }
                // Another replica renewed first: theirs is the link now.
                let theirs = people
                    .link(&host, &person.team, &person.slack_user)
                    .await
                    .map_err(store_error)?;
                Ok(theirs.as_ref().and_then(|l| self.open(l)).map(|t| current(&t)))
            }
            Err(error) if error.is_transient() => Err(error),
            Err(error) => {
                tracing::info!(looker = %host, %error, "Looker no longer renews a linked account; forgetting it");
                self.forget_unless_renewed(&link, current).await
            }
        }
    }
}
