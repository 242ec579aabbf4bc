//! The hash-chained audit log: events are recorded with what caused them, concurrent appends keep
//! one chain, and any alteration is found.

use motcua_server::audit::ChainReport;
use motcua_tests::{DEMO_PASSWORD, LEVEL1_CCCD, LEVEL2_CCCD, TestApp, spawn_app};

async fn person_subject(app: &TestApp) -> String {
    let (id,): (String,) = sqlx::query_as("select id from people where cccd = $1")
        .bind(LEVEL2_CCCD)
        .fetch_one(app.store.pool())
        .await
        .expect("signed in once");
    format!("person:{id}")
}

#[tokio::test]
async fn every_sign_in_is_in_an_intact_chain() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    app.sign_in(LEVEL2_CCCD).await;
    let about = app
        .store
        .audit_entries_about(&person_subject(&app).await)
        .await
        .expect("read");
    assert_eq!(
        about
            .iter()
            .filter(|(action, _)| action == "identity.sign_in")
            .count(),
        2
    );
    assert_eq!(
        app.store.verify_audit_chain().await.expect("verified"),
        ChainReport::Intact { entries: 2 }
    );
}

#[tokio::test]
async fn concurrent_sign_ins_keep_one_unbroken_chain() {
    let app = spawn_app().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let browser = TestApp::second_browser(&app);
        let cccd = if i % 2 == 0 { LEVEL2_CCCD } else { LEVEL1_CCCD };
        tasks.push(tokio::spawn(async move {
            let authorize = browser.start_sign_in(None).await;
            let callback = browser
                .provider_sign_in(&authorize, cccd, DEMO_PASSWORD)
                .await;
            browser
                .client
                .get(callback)
                .send()
                .await
                .expect("answered")
                .status()
                .as_u16()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("joined"), 303);
    }
    assert_eq!(
        app.store.verify_audit_chain().await.expect("verified"),
        ChainReport::Intact { entries: 8 }
    );
}

#[tokio::test]
async fn an_altered_entry_is_found() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    app.sign_in(LEVEL2_CCCD).await;
    sqlx::query("update audit_log set details = '{}' where seq = 1")
        .execute(app.store.pool())
        .await
        .expect("tampered");
    assert!(matches!(
        app.store.verify_audit_chain().await.expect("verified"),
        ChainReport::Broken { seq: 1, .. }
    ));
}

#[tokio::test]
async fn a_removed_entry_is_found_in_the_middle_and_at_the_end() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.sign_in(LEVEL2_CCCD).await;
    }
    sqlx::query("delete from audit_log where seq = 3")
        .execute(app.store.pool())
        .await
        .expect("tampered");
    assert!(matches!(
        app.store.verify_audit_chain().await.expect("verified"),
        ChainReport::Broken { seq: 3, .. }
    ));
    sqlx::query("delete from audit_log where seq = 2")
        .execute(app.store.pool())
        .await
        .expect("tampered");
    assert!(matches!(
        app.store.verify_audit_chain().await.expect("verified"),
        ChainReport::Broken { seq: 2, .. }
    ));
}
