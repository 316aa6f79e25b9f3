//! What outbound TLS trusts: the built-in web roots and the operating system's certificates
//! (with `SSL_CERT_FILE`), so the bot works behind a TLS-inspecting corporate proxy as well as
//! on a bare container. reqwest's clients get the same through its features; this is the
//! configuration for the Slack connector, which hyper-rustls builds with one source of roots.

use std::sync::Arc;

/// rustls' client configuration with both sources of roots, on the ring provider.
pub fn client_config() -> anyhow::Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::debug!(%error, "a system certificate could not be read");
    }
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(added, "system certificates trusted besides the built-in roots");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_configuration_builds_and_leaves_alpn_to_the_connector() {
        let config = super::client_config().unwrap();
        assert!(config.alpn_protocols.is_empty(), "the connector sets ALPN itself");
    }
}
