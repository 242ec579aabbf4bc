//! The back office on the API: an officer works the queue of their agency and level only; opening
//! a dossier shows in the applicant's data-access log; actions follow the state machine.

use motcua_tests::{DEMO_PASSWORD, LEVEL2_CCCD, TestApp, assert_api_error, spawn_app};
use serde_json::{Map, Value, json};

const RENEWAL: &str = "1.002804";
/// Officer of CA-PCSGT (province): driving licences.
const TRAFFIC_OFFICER: &str = "031180009876";
/// Officer of UBND-XA (commune): civil status.
const COMMUNE_OFFICER: &str = "048190002468";

/// A renewal filed by the level-2 demo citizen; returns its id.
async fn filed_renewal(app: &TestApp) -> String {
    app.sign_in(LEVEL2_CCCD).await;
    let prefill = app
        .get_json(&format!("/api/v1/procedures/{RENEWAL}/prefill"), 200)
        .await;
    let mut answers: Map<String, Value> = prefill["values"]
        .as_object()
        .expect("values")
        .iter()
        .map(|(k, v)| (k.clone(), v["value"].clone()))
        .collect();
    answers.insert("delivery".into(), json!("counter"));
    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let response = app
        .client
        .post(app.url("/api/v1/dossiers"))
        .header("x-csrf-token", token)
        .json(&json!({ "procedure_code": RENEWAL, "answers": answers, "idempotency_key": "renewal-for-office" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

async fn officer(app: &TestApp, cccd: &str) -> motcua_tests::Browser {
    let browser = TestApp::second_browser(app);
    let authorize = browser.start_sign_in(None).await;
    let callback = browser
        .provider_sign_in(&authorize, cccd, DEMO_PASSWORD)
        .await;
    browser.client.get(callback).send().await.expect("answered");
    browser
}

async fn act(
    officer: &motcua_tests::Browser,
    id: &str,
    action: &str,
    reason: Option<&str>,
) -> reqwest::Response {
    let me: Value = officer.get("/api/v1/me").await.json().await.expect("json");
    officer
        .client
        .post(officer.url(&format!("/api/v1/officer/dossiers/{id}/actions")))
        .header("x-csrf-token", me["csrf_token"].as_str().expect("token"))
        .json(&json!({ "action": action, "reason": reason }))
        .send()
        .await
        .expect("answered")
}

#[tokio::test]
async fn an_officer_receives_processes_and_approves_and_the_citizen_sees_it() {
    let app = spawn_app().await;
    let id = filed_renewal(&app).await;
    let officer = officer(&app, TRAFFIC_OFFICER).await;
    let queue: Value = officer
        .get("/api/v1/officer/dossiers")
        .await
        .json()
        .await
        .expect("json");
    let entry = &queue["dossiers"][0];
    assert_eq!(entry["id"], id.as_str());
    assert_eq!(entry["applicant_name"], "Nguyễn Văn An");
    assert_eq!(
        entry["actions"],
        json!(["receive", "request_supplement", "reject"])
    );

    let opened = officer.get(&format!("/api/v1/officer/dossiers/{id}")).await;
    assert_eq!(opened.status(), 200);
    let log = app.get_json("/api/v1/me/data-access", 200).await;
    assert!(
        log["entries"]
            .as_array()
            .expect("a list")
            .iter()
            .any(|e| e["accessor_kind"] == "officer"
                && e["accessor"]
                    .as_str()
                    .is_some_and(|a| a.contains("Lê Minh Cường"))),
        "{log}"
    );

    for action in ["receive", "start_processing", "approve", "issue_result"] {
        let response = act(&officer, &id, action, None).await;
        assert_eq!(response.status(), 200, "{action}");
    }
    let mine = app.get_json(&format!("/api/v1/dossiers/{id}"), 200).await;
    assert_eq!(mine["status"], "result_issued");
    assert_eq!(
        officer
            .get("/api/v1/officer/dossiers")
            .await
            .json::<Value>()
            .await
            .expect("json")["dossiers"],
        json!([])
    );
}

#[tokio::test]
async fn an_officer_of_another_agency_or_level_can_neither_see_nor_act() {
    let app = spawn_app().await;
    let id = filed_renewal(&app).await;
    let commune = officer(&app, COMMUNE_OFFICER).await;
    let queue: Value = commune
        .get("/api/v1/officer/dossiers")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(queue["dossiers"], json!([]));
    assert_api_error(
        commune.get(&format!("/api/v1/officer/dossiers/{id}")).await,
        404,
        "not_found",
    )
    .await;
    assert_api_error(act(&commune, &id, "receive", None).await, 404, "not_found").await;
    assert_eq!(
        app.get_json(&format!("/api/v1/dossiers/{id}"), 200).await["status"],
        "submitted"
    );
}

#[tokio::test]
async fn a_citizen_cannot_use_the_back_office() {
    let app = spawn_app().await;
    let id = filed_renewal(&app).await;
    assert_api_error(
        app.get("/api/v1/officer/dossiers").await,
        403,
        "forbidden_role",
    )
    .await;
    assert_api_error(
        app.get(&format!("/api/v1/officer/dossiers/{id}")).await,
        403,
        "forbidden_role",
    )
    .await;
}

#[tokio::test]
async fn illegal_transitions_and_reasonless_refusals_are_refused() {
    let app = spawn_app().await;
    let id = filed_renewal(&app).await;
    let officer = officer(&app, TRAFFIC_OFFICER).await;
    assert_api_error(
        act(&officer, &id, "approve", None).await,
        409,
        "transition_not_allowed",
    )
    .await;
    assert_api_error(
        act(&officer, &id, "reject", None).await,
        422,
        "reason_required",
    )
    .await;
    assert_eq!(act(&officer, &id, "receive", None).await.status(), 200);
    // The applicant withdraws before processing; an officer then cannot approve.
    assert_eq!(
        app.post_with_csrf(&format!("/api/v1/dossiers/{id}/withdraw"))
            .await
            .status(),
        200
    );
    assert_api_error(
        act(&officer, &id, "start_processing", None).await,
        409,
        "transition_not_allowed",
    )
    .await;
}

#[tokio::test]
async fn a_supplement_asked_during_processing_stops_the_clock() {
    let app = spawn_app().await;
    let id = filed_renewal(&app).await;
    let officer = officer(&app, TRAFFIC_OFFICER).await;
    assert_eq!(act(&officer, &id, "receive", None).await.status(), 200);
    assert_eq!(
        act(&officer, &id, "start_processing", None).await.status(),
        200
    );
    let asked = act(
        &officer,
        &id,
        "request_supplement",
        Some("Bổ sung ảnh chân dung nền trắng"),
    )
    .await;
    assert_eq!(asked.status(), 200);
    let mine = app.get_json(&format!("/api/v1/dossiers/{id}"), 200).await;
    assert_eq!(mine["status"], "supplement_requested");
    assert_eq!(mine["deadline_at"], Value::Null, "paused");
    assert_eq!(mine["status_reason"], "Bổ sung ảnh chân dung nền trắng");
    let (left,): (Option<i64>,) =
        sqlx::query_as("select paused_days_left from dossiers where id = $1")
            .bind(&id)
            .fetch_one(app.store.pool())
            .await
            .expect("read");
    assert!(left.is_some_and(|d| (0..=5).contains(&d)), "{left:?}");
}
