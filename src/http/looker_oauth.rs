//! The two pages of connecting a Looker account: `GET /looker/oauth/start?ticket=…` (the link
//! the bot gave the person; it sets the sign-in cookie and redirects to Looker) and
//! `GET /looker/oauth/callback?code=…&state=…` (where Looker sends the browser back). Each page
//! says in one sentence what happened; nothing about the tokens ever reaches the browser.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::AppState;
use crate::features::identity::connect::{CALLBACK_PATH, COOKIE, Callback, ConnectError, START_PATH, finish, start};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(START_PATH, get(open_link))
        .route(CALLBACK_PATH, get(come_back))
}

#[derive(Deserialize)]
struct Link {
    #[serde(default)]
    ticket: String,
}

/// A page of one sentence.
fn page(status: u16, sentence: &str) -> Response {
    let text = sentence
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>lookerbot</title></head>\
         <body style=\"font-family:sans-serif;max-width:36em;margin:4em auto\"><p>{text}</p></body></html>"
    );
    let mut response = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        Html(body),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

fn refused(error: &ConnectError) -> Response {
    match error {
        ConnectError::Looker(cause) => tracing::warn!(error = %cause, "Looker did not finish a sign-in"),
        ConnectError::Internal(cause) => tracing::error!(%cause, "a sign-in failed on our side"),
        other => tracing::info!(reason = %other, "a sign-in was refused"),
    }
    page(error.status(), &error.to_string())
}

async fn open_link(State(state): State<AppState>, Query(link): Query<Link>) -> Response {
    match start(&state.bot, &link.ticket).await {
        Ok(started) => {
            let secure = state
                .settings
                .hub
                .public_url
                .as_ref()
                .is_some_and(|u| u.scheme() == "https");
            let cookie = format!(
                "{COOKIE}={}; Path={CALLBACK_PATH}; Max-Age=900; HttpOnly; SameSite=Lax{}",
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

/// The sign-in cookie, if the browser sent it.
fn sign_in_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

async fn come_back(State(state): State<AppState>, headers: HeaderMap, Query(back): Query<Callback>) -> Response {
    match finish(&state.bot, &back, sign_in_cookie(&headers).as_deref()).await {
        Ok((looker, email)) => page(
            200,
            &format!(
                "Your Looker account {email} at {looker} is connected. You can close this tab and ask again in Slack."
            ),
        ),
        Err(error) => refused(&error),
    }
}
