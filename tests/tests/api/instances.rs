//! Several instances on one database, as behind a load balancer: a session made on one holds on
//! every other and ends on all when signed out on any; a rate limit counts requests to every
//! instance; a change reaches a live stream open on another instance; outbox consumers running
//! on three instances at once deliver each event once; the prepared catalogue follows a change
//! on every instance.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::StreamExt as _;
use motcua_server::{
    outbox::{Consumer, Delivery, DeliveryError, Dispatcher},
    startup::dispatcher,
    store::{WriteTx, now_ms},
};
use motcua_tests::{
    Browser, Instance, LEVEL2_CCCD, TestApp, assert_api_error, spawn_app, spawn_app_with,
    write_account_notices,
};
use serde_json::Value;

use crate::back_office::{TRAFFIC_OFFICER, act, filed_renewal, officer};

async fn three(app: &TestApp) -> (Instance, Instance) {
    (app.another_instance().await, app.another_instance().await)
}

async fn get_with(url: &str, cookie: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(url)
        .header("cookie", cookie)
        .send()
        .await
        .expect("answered")
}

#[tokio::test]
async fn a_session_holds_on_every_instance_and_ends_on_all_when_signed_out_on_one() {
    let a = spawn_app().await;
    let (b, c) = three(&a).await;
    let browser = Browser::at(&a.address);
    browser.sign_in_as(LEVEL2_CCCD).await;
    let cookie = browser.cookie_header();
    assert!(!cookie.is_empty());
    let mut token = String::new();
    for url in [
        a.url("/api/v1/me"),
        b.url("/api/v1/me"),
        c.url("/api/v1/me"),
    ] {
        let response = get_with(&url, &cookie).await;
        assert_eq!(response.status(), 200, "{url}");
        let me: Value = response.json().await.expect("json");
        assert_eq!(me["cccd"], LEVEL2_CCCD, "{me}");
        token = me["csrf_token"].as_str().expect("a token").to_owned();
    }
    // Signed out through instance B, with the session's CSRF token.
    let out = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
        .post(b.url("/auth/logout"))
        .header("cookie", &cookie)
        .header("x-csrf-token", token)
        .send()
        .await
        .expect("answered");
    assert!(
        out.status().is_success() || out.status().is_redirection(),
        "{}",
        out.status()
    );
    // The same cookie is refused by A and C from then on.
    for url in [a.url("/api/v1/me"), c.url("/api/v1/me")] {
        assert_api_error(get_with(&url, &cookie).await, 401, "session_expired").await;
    }
}

#[tokio::test]
async fn a_rate_limit_counts_the_requests_to_every_instance() {
    let a = spawn_app_with(|c| c.rate_limit_sign_in_per_minute = 3).await;
    let (b, c) = three(&a).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    // One sign-in start on each instance: three, the limit, and each instance saw only one.
    for url in [
        a.url("/auth/login"),
        b.url("/auth/login"),
        c.url("/auth/login"),
    ] {
        let response = client.get(&url).send().await.expect("answered");
        assert_eq!(response.status(), 303, "{url}");
    }
    // The fourth is refused wherever it goes.
    for url in [
        a.url("/auth/login"),
        b.url("/auth/login"),
        c.url("/auth/login"),
    ] {
        let response = client.get(&url).send().await.expect("answered");
        assert!(response.headers().contains_key("retry-after"), "{url}");
        assert_api_error(response, 429, "rate_limited").await;
    }
}

#[tokio::test]
async fn a_change_made_on_one_instance_reaches_a_live_stream_open_on_another() {
    let a = spawn_app().await;
    let (b, c) = three(&a).await;
    let id = filed_renewal(&a).await;
    let outbox = dispatcher(&c.state);
    outbox.register().await.expect("registered");
    outbox.deliver_due(now_ms()).await.expect("delivered");
    // The citizen's PWA holds its live stream on instance B…
    let response = a
        .client
        .get(b.url("/api/v1/me/events"))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    // …an officer acts through instance A, and instance C's outbox worker delivers the event.
    let lead = officer(&a, TRAFFIC_OFFICER).await;
    assert_eq!(act(&lead, &id, "receive", None).await.status(), 200);
    outbox.deliver_due(now_ms()).await.expect("delivered");
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !(text.contains("event: dossier") && text.contains(&format!("\"subject\":\"{id}\""))) {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("the change within 10 s")
            .expect("the stream is open")
            .expect("bytes");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// Counts what it applies, by event id.
struct Recorder(Mutex<HashMap<String, usize>>);

#[async_trait::async_trait]
impl Consumer for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }

    async fn apply(&self, _tx: &mut WriteTx, delivery: &Delivery) -> Result<(), DeliveryError> {
        *self
            .0
            .lock()
            .expect("lock")
            .entry(delivery.id.clone())
            .or_default() += 1;
        Ok(())
    }
}

#[tokio::test]
async fn outbox_workers_on_three_instances_at_once_deliver_each_event_once() {
    let a = spawn_app().await;
    let (b, c) = three(&a).await;
    a.sign_in(LEVEL2_CCCD).await;
    let (person,): (String,) = sqlx::query_as("select id from people where cccd = $1")
        .bind(LEVEL2_CCCD)
        .fetch_one(a.store.pool())
        .await
        .expect("the citizen");
    let recorder = Arc::new(Recorder(Mutex::default()));
    let dispatchers: Vec<Dispatcher> = [&a.state, &b.state, &c.state]
        .into_iter()
        .map(|state| dispatcher(state).with(recorder.clone()))
        .collect();
    dispatchers[0].register().await.expect("registered");
    write_account_notices(&a.store, &person, "n", 90).await;
    // The three workers claim at the same moments, three times over.
    let now = now_ms();
    for _ in 0..3 {
        let passes =
            futures::future::join_all(dispatchers.iter().map(|d| d.deliver_due(now))).await;
        for pass in passes {
            let pass = pass.expect("a pass");
            assert_eq!(pass.failed, 0);
        }
    }
    let applied = recorder.0.lock().expect("lock").clone();
    assert_eq!(applied.len(), 90, "every event");
    assert!(applied.values().all(|n| *n == 1), "each once: {applied:?}");
    // The live feed (another consumer) has each notice's row once.
    let (rows, distinct): (i64, i64) = sqlx::query_as(
        "select cast(count(*) as bigint), cast(count(distinct subject) as bigint) from live_events where kind = 'notice'",
    )
    .fetch_one(a.store.pool())
    .await
    .expect("counted");
    assert_eq!((rows, distinct), (90, 90));
    for consumer in ["recorder", "live", "push"] {
        assert_eq!(
            a.store.outbox_backlog(consumer).await.expect("counted"),
            (0, 0),
            "{consumer}"
        );
    }
}

#[tokio::test]
async fn the_prepared_catalogue_follows_a_change_on_every_instance() {
    let a = spawn_app().await;
    let (b, c) = three(&a).await;
    let before: Value = reqwest::get(c.url("/api/v1/procedures/1.002804"))
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    assert!(
        before["name"]["en"]
            .as_str()
            .is_some_and(|n| !n.contains("new rules")),
        "{before}"
    );
    let mut renewal = a
        .store
        .procedure("1.002804")
        .await
        .expect("read")
        .expect("seeded");
    renewal.procedure.name.en = "Driving licence renewal (new rules)".into();
    a.store.upsert_procedure(&renewal, 1).await.expect("saved");
    // Each instance rebuilds within its refresh period (5 s), with nothing telling it to.
    for instance in [&b, &c] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(12);
        loop {
            let one: Value = reqwest::get(instance.url("/api/v1/procedures/1.002804"))
                .await
                .expect("answered")
                .json()
                .await
                .expect("json");
            if one["name"]["en"] == "Driving licence renewal (new rules)" {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} still serves the old catalogue",
                instance.address
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

#[tokio::test]
async fn sealers_on_three_instances_keep_one_audit_chain_while_entries_are_written() {
    let a = spawn_app().await;
    let (b, c) = three(&a).await;
    let (_, before) = match a.store.verify_audit_chain().await.expect("verified") {
        motcua_server::audit::ChainReport::Intact { entries } => ((), entries),
        broken => panic!("{broken:?}"),
    };
    let writers = (0..8).map(|w| {
        let store = a.store.clone();
        tokio::spawn(async move {
            for i in 0..25 {
                let mut tx = store.begin_write().await.expect("a transaction");
                motcua_server::audit::append(
                    &mut tx,
                    &motcua_server::audit::Event {
                        actor: "system",
                        action: "test.entry",
                        subject: &format!("writer:{w}:{i}"),
                        details: serde_json::json!({ "i": i }),
                    },
                )
                .await
                .expect("appended");
                tx.commit().await.expect("committed");
            }
        })
    });
    let writers: Vec<_> = writers.collect();
    let sealers: Vec<_> = [&a.store, &b.state.store, &c.state.store]
        .into_iter()
        .map(|store| {
            let store = store.clone();
            tokio::spawn(async move {
                for _ in 0..40 {
                    store.seal_audit().await.expect("sealed or gave way");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect();
    for task in writers.into_iter().chain(sealers) {
        task.await.expect("joined");
    }
    assert_eq!(
        a.store.verify_audit_chain().await.expect("verified"),
        motcua_server::audit::ChainReport::Intact {
            entries: before + 200
        }
    );
    let (queued,): (i64,) = sqlx::query_as("select cast(count(*) as bigint) from audit_queue")
        .fetch_one(a.store.pool())
        .await
        .expect("counted");
    assert_eq!(queued, 0);
}
