//! The `lookerbot` command: serve (default), check, manifest, migrate, jobs, audit, identity,
//! webhook-url.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use tokio_util::sync::CancellationToken;
use url::Url;

use lookerbot::cli::{audit, check, identity, jobs, manifest, webhook_url};
use lookerbot::config::RawSettings;
use lookerbot::features::deliveries::Destination;
use lookerbot::startup::App;
use lookerbot::telemetry;

/// Request handling allocates many small, short-lived buffers across threads; mimalloc serves
/// them with less contention and fragmentation than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "lookerbot", version, about = "A Slack bot server for Looker", long_about = None)]
struct Cli {
    #[command(flatten)]
    settings: RawSettings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server and the job workers (the default).
    Serve,
    /// Check the settings, every Looker login, Slack's auth.test and the database.
    Check,
    /// Print the Slack app manifest for this bot.
    Manifest {
        /// The bot's public base URL, e.g. https://bot.example.com
        #[arg(long)]
        url: Url,
        #[arg(long, value_enum, default_value_t = ManifestFormat::Yaml)]
        format: ManifestFormat,
    },
    /// Create the database or bring its schema up to date, then exit (`serve` does it too unless
    /// LOOKERBOT_MIGRATE_ON_START=false).
    Migrate,
    /// List queued, running and dead jobs with their last error; `retry` or `drop` dead ones.
    Jobs {
        #[command(subcommand)]
        action: Option<JobsAction>,
        /// Only jobs that failed for good.
        #[arg(long)]
        failed: bool,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Who asked what, as which Looker user, where the answer went and what came of it.
    Audit {
        /// Only this Slack user's (their id, U…).
        #[arg(long)]
        user: Option<String>,
        /// Only what happened within this long (`7d`, `12h`).
        #[arg(long, value_parser = humantime::parse_duration)]
        since: Option<std::time::Duration>,
        #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
        format: AuditFormat,
        #[arg(long, default_value_t = 1000)]
        limit: u32,
    },
    /// Print a signed address for a schedule's Webhook destination (LOOKERBOT_WEBHOOK_URL_SECRET).
    #[command(group(clap::ArgGroup::new("to").required(true).args(["channel", "dm"])))]
    WebhookUrl {
        /// The channel's name (or id) to deliver to.
        #[arg(long)]
        channel: Option<String>,
        /// The person (account name, email or user id) to deliver to.
        #[arg(long)]
        dm: Option<String>,
        /// The bot's public base address [default: PUBLIC_URL].
        #[arg(long)]
        url: Option<Url>,
    },
    /// Print every setting with its default and meaning: a `.env` to start from (this is
    /// `.env.example`), or with `--markdown` the docs' tables.
    Settings {
        #[arg(long)]
        markdown: bool,
    },
    /// People's linked Looker accounts (LOOKERBOT_IDENTITY=oauth).
    Identity {
        #[command(subcommand)]
        action: IdentityAction,
    },
}

#[derive(Subcommand)]
enum IdentityAction {
    /// Forget every Looker account a Slack user linked, and end those sessions at Looker.
    Revoke {
        /// The Slack user's id (U…).
        slack_user: String,
    },
    /// Seal every linked account's tokens and every secret in job payloads again under the
    /// first key of LOOKERBOT_TOKEN_KEYS (after adding a new key in front); then the old keys can go.
    Rekey,
}

#[derive(Clone, Copy, ValueEnum)]
enum AuditFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum JobsAction {
    /// Run a failed job again (or every failed job) with a fresh set of attempts; it goes on
    /// where it stopped, so nothing already posted is posted again.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["id", "all_failed"])))]
    Retry {
        /// The job's ID, as `lookerbot jobs --failed` shows it.
        id: Option<i64>,
        /// Every failed job.
        #[arg(long)]
        all_failed: bool,
        /// The delivery was refused because its channel name now names another channel: confirm
        /// the new channel.
        #[arg(long, requires = "id")]
        repin: bool,
    },
    /// Forget a failed job for good.
    Drop {
        /// The job's ID, as `lookerbot jobs --failed` shows it.
        id: i64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ManifestFormat {
    Yaml,
    Json,
}

/// A setting's help with the default the docs give it.
fn with_default(arg: clap::Arg) -> clap::Arg {
    let default = arg
        .get_env()
        .and_then(|name| name.to_str())
        .and_then(lookerbot::config::catalog::help_default);
    match default {
        Some(default) => {
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            arg.help(format!("{help} [default: {default}]"))
        }
        None => arg,
    }
}

/// Exit code for settings that cannot work.
const BAD_SETTINGS: u8 = 2;

fn main() -> ExitCode {
    // Read before the settings, by the rules Docker and Kubernetes use; a line that would mean
    // something else there stops the start, named, rather than being guessed at.
    let dotenv = lookerbot::config::env_file::load(std::path::Path::new(".env"));
    if let Err(error) = &dotenv {
        eprintln!("lookerbot: {error}");
        return ExitCode::from(BAD_SETTINGS);
    }
    // Every setting's default in `--help` comes from the same list as the docs'.
    let matches = Cli::command().mut_args(with_default).get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    telemetry::init(cli.settings.log_format(), &cli.settings.log_filter());
    if let Ok(Some(set)) = dotenv {
        tracing::debug!(settings = set, "read .env (the environment wins over it)");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.settings).await,
        Command::Settings { markdown } => {
            match markdown {
                true => print!("{}", lookerbot::cli::settings::markdown_tables()),
                false => print!("{}", lookerbot::cli::settings::env_example()),
            }
            ExitCode::SUCCESS
        }
        // Only DATABASE_URL is needed: an operator migrates before filling in the rest.
        Command::Migrate => match lookerbot::store::migrate(&cli.settings.database_url()).await {
            Ok(0) => {
                println!("The database schema is up to date.");
                ExitCode::SUCCESS
            }
            Ok(applied) => {
                println!("Applied {applied} migration(s); the database schema is up to date.");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("cannot migrate the database: {error:#} (check DATABASE_URL)");
                ExitCode::FAILURE
            }
        },
        Command::Check => {
            let Some(settings) = validated(&cli.settings) else {
                return ExitCode::from(BAD_SETTINGS);
            };
            let (report, healthy) = check::run(&settings).await;
            print!("{report}");
            println!(
                "{}",
                if healthy {
                    "All checks passed."
                } else {
                    "Some checks failed: fix the variables named above."
                }
            );
            if healthy { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Command::Manifest { url, format } => {
            if !matches!(url.scheme(), "http" | "https") {
                eprintln!("--url must be the bot's public http(s) address");
                return ExitCode::from(BAD_SETTINGS);
            }
            // Only the Looker web addresses (for the unfurl domains): no credential is needed yet.
            let lookers = match cli.settings.looker_web_urls() {
                Ok(lookers) => lookers,
                Err(error) => {
                    eprint!("{error}");
                    return ExitCode::from(BAD_SETTINGS);
                }
            };
            if lookers.is_empty() {
                eprintln!(
                    "No LOOKER_URL (or LOOKERS) is set, so the manifest has no unfurl domains and Looker links will not be previewed. Set LOOKER_URL and run this again, or add your Looker's host under Event Subscriptions → App unfurl domains in the Slack app's settings."
                );
            }
            match manifest::render(
                &manifest::manifest(&url, &lookers),
                matches!(format, ManifestFormat::Json),
            ) {
                Ok(text) => {
                    println!("{text}");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("could not write the manifest: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Jobs { action, failed, limit } => {
            let database_url = cli.settings.database_url();
            match action {
                None => jobs::list(&database_url, failed, limit).await,
                Some(JobsAction::Retry {
                    id: Some(id),
                    repin: true,
                    ..
                }) => jobs::repair(&database_url, jobs::Repair::Repin(id)).await,
                Some(JobsAction::Retry { id, .. }) => jobs::repair(&database_url, jobs::Repair::Retry(id)).await,
                Some(JobsAction::Drop { id }) => jobs::repair(&database_url, jobs::Repair::Drop(id)).await,
            }
        }
        Command::Audit {
            user,
            since,
            format,
            limit,
        } => {
            let request = audit::AuditRequest {
                user,
                since,
                json: matches!(format, AuditFormat::Json),
                limit,
            };
            audit::list(&cli.settings.database_url(), request).await
        }
        Command::WebhookUrl { channel, dm, url } => {
            let Some(settings) = validated(&cli.settings) else {
                return ExitCode::from(BAD_SETTINGS);
            };
            let destination = match (channel, dm) {
                (Some(channel), _) => Destination::Channel(channel),
                (None, Some(dm)) => Destination::Dm(dm),
                (None, None) => unreachable!("clap requires one"),
            };
            webhook_url::print(&settings, destination, url.as_ref())
        }
        Command::Identity { action } => match (validated(&cli.settings), action) {
            (Some(settings), IdentityAction::Revoke { slack_user }) => identity::revoke(&settings, &slack_user).await,
            (Some(settings), IdentityAction::Rekey) => identity::rekey(&settings).await,
            (None, _) => ExitCode::from(BAD_SETTINGS),
        },
    }
}

fn validated(raw: &RawSettings) -> Option<lookerbot::config::Settings> {
    match raw.validate() {
        Ok((settings, warnings)) => {
            for warning in warnings {
                tracing::warn!("{warning}");
            }
            Some(settings)
        }
        Err(error) => {
            eprint!("{error}");
            None
        }
    }
}

async fn serve(raw: RawSettings) -> ExitCode {
    let Some(settings) = validated(&raw) else {
        return ExitCode::from(BAD_SETTINGS);
    };
    let app = match App::build(settings).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!("lookerbot could not start: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    match app.run_until_stopped(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("lookerbot stopped with an error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// SIGINT or SIGTERM (Heroku, Docker, systemd) start a graceful shutdown.
async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down: finishing requests and running jobs");
    shutdown.cancel();
}
