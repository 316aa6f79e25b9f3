//! Looker's webhook body, as sent (every field may be null), made into a [`Delivery`]: which
//! Looker sent it, what it delivers, and the attachment decoded from its base64 lines. Pure, so
//! that it can be tried with any input.

use crate::sealing::{SealedText, Sealer};
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

use crate::domain::looker::models::{LookerId, Query, optional_id};
use crate::domain::looker::{Content as LinkContent, LookerKey, Registry};
use crate::features::deliveries::{Content, Delivery, Destination, extension_for};

use crate::http::looker_auth::Caller;

/// Why a webhook was refused: the status and the reason the caller reads.
pub struct Refused {
    pub status: axum::http::StatusCode,
    pub reason: String,
}

fn bad_request(reason: impl Into<String>) -> Refused {
    Refused {
        status: axum::http::StatusCode::BAD_REQUEST,
        reason: reason.into(),
    }
}

/// Looker's webhook body (shared with the Action API), as sent; every field may be null.
#[derive(Debug, Deserialize)]
pub struct WebhookBody {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    scheduled_plan: Option<ScheduledPlan>,
    #[serde(default)]
    attachment: Option<AttachmentBody>,
}

#[derive(Debug, Deserialize)]
struct ScheduledPlan {
    #[serde(default, deserialize_with = "optional_id")]
    scheduled_plan_id: Option<LookerId>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default, rename = "type")]
    plan_type: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default, deserialize_with = "optional_id")]
    query_id: Option<LookerId>,
    #[serde(default)]
    query: Option<Value>,
    #[serde(default)]
    download_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AttachmentBody {
    #[serde(default)]
    mimetype: Option<String>,
    #[serde(default)]
    extension: Option<String>,
    #[serde(default)]
    data: Option<AttachmentData>,
}

#[derive(Debug)]
/// An attachment's `data` as it is read: a large string that is base64 is decoded while it is
/// read (the text itself is never kept), anything else kept as it came.
enum AttachmentData {
    /// Base64 text, decoded; `text` is kept too while it is small (it may be a text format
    /// that only looks like base64, such as `abcd`).
    Decoded {
        bytes: Vec<u8>,
        text: Option<String>,
    },
    Text(String),
    Json(Value),
}

/// Strings under this size are kept as text beside their decoding.
const KEEP_TEXT_UNDER: usize = 1024 * 1024;

impl<'de> Deserialize<'de> for AttachmentData {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Data;
        impl<'de> serde::de::Visitor<'de> for Data {
            type Value = AttachmentData;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an attachment's data: text, base64 or JSON")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<AttachmentData, E> {
                match decode_base64_lines(text) {
                    Ok(bytes) => Ok(AttachmentData::Decoded {
                        bytes,
                        text: (text.len() < KEEP_TEXT_UNDER).then(|| text.to_string()),
                    }),
                    Err(_) => Ok(AttachmentData::Text(text.to_string())),
                }
            }

            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<AttachmentData, E> {
                self.visit_str(&text)
            }

            fn visit_unit<E: serde::de::Error>(self) -> Result<AttachmentData, E> {
                Ok(AttachmentData::Json(Value::Null))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<AttachmentData, A::Error> {
                let value = Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(AttachmentData::Json(value))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<AttachmentData, A::Error> {
                let value = Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
                Ok(AttachmentData::Json(value))
            }

            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<AttachmentData, E> {
                Ok(AttachmentData::Json(Value::Bool(v)))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<AttachmentData, E> {
                Ok(AttachmentData::Json(v.into()))
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<AttachmentData, E> {
                Ok(AttachmentData::Json(v.into()))
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<AttachmentData, E> {
                Ok(AttachmentData::Json(v.into()))
            }
        }
        deserializer.deserialize_any(Data)
    }
}

/// An attachment's bytes, decoded, and how to name them.
pub struct DecodedAttachment {
    pub content_type: String,
    pub extension: String,
    pub bytes: Vec<u8>,
}

/// Decodes Looker's attachment: `<mime>;base64` data comes in base64 lines, other data as text.
fn parse_attachment(body: AttachmentBody) -> Result<Option<DecodedAttachment>, Refused> {
    let Some(data) = body.data else { return Ok(None) };
    let mimetype = body.mimetype.unwrap_or_else(|| "application/octet-stream".into());
    let (content_type, is_base64) = match mimetype.strip_suffix(";base64") {
        Some(mime) => (mime.trim().to_string(), true),
        None => (mimetype.trim().to_string(), false),
    };
    let bytes = match (data, is_base64) {
        (AttachmentData::Decoded { bytes, .. }, true) => bytes,
        (AttachmentData::Text(_), true) => return Err(bad_request("attachment.data is not valid base64")),
        (AttachmentData::Text(text), false) => text.into_bytes(),
        (AttachmentData::Decoded { text: Some(text), .. }, false) => text.into_bytes(),
        // A text format of a megabyte or more that is all base64: Looker sends those as base64.
        (AttachmentData::Decoded { bytes, text: None }, false) => bytes,
        (AttachmentData::Json(Value::Null), _) => return Ok(None),
        // JSON formats may arrive as JSON rather than a string.
        (AttachmentData::Json(other), _) => other.to_string().into_bytes(),
    };
    let extension = body
        .extension
        .filter(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| extension_for(&content_type).to_string());
    Ok(Some(DecodedAttachment {
        content_type,
        extension,
        bytes,
    }))
}

/// Base64 in lines (as Looker sends it), decoded a block at a time: no copy of the whole text.
pub fn decode_base64_lines(text: &str) -> Result<Vec<u8>, base64::DecodeSliceError> {
    const BLOCK: usize = 64 * 1024;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut decoded = Vec::with_capacity(text.len() / 4 * 3);
    let mut block = Vec::with_capacity(BLOCK);
    let flush = |block: &mut Vec<u8>, decoded: &mut Vec<u8>| {
        let start = decoded.len();
        decoded.resize(start + block.len() / 4 * 3 + 3, 0);
        let written = engine.decode_slice(&block[..], &mut decoded[start..])?;
        decoded.truncate(start + written);
        block.clear();
        Ok::<_, base64::DecodeSliceError>(())
    };
    for byte in text.bytes().filter(|b| !b.is_ascii_whitespace()) {
        block.push(byte);
        if block.len() == BLOCK {
            flush(&mut block, &mut decoded)?;
        }
    }
    flush(&mut block, &mut decoded)?;
    Ok(decoded)
}

/// A webhook made into a delivery, and the attachment to keep beside it.
pub struct Parsed {
    /// The plan the body claims to come from (checked with Looker before anything runs).
    pub plan_id: Option<LookerId>,
    pub delivery: Delivery,
    pub attachment: Option<DecodedAttachment>,
}

/// What a webhook from `caller` delivers to `destination`.
pub fn delivery(
    webhook: WebhookBody,
    destination: Destination,
    caller: Caller,
    lookers: &Registry,
    sealer: &Sealer,
) -> Result<Parsed, Refused> {
    let Some(plan) = webhook.scheduled_plan else {
        return Err(bad_request(
            "scheduled_plan is missing: send this from a Looker schedule with a Webhook destination",
        ));
    };

    // Which Looker sent it: by the content's URL when there is one, else by the token.
    let by_url = plan.url.as_deref().and_then(|url| lookers.by_url(url));
    let looker: Option<LookerKey> = match (caller, by_url) {
        (Caller::Looker(matched), Some(key)) if !matched.contains(&key) => {
            return Err(Refused {
                status: axum::http::StatusCode::UNAUTHORIZED,
                reason: "the webhook token does not belong to the Looker this schedule comes from".into(),
            });
        }
        (_, Some(key)) => Some(key),
        (Caller::Looker(matched), None) => matched.into_iter().next(),
        (Caller::SharedToken, None) if lookers.len() == 1 => lookers.all().next().map(|(key, _)| key.clone()),
        (Caller::SharedToken, None) => None,
    };

    let plan_type = plan.plan_type.as_deref().or(match webhook.kind.as_deref() {
        Some("query") => Some("Look"),
        Some("dashboard") => Some("Dashboard"),
        _ => None,
    });
    let mut decoded = None;
    let content = match plan_type {
        Some("Look") => {
            let look_id = plan.url.as_deref().and_then(|url| match LinkContent::of(url) {
                Some(LinkContent::Look { id }) => Some(id),
                _ => None,
            });
            if look_id.is_none() && plan.query_id.is_none() {
                return Err(bad_request("scheduled_plan has neither a Look URL nor a query_id"));
            }
            if looker.is_none() {
                return Err(bad_request(
                    "cannot tell which Looker sent this: scheduled_plan.url is missing",
                ));
            }
            Content::Look {
                look_id,
                query_id: plan.query_id,
                query: plan
                    .query
                    .and_then(|q| serde_json::from_value::<Query>(q).ok())
                    .map(Box::new),
                url: plan.url,
                filters: Vec::new(),
            }
        }
        Some("Dashboard" | "LookMLDashboard") => {
            decoded = webhook.attachment.map(parse_attachment).transpose()?.flatten();
            Content::Dashboard {
                url: plan.url,
                attachment: None,
                download_url: plan.download_url.map(|url| SealedText::seal(sealer, &url)),
            }
        }
        other => {
            return Err(bad_request(format!(
                "unsupported delivery type {:?}: the bot posts Looks and dashboards",
                other.unwrap_or("none")
            )));
        }
    };
    Ok(Parsed {
        plan_id: plan.scheduled_plan_id,
        delivery: Delivery {
            destination,
            looker,
            title: plan.title.filter(|t| !t.trim().is_empty()),
            content,
            owner: None,
        },
        attachment: decoded,
    })
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::config::examples;
    use crate::http::fuzz::json;
    use base64::Engine;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_webhook_is_a_delivery_or_a_reason(document in json(), plan in json(), attachment in json()) {
            let lookers = Registry::new(&examples::one_looker());
            let shaped = serde_json::json!({"type": "dashboard", "scheduled_plan": plan, "attachment": attachment});
            for body in [document, shaped] {
                if let Ok(webhook) = serde_json::from_value::<WebhookBody>(body) {
                    let _ = delivery(webhook, Destination::Channel("general".into()), Caller::SharedToken, &lookers, &Sealer::derived_from("t", b"t"));
                }
            }
        }

        #[test]
        fn base64_in_lines_decodes_to_the_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096), width in 1usize..100) {
            let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
            let lines: Vec<String> = encoded.as_bytes().chunks(width).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
            prop_assert_eq!(decode_base64_lines(&lines.join("\n")).unwrap(), bytes);
        }
    }
}
