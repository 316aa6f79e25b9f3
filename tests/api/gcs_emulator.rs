//! A Google Cloud Storage emulator (PyPI `gcp-storage-emulator`, speaking GCS's JSON API),
//! installed into `target/emulators` on first use and started per test on a free port, and a
//! stand-in for Google's OAuth token endpoint: the bot signs a JWT with the service account's key
//! and trades it for an access token there, as it does at `oauth2.googleapis.com`.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::routing::post;
use tokio::process::{Child, Command};
use tokio::sync::OnceCell;

const VERSION: &str = "2026.7.19";
/// A key made for these tests only (`openssl genpkey -algorithm RSA`); it signs nothing real.
pub const TEST_KEY: &str = include_str!("../fixtures/gcs-test-key.pem");
pub const CLIENT_EMAIL: &str = "lookerbot@lookerbot-test.iam.gserviceaccount.com";

static INSTALLED: OnceCell<PathBuf> = OnceCell::const_new();

/// The emulator's Python package, installed with pip once for the whole run.
async fn installed() -> &'static PathBuf {
    INSTALLED
        .get_or_init(|| async {
            let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/emulators/gcs");
            if !target.join("gcp_storage_emulator").exists() {
                let status = Command::new("python3")
                    .args([
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                        "--target",
                    ])
                    .arg(&target)
                    .arg(format!("gcp-storage-emulator=={VERSION}"))
                    .status()
                    .await
                    .expect("python3 with pip is installed (the emulator is a PyPI package)");
                assert!(status.success(), "pip install gcp-storage-emulator=={VERSION} failed");
            }
            target
        })
        .await
}

pub struct GcsEmulator {
    _child: Child,
    /// `http://127.0.0.1:<port>`: the JSON API's base, as `SLACKBOT_GCS_ENDPOINT`.
    pub endpoint: String,
    /// The service account's JSON key, its token endpoint on loopback.
    pub credentials_json: String,
    /// Access tokens handed out.
    pub tokens: Arc<AtomicUsize>,
}

impl GcsEmulator {
    /// Starts the emulator with one bucket, and the token endpoint.
    pub async fn start(bucket: &str) -> GcsEmulator {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .env("PYTHONPATH", installed().await)
            .args(["-m", "gcp_storage_emulator", "start", "--host=127.0.0.1", "--in-memory"])
            .arg(format!("--port={port}"))
            .arg(format!("--default-bucket={bucket}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let endpoint = format!("http://127.0.0.1:{port}");
        for _ in 0..200 {
            if reqwest::get(format!("{endpoint}/storage/v1/b/{bucket}/o"))
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let tokens = Arc::new(AtomicUsize::new(0));
        let counted = tokens.clone();
        let app = axum::Router::new().route(
            "/token",
            post(move |body: String| async move {
                assert!(body.contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"), "{body}");
                counted.fetch_add(1, Ordering::SeqCst);
                axum::Json(serde_json::json!({"access_token": "ya29.test-access-token", "expires_in": 3600, "token_type": "Bearer"}))
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let token_uri = format!("http://{}/token", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let credentials_json = serde_json::json!({
            "type": "service_account",
            "project_id": "lookerbot-test",
            "private_key_id": "test-key-1",
            "private_key": TEST_KEY,
            "client_email": CLIENT_EMAIL,
            "client_id": "100000000000000000001",
            "token_uri": token_uri,
        })
        .to_string();
        GcsEmulator {
            _child: child,
            endpoint,
            credentials_json,
            tokens,
        }
    }

    /// The objects the bucket holds, by name, with their content type.
    pub async fn objects(&self, bucket: &str) -> Vec<(String, String)> {
        let listed: serde_json::Value = reqwest::get(format!("{}/storage/v1/b/{bucket}/o", self.endpoint))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        listed["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|o| {
                (
                    o["name"].as_str().unwrap().to_string(),
                    o["contentType"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    /// An object's bytes, read through the JSON API.
    pub async fn download(&self, bucket: &str, name: &str) -> Vec<u8> {
        let name = url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>();
        let url = format!("{}/download/storage/v1/b/{bucket}/o/{name}?alt=media", self.endpoint);
        reqwest::get(url).await.unwrap().bytes().await.unwrap().to_vec()
    }
}

/// Checks a V4 signed URL as Google checks it: the canonical request rebuilt from the URL, the
/// string to sign, and the RSA signature against the test key's public half.
pub fn signature_holds(url: &str) -> bool {
    use sha2::Digest;
    let parsed = url::Url::parse(url).unwrap();
    let query = parsed.query().unwrap_or_default();
    let mut signature = None;
    let mut signed = Vec::new();
    for pair in query.split('&') {
        match pair.strip_prefix("X-Goog-Signature=") {
            Some(hex) => signature = Some(hex.to_string()),
            None => signed.push(pair),
        }
    }
    let Some(signature) = signature else { return false };
    signed.sort();
    let value = |name: &str| {
        parsed
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let canonical = format!(
        "GET\n{}\n{}\nhost:{}\n\nhost\nUNSIGNED-PAYLOAD",
        parsed.path(),
        signed.join("&"),
        parsed.host_str().unwrap()
    );
    let credential = value("X-Goog-Credential");
    let scope = credential.split_once('/').map(|(_, scope)| scope).unwrap_or_default();
    let digest = sha2::Sha256::digest(canonical.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let to_sign = format!("GOOG4-RSA-SHA256\n{}\n{scope}\n{hex}", value("X-Goog-Date"));
    let Some(signature) = (0..signature.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(signature.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let der: String = TEST_KEY.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, der).unwrap();
    let key = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    let public = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        ring::signature::KeyPair::public_key(&key).as_ref(),
    );
    public.verify(to_sign.as_bytes(), &signature).is_ok()
}
