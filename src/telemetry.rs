//! Logs: readable text by default, JSON lines with `LOG_FORMAT=json`; the filter from the
//! settings (`RUST_LOG`'s syntax). Values in log lines often come from requests (channel names,
//! titles, command text, Looker's messages), so every field is made printable: control
//! characters escaped (a newline cannot start a forged line), and cut to a sane length with its
//! full size noted.

use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format;

use crate::config::{DEFAULT_LOG_FILTER, LogFormat};

/// The longest a logged value is shown, in characters.
pub const MAX_FIELD_CHARS: usize = 1_000;

pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_writer(JsonLines(io::stderr))
            .try_init(),
        LogFormat::Text => builder
            .with_ansi(io::stderr().is_terminal())
            .fmt_fields(
                format::debug_fn(|writer, field, value| {
                    let shown = printable(&format!("{value:?}"));
                    match field.name() {
                        "message" => write!(writer, "{shown}"),
                        name => write!(writer, "{name}={shown}"),
                    }
                })
                .delimited(" "),
            )
            .with_writer(io::stderr)
            .try_init(),
    };
}

/// `text` as one printable line: control characters (and Unicode's line and paragraph
/// separators) escaped, and no longer than [`MAX_FIELD_CHARS`], with the full size noted.
pub fn printable(text: &str) -> String {
    let mut shown = String::with_capacity(text.len().min(MAX_FIELD_CHARS + 40));
    for (count, c) in text.chars().enumerate() {
        if count == MAX_FIELD_CHARS {
            let _ = write!(shown, "… ({} bytes in all)", text.len());
            return shown;
        }
        match c {
            '\n' => shown.push_str("\\n"),
            '\r' => shown.push_str("\\r"),
            '\t' => shown.push_str("\\t"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(shown, "\\u{{{:x}}}", c as u32);
            }
            c => shown.push(c),
        }
    }
    shown
}

/// JSON lines with every long string value cut to [`MAX_FIELD_CHARS`] (serde already escapes
/// control characters). Each event arrives as one line; it is re-read only when it is long.
struct JsonLines<W>(W);

impl<'a, M> MakeWriter<'a> for JsonLines<M>
where
    M: Fn() -> io::Stderr + 'static,
{
    type Writer = CutLongStrings<io::Stderr>;

    fn make_writer(&'a self) -> Self::Writer {
        CutLongStrings {
            line: Vec::new(),
            out: (self.0)(),
        }
    }
}

struct CutLongStrings<W: Write> {
    line: Vec<u8>,
    out: W,
}

impl<W: Write> Write for CutLongStrings<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.line.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.line.is_empty() {
            return Ok(());
        }
        let line = std::mem::take(&mut self.line);
        if line.len() <= MAX_FIELD_CHARS {
            return self.out.write_all(&line);
        }
        match serde_json::from_slice::<serde_json::Value>(&line) {
            Ok(mut event) => {
                cut(&mut event);
                let mut shortened = serde_json::to_vec(&event).unwrap_or(line);
                shortened.push(b'\n');
                self.out.write_all(&shortened)
            }
            Err(_) => self.out.write_all(&line),
        }
    }
}

impl<W: Write> Drop for CutLongStrings<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

fn cut(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) if text.chars().count() > MAX_FIELD_CHARS => {
            let size = text.len();
            let mut kept: String = text.chars().take(MAX_FIELD_CHARS).collect();
            let _ = write!(kept, "… ({size} bytes in all)");
            *text = kept;
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(cut),
        serde_json::Value::Object(map) => map.values_mut().for_each(cut),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cannot_break_lines_and_are_cut_to_size() {
        assert_eq!(printable("a\nb\r\u{0}c\u{2028}"), "a\\nb\\r\\u{0}c\\u{2028}");
        let huge = "x".repeat(8 * 1024 * 1024);
        let shown = printable(&huge);
        assert!(shown.len() < MAX_FIELD_CHARS + 40, "{}", shown.len());
        assert!(shown.ends_with("(8388608 bytes in all)"));
        let mut event = serde_json::json!({"title": huge, "n": 1});
        cut(&mut event);
        assert!(event["title"].as_str().unwrap().ends_with("(8388608 bytes in all)"));
    }
}
