//! The audience guard: an answer asked for in a channel is read by everyone in it, not only by
//! the asker whose Looker permissions it was run with. Per channel the operator's setting decides
//! ([`crate::config::AudienceSettings`]): posted in the channel, shown to the asker alone with a
//! button to share it (`commands::share`), or only a link to Looker. A DM with the bot is read by the
//! asker alone. A conversation the bot cannot look up is treated as private: nothing is posted
//! where the bot does not know who reads.

use crate::config::Audience;
use crate::features::Context;

/// Where an answer asked in one conversation may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub audience: Audience,
    /// A DM with the bot: the conversation is the asker's alone.
    pub dm: bool,
}

impl Placement {
    /// A DM: answered where it was asked, read by the asker alone.
    pub const DM: Placement = Placement {
        audience: Audience::Private,
        dm: true,
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
    if channel.starts_with('D') {
        return Placement::DM;
    }
    match ctx.slack.channel_facts(channel).await {
        Ok(facts) if facts.is_im => Placement::DM,
        Ok(facts) => Placement {
            audience: ctx.audience.of(channel, facts.name.as_deref(), facts.external()),
            dm: false,
        },
        Err(error) => {
            tracing::warn!(%error, channel = %crate::telemetry::printable(channel),
                "could not learn who reads the conversation; answering the asker alone");
            Placement {
                audience: Audience::Private,
                dm: false,
            }
        }
    }
}
