//! The back office on the API: an officer works the queue of their agency, level and territorial
//! unit only; claiming and the lead's assigning; opening a dossier shows in the applicant's
//! data-access log; actions follow the state machine; the receipt clock; resubmission.

use motcua_shared::calendar::Calendar;
use motcua_tests::{DEMO_PASSWORD, LEVEL2_CCCD, TestApp, assert_api_error, spawn_app};
use serde_json::{Map, Value, json};

const RENEWAL: &str = "1.002804";
/// Officer of CA-PCSGT (province): driving licences.
pub(crate) const TRAFFIC_OFFICER: &str = "031180009876";
/// Officer of UBND-XA (commune): civil status.
pub(crate) const COMMUNE_OFFICER: &str = "048190002468";

/// Files `code` as the level-2 demo citizen with the pre-filled answers and `extra`; returns the
/// dossier's id.
pub(crate) async fn file_as_citizen(
    app: &TestApp,
    code: &str,
    extra: &[(&str, Value)],
    key: &str,
) -> String {
    app.sign_in(LEVEL2_CCCD).await;
    let answers = app.prefilled_answers(code, extra).await;
    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let response = app
        .client
        .post(app.url("/api/v1/dossiers"))
        .header("x-csrf-token", token)
        .json(&json!({ "procedure_code": code, "answers": answers, "idempotency_key": key }))
        .send()
        .await
        .expect("answered");
    let status = response.status();
    let body = response.json::<Value>().await.expect("json");
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("an id").to_owned()
}

/// A renewal filed by the level-2 demo citizen, its fee (due at filing) not paid yet.
pub(crate) async fn filed_renewal_unpaid(app: &TestApp) -> String {
    file_as_citizen(
        app,
        RENEWAL,
        &[("delivery", json!("counter"))],
        "renewal-for-office",
    )
    .await
}

/// A renewal filed by the level-2 demo citizen and its fee paid through the gateway, as the
/// person does (officers see it then); returns its id.
pub(crate) async fn filed_renewal(app: &TestApp) -> String {
    let id = filed_renewal_unpaid(app).await;
    motcua_tests::pay::pay_dossier_fee(app, &id).await;
    id
}

pub(crate) async fn officer(app: &TestApp, cccd: &str) -> motcua_tests::Browser {
    let browser = TestApp::second_browser(app);
    let authorize = browser.start_sign_in(None).await;
    let callback = browser
        .provider_sign_in(&authorize, cccd, DEMO_PASSWORD)
        .await;
    browser.client.get(callback).send().await.expect("answered");
    browser
}

pub(crate) async fn act(
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
    assert_out_of_reach(&commune, &id).await;
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

/// `officer` neither sees dossier `id` in their queue, nor opens it, nor acts on it: all as if
/// it did not exist.
async fn assert_out_of_reach(officer: &motcua_tests::Browser, id: &str) {
    let queue: Value = officer
        .get("/api/v1/officer/dossiers")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(queue["dossiers"], json!([]));
    assert_api_error(
        officer.get(&format!("/api/v1/officer/dossiers/{id}")).await,
        404,
        "not_found",
    )
    .await;
    assert_api_error(act(officer, id, "receive", None).await, 404, "not_found").await;
}

/// Makes `cccd` an officer of the traffic police of `unit` (a province code).
pub(crate) async fn traffic_officer_of(app: &TestApp, cccd: &str, unit: &str, lead: bool) {
    let assignment = motcua_server::identity::roles::Assignment {
        agency_code: "CA-PCSGT".into(),
        level: motcua_shared::procedure::Level::Province,
        unit_code: unit.into(),
        lead,
    };
    app.store
        .grant_role(
            &motcua_shared::Cccd::parse(cccd).expect("valid"),
            motcua_shared::identity::Role::Officer,
            Some(&assignment),
            Some("test"),
        )
        .await
        .expect("granted");
}

#[tokio::test]
async fn an_officer_of_the_same_agency_in_another_province_can_neither_see_nor_act() {
    let app = spawn_app().await;
    let id = filed_renewal(&app).await;
    let filed = app.get_json(&format!("/api/v1/dossiers/{id}"), 200).await;
    assert_eq!(
        filed["unit_code"], "01",
        "handled where the applicant lives"
    );
    // Same agency and level, but Hồ Chí Minh City's desk.
    traffic_officer_of(&app, COMMUNE_OFFICER, "79", true).await;
    let elsewhere = officer(&app, COMMUNE_OFFICER).await;
    assert_out_of_reach(&elsewhere, &id).await;
    assert_api_error(
        post(
            &elsewhere,
            &format!("/api/v1/officer/dossiers/{id}/claim"),
            json!({}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let log = app.get_json("/api/v1/me/data-access", 200).await;
    assert!(
        log["entries"]
            .as_array()
            .expect("a list")
            .iter()
            .all(|e| e["accessor_kind"] != "officer"),
        "nobody opened it"
    );
}

pub(crate) async fn post(
    browser: &motcua_tests::Browser,
    path: &str,
    body: Value,
) -> reqwest::Response {
    let me: Value = browser.get("/api/v1/me").await.json().await.expect("json");
    browser
        .client
        .post(browser.url(path))
        .header("x-csrf-token", me["csrf_token"].as_str().expect("token"))
        .json(&body)
        .send()
        .await
        .expect("answered")
}

#[tokio::test]
async fn a_claimed_dossier_is_worked_by_its_officer_and_the_lead_can_reassign_it() {
    let app = spawn_app().await;
    let id = filed_renewal(&app).await;
    // A second officer of the same desk, not its lead.
    traffic_officer_of(&app, COMMUNE_OFFICER, "01", false).await;
    let colleague = officer(&app, COMMUNE_OFFICER).await;
    let lead = officer(&app, TRAFFIC_OFFICER).await;

    let claimed = post(
        &colleague,
        &format!("/api/v1/officer/dossiers/{id}/claim"),
        json!({}),
    )
    .await;
    assert_eq!(claimed.status(), 200);
    let claimed: Value = claimed.json().await.expect("json");
    assert_eq!(claimed["mine"], true);
    assert_eq!(claimed["assignee_name"], "Phạm Thu Hà");
    // The lead sees who has it; a second claim is refused.
    assert_api_error(
        post(
            &lead,
            &format!("/api/v1/officer/dossiers/{id}/claim"),
            json!({}),
        )
        .await,
        409,
        "assigned_to_other",
    )
    .await;
    // Only the lead assigns; the colleague cannot hand it to the lead.
    assert_api_error(
        post(
            &colleague,
            &format!("/api/v1/officer/dossiers/{id}/assign"),
            json!({ "officer_cccd": TRAFFIC_OFFICER }),
        )
        .await,
        403,
        "lead_only",
    )
    .await;
    // Nobody outside the desk can be assigned.
    assert_api_error(
        post(
            &lead,
            &format!("/api/v1/officer/dossiers/{id}/assign"),
            json!({ "officer_cccd": LEVEL2_CCCD }),
        )
        .await,
        422,
        "not_an_officer_here",
    )
    .await;
    // The lead sees whom they can assign; the colleague may not list them.
    let desk: Value = lead
        .get("/api/v1/officer/colleagues")
        .await
        .json()
        .await
        .expect("json");
    let names: Vec<&str> = desk["officers"]
        .as_array()
        .expect("officers")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(names, vec!["Lê Minh Cường", "Phạm Thu Hà"]);
    assert_api_error(
        colleague.get("/api/v1/officer/colleagues").await,
        403,
        "lead_only",
    )
    .await;
    let reassigned = post(
        &lead,
        &format!("/api/v1/officer/dossiers/{id}/assign"),
        json!({ "officer_cccd": TRAFFIC_OFFICER }),
    )
    .await;
    assert_eq!(reassigned.status(), 200);
    // Now the colleague may not act on it; the lead may.
    assert_api_error(
        act(&colleague, &id, "receive", None).await,
        409,
        "assigned_to_other",
    )
    .await;
    assert_eq!(act(&lead, &id, "receive", None).await.status(), 200);
    let mine: Value = lead
        .get("/api/v1/officer/dossiers?mine=true")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(mine["dossiers"][0]["id"], id.as_str());
    // The applicant's timeline shows each step.
    let timeline = app.get_json(&format!("/api/v1/dossiers/{id}"), 200).await;
    let actions: Vec<&str> = timeline["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        vec!["submitted", "fee_paid", "claimed", "assigned", "received"]
    );
}

#[tokio::test]
async fn receipt_is_due_within_eight_office_hours_and_the_queue_filters() {
    let app = spawn_app().await;
    let id = filed_renewal(&app).await;
    let dossier = app.get_json(&format!("/api/v1/dossiers/{id}"), 200).await;
    let submitted = dossier["submitted_at"].as_i64().expect("a time");
    let expected = Calendar::vietnam()
        .expect("reads")
        .add_office_hours(submitted, 8);
    assert_eq!(dossier["receive_by"].as_i64(), Some(expected));
    let officer = officer(&app, TRAFFIC_OFFICER).await;
    let count = |v: Value| v["dossiers"].as_array().map_or(0, Vec::len);
    let get = async |path: &str| -> Value { officer.get(path).await.json().await.expect("json") };
    assert_eq!(
        count(get("/api/v1/officer/dossiers?status=submitted").await),
        1
    );
    assert_eq!(
        count(get("/api/v1/officer/dossiers?status=received").await),
        0
    );
    assert_eq!(
        count(get("/api/v1/officer/dossiers?procedure=1.002804").await),
        1
    );
    assert_eq!(
        count(get("/api/v1/officer/dossiers?procedure=1.001193").await),
        0
    );
    assert_eq!(count(get("/api/v1/officer/dossiers?due=overdue").await), 0);
    assert_api_error(
        officer.get("/api/v1/officer/dossiers?status=lost").await,
        422,
        "invalid_status",
    )
    .await;
    // Past its receipt clock (moved back in the database), it shows as overdue.
    sqlx::query("update dossiers set receive_by = 1000 where id = $1")
        .bind(&id)
        .execute(app.store.pool())
        .await
        .expect("moved");
    assert_eq!(count(get("/api/v1/officer/dossiers?due=overdue").await), 1);
    // Receiving it stops the receipt clock.
    let received: Value = act(&officer, &id, "receive", None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(received["receive_by"], Value::Null);
}

#[tokio::test]
async fn a_resubmission_resumes_the_clock_and_cannot_change_verified_values() {
    let app = spawn_app().await;
    let id = filed_renewal(&app).await;
    let officer = officer(&app, TRAFFIC_OFFICER).await;
    for action in ["receive", "start_processing"] {
        assert_eq!(act(&officer, &id, action, None).await.status(), 200);
    }
    let asked = act(
        &officer,
        &id,
        "request_supplement",
        Some("Chọn lại nơi nhận"),
    )
    .await;
    assert_eq!(asked.status(), 200);
    let paused = app.get_json(&format!("/api/v1/dossiers/{id}"), 200).await;
    let left = paused["paused_days_left"].as_i64().expect("days held");
    let mut answers = paused["answers"].as_object().cloned().expect("answers");

    let resubmit = async |answers: &Map<String, Value>| {
        let token = app.me().await["csrf_token"]
            .as_str()
            .expect("token")
            .to_owned();
        app.client
            .post(app.url(&format!("/api/v1/dossiers/{id}/resubmit")))
            .header("x-csrf-token", token)
            .json(&json!({ "answers": answers }))
            .send()
            .await
            .expect("answered")
    };
    let mut forged = answers.clone();
    forged.insert("full_name".into(), json!("Nguyễn Văn Bình"));
    assert_api_error(resubmit(&forged).await, 422, "locked_field_changed").await;

    answers.insert("delivery".into(), json!("post"));
    let response = resubmit(&answers).await;
    assert_eq!(response.status(), 200);
    let resumed: Value = response.json().await.expect("json");
    assert_eq!(resumed["status"], "in_processing");
    assert_eq!(resumed["answers"]["delivery"], "post");
    assert_eq!(resumed["paused_days_left"], Value::Null);
    let now = motcua_server::store::now_ms();
    let calendar = Calendar::vietnam().expect("reads");
    let deadline = resumed["deadline_at"].as_i64().expect("running again");
    assert!(
        [now - 60_000, now]
            .iter()
            .any(|at| calendar.deadline(*at, u32::try_from(left).expect("small")) == deadline),
        "the deadline gives back the {left} working days held"
    );
    // Nothing is asked any more: a second resubmission is refused.
    assert_api_error(resubmit(&answers).await, 409, "transition_not_allowed").await;
}

/// A birth registration filed by the level-2 demo citizen (Hàng Trống ward); returns its id.
pub(crate) async fn filed_birth_registration(app: &TestApp) -> String {
    file_as_citizen(
        app,
        "1.001193",
        &[("child_name", json!("Nguyễn Minh Anh"))],
        "birth-of-minh-anh",
    )
    .await
}

#[tokio::test]
async fn an_officer_of_commune_a_cannot_read_a_dossier_of_commune_b() {
    let app = spawn_app().await;
    let id = filed_birth_registration(&app).await;
    let filed = app.get_json(&format!("/api/v1/dossiers/{id}"), 200).await;
    assert_eq!(
        filed["unit_code"], "00070",
        "Hàng Trống ward, where the parents live"
    );
    // The commune officer of Hàng Trống sees it.
    let here = officer(&app, COMMUNE_OFFICER).await;
    let queue: Value = here
        .get("/api/v1/officer/dossiers")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(queue["dossiers"][0]["id"], id.as_str());
    // The same agency and level in the next ward, Hàng Bông, does not.
    let assignment = motcua_server::identity::roles::Assignment {
        agency_code: "UBND-XA".into(),
        level: motcua_shared::procedure::Level::Commune,
        unit_code: "00076".into(),
        lead: false,
    };
    app.store
        .grant_role(
            &motcua_shared::Cccd::parse(TRAFFIC_OFFICER).expect("valid"),
            motcua_shared::identity::Role::Officer,
            Some(&assignment),
            Some("test"),
        )
        .await
        .expect("granted");
    let next_ward = officer(&app, TRAFFIC_OFFICER).await;
    assert_out_of_reach(&next_ward, &id).await;
}

#[tokio::test]
async fn one_interconnected_dossier_issues_three_results_into_the_warehouse() {
    let app = spawn_app().await;
    let id = filed_birth_registration(&app).await;
    let commune = officer(&app, COMMUNE_OFFICER).await;
    for action in ["receive", "start_processing", "approve", "issue_result"] {
        assert_eq!(
            act(&commune, &id, action, None).await.status(),
            200,
            "{action}"
        );
    }
    let items = app.get_json("/api/v1/me/warehouse", 200).await;
    let issued: Vec<&str> = items["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["dossier_id"] == id.as_str())
        .filter_map(|i| i["document_code"].as_str())
        .collect();
    for code in [
        "birth-certificate",
        "permanent-residence-confirmation",
        "health-insurance-card",
    ] {
        assert!(issued.contains(&code), "{code} in {issued:?}");
    }
}

#[tokio::test]
async fn an_officer_never_handles_a_dossier_they_filed_themselves() {
    let app = spawn_app().await;
    // An files a renewal, and is also an officer of the desk that handles it.
    let id = filed_renewal(&app).await;
    traffic_officer_of(&app, motcua_tests::LEVEL2_CCCD, "01", false).await;
    let an = officer(&app, motcua_tests::LEVEL2_CCCD).await;
    let lead = officer(&app, TRAFFIC_OFFICER).await;

    // He sees it in the queue, but may neither claim it nor act on it.
    let claim = format!("/api/v1/officer/dossiers/{id}/claim");
    assert_api_error(post(&an, &claim, json!({})).await, 403, "own_dossier").await;
    assert_api_error(act(&an, &id, "receive", None).await, 403, "own_dossier").await;
    // The lead cannot give it to him either.
    assert_api_error(
        post(
            &lead,
            &format!("/api/v1/officer/dossiers/{id}/assign"),
            json!({ "officer_cccd": motcua_tests::LEVEL2_CCCD }),
        )
        .await,
        422,
        "own_dossier",
    )
    .await;
    // Nothing changed; another officer of the desk handles it.
    let mine = app.get_json(&format!("/api/v1/dossiers/{id}"), 200).await;
    assert_eq!(mine["status"], "submitted");
    assert_eq!(act(&lead, &id, "receive", None).await.status(), 200);
}

#[tokio::test]
async fn the_queue_and_action_replies_hold_no_answers_and_every_opening_is_logged() {
    let app = spawn_app().await;
    let id = filed_renewal(&app).await;
    let lead = officer(&app, TRAFFIC_OFFICER).await;
    let officer_reads = || async {
        let log = app.get_json("/api/v1/me/data-access", 200).await;
        log["entries"]
            .as_array()
            .expect("a list")
            .iter()
            .filter(|e| e["accessor_kind"] == "officer")
            .count()
    };

    // The queue: a summary, no personal answers beyond the name, and nothing logged.
    let queue: Value = lead
        .get("/api/v1/officer/dossiers")
        .await
        .json()
        .await
        .expect("json");
    let item = queue["dossiers"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|d| d["id"] == id.as_str())
        .cloned()
        .expect("in the queue");
    assert_eq!(item["applicant_name"], "Nguyễn Văn An");
    assert!(item.get("answers").is_none(), "{item}");
    let text = queue.to_string();
    assert!(!text.contains(LEVEL2_CCCD), "no CCCD in the queue");
    assert!(!text.contains("Hàng Bông"), "no address in the queue");
    assert_eq!(officer_reads().await, 0);

    // Claiming and acting answer the queue line too.
    let claimed: Value = post(
        &lead,
        &format!("/api/v1/officer/dossiers/{id}/claim"),
        json!({}),
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(claimed["mine"], true);
    assert!(claimed.get("answers").is_none(), "{claimed}");
    let acted: Value = act(&lead, &id, "receive", None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(acted["status"], "received");
    assert!(acted.get("answers").is_none(), "{acted}");
    assert!(!acted.to_string().contains(LEVEL2_CCCD));
    assert_eq!(officer_reads().await, 0, "nothing was opened yet");

    // Opening it shows the answers, and that opening is in An's log, once per opening.
    let opened: Value = lead
        .get(&format!("/api/v1/officer/dossiers/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert!(opened["answers"].is_object(), "{opened}");
    assert_eq!(officer_reads().await, 1);
    lead.get(&format!("/api/v1/officer/dossiers/{id}")).await;
    assert_eq!(officer_reads().await, 2);
}
