//! Storage conformance: the same stories against whichever engine this run targets
//! (`cargo xtask test` runs them on SQLite and on PostgreSQL).

use motcua_server::procedures::{CatalogueFilter, load_seed};
use motcua_shared::procedure::Level;
use motcua_tests::TestDatabase;

#[tokio::test]
async fn migrating_twice_changes_nothing() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    store
        .migrate()
        .await
        .expect("a second migration run is a no-op");
    store.ping().await.expect("the database answers");
}

#[tokio::test]
async fn a_procedure_reads_back_as_it_was_saved_and_an_upsert_replaces_it() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let seed = load_seed().expect("the seed reads");
    let (_, mut detail) = seed.into_iter().next().expect("one procedure");
    store.upsert_procedure(&detail, 5).await.expect("saved");
    assert_eq!(
        store.procedure(&detail.procedure.code).await.expect("read"),
        Some(detail.clone())
    );

    detail.procedure.name.vi = "Cấp đổi giấy phép lái xe (đã sửa)".into();
    detail.procedure.level = Level::District;
    store.upsert_procedure(&detail, 1).await.expect("replaced");
    assert_eq!(
        store.procedure(&detail.procedure.code).await.expect("read"),
        Some(detail.clone())
    );
    let all = store
        .list_procedures(&CatalogueFilter::default())
        .await
        .expect("listed");
    assert_eq!(all.len(), 1, "an upsert must not duplicate");
    let district = CatalogueFilter {
        level: Some(Level::District),
        ..CatalogueFilter::default()
    };
    assert_eq!(
        store
            .list_procedures(&district)
            .await
            .expect("listed")
            .len(),
        1
    );
}

#[tokio::test]
async fn listings_follow_the_position_then_the_code() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let seed = load_seed().expect("the seed reads");
    for (i, (_, p)) in seed.iter().enumerate() {
        // Reverse the published order.
        store
            .upsert_procedure(p, 100 - i64::try_from(i).expect("small"))
            .await
            .expect("saved");
    }
    let listed: Vec<String> = store
        .list_procedures(&CatalogueFilter::default())
        .await
        .expect("listed")
        .into_iter()
        .map(|p| p.code)
        .collect();
    let mut expected: Vec<String> = seed.into_iter().map(|(_, d)| d.procedure.code).collect();
    expected.reverse();
    assert_eq!(listed, expected);
}

#[tokio::test]
async fn unknown_codes_read_as_none() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    assert_eq!(store.procedure("0.000000").await.expect("read"), None);
}

#[tokio::test]
async fn a_unique_constraint_a_concurrent_write_won_is_a_conflict_that_answers_409() {
    use axum::response::IntoResponse;
    use motcua_server::{ApiError, store::StoreError};
    let db = TestDatabase::new().await;
    let store = db.store().await;
    store.register_consumer("twice").await.expect("registered");
    // Two writers of the same key: the second one loses on the constraint.
    let lost = sqlx::query("insert into outbox_consumers (name, registered_at) values ($1, 1)")
        .bind("twice")
        .execute(store.pool())
        .await
        .expect_err("the constraint refuses it");
    let err = StoreError::from(anyhow::Error::new(lost).context("registering again"));
    match &err {
        StoreError::Conflict { table, .. } => assert_eq!(table, "outbox_consumers"),
        other => panic!("not a conflict: {other:?}"),
    }
    let response = ApiError::from(err).into_response();
    assert_eq!(response.status().as_u16(), 409);
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .expect("a body");
    let body: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(body["error"], "already_exists");
}

#[tokio::test]
async fn a_database_outage_answers_503_in_the_reader_language_never_500() {
    let app = motcua_tests::spawn_app().await;
    app.sign_in(motcua_tests::LEVEL2_CCCD).await;
    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned();
    app.store.close().await;
    motcua_tests::assert_api_error(app.get("/api/v1/procedures").await, 503, "unavailable").await;
    let write = app
        .client
        .put(app.url("/api/v1/me/drafts/1.002804"))
        .header("x-csrf-token", &token)
        .header("accept-language", "en")
        .json(&serde_json::json!({ "answers": {} }))
        .send()
        .await
        .expect("answered");
    let body = motcua_tests::assert_api_error(write, 503, "unavailable").await;
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("try again")),
        "{body}"
    );
}
