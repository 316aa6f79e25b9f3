//! Connecting a person's own Looker account (`LOOKERBOT_IDENTITY=oauth`). The bot gives the
//! person, privately, a link of their own: signed, for one Looker, for 15 minutes. Opening it
//! starts a sign-in (a fresh PKCE verifier, a `state` used once, and a cookie tying the sign-in
//! to that browser) and sends the browser to Looker. Looker sends it back with a code; the bot
//! checks the state and the cookie, trades the code, checks (by default) that the account's
//! email is the person's Slack email, and keeps the tokens sealed. `/looker disconnect` and
//! `lookerbot identity revoke` forget them and end their session at Looker.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::links::Tokens;
use crate::clients::looker::LookerClient;
use crate::config::Secret;
use crate::features::Context;
use crate::features::errors::UserError;
use crate::store::people::{LinkRecord, SignIn};
use crate::store::{Millis, now_millis};

/// Where the browser starts and where Looker sends it back.
pub const START_PATH: &str = "/looker/oauth/start";
pub const CALLBACK_PATH: &str = "/looker/oauth/callback";
/// One sign-in start comes back to a person this often (after a burst of five).
const SIGN_IN_EVERY: Millis = 120_000;

/// The cookie tying a sign-in to its browser.
pub const COOKIE: &str = "lookerbot_sign_in";
/// How long a connect link, and a sign-in, work.
const LIFETIME: Millis = 15 * 60 * 1000;

/// What a connect link stands for.
#[derive(Serialize, Deserialize)]
struct Ticket {
    looker: String,
    team: String,
    user: String,
    expires_at: Millis,
}

/// Why connecting stopped: said to the person in their browser.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("This link has expired or was already used. Ask me again in Slack for a new one.")]
    Expired,
    #[error(
        "This sign-in has expired, was already finished, or was started in another browser. Ask me again in Slack for a new link and finish in the browser you open it in."
    )]
    NoSignIn,
    #[error("This is not a link I made. Ask me again in Slack for a new one.")]
    Invalid,
    #[error("You did not allow lookerbot to use your Looker account, so nothing was connected.")]
    Denied,
    #[error(
        "That Looker account ({looker_email}) is not yours: its email is not your Slack email. Sign in to Looker as yourself and ask me again in Slack."
    )]
    NotYours { looker_email: String },
    #[error("Looker could not finish connecting your account. Please try again in a few minutes.")]
    Looker(#[source] crate::clients::looker::LookerError),
    #[error("Connecting Looker accounts is not turned on for this bot.")]
    Off,
    #[error(
        "You have started several sign-ins in a few minutes. Wait ten minutes, then ask me again in Slack for a new link."
    )]
    TooMany,
    #[error("Something went wrong on my side. Please try again in a few minutes.")]
    Internal(String),
}

impl ConnectError {
    /// The HTTP status the page is served with.
    pub fn status(&self) -> u16 {
        match self {
            ConnectError::NotYours { .. } | ConnectError::Denied => 403,
            // Looker refused the code (expired, replayed, another verifier): the request's fault.
            ConnectError::Looker(error) if error.status().is_some_and(|s| (400..500).contains(&s)) => 400,
            ConnectError::Looker(_) => 502,
            ConnectError::Internal(_) => 503,
            ConnectError::Off => 404,
            ConnectError::TooMany => 429,
            _ => 400,
        }
    }
}

impl From<crate::store::StoreError> for ConnectError {
    fn from(error: crate::store::StoreError) -> Self {
        ConnectError::Internal(error.to_string())
    }
}

fn links(ctx: &Context) -> Result<&super::links::StoredLinks, ConnectError> {
    ctx.links.as_deref().ok_or(ConnectError::Off)
}

fn looker_by_host<'a>(ctx: &'a Context, host: &str) -> Option<&'a LookerClient> {
    ctx.lookers
        .all()
        .map(|(_, looker)| looker)
        .find(|looker| looker.settings().host() == host && looker.settings().identity.is_oauth())
}

/// The redirect address Looker knows the bot by.
pub fn redirect_uri(public_url: &url::Url) -> String {
    format!("{}{CALLBACK_PATH}", public_url.as_str().trim_end_matches('/'))
}

/// The person's own connect link for `looker`, when the bot can make one.
pub fn connect_link(ctx: &Context, looker: &LookerClient, team: &str, user: &str) -> Option<String> {
    let links = ctx.links.as_deref()?;
    let public = ctx.hub.public_url.as_ref()?;
    let ticket = Ticket {
        looker: looker.settings().host(),
        team: team.into(),
        user: user.into(),
        expires_at: now_millis() + LIFETIME,
    };
    let payload = B64.encode(serde_json::to_vec(&ticket).ok()?);
    let signature = links.sealer.sign(&payload);
    Some(format!(
        "{}{START_PATH}?ticket={payload}.{signature}",
        public.as_str().trim_end_matches('/')
    ))
}

/// Turns "you have not connected" into the sentence with the person's own link in it.
pub fn explain(ctx: &Context, team: &str, user: &str, failure: UserError) -> UserError {
    let UserError::NotLinked { looker: host } = &failure else {
        return failure;
    };
    let looker = ctx
        .lookers
        .all()
        .map(|(_, l)| l)
        .find(|l| crate::render::mrkdwn::escape(&l.settings().host()) == *host);
    match looker.and_then(|l| connect_link(ctx, l, team, user)) {
        Some(link) => UserError::ConnectFirst {
            looker: host.clone(),
            link,
        },
        None => failure,
    }
}

/// A sign-in begun: where to send the browser, and the cookie to give it.
pub struct Started {
    pub location: String,
    pub cookie_name: String,
    pub cookie: String,
}

/// The cookie of the sign-in with this state: one a sign-in, so that two under way (two
/// Lookers) do not undo each other.
pub fn cookie_name(state: &str) -> String {
    format!("{COOKIE}_{}", &digest(state)[..16])
}

fn random_text() -> String {
    B64.encode(rand::random::<[u8; 32]>())
}

fn digest(text: &str) -> String {
    B64.encode(Sha256::digest(text.as_bytes()))
}

/// Opens a connect link: checks it, begins a sign-in, and sends the browser to Looker.
/// What a connect link stands for, once its signature and age are checked.
fn open_ticket(ctx: &Context, ticket: &str) -> Result<Ticket, ConnectError> {
    let links = links(ctx)?;
    let (payload, signature) = ticket.split_once('.').ok_or(ConnectError::Invalid)?;
    if !links.sealer.verify(payload, signature) {
        return Err(ConnectError::Invalid);
    }
    let ticket: Ticket = B64
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(ConnectError::Invalid)?;
    if ticket.expires_at < now_millis() {
        return Err(ConnectError::Expired);
    }
    Ok(ticket)
}

/// Whom a connect link would connect, for the page that asks the person to confirm it is them
/// (where emails are not compared, someone else's link must not connect your account to them).
pub async fn ticket_holder(ctx: &Context, ticket: &str) -> Result<String, ConnectError> {
    let ticket = open_ticket(ctx, ticket)?;
    // The id and the verified email, not only a display name anyone may choose.
    let profile = ctx.slack.user_info(&ticket.user).await.ok().and_then(|u| u.profile);
    let name = profile
        .as_ref()
        .and_then(|p| p.display_name.clone().filter(|n| !n.is_empty()).or(p.real_name.clone()))
        .filter(|n| !n.is_empty());
    let email = profile.and_then(|p| p.email).map(|e| e.to_string());
    let who = match (name, email) {
        (Some(name), Some(email)) => format!("{name}, {email}, Slack user {}", ticket.user),
        (None, Some(email)) => format!("{email}, Slack user {}", ticket.user),
        (Some(name), None) => format!("{name}, Slack user {}", ticket.user),
        (None, None) => format!("the Slack user {}", ticket.user),
    };
    Ok(format!("{who}, in the Slack workspace {}", ticket.team))
}

pub async fn start(ctx: &Context, ticket: &str) -> Result<Started, ConnectError> {
    let links = links(ctx)?;
    let text = ticket;
    let ticket = open_ticket(ctx, ticket)?;
    // Five sign-ins a person per ten minutes, whatever links they hold (replicas share the count).
    let (now, key) = (now_millis(), format!("sign-in:{}:{}", ticket.team, ticket.user));
    let store = ctx.queue.store();
    if store.reserve_pace(&key, now, SIGN_IN_EVERY, 5, now).await?.is_none() {
        return Err(ConnectError::TooMany);
    }
    // A link opens one sign-in: a link forwarded or seen over a shoulder opens nothing after.
    if !ctx
        .queue
        .store()
        .people()
        .spend_ticket(&digest(text), now_millis())
        .await?
    {
        return Err(ConnectError::Expired);
    }
    let looker = looker_by_host(ctx, &ticket.looker).ok_or(ConnectError::Invalid)?;
    let public = ctx.hub.public_url.as_ref().ok_or(ConnectError::Invalid)?;
    let (verifier, state, browser) = (random_text(), random_text(), random_text());
    let sign_in = SignIn {
        looker: ticket.looker.clone(),
        team: ticket.team.clone(),
        slack_user: ticket.user.clone(),
        sealed_verifier: links.sealer.seal(&format!("sign-in/{state}"), verifier.as_bytes()),
        browser: digest(&browser),
        created_at: now_millis(),
    };
    ctx.queue.store().people().put_sign_in(&state, &sign_in).await?;
    let location = looker.authorize_url(&redirect_uri(public), &state, &digest(&verifier));
    Ok(Started {
        location: location.to_string(),
        cookie_name: cookie_name(&state),
        cookie: browser,
    })
}

/// What Looker sent back to the callback.
#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

/// Finishes a sign-in; returns the Looker's host and the account's email.
pub async fn finish(
    ctx: &Context,
    back: &Callback,
    cookie: impl Fn(&str) -> Option<String>,
) -> Result<(String, String), ConnectError> {
    let links = links(ctx)?;
    let state = back.state.as_deref().ok_or(ConnectError::Invalid)?;
    let people = ctx.queue.store().people();
    // The state works once, and only in the browser that started it (its cookie).
    let cookie = cookie(&cookie_name(state)).ok_or(ConnectError::NoSignIn)?;
    let sign_in = people
        .take_sign_in(state, &digest(&cookie), now_millis() - LIFETIME)
        .await?
        .ok_or(ConnectError::NoSignIn)?;
    if back.error.is_some() {
        return Err(ConnectError::Denied);
    }
    let code = back.code.as_deref().ok_or(ConnectError::Invalid)?;
    let looker = looker_by_host(ctx, &sign_in.looker).ok_or(ConnectError::Invalid)?;
    let public = ctx.hub.public_url.as_ref().ok_or(ConnectError::Invalid)?;
    let verifier = links
        .sealer
        .open(&format!("sign-in/{state}"), &sign_in.sealed_verifier)
        .and_then(|v| String::from_utf8(v).ok())
        .ok_or(ConnectError::NoSignIn)?;
    let grant = looker
        .exchange_code(code, &verifier, &redirect_uri(public))
        .await
        .map_err(ConnectError::Looker)?;
    let account = looker
        .token_owner(&grant.access_token)
        .await
        .map_err(ConnectError::Looker)?;
    let looker_email = account.email.clone().unwrap_or_default();
    if ctx.oauth_same_email {
        let slack_email = ctx
            .slack
            .user_info(&sign_in.slack_user)
            .await
            .ok()
            .and_then(|u| u.profile.and_then(|p| p.email))
            .map(|e| e.to_string());
        let same = slack_email.is_some_and(|e| !looker_email.is_empty() && e.eq_ignore_ascii_case(&looker_email));
        if !same {
            // Nothing is kept, and the token Looker just gave is ended.
            let _ = looker.logout(&grant.access_token).await;
            return Err(ConnectError::NotYours { looker_email });
        }
    }
    let tokens = Tokens::from_grant(&grant, None);
    let now = now_millis();
    let link = LinkRecord {
        looker: sign_in.looker.clone(),
        team: sign_in.team.clone(),
        slack_user: sign_in.slack_user.clone(),
        looker_user: account.id_text(),
        sealed: links.seal(&sign_in.looker, &sign_in.team, &sign_in.slack_user, &tokens),
        linked_at: now,
        updated_at: now,
    };
    people.put_link(&link).await?;
    let notice = super::notice::LinkNotice {
        slack_user: sign_in.slack_user.clone(),
        looker: sign_in.looker.clone(),
        looker_email: looker_email.clone(),
        linked_at: now,
    };
    if let Err(error) = ctx.queue.push(&notice, notice.push()).await {
        tracing::error!(%error, "could not record the notice of a connected Looker account");
    }
    tracing::info!(looker = %sign_in.looker, slack_user = %sign_in.slack_user, looker_user = %link.looker_user,
        "a person connected their Looker account");
    Ok((sign_in.looker, looker_email))
}

/// Ends a linked account's session at Looker (`DELETE /logout`, which ends its refresh token
/// too), renewing an expired access token first so that the logout is taken; whether it was.
pub async fn end_session(looker: &LookerClient, tokens: Tokens, redirect_uri: &str) -> bool {
    let mut access = Secret::new(tokens.access);
    if tokens.expires_at <= now_millis()
        && let Some(refresh) = tokens.refresh
        && let Ok(grant) = looker.refresh_grant(&Secret::new(refresh), redirect_uri).await
    {
        access = grant.access_token;
    }
    match looker.logout(&access).await {
        Ok(()) => true,
        Err(error) => {
            tracing::info!(%error, looker = %looker.settings().host(), "could not end a session at Looker; its tokens are forgotten here");
            false
        }
    }
}

/// Forgets a person's links (in one workspace, or all) and ends their sessions at Looker; the
/// Lookers they were connected to.
pub async fn disconnect(
    ctx: &Context,
    team: Option<&str>,
    user: &str,
) -> Result<Vec<String>, crate::store::StoreError> {
    let dropped = ctx.queue.store().people().drop_links(None, team, user).await?;
    let mut hosts = Vec::new();
    for link in dropped {
        let opened = ctx.links.as_deref().and_then(|links| links.open(&link));
        if let (Some(tokens), Some(looker), Some(links)) =
            (opened, looker_by_host(ctx, &link.looker), ctx.links.as_deref())
        {
            end_session(looker, tokens, &links.redirect_uri).await;
        }
        hosts.push(link.looker);
    }
    Ok(hosts)
}
