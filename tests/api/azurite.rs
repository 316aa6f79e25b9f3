//! Azurite, Microsoft's Azure Storage emulator (npm package `azurite`), installed into
//! `target/emulators` on first use and started per test on a free port. It checks SharedKey and
//! SAS signatures as Azure does, so a link that works here is signed right.

use std::path::PathBuf;
use std::process::Stdio;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::OnceCell;

/// The emulator's well-known account and key (documented by Microsoft; not a secret).
pub const ACCOUNT: &str = "devstoreaccount1";
pub const KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const VERSION: &str = "3.35.0";

static INSTALLED: OnceCell<PathBuf> = OnceCell::const_new();

/// `azurite-blob`, installed with npm once for the whole run.
async fn installed() -> &'static PathBuf {
    INSTALLED
        .get_or_init(|| async {
            let prefix = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/emulators/azurite");
            let binary = prefix.join("node_modules/.bin/azurite-blob");
            if !binary.exists() {
                let status = Command::new("npm")
                    .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
                    .arg(&prefix)
                    .arg(format!("azurite@{VERSION}"))
                    .status()
                    .await
                    .expect("npm is installed (Azurite is an npm package)");
                assert!(status.success(), "npm install azurite@{VERSION} failed");
            }
            binary
        })
        .await
}

pub struct Azurite {
    _child: Child,
    _data: tempfile::TempDir,
    /// The blob endpoint of the account, `http://127.0.0.1:<port>/devstoreaccount1`.
    pub endpoint: String,
}

impl Azurite {
    /// Starts the blob service on a free port with these (private) containers.
    pub async fn start(containers: &[&str]) -> Azurite {
        let data = tempfile::tempdir().unwrap();
        let mut child = Command::new(installed().await)
            .args(["--blobHost", "127.0.0.1", "--blobPort", "0", "--disableTelemetry"])
            .args(["--skipApiVersionCheck", "--location"])
            .arg(data.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let address = loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("Azurite says where it listens (its error is above)");
            if let Some(address) = line.split("listens on ").nth(1) {
                break address.trim().to_string();
            }
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let azurite = Azurite {
            _child: child,
            _data: data,
            endpoint: format!("{address}/{ACCOUNT}"),
        };
        for container in containers {
            azurite.create_container(container).await;
        }
        azurite
    }

    /// `PUT ?restype=container` signed with the account key (SharedKey), as Azure's tools do.
    async fn create_container(&self, name: &str) {
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        let version = "2021-08-06";
        let to_sign = format!(
            "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n/{ACCOUNT}/{ACCOUNT}/{name}\nrestype:container"
        );
        let key = base64::engine::general_purpose::STANDARD.decode(KEY).unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(to_sign.as_bytes());
        let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let answer = reqwest::Client::new()
            .put(format!("{}/{name}?restype=container", self.endpoint))
            .header("x-ms-date", date)
            .header("x-ms-version", version)
            .header("content-length", "0")
            .header("authorization", format!("SharedKey {ACCOUNT}:{signature}"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201, "{}", answer.text().await.unwrap());
    }
}
