//! Outbound clients: Looker's API (and the images it draws), Slack's Web API, the image bucket
//! (S3, Azure or Google Cloud Storage), and Braze's REST API.

pub mod azure;
pub mod braze;
pub mod bucket;
pub mod gcs;
pub mod looker;
pub mod network;
pub mod s3;
pub mod slack;
pub mod tls;

/// An error and its causes, `a: b: c`: reqwest's own text ("error sending request") hides the
/// cause an operator needs (a refused certificate, a refused connection).
pub fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}
