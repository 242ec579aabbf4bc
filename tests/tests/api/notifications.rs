//! Notifications on the API, against a real push service (the npm `web-push-testing` emulator,
//! which checks VAPID and decrypts the payload): an officer's approval is pushed once, in the
//! person's language; an expired subscription is removed; a failing push service is retried,
//! honouring Retry-After, then given up with every failure recorded; two instances on one
//! database push each notice once; quiet hours; live updates over Server-Sent Events; reminders
//! sent once; the settings' and devices' bad input.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures::StreamExt as _;
use motcua_server::{outbox::Dispatcher, startup::dispatcher, store::now_ms};
use motcua_tests::{
    LEVEL2_CCCD, TestApp, assert_api_error,
    peers::push_service::{PushService, Subscribed},
    spawn_app_with, write_account_notices,
};
use serde_json::{Value, json};

use crate::back_office::{TRAFFIC_OFFICER, act, filed_renewal, officer};

const DAY_MS: i64 = 86_400_000;

async fn app_with_push(push: &PushService) -> TestApp {
    let origin = push.origin.clone();
    spawn_app_with(move |c| c.push_services = origin).await
}

async fn csrf(app: &TestApp) -> String {
    app.me().await["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// Signs the demo citizen in, subscribes "their browser" at the push service and registers it
/// here, with English pushes and no quiet hours.
async fn citizen_subscribed(app: &TestApp, push: &PushService) -> Subscribed {
    app.sign_in(LEVEL2_CCCD).await;
    let key = app.get_json("/api/v1/push/vapid-public-key", 200).await["key"]
        .as_str()
        .expect("a key")
        .to_owned();
    let subscription = push.subscribe(&key).await;
    assert_eq!(register(app, &subscription.to_json()).await.status(), 201);
    save_settings(
        app,
        json!({ "lang": "en", "push_kinds": ["status", "apology", "reminder", "account"], "quiet_from": "00:00", "quiet_to": "00:00" }),
    )
    .await;
    subscription
}

/// `POST /api/v1/me/push/subscriptions` with the session's CSRF token.
async fn register(app: &TestApp, subscription: &Value) -> reqwest::Response {
    let token = csrf(app).await;
    app.client
        .post(app.url("/api/v1/me/push/subscriptions"))
        .header("x-csrf-token", &token)
        .json(subscription)
        .send()
        .await
        .expect("answered")
}

async fn save_settings(app: &TestApp, settings: Value) {
    let token = csrf(app).await;
    let response = app
        .client
        .put(app.url("/api/v1/me/notification-settings"))
        .header("x-csrf-token", &token)
        .json(&settings)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
}

/// The platform's dispatcher, its consumers registered.
async fn delivering(app: &TestApp) -> Dispatcher {
    let dispatcher = dispatcher(&app.state);
    dispatcher.register().await.expect("registered");
    dispatcher
}

#[tokio::test]
async fn an_officers_approval_is_pushed_once_in_the_persons_language() {
    let push = PushService::start().await;
    let app = app_with_push(&push).await;
    let outbox = delivering(&app).await;
    let subscription = citizen_subscribed(&app, &push).await;
    let id = filed_renewal(&app).await;
    let officer = officer(&app, TRAFFIC_OFFICER).await;
    for action in ["receive", "start_processing"] {
        assert_eq!(act(&officer, &id, action, None).await.status(), 200);
    }
    outbox.deliver_due(now_ms()).await.expect("delivered");
    let before = push.received(&subscription).await;
    // The fee received, the payment completed, the dossier received: each pushed once.
    assert_eq!(before.len(), 3, "{before:?}");

    assert_eq!(act(&officer, &id, "approve", None).await.status(), 200);
    outbox.deliver_due(now_ms()).await.expect("delivered");
    outbox.deliver_due(now_ms()).await.expect("delivered again");
    let after = push.received(&subscription).await;
    assert_eq!(after.len(), 4, "one more push: {after:?}");
    let receipt = app.get_json(&format!("/api/v1/dossiers/{id}"), 200).await["receipt_number"]
        .as_str()
        .expect("a receipt number")
        .to_owned();
    let approval = &after[3];
    assert_eq!(
        approval["title"],
        format!("Dossier {receipt} was approved"),
        "{approval}"
    );
    assert_eq!(approval["body"], "Open Public Services to read it.");
    assert_eq!(approval["url"], format!("/dossiers/{id}"));
    assert_eq!(approval["tag"], format!("dossier:{id}"));
    assert_eq!(approval["lang"], "en");
    // No CCCD, no name on a lock screen.
    let text = approval.to_string();
    assert!(
        !text.contains(LEVEL2_CCCD) && !text.contains("Nguyễn"),
        "{text}"
    );
    // The device shows when it last took one.
    let devices = app.get_json("/api/v1/me/push/subscriptions", 200).await;
    assert!(devices["devices"][0]["last_sent_at"].is_i64(), "{devices}");
    assert_eq!(devices["devices"][0]["failures"], 0);
}

#[tokio::test]
async fn a_subscription_the_push_service_says_is_gone_is_removed() {
    let push = PushService::start().await;
    let app = app_with_push(&push).await;
    let outbox = delivering(&app).await;
    let subscription = citizen_subscribed(&app, &push).await;
    let id = filed_renewal(&app).await;
    outbox.deliver_due(now_ms()).await.expect("delivered");
    assert_eq!(push.received(&subscription).await.len(), 2);
    push.expire(&subscription).await;
    let officer = officer(&app, TRAFFIC_OFFICER).await;
    assert_eq!(act(&officer, &id, "receive", None).await.status(), 200);
    outbox.deliver_due(now_ms()).await.expect("delivered");
    let devices = app.get_json("/api/v1/me/push/subscriptions", 200).await;
    assert_eq!(devices["devices"], json!([]), "{devices}");
    // The inbox has it all the same, and the push's outcome is on record.
    let notices = app.get_json("/api/v1/me/notices", 200).await;
    assert_eq!(notices["unread"], 3, "{notices}");
    let (outcome, status): (String, Option<i64>) = sqlx::query_as(
        "select outcome, status from push_log where outcome <> 'sent' order by at desc limit 1",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("a failed push on record");
    assert_eq!((outcome.as_str(), status), ("gone", Some(410)));
    let (pending, given_up) = app.store.outbox_backlog("push").await.expect("backlog");
    assert_eq!((pending, given_up), (0, 0));
}

/// A push service that is down: 429 with `Retry-After: 120` first, then 503; counts the posts.
async fn failing_push_service() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/push/{token}",
        axum::routing::post(move || {
            let counter = counter.clone();
            async move {
                if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                    (
                        axum::http::StatusCode::TOO_MANY_REQUESTS,
                        [("retry-after", "120")],
                    )
                } else {
                    (
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        [("retry-after", "1")],
                    )
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let origin = format!("http://{}", listener.local_addr().expect("bound"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (origin, hits)
}

#[tokio::test]
async fn a_failing_push_service_is_retried_then_given_up_and_every_failure_is_recorded() {
    let push = PushService::start().await;
    let (down, hits) = failing_push_service().await;
    let origin = format!("{},{down}", push.origin);
    let app = spawn_app_with(move |c| c.push_services = origin).await;
    let outbox = delivering(&app).await;
    let mut subscription = citizen_subscribed(&app, &push).await;
    // The same browser keys, at the push service that is down.
    let devices = app.get_json("/api/v1/me/push/subscriptions", 200).await;
    let first = devices["devices"][0]["id"].as_str().expect("id").to_owned();
    let token = csrf(&app).await;
    let gone = app
        .client
        .delete(app.url(&format!("/api/v1/me/push/subscriptions/{first}")))
        .header("x-csrf-token", &token)
        .send()
        .await
        .expect("answered");
    assert_eq!(gone.status(), 204);
    subscription.endpoint = format!("{down}/push/abc");
    assert_eq!(register(&app, &subscription.to_json()).await.status(), 201);

    let person = person_id(&app).await;
    write_account_notices(&app.store, &person, "n", 1).await;
    let started = now_ms();
    outbox.deliver_due(started).await.expect("a pass");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // The 429's Retry-After is honoured: not before two minutes.
    let (next,): (i64,) = sqlx::query_as(
        "select next_attempt_at from outbox_deliveries where consumer = 'push' and given_up_at is null",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("pending");
    assert!(next >= started + 120_000, "{}", next - started);
    // Ten attempts in all, then given up; each failure on record, the inbox untouched.
    for pass in 1..=12 {
        outbox
            .deliver_due(started + pass * 2 * DAY_MS)
            .await
            .expect("a pass");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 10);
    let (pending, given_up) = app.store.outbox_backlog("push").await.expect("backlog");
    assert_eq!((pending, given_up), (0, 1));
    let (retries, last): (i64, Option<String>) =
        sqlx::query_as("select count(*), max(error) from push_log where outcome = 'retry'")
            .fetch_one(app.store.pool())
            .await
            .expect("the log");
    assert_eq!(retries, 10);
    assert!(last.is_some_and(|e| e.contains("503") || e.contains("429")));
    let devices = app.get_json("/api/v1/me/push/subscriptions", 200).await;
    assert_eq!(devices["devices"][0]["failures"], 10, "{devices}");
    let notices = app.get_json("/api/v1/me/notices", 200).await;
    assert_eq!(notices["unread"], 1, "{notices}");
}

/// The signed-in person's id (the owner of what they wrote).
async fn person_id(app: &TestApp) -> String {
    let (id,): (String,) = sqlx::query_as("select id from people where cccd = $1")
        .bind(LEVEL2_CCCD)
        .fetch_one(app.store.pool())
        .await
        .expect("the demo citizen");
    id
}

#[tokio::test]
async fn two_instances_on_one_database_push_each_notice_once() {
    let push = PushService::start().await;
    let origin = push.origin.clone();
    let app = spawn_app_with(move |c| {
        c.push_services = origin;
        c.worker_interval_secs = 1;
    })
    .await;
    let subscription = citizen_subscribed(&app, &push).await;
    // A second instance: same database, same keys, its own pool and workers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let second = motcua_server::startup::Application::build_on(app.config.clone(), listener)
        .await
        .expect("a second instance");
    tokio::spawn(second.run_until(std::future::pending()));
    let person = person_id(&app).await;
    write_account_notices(&app.store, &person, "n", 40).await;
    for _ in 0..150 {
        if push.received(&subscription).await.len() >= 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let a duplicate, if any, arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let received = push.received(&subscription).await;
    let mut tags: Vec<String> = received
        .iter()
        .map(|m| m["tag"].as_str().expect("tag").to_owned())
        .collect();
    assert_eq!(tags.len(), 40, "{tags:?}");
    tags.sort();
    tags.dedup();
    assert_eq!(tags.len(), 40, "each once");
}

#[tokio::test]
async fn a_push_that_is_not_urgent_waits_out_quiet_hours_and_an_urgent_one_does_not() {
    let push = PushService::start().await;
    let app = app_with_push(&push).await;
    let outbox = delivering(&app).await;
    let subscription = citizen_subscribed(&app, &push).await;
    // Quiet all day but this minute's end: from now, for 23 hours and a bit.
    let minute = motcua_server::notifications::decide::vietnam_minute(now_ms());
    let fmt = motcua_shared::notification_api::format_minute;
    save_settings(
        &app,
        json!({ "lang": "vi", "push_kinds": ["status", "account"], "quiet_from": fmt(minute), "quiet_to": fmt(minute + 23 * 60) }),
    )
    .await;
    let id = filed_renewal(&app).await;
    outbox.deliver_due(now_ms()).await.expect("delivered");
    assert_eq!(
        push.received(&subscription).await.len(),
        0,
        "the fee's notices wait"
    );
    // Urgent: a supplement asked for goes through.
    let officer = officer(&app, TRAFFIC_OFFICER).await;
    assert_eq!(
        act(
            &officer,
            &id,
            "request_supplement",
            Some("Ảnh chân dung nền trắng")
        )
        .await
        .status(),
        200
    );
    outbox.deliver_due(now_ms()).await.expect("delivered");
    let received = push.received(&subscription).await;
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(
        received[0]["title"]
            .as_str()
            .is_some_and(|t| t.contains("cần bổ sung")),
        "in Vietnamese: {received:?}"
    );
    // Waiting is not failing: no attempt counted, and it goes once the quiet hours end.
    let (waiting, attempts): (i64, i64) = sqlx::query_as(
        "select count(*), coalesce(max(attempts), 0) from outbox_deliveries where consumer = 'push' and given_up_at is null",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("the fee's notices wait");
    assert_eq!((waiting, attempts), (2, 0));
    save_settings(
        &app,
        json!({ "lang": "vi", "push_kinds": ["status"], "quiet_from": "00:00", "quiet_to": "00:00" }),
    )
    .await;
    outbox
        .deliver_due(now_ms() + DAY_MS)
        .await
        .expect("delivered");
    assert_eq!(
        push.received(&subscription).await.len(),
        3,
        "the fee's two notices after the quiet hours"
    );
}

#[tokio::test]
async fn the_open_pwa_hears_of_a_change_live_and_resumes_after_a_lost_connection() {
    let app = spawn_app_with(|_| {}).await;
    let outbox = delivering(&app).await;
    let id = filed_renewal(&app).await;
    outbox.deliver_due(now_ms()).await.expect("delivered");
    let response = app
        .client
        .get(app.url("/api/v1/me/events"))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/event-stream"))
    );
    let mut stream = response.bytes_stream();
    let officer = officer(&app, TRAFFIC_OFFICER).await;
    assert_eq!(act(&officer, &id, "receive", None).await.status(), 200);
    outbox.deliver_due(now_ms()).await.expect("delivered");
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !(text.contains("event: dossier") && text.contains("event: notice")) {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("live events within 10 s")
            .expect("the stream is open")
            .expect("bytes");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains(&format!("\"subject\":\"{id}\"")), "{text}");
    drop(stream);
    // Reconnecting from the start gives what was missed, in order, with its ids.
    let resumed = app
        .client
        .get(app.url("/api/v1/me/events"))
        .header("last-event-id", "0")
        .send()
        .await
        .expect("answered");
    let mut stream = resumed.bytes_stream();
    let mut replay = String::new();
    while replay.matches("event: dossier").count() < 3 {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("the backlog at once")
            .expect("open")
            .expect("bytes");
        replay.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(replay.contains("id: "), "{replay}");
    // Not signed in: 401.
    let stranger = reqwest::get(app.url("/api/v1/me/events"))
        .await
        .expect("answered");
    assert_eq!(stranger.status(), 401);
}

#[tokio::test]
async fn reminders_are_sent_once_each() {
    let app = spawn_app_with(|c| c.sandbox_seed_wallet = true).await;
    let outbox = delivering(&app).await;
    let id = filed_renewal(&app).await;
    let officer = officer(&app, TRAFFIC_OFFICER).await;
    assert_eq!(
        act(
            &officer,
            &id,
            "request_supplement",
            Some("Giấy khám sức khỏe mới")
        )
        .await
        .status(),
        200
    );
    // The demo licence expires within 30 days.
    let soon = {
        let day = motcua_shared::calendar::Day::of_instant(now_ms() + 20 * DAY_MS);
        let (y, m, d) = day.ymd();
        format!("{y:04}-{m:02}-{d:02}")
    };
    let changed = sqlx::query(
        "update credentials set valid_until = $1 where kind = 'driving_licence' and derived_from is null",
    )
    .bind(&soon)
    .execute(app.store.pool())
    .await
    .expect("updated");
    assert!(changed.rows_affected() >= 1);

    let now = now_ms();
    let first = motcua_server::notifications::reminders::sweep(&app.state, now)
        .await
        .expect("swept");
    // The licence, and the cooperative's land rent instalment 20 days overdue (the demo citizen
    // represents it); not the supplement, asked just now.
    assert_eq!(first, 2);
    let later = now + 6 * DAY_MS;
    let second = motcua_server::notifications::reminders::sweep(&app.state, later)
        .await
        .expect("swept");
    assert_eq!(second, 1, "the supplement, 3 working days on");
    assert_eq!(
        motcua_server::notifications::reminders::sweep(&app.state, later)
            .await
            .expect("swept"),
        0,
        "each once"
    );
    outbox.deliver_due(now_ms()).await.expect("delivered");
    let notices = app.get_json("/api/v1/me/notices", 200).await;
    let reminders: Vec<&Value> = notices["notices"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|n| n["kind"] == "reminder")
        .collect();
    assert_eq!(reminders.len(), 3, "{notices}");
    assert!(
        reminders.iter().any(|n| n["link"] == "/business"
            && n["title"]["vi"]
                .as_str()
                .is_some_and(|t| t.contains("quá hạn"))),
        "{notices}"
    );
    let licence = reminders
        .iter()
        .find(|n| n["link"] == "/procedures/1.002804/file")
        .expect("the renewal reminder links to the renewal");
    assert!(
        licence["title"]["vi"]
            .as_str()
            .is_some_and(|t| t.contains("sắp hết hạn")),
        "{licence}"
    );
    assert!(
        reminders
            .iter()
            .any(|n| n["link"] == format!("/dossiers/{id}")),
        "{notices}"
    );
}

#[tokio::test]
async fn bad_subscriptions_and_settings_are_refused_clearly() {
    let push = PushService::start().await;
    let app = app_with_push(&push).await;
    let subscription = citizen_subscribed(&app, &push).await;
    let token = csrf(&app).await;
    let post = |body: Value| {
        app.client
            .post(app.url("/api/v1/me/push/subscriptions"))
            .header("x-csrf-token", &token)
            .header("accept-language", "en")
            .json(&body)
            .send()
    };
    let mut elsewhere = subscription.to_json();
    elsewhere["endpoint"] = json!("http://169.254.169.254/latest/meta-data");
    assert_api_error(
        post(elsewhere).await.expect("answered"),
        422,
        "push_service_not_allowed",
    )
    .await;
    let mut bad_keys = subscription.to_json();
    bad_keys["keys"]["auth"] = json!("c2hvcnQ");
    assert_api_error(
        post(bad_keys).await.expect("answered"),
        422,
        "invalid_push_keys",
    )
    .await;
    let response = app
        .client
        .put(app.url("/api/v1/me/notification-settings"))
        .header("x-csrf-token", &token)
        .json(
            &json!({ "lang": "vi", "push_kinds": [], "quiet_from": "25:00", "quiet_to": "07:00" }),
        )
        .send()
        .await
        .expect("answered");
    assert_api_error(response, 422, "invalid_time_of_day").await;
    // No CSRF token: refused; another person's device: 404.
    let no_token = app
        .client
        .post(app.url("/api/v1/me/push/subscriptions"))
        .json(&subscription.to_json())
        .send()
        .await
        .expect("answered");
    assert_eq!(no_token.status(), 403);
    let missing = app
        .client
        .delete(app.url("/api/v1/me/push/subscriptions/not-yours"))
        .header("x-csrf-token", &token)
        .send()
        .await
        .expect("answered");
    assert_eq!(missing.status(), 404);
    // The settings read back as saved.
    let settings = app.get_json("/api/v1/me/notification-settings", 200).await;
    assert_eq!(settings["lang"], "en");
    assert_eq!(settings["quiet_from"], "00:00");
}
