//! Hostile clients, held off: unauthenticated bodies never read, slow and idle connections
//! closed on time, a connection cap with a clear 503, forged log lines impossible, odd
//! timestamps refused, and every refusal saying why.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;
use crate::process::ServerProcess;

fn host_port(address: &str) -> String {
    address.trim_start_matches("http://").to_string()
}

/// A request line and headers, without the body it announces.
async fn announce(address: &str, head: &str) -> TcpStream {
    let mut stream = TcpStream::connect(host_port(address)).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// What the server answered on a raw connection (until it closes, or `wait` passes).
async fn answer(stream: &mut TcpStream, wait: Duration) -> String {
    let mut got = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + wait;
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline.into(), stream.read(&mut buffer)).await {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buffer[..n]);
        if got.windows(4).any(|w| w == b"\r\n\r\n") && got.len() > 64 {
            break;
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Whether the server has closed this connection.
async fn closed(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline.into(), stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn an_unauthenticated_upload_is_refused_before_its_body_is_read() {
    let app = spawn_app().await;
    let server = ServerProcess::start(&app, &[]).await;
    // The same refusal once with a small body first, so that what the runtime's threads and the
    // allocator set up on first use is not counted as the bodies' memory.
    let mut warm = Vec::new();
    for _ in 0..4 {
        let head = "POST /slack/post/channel/general HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        warm.push(announce(&server.address, head).await);
    }
    for stream in &mut warm {
        assert!(answer(stream, Duration::from_secs(2)).await.starts_with("HTTP/1.1 401"));
    }
    let idle = server.rss_kib();
    let started = Instant::now();
    let mut uploads = Vec::new();
    for _ in 0..4 {
        let head = "POST /slack/post/channel/general HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\nContent-Length: 62914560\r\n\r\n";
        let mut stream = announce(&server.address, head).await;
        stream.write_all(&[b' '; 65536]).await.unwrap();
        uploads.push(stream);
    }
    for stream in &mut uploads {
        let reply = answer(stream, Duration::from_secs(2)).await;
        assert!(reply.starts_with("HTTP/1.1 401"), "{reply}");
        assert!(
            reply.contains("X-Looker-Webhook-Token"),
            "the refusal says why: {reply}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(2), "answered at once");
    let grown = server.rss_kib().saturating_sub(idle);
    assert!(
        grown < 8 * 1024,
        "RSS grew by {grown} KiB for bodies it should not have read"
    );
    assert!(
        server
            .log()
            .iter()
            .any(|l| l.contains("refused a request") && l.contains("webhook token")),
        "{:?}",
        server.log()
    );
}

#[tokio::test]
async fn an_accepted_body_larger_than_allowed_is_cut_off_while_it_streams() {
    let app = spawn_app().await;
    let server = ServerProcess::start(&app, &[("LOOKERBOT_WEBHOOK_MAX_MB", "1")]).await;
    // Chunked, so no length is announced: the limit holds while the body streams.
    let head = format!(
        "POST /slack/post/channel/general HTTP/1.1\r\nHost: bot\r\nX-Looker-Webhook-Token: {WEBHOOK_TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let mut stream = announce(&server.address, &head).await;
    let chunk = [b' '; 65536];
    for _ in 0..20 {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if stream.write_all(&framed).await.is_err() {
            break;
        }
    }
    let reply = answer(&mut stream, Duration::from_secs(5)).await;
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
}

#[tokio::test]
async fn slow_and_idle_clients_are_disconnected_while_the_health_check_answers() {
    let app = spawn_app().await;
    let server = ServerProcess::start(&app, &[("LOOKERBOT_HEADER_TIMEOUT_SECS", "1")]).await;
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(TcpStream::connect(host_port(&server.address)).await.unwrap());
    }
    let mut trickling = Vec::new();
    for _ in 0..50 {
        trickling.push(announce(&server.address, "POST /slack/events HTTP/1.1\r\nHost: bot\r\n").await);
    }
    // A slow body on a Slack route: headers complete, body never finishes.
    let mut slow_body = announce(
        &server.address,
        "POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
    )
    .await;
    let started = Instant::now();
    let health = reqwest::Client::new();
    for _ in 0..5 {
        let answered = health
            .get(format!("{}/health_check", server.address))
            .timeout(Duration::from_secs(1))
            .send()
            .await
            .unwrap();
        assert_eq!(answered.status(), 200);
        for stream in trickling.iter_mut().take(10) {
            let _ = stream.write_all(b"X-Trickle: 1\r\n").await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for stream in idle.iter_mut().chain(trickling.iter_mut()) {
        assert!(
            closed(stream, Duration::from_secs(3)).await,
            "still open after {:?}",
            started.elapsed()
        );
    }
    let reply = answer(&mut slow_body, Duration::from_secs(15)).await;
    assert!(
        reply.starts_with("HTTP/1.1 408"),
        "a trickled Slack body is cut off: {reply}"
    );
    assert!(
        server.descriptors() < 100,
        "{} descriptors still open",
        server.descriptors()
    );
}

#[tokio::test]
async fn past_the_connection_cap_a_clear_503_and_the_health_check_still_answers() {
    let app = spawn_app().await;
    let server = ServerProcess::start(&app, &[("LOOKERBOT_MAX_CONNECTIONS", "16")]).await;
    // Sixteen busy connections: each is sending a Slack request whose body has not all come.
    let mut held = Vec::new();
    for _ in 0..16 {
        held.push(
            announce(
                &server.address,
                "POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
            )
            .await,
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let refused = client
        .post(format!("{}/slack/events", server.address))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("as many connections as it allows")
    );
    let health = client
        .get(format!("{}/health_check", server.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "the load balancer still sees the bot alive");
    drop(held);
}

#[tokio::test]
async fn idle_connections_past_the_cap_make_room_and_the_descriptors_held_stay_bounded() {
    let app = spawn_app().await;
    let server = ServerProcess::start(&app, &[("LOOKERBOT_MAX_CONNECTIONS", "16")]).await;
    let baseline = server.descriptors();
    // Three hundred connections that never send a byte (slow clients, or a pool left idle).
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(TcpStream::connect(host_port(&server.address)).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let held = server.descriptors();
    assert!(
        held <= baseline + 16 + 64 + 8,
        "{held} descriptors for 16 served and 64 overflow places (baseline {baseline})"
    );
    // The oldest idle connections make room: newcomers are served, not refused.
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    for _ in 0..5 {
        let health = client
            .get(format!("{}/health_check", server.address))
            .timeout(Duration::from_secs(1))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
        let slack = client
            .post(format!("{}/slack/events", server.address))
            .timeout(Duration::from_secs(1))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(slack.status(), 401, "answered as any unsigned request is");
    }
    assert!(
        closed(&mut idle[0], Duration::from_secs(1)).await,
        "the oldest made room"
    );
    drop(idle);
    for _ in 0..40 {
        if server.descriptors() <= baseline + 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        server.descriptors() <= baseline + 2,
        "{} after, {baseline} before",
        server.descriptors()
    );
}

#[tokio::test]
async fn request_values_cannot_forge_log_lines() {
    let app = spawn_app().await;
    let server = ServerProcess::start(&app, &[]).await;
    let forged = "FORGED lookerbot::http: admin logged in";
    // A channel name with an encoded newline, a title with newlines, CR and NUL.
    let mut body = look_webhook(&app.looker, "7", &format!("Daily\n{forged}\r\n{forged}\u{0}"), None);
    body["scheduled_plan"]["title"] = json!(format!("Daily\n{forged}\r\n{forged}\u{0}"));
    let address = format!(
        "{}/slack/post/channel/gen%0A{}",
        server.address,
        forged.replace(' ', "%20")
    );
    app.looker.plan_behind(&address, &body);
    let response = reqwest::Client::new()
        .post(address)
        .header("X-Looker-Webhook-Token", WEBHOOK_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    // A slash command with a newline, as any workspace member can send.
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("team_id", "T000000ACME")
        .append_pair("channel_id", "C0000GENERAL")
        .append_pair("user_id", "U000000ALICE")
        .append_pair("command", "/looker")
        .append_pair("text", &format!("look 7\n{forged}"))
        .append_pair("response_url", &app.slack.response_url())
        .finish();
    let signed = (lookerbot::store::now_millis() / 1000, SIGNING_SECRET);
    let mut slash = reqwest::Client::new()
        .post(format!("{}/slack/receive", server.address))
        .header("Content-Type", FORM)
        .header("X-Slack-Request-Timestamp", signed.0.to_string())
        .header(
            "X-Slack-Signature",
            slack_signature(SIGNING_SECRET, signed.0, form.as_bytes()),
        );
    slash = slash.body(form);
    assert_eq!(slash.send().await.unwrap().status(), 200);
    // A huge title: the log line stays small.
    let mut huge = look_webhook(&app.looker, "7", "x", None);
    huge["scheduled_plan"]["title"] = json!("t".repeat(8 * 1024 * 1024));
    huge["scheduled_plan"]["scheduled_plan_id"] = json!(92);
    app.looker
        .plan_behind(&format!("{}/slack/post/channel/general", server.address), &huge);
    let response = reqwest::Client::new()
        .post(format!("{}/slack/post/channel/general", server.address))
        .header("X-Looker-Webhook-Token", WEBHOOK_TOKEN)
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        server
            .wait_for_log(|l| l.contains("delivery queued") && l.contains("tttttttt"))
            .await,
        "{:?}",
        server.log()
    );
    let log = server.log();
    for line in &log {
        assert!(
            !line.starts_with("FORGED") && !line.contains('\0'),
            "forged line: {line:?}"
        );
        assert!(line.len() < 4096, "a {}-byte log line", line.len());
    }
    assert!(
        log.iter().any(|l| l.contains("\\nFORGED")),
        "escaped, still readable: {log:?}"
    );
}

#[tokio::test]
async fn an_overflowing_timestamp_is_refused_even_when_correctly_signed() {
    let app = spawn_app().await;
    let body = r#"{"type":"url_verification","challenge":"c"}"#;
    let now = lookerbot::store::now_millis() / 1000;
    let ancient = (i128::from(now) - (1i128 << 63)).to_string();
    let response = app
        .http
        .post(format!("{}/slack/events", app.address))
        .header("Content-Type", "application/json")
        .header("X-Slack-Request-Timestamp", &ancient)
        .header("X-Slack-Signature", {
            use hmac::{Hmac, Mac};
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SIGNING_SECRET.as_bytes()).unwrap();
            mac.update(format!("v0:{ancient}:{body}").as_bytes());
            format!("v0={}", hex::encode(mac.finalize().into_bytes()))
        })
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.text().await.unwrap().contains("not a Unix time"));
}

#[tokio::test]
async fn every_refusal_says_why() {
    let app = spawn_app().await;
    let client = &app.http;
    let get = client
        .get(format!("{}/slack/events", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    assert!(get.text().await.unwrap().contains("GET is not allowed here"));
    let webhook = client
        .get(format!("{}/slack/post/channel/general", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(webhook.status(), 405);
    let reason: Value = webhook.json().await.unwrap();
    assert_eq!(reason["success"], false);
    assert!(reason["reason"].as_str().unwrap().contains("send POST"));
    let missing = client
        .post(format!("{}/slack/nowhere", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("/slack/receive"));
    let api: Value = client
        .post(format!("{}/api/nowhere", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api["reason"], "no such route");
    let no_id = json!({"type": "event_callback", "team_id": "T1", "event": {"type": "app_mention"}});
    let response = app.post_event_body(&no_id.to_string()).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("without event_id"));
}

#[tokio::test]
async fn a_download_link_elsewhere_than_the_sending_looker_is_refused() {
    let app = spawn_app().await;
    let body = json!({"type": "dashboard",
        "scheduled_plan": {"scheduled_plan_id": 705, "title": "Weekly KPIs", "type": "Dashboard",
                           "url": format!("{}/dashboards/12", app.looker.web_url),
                           "download_url": "http://169.254.169.254/latest/meta-data/iam"},
        "attachment": null});
    app.deliver("/slack/post/channel/general", &body).await;
    app.drain_jobs().await;
    assert!(app.slack.messages().is_empty() && app.slack.files().is_empty());
    let dead = app.dead_jobs().await;
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("does not point at the Looker"),
        "{:?}",
        dead[0].last_error
    );
}
