//! The `.env` file, read by the rules Docker (`--env-file`) and Kubernetes (`--from-env-file`)
//! use, so that one file means the same wherever it is used: `KEY=value`, the value taken as
//! written after the first `=` (a `#` in it is part of it, quotes inside it are kept, no `$`
//! expansion), blank lines and lines starting with `#` skipped.
//!
//! dotenv's rules differ, and the difference was a trap: `LOOKERBOT_AUDIENCE=#finance=private`
//! read as a comment set nothing (so #finance answers stayed public), and `LOOKERS` JSON lost its
//! quotes. Two dotenv habits are kept because their meaning is clear: `export KEY=value`, and a
//! value wrapped whole in quotes (`KEY="two words"`). What the three readers would read
//! differently is refused with the line named, never guessed: a trailing `# comment`.

use std::path::Path;

/// One setting read from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub line: usize,
    pub key: String,
    pub value: String,
}

/// Why a line cannot be read; the server refuses to start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} line {line}: {problem}")]
pub struct EnvFileError {
    pub file: String,
    pub line: usize,
    pub problem: String,
}

/// Reads `path`; `Ok(None)` when there is no such file.
pub fn read(path: &Path) -> Result<Option<Vec<Entry>>, EnvFileError> {
    let text = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(EnvFileError {
                file: path.display().to_string(),
                line: 0,
                problem: format!("cannot be read: {error}"),
            });
        }
    };
    let text = String::from_utf8(text).map_err(|error| EnvFileError {
        file: path.display().to_string(),
        line: 0,
        problem: format!("is not UTF-8 text ({error})"),
    })?;
    parse(&text).map(Some).map_err(|(line, problem)| EnvFileError {
        file: path.display().to_string(),
        line,
        problem,
    })
}

/// Reads `path` into the process environment; a variable already set wins over the file.
/// The settings it set, or `None` without a file. Call it first thing in `main`, before any
/// thread exists.
#[allow(unsafe_code)]
pub fn load(path: &Path) -> Result<Option<usize>, EnvFileError> {
    let Some(entries) = read(path)? else {
        return Ok(None);
    };
    let mut set = 0;
    for entry in entries {
        if std::env::var_os(&entry.key).is_none() {
            // SAFETY: called once at start, before the runtime or any other thread exists, so
            // nothing reads the environment while it changes.
            unsafe { std::env::set_var(&entry.key, &entry.value) };
            set += 1;
        }
    }
    Ok(Some(set))
}

/// Every setting of `text`, or the first line that cannot be read with why.
pub fn parse(text: &str) -> Result<Vec<Entry>, (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut entries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        entries.push(parse_line(line).map_err(|problem| (number, problem))?.at(number));
    }
    Ok(entries)
}

impl Entry {
    fn at(mut self, line: usize) -> Self {
        self.line = line;
        self
    }
}

fn parse_line(line: &str) -> Result<Entry, String> {
    let line = line.strip_prefix("export ").map(str::trim_start).unwrap_or(line);
    let Some((key, value)) = line.split_once('=') else {
        // Not echoed: a line without `=` may be a secret pasted on its own.
        return Err("the line is not KEY=value".into());
    };
    let key = key.to_string();
    let valid_key = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_key {
        return Err(format!(
            "`{}` is not a variable name (letters, digits and _, no spaces around =)",
            shorten(&key)
        ));
    }
    let value = value.trim_end();
    if let Some(quoted) = unquote(value) {
        return Ok(Entry {
            line: 0,
            key,
            value: quoted.to_string(),
        });
    }
    if value.starts_with(['"', '\'']) {
        return Err(format!(
            "{key}'s value starts with a quote that does not wrap it whole; write it without quotes (Docker and Kubernetes keep quotes as part of the value)"
        ));
    }
    if let Some(at) = trailing_comment(value) {
        return Err(format!(
            "{key}'s value ends in what looks like a comment (`{}`); Docker and Kubernetes would keep it as part of the value, so put the comment on a line of its own",
            shorten(&value[at..])
        ));
    }
    Ok(Entry {
        line: 0,
        key,
        value: value.to_string(),
    })
}

/// The inside of a value wrapped whole in one kind of quote, with no such quote inside.
fn unquote(value: &str) -> Option<&str> {
    ['"', '\''].into_iter().find_map(|quote| {
        let inner = value.strip_prefix(quote)?.strip_suffix(quote)?;
        (!inner.contains(quote)).then_some(inner)
    })
}

/// Where a ` # text` comment starts: a `#` after a space and followed by a space or the end.
/// `#finance=private, #sales=private` is a value, not a comment.
fn trailing_comment(value: &str) -> Option<usize> {
    let bytes = value.as_bytes();
    (1..bytes.len()).find(|&i| {
        bytes[i] == b'#'
            && bytes[i - 1].is_ascii_whitespace()
            && bytes.get(i + 1).is_none_or(|next| next.is_ascii_whitespace())
    })
}

fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(40).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
#[path = "env_file_tests.rs"]
mod tests;
