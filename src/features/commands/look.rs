//! `look [host] <id>`, a pasted Look link, and share or explore links: the result, rendered, in
//! the conversation.

use super::reply::Conversation;
use crate::domain::looker::LookerChoice;
use crate::domain::looker::models::LookerId;
use crate::features::errors::{About, Error, UserError};
use crate::features::looks::{LookRun, render_look, render_query_link};

pub async fn look(conversation: &mut Conversation<'_>, looker: &LookerChoice, id: &LookerId) -> Result<(), Error> {
    let ctx = conversation.ctx;
    let (_, looker) = ctx
        .lookers
        .choose(looker)
        .map_err(|unknown| UserError::unknown_looker(&unknown))?;
    if conversation.placement.links_only() {
        // The Look's title, as the asker may see it: no query runs.
        let look = looker.look(id).await.about(format!("Look {id}"))?;
        let title = look.title.unwrap_or_else(|| format!("Look {id}"));
        let url = format!("{}/looks/{id}", looker.web_base());
        return conversation.show_link(&title, &url).await;
    }
    let rendered = render_look(ctx, looker, LookRun::look(id)).await?;
    conversation.show(looker, rendered).await
}

pub async fn query(
    conversation: &mut Conversation<'_>,
    looker: &LookerChoice,
    slug: &str,
    url: &str,
) -> Result<(), Error> {
    let ctx = conversation.ctx;
    let (_, looker) = ctx
        .lookers
        .choose(looker)
        .map_err(|unknown| UserError::unknown_looker(&unknown))?;
    if conversation.placement.links_only() {
        return conversation.show_link("Open this query in Looker", url).await;
    }
    let rendered = render_query_link(ctx, looker, slug, url).await?;
    conversation.show(looker, rendered).await
}
