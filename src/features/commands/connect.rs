//! `connect` and `disconnect`: a person's own Looker account, on Lookers that answer everyone
//! with theirs (`LOOKERBOT_IDENTITY=oauth`). Both answers are for the asker alone.

use super::reply::Conversation;
use crate::features::errors::Error;
use crate::features::identity::connect::{connect_link, disconnect as forget};

/// The person's own connect link for each Looker they have not connected yet.
pub async fn connect(conversation: &mut Conversation<'_>, team: &str) -> Result<(), Error> {
    let ctx = conversation.ctx;
    let user = conversation.asker.0.clone();
    let mut lines = Vec::new();
    for (_, looker) in ctx.lookers.all().filter(|(_, l)| l.settings().identity.is_oauth()) {
        let host = looker.settings().host();
        let linked = ctx.queue.store().people().link(&host, team, &user).await?;
        lines.push(match (linked, connect_link(ctx, looker, team, &user)) {
            (Some(_), _) => format!("You're connected at {host}. `/looker disconnect` forgets your account."),
            (None, Some(link)) => format!(
                "<{link}|Connect your Looker account at {host}> (this link is yours alone and works for 15 minutes)."
            ),
            (None, None) => {
                format!("I can't connect accounts at {host} yet: ask the bot's admin to finish setting it up.")
            }
        });
    }
    if lines.is_empty() {
        lines.push("There's nothing to connect: I answer with the bot's own Looker account here.".into());
    }
    conversation.say(&lines.join("\n")).await
}

/// Forgets the person's connected accounts and ends their sessions at Looker.
pub async fn disconnect(conversation: &mut Conversation<'_>, team: &str) -> Result<(), Error> {
    let ctx = conversation.ctx;
    let user = conversation.asker.0.clone();
    let hosts = forget(ctx, Some(team), &user).await?;
    let sentence = if hosts.is_empty() {
        "You have no Looker account connected.".to_string()
    } else {
        format!(
            "I've forgotten your Looker account at {}. Connect it again with `/looker connect`.",
            hosts.join(", ")
        )
    };
    conversation.say(&sentence).await
}
