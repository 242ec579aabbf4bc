//! `crash-test SERVER_BIN [CYCLES]`: the server killed by SIGKILL under a mixed write load, again
//! and again, on one SQLite database (its default `synchronous=full`).
//!
//! Each cycle starts the server (sandboxes on), checks what every earlier cycle was told was
//! done, puts it under load (filings, their fees paid through the sandbox gateway, uploads) and
//! kills it at a random moment. After each restart:
//! - every filing, paid payment and upload the client saw acknowledged is there, and each
//!   upload's content reads back with its digest (no document half-written);
//! - the audit chain verifies;
//! - the outbox delivers what was pending at the kill (its backlog empties).
//!
//! Then web push across a kill: with notices waiting in the outbox because the push service was
//! down (503), the server is killed, the push service comes back, and after the restart the
//! real push service (npm `web-push-testing`) receives each notice exactly once.
//!
//! Prints `crash N passed, M failed` per check and exits non-zero on any failure.

use std::{
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use motcua_server::{audit::ChainReport, store::Store};
use motcua_tests::{Browser, LEVEL2_CCCD, peers::push_service::PushService};
use rand::Rng;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde\0\0\0\x0cIDATx\x9cc\xf8\xcf\xc0\0\0\x03\x01\x01\0\xc9\xfe\x92\xef\0\0\0\0IEND\xaeB`\x82";

#[derive(Default)]
struct Acknowledged {
    dossiers: Vec<String>,
    payments: Vec<String>,
    /// (item id, SHA-256 of what was sent)
    uploads: Vec<(String, String)>,
}

impl Acknowledged {
    fn counts(&self) -> (usize, usize, usize) {
        (self.dossiers.len(), self.payments.len(), self.uploads.len())
    }
}

/// Checks the acknowledged writes from `from` on (counts of dossiers, payments, uploads): what
/// is missing; the audit chain; deliveries given up.
async fn verify(
    browser: &Browser,
    acked: &Mutex<Acknowledged>,
    dir: &std::path::Path,
    from: (usize, usize, usize),
) -> (Vec<String>, ChainReport, i64) {
    let (dossiers, payments, uploads) = {
        let a = acked.lock().expect("lock");
        (
            a.dossiers[from.0..].to_vec(),
            a.payments[from.1..].to_vec(),
            a.uploads[from.2..].to_vec(),
        )
    };
    let mut missing = Vec::new();
    for id in &dossiers {
        if browser
            .get(&format!("/api/v1/dossiers/{id}"))
            .await
            .status()
            .as_u16()
            != 200
        {
            missing.push(format!("dossier {id}"));
        }
    }
    for id in &payments {
        let p: Value = browser
            .get(&format!("/api/v1/payments/{id}"))
            .await
            .json()
            .await
            .unwrap_or_default();
        if p["state"] != "paid" {
            missing.push(format!("payment {id} is {}", p["state"]));
        }
    }
    for (id, digest) in &uploads {
        let body = browser
            .get(&format!("/api/v1/me/warehouse/{id}/content"))
            .await
            .bytes()
            .await
            .unwrap_or_default();
        let got: String = Sha256::digest(&body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if &got != digest {
            missing.push(format!("upload {id}"));
        }
    }
    let store = Store::connect(&format!("sqlite://{}/motcua.db", dir.display()), 1)
        .await
        .expect("the database opens");
    let chain = store.verify_audit_chain().await.expect("verified");
    let (_, given_up) = store.outbox_backlog("notices").await.unwrap_or((0, -1));
    store.close().await;
    (missing, chain, given_up)
}

fn start(bin: &str, dir: &std::path::Path, port: u16) -> Child {
    start_with(bin, dir, port, &[])
}

fn start_with(bin: &str, dir: &std::path::Path, port: u16, extra: &[(&str, &str)]) -> Child {
    Command::new(bin)
        .arg("serve")
        .envs(extra.iter().copied())
        .env("MOTCUA_ADDR", format!("127.0.0.1:{port}"))
        .env("MOTCUA_PUBLIC_URL", format!("http://localhost:{port}"))
        .env(
            "MOTCUA_DATABASE_URL",
            format!("sqlite://{}/motcua.db", dir.display()),
        )
        .env("MOTCUA_DATA_DIR", dir.join("data"))
        .env("MOTCUA_WEB_DIR", "/nonexistent")
        .env("MOTCUA_SANDBOX", "true")
        .env("MOTCUA_WORKER_INTERVAL_SECS", "1")
        .env("MOTCUA_FILING_RATE_PER_HOUR", "1000000")
        .env("MOTCUA_UPLOAD_QUOTA_PER_DAY", "1000000")
        .env("MOTCUA_STEP_UP_MAX_AGE_SECS", "86400")
        .env("MOTCUA_SESSION_IDLE_MINUTES", "600")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts")
}

async fn healthy(base: &str) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("{base}/api/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become healthy");
}

/// One unit of load: a filing, its fee paid at the gateway (IPN at once), an upload. Records
/// each step the server acknowledged.
async fn work(
    b: Arc<Browser>,
    answers: Arc<Map<String, Value>>,
    n: u64,
    acked: Arc<Mutex<Acknowledged>>,
) {
    let Ok(Ok(me)) = tokio::time::timeout(
        Duration::from_secs(5),
        b.client.get(b.url("/api/v1/me")).send(),
    )
    .await
    else {
        return;
    };
    let Ok(me) = me.json::<Value>().await else {
        return;
    };
    let Some(token) = me["csrf_token"].as_str().map(str::to_owned) else {
        return;
    };
    let filed = b
        .client
        .post(b.url("/api/v1/dossiers"))
        .header("x-csrf-token", &token)
        .json(&json!({ "procedure_code": "1.002804", "answers": *answers, "idempotency_key": format!("crash-{n:06}") }))
        .send()
        .await;
    let Ok(filed) = filed else { return };
    if filed.status().as_u16() != 201 {
        return;
    }
    let Ok(dossier) = filed.json::<Value>().await else {
        return;
    };
    let dossier = dossier["id"].as_str().unwrap_or_default().to_owned();
    if let Ok(mut a) = acked.lock() {
        a.dossiers.push(dossier.clone());
    }
    let mut bytes = PNG.to_vec();
    bytes.extend_from_slice(format!("crash upload {n}").as_bytes());
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let uploaded = b
        .client
        .post(b.url("/api/v1/me/warehouse?document=portrait-photo&title=crash.png"))
        .header("x-csrf-token", &token)
        .header("content-type", "image/png")
        .body(bytes)
        .send()
        .await;
    if let Ok(r) = uploaded
        && r.status().as_u16() == 201
        && let Ok(item) = r.json::<Value>().await
        && let Ok(mut a) = acked.lock()
    {
        a.uploads
            .push((item["id"].as_str().unwrap_or_default().to_owned(), digest));
    }
    let started = b
        .client
        .post(b.url("/api/v1/payments"))
        .header("x-csrf-token", &token)
        .header("idempotency-key", format!("crash-pay-{n:06}"))
        .json(&json!({ "dossier_id": dossier }))
        .send()
        .await;
    let Ok(started) = started else { return };
    let Ok(payment) = started.json::<Value>().await else {
        return;
    };
    let (Some(id), Some(url)) = (payment["id"].as_str(), payment["pay_url"].as_str()) else {
        return;
    };
    if b.client.get(url).send().await.is_err() {
        return;
    }
    let txn_ref = url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "vnp_TxnRef")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    let paid = b
        .client
        .post(b.url("/sandbox/vnpay/paymentv2/pay"))
        .form(&[
            ("txn_ref", txn_ref.as_str()),
            ("outcome", "success"),
            ("bank", "NCB"),
            ("ipn", "now"),
        ])
        .send()
        .await;
    if !paid.is_ok_and(|r| r.status().as_u16() == 302) {
        return;
    }
    // The gateway sent its IPN before redirecting; confirmed if the server now says paid.
    let Ok(answer) = b
        .client
        .get(b.url(&format!("/api/v1/payments/{id}")))
        .send()
        .await
    else {
        return;
    };
    if let Ok(r) = answer.json::<Value>().await
        && r["state"] == "paid"
        && let Ok(mut a) = acked.lock()
    {
        a.payments.push(id.to_owned());
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let bin = args.next().expect("usage: crash-test SERVER_BIN [CYCLES]");
    let cycles: u32 = args.next().map_or(50, |c| c.parse().expect("a number"));
    let dir = tempfile::tempdir().expect("a folder");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        l.local_addr().expect("bound").port()
    };
    let base = format!("http://localhost:{port}");
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let browser = Arc::new(Browser::at(&base));
    let mut answers: Option<Arc<Map<String, Value>>> = None;
    let (mut passed, mut failed) = (0u32, 0u32);
    let mut check = |ok: bool, what: String| {
        if ok {
            passed += 1;
        } else {
            failed += 1;
            eprintln!("FAILED: {what}");
        }
    };
    let mut n = 0u64;
    let mut checked = (0, 0, 0);
    let began = Instant::now();
    for cycle in 0..cycles {
        let mut server = start(&bin, dir.path(), port);
        healthy(&base).await;
        if answers.is_none() {
            browser.sign_in_as(LEVEL2_CCCD).await;
            let prefill: Value = browser
                .get("/api/v1/procedures/1.002804/prefill")
                .await
                .json()
                .await
                .expect("a pre-fill");
            let mut a: Map<String, Value> = prefill["values"]
                .as_object()
                .expect("values")
                .iter()
                .map(|(k, v)| (k.clone(), v["value"].clone()))
                .collect();
            a.insert("delivery".into(), json!("counter"));
            answers = Some(Arc::new(a));
        }
        // What the cycle before was told is done is there (everything, at the end); the audit
        // chain verifies; nothing in the outbox was given up.
        let (lost, chain, given_up) = verify(&browser, &acked, dir.path(), checked).await;
        check(
            lost.is_empty(),
            format!("cycle {cycle}: acknowledged writes lost: {lost:?}"),
        );
        check(
            matches!(chain, ChainReport::Intact { .. }),
            format!("cycle {cycle}: audit chain {chain:?}"),
        );
        check(
            given_up == 0,
            format!("cycle {cycle}: {given_up} deliveries given up"),
        );
        checked = acked.lock().map(|a| a.counts()).unwrap_or_default();

        // Load, then SIGKILL at a random moment.
        let answers = answers.clone().expect("answers");
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let (b, answers, acked) = (browser.clone(), answers.clone(), acked.clone());
            let first = n;
            n += 1_000;
            tasks.push(tokio::spawn(async move {
                for i in 0..1_000 {
                    work(b.clone(), answers.clone(), first + i, acked.clone()).await;
                }
            }));
        }
        let wait = rand::rng().random_range(150..900);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let _ = server.kill();
        let _ = server.wait();
        for t in tasks {
            t.abort();
            let _ = t.await;
        }
    }
    // A last start: everything ever acknowledged is there, and the outbox delivers what was
    // pending at the kills (a dead instance's claims are taken over when their lease runs out).
    let mut server = start(&bin, dir.path(), port);
    healthy(&base).await;
    let (lost, chain, given_up) = verify(&browser, &acked, dir.path(), (0, 0, 0)).await;
    check(
        lost.is_empty(),
        format!("at the end: acknowledged writes lost: {lost:?}"),
    );
    check(
        matches!(chain, ChainReport::Intact { .. }),
        format!("at the end: audit chain {chain:?}"),
    );
    check(
        given_up == 0,
        format!("at the end: {given_up} deliveries given up"),
    );
    let store = Store::connect(&format!("sqlite://{}/motcua.db", dir.path().display()), 1)
        .await
        .expect("the database opens");
    let lease =
        Duration::from_millis(u64::try_from(motcua_server::outbox::LEASE_MS).unwrap_or(60_000));
    let deadline = Instant::now() + lease + Duration::from_secs(30);
    let mut drained = false;
    while Instant::now() < deadline {
        if store
            .outbox_backlog("notices")
            .await
            .map(|(due, _)| due == 0)
            .unwrap_or(false)
        {
            drained = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    check(
        drained,
        "at the end: the outbox did not deliver what was pending".into(),
    );
    store.close().await;
    let _ = server.kill();
    let _ = server.wait();
    match push_across_a_kill(&bin).await {
        Ok(()) => check(true, String::new()),
        Err(why) => check(false, format!("push across a kill: {why}")),
    }
    let a = acked.lock().expect("lock");
    println!(
        "crash test: {cycles} SIGKILL cycles in {:.0} s; {} filings, {} paid fees, {} uploads acknowledged, all found after restarts",
        began.elapsed().as_secs_f64(),
        a.dossiers.len(),
        a.payments.len(),
        a.uploads.len()
    );
    println!("crash {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

/// A server process, killed by SIGKILL when asked or dropped.
struct Running(Child);

impl Running {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A push service behind a gate the test opens: 503 while closed, else the request passed on.
async fn gated(push_origin: String, open: Arc<AtomicBool>) -> String {
    use axum::{
        body::Bytes,
        extract::Path,
        http::{HeaderMap, StatusCode},
    };
    let client = reqwest::Client::new();
    let app = axum::Router::new().route(
        "/notify/{hash}",
        axum::routing::post(
            move |Path(hash): Path<String>, headers: HeaderMap, body: Bytes| {
                let (client, open, origin) = (client.clone(), open.clone(), push_origin.clone());
                async move {
                    if !open.load(Ordering::SeqCst) {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let mut forward = client.post(format!("{origin}/notify/{hash}")).body(body);
                    for (name, value) in &headers {
                        if name != "host" && name != "content-length" {
                            forward = forward.header(name.as_str(), value.as_bytes());
                        }
                    }
                    match forward.send().await {
                        Ok(r) => StatusCode::from_u16(r.status().as_u16())
                            .unwrap_or(StatusCode::BAD_GATEWAY),
                        Err(_) => StatusCode::BAD_GATEWAY,
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let origin = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().expect("bound").port()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    origin
}

/// Notices waiting in the outbox (the push service down) when the server is killed are each
/// pushed exactly once after the restart.
async fn push_across_a_kill(bin: &str) -> Result<(), String> {
    const NOTICES: usize = 30;
    let push = PushService::start().await;
    let open = Arc::new(AtomicBool::new(false));
    let gate = gated(push.origin.clone(), open.clone()).await;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let base = format!("http://localhost:{port}");
    let env = [("MOTCUA_PUSH_SERVICES", gate.as_str())];
    let mut server = Running(start_with(bin, dir.path(), port, &env));
    healthy(&base).await;
    let browser = Browser::at(&base);
    browser.sign_in_as(LEVEL2_CCCD).await;
    let me: Value = browser
        .get("/api/v1/me")
        .await
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let token = me["csrf_token"].as_str().unwrap_or_default().to_owned();
    let key: Value = browser
        .get("/api/v1/push/vapid-public-key")
        .await
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let subscription = push
        .subscribe(key["key"].as_str().unwrap_or_default())
        .await;
    let mut behind_gate = subscription.to_json();
    behind_gate["endpoint"] = json!(format!("{gate}/notify/{}", subscription.client_hash));
    for (method, path, body) in [
        ("POST", "/api/v1/me/push/subscriptions", behind_gate),
        (
            "PUT",
            "/api/v1/me/notification-settings",
            json!({ "lang": "vi", "push_kinds": ["account"], "quiet_from": "00:00", "quiet_to": "00:00" }),
        ),
    ] {
        let response = browser
            .client
            .request(method.parse().expect("a method"), browser.url(path))
            .header("x-csrf-token", &token)
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("{method} {path}: {}", response.status()));
        }
    }
    // The notices, written as the outbox's consumer writes them, while the push service is down.
    let store = Store::connect(&format!("sqlite://{}/motcua.db", dir.path().display()), 1)
        .await
        .map_err(|e| e.to_string())?;
    let (person,): (String,) = sqlx::query_as("select id from people where cccd = $1")
        .bind(LEVEL2_CCCD)
        .fetch_one(store.pool())
        .await
        .map_err(|e| e.to_string())?;
    motcua_tests::write_account_notices(&store, &person, "crash", NOTICES).await;
    // Every one tried and refused (503), so all are waiting in the outbox: then SIGKILL.
    let tried = async {
        for _ in 0..200 {
            let (n,): (i64,) = sqlx::query_as(
                "select count(distinct notice_id) from push_log where outcome = 'retry'",
            )
            .fetch_one(store.pool())
            .await
            .unwrap_or((0,));
            if n >= i64::try_from(NOTICES).unwrap_or(i64::MAX) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    };
    if !tried.await {
        return Err("the notices were not tried within 20 s".into());
    }
    server.kill();
    open.store(true, Ordering::SeqCst);
    let mut server = Running(start_with(bin, dir.path(), port, &env));
    healthy(&base).await;
    // What the killed server had claimed waits out its lease before this one takes it.
    let lease =
        Duration::from_millis(u64::try_from(motcua_server::outbox::LEASE_MS).unwrap_or(60_000));
    let deadline = Instant::now() + lease + Duration::from_secs(30);
    while Instant::now() < deadline {
        let received = push.received(&subscription).await;
        let pending = store.outbox_backlog("push").await.map_or(1, |(p, _)| p);
        if received.len() >= NOTICES && pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A late duplicate would show by now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let received = push.received(&subscription).await;
    server.kill();
    store.close().await;
    let mut tags: Vec<String> = received
        .iter()
        .filter_map(|m| m["tag"].as_str().map(str::to_owned))
        .collect();
    tags.sort();
    let all = tags.len();
    tags.dedup();
    if all != NOTICES || tags.len() != NOTICES {
        return Err(format!(
            "{all} pushes received for {NOTICES} notices ({} distinct)",
            tags.len()
        ));
    }
    println!(
        "crash test: {NOTICES} notices waiting at a SIGKILL each pushed once after the restart"
    );
    Ok(())
}
