//! Signed, expiring keys for data-action buttons: `v1.<id>.<expires>.<signature>`, where the id
//! names the action kept server-side, `expires` is a unix time in seconds and the signature is
//! HMAC-SHA256 over the rest (128 bits kept), under a key derived from the app's secret. A key
//! fits an overflow menu's 150-character value; one that was changed, or is past its time, is
//! refused before anything is looked up.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::render::ActionKeys;

type HmacSha256 = Hmac<Sha256>;

const VERSION: &str = "v1";
/// Bytes of the HMAC kept in a key.
const SIGNATURE_BYTES: usize = 16;

/// Why a button's key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyRefusal {
    #[error("not a data-action key")]
    Malformed,
    #[error("the key's signature does not match")]
    Tampered,
    #[error("the key has expired")]
    Expired,
}

/// Signs and checks keys.
#[derive(Clone)]
pub struct ActionSigner {
    key: Vec<u8>,
    lifetime: Duration,
}

impl std::fmt::Debug for ActionSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionSigner")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl ActionSigner {
    /// Keys under `secret` (the app's signing secret), valid for `lifetime`. The signing key is
    /// derived from it, so a key never reveals anything about the secret it came from.
    pub fn new(secret: &[u8], lifetime: Duration) -> Self {
        let mut derive = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
        derive.update(b"lookerbot data-action keys v1");
        Self {
            key: derive.finalize().into_bytes().to_vec(),
            lifetime,
        }
    }

    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    fn mac(&self, signed: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(signed.as_bytes());
        mac
    }

    /// The key for action `id`, valid until `expires` (unix seconds).
    pub fn sign(&self, id: &str, expires: i64) -> String {
        let signed = format!("{VERSION}.{id}.{expires}");
        let tag = self.mac(&signed).finalize().into_bytes();
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(&tag[..SIGNATURE_BYTES]))
    }

    /// The action id a key names, if it was signed here and has not expired at `now` (unix
    /// seconds). The signature is compared in constant time.
    pub fn verify(&self, key: &str, now: i64) -> Result<String, KeyRefusal> {
        let mut parts = key.trim().split('.');
        let (Some(VERSION), Some(id), Some(expires), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(KeyRefusal::Malformed);
        };
        let tag = URL_SAFE_NO_PAD.decode(signature).map_err(|_| KeyRefusal::Malformed)?;
        if tag.len() != SIGNATURE_BYTES || id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(KeyRefusal::Malformed);
        }
        let expires_at: i64 = expires.parse().map_err(|_| KeyRefusal::Malformed)?;
        self.mac(&format!("{VERSION}.{id}.{expires}"))
            .verify_truncated_left(&tag)
            .map_err(|_| KeyRefusal::Tampered)?;
        if expires_at < now {
            return Err(KeyRefusal::Expired);
        }
        Ok(id.to_string())
    }

    /// Keys for one message, all expiring `lifetime` after `now` (unix seconds).
    pub fn mint(&self, now: i64) -> KeyMint<'_> {
        KeyMint {
            signer: self,
            expires: now + self.lifetime.as_secs() as i64,
        }
    }
}

/// Keys for the buttons of one message.
#[derive(Debug)]
pub struct KeyMint<'a> {
    signer: &'a ActionSigner,
    pub expires: i64,
}

impl ActionKeys for KeyMint<'_> {
    fn key_for(&self, id: &str) -> String {
        self.signer.sign(id, self.expires)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> ActionSigner {
        ActionSigner::new(b"signing secret", Duration::from_secs(3600))
    }

    #[test]
    fn a_key_names_its_action_until_it_expires() {
        let key = signer().sign("0123abcd", 2_000);
        assert!(key.len() <= 150, "fits an overflow option's value: {key}");
        assert_eq!(signer().verify(&key, 1_999), Ok("0123abcd".into()));
        assert_eq!(signer().verify(&key, 2_001), Err(KeyRefusal::Expired));
    }

    #[test]
    fn changed_keys_and_other_secrets_are_refused() {
        let key = signer().sign("0123abcd", 2_000);
        let later = key.replace(".2000.", ".9999.");
        assert_eq!(signer().verify(&later, 0), Err(KeyRefusal::Tampered));
        let other = key.replace("0123abcd", "0123abce");
        assert_eq!(signer().verify(&other, 0), Err(KeyRefusal::Tampered));
        let elsewhere = ActionSigner::new(b"another secret", Duration::from_secs(3600));
        assert_eq!(elsewhere.verify(&key, 0), Err(KeyRefusal::Tampered));
        for junk in [
            "",
            "v1",
            "v2.a.1.AAAAAAAAAAAAAAAAAAAAAA",
            "v1.a.b.c.d",
            "v1.a.1.!!",
            "v1..1.AAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert_eq!(signer().verify(junk, 0), Err(KeyRefusal::Malformed), "{junk}");
        }
    }
}
