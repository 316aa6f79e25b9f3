//! Who asks: the person behind a command, a mention, a shared link or a click, with the email
//! Slack verified for them (`users.info`, cached by the Slack client), so that a Looker set to
//! run each person's work as their own Looker user (`LOOKERBOT_IDENTITY=sudo`) can find that
//! user. Nothing is asked of Slack while every Looker answers as the shared API user.

pub mod connect;
pub mod links;
pub mod notice;

use std::future::Future;

use super::Context;
use super::errors::Error;
use crate::config::Identity;
use crate::domain::looker::LookerKey;
use crate::queue::JobError;
use crate::scope::{self, Person};

/// Runs `work` for the Slack user `slack_user`: as their own Looker user wherever a Looker says
/// so. Also returns as whom it ran on Looker (for the audit), when it called Looker.
pub async fn as_asker<F: Future>(ctx: &Context, team: &str, slack_user: &str, work: F) -> (F::Output, Option<String>) {
    let personal = ctx
        .lookers
        .all()
        .any(|(_, looker)| looker.settings().identity != Identity::Shared);
    let acted = scope::Acted::default();
    let mut unknown = false;
    let email = if !personal {
        None
    } else {
        let home = ctx.slack.identity().await.cloned();
        match (ctx.slack.user_info(slack_user).await, home) {
            // Someone from another organisation (Slack Connect) is never matched by email: their
            // workspace, not ours, vouches for it.
            (Ok(user), Ok(home)) if super::commands::access::from_elsewhere(&user, &home) => {
                tracing::info!("a person from another organisation asked; they have no Looker user of their own here");
                None
            }
            (Ok(user), Ok(_)) => user.profile.and_then(|p| p.email).map(|e| e.to_string()),
            (Err(error), _) | (_, Err(error)) => {
                tracing::warn!(%error, "could not read the asker's email; nothing runs as anyone for them");
                unknown = true;
                None
            }
        }
    };
    let person = Person {
        team: team.to_string(),
        slack_user: slack_user.to_string(),
        email,
        looker_user: None,
        unknown,
    };
    let output = scope::for_person(person, acted.clone(), work).await;
    let who = acted.lock().unwrap_or_else(|p| p.into_inner()).take();
    (output, who)
}

/// Runs a schedule's `work` as the Looker user who owns the plan, wherever the Looker answers
/// people as themselves: a schedule never shows more than its owner may see. On an `oauth`
/// Looker the owner must have connected their account; nothing runs as anyone else.
pub async fn as_schedule_owner<F, T>(
    ctx: &Context,
    looker: &LookerKey,
    owner: Option<&str>,
    work: F,
) -> Result<T, Error>
where
    F: Future<Output = Result<T, Error>>,
{
    let Some(client) = ctx.lookers.get(looker) else {
        return work.await;
    };
    if client.settings().identity == Identity::Shared {
        return work.await;
    }
    let Some(owner) = owner else {
        let why = "the schedule names no owner, and this Looker answers as each person: it is not sent as the bot";
        return Err(JobError::permanent(why).into());
    };
    let mut person = Person {
        looker_user: Some(owner.to_string()),
        ..Default::default()
    };
    match client.settings().identity {
        Identity::Shared => return work.await,
        Identity::Sudo | Identity::SudoOrShared => {}
        Identity::Oauth | Identity::OauthOrShared => {
            let host = client.settings().host();
            let links = ctx.queue.store().people().links_of_looker_user(&host, owner).await;
            let link = links
                .map_err(|e| JobError::transient(format!("could not read linked accounts: {e}")))?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    JobError::permanent(format!(
                        "the schedule's owner (Looker user {owner} on {host}) has not connected their Looker account to the bot (`/looker connect`); it is not sent as anyone else"
                    ))
                })?;
            person.team = link.team;
            person.slack_user = link.slack_user;
        }
    }
    let acted = scope::Acted::default();
    scope::for_person(person, acted, work).await
}
