use super::*;

/// Docker's `--env-file` reader (`opts/envfile.go`): leading whitespace trimmed, blank and `#`
/// lines skipped, split at the first `=`, the value passed through untouched.
fn docker(text: &str) -> Vec<(String, String)> {
    text.trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim_start)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.trim_start().to_string(), value.to_string()))
        .collect()
}

/// kubectl's `--from-env-file` (`processEnvFileLine`): the same split, keys checked as
/// `[-._a-zA-Z][-._a-zA-Z0-9]*`, the value untouched.
fn kubernetes(text: &str) -> Vec<(String, String)> {
    docker(text)
        .into_iter()
        .inspect(|(key, _)| {
            let valid = key.starts_with(|c: char| c.is_ascii_alphabetic() || "-._".contains(c))
                && key.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
            assert!(valid, "kubectl refuses the key {key:?}");
        })
        .collect()
}

fn ours(text: &str) -> Vec<(String, String)> {
    parse(text)
        .unwrap()
        .into_iter()
        .map(|entry| (entry.key, entry.value))
        .collect()
}

/// The forms the README and `.env.example` document, each written once for all three readers.
const DOCUMENTED: &str = r##"# Lookerbot's own settings carry over
SLACK_API_KEY=xoxb-1234-5678-abcdef
LOOKERBOT_AUDIENCE=#finance=private
LOOKERBOT_AUDIENCE=#finance=private, #sales=private
LOOKERBOT_AUDIENCE_GROUPS=#sales=Field Sales
LOOKERBOT_ALERTS_CHANNEL=#lookerbot-alerts
LOOKERS=[{"url":"https://looker.example.com","apiBaseUrl":"https://looker.example.com/api/4.0","clientId":"abc","clientSecret":"def"}]
   PORT=3333
LOOKERBOT_TOKEN_KEY=c2VjcmV0LWtleS0zMi1ieXRlcy1sb25nLXJlYWxseSE=
EMPTY=
"##;

#[test]
fn documented_forms_mean_the_same_to_docker_kubernetes_and_lookerbot() {
    let ours = ours(DOCUMENTED);
    assert_eq!(ours, docker(DOCUMENTED));
    assert_eq!(ours, kubernetes(DOCUMENTED));
    let audience = ours.iter().find(|(key, _)| key == "LOOKERBOT_AUDIENCE").unwrap();
    assert_eq!(
        audience.1, "#finance=private",
        "a leading # is the value, not a comment"
    );
    let lookers = ours.iter().find(|(key, _)| key == "LOOKERS").unwrap();
    let json: serde_json::Value = serde_json::from_str(&lookers.1).unwrap();
    assert_eq!(json[0]["clientId"], "abc", "the JSON keeps its quotes");
}

#[test]
fn the_example_file_means_the_same_to_all_three_readers() {
    let example = include_str!("../../.env.example");
    // Every commented-out setting, uncommented as an operator would.
    let uncommented: String = example
        .lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest) if rest.trim_start().split_once('=').is_some_and(|(k, _)| !k.contains(' ')) => {
                rest.trim_start().to_string()
            }
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    for text in [example, uncommented.as_str()] {
        let ours = ours(text);
        assert_eq!(ours, docker(text));
        assert_eq!(ours, kubernetes(text));
    }
}

#[test]
fn wrapping_quotes_and_export_are_dotenv_habits_kept() {
    let read = ours("export A=1\nB=\"two words\"\nC='#x'\nD=\"\"\n");
    assert_eq!(read[0], ("A".into(), "1".into()));
    assert_eq!(read[1], ("B".into(), "two words".into()));
    assert_eq!(read[2], ("C".into(), "#x".into()));
    assert_eq!(read[3], ("D".into(), "".into()));
}

#[test]
fn a_line_read_differently_elsewhere_is_refused_with_its_number() {
    for (text, line, says) in [
        ("A=1\nPORT=3333 # the web port\n", 2, "looks like a comment"),
        ("A=1\n\nxoxb-pasted-token\n", 3, "is not KEY=value"),
        ("MY KEY=1\n", 1, "not a variable name"),
        ("A = 1\n", 1, "not a variable name"),
        ("A=\"open\n", 1, "starts with a quote"),
        ("A=\"a\" and \"b\"\n", 1, "starts with a quote"),
        ("A=x #\n", 1, "looks like a comment"),
    ] {
        let (number, problem) = parse(text).unwrap_err();
        assert_eq!(number, line, "{text:?}: {problem}");
        assert!(!problem.contains("xoxb"), "a line's secret is not echoed: {problem}");
        assert!(problem.contains(says), "{text:?}: {problem}");
    }
}

#[test]
fn a_hash_inside_a_value_is_the_value() {
    let read = ours("A=#x\nB=a#b\nC=#a=private, #b=private\nD=x y\n");
    let values: Vec<&str> = read.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(values, ["#x", "a#b", "#a=private, #b=private", "x y"]);
}

#[test]
fn a_missing_file_is_no_file_and_a_bad_one_names_itself() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(read(&dir.path().join(".env")).unwrap(), None);
    let path = dir.path().join(".env");
    std::fs::write(&path, "A=1\nB=2 # two\n").unwrap();
    let error = read(&path).unwrap_err();
    assert_eq!(error.line, 2);
    assert!(
        error
            .to_string()
            .starts_with(&format!("{} line 2: B's value", path.display())),
        "{error}"
    );
}
