//! "Share to channel": an answer shown to its asker alone (the channel's audience is `private`)
//! carries a button; a click asks the question again, as the person who clicked and with their
//! Looker permissions as they are now, and posts the answer in the channel, unless the channel
//! has since become one that takes only links. The button carries the question itself (Slack
//! signs every click, and the question is checked again anyway), so nothing is kept for it.
//! One answer is shared once: clicks on the same message after the first are taken as that one.

use serde::{Deserialize, Serialize};
use slack_morphism::prelude::*;

use super::grammar::Command;
use super::{CommandRequest, ReplyTo};
use crate::config::Audience;
use crate::features::Context;
use crate::features::audience::Placement;
use crate::features::errors::Error;
use crate::queue::Push;
use crate::sealing::SealedText;

/// The share button's `action_id`.
pub const SHARE_ACTION_ID: &str = "lookerbot_share";

/// Slack's limit on a button's value.
const MAX_VALUE: usize = 2000;

/// What the button carries: the question, and where its answer goes.
#[derive(Debug, Serialize, Deserialize)]
struct Question {
    invoked_as: String,
    command: Command,
    #[serde(default)]
    thread_ts: Option<String>,
    #[serde(default)]
    text: String,
}

/// Where `request`'s answer goes, and the share button for an answer shown to the asker alone.
/// Only where Slack said who reads and the channel takes data is an answer shareable; a
/// question asked again by the button is then answered in the channel.
pub async fn placement(ctx: &Context, request: &CommandRequest) -> (Placement, Option<SlackBlock>) {
    let mut placement = crate::features::audience::placement(ctx, &request.channel_id).await;
    let shareable = placement.known && !placement.links_only();
    if request.sharing && shareable {
        placement.audience = Audience::Public;
    }
    let share = (shareable && !placement.in_conversation())
        .then(|| button(request))
        .flatten();
    (placement, share)
}

/// The button for an answer to `request`; `None` when the question is too long for a button.
fn button(request: &CommandRequest) -> Option<SlackBlock> {
    let question = Question {
        invoked_as: request.invoked_as.clone(),
        command: request.command.clone(),
        thread_ts: request.thread_ts.clone(),
        text: request.text.clone(),
    };
    let value = serde_json::to_string(&question).ok().filter(|v| v.len() <= MAX_VALUE)?;
    let button = SlackBlockButtonElement::new(SlackBlockPlainTextOnly::from("Share to channel"))
        .with_action_id(SHARE_ACTION_ID.into())
        .with_value(value)
        .with_style(SlackBlockButtonStyle::Primary);
    Some(SlackBlock::Actions(SlackActionsBlock::new(vec![
        SlackActionBlockElement::Button(button),
    ])))
}

/// A click on the share button.
#[derive(Debug, Clone)]
pub struct ShareClick {
    pub team: String,
    pub user: String,
    pub channel: String,
    pub value: String,
    pub response_url: Option<String>,
    pub trigger_id: Option<String>,
    /// The answer the button is on: it is shared once, however often it is clicked.
    pub message_ts: Option<String>,
}

/// Takes a click: the question is asked again by a job, as the person who clicked. A value that
/// is not one of our questions is ignored (`Ok(false)`); an error means it was not recorded.
pub async fn clicked(ctx: &Context, click: ShareClick) -> Result<bool, Error> {
    let (Ok(question), Some(url)) = (serde_json::from_str::<Question>(&click.value), click.response_url) else {
        return Ok(false);
    };
    let once = match (&click.message_ts, &click.trigger_id) {
        (Some(ts), _) => Push::once(format!("share:{}:{}:{}:{ts}", click.team, click.channel, click.user)),
        (None, Some(trigger)) => Push::once(format!("share-click:{trigger}")),
        (None, None) => Push::default(),
    };
    let request = CommandRequest {
        invoked_as: question.invoked_as,
        team_id: click.team,
        user_id: click.user,
        channel_id: click.channel,
        thread_ts: question.thread_ts,
        reply: ReplyTo::ResponseUrl {
            url: SealedText::seal(&ctx.sealer, &url),
        },
        command: question.command,
        text: question.text,
        sharing: true,
    };
    ctx.queue.push(&request, once).await?;
    Ok(true)
}
