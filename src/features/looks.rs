//! Running a Look (or the query behind a share link) and rendering its result: the one path that
//! commands, link previews and scheduled deliveries share.

use super::Context;
use super::errors::{About, Error, UserError};
use super::posting::render_result;
use crate::clients::looker::LookerClient;
use crate::domain::looker::models::{LookerId, Query};
use crate::queue::JobError;
use crate::render::{Heading, Rendered, Source};

/// Which Look to run, and what a schedule says about it.
#[derive(Debug, Clone, Copy, Default)]
pub struct LookRun<'a> {
    pub look_id: Option<&'a LookerId>,
    /// A schedule's query: it differs from the Look's when the schedule is filtered.
    pub plan_query_id: Option<&'a LookerId>,
    pub plan_query: Option<&'a Query>,
    /// A schedule's address (it carries the filters of a filtered schedule).
    pub plan_url: Option<&'a str>,
    /// The title to show instead of the Look's (a schedule's title).
    pub title: Option<&'a str>,
}

impl<'a> LookRun<'a> {
    /// A Look as it is saved.
    pub fn look(id: &'a LookerId) -> Self {
        LookRun {
            look_id: Some(id),
            ..Default::default()
        }
    }
}

/// Runs the Look (or the schedule's query of it) and renders the result, linked to Looker.
pub async fn render_look(ctx: &Context, looker: &LookerClient, run: LookRun<'_>) -> Result<Rendered, Error> {
    let what = run.look_id.map(|id| format!("Look {id}"));
    let look = match run.look_id {
        Some(id) => Some(looker.look(id).await.about(what.clone().unwrap_or_default())?),
        None => None,
    };
    let look_query_id = look.as_ref().and_then(|l| l.query_id.clone());
    let Some(query_id) = run.plan_query_id.cloned().or_else(|| look_query_id.clone()) else {
        return Err(match what {
            Some(what) => UserError::NoQuery { what }.into(),
            None => JobError::permanent("the schedule names neither a Look nor a query").into(),
        });
    };
    // A filtered schedule runs its own query; link it to the schedule's URL, which carries the filters.
    let filtered = look.is_some() && look_query_id.as_ref() != Some(&query_id);
    let about = what.clone().unwrap_or_else(|| "the scheduled query".into());

    let query = if !filtered && let Some(query) = look.as_ref().and_then(|l| l.query.clone()) {
        query
    } else if let Some(query) = run
        .plan_query
        .filter(|q| q.id.as_ref().is_none_or(|id| id == &query_id))
    {
        query.clone()
    } else {
        looker.query(&query_id).await.about(&about)?
    };
    let result = looker.run_query_detail(&query_id).await.about(&about)?;

    let look_link = look
        .as_ref()
        .and_then(|l| l.short_url.as_deref())
        .map(|short| format!("{}{}", looker.web_base(), short));
    let plan_link = run.plan_url.map(str::to_string);
    let link = if filtered {
        plan_link.or(look_link)
    } else {
        look_link.or(plan_link)
    };
    let title = run
        .title
        .map(str::to_string)
        .or_else(|| look.as_ref().and_then(|l| l.title.clone()))
        .or(what)
        .unwrap_or_else(|| "Looker result".into());
    // Looker draws a filtered schedule from its own query, an unfiltered one from the Look.
    let source = Source {
        look_id: if filtered {
            None
        } else {
            look.as_ref().map(|l| l.id.clone())
        },
        query_id: Some(query_id),
        dashboard_element_id: None,
    };
    render_result(ctx, looker, &Heading { title, link }, source, &result, Some(&query)).await
}

/// Runs the query behind a share (`/x/<slug>`) or explore (`?qid=<slug>`) link, titled by its
/// explore.
pub async fn render_query_link(ctx: &Context, looker: &LookerClient, slug: &str, url: &str) -> Result<Rendered, Error> {
    let what = "that Looker link";
    let query = looker.query_by_slug(slug).await.about(what)?;
    let Some(id) = query.id.clone() else {
        return Err(UserError::NotFound { what: what.into() }.into());
    };
    let result = looker.run_query_detail(&id).await.about(what)?;
    let heading = Heading {
        title: format!("{} › {}", query.model, query.view),
        link: Some(url.to_string()),
    };
    let source = Source {
        query_id: Some(id),
        ..Default::default()
    };
    render_result(ctx, looker, &heading, source, &result, Some(&query)).await
}
