//! The public catalogue: database → API → shared types.

use motcua_shared::procedure::{Level, OnlineLevel, ProcedureList};
use motcua_tests::{assert_api_error, spawn_app};

async fn list(app: &motcua_tests::TestApp, query: &str) -> ProcedureList {
    let response = app.get(&format!("/api/v1/procedures{query}")).await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.expect("a procedure list")
}

#[tokio::test]
async fn the_catalogue_is_public_and_has_every_contract_field() {
    let app = spawn_app().await;
    let body = app.get_json("/api/v1/procedures", 200).await;
    let procedures = body["procedures"].as_array().expect("a list");
    assert!(procedures.len() >= 8, "{} procedures", procedures.len());
    for p in procedures {
        for field in [
            "code",
            "agency",
            "level",
            "online_level",
            "fee_vnd",
            "online_fee_vnd",
            "time_limit_working_days",
        ] {
            assert!(!p[field].is_null(), "{field} missing in {p}");
        }
        assert!(
            p["name"]["vi"].is_string() && p["name"]["en"].is_string(),
            "{p}"
        );
        assert!(
            p["fee_vnd"].is_i64() && p["online_fee_vnd"].is_i64(),
            "money is whole đồng: {p}"
        );
        assert!(
            ["province", "district", "commune"].contains(&p["level"].as_str().unwrap_or_default())
        );
        assert!(["full", "partial"].contains(&p["online_level"].as_str().unwrap_or_default()));
    }
    let licence = procedures
        .iter()
        .find(|p| p["code"] == "1.002804")
        .expect("driving-licence renewal is seeded");
    assert_eq!(licence["name"]["vi"], "Cấp đổi giấy phép lái xe");
    assert_eq!(licence["fee_vnd"], 135000);
    assert_eq!(licence["online_fee_vnd"], 115000);
}

#[tokio::test]
async fn the_catalogue_keeps_its_published_order() {
    let app = spawn_app().await;
    let codes: Vec<String> = list(&app, "")
        .await
        .procedures
        .into_iter()
        .map(|p| p.code)
        .collect();
    assert_eq!(codes.first().map(String::as_str), Some("1.002804"));
    assert_eq!(codes.get(1).map(String::as_str), Some("1.001193"));
}

#[tokio::test]
async fn filters_narrow_by_level_and_online_level() {
    let app = spawn_app().await;
    let commune = list(&app, "?level=commune").await.procedures;
    assert!(!commune.is_empty());
    assert!(commune.iter().all(|p| p.level == Level::Commune));
    let partial = list(&app, "?online_level=partial").await.procedures;
    assert_eq!(
        partial.iter().map(|p| p.code.as_str()).collect::<Vec<_>>(),
        // The construction permit (the site inspection) and the certified copy (the original
        // is shown at the desk).
        ["1.009994", "2.000815"]
    );
    assert!(
        partial
            .iter()
            .all(|p| p.online_level == OnlineLevel::Partial)
    );
    let none = list(&app, "?level=province&online_level=partial")
        .await
        .procedures;
    assert!(none.is_empty());
}

#[tokio::test]
async fn search_matches_with_or_without_diacritics_and_in_english() {
    let app = spawn_app().await;
    for query in [
        "?q=khai%20sinh",
        "?q=KHAI%20SINH",
        "?q=%C4%91%C4%83ng%20k%C3%BD%20khai%20sinh",
        "?q=birth",
    ] {
        let found = list(&app, query).await.procedures;
        assert!(
            found.iter().any(|p| p.code == "1.001193"),
            "{query} did not find birth registration"
        );
        assert!(
            found.iter().all(|p| p.code != "1.002804"),
            "{query} found driving licences"
        );
    }
}

#[tokio::test]
async fn like_wildcards_in_search_text_match_only_themselves() {
    let app = spawn_app().await;
    assert!(list(&app, "?q=%25").await.procedures.is_empty());
    assert!(list(&app, "?q=_").await.procedures.is_empty());
}

#[tokio::test]
async fn one_procedure_is_read_by_its_code() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/procedures/1.009994").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .expect("ascii")
            .contains("max-age")
    );
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["online_level"], "partial");
    assert!(
        body["required_documents"]
            .as_array()
            .is_some_and(|d| !d.is_empty())
    );
    assert_api_error(
        app.get("/api/v1/procedures/9.999999").await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn the_catalogue_is_served_prepared_compressed_and_tagged_and_follows_a_change() {
    use std::io::Read as _;
    let app = spawn_app().await;
    let plain = app.get("/api/v1/procedures").await;
    assert_eq!(plain.status(), 200);
    let etag = plain.headers()["etag"].to_str().expect("text").to_owned();
    assert_eq!(plain.headers()["content-type"], "application/json");
    assert!(plain.headers().get("content-encoding").is_none());
    let json: serde_json::Value = plain.json().await.expect("json");

    // The same bytes as the database holds, in each encoding the browser takes.
    let from_db = ProcedureList {
        procedures: app
            .store
            .list_procedures(&Default::default())
            .await
            .expect("listed"),
    };
    assert_eq!(json, serde_json::to_value(&from_db).expect("json"));
    let ask = |encoding: &'static str| {
        app.client
            .get(app.url("/api/v1/procedures"))
            .header("accept-encoding", encoding)
            .send()
    };
    let br = ask("gzip, deflate, br").await.expect("answered");
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(br.headers()["vary"], "accept-encoding");
    let mut text = String::new();
    brotli::Decompressor::new(&br.bytes().await.expect("body")[..], 4096)
        .read_to_string(&mut text)
        .expect("brotli");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).expect("json"),
        json
    );
    let gz = ask("gzip").await.expect("answered");
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz.bytes().await.expect("body")[..])
        .read_to_string(&mut text)
        .expect("gzip");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).expect("json"),
        json
    );

    // What the browser has is not sent again.
    let again = app
        .client
        .get(app.url("/api/v1/procedures"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("answered");
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag.as_str());
    let one = app.get("/api/v1/procedures/1.002804").await;
    let one_tag = one.headers()["etag"].to_str().expect("text").to_owned();
    assert_eq!(
        one.json::<serde_json::Value>().await.expect("json"),
        serde_json::to_value(
            app.store
                .procedure("1.002804")
                .await
                .expect("read")
                .expect("seeded")
        )
        .expect("json")
    );

    // A change of the catalogue is followed: a new tag and the new text.
    let mut renewal = app
        .store
        .procedure("1.002804")
        .await
        .expect("read")
        .expect("seeded");
    renewal.procedure.name.en = "Driving licence renewal (new rules)".into();
    app.store
        .upsert_procedure(&renewal, 1)
        .await
        .expect("saved");
    assert!(
        app.state
            .catalogue
            .refresh(&app.store)
            .await
            .expect("refreshed")
    );
    let changed = app
        .client
        .get(app.url("/api/v1/procedures/1.002804"))
        .header("if-none-match", &one_tag)
        .send()
        .await
        .expect("answered");
    assert_eq!(changed.status(), 200);
    let body: serde_json::Value = changed.json().await.expect("json");
    assert_eq!(body["name"]["en"], "Driving licence renewal (new rules)");
    assert!(
        !app.state
            .catalogue
            .refresh(&app.store)
            .await
            .expect("refreshed"),
        "nothing changed since"
    );
    assert_api_error(
        app.get("/api/v1/procedures/9.999999").await,
        404,
        "not_found",
    )
    .await;
}
