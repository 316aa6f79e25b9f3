//! The audience guard: an answer asked for in a channel is read by everyone in it, not only by
//! the asker whose Looker permissions it was run with. Per channel the operator's setting decides
//! ([`crate::config::AudienceSettings`]): posted in the channel, shown to the asker alone with a
//! button to share it (`commands::share`), or only a link to Looker. A DM with the bot is read by the
//! asker alone. A conversation the bot cannot look up is treated as private: nothing is posted
//! where the bot does not know who reads. A channel may also be tied to a Looker group: data is
//! posted there only from models that group may use.

use crate::clients::looker::LookerClient;
use crate::config::Audience;
use crate::features::Context;
use crate::features::errors::{About, Error};

/// Where an answer asked in one conversation may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub audience: Audience,
    /// A DM with the bot: the conversation is the asker's alone.
    pub dm: bool,
    /// Slack said who reads the conversation (else it is treated as private, and nothing shared).
    pub known: bool,
    /// Slack could not say because it was down (a 5xx, a timeout): an answer waits for it.
    pub slack_down: bool,
}

impl Placement {
    /// A DM: answered where it was asked, read by the asker alone.
    pub const DM: Placement = Placement {
        audience: Audience::Private,
        dm: true,
        known: true,
        slack_down: false,
    };

    /// Whether the answer is posted in the conversation it was asked in.
    pub fn in_conversation(self) -> bool {
        self.dm || self.audience == Audience::Public
    }

    /// Whether only a link to Looker may be given, never data.
    pub fn links_only(self) -> bool {
        !self.dm && self.audience == Audience::Links
    }

    /// How the audit names it.
    pub fn recorded(self) -> &'static str {
        if self.dm { "dm" } else { self.audience.as_str() }
    }
}

/// The placement of answers in `channel`, by the operator's rules and what Slack says of it.
pub async fn placement(ctx: &Context, channel: &str) -> Placement {
    // Asked even for `D…` ids: a DM between two people (a link shared there) is not the bot's.
    match ctx.slack.channel_facts(channel).await {
        Ok(facts) if facts.is_im => Placement::DM,
        Ok(facts) => Placement {
            audience: ctx.audience.of(channel, facts.name.as_deref(), facts.external()),
            dm: false,
            known: true,
            slack_down: false,
        },
        Err(error) => {
            tracing::warn!(%error, channel = %crate::telemetry::printable(channel),
                "could not learn who reads the conversation; answering the asker alone");
            Placement {
                audience: Audience::Private,
                dm: false,
                known: false,
                slack_down: error.is_transient(),
            }
        }
    }
}

/// The Looker group `channel` is tied to, if any (`LOOKERBOT_AUDIENCE_GROUPS`).
pub async fn tie(ctx: &Context, channel: &str) -> Option<String> {
    if !ctx.audience.has_ties() || channel.starts_with('D') {
        return None;
    }
    let name = ctx.slack.channel_facts(channel).await.ok().and_then(|f| f.name);
    ctx.audience.tie_of(channel, name.as_deref()).map(str::to_string)
}

/// Whether data from every one of `models` may be posted where `group` reads.
pub async fn group_may_see<'m>(
    looker: &LookerClient,
    group: &str,
    models: impl IntoIterator<Item = &'m String>,
) -> Result<bool, Error> {
    let mut models = models.into_iter().peekable();
    if models.peek().is_none() {
        return Ok(true);
    }
    let allowed = looker
        .group_models(group)
        .await
        .about(format!("the Looker group {group}"))?;
    Ok(models.all(|m| allowed.allows(m)))
}
