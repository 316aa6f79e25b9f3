//! Sealing what must not be kept in clear (people's Looker tokens, a sign-in's PKCE verifier):
//! XChaCha20-Poly1305 with the key of the settings (`LOOKERBOT_TOKEN_KEY`), a random nonce per
//! seal, and the row's owner as associated data, so a sealed value copied onto another person's
//! row does not open. A changed key opens nothing: people connect again.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Secret;

/// What is sealed starts with this, so a later scheme can be told apart.
const VERSION: &str = "v1.";

pub struct Sealer {
    cipher: XChaCha20Poly1305,
    /// For signing connect links (derived from the key, never the key itself).
    signing: [u8; 32],
}

impl Sealer {
    /// A sealer for a 32-byte key given as base64 or hex; `None` for anything else.
    pub fn from_setting(key: &Secret) -> Option<Sealer> {
        let bytes = key.key_bytes()?;
        let mut derive = <Hmac<Sha256> as Mac>::new_from_slice(&bytes).ok()?;
        derive.update(b"lookerbot connect links");
        Some(Sealer {
            cipher: XChaCha20Poly1305::new_from_slice(&bytes).ok()?,
            signing: derive.finalize().into_bytes().into(),
        })
    }

    /// `plain`, sealed for `owner`.
    pub fn seal(&self, owner: &str, plain: &[u8]) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: owner.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any message under 256 GiB");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{VERSION}{}", B64.encode(out))
    }

    /// What `seal` sealed for `owner`; `None` when it was sealed with another key, for another
    /// owner, or tampered with.
    pub fn open(&self, owner: &str, sealed: &str) -> Option<Vec<u8>> {
        let bytes = B64.decode(sealed.strip_prefix(VERSION)?).ok()?;
        if bytes.len() < 24 {
            return None;
        }
        let (nonce, body) = bytes.split_at(24);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: owner.as_bytes(),
                },
            )
            .ok()
    }

    /// A signature of `message` (connect links).
    pub fn sign(&self, message: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.signing).expect("any key length");
        mac.update(message.as_bytes());
        B64.encode(mac.finalize().into_bytes())
    }

    /// Whether `signature` is `message`'s, compared in constant time.
    pub fn verify(&self, message: &str, signature: &str) -> bool {
        let Ok(given) = B64.decode(signature) else { return false };
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.signing).expect("any key length");
        mac.update(message.as_bytes());
        mac.verify_slice(&given).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::from_setting(&Secret::new(hex::encode([7u8; 32]))).unwrap()
    }

    #[test]
    fn a_sealed_token_opens_only_for_its_owner_and_key() {
        let sealed = sealer().seal("looker.example.com/T1/U1", b"access-token-123");
        assert!(!sealed.contains("access-token-123"));
        assert_eq!(
            sealer().open("looker.example.com/T1/U1", &sealed).unwrap(),
            b"access-token-123"
        );
        assert_eq!(
            sealer().open("looker.example.com/T1/U2", &sealed),
            None,
            "another owner"
        );
        let other = Sealer::from_setting(&Secret::new(
            base64::engine::general_purpose::STANDARD.encode([8u8; 32]),
        ));
        assert_eq!(
            other.unwrap().open("looker.example.com/T1/U1", &sealed),
            None,
            "another key"
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(sealer().open("looker.example.com/T1/U1", &tampered), None);
        assert_ne!(sealer().seal("o", b"x"), sealer().seal("o", b"x"), "a nonce per seal");
    }

    #[test]
    fn keys_must_be_32_bytes_and_signatures_verify() {
        assert!(Sealer::from_setting(&Secret::new("short")).is_none());
        assert!(Sealer::from_setting(&Secret::new(hex::encode([1u8; 16]))).is_none());
        let s = sealer();
        let signature = s.sign("ticket");
        assert!(s.verify("ticket", &signature));
        assert!(!s.verify("ticket2", &signature));
        assert!(!s.verify("ticket", "not base64!"));
    }
}
