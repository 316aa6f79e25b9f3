//! The channels and people the Action Hub's form offers. By default only the channels the bot is
//! in (`users.conversations`: the ones it can post in, and a short list even on a workspace with
//! tens of thousands of channels); with `LOOKERBOT_HUB_ALL_CHANNELS` every public channel too.
//! Lists follow Slack's cursors and are kept for a while: a stale list is answered at once and
//! refreshed behind it, so Looker's form never waits on Slack's paging twice.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use slack_morphism::prelude::*;
use tokio::sync::Mutex;

use crate::clients::slack::{SlackApi, SlackError};
use crate::features::commands::access::SLACKBOT;

/// A list is fresh for this long; after that it is answered and refreshed.
const FRESH: Duration = Duration::from_secs(120);

/// One option of a select: Slack's id and what Looker shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub id: String,
    pub label: String,
}

type Cached = Mutex<Option<(Instant, Arc<Vec<Choice>>)>>;

#[derive(Default)]
pub struct Destinations {
    channels: Arc<Cached>,
    people: Arc<Cached>,
    refreshing: Arc<std::sync::Mutex<Vec<&'static str>>>,
}

fn sorted(mut choices: Vec<Choice>) -> Vec<Choice> {
    choices.sort_by(|a, b| {
        a.label
            .to_lowercase()
            .cmp(&b.label.to_lowercase())
            .then(a.label.cmp(&b.label))
    });
    choices
}

async fn channel_choices(slack: &SlackApi, every_public: bool) -> Result<Vec<Choice>, SlackError> {
    let types = vec![SlackConversationType::Public, SlackConversationType::Private];
    let mut channels = slack.bot_conversations(types).await?;
    if every_public {
        channels.extend(slack.list_conversations(vec![SlackConversationType::Public]).await?);
    }
    let mut seen = std::collections::HashSet::new();
    Ok(sorted(
        channels
            .into_iter()
            .filter(|c| !c.flags.is_archived.unwrap_or(false) && !c.flags.is_im.unwrap_or(false))
            .filter_map(|c| {
                let name = c.name?;
                seen.insert(c.id.to_string()).then(|| Choice {
                    id: c.id.to_string(),
                    label: format!("#{name}"),
                })
            })
            .collect(),
    ))
}

async fn people_choices(slack: &SlackApi) -> Result<Vec<Choice>, SlackError> {
    let me = slack.identity().await.ok().map(|i| i.user_id.clone());
    Ok(sorted(
        slack
            .list_users()
            .await?
            .into_iter()
            .filter(|u| {
                let f = &u.flags;
                !u.deleted.unwrap_or(false)
                    && !f.is_bot.unwrap_or(false)
                    && !f.is_app_user.unwrap_or(false)
                    && !f.is_restricted.unwrap_or(false)
                    && !f.is_ultra_restricted.unwrap_or(false)
                    && u.id.0 != SLACKBOT
                    && Some(&u.id.0) != me.as_ref()
            })
            .filter_map(|u| {
                Some(Choice {
                    label: format!("@{}", u.name?),
                    id: u.id.to_string(),
                })
            })
            .collect(),
    ))
}

impl Destinations {
    /// Channels to offer, sorted by name.
    pub async fn channels(&self, slack: &Arc<SlackApi>, every_public: bool) -> Result<Arc<Vec<Choice>>, SlackError> {
        let slack = slack.clone();
        self.cached("channels", &self.channels, move || async move {
            channel_choices(&slack, every_public).await
        })
        .await
    }

    /// People to offer (no guests, bots, or the bot itself), sorted by name.
    pub async fn people(&self, slack: &Arc<SlackApi>) -> Result<Arc<Vec<Choice>>, SlackError> {
        let slack = slack.clone();
        self.cached(
            "people",
            &self.people,
            move || async move { people_choices(&slack).await },
        )
        .await
    }

    async fn cached<F, Fut>(
        &self,
        name: &'static str,
        cache: &Arc<Cached>,
        fetch: F,
    ) -> Result<Arc<Vec<Choice>>, SlackError>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<Choice>, SlackError>> + Send,
    {
        let mut held = cache.lock().await;
        match held.as_ref() {
            Some((at, list)) if at.elapsed() < FRESH => Ok(list.clone()),
            Some((_, list)) => {
                let list = list.clone();
                drop(held);
                self.refresh_behind(name, cache.clone(), fetch);
                Ok(list)
            }
            None => {
                let list = Arc::new(fetch().await?);
                *held = Some((Instant::now(), list.clone()));
                Ok(list)
            }
        }
    }

    /// Refreshes a stale list in the background, once at a time.
    fn refresh_behind<F, Fut>(&self, name: &'static str, cache: Arc<Cached>, fetch: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<Choice>, SlackError>> + Send,
    {
        {
            let mut refreshing = self.refreshing.lock().unwrap_or_else(|p| p.into_inner());
            if refreshing.contains(&name) {
                return;
            }
            refreshing.push(name);
        }
        let refreshing = self.refreshing.clone();
        tokio::spawn(async move {
            match fetch().await {
                Ok(list) => *cache.lock().await = Some((Instant::now(), Arc::new(list))),
                Err(error) => tracing::warn!(%error, list = name, "could not refresh the Action Hub's list"),
            }
            refreshing
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|n| *n != name);
        });
    }
}
