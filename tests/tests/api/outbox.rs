//! The outbox dispatcher: each registered consumer gets every event exactly once, a failing
//! consumer is retried on its own without the others seeing a duplicate, and events are typed.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use motcua_server::{
    events::DomainEvent,
    outbox::{Consumer, Delivery, DeliveryError, Dispatcher},
    store::{WriteTx, now_ms},
};
use motcua_tests::spawn_app;

use crate::back_office::{TRAFFIC_OFFICER, act, filed_renewal, officer};

/// Counts what it is given, by event id; fails the first `failures` attempts of every event.
#[derive(Default)]
struct Recorder {
    name: &'static str,
    failures: i64,
    applied: Mutex<HashMap<String, usize>>,
    attempts: Mutex<usize>,
}

#[async_trait::async_trait]
impl Consumer for Recorder {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn send(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        *self.attempts.lock().expect("lock") += 1;
        if delivery.attempt <= self.failures {
            return Err(DeliveryError::new("the other system is down"));
        }
        Ok(())
    }

    async fn apply(&self, _tx: &mut WriteTx, delivery: &Delivery) -> Result<(), DeliveryError> {
        if let DomainEvent::Dossier(event) = &delivery.event {
            assert!(!event.dossier_id.is_empty());
        }
        *self
            .applied
            .lock()
            .expect("lock")
            .entry(delivery.id.clone())
            .or_default() += 1;
        Ok(())
    }
}

async fn notices_of(app: &motcua_tests::TestApp) -> usize {
    app.get_json("/api/v1/me/notices", 200).await["notices"]
        .as_array()
        .expect("notices")
        .len()
}

#[tokio::test]
async fn each_consumer_gets_every_event_once_and_a_failing_one_is_retried_alone() {
    let app = spawn_app().await;
    let second = Arc::new(Recorder {
        name: "second",
        ..Recorder::default()
    });
    let flaky = Arc::new(Recorder {
        name: "flaky",
        failures: 2,
        ..Recorder::default()
    });
    // Filed (and its fee paid) before these consumers are registered: those events are not theirs.
    let id = filed_renewal(&app).await;
    let dispatcher = Dispatcher::standard(app.store.clone())
        .with(second.clone())
        .with(flaky.clone());
    dispatcher.register().await.expect("registered");

    // Receiving, processing and asking a supplement: three events, two of them notices, each
    // notice an event of its own (`notice.written`, for push and the live feed); and the two
    // notices of the fee's payment, written (so announced) only now: seven.
    let lead = officer(&app, TRAFFIC_OFFICER).await;
    assert_eq!(act(&lead, &id, "receive", None).await.status(), 200);
    assert_eq!(
        act(&lead, &id, "start_processing", None).await.status(),
        200
    );
    assert_eq!(
        act(&lead, &id, "request_supplement", Some("Ảnh nền trắng"))
            .await
            .status(),
        200
    );

    let now = now_ms();
    let first = dispatcher.deliver_due(now).await.expect("delivered");
    assert_eq!(first.failed, 7, "the flaky consumer failed each event once");
    assert_eq!(second.applied.lock().expect("lock").len(), 7);
    // Two from the fee's payment (the notices consumer is registered from the start), two now.
    assert_eq!(notices_of(&app).await, 4);
    assert!(flaky.applied.lock().expect("lock").is_empty());
    // Nothing is due again before its backoff: nobody sees anything twice.
    let again = dispatcher.deliver_due(now).await.expect("delivered");
    assert_eq!((again.delivered, again.failed), (0, 0));

    // Past the backoffs (at most 1.25 s, then 2.5 s), the flaky consumer catches up.
    let later = dispatcher
        .deliver_due(now + 1_300)
        .await
        .expect("delivered");
    assert_eq!(
        (later.delivered, later.failed),
        (0, 7),
        "second attempt fails too"
    );
    let last = dispatcher
        .deliver_due(now + 5_000)
        .await
        .expect("delivered");
    assert_eq!((last.delivered, last.failed), (7, 0));
    assert_eq!(*flaky.attempts.lock().expect("lock"), 21);

    for recorder in [&second, &flaky] {
        let applied = recorder.applied.lock().expect("lock");
        assert_eq!(applied.len(), 7, "{}", recorder.name);
        assert!(
            applied.values().all(|n| *n == 1),
            "{}: {applied:?}",
            recorder.name
        );
    }
    assert_eq!(notices_of(&app).await, 4, "no notice twice");
    for consumer in ["notices", "second", "flaky"] {
        assert_eq!(
            app.store.outbox_backlog(consumer).await.expect("counted"),
            (0, 0),
            "{consumer}"
        );
    }
}

#[tokio::test]
async fn a_consumer_that_keeps_failing_is_given_up_and_its_error_kept() {
    let app = spawn_app().await;
    struct Broken;
    #[async_trait::async_trait]
    impl Consumer for Broken {
        fn name(&self) -> &'static str {
            "broken"
        }
        async fn send(&self, _: &Delivery) -> Result<(), DeliveryError> {
            Err(DeliveryError::new("refused"))
        }
        fn max_attempts(&self) -> i64 {
            2
        }
    }
    let id = filed_renewal(&app).await;
    let dispatcher = Dispatcher::standard(app.store.clone()).with(Arc::new(Broken));
    dispatcher.register().await.expect("registered");
    // Four events for it: the receipt, its notice, and the two notices of the fee's payment
    // (written, so announced, only now).
    let lead = officer(&app, TRAFFIC_OFFICER).await;
    assert_eq!(act(&lead, &id, "receive", None).await.status(), 200);
    let now = now_ms();
    dispatcher.deliver_due(now).await.expect("tried");
    dispatcher.deliver_due(now + 10_000).await.expect("tried");
    assert_eq!(
        app.store.outbox_backlog("broken").await.expect("counted"),
        (0, 4),
        "given up after two attempts, and kept"
    );
    assert_eq!(
        dispatcher
            .deliver_due(now + 3_600_000 * 2)
            .await
            .expect("tried")
            .failed,
        0,
        "a given-up event is not tried again"
    );
}

#[tokio::test]
async fn a_commit_that_emitted_events_wakes_the_dispatcher_at_once() {
    // The worker's tick is an hour: only the wake-up on commit can deliver within the test.
    let app = motcua_tests::spawn_app_with(|c| c.worker_interval_secs = 3600).await;
    let id = filed_renewal(&app).await;
    let lead = officer(&app, TRAFFIC_OFFICER).await;
    assert_eq!(act(&lead, &id, "receive", None).await.status(), 200);
    for _ in 0..100 {
        let list = app.get_json("/api/v1/me/notices", 200).await;
        let received = list["notices"]
            .as_array()
            .expect("notices")
            .iter()
            .any(|n| {
                n["title"]["vi"]
                    .as_str()
                    .is_some_and(|t| t.contains("đã được tiếp nhận"))
            });
        if received {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the notice did not arrive within 5 s of the commit");
}
