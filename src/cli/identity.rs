//! `lookerbot identity revoke <slack-user>`: forgets every Looker account a Slack user linked
//! (`oauth`), and ends those sessions at Looker where the key and the Looker are at hand.

use std::process::ExitCode;

use crate::clients::looker::Lookers;
use crate::config::Settings;
use crate::features::identity::connect::{end_session, redirect_uri};
use crate::features::identity::links::{Tokens, owner};
use crate::features::identity::seal::Sealer;
use crate::store;

pub async fn revoke(settings: &Settings, slack_user: &str) -> ExitCode {
    let store = match store::connect(&settings.database_url, false).await {
        Ok(store) => store,
        Err(error) => {
            eprintln!("cannot open the database ({error:#}); check DATABASE_URL");
            return ExitCode::FAILURE;
        }
    };
    let dropped = match store.people().drop_links(None, None, slack_user).await {
        Ok(dropped) => dropped,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    if dropped.is_empty() {
        println!("{slack_user} has no linked Looker account.");
        return ExitCode::SUCCESS;
    }
    let sealer = settings.token_key.as_ref().and_then(Sealer::from_setting);
    let lookers = Lookers::new(&settings.lookers, &settings.looker_tls, settings.looker_timeout).ok();
    for link in dropped {
        let tokens = sealer
            .as_ref()
            .and_then(|s| s.open(&owner(&link.looker, &link.team, &link.slack_user), &link.sealed))
            .and_then(|plain| serde_json::from_slice::<Tokens>(&plain).ok());
        let looker = lookers
            .as_ref()
            .and_then(|l| l.all().map(|(_, c)| c).find(|c| c.settings().host() == link.looker));
        let redirect = settings.hub.public_url.as_ref().map(redirect_uri).unwrap_or_default();
        let ended = match (tokens, looker) {
            (Some(tokens), Some(looker)) => end_session(looker, tokens, &redirect).await,
            _ => false,
        };
        println!(
            "Forgot {slack_user}'s Looker account (user {}) at {}{}.",
            link.looker_user,
            link.looker,
            if ended { "; its session at Looker is ended" } else { "" }
        );
    }
    ExitCode::SUCCESS
}
