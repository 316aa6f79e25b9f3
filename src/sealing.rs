//! Sealing what must not be kept in clear (people's Looker tokens, a sign-in's PKCE verifier, the
//! `response_url`s, download links and Braze keys in job payloads): XChaCha20-Poly1305, a random
//! nonce per seal, and the row's owner as associated data, so a sealed value copied onto another
//! row does not open.
//!
//! The keys form a ring (`LOOKERBOT_TOKEN_KEYS=id:key,...`): new seals use the first, older ones
//! still open, and `lookerbot identity rekey` re-seals everything under the first. From each key,
//! HKDF derives one key for sealing and another for signing connect links, so neither use can be
//! turned into the other.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::{Settings, TokenKey};

/// Seals from before the keyring: the raw key as the cipher key, no key id.
const V1: &str = "v1.";
/// `v2.<key id>.<nonce and ciphertext>`.
const V2: &str = "v2.";

struct RingKey {
    id: String,
    seal: XChaCha20Poly1305,
    sign: [u8; 32],
    /// Opens `v1.` seals made with this key before HKDF (none for derived ring keys).
    legacy: Option<XChaCha20Poly1305>,
}

impl RingKey {
    fn derive(id: &str, material: &[u8], legacy: bool) -> RingKey {
        let hkdf = Hkdf::<Sha256>::new(Some(b"lookerbot"), material);
        let (mut seal, mut sign) = ([0u8; 32], [0u8; 32]);
        hkdf.expand(b"lookerbot/seal/v2", &mut seal)
            .expect("32 bytes is a valid HKDF length");
        hkdf.expand(b"lookerbot/sign/v2", &mut sign)
            .expect("32 bytes is a valid HKDF length");
        RingKey {
            id: id.to_string(),
            seal: XChaCha20Poly1305::new(&seal.into()),
            sign,
            legacy: legacy
                .then(|| XChaCha20Poly1305::new_from_slice(material).ok())
                .flatten(),
        }
    }
}

/// The keyring: seals with its first key, opens with any.
pub struct Sealer {
    keys: Vec<RingKey>,
}

impl Sealer {
    /// The ring of the settings' keys; `None` when there are none or one is not 32 bytes.
    pub fn from_keys(keys: &[TokenKey]) -> Option<Sealer> {
        let keys = keys
            .iter()
            .map(|k| Some(RingKey::derive(&k.id, &k.key.key_bytes()?, true)))
            .collect::<Option<Vec<_>>>()?;
        (!keys.is_empty()).then_some(Sealer { keys })
    }

    /// A one-key ring derived from another secret of the settings (the Slack signing secret),
    /// for installations without `LOOKERBOT_TOKEN_KEYS`: job payloads are still sealed, with a
    /// key that is not in the database.
    pub fn derived_from(id: &str, secret: &[u8]) -> Sealer {
        Sealer {
            keys: vec![RingKey::derive(id, secret, false)],
        }
    }

    /// The settings' keyring, else a key derived from Slack's secret (id `slack`).
    pub fn of_settings(settings: &Settings) -> Sealer {
        Sealer::from_keys(&settings.trust.token_keys)
            .unwrap_or_else(|| Sealer::derived_from("slack", settings.slack.key_secret()))
    }

    /// The id of the key new seals use.
    pub fn current_id(&self) -> &str {
        &self.keys[0].id
    }

    /// `plain`, sealed for `owner` with the first key.
    pub fn seal(&self, owner: &str, plain: &[u8]) -> String {
        let key = &self.keys[0];
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plain,
            aad: owner.as_bytes(),
        };
        let sealed = key
            .seal
            .encrypt(&nonce, payload)
            .expect("XChaCha20-Poly1305 seals any message under 256 GiB");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{V2}{}.{}", key.id, B64.encode(out))
    }

    /// What `seal` sealed for `owner`; `None` when no key of the ring sealed it, it was sealed
    /// for another owner, or it was tampered with.
    pub fn open(&self, owner: &str, sealed: &str) -> Option<Vec<u8>> {
        if let Some(rest) = sealed.strip_prefix(V2) {
            let (id, body) = rest.split_once('.')?;
            let bytes = B64.decode(body).ok()?;
            // The id says which key to try first; a key renamed in the settings still opens.
            let named = self.keys.iter().filter(|k| k.id == id);
            let others = self.keys.iter().filter(|k| k.id != id);
            return named.chain(others).find_map(|k| decrypt(&k.seal, owner, &bytes));
        }
        let bytes = B64.decode(sealed.strip_prefix(V1)?).ok()?;
        self.keys
            .iter()
            .filter_map(|k| k.legacy.as_ref())
            .find_map(|cipher| decrypt(cipher, owner, &bytes))
    }

    /// Whether `sealed` was made with a key other than the first (or before the keyring):
    /// `lookerbot identity rekey` re-seals it.
    pub fn is_stale(&self, sealed: &str) -> bool {
        let current = format!("{V2}{}.", self.keys[0].id);
        !sealed.starts_with(&current)
    }

    /// `sealed` opened and sealed again with the first key; `None` when it does not open.
    pub fn reseal(&self, owner: &str, sealed: &str) -> Option<String> {
        self.open(owner, sealed).map(|plain| self.seal(owner, &plain))
    }

    /// A signature of `message` (connect links), with the first key's signing key.
    pub fn sign(&self, message: &str) -> String {
        B64.encode(mac(&self.keys[0].sign, message).finalize().into_bytes())
    }

    /// Whether `signature` is `message`'s under any key of the ring, compared in constant time.
    pub fn verify(&self, message: &str, signature: &str) -> bool {
        let Ok(given) = B64.decode(signature) else { return false };
        self.keys
            .iter()
            .any(|k| mac(&k.sign, message).verify_slice(&given).is_ok())
    }
}

/// A secret inside a job's payload (a `response_url`, a download link, an API key): kept sealed
/// in the database, opened by the job that uses it. Never printed.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SealedText(String);

impl SealedText {
    /// The associated data of every sealed payload value (`identity rekey` re-seals them all).
    pub const OWNER: &'static str = "job payload";

    pub fn seal(sealer: &Sealer, plain: &str) -> SealedText {
        SealedText(sealer.seal(Self::OWNER, plain.as_bytes()))
    }

    /// The value; `None` when no key of the ring opens it. A job queued before payloads were
    /// sealed carries the value in clear: it is taken as it is.
    pub fn open(&self, sealer: &Sealer) -> Option<String> {
        if !looks_sealed(&self.0) {
            return Some(self.0.clone());
        }
        String::from_utf8(sealer.open(Self::OWNER, &self.0)?).ok()
    }
}

impl std::fmt::Debug for SealedText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedText([sealed])")
    }
}

/// Whether `text` has the shape of a seal.
pub fn looks_sealed(text: &str) -> bool {
    text.starts_with(V1) || text.starts_with(V2)
}

/// Every sealed value in a job's payload, sealed again with the first key; `None` when nothing
/// needed it. Values no key opens are left as they are (and counted in `unopened`).
pub fn reseal_payload(sealer: &Sealer, payload: &str, unopened: &mut u64) -> Option<String> {
    fn walk(sealer: &Sealer, value: &mut serde_json::Value, changed: &mut bool, unopened: &mut u64) {
        match value {
            serde_json::Value::String(text) if looks_sealed(text) && sealer.is_stale(text) => {
                match sealer.reseal(SealedText::OWNER, text) {
                    Some(fresh) => {
                        *text = fresh;
                        *changed = true;
                    }
                    None => *unopened += 1,
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| walk(sealer, v, changed, unopened)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| walk(sealer, v, changed, unopened)),
            _ => {}
        }
    }
    let mut value: serde_json::Value = serde_json::from_str(payload).ok()?;
    let mut changed = false;
    walk(sealer, &mut value, &mut changed, unopened);
    changed.then(|| value.to_string())
}

fn decrypt(cipher: &XChaCha20Poly1305, owner: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.len() < 24 {
        return None;
    }
    let (nonce, body) = bytes.split_at(24);
    let payload = Payload {
        msg: body,
        aad: owner.as_bytes(),
    };
    cipher.decrypt(XNonce::from_slice(nonce), payload).ok()
}

fn mac(key: &[u8; 32], message: &str) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(message.as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn key(id: &str, byte: u8) -> TokenKey {
        TokenKey {
            id: id.into(),
            key: Secret::new(hex::encode([byte; 32])),
        }
    }

    fn ring(keys: &[(&str, u8)]) -> Sealer {
        Sealer::from_keys(&keys.iter().map(|(id, b)| key(id, *b)).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn a_sealed_token_opens_only_for_its_owner_and_key() {
        let sealed = ring(&[("a", 7)]).seal("looker.example.com/T1/U1", b"access-token-123");
        assert!(!sealed.contains("access-token-123"));
        assert!(sealed.starts_with("v2.a."));
        let open = |s: &Sealer, owner: &str, sealed: &str| s.open(owner, sealed);
        assert_eq!(
            open(&ring(&[("a", 7)]), "looker.example.com/T1/U1", &sealed).unwrap(),
            b"access-token-123"
        );
        assert_eq!(
            open(&ring(&[("a", 7)]), "looker.example.com/T1/U2", &sealed),
            None,
            "owner"
        );
        assert_eq!(
            open(&ring(&[("a", 8)]), "looker.example.com/T1/U1", &sealed),
            None,
            "key"
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(open(&ring(&[("a", 7)]), "looker.example.com/T1/U1", &tampered), None);
        let s = ring(&[("a", 7)]);
        assert_ne!(s.seal("o", b"x"), s.seal("o", b"x"), "a nonce per seal");
    }

    #[test]
    fn the_ring_seals_with_its_first_key_and_opens_with_any() {
        let old = ring(&[("2025", 1)]).seal("o", b"secret");
        let rotated = ring(&[("2026", 2), ("2025", 1)]);
        assert_eq!(rotated.open("o", &old).unwrap(), b"secret");
        assert!(rotated.is_stale(&old));
        let resealed = rotated.reseal("o", &old).unwrap();
        assert!(!rotated.is_stale(&resealed) && resealed.starts_with("v2.2026."));
        assert_eq!(ring(&[("2026", 2)]).open("o", &resealed).unwrap(), b"secret");
        assert_eq!(ring(&[("2025", 1)]).open("o", &resealed), None, "the old key alone");
        // A key renamed in the settings still opens what it sealed.
        assert_eq!(ring(&[("renamed", 1)]).open("o", &old).unwrap(), b"secret");
    }

    #[test]
    fn seals_from_before_the_ring_still_open() {
        // What the single-key sealer wrote: the raw key as the cipher key, `v1.` and no id.
        let raw = XChaCha20Poly1305::new_from_slice(&[7u8; 32]).unwrap();
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let body = raw.encrypt(&nonce, Payload { msg: b"old", aad: b"o" }).unwrap();
        let v1 = format!("{V1}{}", B64.encode([nonce.to_vec(), body].concat()));
        let s = ring(&[("new", 9), ("k0", 7)]);
        assert_eq!(s.open("o", &v1).unwrap(), b"old");
        assert!(s.is_stale(&v1));
    }

    #[test]
    fn payload_values_are_sealed_and_resealed_in_place() {
        let old = ring(&[("old", 1)]);
        let url = SealedText::seal(&old, "https://hooks.slack.com/commands/T0/1/abc");
        let payload =
            serde_json::json!({"reply": {"via": "response_url", "url": url}, "text": "v2.not a seal"}).to_string();
        assert!(!payload.contains("hooks.slack.com"));
        let new = ring(&[("new", 2), ("old", 1)]);
        let mut unopened = 0;
        let fresh = reseal_payload(&new, &payload, &mut unopened).unwrap();
        assert_eq!(unopened, 1, "a text that only looks sealed is left alone");
        let value: serde_json::Value = serde_json::from_str(&fresh).unwrap();
        let sealed: SealedText = serde_json::from_value(value["reply"]["url"].clone()).unwrap();
        assert_eq!(
            sealed.open(&ring(&[("new", 2)])).unwrap(),
            "https://hooks.slack.com/commands/T0/1/abc"
        );
        assert_eq!(value["text"], "v2.not a seal");
        assert_eq!(
            reseal_payload(&new, &fresh, &mut unopened),
            None,
            "nothing stale is left"
        );
        let clear: SealedText = serde_json::from_str("\"https://hooks.slack.com/x\"").unwrap();
        assert_eq!(
            clear.open(&new).unwrap(),
            "https://hooks.slack.com/x",
            "queued before sealing"
        );
        assert_eq!(format!("{url:?}"), "SealedText([sealed])");
    }

    #[test]
    fn keys_must_be_32_bytes_and_signatures_are_not_seal_keys() {
        assert!(
            Sealer::from_keys(&[TokenKey {
                id: "a".into(),
                key: Secret::new("short")
            }])
            .is_none()
        );
        assert!(Sealer::from_keys(&[]).is_none());
        let s = ring(&[("a", 7)]);
        let signature = s.sign("ticket");
        assert!(s.verify("ticket", &signature));
        assert!(!s.verify("ticket2", &signature));
        assert!(!s.verify("ticket", "not base64!"));
        assert!(
            ring(&[("b", 8), ("a", 7)]).verify("ticket", &signature),
            "an older key verifies"
        );
        // The signing key is derived, not the key itself: an HMAC under the raw key is refused.
        let raw = B64.encode(mac(&[7u8; 32], "ticket").finalize().into_bytes());
        assert!(!s.verify("ticket", &raw));
        let derived = Sealer::derived_from("slack", b"signing-secret");
        assert_eq!(derived.open("o", &derived.seal("o", b"x")).unwrap(), b"x");
        assert_eq!(s.open("o", &derived.seal("o", b"x")), None);
    }
}
