//! The person's records read from the national registers through the adapters (over HTTP, to
//! the sandboxes), each read logged for the person.

use motcua_tests::{LEVEL2_CCCD, TestApp, assert_api_error, spawn_app, spawn_app_with};

const SUSPENDED_LICENCE_HOLDER: &str = "031180009876";

#[tokio::test]
async fn a_citizen_sees_what_the_registers_hold_and_each_read_is_logged() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let records = app.get_json("/api/v1/me/records", 200).await;
    let population = &records["population"];
    assert_eq!(population["cccd"], LEVEL2_CCCD);
    assert_eq!(population["full_name"], "Nguyễn Văn An");
    assert!(
        population["permanent_residence"]
            .as_str()
            .is_some_and(|r| r.contains("Hàng Bông"))
    );
    assert_eq!(population["household_relation"], "head");
    let licences = records["driving_licences"].as_array().expect("a list");
    assert_eq!(licences.len(), 1);
    assert_eq!(licences[0]["classes"], serde_json::json!(["B"]));
    assert_eq!(licences[0]["status"], "valid");

    let log = app.get_json("/api/v1/me/data-access", 200).await;
    let sources: Vec<&str> = log["entries"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|e| e["source"].as_str())
        .collect();
    assert!(sources.contains(&"CSDL quốc gia về dân cư"), "{sources:?}");
    assert!(sources.contains(&"CSDL giấy phép lái xe"), "{sources:?}");
    assert_eq!(sources.len(), 3, "the sign-in and the two reads");
}

#[tokio::test]
async fn a_suspended_licence_is_shown_as_suspended() {
    let app = spawn_app().await;
    app.sign_in(SUSPENDED_LICENCE_HOLDER).await;
    let records = app.get_json("/api/v1/me/records", 200).await;
    assert_eq!(records["driving_licences"][0]["status"], "suspended");
}

#[tokio::test]
async fn the_registers_refuse_callers_without_the_platforms_key() {
    let app = spawn_app().await;
    let path = format!("/sandbox/population/v1/people/{LEVEL2_CCCD}");
    assert_eq!(app.get(&path).await.status(), 401);
    let wrong = app
        .client
        .get(app.url(&path))
        .header("x-api-key", "guess")
        .send()
        .await
        .expect("answered");
    assert_eq!(wrong.status(), 401);
    let key = app.sandbox_registry_key.clone().expect("the sandbox is on");
    let certificate = app
        .client
        .get(app.url("/sandbox/health/v1/certificates/GKSK-2026-010-88123"))
        .header("x-api-key", key)
        .send()
        .await
        .expect("answered");
    assert_eq!(certificate.status(), 200);
    let body: serde_json::Value = certificate.json().await.expect("json");
    assert_eq!(body["holder_cccd"], LEVEL2_CCCD);
    assert!(
        body["fit_for_classes"]
            .as_array()
            .is_some_and(|c| c.contains(&"B".into()))
    );
}

#[tokio::test]
async fn a_register_that_does_not_answer_gives_503_and_logs_no_read() {
    // Port 9 (discard) on this machine: nothing listens.
    let app = spawn_app_with(|c| c.population_registry_url = "http://127.0.0.1:9".into()).await;
    app.sign_in(LEVEL2_CCCD).await;
    assert_api_error(app.get("/api/v1/me/records").await, 503, "unavailable").await;
    let log = app.get_json("/api/v1/me/data-access", 200).await;
    assert_eq!(
        log["entries"].as_array().map(Vec::len),
        Some(1),
        "only the sign-in"
    );
}

#[tokio::test]
async fn records_are_only_for_the_signed_in_person() {
    let app = spawn_app().await;
    assert_api_error(
        TestApp::second_browser(&app)
            .get("/api/v1/me/records")
            .await,
        401,
        "unauthenticated",
    )
    .await;
}
