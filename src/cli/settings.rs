//! `lookerbot settings`: a `.env` to start from, or the docs' settings tables, both written from
//! the one list of settings (`config::catalog`), so neither can drift from the code.

use crate::config::catalog::{Example, Initial, SECTIONS, Setting};

/// The `.env.example` file: every setting, commented out at its default unless it must be set.
pub fn env_example() -> String {
    let mut out = String::from(
        "# lookerbot settings. Copy to .env and fill in; the environment wins over this file.\n\
         # Written by `lookerbot settings` from the bot's own list: every setting, at its default.\n\
         # Values are read exactly as written: no quotes, and a `#` inside a value is part of it.\n\
         # `lookerbot check` tests them. The placeholders below must be replaced before the bot can work.\n",
    );
    for section in SECTIONS {
        out.push_str(&format!("\n# --- {} ---\n", section.0));
        for setting in section.1 {
            for line in wrap(&describe(setting), 96) {
                out.push_str(&format!("# {line}\n"));
            }
            match (setting.example, setting.default) {
                (Some(Example::Set(value)), _) => out.push_str(&format!("{}={value}\n", setting.name)),
                (Some(Example::Like(value)), _) | (None, Initial::Value(value)) => {
                    out.push_str(&format!("# {}={value}\n", setting.name))
                }
                (None, _) => out.push_str(&format!("# {}=\n", setting.name)),
            }
        }
    }
    out
}

/// A setting's meaning, with its default when the value line does not show it.
fn describe(setting: &Setting) -> String {
    let plain = setting.meaning.replace('`', "");
    let mut letters = plain.chars();
    let meaning: String = letters
        .next()
        .map(|c| c.to_uppercase().chain(letters).collect())
        .unwrap_or_default();
    match setting.default {
        Initial::Required(when) => format!("{meaning} ({}).", when.replace('`', "")),
        Initial::Computed(how) => format!("{meaning}. Default: {}.", how.replace('`', "")),
        Initial::Value(value) if setting.example.is_some() => format!("{meaning}. Default: {value}."),
        _ => format!("{meaning}."),
    }
}

/// The settings tables of the docs: one per section, with Lookerbot's column.
pub fn markdown_tables() -> String {
    let mut out = String::new();
    for section in SECTIONS {
        out.push_str(&format!(
            "#### {}\n\n| variable | default | meaning | Lookerbot |\n| --- | --- | --- | --- |\n",
            section.0
        ));
        for setting in section.1 {
            let default = match setting.default {
                Initial::Required(when) | Initial::Computed(when) => when.to_string(),
                Initial::Value(value) => format!("`{value}`"),
                Initial::Unset => "—".into(),
            };
            out.push_str(&format!(
                "| `{}` | {default} | {} | {} |\n",
                setting.name, setting.meaning, setting.lookerbot
            ));
        }
        out.push('\n');
    }
    out
}

/// Greedy word wrap at `width` columns.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use clap::Args;

    use super::*;
    use crate::config::RawSettings;
    use crate::config::catalog::{self, Initial};

    /// The variables the code reads, from its own argument definitions.
    fn read_by_the_code() -> Vec<String> {
        RawSettings::augment_args(clap::Command::new("lookerbot"))
            .get_arguments()
            .filter_map(|arg| arg.get_env())
            .map(|name| name.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn the_list_names_every_variable_the_code_reads_and_no_other() {
        let mut read = read_by_the_code();
        let mut listed: Vec<String> = catalog::settings().map(|s| s.name.to_string()).collect();
        read.sort();
        listed.sort();
        assert_eq!(read, listed);
    }

    /// The settings these variables give, read by clap as the binary reads them (the process's
    /// own environment left out) and checked.
    fn settings_from(pairs: &[(&str, &str)]) -> String {
        let command = RawSettings::augment_args(clap::Command::new("lookerbot")).mut_args(|arg| arg.env(None::<&str>));
        let mut argv = vec!["lookerbot".to_string()];
        let minimal = [
            ("SLACK_API_KEY", "xoxb-1"),
            ("SLACK_SIGNING_SECRET", "s"),
            ("LOOKER_URL", "https://looker.example.com"),
            ("LOOKER_API_BASE_URL", "https://looker.example.com/api/4.0"),
            ("LOOKER_API_CLIENT_ID", "id"),
            ("LOOKER_API_CLIENT_SECRET", "secret"),
        ];
        for (name, value) in minimal.iter().chain(pairs) {
            argv.push(format!("--{}={value}", name.to_lowercase().replace('_', "-")));
        }
        let matches = command.try_get_matches_from(argv).unwrap();
        let raw = <RawSettings as clap::FromArgMatches>::from_arg_matches(&matches).unwrap();
        format!("{:?}", raw.validate().unwrap().0)
    }

    #[test]
    fn every_stated_default_is_the_codes_own() {
        let unset = settings_from(&[]);
        let mut checked = 0;
        for setting in catalog::settings() {
            if let Initial::Value(value) = setting.default {
                assert_eq!(
                    settings_from(&[(setting.name, value)]),
                    unset,
                    "{} is documented to default to {value}, but setting it changes the settings",
                    setting.name
                );
                checked += 1;
            }
        }
        assert!(checked >= 40, "{checked} defaults checked");
        assert_ne!(
            settings_from(&[("LOOKERBOT_DATA_ACTIONS_IN_MESSAGES", "false")]),
            unset,
            "the check can fail"
        );
    }

    #[test]
    fn every_setting_is_in_the_example_once_and_the_required_ones_are_set() {
        let example = env_example();
        for setting in crate::config::catalog::settings() {
            let set = format!("\n{}=", setting.name);
            let commented = format!("\n# {}=", setting.name);
            assert_eq!(
                example.matches(&set).count() + example.matches(&commented).count(),
                1,
                "{}",
                setting.name
            );
        }
        assert!(example.contains("\nSLACK_API_KEY=xoxb-replace-me\n"));
        assert!(example.contains("\n# LOOKERBOT_DATA_ACTIONS_IN_MESSAGES=true\n"));
    }
}
