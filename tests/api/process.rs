//! The real `lookerbot serve` binary as a child process, for what only a process shows: its log
//! lines, its memory and descriptors, and being killed.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::*;

pub struct ServerProcess {
    /// Killed when dropped.
    _child: Child,
    pub address: String,
    pub pid: u32,
    log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts the binary against the app's fakes, with its own database and these settings.
    pub async fn start(app: &TestApp, settings: &[(&str, &str)]) -> ServerProcess {
        let dir = tempfile::tempdir().unwrap();
        let raw = test_settings(
            &app.slack,
            &app.looker,
            &format!("sqlite://{}/bot.db", dir.path().display()),
        );
        let mut command = Command::new(env!("CARGO_BIN_EXE_lookerbot"));
        command
            .env_clear()
            .current_dir(dir.path())
            .env("RUST_LOG", "info")
            .env("SLACK_API_KEY", raw.slack_api_key.unwrap())
            .env("SLACK_SIGNING_SECRET", raw.slack_signing_secret.unwrap())
            .env("SLACK_API_BASE_URL", raw.slack_api_base_url.unwrap())
            .env("LOOKER_URL", raw.looker_url.unwrap())
            .env("LOOKER_API_BASE_URL", raw.looker_api_base_url.unwrap())
            .env("LOOKER_API_CLIENT_ID", raw.looker_api_client_id.unwrap())
            .env("LOOKER_API_CLIENT_SECRET", raw.looker_api_client_secret.unwrap())
            .env("LOOKER_WEBHOOK_TOKEN", WEBHOOK_TOKEN)
            .env("DATABASE_URL", raw.database_url.unwrap())
            .env("LOOKERBOT_WORKERS", "0")
            .env("PORT", "0");
        for (name, value) in settings {
            command.env(name, value);
        }
        let mut child = command
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = tokio::sync::oneshot::channel();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let collected = log.clone();
        tokio::spawn(async move {
            let mut port_tx = Some(port_tx);
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("lookerbot listening")
                    && let Some(port) = line.split("port=").nth(1).and_then(|p| p.split_whitespace().next())
                    && let Some(tx) = port_tx.take()
                {
                    let _ = tx.send(port.to_string());
                }
                collected.lock().unwrap().push(line);
            }
        });
        let port = tokio::time::timeout(Duration::from_secs(20), port_rx)
            .await
            .expect("the server started")
            .unwrap();
        ServerProcess {
            _child: child,
            address: format!("http://127.0.0.1:{port}"),
            pid,
            log,
            _dir: dir,
        }
    }

    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Waits (a few seconds at most) for a log line that `wanted` accepts.
    pub async fn wait_for_log(&self, wanted: impl Fn(&str) -> bool) -> bool {
        for _ in 0..100 {
            if self.log().iter().any(|l| wanted(l)) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Resident memory, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    }

    /// Open file descriptors.
    pub fn descriptors(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid)).unwrap().count()
    }
}
