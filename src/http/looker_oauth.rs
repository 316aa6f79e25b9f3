//! The two pages of connecting a Looker account: `GET /looker/oauth/start?ticket=…` (the link
//! the bot gave the person; it sets the sign-in cookie and redirects to Looker) and
//! `GET /looker/oauth/callback?code=…&state=…` (where Looker sends the browser back). Each page
//! says in one sentence what happened; nothing about the tokens ever reaches the browser.

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::AppState;
use crate::features::identity::connect::{
    CALLBACK_PATH, Callback, ConnectError, START_PATH, finish, start, ticket_holder,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(START_PATH, get(open_link).post(confirmed))
        .route(CALLBACK_PATH, get(come_back))
}

#[derive(Deserialize)]
struct Link {
    #[serde(default)]
    ticket: String,
}

/// A page of one sentence.
fn page(status: u16, sentence: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    html(status, &format!("<p>{}</p>", escape_html(sentence)))
}

/// A page of ours: never cached, never framed, no referrer sent on (its address holds a ticket).
fn html(status: StatusCode, content: &str) -> Response {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>lookerbot</title></head>\
         <body style=\"font-family:sans-serif;max-width:36em;margin:4em auto\">{content}</body></html>"
    );
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

fn refused(error: &ConnectError) -> Response {
    match error {
        ConnectError::Looker(cause) => tracing::warn!(error = %cause, "Looker did not finish a sign-in"),
        ConnectError::Internal(cause) => tracing::error!(%cause, "a sign-in failed on our side"),
        // The page names the Looker account; the log does not.
        ConnectError::NotYours { .. } => {
            tracing::info!("a sign-in was refused: the Looker account's email is not the person's Slack email")
        }
        other => tracing::info!(reason = %other, "a sign-in was refused"),
    }
    page(error.status(), &error.to_string())
}

/// Opening a connect link: straight to Looker where the account's email is checked against the
/// person's Slack email; elsewhere a page first asks the person to confirm whom they connect.
async fn open_link(State(state): State<AppState>, Query(link): Query<Link>) -> Response {
    if state.bot.oauth_same_email {
        return begin(&state, &link.ticket).await;
    }
    match ticket_holder(&state.bot, &link.ticket).await {
        Ok(holder) => confirmation(&holder, &link.ticket),
        Err(error) => refused(&error),
    }
}

/// The person confirmed: only from our own page (a browser sends our origin with the form).
async fn confirmed(State(state): State<AppState>, headers: HeaderMap, Form(link): Form<Link>) -> Response {
    let ours = state
        .settings
        .hub
        .public_url
        .as_ref()
        .map(|u| u.origin().ascii_serialization());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if ours.is_none() || origin != ours.as_deref() {
        return page(403, "Open the link I gave you in Slack, and confirm on its page.");
    }
    begin(&state, &link.ticket).await
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn confirmation(holder: &str, ticket: &str) -> Response {
    let content = format!(
        "<p>This connects the Looker account you sign in with to {}. Continue only if that is you.</p>\
         <form method=\"post\"><input type=\"hidden\" name=\"ticket\" value=\"{}\">\
         <button type=\"submit\">Connect my Looker account</button></form>",
        escape_html(holder),
        escape_html(ticket)
    );
    html(StatusCode::OK, &content)
}

async fn begin(state: &AppState, ticket: &str) -> Response {
    match start(&state.bot, ticket).await {
        Ok(started) => {
            let public = state.settings.hub.public_url.as_ref();
            let secure = public.is_some_and(|u| u.scheme() == "https");
            // The callback's path as the browser sees it (PUBLIC_URL may carry a prefix).
            let prefix = public.map(|u| u.path().trim_end_matches('/')).unwrap_or_default();
            let cookie = format!(
                "{}={}; Path={prefix}{CALLBACK_PATH}; Max-Age=900; HttpOnly; SameSite=Lax{}",
                started.cookie_name,
                started.cookie,
                if secure { "; Secure" } else { "" }
            );
            let mut response = (StatusCode::FOUND, "").into_response();
            let headers = response.headers_mut();
            if let (Ok(location), Ok(cookie)) =
                (HeaderValue::from_str(&started.location), HeaderValue::from_str(&cookie))
            {
                headers.insert(header::LOCATION, location);
                headers.insert(header::SET_COOKIE, cookie);
            }
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => refused(&error),
    }
}

/// The cookie called `wanted`, if the browser sent it.
fn cookie(headers: &HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.to_string())
}

async fn come_back(State(state): State<AppState>, headers: HeaderMap, Query(back): Query<Callback>) -> Response {
    match finish(&state.bot, &back, |name| cookie(&headers, name)).await {
        Ok((looker, email)) => page(
            200,
            &format!(
                "Your Looker account {email} at {looker} is connected. You can close this tab and ask again in Slack."
            ),
        ),
        Err(error) => refused(&error),
    }
}
