//! The link to the national systems and the service-quality index, on the API: a dossier filed,
//! received, processed, approved and issued reaches the sandbox national portal once per change
//! and in order, and EMC once per action; reconciliation finds no difference; an outage is
//! retried and the portal catches up in order; the public scorecard counts it.

use std::sync::Arc;

use motcua_server::{
    monitoring::{national::PortalProgress, sync::reconcile},
    outbox::Dispatcher,
    sandbox::national::SandboxNational,
    startup::dispatcher,
    store::now_ms,
};
use motcua_shared::calendar::Day;
use motcua_tests::{TestApp, assert_api_error, spawn_app};
use serde_json::Value;

use crate::back_office::{TRAFFIC_OFFICER, act, filed_renewal, officer};

const HOUR_MS: i64 = 3_600_000;

async fn delivering(app: &TestApp) -> Dispatcher {
    let dispatcher = dispatcher(&app.state);
    dispatcher.register().await.expect("registered");
    dispatcher
}

fn national(app: &TestApp) -> Arc<SandboxNational> {
    app.national.clone().expect("the sandbox is on")
}

async fn receipt_of(app: &TestApp, id: &str) -> String {
    app.get_json(&format!("/api/v1/dossiers/{id}"), 200).await["receipt_number"]
        .as_str()
        .expect("a receipt number")
        .to_owned()
}

/// Today in Vietnam, as the period of a reconciliation: `[start, end)`.
fn today() -> (i64, i64) {
    let day = Day::of_instant(now_ms());
    (day.start_ms(), Day(day.0 + 1).start_ms())
}

async fn assert_reconciled(app: &TestApp) {
    let (from, to) = today();
    let reports = reconcile(&app.store, &app.state.national, from, to)
        .await
        .expect("reconciled");
    assert_eq!(reports.len(), 2, "the portal and EMC");
    for r in &reports {
        assert!(
            r.differences.is_empty(),
            "{}: {:?}",
            r.system.as_str(),
            r.differences
        );
        assert_eq!(r.expected, 1);
        assert_eq!(r.held, 1);
        assert_eq!(r.changes_expected, r.changes_held);
    }
}

fn statuses(progress: &[PortalProgress]) -> Vec<u8> {
    progress.iter().map(|p| p.TrangThai).collect()
}

#[tokio::test]
async fn each_change_reaches_the_portal_once_and_in_order_and_emc_each_action() {
    let app = spawn_app().await;
    let outbox = delivering(&app).await;
    let id = filed_renewal(&app).await;
    let receipt = receipt_of(&app, &id).await;
    let officer = officer(&app, TRAFFIC_OFFICER).await;
    for action in ["receive", "start_processing", "approve", "issue_result"] {
        assert_eq!(
            act(&officer, &id, action, None).await.status(),
            200,
            "{action}"
        );
        outbox.deliver_due(now_ms()).await.expect("delivered");
    }
    outbox.deliver_due(now_ms()).await.expect("delivered again");
    let sandbox = national(&app);

    // Filed, its fee paid, received, in processing, approved, result returned: once each.
    let progress = sandbox.progress_of(&receipt);
    assert_eq!(statuses(&progress), [1, 1, 2, 4, 9, 10], "{progress:#?}");
    let order: Vec<i64> = progress.iter().map(|p| p.ThuTu).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert_eq!(progress[0].NoiDungXuLy, "Nộp hồ sơ trực tuyến");
    assert_eq!(progress[0].ChucDanh, "Người nộp hồ sơ");
    assert_eq!(progress[2].ChucDanh, "Cán bộ bộ phận một cửa");
    assert!(!progress[2].NguoiXuLy.is_empty());

    let dossier = sandbox.dossier(&receipt).expect("the portal holds it");
    assert_eq!(dossier.TrangThaiHoSo, 10);
    assert_eq!(dossier.MaTTHC, "1.002804");
    assert_eq!(dossier.LoaiDoiTuong, 1);
    assert!(dossier.DaThanhToanTrucTuyen);
    assert!(dossier.XacThucVNeID);
    assert!(dossier.NgayTiepNhan.is_some() && dossier.NgayTra.is_some());
    assert!(
        dossier
            .DanhSachGiayToKetQua
            .iter()
            .any(|r| r.CoGiaTriPhapLy),
        "a signed result: {:?}",
        dossier.DanhSachGiayToKetQua
    );
    assert_eq!(dossier.DanhSachLePhi.len(), 1);
    assert!(dossier.DanhSachLePhi[0].DaThu);

    let actions = sandbox.emc_actions_of(&receipt);
    let emc: Vec<u8> = actions.iter().map(|a| a.status).collect();
    assert_eq!(emc, [1, 2, 2, 2, 2, 3], "{actions:#?}");
    assert!(
        actions
            .iter()
            .all(|a| a.level == 4 && a.forms_reception == 1)
    );
    assert_eq!(actions.last().map(|a| a.forms_payments), Some(1));

    // Every acknowledgement is recorded with its delay.
    let acks: Vec<(String, i64, i64)> = sqlx::query_as(
        "select system, changed_at, acked_at from national_sync where dossier_id = $1",
    )
    .bind(&id)
    .fetch_all(app.store.pool())
    .await
    .expect("read");
    assert_eq!(acks.len(), 12, "{acks:?}");
    assert!(acks.iter().all(|(_, changed, acked)| acked >= changed));
    assert_reconciled(&app).await;
}

#[tokio::test]
async fn an_outage_is_retried_and_the_portal_catches_up_in_order() {
    let app = spawn_app().await;
    let outbox = delivering(&app).await;
    let sandbox = national(&app);
    sandbox.fail_portal(3);
    let id = filed_renewal(&app).await;
    let receipt = receipt_of(&app, &id).await;
    let officer = officer(&app, TRAFFIC_OFFICER).await;
    assert_eq!(act(&officer, &id, "receive", None).await.status(), 200);
    outbox.deliver_due(now_ms()).await.expect("a pass");
    assert!(
        sandbox.progress_of(&receipt).is_empty(),
        "the portal is down"
    );
    // EMC was not down: it has everything already.
    assert_eq!(sandbox.emc_actions_of(&receipt).len(), 3);

    let (from, to) = today();
    let reports = reconcile(&app.store, &app.state.national, from, to)
        .await
        .expect("reconciled");
    let portal = &reports[0];
    assert_eq!(portal.system.as_str(), "portal");
    assert_eq!(portal.differences.len(), 1);
    assert_eq!(portal.differences[0].kind, "missing");
    assert_eq!(portal.differences[0].number, receipt);

    // Later passes (the retry's backoff passed) take the filing, then the rest in order.
    for hours in 1..=6 {
        outbox
            .deliver_due(now_ms() + hours * HOUR_MS)
            .await
            .expect("a pass");
    }
    let progress = sandbox.progress_of(&receipt);
    assert_eq!(statuses(&progress), [1, 1, 2], "{progress:#?}");
    let (attempts,): (i64,) = sqlx::query_as(
        "select max(attempts) from national_sync where dossier_id = $1 and system = 'portal'",
    )
    .bind(&id)
    .fetch_one(app.store.pool())
    .await
    .expect("read");
    assert!(attempts >= 3, "the filing took {attempts} attempts");
    assert_reconciled(&app).await;
}

fn indicator<'a>(card: &'a Value, code: &str) -> &'a Value {
    card["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["indicators"].as_array().expect("indicators"))
        .find(|i| i["code"] == code)
        .unwrap_or_else(|| panic!("{code} is listed"))
}

#[tokio::test]
async fn the_public_scorecard_counts_a_dossier_issued_on_time_and_synced() {
    let app = spawn_app().await;
    let outbox = delivering(&app).await;
    let id = filed_renewal(&app).await;
    let officer = officer(&app, TRAFFIC_OFFICER).await;
    for action in ["receive", "start_processing", "approve", "issue_result"] {
        assert_eq!(act(&officer, &id, action, None).await.status(), 200);
    }
    outbox.deliver_due(now_ms()).await.expect("delivered");
    outbox.deliver_due(now_ms()).await.expect("delivered again");

    let day = Day::of_instant(now_ms()).iso();
    let anonymous = TestApp::second_browser(&app);
    let response = anonymous
        .client
        .get(anonymous.url(&format!("/api/v1/stats/scorecard?from={day}&to={day}")))
        .header("accept-language", "en")
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    let card: Value = response.json().await.expect("json");
    assert_eq!(card["dossiers"], 1);
    let groups = card["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 6);
    let max: f64 = groups
        .iter()
        .map(|g| g["max_points"].as_f64().expect("max"))
        .sum();
    assert!((max - 100.0).abs() < 1e-9);
    for (code, numerator, denominator) in [
        ("1.4", 1, 1),
        ("2.1", 1, 1),
        ("4.1", 1, 1),
        ("5.1", 1, 1),
        ("6.1", 1, 1),
    ] {
        let i = indicator(&card, code);
        assert_eq!(
            (i["numerator"].as_i64(), i["denominator"].as_i64()),
            (Some(numerator), Some(denominator)),
            "{i}"
        );
        assert_eq!(i["points"], i["max_points"], "{i}");
    }
    assert_eq!(
        indicator(&card, "1.4")["name"],
        "Dossiers synced to the National Public Service Portal in real time"
    );
    let processing = card["processing"].as_array().expect("processing");
    assert_eq!(processing.len(), 1);
    assert_eq!(processing[0]["procedure_code"], "1.002804");
    assert_eq!(processing[0]["finished"], 1);
    assert_eq!(processing[0]["median_working_days"], 0.0);
    assert!(card["prefilled_fields"].as_i64().expect("a count") > 0);

    // Another agency's scope has none of it.
    let other = app
        .get_json(
            &format!("/api/v1/stats/scorecard?from={day}&to={day}&agency=UBND-XA"),
            200,
        )
        .await;
    assert_eq!(other["dossiers"], 0);
    assert_eq!(indicator(&other, "2.1")["denominator"], 0);

    let year = &day[..4];
    let trend = app
        .get_json(
            &format!("/api/v1/stats/trend?from={year}-01&to={year}-12"),
            200,
        )
        .await;
    let months = trend["months"].as_array().expect("months");
    assert_eq!(months.len(), 12);
    let this_month = months
        .iter()
        .find(|m| m["month"] == day[..7])
        .expect("this month");
    assert_eq!(this_month["dossiers"], 1);
    assert_eq!(this_month["on_time"], 1.0);
}

#[tokio::test]
async fn a_bad_period_or_scope_is_a_clear_422_and_a_missing_one_400() {
    let app = spawn_app().await;
    for query in [
        "from=2026-13-01&to=2026-12-31",
        "from=2026-12-31&to=2026-01-01",
        "from=2020-01-01&to=2026-01-01",
        "from=yesterday&to=today",
    ] {
        assert_api_error(
            app.get(&format!("/api/v1/stats/scorecard?{query}")).await,
            422,
            "invalid_period",
        )
        .await;
    }
    assert_api_error(
        app.get("/api/v1/stats/scorecard?from=2026-01-01&to=2026-01-31&unit=99999")
            .await,
        422,
        "unknown_unit",
    )
    .await;
    assert_api_error(
        app.get("/api/v1/stats/trend?from=2026-01&to=2025-12").await,
        422,
        "invalid_period",
    )
    .await;
    assert_api_error(
        app.get("/api/v1/stats/scorecard?from=2026-01-01").await,
        400,
        "invalid_query",
    )
    .await;
}

#[tokio::test]
async fn the_demo_history_gives_the_statistics_months_of_meaning() {
    let plain = spawn_app().await;
    assert!(
        !motcua_server::sandbox::history::seeded(&plain.store)
            .await
            .expect("read")
    );
    let app = motcua_tests::spawn_app_with(|c| c.sandbox_seed_history = true).await;
    assert!(
        motcua_server::sandbox::history::seeded(&app.store)
            .await
            .expect("read")
    );
    let today = Day::of_instant(now_ms());
    let (from, to) = (Day(today.0 - 179).iso(), today.iso());
    let card = app
        .get_json(&format!("/api/v1/stats/scorecard?from={from}&to={to}"), 200)
        .await;
    let dossiers = card["dossiers"].as_i64().expect("a count");
    assert!(dossiers > 900, "{dossiers}");
    let on_time = indicator(&card, "2.1")["ratio"].as_f64().expect("a ratio");
    assert!((0.8..1.0).contains(&on_time), "{on_time}");
    let synced = indicator(&card, "1.4")["ratio"].as_f64().expect("a ratio");
    assert!(
        (0.9..1.0).contains(&synced),
        "a few acknowledged late: {synced}"
    );
    assert!(indicator(&card, "6.1")["denominator"].as_i64() > Some(500));
    assert!(indicator(&card, "6.2")["denominator"].as_i64() > Some(5));
    // Several provinces have their own figures.
    let mut provinces = 0;
    for province in ["01", "31", "48", "79"] {
        let local = app
            .get_json(
                &format!("/api/v1/stats/scorecard?from={from}&to={to}&province={province}"),
                200,
            )
            .await;
        if local["dossiers"].as_i64() > Some(0) {
            provinces += 1;
        }
    }
    assert!(provinces >= 2, "{provinces}");

    // The rollup and the dossiers it cannot place count as the rule for one dossier does:
    // over whole months (the rollup alone) and over periods whose edges cut through months
    // and through open and finished dossiers; with the triggers' changes pending, then folded.
    use motcua_server::monitoring::{rollup::month_of, scorecard, storage::ScopeFilter};
    let this_month = month_of(today);
    let month_start = |back: i64| {
        let m = this_month - back;
        Day::from_ymd(
            m.div_euclid(12),
            u32::try_from(m.rem_euclid(12)).expect("a month") + 1,
            1,
        )
        .expect("a day")
    };
    let periods = [
        (Day(today.0 - 120), Day(today.0 - 20)),
        (month_start(4), month_start(1)),
        (month_start(2), Day(today.0 + 1)),
        (Day(month_start(3).0 + 9), month_start(0)),
    ];
    let province = ScopeFilter {
        province: "79".into(),
        ..ScopeFilter::default()
    };
    for folded in [false, true] {
        if folded {
            let changes = app.store.fold_dossier_classes().await.expect("folds");
            let pending: i64 = sqlx::query_scalar("select count(*) from dossier_class_changes")
                .fetch_one(app.store.pool())
                .await
                .expect("counts");
            assert_eq!(pending, 0, "{changes} folded");
            // The rollup holds exactly the dossiers' classes.
            let keys = "agency_code, procedure_code, unit_code, status, submit_month, finish_month, \
                late_month, traits, working_days";
            let actual =
                format!("select {keys}, n, form_fields, prefilled_fields from dossier_classes");
            let expected = format!(
                "select {keys}, count(*) as n, cast(sum(form_fields) as bigint) as f, \
                   cast(sum(prefilled_fields) as bigint) as p from dossiers group by {keys}"
            );
            for (a, b) in [(&actual, &expected), (&expected, &actual)] {
                let differing: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "select count(*) from ({a} except {b}) x"
                )))
                .fetch_one(app.store.pool())
                .await
                .expect("compares");
                assert_eq!(differing, 0, "{a} except {b}");
            }
        }
        for (first, end) in periods {
            for scope in [ScopeFilter::default(), province.clone()] {
                let (from, to) = (first.start_ms(), end.start_ms());
                let now = now_ms();
                let grouped = app
                    .store
                    .scorecard_facts(&scope, (first, end), now, motcua_shared::Lang::En)
                    .await
                    .expect("grouped facts");
                let single: Vec<_> = app
                    .store
                    .dossier_facts(from, to)
                    .await
                    .expect("single facts")
                    .into_iter()
                    .filter(|d| {
                        scope.province.is_empty()
                            || motcua_shared::units::is_within(&d.unit, &scope.province)
                    })
                    .collect();
                let single = scorecard::Facts::of_dossiers(
                    motcua_shared::calendar::Calendar::vietnam_shared().expect("the calendar"),
                    grouped.procedures.clone(),
                    &single,
                    grouped.feedback.clone(),
                    grouped.communes.clone(),
                    (
                        from,
                        to,
                        now - motcua_server::monitoring::decide::REAL_TIME_MS,
                    ),
                );
                let case = format!(
                    "{} to {}, {scope:?}, folded {folded}",
                    first.iso(),
                    end.iso()
                );
                assert!(scorecard::active_count(&grouped) > 0, "{case}");
                assert_eq!(
                    scorecard::active_count(&grouped),
                    scorecard::active_count(&single),
                    "{case}"
                );
                assert_eq!(
                    scorecard::score(&grouped, from, to, motcua_shared::Lang::En),
                    scorecard::score(&single, from, to, motcua_shared::Lang::En),
                    "{case}"
                );
                assert_eq!(
                    scorecard::processing_times(&grouped),
                    scorecard::processing_times(&single),
                    "{case}"
                );
            }
        }
    }
    // The audit chain still verifies, with the seeding recorded.
    app.store
        .verify_audit_chain()
        .await
        .expect("the chain holds");
}
