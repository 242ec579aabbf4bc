//! Once-only: the driving-licence renewal form pre-filled from the registers, locked where the
//! state vouches for the value, and every read in the person's data-access log.

use motcua_tests::{
    LEVEL1_CCCD, LEVEL2_CCCD, TestApp, assert_api_error, spawn_app, spawn_app_with,
};

const RENEWAL: &str = "1.002804";

#[tokio::test]
async fn the_renewal_form_is_served_with_the_procedure_but_not_in_the_listing() {
    let app = spawn_app().await;
    let detail = app
        .get_json(&format!("/api/v1/procedures/{RENEWAL}"), 200)
        .await;
    let fields = detail["form"]["fields"].as_array().expect("a form");
    assert!(
        fields
            .iter()
            .any(|f| f["name"] == "delivery" && f["type"] == "choice")
    );
    let list = app.get_json("/api/v1/procedures", 200).await;
    assert!(
        list["procedures"]
            .as_array()
            .expect("a list")
            .iter()
            .all(|p| p.get("form").is_none())
    );
}

#[tokio::test]
async fn everything_but_the_delivery_choice_is_pre_filled_and_the_reads_are_logged() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let prefill = app
        .get_json(&format!("/api/v1/procedures/{RENEWAL}/prefill"), 200)
        .await;
    let values = &prefill["values"];
    let expect = [
        ("full_name", "Nguyễn Văn An", true),
        ("birth_date", "1988-03-14", true),
        ("cccd", LEVEL2_CCCD, true),
        ("licence_number", "010123456789", true),
        ("licence_classes", "B", true),
        ("health_certificate", "GKSK-2026-010-88123", true),
        ("phone", "0912345678", false),
    ];
    for (field, value, locked) in expect {
        assert_eq!(values[field]["value"], value, "{field}");
        assert_eq!(values[field]["locked"], locked, "{field}");
    }
    // The residence comes structured by administrative unit: it decides which office handles
    // the dossier.
    assert_eq!(
        values["residence"]["value"],
        serde_json::json!({ "province": "01", "district": "002", "commune": "00070", "street": "Số 12 phố Hàng Bông" })
    );
    assert_eq!(values["residence"]["locked"], true);
    assert!(values.get("delivery").is_none(), "the person chooses this");
    assert_eq!(prefill["unavailable"], serde_json::json!([]));

    let log = app.get_json("/api/v1/me/data-access", 200).await;
    let reads: Vec<&str> = log["entries"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|e| {
            e["purpose"]
                .as_str()
                .is_some_and(|p| p.starts_with("Điền sẵn tờ khai"))
        })
        .filter_map(|e| e["source"].as_str())
        .collect();
    assert_eq!(reads.len(), 3, "{reads:?}");
}

/// A level-2 demo person with no driving licence and no health certificate.
const NO_LICENCE_CCCD: &str = "048190002468";

#[tokio::test]
async fn a_person_without_a_licence_or_health_certificate_gets_those_fields_empty() {
    let app = spawn_app().await;
    app.sign_in(NO_LICENCE_CCCD).await;
    let prefill = app
        .get_json(&format!("/api/v1/procedures/{RENEWAL}/prefill"), 200)
        .await;
    assert!(prefill["values"].get("health_certificate").is_none());
    assert!(prefill["values"].get("licence_number").is_none());
    assert_eq!(prefill["values"]["full_name"]["value"], "Phạm Thu Hà");
}

#[tokio::test]
async fn a_level_1_person_is_asked_for_level_2_before_any_register_is_read() {
    let app = spawn_app().await;
    app.sign_in(LEVEL1_CCCD).await;
    assert_api_error(
        app.get(&format!("/api/v1/procedures/{RENEWAL}/prefill"))
            .await,
        403,
        "level2_required",
    )
    .await;
    let log = app.get_json("/api/v1/me/data-access", 200).await;
    let sources: Vec<&str> = log["entries"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|e| e["source"].as_str())
        .collect();
    assert_eq!(sources, vec!["VNeID"], "only the sign-in itself was read");
}

#[tokio::test]
async fn a_register_that_does_not_answer_is_named_and_the_rest_still_fills() {
    let app = spawn_app_with(|c| c.health_registry_url = "http://127.0.0.1:9".into()).await;
    app.sign_in(LEVEL2_CCCD).await;
    let prefill = app
        .get_json(&format!("/api/v1/procedures/{RENEWAL}/prefill"), 200)
        .await;
    assert_eq!(prefill["unavailable"], serde_json::json!(["health"]));
    assert_eq!(prefill["values"]["licence_number"]["value"], "010123456789");
}

#[tokio::test]
async fn pre_fill_is_personal_and_needs_a_known_procedure() {
    let app = spawn_app().await;
    assert_api_error(
        app.get(&format!("/api/v1/procedures/{RENEWAL}/prefill"))
            .await,
        401,
        "unauthenticated",
    )
    .await;
    app.sign_in(LEVEL2_CCCD).await;
    assert_api_error(
        app.get("/api/v1/procedures/9.999999/prefill").await,
        404,
        "not_found",
    )
    .await;
    let _ = TestApp::second_browser(&app);
}

#[tokio::test]
async fn a_birth_registration_is_filled_from_the_electronic_birth_notice_and_the_warehouse() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let prefill = app
        .get_json("/api/v1/procedures/1.001193/prefill", 200)
        .await;
    let values = &prefill["values"];
    for (field, value) in [
        ("child_birth_date", "2026-11-20"),
        ("child_sex", "female"),
        ("birth_notice_code", "GCS-2026-01-770412"),
        ("married", "married"),
        ("spouse_name", "Trần Thị Mai"),
    ] {
        assert_eq!(values[field]["value"], value, "{field}");
        assert_eq!(values[field]["locked"], true, "{field}");
    }
    // The marriage certificate the commune issued years ago is offered from the warehouse.
    assert_eq!(
        values["marriage_certificate"]["source"],
        "warehouse.marriage-certificate"
    );
    assert!(
        values.get("child_name").is_none(),
        "the parents choose the name"
    );
    let log = app.get_json("/api/v1/me/data-access", 200).await;
    assert!(
        log["entries"]
            .as_array()
            .expect("a list")
            .iter()
            .any(|e| e["source"] == "CSDL giấy chứng sinh điện tử")
    );
}
