//! Who may read an answer in a channel: per channel the operator chooses `public` (the answer
//! is posted in the channel), `private` (only the asker sees it, with a button to share it) or
//! `links` (only a link to Looker, never data), by channel id, `#name` or `#pattern-*`; channels
//! no rule names get a default, and channels shared with other organisations (Slack Connect) a
//! default of their own, `private` unless the operator says otherwise.

use regex::Regex;

use super::RawSettings;
use super::checker::{Checker, non_empty};

/// Where an answer in a channel may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Public,
    Private,
    Links,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Public => "public",
            Audience::Private => "private",
            Audience::Links => "links",
        }
    }

    fn parse(word: &str) -> Option<Audience> {
        [Audience::Public, Audience::Private, Audience::Links]
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(word.trim()))
    }
}

/// Which channels a rule names.
#[derive(Debug, Clone)]
enum Channels {
    /// A channel id (`C…`, `G…`), exactly.
    Id(String),
    /// A channel name, `*` matching any run of characters.
    Name(Regex),
}

#[derive(Debug, Clone)]
pub struct AudienceSettings {
    rules: Vec<(Channels, Audience)>,
    /// Channels tied to a Looker group: data is posted there only from models the group may use.
    ties: Vec<(Channels, String)>,
    /// For our own channels no rule names.
    pub default: Audience,
    /// For Slack Connect channels no rule names.
    pub external: Audience,
}

impl Default for AudienceSettings {
    fn default() -> Self {
        Self {
            rules: Vec::new(),
            ties: Vec::new(),
            default: Audience::Public,
            external: Audience::Private,
        }
    }
}

impl Channels {
    fn names(&self, id: &str, name: Option<&str>) -> bool {
        match self {
            Channels::Id(wanted) => wanted.eq_ignore_ascii_case(id),
            Channels::Name(pattern) => name.is_some_and(|name| pattern.is_match(name)),
        }
    }
}

impl AudienceSettings {
    /// The Looker group the channel is tied to, by the first tie naming it.
    pub fn tie_of(&self, id: &str, name: Option<&str>) -> Option<&str> {
        self.ties
            .iter()
            .find(|(channels, _)| channels.names(id, name))
            .map(|(_, group)| group.as_str())
    }

    pub fn has_ties(&self) -> bool {
        !self.ties.is_empty()
    }

    /// The audience of a channel, by the first rule naming it, else by the defaults.
    pub fn of(&self, id: &str, name: Option<&str>, external: bool) -> Audience {
        let named = self.rules.iter().find(|(channels, _)| channels.names(id, name));
        match named {
            Some((_, audience)) => *audience,
            None if external => self.external,
            None => self.default,
        }
    }
}

impl RawSettings {
    /// `personal`: some Looker answers people as themselves, so an answer holds what one person
    /// may see and goes to them alone unless the operator opens the channel.
    pub(super) fn audience(&self, c: &mut Checker, personal: bool) -> AudienceSettings {
        let words = [
            ("public", Audience::Public),
            ("private", Audience::Private),
            ("links", Audience::Links),
        ];
        let mut settings = AudienceSettings {
            rules: Vec::new(),
            ties: Vec::new(),
            default: c.choice(
                "LOOKERBOT_AUDIENCE_DEFAULT",
                &self.lookerbot_audience_default,
                if personal { Audience::Private } else { Audience::Public },
                &words,
            ),
            external: c.choice(
                "LOOKERBOT_AUDIENCE_EXTERNAL",
                &self.lookerbot_audience_external,
                Audience::Private,
                &words,
            ),
        };
        for entry in non_empty(&self.lookerbot_audience).unwrap_or("").split(',') {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let parsed = entry
                .split_once('=')
                .and_then(|(channels, audience)| Some((channels_of(channels.trim())?, Audience::parse(audience)?)));
            match parsed {
                Some(rule) => settings.rules.push(rule),
                None => c.problem(
                    "LOOKERBOT_AUDIENCE",
                    format!(
                        "{entry:?}: expected channel=audience pairs separated by commas, the channel an id \
                         (C0123ABCD), a #name or a #pattern-* (the # may be left out), the audience public, private or links"
                    ),
                ),
            }
        }
        for entry in non_empty(&self.lookerbot_audience_groups).unwrap_or("").split(',') {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let parsed = entry.split_once('=').and_then(|(channels, group)| {
                let group = group.trim();
                (!group.is_empty()).then(|| Some((channels_of(channels.trim())?, group.to_string())))?
            });
            match parsed {
                Some(tie) => settings.ties.push(tie),
                None => c.problem(
                    "LOOKERBOT_AUDIENCE_GROUPS",
                    format!("{entry:?}: expected channel=Looker group name pairs separated by commas"),
                ),
            }
        }
        settings
    }
}

/// A channel id (`C0123ABCD`: upper case, as Slack writes ids) or a name with or without its `#`
/// (`#finance`, `finance`, `exec-*`): the `#` is optional so that a rule means the same in every
/// settings file, some of which read a leading `#` as a comment.
fn channels_of(text: &str) -> Option<Channels> {
    let is_id = text.len() >= 9
        && matches!(text.as_bytes()[0], b'C' | b'G')
        && text.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if is_id {
        return Some(Channels::Id(text.to_string()));
    }
    let name = text.strip_prefix('#').unwrap_or(text);
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '*'));
    if !valid {
        return None;
    }
    let pattern = name.split('*').map(regex::escape).collect::<Vec<_>>().join(".*");
    Regex::new(&format!("(?i)^{pattern}$")).ok().map(Channels::Name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(rules: &str, default: Option<&str>, external: Option<&str>) -> Result<AudienceSettings, Vec<String>> {
        let raw = RawSettings {
            lookerbot_audience: Some(rules.into()),
            lookerbot_audience_default: default.map(str::to_string),
            lookerbot_audience_external: external.map(str::to_string),
            lookerbot_audience_groups: Some("#sales*=Sales Team, C0000FINANCE=Finance".into()),
            ..Default::default()
        };
        let mut c = Checker::default();
        let parsed = raw.audience(&mut c, false);
        match c.finish() {
            Ok(_) => Ok(parsed),
            Err(error) => Err(error.0.into_iter().map(|p| p.to_string()).collect()),
        }
    }

    #[test]
    fn the_first_rule_naming_a_channel_wins_then_the_defaults() {
        let s = settings(
            "#finance=private, #hr-*=links, C0000GENERAL=links, #*-public=public",
            None,
            None,
        )
        .unwrap();
        assert_eq!(s.of("C1", Some("finance"), false), Audience::Private);
        assert_eq!(
            s.of("C1", Some("Finance"), false),
            Audience::Private,
            "names are case-insensitive"
        );
        assert_eq!(
            s.of("C1", Some("finance-team"), false),
            Audience::Public,
            "a name is whole"
        );
        assert_eq!(s.of("C1", Some("hr-payroll"), false), Audience::Links);
        assert_eq!(s.of("C0000GENERAL", Some("general"), false), Audience::Links);
        assert_eq!(
            s.of("C2", Some("partner-public"), true),
            Audience::Public,
            "named, so the rule applies"
        );
        assert_eq!(
            s.of("C3", Some("partner"), true),
            Audience::Private,
            "Slack Connect: private"
        );
        assert_eq!(s.of("C3", None, false), Audience::Public);
        assert_eq!(s.tie_of("C9", Some("sales-emea")), Some("Sales Team"));
        assert_eq!(s.tie_of("C0000FINANCE", None), Some("Finance"));
        assert_eq!(s.tie_of("C9", Some("general")), None);
    }

    #[test]
    fn a_name_means_the_same_with_or_without_its_hash() {
        let s = settings("finance=private, exec-*=links, #hr=links", None, None).unwrap();
        assert_eq!(s.of("C1", Some("finance"), false), Audience::Private);
        assert_eq!(s.of("C1", Some("exec-board"), false), Audience::Links);
        assert_eq!(s.of("C1", Some("hr"), false), Audience::Links);
        assert_eq!(s.of("C1", Some("general"), false), Audience::Public);
    }

    #[test]
    fn defaults_are_settings_and_mistakes_name_the_entry() {
        let s = settings("", Some("links"), Some("public")).unwrap();
        assert_eq!(s.of("C1", Some("x"), false), Audience::Links);
        assert_eq!(s.of("C1", Some("x"), true), Audience::Public);
        let problems = settings("#ok=public, fin/ance=private, #x=secret", None, Some("open")).unwrap_err();
        assert!(
            problems.iter().any(|p| p.contains("\"fin/ance=private\"")),
            "{problems:?}"
        );
        assert!(problems.iter().any(|p| p.contains("\"#x=secret\"")), "{problems:?}");
        assert!(
            problems.iter().any(|p| p.starts_with("LOOKERBOT_AUDIENCE_EXTERNAL")),
            "{problems:?}"
        );
    }
}
