//! Requests from Slack: `X-Slack-Signature` is HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the
//! signing secret, checked over the raw bytes before anything is parsed, in constant time, within
//! five minutes. The deprecated verification token is accepted only where an operator set one.
//! Slack's periodic `ssl_check=1` probe of the command URL comes unsigned: it gets an empty 200
//! and nothing else is read from it.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::SlackSettings;

/// Slack's replay window.
pub const MAX_AGE_SECS: i64 = 300;
/// The longest a Slack request body may take to arrive.
const SLACK_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// No signature (and no configured legacy token matched).
    Missing,
    /// A signature or timestamp header given more than once.
    Repeated,
    /// A timestamp that is not a plain number of seconds (signed, padded, too long, not digits).
    BadTimestamp,
    /// Outside the five-minute window.
    Stale,
    BadSignature,
}

impl Rejection {
    /// Why, for the refusal's body and the log.
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::Missing => "missing Slack signature",
            Rejection::Repeated => "the Slack signature headers are given more than once",
            Rejection::BadTimestamp => "X-Slack-Request-Timestamp is not a Unix time in seconds",
            Rejection::Stale => "the Slack request is older than five minutes (or from the future)",
            Rejection::BadSignature => "invalid Slack signature",
        }
    }
}

/// The one value of a header, refusing repeats.
fn single<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, Rejection> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(Rejection::Repeated);
    }
    first
        .map(|v| v.to_str().map_err(|_| Rejection::BadSignature))
        .transpose()
}

/// Seconds since the epoch as Slack writes them: digits only, no sign, no padding, at most 12.
fn timestamp(text: &str) -> Result<i64, Rejection> {
    let plain = !text.is_empty()
        && text.len() <= 12
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if !plain {
        return Err(Rejection::BadTimestamp);
    }
    text.parse().map_err(|_| Rejection::BadTimestamp)
}

/// Whether the signature over `body` is Slack's, at time `now` (unix seconds).
pub fn signature_is_valid(secret: &str, headers: &HeaderMap, body: &[u8], now: i64) -> Result<(), Rejection> {
    let (Some(sent_at), Some(signature)) = (
        single(headers, "x-slack-request-timestamp")?,
        single(headers, "x-slack-signature")?,
    ) else {
        return Err(Rejection::Missing);
    };
    let age = i128::from(now) - i128::from(timestamp(sent_at)?);
    if age.abs() > i128::from(MAX_AGE_SECS) {
        return Err(Rejection::Stale);
    }
    let expected = signature
        .strip_prefix("v0=")
        .and_then(|hex| hex::decode(hex).ok())
        .ok_or(Rejection::BadSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    // Exactly the bytes Slack signed: `v0:{timestamp as sent}:{body}`.
    mac.update(b"v0:");
    mac.update(sent_at.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| Rejection::BadSignature)
}

/// Verifies a request from Slack. `legacy_token` is the `token` field of a form body, which only
/// counts when the operator configured `SLACK_SLASH_COMMAND_TOKEN`.
pub fn verify(
    settings: &SlackSettings,
    headers: &HeaderMap,
    body: &[u8],
    legacy_token: Option<&str>,
    now: i64,
) -> Result<(), Rejection> {
    let signed = match &settings.signing_secret {
        Some(secret) => signature_is_valid(secret.expose(), headers, body, now),
        None => Err(Rejection::Missing),
    };
    if signed.is_ok() {
        return signed;
    }
    match (&settings.legacy_verification_token, legacy_token) {
        (Some(expected), Some(presented)) if signed == Err(Rejection::Missing) && expected.matches(presented) => {
            tracing::warn!(
                "accepted a request by its deprecated verification token; sign requests with SLACK_SIGNING_SECRET"
            );
            Ok(())
        }
        _ => signed,
    }
}

/// The raw body of a request Slack signed, with its headers, verified before any handler sees
/// it. A handler that takes this extractor cannot forget to verify.
pub struct VerifiedSlack {
    pub body: Bytes,
    pub headers: HeaderMap,
}

/// Slack's certificate probe of a slash-command URL: a form whose `ssl_check` is `1`.
fn is_ssl_check(headers: &HeaderMap, body: &[u8]) -> bool {
    let form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    form && url::form_urlencoded::parse(body).any(|(key, value)| key == "ssl_check" && value == "1")
}

/// The legacy `token` field of a JSON document.
fn json_token(json: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Token {
        token: Option<String>,
    }
    serde_json::from_slice::<Token>(json).ok()?.token
}

/// The legacy `token` field: of a JSON body (events), a form (slash commands) or the JSON in a
/// form's `payload` field (interactions).
fn legacy_token(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.starts_with("application/json") {
        return json_token(body);
    }
    let mut payload = None;
    for (key, value) in url::form_urlencoded::parse(body) {
        match key.as_ref() {
            "token" => return Some(value.into_owned()),
            "payload" => payload = Some(value),
            _ => {}
        }
    }
    json_token(payload?.as_bytes())
}

impl FromRequest<super::AppState> for VerifiedSlack {
    type Rejection = Response;

    async fn from_request(request: Request, state: &super::AppState) -> Result<Self, Self::Rejection> {
        // The headers are moved out, not copied: this runs for every request from Slack.
        let (mut parts, body) = request.into_parts();
        let headers = std::mem::take(&mut parts.headers);
        // Slack sends small bodies promptly: a client trickling one is cut off.
        let deadline = state.settings.server.body_timeout.min(SLACK_BODY_TIMEOUT);
        let body =
            match tokio::time::timeout(deadline, Bytes::from_request(Request::from_parts(parts, body), state)).await {
                Ok(read) => read.map_err(|rejection| (rejection.status(), rejection.body_text()).into_response())?,
                Err(_) => {
                    state.refusals.slack.note("the body did not arrive in time");
                    return Err((StatusCode::REQUEST_TIMEOUT, "the body did not arrive in time").into_response());
                }
            };
        if is_ssl_check(&headers, &body) {
            // Nothing is recorded and nothing else in the body is looked at.
            return Err(StatusCode::OK.into_response());
        }
        let now = crate::store::now_millis() / 1000;
        // The legacy token is only looked for when an operator configured one.
        let token = state
            .settings
            .slack
            .legacy_verification_token
            .as_ref()
            .and_then(|_| legacy_token(&headers, &body));
        match verify(&state.settings.slack, &headers, &body, token.as_deref(), now) {
            Ok(()) => Ok(VerifiedSlack { body, headers }),
            Err(rejection) => {
                state.refusals.slack.note(rejection.reason());
                Err((StatusCode::UNAUTHORIZED, rejection.reason()).into_response())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(ts: &str, sig: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-slack-request-timestamp", ts.parse().unwrap());
        h.insert("x-slack-signature", sig.parse().unwrap());
        h
    }

    #[test]
    fn the_legacy_token_is_found_in_forms_json_and_interaction_payloads() {
        let mut json = HeaderMap::new();
        json.insert("content-type", "application/json".parse().unwrap());
        assert_eq!(legacy_token(&json, br#"{"token":"t1"}"#).as_deref(), Some("t1"));
        assert_eq!(legacy_token(&HeaderMap::new(), b"a=b&token=t2").as_deref(), Some("t2"));
        let interaction = "payload=%7B%22type%22%3A%22block_actions%22%2C%22token%22%3A%22t3%22%7D";
        assert_eq!(
            legacy_token(&HeaderMap::new(), interaction.as_bytes()).as_deref(),
            Some("t3")
        );
        assert_eq!(legacy_token(&HeaderMap::new(), b"text=hi"), None);
    }

    #[test]
    fn slacks_documented_example_verifies_and_tampering_does_not() {
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let sig = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
        let secret = "8f742231b10e8888abcd99yyyzzz85a5";
        assert_eq!(
            signature_is_valid(secret, &headers("1531420618", sig), body, 1531420618),
            Ok(())
        );
        assert_eq!(
            signature_is_valid(secret, &headers("1531420618", sig), b"token=x", 1531420618),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            signature_is_valid(secret, &headers("1531420618", sig), body, 1531420618 + 301),
            Err(Rejection::Stale)
        );
        assert_eq!(
            signature_is_valid(secret, &HeaderMap::new(), body, 0),
            Err(Rejection::Missing)
        );
        assert_eq!(
            signature_is_valid(secret, &headers("1531420618", "v0=zz"), body, 1531420618),
            Err(Rejection::BadSignature)
        );
    }

    #[test]
    fn odd_timestamps_and_repeated_headers_are_refused() {
        let secret = "s";
        let now: i64 = 1_700_000_000;
        let signed = |ts: &str| {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(format!("v0:{ts}:").as_bytes());
            mac.update(b"body");
            format!("v0={}", hex::encode(mac.finalize().into_bytes()))
        };
        // Correctly signed, and the age computation would overflow.
        let ancient = (i128::from(now) - (1i128 << 63)).to_string();
        for ts in [
            ancient.as_str(),
            "-1700000000",
            "+1700000000",
            " 1700000000",
            "01700000000",
            "17e8",
            "",
            "99999999999999999999",
        ] {
            assert!(
                signature_is_valid(secret, &headers(ts, &signed(ts)), b"body", now).is_err(),
                "{ts:?} accepted"
            );
        }
        let ts = now.to_string();
        assert_eq!(
            signature_is_valid(secret, &headers(&ts, &signed(&ts)), b"body", now),
            Ok(())
        );
        let mut twice = headers(&ts, &signed(&ts));
        twice.append("x-slack-signature", signed(&ts).parse().unwrap());
        assert_eq!(
            signature_is_valid(secret, &twice, b"body", now),
            Err(Rejection::Repeated)
        );
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn signed(secret: &str, ts: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("v0:{ts}:").as_bytes());
        mac.update(body);
        format!("v0={}", hex::encode(mac.finalize().into_bytes()))
    }

    proptest! {
        #[test]
        fn any_headers_and_body_are_answered(
            ts in ".{0,24}",
            signature in ".{0,90}",
            body in prop::collection::vec(any::<u8>(), 0..512),
            now in any::<i64>(),
        ) {
            let mut headers = HeaderMap::new();
            if let Ok(value) = ts.parse() {
                headers.insert("x-slack-request-timestamp", value);
            }
            if let Ok(value) = signature.parse() {
                headers.insert("x-slack-signature", value);
            }
            let _ = signature_is_valid("secret", &headers, &body, now);
        }

        #[test]
        fn what_is_signed_is_accepted_and_any_change_refused(
            body in prop::collection::vec(any::<u8>(), 1..512),
            at in any::<prop::sample::Index>(),
            now in 1_000_000_000i64..4_000_000_000,
            age in -300i64..=300,
        ) {
            let ts = (now - age).to_string();
            let mut headers = HeaderMap::new();
            headers.insert("x-slack-request-timestamp", ts.parse().unwrap());
            headers.insert("x-slack-signature", signed("secret", &ts, &body).parse().unwrap());
            prop_assert_eq!(signature_is_valid("secret", &headers, &body, now), Ok(()));
            let mut changed = body.clone();
            let i = at.index(changed.len());
            changed[i] ^= 0x01;
            prop_assert_eq!(signature_is_valid("secret", &headers, &changed, now), Err(Rejection::BadSignature));
            prop_assert!(signature_is_valid("other", &headers, &body, now).is_err());
        }
    }
}
