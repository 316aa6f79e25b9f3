//! `lookerbot webhook-url`: the address a Looker user types as a schedule's Webhook destination,
//! signed for its channel or person, so it cannot be turned into the address of another.

use std::process::ExitCode;

use crate::config::Settings;
use crate::features::deliveries::Destination;
use crate::features::schedules::signed;

/// Prints the signed address for `destination`; says what to set when it cannot.
pub fn print(settings: &Settings, destination: Destination, base: Option<&url::Url>) -> ExitCode {
    let Some(base) = base.or(settings.hub.public_url.as_ref()) else {
        eprintln!("set PUBLIC_URL (the bot's public https address) or pass --url");
        return ExitCode::from(2);
    };
    let Some(signature) = signed::sign(&settings.trust.webhook_url_secrets, &destination) else {
        eprintln!("set LOOKERBOT_WEBHOOK_URL_SECRET (e.g. `openssl rand -base64 32`) to sign addresses");
        return ExitCode::from(2);
    };
    println!("{}", address(base, &destination, &signature));
    ExitCode::SUCCESS
}

/// `<base>/slack/post/<kind>/<name>?sig=<signature>`, the name as one path segment.
pub fn address(base: &url::Url, destination: &Destination, signature: &str) -> String {
    let (kind, name) = match destination {
        Destination::Channel(name) => ("channel", name),
        Destination::Group(name) => ("group", name),
        Destination::Dm(name) => ("dm", name),
    };
    let name = name.trim().trim_start_matches(['#', '@']);
    let segment = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    format!(
        "{}/slack/post/{kind}/{segment}?sig={signature}",
        base.as_str().trim_end_matches('/')
    )
}
