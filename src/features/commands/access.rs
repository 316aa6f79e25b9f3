//! Who may use the bot, by Lookerbot's rules: never bots (Slackbot included), guests only where
//! the operator allows them, people from other workspaces only where the operator allows them.
//! Used by every feature a person starts (commands, mentions, DMs, link previews).

use slack_morphism::prelude::SlackUser;

use crate::clients::slack::{SlackError, SlackIdentity};
use crate::config::Features;
use crate::features::Context;
use crate::features::errors::UserError;
use crate::queue::JobRun;
use crate::store::now_millis;

/// Slack's own system user: `users.info` calls it a person, but its messages are never questions.
pub const SLACKBOT: &str = "USLACKBOT";

/// Whether a person may use the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    /// Someone from another organisation (Slack Connect) where the operator lets them in: their
    /// workspace, not ours, vouches for them, so they get links to Looker, never data.
    LinksOnly,
    /// Refused, with the sentence to tell them.
    Refused(UserError),
}

/// `admit`, after the person's limit on interactive work (`LOOKERBOT_PER_USER_PER_MINUTE`, a
/// token bucket kept in the store so that replicas share it). Counted on a job's first attempt
/// only: a retry never spends a person's turn twice.
pub async fn admit_within_limit(
    ctx: &Context,
    team: &str,
    user_id: &str,
    run: &JobRun,
) -> Result<Admission, SlackError> {
    if run.attempt() == 1 && !within_limit(ctx, team, user_id).await {
        return Ok(Admission::Refused(UserError::TooFast));
    }
    admit(ctx, user_id).await
}

/// Spends one of the person's turns; `false` when they have none left this minute.
async fn within_limit(ctx: &Context, team: &str, user_id: &str) -> bool {
    let per_minute = ctx.trust.per_user_per_minute;
    if per_minute == 0 {
        return true;
    }
    let now = now_millis();
    let interval = (60_000 / i64::from(per_minute)).max(1);
    let key = format!("person:{team}:{user_id}");
    match ctx
        .queue
        .store()
        .reserve_pace(&key, now, interval, per_minute, now)
        .await
    {
        Ok(reserved) => {
            if reserved.is_none() {
                tracing::info!(user = %user_id, "refused interactive work over LOOKERBOT_PER_USER_PER_MINUTE");
            }
            reserved.is_some()
        }
        // The store is what records the work too: its failure is told where the work is.
        Err(error) => {
            tracing::warn!(%error, "could not count a person's interactive work");
            true
        }
    }
}

/// Looks the user up (cached) and applies the rules. Whether they are from another organisation
/// is judged against the bot's own workspace (`auth.test`), never the `team_id` a request names.
pub async fn admit(ctx: &Context, user_id: &str) -> Result<Admission, SlackError> {
    let home = ctx.slack.identity().await?;
    let user = ctx.slack.user_info(user_id).await?;
    Ok(Person::of(&user, home).admission(&ctx.features))
}

impl Admission {
    /// Why this person may not run a data action or see a preview (they need data): strangers
    /// get links at most.
    pub fn refusal_of_data(self) -> Option<UserError> {
        match self {
            Admission::Admitted => None,
            Admission::LinksOnly => Some(UserError::Stranger),
            Admission::Refused(reason) => Some(reason),
        }
    }
}

/// The rules applied to what is already known of the user, without asking Slack (for answers
/// given inside an acknowledgement); `None` when the user or the bot's workspace has not been
/// looked up recently.
pub fn admitted_already(ctx: &Context, user_id: &str) -> Option<Admission> {
    let home = ctx.slack.known_identity()?;
    let user = ctx.slack.cached_user(user_id)?;
    Some(Person::of(&user, home).admission(&ctx.features))
}

/// Whether Slack says this person belongs to another organisation than the bot's workspace.
pub fn from_elsewhere(user: &SlackUser, home: &SlackIdentity) -> bool {
    Person::of(user, home).stranger
}

/// What the rules look at.
struct Person {
    bot: bool,
    guest: bool,
    stranger: bool,
}

impl Person {
    /// Another workspace of the bot's own Enterprise Grid organisation is not elsewhere; any
    /// other workspace is, whatever the request that named the person said.
    fn of(user: &SlackUser, home: &SlackIdentity) -> Self {
        let flags = &user.flags;
        let same_org = home
            .enterprise_id
            .as_ref()
            .is_some_and(|org| user.enterprise_user.as_ref().is_some_and(|e| e.enterprise_id.0 == *org));
        let other_team = user.team_id.as_ref().is_some_and(|t| t.0 != home.team_id);
        Person {
            bot: flags.is_bot.unwrap_or(false) || flags.is_app_user.unwrap_or(false),
            guest: flags.is_restricted.unwrap_or(false) || flags.is_ultra_restricted.unwrap_or(false),
            stranger: flags.is_stranger.unwrap_or(false) || (other_team && !same_org),
        }
    }

    fn admission(&self, features: &Features) -> Admission {
        if self.bot {
            Admission::Refused(UserError::Bot)
        } else if self.guest && !features.allow_guest_users {
            Admission::Refused(UserError::Guest)
        } else if self.stranger && !features.allow_shared_workspaces {
            Admission::Refused(UserError::Stranger)
        } else if self.stranger {
            Admission::LinksOnly
        } else {
            Admission::Admitted
        }
    }
}
