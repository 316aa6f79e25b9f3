//! Who may use the bot, by Lookerbot's rules: never bots (Slackbot included), guests only where
//! the operator allows them, people from other workspaces only where the operator allows them.
//! Used by every feature a person starts (commands, mentions, DMs, link previews).

use crate::clients::slack::SlackError;
use crate::config::Features;
use crate::features::Context;
use crate::features::errors::UserError;

/// Slack's own system user: `users.info` calls it a person, but it never asks the bot anything.
pub const SLACKBOT: &str = "USLACKBOT";

/// Whether a person may use the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    /// Refused, with the sentence to tell them.
    Refused(UserError),
}

/// Looks the user up (cached) and applies the rules.
pub async fn admit(ctx: &Context, team_id: &str, user_id: &str) -> Result<Admission, SlackError> {
    if user_id == SLACKBOT {
        return Ok(Admission::Refused(UserError::Bot));
    }
    let user = ctx.slack.user_info(user_id).await?;
    let flags = &user.flags;
    let person = Person {
        bot: flags.is_bot.unwrap_or(false) || flags.is_app_user.unwrap_or(false),
        guest: flags.is_restricted.unwrap_or(false) || flags.is_ultra_restricted.unwrap_or(false),
        stranger: flags.is_stranger.unwrap_or(false) || user.team_id.as_ref().is_some_and(|t| t.0 != team_id),
    };
    Ok(person.admission(&ctx.features))
}

/// What the rules look at.
struct Person {
    bot: bool,
    guest: bool,
    stranger: bool,
}

impl Person {
    fn admission(&self, features: &Features) -> Admission {
        if self.bot {
            Admission::Refused(UserError::Bot)
        } else if self.guest && !features.allow_guest_users {
            Admission::Refused(UserError::Guest)
        } else if self.stranger && !features.allow_shared_workspaces {
            Admission::Refused(UserError::Stranger)
        } else {
            Admission::Admitted
        }
    }
}
