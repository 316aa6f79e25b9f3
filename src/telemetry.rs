//! Logs: readable text by default, JSON lines with `LOG_FORMAT=json`; the filter from the
//! settings (`RUST_LOG`'s syntax).

use tracing_subscriber::EnvFilter;

use crate::config::{DEFAULT_LOG_FILTER, LogFormat};

pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
