//! Late dossiers and notices: a result past its deadline is flagged once, with a new date, an
//! apology to the applicant and an escalation to the desk's lead; a late receipt is escalated;
//! status changes become notices; the outbox is delivered once, under leases; the worker runs.

use motcua_server::{audit::ChainReport, dossiers::deadlines, outbox, store::now_ms};
use motcua_shared::calendar::Calendar;
use motcua_tests::{TestApp, assert_api_error, spawn_app, spawn_app_with};
use serde_json::Value;

use crate::back_office::{TRAFFIC_OFFICER, act, filed_renewal, officer};

fn calendar() -> Calendar {
    Calendar::vietnam().expect("reads")
}

async fn notices(browser_get: reqwest::Response) -> Vec<Value> {
    let list: Value = browser_get.json().await.expect("json");
    list["notices"].as_array().cloned().unwrap_or_default()
}

async fn move_back(app: &TestApp, id: &str, column: &str) {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "update dossiers set {column} = 1000 where id = $1"
    )))
    .bind(id)
    .execute(app.store.pool())
    .await
    .expect("moved back");
}

#[tokio::test]
async fn a_late_result_is_flagged_once_with_an_apology_and_an_escalation() {
    let app = spawn_app().await;
    let id = filed_renewal(&app).await;
    let lead = officer(&app, TRAFFIC_OFFICER).await;
    assert_eq!(act(&lead, &id, "receive", None).await.status(), 200);
    move_back(&app, &id, "deadline_at").await;

    let now = now_ms();
    let swept = deadlines::sweep(&app.store, &calendar(), now)
        .await
        .expect("swept");
    assert_eq!(swept.late_results, 1);
    let again = deadlines::sweep(&app.store, &calendar(), now)
        .await
        .expect("swept");
    assert_eq!(again.late_results, 0, "flagged once");

    let dossier = app.get_json(&format!("/api/v1/dossiers/{id}"), 200).await;
    assert_eq!(dossier["overdue_at"].as_i64(), Some(now));
    let new_date = deadlines::rescheduled(&calendar(), now, 5);
    assert_eq!(dossier["rescheduled_to"].as_i64(), Some(new_date));
    let overdue = dossier["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["action"] == "overdue")
        .cloned()
        .expect("an overdue event");
    let written = motcua_shared::time::format_vn_datetime(new_date);
    assert!(
        overdue["reason"]
            .as_str()
            .is_some_and(|r| r.contains(&written))
    );

    // Nothing reaches anyone before the outbox is delivered; then exactly once.
    assert!(
        notices(app.get("/api/v1/me/notices").await)
            .await
            .iter()
            .all(|n| n["kind"] != "apology")
    );
    assert!(
        outbox::deliver_pending(&app.store, now)
            .await
            .expect("delivered")
            >= 1
    );
    assert_eq!(
        outbox::deliver_pending(&app.store, now)
            .await
            .expect("delivered"),
        0
    );
    let mine = notices(app.get("/api/v1/me/notices").await).await;
    let apologies: Vec<&Value> = mine.iter().filter(|n| n["kind"] == "apology").collect();
    assert_eq!(apologies.len(), 1, "{mine:?}");
    assert!(
        apologies[0]["body"]["vi"]
            .as_str()
            .is_some_and(|b| b.contains("xin lỗi") && b.contains(&written))
    );
    let theirs = notices(lead.get("/api/v1/me/notices").await).await;
    assert_eq!(
        theirs.iter().filter(|n| n["kind"] == "escalation").count(),
        1,
        "{theirs:?}"
    );
    assert!(matches!(
        app.store.verify_audit_chain().await.expect("verified"),
        ChainReport::Intact { .. }
    ));
}

#[tokio::test]
async fn a_receipt_not_acknowledged_in_eight_office_hours_is_escalated_to_the_lead() {
    let app = spawn_app().await;
    let id = filed_renewal(&app).await;
    let lead = officer(&app, TRAFFIC_OFFICER).await;
    move_back(&app, &id, "receive_by").await;
    let now = now_ms();
    let swept = deadlines::sweep(&app.store, &calendar(), now)
        .await
        .expect("swept");
    assert_eq!((swept.late_receipts, swept.late_results), (1, 0));
    outbox::deliver_pending(&app.store, now)
        .await
        .expect("delivered");
    let theirs = notices(lead.get("/api/v1/me/notices").await).await;
    assert!(
        theirs.iter().any(|n| n["kind"] == "escalation"
            && n["title"]["vi"]
                .as_str()
                .is_some_and(|t| t.contains("chưa được tiếp nhận"))),
        "{theirs:?}"
    );
    // Received later: the sweep does not escalate it again.
    assert_eq!(act(&lead, &id, "receive", None).await.status(), 200);
    let again = deadlines::sweep(&app.store, &calendar(), now)
        .await
        .expect("swept");
    assert_eq!(again, deadlines::Sweep::default());
}

#[tokio::test]
async fn a_supplement_request_becomes_a_notice_the_applicant_reads_and_marks_read() {
    let app = spawn_app().await;
    let id = filed_renewal(&app).await;
    // What paying the fee told the applicant comes first.
    outbox::deliver_pending(&app.store, now_ms())
        .await
        .expect("delivered");
    let before = app.get_json("/api/v1/me/notices", 200).await["unread"]
        .as_i64()
        .expect("a count");
    let lead = officer(&app, TRAFFIC_OFFICER).await;
    let reason = "Bổ sung ảnh chân dung nền trắng";
    assert_eq!(
        act(&lead, &id, "request_supplement", Some(reason))
            .await
            .status(),
        200
    );
    outbox::deliver_pending(&app.store, now_ms())
        .await
        .expect("delivered");
    let list = app.get_json("/api/v1/me/notices", 200).await;
    assert_eq!(list["unread"], before + 1);
    let notice = &list["notices"][0];
    assert_eq!(notice["kind"], "status");
    assert_eq!(notice["dossier_id"], id.as_str());
    assert!(
        notice["body"]["vi"]
            .as_str()
            .is_some_and(|b| b.contains(reason))
    );
    let notice_id = notice["id"].as_str().expect("an id").to_owned();

    // Someone else's notice is answered as missing.
    assert_api_error(
        lead.client
            .post(lead.url(&format!("/api/v1/me/notices/{notice_id}/read")))
            .header(
                "x-csrf-token",
                lead.get("/api/v1/me")
                    .await
                    .json::<Value>()
                    .await
                    .expect("json")["csrf_token"]
                    .as_str()
                    .expect("token"),
            )
            .send()
            .await
            .expect("answered"),
        404,
        "not_found",
    )
    .await;
    let read = app
        .post_with_csrf(&format!("/api/v1/me/notices/{notice_id}/read"))
        .await;
    assert_eq!(read.status(), 204);
    assert_eq!(
        app.get_json("/api/v1/me/notices", 200).await["unread"],
        before
    );
}

#[tokio::test]
async fn a_claimed_event_is_not_claimed_again_until_its_lease_runs_out() {
    let app = spawn_app().await;
    filed_renewal(&app).await;
    let now = now_ms();
    let claim = |at| app.store.claim_batch("notices", at, outbox::BATCH);
    let first = claim(now).await.expect("claimed");
    // The submission, and its fee's payment: started, the fee paid, the receipt issued, paid.
    assert_eq!(first.len(), 5, "the submission's and its payment's events");
    assert!(claim(now).await.expect("claimed").is_empty(), "leased");
    // The worker that claimed them died: after the lease another claims them.
    let later = claim(now + outbox::LEASE_MS + 1).await.expect("claimed");
    assert_eq!(later.len(), 5);
}

#[tokio::test]
async fn the_worker_delivers_notices_by_itself() {
    let app = spawn_app_with(|c| c.worker_interval_secs = 1).await;
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
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no notice within 10 s");
}
