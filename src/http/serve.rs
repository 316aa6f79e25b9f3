//! The accept loop, with connection hygiene: a client has a bounded time to send its headers
//! (which also closes idle keep-alive connections), at most so many connections are served at
//! once (past that a connection is answered and closed at once: a clear 503, or the health
//! check, so a load balancer still sees the bot alive), running out of descriptors makes the
//! loop back off instead of spinning, and shutdown lets requests in flight finish.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::refusals::Refusals;
use crate::config::ServerSettings;

/// A connection over the cap gets this long to say what it wants (the health check, or a 503).
const OVERFLOW_HEADER_TIMEOUT: Duration = Duration::from_secs(2);
/// Requests in flight get this long to finish at shutdown.
const DRAIN: Duration = Duration::from_secs(30);
/// Descriptors kept free for the database, outbound calls and over-cap answers.
const RESERVED_DESCRIPTORS: u64 = 256;

/// Raises the soft limit on open descriptors to the hard limit; returns how many connections
/// may be served at once within it.
pub fn connection_cap(wanted: usize) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(error) => {
            tracing::warn!(%error, "could not raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .map(|(soft, _)| soft)
                .unwrap_or(1024)
        }
    };
    let room = limit.saturating_sub(RESERVED_DESCRIPTORS).max(16) as usize;
    if wanted > room {
        tracing::warn!(
            wanted,
            serving = room,
            descriptors = limit,
            "LOOKERBOT_MAX_CONNECTIONS is more than the open-file limit allows"
        );
    }
    wanted.min(room)
}

/// What a connection over the cap is served: the health routes, and a 503 for everything else.
pub fn overflow_router(health: Router) -> Router {
    health.fallback(|| async {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", "1")],
            "the bot is serving as many connections as it allows; try again in a moment",
        )
            .into_response()
    })
}

/// Serves `app` until `shutdown`, then drains.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    overflow: Router,
    settings: &ServerSettings,
    cap: usize,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(cap));
    let graceful = GracefulShutdown::new();
    let exhausted = Refusals::new("accept");
    let mut pause = Duration::from_millis(10);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.cancelled() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                pause = Duration::from_millis(10);
                stream
            }
            Err(error) => {
                // Out of descriptors (or memory): wait for connections to close instead of spinning.
                exhausted.note(if is_exhaustion(&error) {
                    "out of file descriptors or memory; backing off"
                } else {
                    "accept failed"
                });
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let permit = permits.clone().try_acquire_owned().ok();
        let (service, header_timeout) = match permit {
            Some(_) => (app.clone(), settings.header_timeout),
            None => (overflow.clone(), OVERFLOW_HEADER_TIMEOUT),
        };
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .keep_alive(permit.is_some())
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that times out or disconnects is simply gone.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN) => tracing::warn!("requests still in flight after {}s; stopping", DRAIN.as_secs()),
    }
    Ok(())
}

fn is_exhaustion(error: &io::Error) -> bool {
    // EMFILE, ENFILE, ENOBUFS, ENOMEM on Linux and the BSDs.
    matches!(error.raw_os_error(), Some(23 | 24 | 105 | 12 | 55))
}
