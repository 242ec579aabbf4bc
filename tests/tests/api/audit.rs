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
    app.store.seal_audit().await.expect("sealed");
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
    app.store.seal_audit().await.expect("sealed");
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

#[tokio::test]
async fn sign_outs_revocations_acting_for_switches_and_failed_sign_ins_are_in_the_chain() {
    let app = spawn_app().await;
    // A failed sign-in: a tampered state.
    let authorize = app.start_sign_in(None).await;
    let callback = app
        .provider_sign_in(&authorize, LEVEL2_CCCD, DEMO_PASSWORD)
        .await;
    app.client
        .get(callback.replace("state=", "state=x"))
        .send()
        .await
        .expect("answered");
    let failed = app
        .store
        .audit_entries_about("sign-in")
        .await
        .expect("read");
    assert!(
        failed
            .iter()
            .any(|(action, actor)| action == "identity.sign_in_failed" && actor == "anonymous"),
        "{failed:?}"
    );

    // An acts for his cooperative, back for himself, ends another session, signs out.
    app.sign_in(LEVEL2_CCCD).await;
    let other = motcua_tests::Browser::at(&app.address);
    other.sign_in_as(LEVEL2_CCCD).await;
    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let put = |tax: serde_json::Value| {
        app.client
            .put(app.url("/api/v1/me/acting-for"))
            .header("x-csrf-token", &token)
            .json(&serde_json::json!({ "tax_code": tax }))
            .send()
    };
    assert!(
        put("0401234566".into())
            .await
            .expect("answered")
            .status()
            .is_success()
    );
    assert!(
        put(serde_json::Value::Null)
            .await
            .expect("answered")
            .status()
            .is_success()
    );
    let sessions = app.get_json("/api/v1/me/sessions", 200).await;
    let theirs = sessions["sessions"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|s| s["current"] != true)
        .and_then(|s| s["id"].as_str())
        .expect("the other session")
        .to_owned();
    let revoked = app
        .client
        .delete(app.url(&format!("/api/v1/me/sessions/{theirs}")))
        .header("x-csrf-token", &token)
        .send()
        .await
        .expect("answered");
    assert!(revoked.status().is_success(), "{}", revoked.status());
    let out = app
        .client
        .post(app.url("/auth/logout"))
        .header("x-csrf-token", &token)
        .send()
        .await
        .expect("answered");
    assert!(out.status().is_success(), "{}", out.status());

    let about = app
        .store
        .audit_entries_about(&person_subject(&app).await)
        .await
        .expect("read");
    let actions: Vec<&str> = about.iter().map(|(a, _)| a.as_str()).collect();
    for wanted in [
        "identity.acting_for",
        "identity.session_revoked",
        "identity.sign_out",
    ] {
        assert!(
            actions.contains(&wanted),
            "{wanted} missing from {actions:?}"
        );
    }
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "identity.acting_for")
            .count(),
        2
    );
    assert!(matches!(
        app.store.verify_audit_chain().await.expect("verified"),
        ChainReport::Intact { .. }
    ));
}

#[tokio::test]
async fn signed_checkpoints_outside_the_database_catch_a_chain_rewritten_whole() {
    use motcua_server::audit::{self, checkpoint, read_checkpoints, verify_with_checkpoints};
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    app.sign_in(LEVEL1_CCCD).await;
    let keys = motcua_server::wallet::keys::FileKeyStore::new(app.config.data_dir.join("keys"));
    let signed = checkpoint(&app.store, &keys, &app.config.data_dir)
        .await
        .expect("written");
    assert_eq!(signed.seq, 2);
    assert!(signed.signed());
    // The same head is not signed twice; a witness polls the newest.
    checkpoint(&app.store, &keys, &app.config.data_dir)
        .await
        .expect("written");
    assert_eq!(
        read_checkpoints(&app.config.data_dir).expect("read").len(),
        1
    );
    let served: audit::Checkpoint =
        serde_json::from_value(app.get_json("/api/v1/audit/checkpoint", 200).await)
            .expect("a checkpoint");
    assert_eq!(served, signed);
    let all = read_checkpoints(&app.config.data_dir).expect("read");
    assert_eq!(
        verify_with_checkpoints(&app.store, &all, None)
            .await
            .expect("verified"),
        ChainReport::Intact { entries: 2 }
    );

    // Someone with the database rewrites the whole chain: a new, internally perfect one.
    app.store.seal_audit().await.expect("sealed");
    sqlx::query("delete from audit_log")
        .execute(app.store.pool())
        .await
        .expect("deleted");
    sqlx::query("update audit_head set seq = 0, hash = 'genesis' where id = 1")
        .execute(app.store.pool())
        .await
        .expect("reset");
    app.sign_in(LEVEL1_CCCD).await;
    app.sign_in(LEVEL1_CCCD).await;
    assert_eq!(
        app.store.verify_audit_chain().await.expect("verified"),
        ChainReport::Intact { entries: 2 },
        "the chain alone cannot tell"
    );
    assert!(matches!(
        verify_with_checkpoints(&app.store, &all, None)
            .await
            .expect("verified"),
        ChainReport::Broken { seq: 2, .. }
    ));
    // A forged checkpoint does not help either.
    let mut forged = all[0].clone();
    forged.hash = "0".repeat(64);
    assert!(!forged.signed());
}
