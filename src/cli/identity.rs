//! `lookerbot identity revoke <slack-user>`: forgets every Looker account a Slack user linked
//! (`oauth`), and ends those sessions at Looker where the key and the Looker are at hand.

use std::process::ExitCode;

use crate::clients::looker::Lookers;
use crate::config::Settings;
use crate::features::identity::connect::{end_session, redirect_uri};
use crate::features::identity::links::{Tokens, owner};
use crate::sealing::Sealer;
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
    let sealer = Sealer::from_keys(&settings.trust.token_keys);
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

/// `lookerbot identity rekey`: seals again, under the keyring's first key, every linked account's
/// tokens and every sealed value in job payloads that an older key (or the key before the
/// keyring) sealed. Safe while the bot runs: each row is swapped only if nobody changed it since.
pub async fn rekey(settings: &Settings) -> ExitCode {
    let store = match store::connect(&settings.database_url, false).await {
        Ok(store) => store,
        Err(error) => {
            eprintln!("cannot open the database ({error:#}); check DATABASE_URL");
            return ExitCode::FAILURE;
        }
    };
    let sealer = Sealer::of_settings(settings);
    match rekey_all(store.as_ref(), &sealer).await {
        Ok(count) => {
            println!(
                "Sealed again under key {}: {} linked account(s), {} job payload(s).",
                sealer.current_id(),
                count.links,
                count.payloads
            );
            if count.unopened > 0 {
                println!(
                    "{} sealed value(s) open with no key of the ring; they were left as they are (those people connect again; those jobs fail with the reason).",
                    count.unopened
                );
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

/// What `rekey` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rekeyed {
    pub links: u64,
    pub payloads: u64,
    pub unopened: u64,
}

/// Re-seals what is stale in `store` (also used by the tests).
pub async fn rekey_all(store: &dyn store::JobStore, sealer: &Sealer) -> Result<Rekeyed, store::StoreError> {
    let mut count = Rekeyed::default();
    for mut link in store.sealed().all_links().await? {
        if !sealer.is_stale(&link.sealed) {
            continue;
        }
        let previous = link.sealed.clone();
        match sealer.reseal(&owner(&link.looker, &link.team, &link.slack_user), &previous) {
            Some(fresh) => {
                link.sealed = fresh;
                count.links += u64::from(store.people().swap_link(&link, &previous).await?);
            }
            None => count.unopened += 1,
        }
    }
    let mut after = 0;
    loop {
        let page = store.sealed().payloads(after, 500).await?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        for (id, payload) in page {
            if let Some(fresh) = crate::sealing::reseal_payload(sealer, &payload, &mut count.unopened) {
                count.payloads += u64::from(store.sealed().swap_payload(id, &payload, &fresh).await?);
            }
        }
    }
    Ok(count)
}
