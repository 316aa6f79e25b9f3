//! Startup as a library: `App::build` opens the database, builds the bot's context and binds the
//! port; `run_until_stopped` serves and runs the workers until shutdown. `main` and every test
//! use the same path.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::features::custom_commands::{CustomCommands, REFRESH_EVERY};
use crate::features::{self, Context};
use crate::http::{self, AppState, socket_mode};
use crate::queue::{JobKinds, Lanes, Queue, Worker};
use crate::store::{self, now_millis};

pub struct App {
    listener: TcpListener,
    settings: Arc<Settings>,
    queue: Queue,
    bot: Arc<Context>,
    jobs: Arc<JobKinds<Context>>,
    lanes: Arc<Lanes>,
    /// Held while this server runs on a SQLite file: no second server may use it.
    _sqlite_lock: Option<std::fs::File>,
}

impl App {
    /// Opens the database, builds the clients and binds the port (0 picks a free one).
    pub async fn build(settings: Settings) -> anyhow::Result<App> {
        if settings.metrics.enabled() {
            crate::metrics::install();
        }
        // Before anything is migrated or taken back.
        let sqlite_lock = match settings.database_url.starts_with("sqlite:") {
            true => store::lock_for_server(&settings.database_url)?,
            false => None,
        };
        let store = store::connect(&settings.database_url, settings.jobs.migrate_on_start).await?;
        // One server keeps a SQLite store: whatever ran when it stopped is nobody's now.
        if !store.is_shared() {
            let taken = store.leases().take_back_all(now_millis()).await?;
            if taken > 0 {
                tracing::info!(
                    jobs = taken,
                    "took back the jobs that were running when the bot stopped"
                );
            }
        }
        let queue = Queue::new(store, settings.jobs.max_attempts);
        let bot = Arc::new(Context::build(&settings, queue.clone()).await?);
        let listener = TcpListener::bind(("0.0.0.0", settings.port)).await?;
        Ok(App {
            lanes: features::lanes::for_lookers(&bot.lookers),
            listener,
            settings: Arc::new(settings),
            queue,
            bot,
            jobs: Arc::new(features::jobs()),
            _sqlite_lock: sqlite_lock,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// The bot's context, as jobs see it.
    pub fn bot(&self) -> Arc<Context> {
        self.bot.clone()
    }

    /// A worker over this app's queue and jobs (tests drive one by hand).
    pub fn worker(&self) -> Worker<Context> {
        Worker::new(
            self.queue.store().clone(),
            self.jobs.clone(),
            self.bot.clone(),
            self.settings.jobs.clone(),
        )
        .with_lanes(self.lanes.clone())
    }

    /// Serves until `shutdown` fires: stops accepting, finishes requests in flight, lets running
    /// jobs finish (or hands them back), and leaves queued jobs for the next start.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut background = JoinSet::new();
        for _ in 0..self.settings.jobs.workers {
            background.spawn(
                self.worker()
                    .run_until_stopped(self.queue.wake_handle(), shutdown.clone()),
            );
        }
        background.spawn(prune_finished_jobs(
            self.queue.clone(),
            self.settings.trust.job_retention,
            shutdown.clone(),
        ));
        background.spawn(prune_audit(
            self.bot.clone(),
            self.settings.audit_retention,
            shutdown.clone(),
        ));
        if let Some(channel) = self.settings.alerts_channel.clone() {
            background.spawn(features::alerts::watch(self.bot.clone(), channel, shutdown.clone()));
        }
        if CustomCommands::configured(&self.bot.lookers) {
            background.spawn(refresh_custom_commands(self.bot.clone(), shutdown.clone()));
        }
        tracing::info!(database = %self.settings.database_location(), "using the database");
        for feature in self.settings.feature_states() {
            let state = if feature.on { "on" } else { "off" };
            tracing::info!(feature = feature.name, state, "{}", feature.how);
        }
        tracing::info!(
            port = self.port(),
            workers = self.settings.jobs.workers,
            "lookerbot listening"
        );
        let state = AppState {
            settings: self.settings.clone(),
            queue: self.queue.clone(),
            bot: self.bot.clone(),
            help: Default::default(),
            refusals: Default::default(),
            notify_senders: Default::default(),
        };
        if let Some(app_token) = self.settings.slack.app_token.clone() {
            background.spawn(socket_mode::run(state.clone(), app_token, shutdown.clone()));
        }
        let cap = http::connection_cap(self.settings.server.max_connections);
        tracing::info!(connections = cap, "serving connections");
        http::serve(self.listener, state, cap, shutdown.clone()).await?;
        shutdown.cancel();
        while background.join_next().await.is_some() {}
        tracing::info!("lookerbot stopped");
        Ok(())
    }
}

/// Forgets audit entries past their retention once an hour.
async fn prune_audit(bot: Arc<features::Context>, retention: Duration, stop: CancellationToken) {
    loop {
        features::audit::prune(&bot, retention).await;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = stop.cancelled() => return,
        }
    }
}

/// Forgets finished and dead jobs, and their files, past `LOOKERBOT_JOB_RETENTION_DAYS` (kept
/// that long so redelivered webhooks are still recognised) once an hour.
async fn prune_finished_jobs(queue: Queue, retention: Duration, stop: CancellationToken) {
    loop {
        match queue
            .store()
            .prune_finished(now_millis() - retention.as_millis() as i64)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "forgot finished and dead jobs past their retention"),
            Err(error) => tracing::warn!(%error, "could not prune finished jobs"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = stop.cancelled() => return,
        }
    }
}

/// Keeps the custom-command catalogs fresh, so `help` can be answered from memory; a Looker that
/// could not be reached is tried again sooner.
async fn refresh_custom_commands(bot: Arc<Context>, stop: CancellationToken) {
    let mut only_stale = false;
    loop {
        let failed = !bot.custom_commands.refresh(&bot.lookers, only_stale).await.is_empty();
        only_stale = failed;
        let wait = if failed { Duration::from_secs(30) } else { REFRESH_EVERY };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = bot.custom_commands.refresh_wanted() => only_stale = false,
            _ = stop.cancelled() => return,
        }
    }
}
