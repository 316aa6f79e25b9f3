//! The accept loop, with connection hygiene: a client has a bounded time to send its headers
//! (which also closes idle keep-alive connections), at most so many connections are served at
//! once, and the descriptors they may hold (served, overflow, reserved) fit the open-file limit.
//! Past the cap, the oldest served connection is asked to close (idle ones close at once) and the
//! newcomer is answered and closed: the health check, or a clear 503, so a load balancer still
//! sees the bot alive whoever holds the other connections. Running out of descriptors anyway
//! makes the loop back off instead of spinning, and shutdown lets requests in flight finish.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::refusals::Refusals;
use crate::config::ServerSettings;

/// A connection over the cap gets this long to say what it wants (the health check, or a 503).
const OVERFLOW_HEADER_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a newcomer waits for the oldest connection to make room.
const MAKE_ROOM: Duration = Duration::from_millis(200);
/// Requests in flight get this long to finish at shutdown.
const DRAIN: Duration = Duration::from_secs(30);
/// Descriptors kept free for the database, outbound calls and the log.
const RESERVED_DESCRIPTORS: u64 = 192;
/// Connections over the cap that are still answered (the health check, or a 503), each while
/// the oldest served connection makes room; their descriptors are budgeted beside the cap.
const OVERFLOW_CONNECTIONS: usize = 64;

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
    let room = (limit.saturating_sub(RESERVED_DESCRIPTORS) as usize)
        .saturating_sub(OVERFLOW_CONNECTIONS)
        .max(16);
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

/// A bounded pool of connections, oldest first, each with the signal that closes it gracefully
/// (an idle one at once, a busy one after its request).
struct Pool {
    permits: Arc<Semaphore>,
    live: Mutex<(u64, BTreeMap<u64, CancellationToken>)>,
}

/// A place in a pool, given back when the connection ends.
struct Place {
    pool: Arc<Pool>,
    id: u64,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Place {
    fn drop(&mut self) {
        self.pool.lock().1.remove(&self.id);
    }
}

impl Pool {
    fn new(size: usize) -> Arc<Pool> {
        Arc::new(Pool {
            permits: Arc::new(Semaphore::new(size)),
            live: Mutex::default(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, BTreeMap<u64, CancellationToken>)> {
        self.live.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A place for the connection `closer` closes: at once when one is free, else after asking
    /// the oldest connection to make room (when every place is held, by idle keep-alive
    /// connections or slow clients typically, the newest caller, a health check or Slack, is
    /// worth more than the connection that has held its place longest).
    async fn enter(self: &Arc<Self>, closer: &CancellationToken, wait: Duration) -> Option<Place> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if let Some((_, oldest)) = self.lock().1.pop_first() {
                    oldest.cancel();
                }
                tokio::time::timeout(wait, self.permits.clone().acquire_owned())
                    .await
                    .ok()?
                    .ok()?
            }
        };
        let mut live = self.lock();
        live.0 += 1;
        let id = live.0;
        live.1.insert(id, closer.clone());
        Some(Place {
            pool: self.clone(),
            id,
            _permit: permit,
        })
    }
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
    let (served, over) = (Pool::new(cap), Pool::new(OVERFLOW_CONNECTIONS));
    let connections = TaskTracker::new();
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
        // Every connection first holds an overflow place (so the descriptors held never pass the
        // budget), then moves to a served place when one is, or can be made, free.
        let closer = shutdown.child_token();
        let Some(overflow_place) = over.enter(&closer, MAKE_ROOM).await else {
            exhausted.note("over the connection cap and its overflow; closed a connection at once");
            continue;
        };
        let (served, app, overflow, header_timeout) =
            (served.clone(), app.clone(), overflow.clone(), settings.header_timeout);
        connections.spawn(async move {
            let (place, service, header_timeout) = match served.enter(&closer, MAKE_ROOM).await {
                Some(place) => {
                    drop(overflow_place);
                    (place, app, header_timeout)
                }
                None => (overflow_place, overflow, OVERFLOW_HEADER_TIMEOUT),
            };
            let keep_alive = Arc::ptr_eq(&place.pool, &served);
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(keep_alive)
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            let mut connection = std::pin::pin!(connection);
            // A client that times out or disconnects is simply gone.
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = closer.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(place);
        });
    }
    drop(listener);
    connections.close();
    if tokio::time::timeout(DRAIN, connections.wait()).await.is_err() {
        tracing::warn!("requests still in flight after {}s; stopping", DRAIN.as_secs());
    }
    Ok(())
}

fn is_exhaustion(error: &io::Error) -> bool {
    // EMFILE, ENFILE, ENOBUFS, ENOMEM on Linux and the BSDs.
    matches!(error.raw_os_error(), Some(23 | 24 | 105 | 12 | 55))
}
