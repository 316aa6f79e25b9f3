//! One plain sentence for why a system could not be reached. The HTTP stack's own text ("error
//! sending request for url (...)", "client error (Connect)", a debug dump of a cause) names the
//! layer that failed, not what an operator should fix: a name that does not resolve, a port that
//! refuses, a certificate that is not trusted.

use std::error::Error;

/// Why `host` could not be reached, read from the error's causes.
pub fn why_unreachable(host: &str, error: &dyn Error) -> String {
    let mut causes = Vec::new();
    let mut next: Option<&dyn Error> = Some(error);
    while let Some(cause) = next {
        causes.push(cause.to_string());
        next = cause.source();
    }
    let lower = causes.join(" | ").to_lowercase();
    let says = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if says(&[
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "no such host",
        "nodename nor servname",
        "name resolution",
    ]) {
        format!("cannot resolve {host}")
    } else if says(&["connection refused"]) {
        format!("{host} refused the connection (is the address and port right?)")
    } else if says(&["certificate", "unknownissuer", "invalid peer"]) {
        format!("{host}'s TLS certificate is not trusted ({})", innermost(&causes))
    } else if says(&["timed out", "deadline has elapsed"]) {
        format!("{host} did not answer in time")
    } else if says(&["connection reset", "connection closed", "broken pipe"]) {
        format!("{host} closed the connection")
    } else {
        format!("could not reach {host}: {}", innermost(&causes))
    }
}

/// A failed HTTP request in one sentence when the system could not be reached; otherwise (a body
/// that broke off, a redirect loop) the error with its causes.
pub fn describe(error: &reqwest::Error) -> String {
    match error.url().and_then(|url| url.host_str()) {
        Some(host) if error.is_connect() || error.is_timeout() => why_unreachable(host, error),
        _ => super::cause_chain(error),
    }
}

/// The deepest cause: the one that says what actually happened.
fn innermost(causes: &[String]) -> &str {
    causes.last().map(String::as_str).unwrap_or("unknown error")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A resolver that knows no name, as the system's answers for a name that does not exist
    /// (the test asks no DNS server).
    struct NoNames;

    impl reqwest::dns::Resolve for NoNames {
        fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
            Box::pin(async {
                Err(std::io::Error::other("failed to lookup address information: Name or service not known").into())
            })
        }
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_and_a_refused_port_are_said_plainly() {
        let client = reqwest::Client::builder()
            .dns_resolver(std::sync::Arc::new(NoNames))
            .build()
            .unwrap();
        let error = client.get("http://slack.example.com/api").send().await.unwrap_err();
        assert_eq!(
            why_unreachable("slack.example.com", &error),
            "cannot resolve slack.example.com"
        );

        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let error = client
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap_err();
        let sentence = why_unreachable("127.0.0.1", &error);
        assert!(sentence.starts_with("127.0.0.1 refused the connection"), "{sentence}");
    }
}
