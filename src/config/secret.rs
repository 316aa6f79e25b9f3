//! The secret type: never printed, compared only in constant time.

use std::fmt;

use subtle::ConstantTimeEq;

/// A secret value: never printed by `Debug`/`Display`, and compared only in constant time (it
/// has no `==`, so nobody compares one the fast, leaky way by accident).
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw value, for the one place that must send it (an HTTP header or a login form).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison against a value presented by a caller.
    pub fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }

    /// The 32 bytes of a key written as hex or base64 (`openssl rand -base64 32`), if it is one.
    pub fn key_bytes(&self) -> Option<[u8; 32]> {
        use base64::Engine;
        let text = self.0.trim();
        let bytes = hex::decode(text)
            .ok()
            .or_else(|| base64::engine::general_purpose::STANDARD.decode(text).ok())
            .or_else(|| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok())?;
        bytes.try_into().ok()
    }

    /// Constant-time comparison with another secret.
    pub fn same_as(&self, other: &Secret) -> bool {
        self.matches(other.expose())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Kept in a job's payload as the plain string (the store is the bot's own); never in `Debug`,
/// logs or `lookerbot jobs`, which show only a job's summary.
impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}
