//! Collecting setting problems while parsing, so the user sees them all in one run.

use std::fmt;

use url::Url;

use super::{SettingProblem, SettingsError};

/// Gathers every problem and warning found while reading the settings.
#[derive(Default)]
pub(super) struct Checker {
    pub(super) problems: Vec<SettingProblem>,
    pub(super) warnings: Vec<String>,
}

impl Checker {
    pub(super) fn problem(&mut self, variable: &'static str, message: impl Into<String>) {
        self.problems.push(SettingProblem {
            variable,
            message: message.into(),
        });
    }

    pub(super) fn warn(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }

    /// `Err` with every problem when there was any.
    pub(super) fn finish(self) -> Result<Vec<String>, SettingsError> {
        if self.problems.is_empty() {
            Ok(self.warnings)
        } else {
            Err(SettingsError(self.problems))
        }
    }

    pub(super) fn flag(&mut self, variable: &'static str, value: &Option<String>, default: bool) -> bool {
        match non_empty(value).map(|v| v.to_ascii_lowercase()) {
            None => default,
            Some(v) if matches!(v.as_str(), "true" | "1" | "yes" | "on") => true,
            Some(v) if matches!(v.as_str(), "false" | "0" | "no" | "off") => false,
            Some(v) => {
                self.problem(variable, format!("expected true or false, got {v:?}"));
                default
            }
        }
    }

    pub(super) fn number<T: std::str::FromStr + PartialOrd + fmt::Display + Copy>(
        &mut self,
        variable: &'static str,
        value: &Option<String>,
        default: T,
        min: T,
        max: T,
    ) -> T {
        let Some(text) = non_empty(value) else { return default };
        match text.parse::<T>() {
            Ok(n) if n >= min && n <= max => n,
            _ => {
                self.problem(
                    variable,
                    format!("expected a whole number from {min} to {max}, got {text:?}"),
                );
                default
            }
        }
    }

    /// Seconds, as a number of whole seconds within bounds.
    pub(super) fn seconds(
        &mut self,
        variable: &'static str,
        value: &Option<String>,
        default: u64,
        min: u64,
        max: u64,
    ) -> std::time::Duration {
        std::time::Duration::from_secs(self.number(variable, value, default, min, max))
    }

    pub(super) fn url(&mut self, variable: &'static str, value: &str) -> Option<Url> {
        match Url::parse(value.trim()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Some(url),
            _ => {
                self.problem(variable, format!("expected an http(s) URL, got {value:?}"));
                None
            }
        }
    }

    /// One of several words (case-insensitive), or the default when unset.
    pub(super) fn choice<T: Copy>(
        &mut self,
        variable: &'static str,
        value: &Option<String>,
        default: T,
        choices: &[(&str, T)],
    ) -> T {
        let Some(text) = non_empty(value) else { return default };
        match choices.iter().find(|(word, _)| word.eq_ignore_ascii_case(text)) {
            Some((_, chosen)) => *chosen,
            None => {
                let words: Vec<&str> = choices.iter().map(|(word, _)| *word).collect();
                self.problem(
                    variable,
                    format!("expected {}, got {:?}", words.join(" or "), text.to_ascii_lowercase()),
                );
                default
            }
        }
    }
}

/// The trimmed value, or `None` when unset or blank.
pub(super) fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}
