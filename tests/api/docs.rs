//! The book in `docs/` and the README, checked as a reader would follow them: every chapter is in
//! the summary, every relative link leads to a file that exists (and to a heading that exists
//! when it names one), and every sentence the bot can say to a person is in Troubleshooting.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `(target, from file)` of every Markdown link `](target)` that is not a web address.
fn relative_links(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut links = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("](") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = &rest[..end];
        if !target.contains("://") && !target.starts_with("mailto:") {
            links.push(target.to_string());
        }
        rest = &rest[end..];
    }
    links
}

/// GitHub's and mdBook's anchor of a heading: lower case, spaces to `-`, punctuation dropped.
fn anchors(file: &Path) -> HashSet<String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter(|line| line.starts_with('#'))
        .map(|line| {
            line.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs/src")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files
}

#[test]
fn every_relative_link_leads_somewhere_that_exists() {
    let mut broken = Vec::new();
    for file in markdown_files() {
        for link in relative_links(&file) {
            let (path, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            if !target.exists() {
                broken.push(format!("{}: {link} (no such file)", file.display()));
            } else if !anchor.is_empty() && !anchors(&target).contains(anchor) {
                broken.push(format!("{}: {link} (no such heading)", file.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_chapter_is_in_the_summary() {
    let summary = root().join("docs/src/SUMMARY.md");
    let listed: HashSet<String> = relative_links(&summary).into_iter().collect();
    for file in markdown_files().into_iter().skip(1) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if name != "SUMMARY.md" {
            assert!(listed.contains(&name), "{name} is not in SUMMARY.md");
        }
    }
}

#[test]
fn every_sentence_the_bot_says_to_a_person_is_in_troubleshooting() {
    let errors = std::fs::read_to_string(root().join("src/features/errors.rs")).unwrap();
    let page = std::fs::read_to_string(root().join("docs/src/troubleshooting.md")).unwrap();
    let page = page.replace("…", "");
    let mut missing = Vec::new();
    // Each `#[error("…")]`: its words up to the first placeholder identify it.
    for chunk in errors.split("#[error(").skip(1) {
        let Some(start) = chunk.find('"') else { continue };
        let sentence = &chunk[start + 1..];
        let sentence = &sentence[..sentence.find('"').unwrap()];
        let fixed = sentence.split('{').next().unwrap().trim();
        if fixed.len() >= 12 && !page.contains(fixed) {
            missing.push(fixed.to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "not in docs/src/troubleshooting.md:\n{}",
        missing.join("\n")
    );
}
