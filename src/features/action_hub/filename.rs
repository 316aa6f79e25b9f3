//! File names for what Looker sends, by the rules of Looker's own hub (`ActionRequest`'s
//! `suggestedFilename` and `completeFilename`), with its gaps closed: a name the user typed
//! that already ends with the extension is kept, one with any other dot falls back to
//! `<title>.<ext>`, one without gets the extension; whitespace becomes `_`; every name is
//! sanitised as `sanitize-filename` does (no path separators, reserved characters, control
//! characters, trailing dots or Windows device names; at most 255 bytes), and Looker's format
//! names become real extensions (`wysiwyg_pdf` is a `.pdf`).

use std::sync::LazyLock;

use regex::Regex;

/// The extension for a Looker format name.
pub fn extension_for_format(format: &str) -> &str {
    match format {
        "json" | "json_label" | "inline_json" | "json_detail" | "json_detail_lite_stream" | "json_bi" => "json",
        "wysiwyg_pdf" | "assembled_pdf" => "pdf",
        "wysiwyg_png" => "png",
        "csv_zip" => "zip",
        other => other,
    }
}

static RESERVED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$").expect("valid regex"));

/// `sanitize-filename` 1.6.3 with an empty replacement.
fn sanitize(name: &str) -> String {
    let kept: String = name
        .chars()
        .filter(|c| !matches!(c, '/' | '?' | '<' | '>' | '\\' | ':' | '*' | '|' | '"'))
        .filter(|c| !matches!(*c as u32, 0x00..=0x1f | 0x80..=0x9f))
        .collect();
    if kept.chars().all(|c| c == '.') || RESERVED.is_match(&kept) {
        return String::new();
    }
    let trimmed = kept.trim_end_matches(['.', ' ']);
    let mut end = trimmed.len().min(255);
    while !trimmed.is_char_boundary(end) {
        end -= 1;
    }
    trimmed[..end].to_string()
}

fn or_generated(name: String, extension: &str, now_millis: i64) -> String {
    if name.is_empty() {
        format!("looker_file_{now_millis}.{extension}")
    } else {
        name
    }
}

/// The name when the user gave none: `<title>.<ext>`, or `looker_file_<ms>.<ext>`.
pub fn suggested_filename(title: Option<&str>, extension: &str, now_millis: i64) -> String {
    let named = match title.map(str::trim).filter(|t| !t.is_empty()) {
        Some(title) => sanitize(&format!("{title}.{extension}")),
        None => String::new(),
    };
    or_generated(named, extension, now_millis)
}

/// The name for a file the user named `filename` in the form (or `None`).
pub fn complete_filename(filename: Option<&str>, title: Option<&str>, extension: &str, now_millis: i64) -> String {
    let Some(given) = filename.map(str::trim).filter(|f| !f.is_empty()) else {
        return suggested_filename(title, extension, now_millis);
    };
    let underscored: String = given.chars().map(|c| if c.is_whitespace() { '_' } else { c }).collect();
    let dotted = format!(".{extension}").to_lowercase();
    let named = if underscored.to_lowercase().ends_with(&dotted) {
        sanitize(&underscored)
    } else if underscored.contains('.') {
        return suggested_filename(title, extension, now_millis);
    } else {
        sanitize(&format!("{underscored}.{extension}"))
    };
    or_generated(named, extension, now_millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// Where the bot means to differ from Looker's hub, and what it does instead.
    fn ours_differs(case: &Value) -> Option<&'static str> {
        match case["expected"].as_str()? {
            // Looker checks the extension without its dot.
            "report_csv" => Some("report_csv.csv"),
            // Looker never sanitises a name the user typed.
            "a/b:c.csv" => Some("abc.csv"),
            // Looker returns the raw name when it streams.
            " my report " => Some("my_report.bin"),
            // Looker leaves an empty name.
            "" => Some("looker_file_1700000000000.csv"),
            // Looker keeps its format names as extensions.
            "Dash.wysiwyg_pdf" => Some("Dash.pdf"),
            _ => None,
        }
    }

    #[test]
    fn names_follow_lookers_hub_except_where_it_is_wrong() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/looker_hub/actions_hub/filename_cases.json"
        ))
        .unwrap();
        let cases: Value = serde_json::from_str(&text).unwrap();
        let now = 1_700_000_000_000;
        for case in cases["cases"].as_array().unwrap() {
            let title = case["scheduled_plan_title"].as_str();
            let params = &case["form_params"];
            let extension = case["attachment_extension"]
                .as_str()
                .map(str::to_string)
                .or_else(|| params["format"].as_str().map(|f| extension_for_format(f).to_string()))
                .unwrap_or_else(|| "bin".into());
            let got = match case["fn"].as_str().unwrap() {
                "suggestedFilename" => suggested_filename(title, &extension, now),
                _ => complete_filename(params["filename"].as_str(), title, &extension, now),
            };
            let expected = ours_differs(case).map(str::to_string).unwrap_or_else(|| {
                case["expected"]
                    .as_str()
                    .unwrap()
                    .replace("<Date.now() ms>", &now.to_string())
            });
            assert_eq!(got, expected, "{case}");
        }
    }

    #[test]
    fn long_names_are_cut_on_a_character_boundary() {
        let name = suggested_filename(Some(&"é".repeat(300)), "csv", 0);
        assert!(name.len() <= 255 && !name.is_empty());
        assert_eq!(sanitize("..."), "");
        assert_eq!(sanitize("report. "), "report");
    }
}
