//! `bench-push SERVER_BIN`: web push and live updates at scale.
//!
//! 1. Push deliveries per second on one core: this process on one CPU (run it under `taskset`),
//!    the npm `web-push-testing` push service on another, 64 pushes in flight; each push is
//!    encrypted (RFC 8291), signed (VAPID, RFC 8292) and posted. Counts what the push service
//!    took and decrypted.
//! 2. Memory per idle Server-Sent Events connection: the server (SERVER_BIN, sandboxes on) with
//!    10,000 live connections of one signed-in person open; its resident memory before and after.
//!
//! Prints `push …` lines.

use std::{
    process::{Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use motcua_server::{
    Config,
    config::Secret,
    notifications::{decide::Urgency, push::WebPush, storage::Subscription},
};
use motcua_tests::{Browser, LEVEL2_CCCD, peers::push_service::PushService};
use serde_json::json;

const PUSHES: usize = 4_000;
const IN_FLIGHT: usize = 64;
const CONNECTIONS: usize = 10_000;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}

/// CPU seconds this process has used (user and system), from /proc.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are the 14th and 15th fields; 11 and 12 after the command's name.
    (ticks(11) + ticks(12)) / 100.0
}

/// A child process killed on drop.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn push_rate() -> anyhow::Result<()> {
    // The push service on the other core.
    let service = PushService::start_on(Some(1)).await;
    let dir = tempfile::tempdir()?;
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        push_services: service.origin.clone(),
        vapid_private_key: Secret::default(),
        ..Config::default()
    };
    let push = Arc::new(WebPush::new(&config)?);
    let subscribed = service.subscribe(push.public_key()).await;
    let device = Arc::new(Subscription {
        id: "bench".into(),
        endpoint: subscribed.endpoint.clone(),
        p256dh: subscribed.p256dh.clone(),
        auth: subscribed.auth.clone(),
    });
    let payload = json!({
        "title": "Hồ sơ CA-PCSGT-20261130-0001 đã được tiếp nhận",
        "body": "Mở Dịch vụ công để xem chi tiết.",
        "url": "/dossiers/7f3c2a1e-0000-4000-8000-000000000001",
        "tag": "dossier:7f3c2a1e-0000-4000-8000-000000000001",
        "lang": "vi",
    })
    .to_string();
    let payload = Arc::new(payload);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let cpu_before = cpu_secs();
    let mut tasks = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (push, device, payload, next) =
            (push.clone(), device.clone(), payload.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut taken = 0usize;
            while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < PUSHES {
                let topic = "bench";
                if let Ok((status, _)) = push
                    .send(&device, payload.as_bytes(), 3600, Urgency::Normal, topic)
                    .await
                    && (200..300).contains(&status)
                {
                    taken += 1;
                }
            }
            taken
        }));
    }
    let mut taken = 0;
    for task in tasks {
        taken += task.await?;
    }
    let took = started.elapsed().as_secs_f64();
    let busy = (cpu_secs() - cpu_before) / took;
    let decrypted = service.received(&subscribed).await.len();
    anyhow::ensure!(
        taken == PUSHES && decrypted == PUSHES,
        "{taken} pushes taken, {decrypted} decrypted, of {PUSHES}"
    );
    #[allow(clippy::cast_precision_loss)]
    let rate = PUSHES as f64 / took;
    println!(
        "push deliveries on one core: {PUSHES} encrypted, signed and posted in {took:.2} s = {rate:.0}/s with the sender's core {:.0} % busy ({:.0}/s per busy core), all {decrypted} decrypted by the push service (target at least 1,000/s)",
        busy * 100.0,
        rate / busy.max(0.01)
    );
    Ok(())
}

async fn sse_memory(server_bin: &str) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let port = free_port();
    let base = format!("http://localhost:{port}");
    let server = Child(
        Command::new(server_bin)
            .arg("serve")
            .env("MOTCUA_ADDR", format!("127.0.0.1:{port}"))
            .env("MOTCUA_PUBLIC_URL", &base)
            .env(
                "MOTCUA_DATABASE_URL",
                format!("sqlite://{}/motcua.db", dir.path().display()),
            )
            .env("MOTCUA_DATA_DIR", dir.path())
            .env("MOTCUA_WEB_DIR", "/nonexistent")
            .env("MOTCUA_SANDBOX", "true")
            .env("MOTCUA_LOG", "error")
            .stdout(Stdio::null())
            .spawn()?,
    );
    let pid = server.0.id();
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http
            .get(format!("{base}/api/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let browser = Browser::at(&base);
    browser.sign_in_as(LEVEL2_CCCD).await;
    let cookie = browser.cookie_header();
    // One connection first, so the hub is running and the first allocations are made.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let open = |client: reqwest::Client, cookie: String, base: String| async move {
        client
            .get(format!("{base}/api/v1/me/events"))
            .header("cookie", cookie)
            .send()
            .await
    };
    let first = open(client.clone(), cookie.clone(), base.clone()).await?;
    anyhow::ensure!(
        first.status() == 200,
        "the live stream answered {}",
        first.status()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_kib(pid);
    let streams = motcua_tests::bench::open_live_streams(&base, &cookie, CONNECTIONS).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid);
    let health = Instant::now();
    let ok = http
        .get(format!("{base}/api/health"))
        .send()
        .await?
        .status()
        .is_success();
    let health_ms = health.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(ok, "the server stopped answering with the streams open");
    #[allow(clippy::cast_precision_loss)]
    let per = (after.saturating_sub(before)) as f64 * 1024.0 / CONNECTIONS as f64;
    println!(
        "push live connections: {CONNECTIONS} idle Server-Sent Events streams open, server memory {:.1} MiB -> {:.1} MiB = {:.1} KiB each; health answered in {health_ms:.1} ms meanwhile",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        per / 1024.0
    );
    drop(streams);
    drop(first);
    drop(server);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let server_bin = std::env::args()
        .nth(1)
        .expect("usage: bench-push SERVER_BIN");
    // One core: a single-threaded runtime (and `taskset` from the caller).
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(push_rate())?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(sse_memory(&server_bin))
}
