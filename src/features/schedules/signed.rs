//! Signed webhook addresses: `/slack/post/channel/sales?sig=...` names its channel with an HMAC
//! only the bot can make, so a person who may schedule to one channel cannot turn the address
//! into one for another. Several keys verify (rotation); the first signs.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::config::Secret;
use crate::features::deliveries::Destination;

/// What the signature covers: the kind of destination and its name, as the bot resolves it.
fn message(destination: &Destination) -> String {
    let (kind, name) = match destination {
        Destination::Channel(name) => ("channel", name),
        Destination::Group(name) => ("group", name),
        Destination::Dm(name) => ("dm", name),
    };
    let name = name.trim().trim_start_matches(['#', '@']).to_lowercase();
    format!("lookerbot webhook address v1\n{kind}\n{name}")
}

fn signature(key: &Secret, destination: &Destination) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes()).expect("HMAC takes any key");
    mac.update(message(destination).as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// The signature for `destination` under the first key, if any key is set.
pub fn sign(keys: &[Secret], destination: &Destination) -> Option<String> {
    keys.first().map(|key| signature(key, destination))
}

/// Whether `presented` is the signature of `destination` under any of the keys (constant time).
pub fn verify(keys: &[Secret], destination: &Destination, presented: &str) -> bool {
    keys.iter().fold(false, |found, key| {
        let expected = signature(key, destination);
        found | bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<Secret> {
        vec![
            Secret::new("new-key-0123456789abcdef0123456789abcdef"),
            Secret::new("old-key-0123456789abcdef0123456789abcdef"),
        ]
    }

    #[test]
    fn a_signature_names_one_destination() {
        let sales = Destination::Channel("sales".into());
        let signed = sign(&keys(), &sales).unwrap();
        assert!(verify(&keys(), &sales, &signed));
        assert!(verify(&keys(), &Destination::Channel("#Sales".into()), &signed));
        for other in [
            Destination::Channel("finance".into()),
            Destination::Group("sales".into()),
            Destination::Dm("sales".into()),
        ] {
            assert!(!verify(&keys(), &other, &signed), "{other:?}");
        }
        assert!(!verify(&keys(), &sales, ""));
        assert!(!verify(&keys(), &sales, &signed[..signed.len() - 1]));
    }

    #[test]
    fn an_old_key_still_verifies_and_a_forgotten_one_does_not() {
        let sales = Destination::Channel("sales".into());
        let by_old = sign(&keys()[1..], &sales).unwrap();
        assert!(verify(&keys(), &sales, &by_old));
        assert!(!verify(&keys()[..1], &sales, &by_old));
    }
}
