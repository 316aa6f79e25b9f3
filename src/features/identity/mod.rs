//! Who asks: the person behind a command, a mention, a shared link or a click, with the email
//! Slack verified for them (`users.info`, cached by the Slack client), so that a Looker set to
//! run each person's work as their own Looker user (`LOOKERBOT_IDENTITY=sudo`) can find that
//! user. Nothing is asked of Slack while every Looker answers as the shared API user.

pub mod connect;
pub mod links;
pub mod seal;

use std::future::Future;

use super::Context;
use crate::config::Identity;
use crate::scope::{self, Person};

/// Runs `work` for the Slack user `slack_user`: as their own Looker user wherever a Looker says
/// so. Also returns as whom it ran on Looker (for the audit), when it called Looker.
pub async fn as_asker<F: Future>(ctx: &Context, team: &str, slack_user: &str, work: F) -> (F::Output, Option<String>) {
    let personal = ctx
        .lookers
        .all()
        .any(|(_, looker)| looker.settings().identity != Identity::Shared);
    let acted = scope::Acted::default();
    let email = if !personal {
        None
    } else {
        match ctx.slack.user_info(slack_user).await {
            Ok(user) => user.profile.and_then(|p| p.email).map(|e| e.to_string()),
            Err(error) => {
                tracing::warn!(%error, "could not read the asker's email; they have no Looker user of their own");
                None
            }
        }
    };
    let person = Person {
        team: team.to_string(),
        slack_user: slack_user.to_string(),
        email,
    };
    let output = scope::for_person(person, acted.clone(), work).await;
    let who = acted.lock().unwrap_or_else(|p| p.into_inner()).take();
    (output, who)
}
