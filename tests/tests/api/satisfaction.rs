//! Ratings, feedback and the officers' dashboard on the API: a dossier's applicant rates it once
//! it ended and may change it for 30 days; the desk sees ratings without who gave them;
//! feedback goes to the right desk, is answered once, told to its sender and judged once; an
//! officer's dashboard shows their own agency only.

use motcua_server::{startup::dispatcher, store::now_ms};
use motcua_tests::{LEVEL2_CCCD, TestApp, assert_api_error, spawn_app};
use serde_json::{Value, json};

use crate::back_office::{COMMUNE_OFFICER, TRAFFIC_OFFICER, act, filed_renewal, officer};

const DAY_MS: i64 = 86_400_000;

async fn csrf_of(client: &reqwest::Client, url: String) -> String {
    let me: Value = client
        .get(url)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    me["csrf_token"].as_str().expect("token").to_owned()
}

/// Sends `body` with `method` to `path` as the citizen of `app`, with their CSRF token.
async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> reqwest::Response {
    let token = csrf_of(&app.client, app.url("/api/v1/me")).await;
    app.client
        .request(method, app.url(path))
        .header("x-csrf-token", token)
        .json(&body)
        .send()
        .await
        .expect("answered")
}

/// As [`send`], from an officer's browser.
async fn officer_send(
    officer: &motcua_tests::Browser,
    path: &str,
    body: Value,
) -> reqwest::Response {
    let token = csrf_of(&officer.client, officer.url("/api/v1/me")).await;
    officer
        .client
        .post(officer.url(path))
        .header("x-csrf-token", token)
        .json(&body)
        .send()
        .await
        .expect("answered")
}

async fn json_of(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status);
    response.json().await.expect("json")
}

/// A renewal issued to the demo citizen; returns its id and the traffic officer.
async fn issued(app: &TestApp) -> (String, motcua_tests::Browser) {
    let id = filed_renewal(app).await;
    let officer = officer(app, TRAFFIC_OFFICER).await;
    for action in ["receive", "start_processing", "approve", "issue_result"] {
        assert_eq!(act(&officer, &id, action, None).await.status(), 200);
    }
    (id, officer)
}

fn rating(satisfied: bool, score: u8) -> Value {
    json!({ "satisfied": satisfied, "timeliness": score, "clarity": score, "attitude": score, "comment": "Nhanh gọn" })
}

#[tokio::test]
async fn an_ended_dossier_is_rated_once_changed_within_thirty_days_and_the_desk_sees_no_one() {
    let app = spawn_app().await;
    let id = filed_renewal(&app).await;
    let path = format!("/api/v1/dossiers/{id}/rating");
    // Not ended yet.
    let before = app.get_json(&path, 200).await;
    assert_eq!(before, json!({ "rating": null, "open_until": null }));
    assert_api_error(
        send(&app, reqwest::Method::PUT, &path, rating(true, 5)).await,
        409,
        "not_rateable",
    )
    .await;
    let officer = officer(&app, TRAFFIC_OFFICER).await;
    for action in ["receive", "start_processing", "approve", "issue_result"] {
        assert_eq!(act(&officer, &id, action, None).await.status(), 200);
    }

    let open = app.get_json(&path, 200).await;
    let until = open["open_until"].as_i64().expect("open");
    assert!((until - now_ms() - 30 * DAY_MS).abs() < 60_000, "{open}");
    for bad in [
        json!({ "satisfied": true, "timeliness": 0, "clarity": 3, "attitude": 3 }),
        json!({ "satisfied": true, "timeliness": 3, "clarity": 6, "attitude": 3 }),
        json!({ "satisfied": true, "timeliness": 3, "clarity": 3, "attitude": 3, "comment": "x".repeat(1001) }),
    ] {
        assert_api_error(
            send(&app, reqwest::Method::PUT, &path, bad).await,
            422,
            "invalid_rating",
        )
        .await;
    }
    let given = json_of(
        send(&app, reqwest::Method::PUT, &path, rating(true, 5)).await,
        200,
    )
    .await;
    assert_eq!(given["rating"]["satisfied"], true);
    let changed = json_of(
        send(&app, reqwest::Method::PUT, &path, rating(false, 2)).await,
        200,
    )
    .await;
    assert_eq!(changed["rating"]["satisfied"], false);
    assert_eq!(changed["rating"]["timeliness"], 2);
    let (count,): (i64,) = sqlx::query_as("select count(*) from ratings where dossier_id = $1")
        .bind(&id)
        .fetch_one(app.store.pool())
        .await
        .expect("read");
    assert_eq!(count, 1, "one rating per dossier");

    // The desk sees the scores and comment, not the dossier or the person.
    let ratings: Value = officer
        .get("/api/v1/officer/ratings")
        .await
        .json()
        .await
        .expect("json");
    let list = ratings["ratings"].as_array().expect("a list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["satisfied"], false);
    assert_eq!(list[0]["comment"], "Nhanh gọn");
    let text = ratings.to_string();
    assert!(
        !text.contains(&id) && !text.contains(LEVEL2_CCCD) && !text.contains("receipt"),
        "{text}"
    );

    // The index counts the dissatisfaction.
    let day = motcua_shared::calendar::Day::of_instant(now_ms()).iso();
    let card = app
        .get_json(&format!("/api/v1/stats/scorecard?from={day}&to={day}"), 200)
        .await;
    let satisfaction = card["groups"][5]["indicators"][0].clone();
    assert_eq!(satisfaction["code"], "6.1");
    assert_eq!(
        (
            satisfaction["numerator"].as_i64(),
            satisfaction["denominator"].as_i64()
        ),
        (Some(0), Some(1))
    );

    // Another person cannot see or rate it; after 30 days nobody can change it.
    let other = TestApp::second_browser(&app);
    other.sign_in_as(motcua_tests::LEVEL1_CCCD).await;
    assert_eq!(other.get(&path).await.status(), 404);
    sqlx::query("update dossiers set finished_at = $1 where id = $2")
        .bind(now_ms() - 31 * DAY_MS)
        .bind(&id)
        .execute(app.store.pool())
        .await
        .expect("aged");
    assert_api_error(
        send(&app, reqwest::Method::PUT, &path, rating(true, 5)).await,
        409,
        "rating_closed",
    )
    .await;
    assert_eq!(app.get_json(&path, 200).await["rating"]["satisfied"], false);
}

#[tokio::test]
async fn feedback_reaches_its_desk_is_answered_once_told_and_judged_once() {
    let app = spawn_app().await;
    let outbox = dispatcher(&app.state);
    outbox.register().await.expect("registered");
    let (id, traffic) = issued(&app).await;
    let sent = json_of(
        send(
            &app,
            reqwest::Method::POST,
            "/api/v1/feedback",
            json!({ "about": "conduct", "dossier_id": id, "subject": "Cán bộ hẹn sai giờ", "body": "Tôi được hẹn 9 giờ nhưng phải chờ đến 11 giờ." }),
        )
        .await,
        201,
    )
    .await;
    let feedback_id = sent["id"].as_str().expect("an id").to_owned();
    assert_eq!(sent["status"], "open");
    assert_eq!(sent["agency_code"], "CA-PCSGT");
    assert!(sent["due_at"].as_i64().expect("due") > now_ms() + 10 * DAY_MS);

    // The traffic desk sees it without its sender; the commune desk does not.
    let desk: Value = traffic
        .get("/api/v1/officer/feedback")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(desk["feedback"].as_array().map(Vec::len), Some(1));
    assert!(!desk.to_string().contains(LEVEL2_CCCD));
    let commune = officer(&app, COMMUNE_OFFICER).await;
    let theirs: Value = commune
        .get("/api/v1/officer/feedback")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(theirs["feedback"].as_array().map(Vec::len), Some(0));
    let path = format!("/api/v1/officer/feedback/{feedback_id}/answer");
    assert_api_error(
        officer_send(
            &commune,
            &path,
            json!({ "answer": "Không phải của chúng tôi" }),
        )
        .await,
        404,
        "not_found",
    )
    .await;

    // Not answered yet: nothing to judge.
    let judge = format!("/api/v1/me/feedback/{feedback_id}/settled");
    assert_api_error(
        send(
            &app,
            reqwest::Method::POST,
            &judge,
            json!({ "settled": true }),
        )
        .await,
        409,
        "not_answered",
    )
    .await;
    let answered = json_of(
        officer_send(
            &traffic,
            &path,
            json!({ "answer": "Xin lỗi anh; chúng tôi đã nhắc nhở cán bộ." }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(answered["status"], "answered");
    assert_api_error(
        officer_send(&traffic, &path, json!({ "answer": "Lần nữa" })).await,
        409,
        "already_answered",
    )
    .await;

    // The sender is told.
    outbox.deliver_due(now_ms()).await.expect("delivered");
    let (template,): (String,) = sqlx::query_as(
        "select template from notices where template = 'feedback_answered' and link = '/feedback'",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("a notice");
    assert_eq!(template, "feedback_answered");

    let mine = app.get_json("/api/v1/me/feedback", 200).await;
    assert_eq!(
        mine["feedback"][0]["answer"],
        "Xin lỗi anh; chúng tôi đã nhắc nhở cán bộ."
    );
    let judged = json_of(
        send(
            &app,
            reqwest::Method::POST,
            &judge,
            json!({ "settled": false }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(judged["settled"], false);
    assert_api_error(
        send(
            &app,
            reqwest::Method::POST,
            &judge,
            json!({ "settled": true }),
        )
        .await,
        409,
        "already_judged",
    )
    .await;

    // The complaint spoils 6.1; the answer counts for 6.2 (on time) but not 6.3 (not settled).
    let day = motcua_shared::calendar::Day::of_instant(now_ms()).iso();
    let card = app
        .get_json(&format!("/api/v1/stats/scorecard?from={day}&to={day}"), 200)
        .await;
    let satisfaction = &card["groups"][5]["indicators"];
    assert_eq!(satisfaction[0]["numerator"], 0);
    assert_eq!(
        (
            satisfaction[1]["numerator"].as_i64(),
            satisfaction[1]["denominator"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(
        (
            satisfaction[2]["numerator"].as_i64(),
            satisfaction[2]["denominator"].as_i64()
        ),
        (Some(0), Some(1))
    );
}

#[tokio::test]
async fn bad_feedback_is_a_clear_4xx_and_ten_a_day_is_the_limit() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let post = |body: Value| send(&app, reqwest::Method::POST, "/api/v1/feedback", body);
    for bad in [
        json!({ "about": "procedure", "procedure_code": "1.002804", "subject": "", "body": "x" }),
        json!({ "about": "procedure", "procedure_code": "1.002804", "subject": "Phí", "body": "x" }),
        json!({ "about": "dossier", "subject": "Chờ lâu", "body": "x" }),
        json!({ "about": "dossier", "dossier_id": "d", "subject": "Chờ", "body": "x".repeat(4001) }),
    ] {
        assert_api_error(post(bad).await, 422, "invalid_feedback").await;
    }
    assert_api_error(
        post(
            json!({ "about": "dossier", "dossier_id": "not-mine", "subject": "Chờ", "body": "x" }),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // The renewal is decided by a province's desk: a commune is the wrong level.
    assert_api_error(
        post(json!({ "about": "procedure", "procedure_code": "1.002804", "unit_code": "00070", "subject": "Phí", "body": "Phí cao" })).await,
        422,
        "unknown_unit",
    )
    .await;
    assert_api_error(
        post(json!({ "about": "elsewhere", "subject": "a", "body": "b" })).await,
        422,
        "invalid_body",
    )
    .await;
    for n in 0..10 {
        let body = json!({ "about": "procedure", "procedure_code": "1.002804", "unit_code": "01", "subject": format!("Góp ý {n}"), "body": "Nên giảm phí." });
        assert_eq!(post(body).await.status(), 201, "feedback {n}");
    }
    assert_api_error(
        post(json!({ "about": "procedure", "procedure_code": "1.002804", "unit_code": "01", "subject": "Một nữa", "body": "x" })).await,
        429,
        "feedback_rate",
    )
    .await;
}

#[tokio::test]
async fn an_officers_dashboard_shows_their_agency_only_with_late_dossiers_and_sync_failures() {
    let app = spawn_app().await;
    let outbox = dispatcher(&app.state);
    outbox.register().await.expect("registered");
    let national = app.national.clone().expect("sandbox");
    national.fail_portal(1000);
    let id = filed_renewal(&app).await;
    let traffic = officer(&app, TRAFFIC_OFFICER).await;
    assert_eq!(act(&traffic, &id, "receive", None).await.status(), 200);
    outbox.deliver_due(now_ms()).await.expect("a pass");
    // Twenty minutes pass for the portal's deliveries; the deadline passes too.
    sqlx::query("update outbox_deliveries set created_at = created_at - 1200000 where consumer = 'national_portal'")
        .execute(app.store.pool())
        .await
        .expect("aged");
    sqlx::query("update dossiers set deadline_at = $1 where id = $2")
        .bind(now_ms() - 1000)
        .bind(&id)
        .execute(app.store.pool())
        .await
        .expect("late");

    let dashboard: Value = json_of(traffic.get("/api/v1/officer/dashboard").await, 200).await;
    assert_eq!(dashboard["agency_code"], "CA-PCSGT");
    assert_eq!(dashboard["scorecard"]["dossiers"], 1);
    assert_eq!(dashboard["late"].as_array().map(Vec::len), Some(1));
    assert_eq!(dashboard["late"][0]["id"], id);
    let failures = dashboard["sync_failures"].as_array().expect("a list");
    assert!(!failures.is_empty());
    assert!(
        failures.iter().all(|f| f["system"] == "national_portal"),
        "{failures:?}"
    );
    assert!(
        failures[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("503")),
        "{failures:?}"
    );

    // Another agency's detail is not theirs; the commune officer (also an admin) may name it.
    assert_api_error(
        traffic
            .get("/api/v1/officer/dashboard?agency=UBND-XA")
            .await,
        403,
        "not_an_officer_here",
    )
    .await;
    assert_api_error(
        traffic.get("/api/v1/officer/dashboard?unit=48").await,
        403,
        "not_an_officer_here",
    )
    .await;
    let commune = officer(&app, COMMUNE_OFFICER).await;
    let own: Value = json_of(commune.get("/api/v1/officer/dashboard").await, 200).await;
    assert_eq!(own["agency_code"], "UBND-XA");
    assert_eq!(own["scorecard"]["dossiers"], 0);
    assert!(own["late"].as_array().is_some_and(Vec::is_empty));
    let named: Value = json_of(
        commune
            .get("/api/v1/officer/dashboard?agency=CA-PCSGT")
            .await,
        200,
    )
    .await;
    assert_eq!(named["scorecard"]["dossiers"], 1);
    // A citizen has no dashboard.
    assert_api_error(
        app.get("/api/v1/officer/dashboard").await,
        403,
        "forbidden_role",
    )
    .await;
    assert_api_error(
        traffic
            .get("/api/v1/officer/dashboard?from=2026-02-30")
            .await,
        422,
        "invalid_period",
    )
    .await;
}
