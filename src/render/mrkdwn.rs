//! Slack's mrkdwn: the three characters it reserves, links, and length limits that respect
//! character boundaries.

/// Escapes `&`, `<` and `>`, which Slack reserves for links and mentions.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `<url|text>` with the text escaped and the URL safe inside the angle brackets.
pub fn link(url: &str, text: &str) -> String {
    let safe_url = url
        .replace('|', "%7C")
        .replace('>', "%3E")
        .replace('<', "%3C")
        .replace(' ', "%20");
    format!("<{safe_url}|{}>", escape(text))
}

/// At most `max` characters, ending in `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_characters_and_links_are_safe() {
        assert_eq!(escape("a < b & c > d"), "a &lt; b &amp; c &gt; d");
        assert_eq!(
            link("https://x/looks/1?f=a|b", "P&L <2026>"),
            "<https://x/looks/1?f=a%7Cb|P&amp;L &lt;2026&gt;>"
        );
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate("ééééé", 3), "éé…");
        assert_eq!(truncate("abc", 3), "abc");
    }
}
