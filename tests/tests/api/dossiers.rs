//! Filing a procedure: pre-filled answers submitted with nothing typed, a receipt number and a
//! legal deadline; refusals for a suspended licence, a forged verified value and bad answers; one
//! dossier per idempotency key; another person's dossier is invisible; withdrawal.

use motcua_server::audit::ChainReport;
use motcua_shared::calendar::Calendar;
use motcua_tests::{LEVEL2_CCCD, TestApp, assert_api_error, spawn_app};
use serde_json::{Map, Value, json};

const RENEWAL: &str = "1.002804";
const SUSPENDED_LICENCE_HOLDER: &str = "031180009876";

/// The pre-filled answers plus the one choice the person makes.
async fn prefilled_answers(app: &TestApp) -> Map<String, Value> {
    app.prefilled_answers(RENEWAL, &[("delivery", json!("post"))])
        .await
}

async fn submit(app: &TestApp, answers: &Map<String, Value>, key: &str) -> reqwest::Response {
    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned();
    app.client
        .post(app.url("/api/v1/dossiers"))
        .header("x-csrf-token", token)
        .json(&json!({ "procedure_code": RENEWAL, "answers": answers, "idempotency_key": key }))
        .send()
        .await
        .expect("answered")
}

#[tokio::test]
async fn a_renewal_filed_with_only_a_choice_gets_a_receipt_number_and_a_legal_deadline() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let answers = prefilled_answers(&app).await;
    let response = submit(&app, &answers, "tap-0001-renewal").await;
    assert_eq!(response.status(), 201);
    let dossier: Value = response.json().await.expect("json");
    let receipt = dossier["receipt_number"]
        .as_str()
        .expect("a receipt number");
    assert!(
        receipt.starts_with("CA-PCSGT-") && receipt.ends_with("-0001"),
        "{receipt}"
    );
    assert_eq!(dossier["status"], "submitted");
    // The renewal's reduced online fee is due at filing: the dossier waits for it, its clocks
    // not started, and lapses unpaid after the time allowed.
    assert_eq!(dossier["fee"]["amount_vnd"], 115_000, "{dossier}");
    assert_eq!(dossier["fee"]["when"], "at_filing");
    assert!(
        dossier["deadline_at"].is_null() && dossier["receive_by"].is_null(),
        "{dossier}"
    );
    let submitted_at = dossier["submitted_at"].as_i64().expect("a time");
    let pay_by = dossier["fee"]["pay_by"].as_i64().expect("a time to pay by");
    assert!(
        (pay_by - (submitted_at + 48 * 3_600_000)).abs() < 5_000,
        "{pay_by}"
    );
    let id = dossier["id"].as_str().expect("an id");
    let payment = motcua_tests::pay::pay_dossier_fee(&app, id).await;
    assert_eq!(payment["amount_vnd"], 115_000);
    let paid_at = payment["paid_at"].as_i64().expect("paid");
    let dossier = app.get_json(&format!("/api/v1/dossiers/{id}"), 200).await;
    // The legal clock starts at payment (the server's instant of it, within the same minute).
    let expected = Calendar::vietnam().expect("reads").deadline(paid_at, 5);
    let deadline = dossier["deadline_at"].as_i64().expect("a deadline");
    assert!(
        (deadline - expected).abs() < 60_000,
        "{deadline} vs {expected}"
    );
    assert!(dossier["fee"]["paid_at"].as_i64().is_some());
    assert!(
        dossier["events"]
            .as_array()
            .expect("a timeline")
            .iter()
            .any(|e| e["action"] == "fee_paid"),
        "{dossier}"
    );
    let verified: Vec<&str> = dossier["verified_fields"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for field in [
        "full_name",
        "birth_date",
        "cccd",
        "residence",
        "licence_number",
        "health_certificate",
    ] {
        assert!(
            verified.contains(&field),
            "{field} not verified: {verified:?}"
        );
    }
    let mine = app.get_json("/api/v1/dossiers", 200).await;
    assert_eq!(mine["dossiers"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        app.store.verify_audit_chain().await.expect("verified"),
        // The sign-in and the filing; then the fee's payment: started, the dossier's fee paid,
        // the receipt issued, and the payment paid.
        ChainReport::Intact { entries: 7 }
    );
}

#[tokio::test]
async fn a_double_submit_makes_one_dossier() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let answers = prefilled_answers(&app).await;
    let first: Value = submit(&app, &answers, "double-tap-42")
        .await
        .json()
        .await
        .expect("json");
    let again = submit(&app, &answers, "double-tap-42").await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.expect("json");
    assert_eq!(first["id"], again["id"]);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (client, url, answers) = (
            app.client.clone(),
            app.url("/api/v1/dossiers"),
            answers.clone(),
        );
        let token = app.me().await["csrf_token"]
            .as_str()
            .expect("token")
            .to_owned();
        tasks.push(tokio::spawn(async move {
            let body = json!({ "procedure_code": RENEWAL, "answers": answers, "idempotency_key": "burst-0007" });
            let r = client.post(url).header("x-csrf-token", token).json(&body).send().await.expect("answered");
            let status = r.status().as_u16();
            let v: Value = r.json().await.expect("json");
            (status, v["id"].as_str().unwrap_or_default().to_owned())
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        let (status, id) = t.await.expect("joined");
        assert!(status == 200 || status == 201, "{status}");
        ids.push(id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one dossier for one key");
    let (count,): (i64,) = sqlx::query_as("select count(*) from dossiers")
        .fetch_one(app.store.pool())
        .await
        .expect("counted");
    assert_eq!(count, 2, "the first key's dossier and the burst's");
}

#[tokio::test]
async fn a_suspended_licence_is_refused_with_the_reason() {
    let app = spawn_app().await;
    app.sign_in(SUSPENDED_LICENCE_HOLDER).await;
    // He has no portrait in his warehouse yet: he uploads one.
    let photo: serde_json::Value =
        crate::warehouse::upload(&app, "portrait-photo", crate::warehouse::PNG, "image/png")
            .await
            .json()
            .await
            .expect("json");
    let mut answers = prefilled_answers(&app).await;
    answers.insert("portrait".into(), photo["id"].clone());
    let body = assert_api_error(
        submit(&app, &answers, "suspended-001").await,
        422,
        "not_eligible",
    )
    .await;
    assert_eq!(body["fields"][0]["code"], "licence_suspended");
    assert!(
        body["fields"][0]["message"]["vi"]
            .as_str()
            .is_some_and(|m| m.contains("tạm giữ"))
    );
    assert_eq!(
        app.get_json("/api/v1/dossiers", 200).await["dossiers"],
        json!([])
    );
}

#[tokio::test]
async fn a_forged_verified_value_is_refused() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let mut answers = prefilled_answers(&app).await;
    answers.insert("full_name".into(), json!("Nguyễn Văn Ăn"));
    let body = assert_api_error(
        submit(&app, &answers, "forged-0001").await,
        422,
        "locked_field_changed",
    )
    .await;
    assert_eq!(body["fields"][0]["field"], "full_name");
}

#[tokio::test]
async fn answers_that_do_not_hold_are_listed_field_by_field() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let mut answers = prefilled_answers(&app).await;
    answers.remove("delivery");
    answers.insert("phone".into(), json!("12345"));
    let body = assert_api_error(
        submit(&app, &answers, "bad-answers-1").await,
        422,
        "invalid_answers",
    )
    .await;
    let fields: Vec<(&str, &str)> = body["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap_or(""),
                f["code"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(fields.contains(&("delivery", "required")), "{fields:?}");
    assert!(fields.contains(&("phone", "invalid_phone")), "{fields:?}");
}

#[tokio::test]
async fn another_person_cannot_see_or_withdraw_a_dossier_and_the_owner_withdraws_once() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let answers = prefilled_answers(&app).await;
    let dossier: Value = submit(&app, &answers, "owner-0001")
        .await
        .json()
        .await
        .expect("json");
    let id = dossier["id"].as_str().expect("an id");

    let other = TestApp::second_browser(&app);
    let authorize = other.start_sign_in(None).await;
    let callback = other
        .provider_sign_in(&authorize, "079195004321", motcua_tests::DEMO_PASSWORD)
        .await;
    other.client.get(callback).send().await.expect("answered");
    assert_api_error(
        other.get(&format!("/api/v1/dossiers/{id}")).await,
        404,
        "not_found",
    )
    .await;

    let withdrawn = app
        .post_with_csrf(&format!("/api/v1/dossiers/{id}/withdraw"))
        .await;
    assert_eq!(withdrawn.status(), 200);
    assert_eq!(
        withdrawn.json::<Value>().await.expect("json")["status"],
        "withdrawn"
    );
    let again = app
        .post_with_csrf(&format!("/api/v1/dossiers/{id}/withdraw"))
        .await;
    assert_api_error(again, 409, "transition_not_allowed").await;
    assert!(matches!(
        app.store.verify_audit_chain().await.expect("verified"),
        ChainReport::Intact { .. }
    ));
}

#[tokio::test]
async fn filing_needs_the_csrf_token() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let response = app
        .client
        .post(app.url("/api/v1/dossiers"))
        .json(&json!({ "procedure_code": RENEWAL, "answers": {}, "idempotency_key": "no-csrf-01" }))
        .send()
        .await
        .expect("answered");
    assert_api_error(response, 403, "csrf_failed").await;
}

#[tokio::test]
async fn filing_a_level_2_procedure_needs_a_fresh_proof_of_identity() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let answers = prefilled_answers(&app).await;
    // The sign-in was ten minutes ago.
    sqlx::query("update sessions set authenticated_at = authenticated_at - 600000")
        .execute(app.store.pool())
        .await
        .expect("aged");
    assert_api_error(
        submit(&app, &answers, "stale-session-1").await,
        403,
        "step_up_required",
    )
    .await;
    let mine = app.get_json("/api/v1/dossiers", 200).await;
    assert_eq!(mine["dossiers"], json!([]), "nothing was filed");
}

#[tokio::test]
async fn a_person_files_at_most_so_many_dossiers_an_hour_and_a_replay_is_not_one_more() {
    use crate::back_office::file_as_citizen;
    let app = motcua_tests::spawn_app_with(|c| c.filing_rate_per_hour = 1).await;
    let first = file_as_citizen(
        &app,
        "1.002804",
        &[("delivery", json!("counter"))],
        "rate-limit-1",
    )
    .await;
    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned();
    // The same key again is the same dossier (200), not one more.
    let again = app
        .client
        .post(app.url("/api/v1/dossiers"))
        .header("x-csrf-token", &token)
        .json(&json!({ "procedure_code": "1.002804", "answers": {}, "idempotency_key": "rate-limit-1" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["id"], first.as_str());
    let third = app
        .client
        .post(app.url("/api/v1/dossiers"))
        .header("x-csrf-token", token)
        .json(&json!({ "procedure_code": "1.002804", "answers": {}, "idempotency_key": "rate-limit-2" }))
        .send()
        .await
        .expect("answered");
    assert!(third.headers().contains_key("retry-after"));
    motcua_tests::assert_api_error(third, 429, "filing_rate").await;
}

#[tokio::test]
async fn filing_for_an_organisation_checks_the_representation_again() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let acting = app
        .client
        .put(app.url("/api/v1/me/acting-for"))
        .header("x-csrf-token", &token)
        .json(&json!({ "tax_code": "0401234566" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(acting.status(), 200);
    // The business register withdraws An's representation of the cooperative meanwhile.
    sqlx::query("delete from representatives where cccd = $1 and tax_code = '0401234566'")
        .bind(LEVEL2_CCCD)
        .execute(app.store.pool())
        .await
        .expect("withdrawn");
    let answers = prefilled_answers(&app).await;
    assert_api_error(
        submit(&app, &answers, "for-the-coop-1").await,
        403,
        "not_a_representative",
    )
    .await;
    let mine = app.get_json("/api/v1/dossiers", 200).await;
    assert_eq!(
        mine["dossiers"].as_array().map(Vec::len),
        Some(0),
        "nothing filed"
    );
}

#[tokio::test]
async fn the_health_certificate_named_at_filing_is_read_into_the_data_access_log() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let answers = prefilled_answers(&app).await;
    assert_eq!(
        submit(&app, &answers, "cert-read-logged").await.status(),
        201
    );
    let log = app.get_json("/api/v1/me/data-access", 200).await;
    let reads = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| {
            e["source"] == "CSDL giấy khám sức khỏe điện tử"
                && e["data"]
                    .as_str()
                    .is_some_and(|d| d.contains("ghi trong hồ sơ"))
        })
        .count();
    assert_eq!(reads, 1, "{log}");
}
