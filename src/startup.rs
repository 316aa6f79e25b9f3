//! Startup as a library: `App::build` binds and wires everything, `run_until_stopped` serves and
//! runs the workers until shutdown. `main` and every test use the same path.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::clients::looker::{Lookers, http_client};
use crate::clients::slack::SlackApi;
use crate::config::Settings;
use crate::features::custom_commands::{CustomCommands, REFRESH_EVERY};
use crate::http::{AppState, router};
use crate::images::S3Images;
use crate::jobs::{JobContext, Queue, Worker};
use crate::render::RenderOptions;
use crate::socket_mode;
use crate::store::{self, now_millis};

/// Finished jobs are kept this long (so redelivered webhooks are still recognised), then pruned.
const KEEP_DONE_JOBS: Duration = Duration::from_secs(7 * 24 * 3600);

pub struct App {
    listener: TcpListener,
    settings: Arc<Settings>,
    queue: Queue,
    jobs: Arc<JobContext>,
}

impl App {
    /// Opens the database, builds the clients and binds the port (0 picks a free one).
    pub async fn build(settings: Settings) -> anyhow::Result<App> {
        let store = store::connect(&settings.database_url).await?;
        let queue = Queue::new(store, settings.jobs.max_attempts);
        let jobs = Arc::new(JobContext {
            lookers: Lookers::new(&settings.lookers, &settings.looker_tls, settings.looker_timeout)?,
            slack: Arc::new(SlackApi::new(&settings.slack)?),
            render: RenderOptions {
                max_table_rows: settings.table_max_rows,
                attach_csv: settings.attach_csv,
            },
            images: match &settings.s3 {
                Some(s3) => Some(S3Images::new(s3).await),
                None => None,
            },
            render_timeout: settings.render_timeout,
            dashboard_style: settings.dashboard_style,
            features: settings.features.clone(),
            custom_commands: Default::default(),
            // Looker's download links live on the Looker host: trust the same CA.
            downloads: http_client(&settings.looker_tls, settings.looker_timeout)?,
        });
        let listener = TcpListener::bind(("0.0.0.0", settings.port)).await?;
        Ok(App {
            listener,
            settings: Arc::new(settings),
            queue,
            jobs,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    pub fn job_context(&self) -> Arc<JobContext> {
        self.jobs.clone()
    }

    /// Serves until `shutdown` fires: stops accepting, finishes requests in flight, lets running
    /// jobs finish (or hands them back), and leaves queued jobs for the next start.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut background = JoinSet::new();
        for _ in 0..self.settings.jobs.workers {
            let worker = Worker::new(
                self.queue.store().clone(),
                self.jobs.clone(),
                self.settings.jobs.clone(),
            );
            background.spawn(worker.run_until_stopped(self.queue.wake_handle(), shutdown.clone()));
        }
        let store = self.queue.store().clone();
        let prune_stop = shutdown.clone();
        background.spawn(async move {
            loop {
                match store.prune_done(now_millis() - KEEP_DONE_JOBS.as_millis() as i64).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(pruned = n, "forgot finished jobs"),
                    Err(error) => tracing::warn!(%error, "could not prune finished jobs"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
                    _ = prune_stop.cancelled() => return,
                }
            }
        });

        if CustomCommands::configured(&self.jobs.lookers) {
            let (jobs, stop) = (self.jobs.clone(), shutdown.clone());
            background.spawn(async move {
                loop {
                    if let Err(error) = jobs.custom_commands.refresh(&jobs.lookers).await {
                        tracing::warn!(%error, "could not refresh the custom commands");
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(REFRESH_EVERY) => {}
                        _ = stop.cancelled() => return,
                    }
                }
            });
        }
        tracing::info!(
            port = self.port(),
            workers = self.settings.jobs.workers,
            "lookerbot listening"
        );
        let state = AppState {
            settings: self.settings.clone(),
            queue: self.queue.clone(),
        };
        if let Some(app_token) = self.settings.slack.app_token.clone() {
            background.spawn(socket_mode::run(
                state.clone(),
                self.jobs.slack.clone(),
                app_token,
                shutdown.clone(),
            ));
        }
        axum::serve(self.listener, router(state))
            .with_graceful_shutdown(shutdown.clone().cancelled_owned())
            .await?;
        shutdown.cancel();
        while background.join_next().await.is_some() {}
        tracing::info!("lookerbot stopped");
        Ok(())
    }
}
