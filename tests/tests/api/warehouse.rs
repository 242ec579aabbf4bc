//! The data warehouse and drafts: uploads checked by content, limited, stored once and recorded
//! only when complete; documents chosen from the warehouse in a filing; results issued into it;
//! an officer opens a dossier's documents (logged); drafts continue on another device.

use motcua_tests::{LEVEL2_CCCD, TestApp, assert_api_error, spawn_app, spawn_app_with};
use serde_json::{Value, json};

use crate::back_office::{TRAFFIC_OFFICER, act, filed_renewal, officer};

/// A small valid PNG.
pub(crate) const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde\0\0\0\x0cIDATx\x9cc\xf8\xcf\xc0\0\0\x03\x01\x01\0\xc9\xfe\x92\xef\0\0\0\0IEND\xaeB`\x82";

async fn csrf(app: &TestApp) -> String {
    app.me().await["csrf_token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

/// Uploads `bytes` as `document`, declaring `declared` as its type.
pub(crate) async fn upload(
    app: &TestApp,
    document: &str,
    bytes: &'static [u8],
    declared: &str,
) -> reqwest::Response {
    let token = csrf(app).await;
    app.client
        .post(app.url(&format!(
            "/api/v1/me/warehouse?document={document}&title=photo.jpg"
        )))
        .header("x-csrf-token", token)
        .header("content-type", declared)
        .body(bytes)
        .send()
        .await
        .expect("answered")
}

#[tokio::test]
async fn an_upload_is_typed_by_its_content_and_kept_in_the_warehouse() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    // Declared as a JPEG named photo.jpg; it is a PNG, and recorded as one.
    let response = upload(&app, "portrait-photo", PNG, "image/jpeg").await;
    assert_eq!(response.status(), 201);
    let item: Value = response.json().await.expect("json");
    assert_eq!(item["content_type"], "image/png");
    assert_eq!(item["provenance"], "upload");
    assert_eq!(item["size_bytes"], PNG.len());
    let id = item["id"].as_str().expect("an id");

    let content = app.get(&format!("/api/v1/me/warehouse/{id}/content")).await;
    assert_eq!(content.status(), 200);
    assert_eq!(content.headers()["content-type"], "image/png");
    assert_eq!(content.headers()["x-content-type-options"], "nosniff");
    // A download, never a page of this site: an attachment, sandboxed should it be rendered.
    let disposition = content.headers()["content-disposition"]
        .to_str()
        .expect("text");
    assert!(
        disposition.starts_with("attachment; filename=") && disposition.ends_with(".png\""),
        "{disposition}"
    );
    let csp = content.headers()["content-security-policy"]
        .to_str()
        .expect("text");
    assert!(
        csp.starts_with("sandbox;") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(content.bytes().await.expect("bytes").as_ref(), PNG);

    let list = app.get_json("/api/v1/me/warehouse", 200).await;
    assert!(
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|i| i["id"] == id)
    );

    // Someone else cannot read it.
    let other = TestApp::second_browser(&app);
    other.sign_in_as("048190002468").await;
    assert_api_error(
        other
            .get(&format!("/api/v1/me/warehouse/{id}/content"))
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn what_is_not_a_pdf_jpeg_or_png_is_refused_whatever_its_name() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    for (bytes, declared) in [
        (&b"GIF89a\x01\x00\x01\x00\x80\x00\x00"[..], "image/gif"),
        (
            &b"MZ\x90\x00\x03\x00\x00\x00 an executable"[..],
            "image/jpeg",
        ),
        (
            &b"<html><script>alert(1)</script></html>"[..],
            "application/pdf",
        ),
    ] {
        assert_api_error(
            upload(&app, "portrait-photo", bytes, declared).await,
            415,
            "unsupported_media_type",
        )
        .await;
    }
    assert_api_error(
        upload(&app, "portrait-photo", b"", "image/png").await,
        422,
        "empty_file",
    )
    .await;
    assert_api_error(
        upload(&app, "../../etc", PNG, "image/png").await,
        422,
        "invalid_document_code",
    )
    .await;
    let list = app.get_json("/api/v1/me/warehouse", 200).await;
    assert!(
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["provenance"] != "upload" || i["title"] != "photo.jpg"),
        "nothing refused was kept"
    );
}

#[tokio::test]
async fn an_upload_over_the_limit_is_413_and_an_interrupted_one_leaves_nothing() {
    let app = spawn_app_with(|c| c.upload_limit_bytes = 4096).await;
    app.sign_in(LEVEL2_CCCD).await;
    let before = app.get_json("/api/v1/me/warehouse", 200).await["items"]
        .as_array()
        .map_or(0, Vec::len);
    let big: &'static [u8] = Box::leak([PNG, &vec![0u8; 8192]].concat().into_boxed_slice());
    assert_api_error(
        upload(&app, "portrait-photo", big, "image/png").await,
        413,
        "payload_too_large",
    )
    .await;

    // The connection drops halfway through the file.
    let token = csrf(&app).await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(PNG.to_vec()),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "the network went away",
        )),
    ];
    let sent = app
        .client
        .post(app.url("/api/v1/me/warehouse?document=portrait-photo"))
        .header("x-csrf-token", token)
        .header("content-length", "2000")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await;
    assert!(sent.is_err() || !sent.expect("answered").status().is_success());
    let after = app.get_json("/api/v1/me/warehouse", 200).await["items"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(after, before, "nothing half-attached");
    let blobs = app.config.data_dir.join("blobs");
    let stored = walk(&blobs)
        .into_iter()
        .filter(|p| std::fs::read(p).is_ok_and(|b| b.starts_with(PNG)))
        .count();
    assert_eq!(stored, 0, "no partial content was kept");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn a_demo_person_finds_their_documents_and_the_form_offers_them() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let items = app.get_json("/api/v1/me/warehouse", 200).await;
    let portrait = items["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["document_code"] == "portrait-photo")
        .cloned()
        .expect("a portrait in the demo warehouse");
    let prefill = app
        .get_json("/api/v1/procedures/1.002804/prefill", 200)
        .await;
    assert_eq!(prefill["values"]["portrait"]["value"], portrait["id"]);
    assert_eq!(
        prefill["values"]["portrait"]["source"],
        "warehouse.portrait-photo"
    );
    assert_eq!(
        prefill["values"]["portrait"]["locked"], false,
        "the person may choose another"
    );
    // Signing in again adds nothing twice.
    app.sign_in(LEVEL2_CCCD).await;
    let again = app.get_json("/api/v1/me/warehouse", 200).await;
    assert_eq!(
        again["items"].as_array().map(Vec::len),
        items["items"].as_array().map(Vec::len)
    );
}

#[tokio::test]
async fn a_document_that_is_not_the_persons_is_refused_in_a_filing() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let prefill = app
        .get_json("/api/v1/procedures/1.002804/prefill", 200)
        .await;
    let mut answers: serde_json::Map<String, Value> = prefill["values"]
        .as_object()
        .expect("values")
        .iter()
        .map(|(k, v)| (k.clone(), v["value"].clone()))
        .collect();
    answers.insert("delivery".into(), json!("post"));
    answers.insert("portrait".into(), json!("someone-elses-photo"));
    let token = csrf(&app).await;
    let response = app
        .client
        .post(app.url("/api/v1/dossiers"))
        .header("x-csrf-token", token)
        .json(&json!({ "procedure_code": "1.002804", "answers": answers, "idempotency_key": "doc-check-1" }))
        .send()
        .await
        .expect("answered");
    let body = assert_api_error(response, 422, "unknown_document").await;
    assert_eq!(body["fields"][0]["field"], "portrait");
}

#[tokio::test]
async fn an_issued_result_lands_in_the_warehouse_and_the_officer_opens_attached_documents_only() {
    let app = spawn_app().await;
    let id = filed_renewal(&app).await;
    let lead = officer(&app, TRAFFIC_OFFICER).await;
    let dossier = app.get_json(&format!("/api/v1/dossiers/{id}"), 200).await;
    let portrait = dossier["answers"]["portrait"]
        .as_str()
        .expect("a portrait")
        .to_owned();

    let opened = lead
        .get(&format!(
            "/api/v1/officer/dossiers/{id}/documents/{portrait}"
        ))
        .await;
    assert_eq!(opened.status(), 200);
    assert_eq!(opened.headers()["content-type"], "image/png");
    let log = app.get_json("/api/v1/me/data-access", 200).await;
    assert!(log["entries"].as_array().expect("entries").iter().any(|e| {
        e["source"] == "warehouse"
            && e["data"]
                .as_str()
                .is_some_and(|d| d.contains("Ảnh chân dung"))
    }));
    // A document of the person that the dossier does not name stays closed.
    let items = app.get_json("/api/v1/me/warehouse", 200).await;
    let other = items["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["document_code"] == "marriage-certificate")
        .and_then(|i| i["id"].as_str())
        .expect("the demo marriage certificate")
        .to_owned();
    assert_api_error(
        lead.get(&format!("/api/v1/officer/dossiers/{id}/documents/{other}"))
            .await,
        404,
        "not_found",
    )
    .await;

    for action in ["receive", "start_processing", "approve", "issue_result"] {
        assert_eq!(
            act(&lead, &id, action, None).await.status(),
            200,
            "{action}"
        );
    }
    let items = app.get_json("/api/v1/me/warehouse", 200).await;
    let licence = items["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["document_code"] == "driving-licence")
        .cloned()
        .expect("the issued licence");
    assert_eq!(licence["provenance"], "issued");
    assert_eq!(licence["issuer"], "CA-PCSGT");
    assert_eq!(licence["dossier_id"], id.as_str());
    let record: Value = app
        .get(&format!(
            "/api/v1/me/warehouse/{}/content",
            licence["id"].as_str().expect("id")
        ))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(record["holder"]["cccd"], LEVEL2_CCCD);
    assert_eq!(record["receipt_number"], dossier["receipt_number"]);
}

#[tokio::test]
async fn a_draft_saved_on_one_device_continues_on_another_and_filing_clears_it() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let token = csrf(&app).await;
    let saved = app
        .client
        .put(app.url("/api/v1/me/drafts/1.002804"))
        .header("x-csrf-token", &token)
        .json(&json!({ "answers": { "delivery": "counter" } }))
        .send()
        .await
        .expect("answered");
    assert_eq!(saved.status(), 204);

    let phone = TestApp::second_browser(&app);
    phone.sign_in_as(LEVEL2_CCCD).await;
    let draft: Value = phone
        .get("/api/v1/me/drafts/1.002804")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(draft["answers"]["delivery"], "counter");
    assert!(draft["updated_at"].as_i64().is_some_and(|t| t > 0));
    // Not another person's.
    let other = TestApp::second_browser(&app);
    other.sign_in_as("048190002468").await;
    assert_api_error(
        other.get("/api/v1/me/drafts/1.002804").await,
        404,
        "not_found",
    )
    .await;
    // Without the CSRF token nothing is saved.
    let forged = app
        .client
        .put(app.url("/api/v1/me/drafts/1.002804"))
        .json(&json!({ "answers": {} }))
        .send()
        .await
        .expect("answered");
    assert_eq!(forged.status(), 403);

    filed_renewal(&app).await;
    assert_api_error(
        app.get("/api/v1/me/drafts/1.002804").await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_person_s_uploads_are_limited_per_day_and_in_bytes_kept() {
    let app = motcua_tests::spawn_app_with(|c| {
        c.upload_quota_per_day = 2;
        c.upload_quota_bytes = 3 * PNG.len() as u64;
    })
    .await;
    app.sign_in(motcua_tests::LEVEL1_CCCD).await;
    assert_eq!(
        upload(&app, "portrait-photo", PNG, "image/png")
            .await
            .status(),
        201
    );
    assert_eq!(
        upload(&app, "portrait-photo", PNG, "image/png")
            .await
            .status(),
        201
    );
    let over = upload(&app, "portrait-photo", PNG, "image/png").await;
    assert!(over.headers().contains_key("retry-after"));
    motcua_tests::assert_api_error(over, 429, "upload_quota").await;

    // Bytes kept: a day's count to spare, but no room.
    let app = motcua_tests::spawn_app_with(|c| c.upload_quota_bytes = PNG.len() as u64 + 10).await;
    app.sign_in(motcua_tests::LEVEL1_CCCD).await;
    assert_eq!(
        upload(&app, "portrait-photo", PNG, "image/png")
            .await
            .status(),
        201
    );
    let full = upload(&app, "portrait-photo", PNG, "image/png").await;
    motcua_tests::assert_api_error(full, 413, "storage_quota").await;
    let list = app.get_json("/api/v1/me/warehouse", 200).await;
    let uploads = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["provenance"] == "upload")
        .count();
    assert_eq!(uploads, 1, "nothing half-kept");
}

#[tokio::test]
async fn a_person_keeps_at_most_so_many_drafts_and_may_still_update_one() {
    let app = motcua_tests::spawn_app_with(|c| c.drafts_per_person = 2).await;
    app.sign_in(LEVEL2_CCCD).await;
    let token = csrf(&app).await;
    let save = |code: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            app.client
                .put(app.url(&format!("/api/v1/me/drafts/{code}")))
                .header("x-csrf-token", token)
                .json(&json!({ "answers": { "note": code } }))
                .send()
                .await
                .expect("answered")
        }
    };
    assert_eq!(save("1.002804").await.status(), 204);
    assert_eq!(save("1.001193").await.status(), 204);
    let body = assert_api_error(save("2.000815").await, 413, "draft_quota").await;
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains('2')),
        "{body}"
    );
    assert_api_error(
        app.get("/api/v1/me/drafts/2.000815").await,
        404,
        "not_found",
    )
    .await;
    // An existing draft is still saved as the person goes.
    assert_eq!(save("1.002804").await.status(), 204);
    // Discarding one makes room.
    let discarded = app
        .client
        .delete(app.url("/api/v1/me/drafts/1.001193"))
        .header("x-csrf-token", &token)
        .send()
        .await
        .expect("answered");
    assert_eq!(discarded.status(), 204);
    assert_eq!(save("2.000815").await.status(), 204);
}

#[tokio::test]
async fn documents_live_in_s3_compatible_object_storage_when_configured() {
    use sha2::Digest as _;
    let s3 = motcua_tests::peers::s3::S3Server::start("documents").await;
    let options = motcua_server::warehouse::blobs::ObjectOptions {
        endpoint: s3.endpoint.clone(),
        region: "us-east-1".into(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        allow_http: true,
    };
    let configured = options.clone();
    let app = spawn_app_with(move |c| {
        c.blob_url = "s3://documents/motcua".into();
        c.s3_endpoint = configured.endpoint;
        c.s3_region = configured.region;
        c.s3_access_key_id = configured.access_key_id;
        c.s3_secret_access_key = motcua_server::config::Secret::new(configured.secret_access_key);
        c.s3_allow_http = true;
    })
    .await;
    app.sign_in(LEVEL2_CCCD).await;
    let response = upload(&app, "portrait-photo", PNG, "image/png").await;
    assert_eq!(response.status(), 201);
    let item: Value = response.json().await.expect("json");
    let id = item["id"].as_str().expect("an id");

    // Served back from the object store.
    let content = app.get(&format!("/api/v1/me/warehouse/{id}/content")).await;
    assert_eq!(content.status(), 200);
    assert_eq!(&content.bytes().await.expect("bytes")[..], PNG);

    // In the bucket under its digest, where another instance finds it; nothing on local disk.
    let sha: String = sha2::Sha256::digest(PNG)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let elsewhere = motcua_server::warehouse::blobs::BlobStore::open(
        "s3://documents/motcua",
        std::path::PathBuf::from("/nonexistent"),
        &options,
    )
    .expect("opened");
    assert_eq!(elsewhere.get(&sha).await.expect("in the bucket"), PNG);
    assert!(
        !app.config.data_dir.join("blobs").exists(),
        "no document written to the data folder"
    );
}
