//! The `/looker` command: its grammar, the answers given at once (help, unknown commands), and
//! the job that runs the rest after the acknowledgement: who may ask (guests, other workspaces
//! and bots per Lookerbot's rules), then the Look or dashboard, posted in the channel asked from.
//! Failures reach the asker as one ephemeral sentence through the command's `response_url`.

use serde::{Deserialize, Serialize};
use slack_morphism::prelude::*;

use super::custom_commands::CustomCommand;
use super::dashboards::{DashboardRequest, post_dashboard};
use super::deliveries::dashboard_request;
use super::search::{FindRequest, find, looker_host, parse_find};
use crate::clients::looker::models::LookerId;
use crate::clients::looker::{LookerClient, LookerError};
use crate::clients::slack::{OutgoingMessage, SlackErrorCode};
use crate::jobs::{JobContext, JobError};
use crate::present::{post_rendered, render_result};
use crate::render::mrkdwn::{escape, link};
use crate::render::{Heading, Rendered, Source, section};

/// What was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    Help,
    Find {
        request: FindRequest,
    },
    Look {
        id: String,
        url: Option<String>,
        /// The Looker asked for by host (`look looker.example.com 7`) when there is no link.
        #[serde(default)]
        host: Option<String>,
    },
    /// A share (`/x/<slug>`) or explore (`?qid=<slug>`) link.
    Query {
        slug: String,
        url: String,
    },
    Dashboard {
        request: DashboardRequest,
    },
    Unknown {
        text: String,
    },
}

/// Splits `a=b "c d"=e f="g h"` into words, keeping quoted runs (and Looker expressions) whole.
pub fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.trim().chars() {
        match c {
            '"' | '“' | '”' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Parses the text after `/looker` (or after a mention).
pub fn parse(text: &str) -> Command {
    let text = text.trim().trim_start_matches('<').trim_end_matches('>');
    let words = words(text);
    let first = words.first().map(|w| w.to_ascii_lowercase());
    match first.as_deref() {
        None | Some("help") => Command::Help,
        Some("find" | "search") => match parse_find(&words[1..]) {
            Some(request) => Command::Find { request },
            None => Command::Unknown { text: text.to_string() },
        },
        Some("look") => {
            let host = words.get(1).and_then(|w| looker_host(w));
            let rest = &words[1 + usize::from(host.is_some())..];
            match rest {
                [id] if id.chars().all(|c| c.is_ascii_digit()) => Command::Look {
                    id: id.clone(),
                    url: None,
                    host,
                },
                _ => Command::Unknown { text: text.to_string() },
            }
        }
        Some("dashboard") if words.len() >= 2 => {
            let host = words.get(1).filter(|_| words.len() >= 3).and_then(|w| looker_host(w));
            let rest = &words[1 + usize::from(host.is_some())..];
            Command::Dashboard {
                request: DashboardRequest {
                    id: rest[0].clone(),
                    filters: rest[1..]
                        .iter()
                        .filter_map(|w| {
                            w.split_once('=')
                                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                        })
                        .collect(),
                    title: None,
                    link: None,
                    host,
                },
            }
        }
        Some(word) if word.starts_with("http://") || word.starts_with("https://") => {
            let url = words[0].split('|').next().unwrap_or(&words[0]).to_string();
            if let Some(id) = url
                .split("/looks/")
                .nth(1)
                .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect::<String>())
                .filter(|id| !id.is_empty())
            {
                Command::Look {
                    id,
                    url: Some(url),
                    host: None,
                }
            } else if let Some(request) = dashboard_request(&url, None) {
                Command::Dashboard { request }
            } else if let Some(slug) = query_slug(&url) {
                Command::Query { slug, url }
            } else {
                Command::Unknown { text: text.to_string() }
            }
        }
        _ => Command::Unknown { text: text.to_string() },
    }
}

/// The query slug of a share link (`/x/<slug>`) or an explore link (`?qid=<slug>`).
fn query_slug(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if let Some(slug) = parsed.path().strip_prefix("/x/").map(|s| s.trim_end_matches('/')) {
        return Some(slug.to_string()).filter(|s| !s.is_empty() && !s.contains('/'));
    }
    if parsed.path().starts_with("/explore/") {
        return parsed
            .query_pairs()
            .find(|(k, _)| k == "qid")
            .map(|(_, v)| v.into_owned())
            .filter(|s| !s.is_empty());
    }
    None
}

/// Runs the query behind a share or explore link and renders it, titled by its explore.
pub async fn render_query_link(
    ctx: &JobContext,
    looker: &LookerClient,
    slug: &str,
    url: &str,
) -> Result<Rendered, CommandFailure> {
    let what = "that Looker link".to_string();
    let query = looker
        .query_by_slug(slug)
        .await
        .map_err(|e| CommandFailure::Looker(e, what.clone()))?;
    let id = query
        .id
        .clone()
        .ok_or_else(|| CommandFailure::Said("Looker returned a query without an id.".into()))?;
    let result = looker
        .run_query_detail(&id)
        .await
        .map_err(|e| CommandFailure::Looker(e, what))?;
    let heading = Heading {
        title: format!("{} › {}", query.model, query.view),
        link: Some(url.to_string()),
    };
    let source = Source {
        query_id: Some(id),
        ..Default::default()
    };
    Ok(render_result(ctx, looker, &heading, source, &result, Some(&query)))
}

/// The answer to `help`: the built-in commands, then the custom commands by category (hidden
/// ones left out), each linked to its dashboard with its filters and description.
pub fn help(command: &str, custom: &[CustomCommand]) -> OutgoingMessage {
    let text = format!(
        "*What I can do*\n\
         • `{command} find [look|dashboard] <words>`: the five Looks and dashboards whose titles match best\n\
         • `{command} look <id>`: run a Look and show its result here\n\
         • `{command} dashboard <id> [filter=value ...]`: show every tile of a dashboard, with filters by name or title (quote values with spaces)\n\
         • With several Lookers, put the Looker's host first: `{command} look looker.example.com <id>`\n\
         • `{command} <Looker link>`: show the Look or dashboard behind a link\n\
         • `{command} help`: this list"
    );
    let mut blocks = vec![section(&text)];
    let mut categories: Vec<Option<String>> = Vec::new();
    for c in custom.iter().filter(|c| !c.hidden) {
        if !categories.contains(&c.category) {
            categories.push(c.category.clone());
        }
    }
    categories.sort_by_key(|c| c.clone().unwrap_or_default());
    for category in categories.into_iter().take(40) {
        let lines: Vec<String> = custom
            .iter()
            .filter(|c| !c.hidden && c.category == category)
            .map(|c| {
                let mut line = format!("• {} `{command} {}`", link(&c.link, &c.title), escape(&c.name));
                if let Some(hint) = c.filter_hint() {
                    line.push_str(&format!(" [{}]", escape(&hint)));
                }
                if let Some(description) = &c.description {
                    line.push_str(&format!(": {}", escape(description)));
                }
                line
            })
            .collect();
        let heading = category
            .as_deref()
            .map(escape)
            .unwrap_or_else(|| "Custom commands".into());
        blocks.push(section(&format!("*{heading}*\n{}", lines.join("\n"))));
    }
    OutgoingMessage {
        text: "What lookerbot can do".into(),
        blocks,
    }
}

/// The answer to a command the bot does not know, given at once.
pub fn unknown(command: &str, text: &str) -> OutgoingMessage {
    let sentence = format!("I don't know how to “{text}”. Type `{command} help` to see what I can do.");
    OutgoingMessage {
        text: sentence.clone(),
        blocks: vec![section(&crate::render::mrkdwn::escape(&sentence))],
    }
}

/// How sentences meant only for the asker reach them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum ReplyTo {
    /// A slash command's `response_url`.
    ResponseUrl { url: String },
    /// An ephemeral message in the conversation (mentions and DMs).
    Ephemeral,
}

/// A command to run after the acknowledgement (the job payload).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommandRequest {
    /// `/looker` (or whatever the slash command is called), or `@lookerbot`.
    #[serde(default = "default_invocation")]
    pub invoked_as: String,
    pub team_id: String,
    pub user_id: String,
    pub channel_id: String,
    /// Answers to a mention go in its thread.
    pub thread_ts: Option<String>,
    pub reply: ReplyTo,
    pub command: Command,
}

fn default_invocation() -> String {
    "/looker".into()
}

impl CommandRequest {
    fn is_conversation(&self) -> bool {
        matches!(self.reply, ReplyTo::Ephemeral)
    }
}

/// A sentence only the asker sees.
async fn say(ctx: &JobContext, request: &CommandRequest, sentence: &str) -> Result<(), JobError> {
    match &request.reply {
        ReplyTo::ResponseUrl { url } => ctx.slack.respond(url, sentence).await?,
        ReplyTo::Ephemeral => {
            let channel = SlackChannelId(request.channel_id.clone());
            ctx.slack
                .post_ephemeral(&channel, &SlackUserId(request.user_id.clone()), sentence)
                .await?
        }
    }
    Ok(())
}

/// Whether this user may use the bot, by Lookerbot's rules; `Err` holds the sentence to show.
pub async fn admit(ctx: &JobContext, team_id: &str, user_id: &str) -> Result<Result<(), String>, JobError> {
    let user = ctx.slack.user_info(user_id).await?;
    let flags = &user.flags;
    if flags.is_bot.unwrap_or(false) || flags.is_app_user.unwrap_or(false) {
        return Ok(Err("Bots can't use lookerbot.".into()));
    }
    let guest = flags.is_restricted.unwrap_or(false) || flags.is_ultra_restricted.unwrap_or(false);
    if guest && !ctx.features.allow_guest_users {
        return Ok(Err(
            "Guest accounts can't use lookerbot in this workspace. Ask a workspace admin if you need access.".into(),
        ));
    }
    let stranger = flags.is_stranger.unwrap_or(false) || user.team_id.as_ref().is_some_and(|t| t.0 != team_id);
    if stranger && !ctx.features.allow_shared_workspaces {
        return Ok(Err("lookerbot only answers people from its own workspace here. Ask an admin of this workspace if you need access.".into()));
    }
    Ok(Ok(()))
}

/// What the asker reads when Looker refuses.
fn looker_sentence(error: &LookerError, what: &str) -> String {
    match error.status() {
        Some(404) => format!("I couldn't find {what} in Looker, or the bot's Looker user can't see it."),
        Some(403) => format!("The bot's Looker user isn't allowed to see {what}. Ask a Looker admin to share it."),
        _ if error.is_transient() => "Looker isn't answering right now. Please try again in a few minutes.".into(),
        _ => format!("Looker couldn't show {what}: {error}"),
    }
}

fn slack_sentence(code: &SlackErrorCode) -> Option<String> {
    match code {
        SlackErrorCode::NotInChannel | SlackErrorCode::ChannelNotFound => {
            Some("I can't post in this conversation. Invite me with `/invite @lookerbot` and ask again.".into())
        }
        _ => None,
    }
}

/// Where the answer goes: the channel, a thread, and the "working on it" line it replaces.
struct Answer<'a> {
    channel: &'a SlackChannelId,
    thread: Option<&'a SlackTs>,
    loading: Option<&'a SlackTs>,
}

/// Runs a Look and renders it.
pub async fn render_look(ctx: &JobContext, looker: &LookerClient, id: &str) -> Result<Rendered, CommandFailure> {
    let what = format!("Look {id}");
    let look = looker
        .look(&LookerId(id.to_string()))
        .await
        .map_err(|e| CommandFailure::Looker(e, what.clone()))?;
    let query_id = look
        .query_id
        .clone()
        .ok_or_else(|| CommandFailure::Said(format!("{what} has no query to run.")))?;
    let result = looker
        .run_query_detail(&query_id)
        .await
        .map_err(|e| CommandFailure::Looker(e, what.clone()))?;
    let heading = Heading {
        title: look.title.clone().unwrap_or(what.clone()),
        link: look.short_url.as_deref().map(|s| format!("{}{s}", looker.web_base())),
    };
    let source = Source {
        look_id: Some(look.id.clone()),
        query_id: Some(query_id),
        dashboard_element_id: None,
    };
    Ok(render_result(
        ctx,
        looker,
        &heading,
        source,
        &result,
        look.query.as_ref(),
    ))
}

/// Shows a Look; `true` when the answer took the place of the "working on it" line.
async fn run_look(
    ctx: &JobContext,
    looker: &LookerClient,
    answer: &Answer<'_>,
    id: &str,
) -> Result<bool, CommandFailure> {
    let rendered = render_look(ctx, looker, id).await?;
    show(ctx, looker, answer, rendered).await
}

/// Posts a rendered answer; `true` when it took the place of the "working on it" line.
async fn show(
    ctx: &JobContext,
    looker: &LookerClient,
    answer: &Answer<'_>,
    rendered: Rendered,
) -> Result<bool, CommandFailure> {
    // A plain answer replaces the "working on it" line; one with a file is posted after it.
    if let Some(loading) = answer.loading
        && rendered.image.is_none()
        && rendered.csv.is_none()
    {
        ctx.slack
            .update_message(answer.channel, loading, &rendered.message)
            .await
            .map_err(|e| CommandFailure::Job(e.into()))?;
        return Ok(true);
    }
    post_rendered(ctx, looker, answer.channel, answer.thread, rendered)
        .await
        .map_err(CommandFailure::Job)?;
    Ok(false)
}

/// Why a command produced no answer in the channel.
pub enum CommandFailure {
    Looker(LookerError, String),
    Said(String),
    Job(JobError),
}

/// The hosts of the connected Lookers, for a sentence: `a.example.com and b.example.com`.
fn connected_hosts(ctx: &JobContext) -> String {
    let hosts: Vec<String> = ctx.lookers.all().iter().map(|l| l.settings().host()).collect();
    match hosts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => "no Looker".into(),
    }
}

/// Runs a command after its acknowledgement: checks who asks, answers in the conversation, and
/// turns every failure into one sentence for the asker (interactive answers are not retried).
pub async fn run(ctx: &JobContext, request: CommandRequest) -> Result<(), JobError> {
    if let Err(sentence) = admit(ctx, &request.team_id, &request.user_id).await? {
        return say(ctx, &request, &sentence).await;
    }
    let channel = SlackChannelId(request.channel_id.clone());
    let thread = request.thread_ts.clone().map(SlackTs);
    let post = |message: OutgoingMessage| {
        let (channel, thread) = (channel.clone(), thread.clone());
        async move { ctx.slack.post_message(&channel, &message, thread.as_ref()).await }
    };
    // Help and unknown words are answered to the asker: privately for a slash command.
    let answer_asker = |message: OutgoingMessage| async {
        match &request.reply {
            ReplyTo::ResponseUrl { url } => ctx.slack.respond_message(url, &message).await.map_err(JobError::from),
            ReplyTo::Ephemeral => post(message).await.map(|_| ()).map_err(JobError::from),
        }
    };
    let command = match &request.command {
        Command::Help => {
            if let Err(error) = ctx.custom_commands.refresh(&ctx.lookers).await {
                tracing::warn!(%error, "could not refresh the custom commands for help");
            }
            let custom: Vec<CustomCommand> = ctx
                .custom_commands
                .all(&ctx.lookers)
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|(_, c)| c)
                .collect();
            return answer_asker(help(&request.invoked_as, &custom)).await;
        }
        Command::Unknown { text } => match ctx.custom_commands.find(&ctx.lookers, &words(text)).await {
            Ok(Some((_, custom, args))) => Command::Dashboard {
                request: custom.request(&args),
            },
            Ok(None) => return answer_asker(unknown(&request.invoked_as, text)).await,
            Err(error) => return say(ctx, &request, &looker_sentence(&error, "your custom commands")).await,
        },
        other => other.clone(),
    };

    let loading = if request.is_conversation() && ctx.features.loading_messages {
        let line = OutgoingMessage {
            text: "Working on it…".into(),
            blocks: Vec::new(),
        };
        Some(post(line).await?.ts)
    } else {
        None
    };
    let answer = Answer {
        channel: &channel,
        thread: thread.as_ref(),
        loading: loading.as_ref(),
    };
    // By the link's address, else the host named, else the first Looker configured.
    let looker_for = |url: Option<&str>, host: Option<&str>| -> Option<&LookerClient> {
        match (url, host) {
            (Some(url), _) => ctx.lookers.for_url(url).map(|l| l.as_ref()),
            (None, Some(host)) => ctx.lookers.for_host(host).map(|l| l.as_ref()),
            (None, None) => ctx.lookers.all().first().map(|l| l.as_ref()),
        }
    };
    let not_ours = |host: Option<&str>| {
        CommandFailure::Said(match host {
            Some(host) => format!(
                "No Looker at {} is connected to this bot. It knows {}.",
                escape(host),
                connected_hosts(ctx)
            ),
            None => "That link isn't from a Looker this bot is connected to.".into(),
        })
    };
    let outcome = match &command {
        Command::Look { id, url, host } => match looker_for(url.as_deref(), host.as_deref()) {
            Some(looker) => run_look(ctx, looker, &answer, id).await,
            None => Err(not_ours(host.as_deref())),
        },
        Command::Query { slug, url } => match looker_for(Some(url), None) {
            Some(looker) => match render_query_link(ctx, looker, slug, url).await {
                Ok(rendered) => show(ctx, looker, &answer, rendered).await,
                Err(failure) => Err(failure),
            },
            None => Err(not_ours(None)),
        },
        Command::Dashboard { request: dashboard } => {
            match looker_for(dashboard.link.as_deref(), dashboard.host.as_deref()) {
                Some(looker) => post_dashboard(ctx, looker, &channel, thread.as_ref(), dashboard, ctx.dashboard_style)
                    .await
                    .map(|()| false)
                    .map_err(CommandFailure::Job),
                None => Err(not_ours(dashboard.host.as_deref())),
            }
        }
        Command::Find { request: find_request } => {
            let chosen: Vec<&LookerClient> = match find_request.host.as_deref() {
                Some(host) => ctx.lookers.for_host(host).map(|l| l.as_ref()).into_iter().collect(),
                None => ctx.lookers.all().iter().map(|l| l.as_ref()).collect(),
            };
            if chosen.is_empty() {
                Err(not_ours(find_request.host.as_deref()))
            } else {
                match find(&chosen, find_request).await {
                    Ok(message) => match &loading {
                        Some(ts) => ctx.slack.update_message(&channel, ts, &message).await.map(|()| true),
                        None => post(message).await.map(|_| false),
                    }
                    .map_err(|e| CommandFailure::Job(e.into())),
                    Err(error) => Err(CommandFailure::Looker(error, "that search".into())),
                }
            }
        }
        Command::Help | Command::Unknown { .. } => Ok(true),
    };
    // The "working on it" line goes unless the answer took its place.
    if let Some(loading) = &loading
        && !matches!(outcome, Ok(true))
        && let Err(error) = ctx.slack.delete_message(&channel, loading).await
    {
        tracing::warn!(%error, "could not remove the loading message");
    }
    let sentence = match outcome {
        Ok(_) => return Ok(()),
        Err(CommandFailure::Looker(error, what)) => {
            tracing::warn!(%error, "command failed at Looker");
            looker_sentence(&error, &what)
        }
        Err(CommandFailure::Said(sentence)) => sentence,
        Err(CommandFailure::Job(error)) => {
            tracing::warn!(error = %error.message, "command could not be answered");
            match &error.slack_code {
                Some(code) => slack_sentence(code)
                    .unwrap_or_else(|| "Slack refused the answer; an admin can find why in the bot's log.".into()),
                None if error.failure == crate::jobs::Failure::Transient => {
                    "Looker or Slack isn't answering right now. Please try again in a few minutes.".into()
                }
                None => format!("That didn't work: {}", error.message),
            }
        }
    };
    say(ctx, &request, &sentence).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grammar() {
        assert_eq!(parse(""), Command::Help);
        assert_eq!(parse("HELP"), Command::Help);
        assert_eq!(
            parse("look 42"),
            Command::Look {
                id: "42".into(),
                url: None,
                host: None
            }
        );
        assert_eq!(
            parse("look <http://eu.looker.example.com|eu.looker.example.com> 42"),
            Command::Look {
                id: "42".into(),
                url: None,
                host: Some("eu.looker.example.com".into())
            }
        );
        let Command::Dashboard { request } = parse("dashboard localhost:9999 thelook::orders status=open") else {
            panic!("dashboard on a named Looker")
        };
        assert_eq!(
            (request.host.as_deref(), request.id.as_str(), request.filters.len()),
            (Some("localhost:9999"), "thelook::orders", 1)
        );
        assert!(
            matches!(parse("find Q1:2024 revenue"), Command::Find { request } if request.host.is_none()),
            "a colon in a search word is not a port"
        );
        let Command::Dashboard { request } = parse("dashboard thelook::orders") else {
            panic!("LookML dashboard")
        };
        assert_eq!((request.host, request.id.as_str()), (None, "thelook::orders"));
        assert!(matches!(parse("look forty"), Command::Unknown { .. }));
        let Command::Dashboard { request } =
            parse(r#"dashboard 12 status=complete "Order Date"="last 7 days" region=-NULL"#)
        else {
            panic!("dashboard")
        };
        assert_eq!(request.id, "12");
        assert_eq!(
            request.filters,
            [
                ("status".to_string(), "complete".to_string()),
                ("Order Date".to_string(), "last 7 days".to_string()),
                ("region".to_string(), "-NULL".to_string())
            ]
        );
        assert_eq!(
            parse("<https://looker.example.com/looks/7?f=1>"),
            Command::Look {
                id: "7".into(),
                url: Some("https://looker.example.com/looks/7?f=1".into()),
                host: None
            }
        );
        let Command::Dashboard { request } = parse("https://looker.example.com/dashboards/5?Status=open") else {
            panic!("dashboard link")
        };
        assert_eq!((request.id.as_str(), request.filters.len()), ("5", 1));
        assert!(matches!(parse("make me a sandwich"), Command::Unknown { .. }));
        assert_eq!(
            parse("https://looker.example.com/x/aBc123"),
            Command::Query {
                slug: "aBc123".into(),
                url: "https://looker.example.com/x/aBc123".into()
            }
        );
        assert_eq!(
            parse("<https://looker.example.com/explore/thelook/orders?qid=Zz9&toggle=vis>"),
            Command::Query {
                slug: "Zz9".into(),
                url: "https://looker.example.com/explore/thelook/orders?qid=Zz9&toggle=vis".into()
            }
        );
    }
}
