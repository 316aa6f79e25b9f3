//! Who may use the bot, by Lookerbot's rules: never bots (Slackbot included), guests only where
//! the operator allows them, people from other workspaces only where the operator allows them.
//! Used by every feature a person starts (commands, mentions, DMs, link previews).

use slack_morphism::prelude::SlackUser;

use crate::clients::slack::SlackError;
use crate::config::Features;
use crate::features::Context;
use crate::features::errors::UserError;

/// Slack's own system user: `users.info` calls it a person, but its messages are never questions.
pub const SLACKBOT: &str = "USLACKBOT";

/// Whether a person may use the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    /// Refused, with the sentence to tell them.
    Refused(UserError),
}

/// Looks the user up (cached) and applies the rules. Whether they are from another organisation
/// is judged against the bot's own workspace (`auth.test`), never the `team_id` a request names.
pub async fn admit(ctx: &Context, user_id: &str) -> Result<Admission, SlackError> {
    let home = ctx.slack.identity().await?.team_id.clone();
    let user = ctx.slack.user_info(user_id).await?;
    Ok(Person::of(&user, &home).admission(&ctx.features))
}

/// The rules applied to what is already known of the user, without asking Slack (for answers
/// given inside an acknowledgement); `None` when the user or the bot's workspace has not been
/// looked up recently.
pub fn admitted_already(ctx: &Context, user_id: &str) -> Option<Admission> {
    let home = ctx.slack.known_identity()?.team_id.clone();
    let user = ctx.slack.cached_user(user_id)?;
    Some(Person::of(&user, &home).admission(&ctx.features))
}

/// Whether Slack says this person belongs to another organisation than the bot's workspace.
pub fn from_elsewhere(user: &SlackUser, home_team: &str) -> bool {
    Person::of(user, home_team).stranger
}

/// What the rules look at.
struct Person {
    bot: bool,
    guest: bool,
    stranger: bool,
}

impl Person {
    fn of(user: &SlackUser, team_id: &str) -> Self {
        let flags = &user.flags;
        Person {
            bot: flags.is_bot.unwrap_or(false) || flags.is_app_user.unwrap_or(false),
            guest: flags.is_restricted.unwrap_or(false) || flags.is_ultra_restricted.unwrap_or(false),
            stranger: flags.is_stranger.unwrap_or(false) || user.team_id.as_ref().is_some_and(|t| t.0 != team_id),
        }
    }

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
