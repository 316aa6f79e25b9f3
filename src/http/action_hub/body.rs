//! Looker's Action API request body, read as a stream (struson) so that its attachment, which
//! can be a gigabyte of base64 text, is never held whole: `attachment.data` is handed on in
//! blocks as it is read (decoded on the way when its `mimetype` came first and says `;base64`),
//! every other member is small and read into types. Every member may be null or missing.

use std::io::Read;

use serde::Deserialize;
use serde_json::{Map, Value};
use struson::reader::{JsonReader, JsonStreamReader, ValueType};

use crate::domain::looker::models::{LookerId, optional_id};

/// Blocks of attachment data are handed on at about this size.
const BLOCK: usize = 1024 * 1024;
/// Every member but the attachment's data is read into memory: none may be larger than this.
const MEMBER_LIMIT: usize = 1024 * 1024;

/// What may still be read before a member is too large (`None`: the attachment's data, any size).
type Budget = std::rc::Rc<std::cell::Cell<Option<usize>>>;

/// The body's reader, counting what each small member takes.
struct Budgeted<R> {
    inner: R,
    budget: Budget,
}

impl<R: Read> Read for Budgeted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(left) = self.budget.get() {
            if n > left {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "a member other than attachment.data is larger than 1 MiB",
                ));
            }
            self.budget.set(Some(left - n));
        }
        Ok(n)
    }
}

/// `scheduled_plan`, as the Action API sends it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Plan {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default, rename = "type")]
    pub plan_type: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "optional_id")]
    pub query_id: Option<LookerId>,
    #[serde(default)]
    pub download_url: Option<String>,
}

/// What the body said, apart from the attachment's bytes.
#[derive(Debug, Clone, Default)]
pub struct ActionRequest {
    pub kind: Option<String>,
    pub plan: Option<Plan>,
    pub mimetype: Option<String>,
    pub extension: Option<String>,
    /// Whether `attachment.data` was present (and handed on).
    pub has_data: bool,
    /// Whether the data handed on is already decoded from base64.
    pub decoded: bool,
    pub data: Map<String, Value>,
    pub form_params: Map<String, Value>,
}

impl ActionRequest {
    /// `form_params.<name>` (else `data.<name>`, as Lookerbot read them) as text.
    pub fn param(&self, name: &str) -> Option<&str> {
        [&self.form_params, &self.data]
            .into_iter()
            .filter_map(|m| m.get(name).and_then(Value::as_str))
            .find(|v| !v.is_empty())
    }

    /// Whether the attachment is base64 text (`<mime>;base64`).
    pub fn is_base64(&self) -> bool {
        self.mimetype
            .as_deref()
            .is_some_and(|m| m.trim_end().ends_with(";base64"))
    }

    /// The attachment's content type without `;base64`.
    pub fn content_type(&self) -> Option<String> {
        let mime = self.mimetype.as_deref()?.trim();
        Some(mime.strip_suffix(";base64").unwrap_or(mime).trim().to_string()).filter(|m| !m.is_empty())
    }
}

/// Why a body could not be read, for the 400 Looker gets.
#[derive(Debug, thiserror::Error)]
pub enum BodyProblem {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("attachment.data is not valid base64")]
    NotBase64,
    /// The data could not be handed on (the store failed); the reason is the store's.
    #[error("{0}")]
    Sink(String),
}

/// Reads text as base64 with any whitespace (Looker's line breaks) left out.
struct NoWhitespace<R>(R);

impl<R: Read> Read for NoWhitespace<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.0.read(buf)?;
            if n == 0 {
                return Ok(0);
            }
            let mut kept = 0;
            for i in 0..n {
                if !buf[i].is_ascii_whitespace() {
                    buf[kept] = buf[i];
                    kept += 1;
                }
            }
            if kept > 0 {
                return Ok(kept);
            }
        }
    }
}

fn json_error(error: impl std::fmt::Display) -> BodyProblem {
    BodyProblem::NotJson(error.to_string())
}

/// Hands every block of `source` to `sink`, decoding base64 on the way when asked.
fn pass_on(
    source: impl Read,
    base64: bool,
    sink: &mut dyn FnMut(Vec<u8>) -> Result<(), String>,
) -> Result<(), BodyProblem> {
    let engine = base64::engine::general_purpose::STANDARD;
    let mut reader: Box<dyn Read> = if base64 {
        Box::new(base64::read::DecoderReader::new(NoWhitespace(source), &engine))
    } else {
        Box::new(source)
    };
    loop {
        let mut block = Vec::with_capacity(BLOCK);
        let read = (&mut reader).take(BLOCK as u64).read_to_end(&mut block).map_err(|e| {
            if base64 && e.kind() == std::io::ErrorKind::InvalidData {
                BodyProblem::NotBase64
            } else {
                json_error(e)
            }
        })?;
        if read == 0 {
            return Ok(());
        }
        sink(block).map_err(BodyProblem::Sink)?;
    }
}

fn object<R: Read>(json: &mut JsonStreamReader<R>) -> Result<Map<String, Value>, BodyProblem> {
    match json.deserialize_next::<Value>().map_err(json_error)? {
        Value::Object(map) => Ok(map),
        _ => Ok(Map::new()),
    }
}

fn text<R: Read>(json: &mut JsonStreamReader<R>) -> Result<Option<String>, BodyProblem> {
    Ok(match json.deserialize_next::<Value>().map_err(json_error)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

/// `attachment.data`: text handed on in blocks (decoded when the mimetype said base64), or JSON.
fn data<R: Read>(
    json: &mut JsonStreamReader<R>,
    request: &mut ActionRequest,
    sink: &mut dyn FnMut(Vec<u8>) -> Result<(), String>,
) -> Result<(), BodyProblem> {
    match json.peek().map_err(json_error)? {
        ValueType::String => {
            request.decoded = request.is_base64();
            request.has_data = true;
            let decode = request.decoded;
            pass_on(json.next_string_reader().map_err(json_error)?, decode, sink)
        }
        ValueType::Null => json.next_null().map_err(json_error),
        // JSON formats may come as JSON rather than as a string.
        _ => {
            let value: Value = json.deserialize_next().map_err(json_error)?;
            request.has_data = true;
            sink(value.to_string().into_bytes()).map_err(BodyProblem::Sink)
        }
    }
}

fn attachment<R: Read>(
    json: &mut JsonStreamReader<R>,
    request: &mut ActionRequest,
    budget: &Budget,
    sink: &mut dyn FnMut(Vec<u8>) -> Result<(), String>,
) -> Result<(), BodyProblem> {
    if json.peek().map_err(json_error)? != ValueType::Object {
        return json.skip_value().map_err(json_error);
    }
    json.begin_object().map_err(json_error)?;
    while json.has_next().map_err(json_error)? {
        budget.set(Some(MEMBER_LIMIT));
        match json.next_name_owned().map_err(json_error)?.as_str() {
            "mimetype" => request.mimetype = text(json)?,
            "extension" => request.extension = text(json)?,
            "data" => {
                // The data itself may be of any size.
                budget.set(None);
                data(json, request, sink)?;
            }
            _ => json.skip_value().map_err(json_error)?,
        }
    }
    json.end_object().map_err(json_error)
}

/// Reads an Action API body; the attachment's data goes to `sink` in blocks. An empty body is
/// an empty request (Looker sends the list and form calls so).
pub fn read_request(
    source: impl Read,
    sink: &mut dyn FnMut(Vec<u8>) -> Result<(), String>,
) -> Result<ActionRequest, BodyProblem> {
    let mut source = std::io::BufReader::new(source);
    if blank(&mut source)? {
        return Ok(ActionRequest::default());
    }
    let budget: Budget = std::rc::Rc::new(std::cell::Cell::new(Some(MEMBER_LIMIT)));
    let mut json = JsonStreamReader::new(Budgeted {
        inner: source,
        budget: budget.clone(),
    });
    let mut request = ActionRequest::default();
    if json.peek().map_err(json_error)? != ValueType::Object {
        return Err(BodyProblem::NotJson("expected a JSON object".into()));
    }
    json.begin_object().map_err(json_error)?;
    while json.has_next().map_err(json_error)? {
        budget.set(Some(MEMBER_LIMIT));
        match json.next_name_owned().map_err(json_error)?.as_str() {
            "type" => request.kind = text(&mut json)?,
            "scheduled_plan" => {
                request.plan = match json.deserialize_next::<Value>().map_err(json_error)? {
                    Value::Object(map) => serde_json::from_value(Value::Object(map)).map_err(json_error)?,
                    _ => None,
                }
            }
            "attachment" => attachment(&mut json, &mut request, &budget, sink)?,
            "data" => request.data = object(&mut json)?,
            "form_params" => request.form_params = object(&mut json)?,
            _ => json.skip_value().map_err(json_error)?,
        }
    }
    json.end_object().map_err(json_error)?;
    json.consume_trailing_whitespace().map_err(json_error)?;
    Ok(request)
}

/// Skips leading whitespace; `true` when nothing else is there.
fn blank<R: Read>(source: &mut std::io::BufReader<R>) -> Result<bool, BodyProblem> {
    use std::io::BufRead;
    loop {
        let buffer = source.fill_buf().map_err(json_error)?;
        if buffer.is_empty() {
            return Ok(true);
        }
        let blanks = buffer.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let all = blanks == buffer.len();
        source.consume(blanks);
        if !all {
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> Result<(ActionRequest, Vec<u8>), BodyProblem> {
        let mut bytes = Vec::new();
        let request = read_request(body.as_bytes(), &mut |block| {
            bytes.extend(block);
            Ok(())
        })?;
        Ok((request, bytes))
    }

    #[test]
    fn base64_in_lines_is_decoded_as_it_is_read() {
        let body = r#"{"type":"dashboard","attachment":{"mimetype":"image/png;base64","extension":"png","data":"aGVs\nbG8g\r\nd29y\nbGQ="},"form_params":{"channel":"C1"}}"#;
        let (request, bytes) = read(body).unwrap();
        assert_eq!(bytes, b"hello world");
        assert!(request.decoded && request.has_data);
        assert_eq!(request.content_type().as_deref(), Some("image/png"));
        assert_eq!(request.param("channel"), Some("C1"));
    }

    #[test]
    fn text_data_and_late_mimetypes_are_handed_on_as_sent() {
        let (request, bytes) = read(r#"{"attachment":{"data":"a,b\n1,2","mimetype":"text/csv"}}"#).unwrap();
        assert_eq!(bytes, b"a,b\n1,2");
        assert!(!request.decoded);
        let (request, bytes) = read(r#"{"attachment":{"data":"aGk=","mimetype":"image/png;base64"}}"#).unwrap();
        assert_eq!(bytes, b"aGk=", "decoded later, by the caller");
        assert!(!request.decoded && request.is_base64());
        let (_, bytes) = read(r#"{"attachment":{"mimetype":"application/json","data":{"a":1}}}"#).unwrap();
        assert_eq!(bytes, br#"{"a":1}"#);
    }

    #[test]
    fn empty_bodies_nulls_and_junk() {
        assert!(read("").unwrap().0.kind.is_none());
        assert!(read(" \n ").unwrap().0.form_params.is_empty());
        let (request, _) =
            read(r#"{"type":null,"scheduled_plan":null,"attachment":null,"data":null,"form_params":null}"#).unwrap();
        assert!(request.kind.is_none() && request.plan.is_none() && !request.has_data);
        assert!(matches!(read("{\"type\":"), Err(BodyProblem::NotJson(_))));
        assert!(matches!(read("[1]"), Err(BodyProblem::NotJson(_))));
        assert!(matches!(read("{} {}"), Err(BodyProblem::NotJson(_))));
        assert!(matches!(
            read(r#"{"attachment":{"mimetype":"image/png;base64","data":"!!!!"}}"#),
            Err(BodyProblem::NotBase64)
        ));
    }

    #[test]
    fn only_the_attachments_data_may_be_large() {
        let big = "x".repeat(3 * MEMBER_LIMIT);
        let (_, bytes) = read(&format!(
            r#"{{"attachment":{{"mimetype":"text/csv","data":"{big}"}},"form_params":{{"channel":"C1"}}}}"#
        ))
        .unwrap();
        assert_eq!(bytes.len(), big.len());
        for member in ["form_params", "data", "scheduled_plan", "type"] {
            let body = format!(r#"{{"{member}":{{"channel":"{big}"}}}}"#);
            assert!(
                matches!(read(&body), Err(BodyProblem::NotJson(why)) if why.contains("larger than 1 MiB")),
                "{member}"
            );
        }
        let body = format!(r#"{{"attachment":{{"mimetype":"{big}","data":"a"}}}}"#);
        assert!(read(&body).is_err(), "the mimetype is small");
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::http::fuzz::json;
    use base64::Engine;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_body_is_read_or_refused(document in json(), attachment in json(), bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let shaped = serde_json::json!({"type": "query", "attachment": attachment, "form_params": document.clone()});
            for body in [document.to_string().into_bytes(), shaped.to_string().into_bytes(), bytes] {
                let _ = read_request(&body[..], &mut |_| Ok(()));
            }
        }

        #[test]
        fn base64_in_lines_arrives_as_the_bytes(data in prop::collection::vec(any::<u8>(), 0..20_000), width in 1usize..120, late in any::<bool>()) {
            let encoded = base64::engine::general_purpose::STANDARD.encode(&data);
            let lines: Vec<&str> = encoded.as_bytes().chunks(width).map(|c| std::str::from_utf8(c).unwrap()).collect();
            let text = lines.join("\n");
            let data_member = format!("\"data\":{}", serde_json::Value::String(text));
            let mime_member = "\"mimetype\":\"application/pdf;base64\"";
            let members = if late { format!("{data_member},{mime_member}") } else { format!("{mime_member},{data_member}") };
            let body = format!("{{\"type\":\"dashboard\",\"attachment\":{{{members}}}}}");
            let mut kept = Vec::new();
            let request = read_request(body.as_bytes(), &mut |block| { kept.extend(block); Ok(()) }).unwrap();
            let bytes = if request.decoded {
                kept
            } else {
                base64::engine::general_purpose::STANDARD.decode(kept.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect::<Vec<_>>()).unwrap()
            };
            prop_assert_eq!(bytes, data);
            prop_assert_eq!(request.decoded, !late);
        }
    }
}
