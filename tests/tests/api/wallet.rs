//! The result wallet from the outside: an issued result becomes a signed credential in its
//! holder's wallet, verifiable by anyone; tampering, unknown and withdrawn keys, bombs and
//! garbage are refused with their reason (never a 5xx); an officer revokes, and the online check
//! and the status list say so at once.

use motcua_shared::credential::{
    self,
    status::{self, Status},
    status_token,
    trust::{self, SignedTrustList},
};
use motcua_tests::{TestApp, spawn_app};
use serde_json::{Value, json};

use crate::back_office::{TRAFFIC_OFFICER, act, filed_renewal, officer};

/// Files a renewal as An and has the traffic police issue its result; returns the officer.
async fn issued_licence(app: &TestApp) -> motcua_tests::Browser {
    let id = filed_renewal(app).await;
    let lead = officer(app, TRAFFIC_OFFICER).await;
    for action in ["receive", "start_processing", "approve", "issue_result"] {
        assert_eq!(
            act(&lead, &id, action, None).await.status(),
            200,
            "{action}"
        );
    }
    lead
}

async fn verify(app: &TestApp, qr: &str) -> Value {
    let response = app
        .client
        .post(app.url("/api/v1/verify"))
        .json(&json!({ "qr": qr }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200, "any input is answered 200");
    response.json().await.expect("json")
}

async fn licence_qr(app: &TestApp) -> (String, String) {
    let wallet = app.get_json("/api/v1/wallet", 200).await;
    let licence = wallet["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .find(|c| c["type"] == "driving_licence" && c["status"] == "valid")
        .cloned()
        .expect("a valid licence in the wallet");
    (
        licence["id"].as_str().expect("id").to_owned(),
        licence["qr"].as_str().expect("qr").to_owned(),
    )
}

#[tokio::test]
async fn an_issued_result_is_a_credential_anyone_can_verify_until_an_officer_revokes_it() {
    let app = spawn_app().await;
    let lead = issued_licence(&app).await;
    let wallet = app.get_json("/api/v1/wallet", 200).await;
    let licence = &wallet["credentials"][0];
    for field in [
        "id",
        "type",
        "title",
        "issuer",
        "issued_at",
        "expires_at",
        "status",
        "claims",
        "qr",
    ] {
        assert!(!licence[field].is_null(), "{field}: {licence}");
    }
    assert_eq!(licence["type"], "driving_licence");
    assert_eq!(licence["issuer"]["code"], "CA-PCSGT");
    let (id, qr) = licence_qr(&app).await;
    assert!(
        qr.starts_with("VN1:") && qr.len() <= 352,
        "{} characters",
        qr.len()
    );

    // Anyone (no session) checks it.
    let anyone = motcua_tests::Browser::at(&app.address);
    let checked = anyone
        .client
        .post(anyone.url("/api/v1/verify"))
        .json(&json!({ "qr": qr }))
        .send()
        .await
        .expect("answered")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(checked["valid"], true, "{checked}");
    assert_eq!(checked["revoked"], false);
    assert_eq!(checked["issuer"]["code"], "CA-PCSGT");
    assert_eq!(checked["claims"]["kind"], "driving_licence");

    // The officer revokes it (a reason is required).
    let me: Value = lead.get("/api/v1/me").await.json().await.expect("json");
    let revoke = |reason: &'static str| {
        lead.client
            .post(lead.url(&format!("/api/v1/officer/credentials/{id}/status")))
            .header("x-csrf-token", me["csrf_token"].as_str().expect("token"))
            .json(&json!({ "status": "revoked", "reason": reason }))
            .send()
    };
    motcua_tests::assert_api_error(revoke(" ").await.expect("answered"), 422, "reason_required")
        .await;
    assert_eq!(
        revoke("Cấp nhầm hạng").await.expect("answered").status(),
        204
    );
    let checked = verify(&app, &qr).await;
    assert_eq!(
        (
            checked["valid"].clone(),
            checked["revoked"].clone(),
            checked["reason"].clone()
        ),
        (json!(false), json!(true), json!("revoked"))
    );
    // The status list says so, signed by the root the trust list names.
    let signed: SignedTrustList = app
        .get_json("/api/v1/trust-list", 200)
        .await
        .as_object()
        .map(|o| serde_json::from_value(Value::Object(o.clone())).expect("a trust list"))
        .expect("an object");
    let list = trust::verify(&signed, &signed.root).expect("signed by its root");
    assert!(
        list.keys
            .iter()
            .any(|k| k.agency == "CA-PCSGT" && !k.withdrawn)
    );
    assert_eq!(list.max_age_secs, 48 * 3600);
    let claims = credential::decode(&qr).expect("decodes").credential;
    let reference = claims.status.expect("a status reference");
    let path = reference
        .uri
        .split_once("/s/")
        .map(|(_, id)| format!("/s/{id}"))
        .expect("short uri");
    let token = app.get(&path).await;
    assert_eq!(
        token.headers()["content-type"],
        "application/statuslist+cwt"
    );
    let token = status_token::verify(&token.bytes().await.expect("bytes"), &signed.root)
        .expect("a signed status list");
    assert_eq!(
        status::read(&token.list, reference.idx),
        Some(Status::Revoked)
    );
    // The holder is told.
    motcua_server::outbox::deliver_pending(&app.store, motcua_server::store::now_ms())
        .await
        .expect("delivered");
    let notices = app.get_json("/api/v1/me/notices", 200).await;
    assert!(
        notices["notices"]
            .as_array()
            .expect("notices")
            .iter()
            .any(|n| n["title"]["vi"]
                .as_str()
                .is_some_and(|t| t.contains("đã bị thu hồi"))),
        "{notices}"
    );
}

#[tokio::test]
async fn tampered_unknown_withdrawn_oversized_and_random_inputs_are_invalid_with_their_reason() {
    let app = spawn_app().await;
    issued_licence(&app).await;
    let (_, qr) = licence_qr(&app).await;
    let body = base45::decode(&qr[4..]).expect("base45");
    // A flipped bit in the signature (the last byte of the message).
    let mut flipped = body.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    let cases = [
        (format!("VN1:{}", base45::encode(&flipped)), "bad_signature"),
        (qr[..qr.len() - 10].to_owned(), "malformed"),
        ("HC1:6BFOXN%TS3DH0YOJ58S".to_owned(), "not_a_credential"),
        ("VN1:\u{1F600}\u{0000}garbage".to_owned(), "malformed"),
        (format!("VN1:{}", "A".repeat(5000)), "too_large"),
        (bomb(), "too_large"),
    ];
    for (input, reason) in cases {
        let checked = verify(&app, &input).await;
        assert_eq!(checked["valid"], false, "{input:.40}: {checked}");
        assert_eq!(checked["reason"], reason, "{input:.40}: {checked}");
    }
    // A key the operator withdraws verifies nothing any more.
    let kid = app.store.issuer_keys().await.expect("keys")[0].kid.clone();
    assert!(
        app.store
            .withdraw_key(&kid, "operator")
            .await
            .expect("withdrawn")
    );
    assert_eq!(verify(&app, &qr).await["reason"], "key_withdrawn");
    // A body that is not JSON is the usual 4xx, never a 5xx.
    let raw = app
        .client
        .post(app.url("/api/v1/verify"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("answered");
    assert_eq!(raw.status(), 400);
}

#[tokio::test]
async fn a_renewed_licence_replaces_the_earlier_one() {
    let app = spawn_app().await;
    issued_licence(&app).await;
    let (first, first_qr) = licence_qr(&app).await;
    // A second renewal, issued too.
    let id = crate::back_office::file_as_citizen(
        &app,
        "1.002804",
        &[("delivery", json!("post"))],
        "second-renewal",
    )
    .await;
    motcua_tests::pay::pay_dossier_fee(&app, &id).await;
    let lead = officer(&app, TRAFFIC_OFFICER).await;
    for action in ["receive", "start_processing", "approve", "issue_result"] {
        assert_eq!(
            act(&lead, &id, action, None).await.status(),
            200,
            "{action}"
        );
    }
    let (second, _) = licence_qr(&app).await;
    assert_ne!(first, second);
    let checked = verify(&app, &first_qr).await;
    assert_eq!(
        (checked["valid"].clone(), checked["reason"].clone()),
        (json!(false), json!("replaced"))
    );
}

/// A zlib stream of 2 MB of zeros (2 KB compressed), as a QR text.
fn bomb() -> String {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![0u8; 2_000_000]).expect("written");
    format!("VN1:{}", base45::encode(z.finish().expect("compressed")))
}

#[tokio::test]
async fn demo_people_start_with_their_licence_from_the_register_suspended_where_it_is() {
    let app = motcua_tests::spawn_app_with(|c| c.sandbox_seed_wallet = true).await;
    app.sign_in(motcua_tests::LEVEL2_CCCD).await;
    let (_, qr) = licence_qr(&app).await;
    let checked = verify(&app, &qr).await;
    assert_eq!(checked["valid"], true, "{checked}");
    assert_eq!(checked["issuer"]["code"], "CA-PCSGT");
    // Asked again, the same licence comes back: nothing is issued twice.
    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let again: Value = app
        .client
        .post(app.url("/api/v1/wallet/from-register"))
        .header("x-csrf-token", &token)
        .json(&json!({ "document": "driving_licence" }))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    assert_eq!(again["qr"], qr.as_str());
    // Besides the licence, An starts with his health-insurance card; nothing else.
    let wallet = app.get_json("/api/v1/wallet", 200).await;
    let kinds: Vec<&str> = wallet["credentials"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["type"].as_str())
        .collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert!(kinds.contains(&"driving_licence") && kinds.contains(&"health_insurance_card"));
    // The read is in the person's data-access log.
    let log = app.get_json("/api/v1/me/data-access", 200).await;
    assert!(
        log.to_string().contains("Thêm giấy phép lái xe vào ví"),
        "{log}"
    );

    // Cường's licence is suspended in the register: so is his credential.
    let cuong = officer(&app, TRAFFIC_OFFICER).await;
    let wallet: Value = cuong
        .get("/api/v1/wallet")
        .await
        .json()
        .await
        .expect("json");
    let licence = &wallet["credentials"][0];
    assert_eq!(licence["status"], "suspended", "{wallet}");
    assert_eq!(
        verify(&app, licence["qr"].as_str().expect("qr")).await["reason"],
        "suspended"
    );
}

#[tokio::test]
async fn a_licence_proof_shows_only_the_classes_name_and_birth_year_and_follows_the_licence() {
    let app = spawn_app().await;
    let lead = issued_licence(&app).await;
    let (licence, licence_text) = licence_qr(&app).await;
    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let make = || {
        app.client
            .post(app.url(&format!("/api/v1/wallet/{licence}/proof")))
            .header("x-csrf-token", &token)
            .send()
    };
    let proof: Value = make().await.expect("answered").json().await.expect("json");
    assert_eq!(proof["type"], "licence_proof", "{proof}");
    let again: Value = make().await.expect("answered").json().await.expect("json");
    assert_eq!(again["id"], proof["id"], "made once");
    let qr = proof["qr"].as_str().expect("qr").to_owned();
    let checked = verify(&app, &qr).await;
    assert_eq!(checked["valid"], true, "{checked}");
    let said = checked["claims"]["fields"].to_string();
    assert!(
        said.contains("Nguyễn Văn An") && said.contains("licence_class:B"),
        "{said}"
    );
    for hidden in ["001088012345", "010123456789", "00070", "Hàng Bông"] {
        assert!(!said.contains(hidden), "{hidden} is disclosed: {said}");
    }
    assert!(
        qr.len() < licence_text.len(),
        "smaller than the licence: {} and {} characters",
        qr.len(),
        licence_text.len()
    );
    // Someone else's licence gives nothing.
    let other = officer(&app, TRAFFIC_OFFICER).await;
    let me: Value = other.get("/api/v1/me").await.json().await.expect("json");
    let theirs = other
        .client
        .post(other.url(&format!("/api/v1/wallet/{licence}/proof")))
        .header("x-csrf-token", me["csrf_token"].as_str().expect("token"))
        .send()
        .await
        .expect("answered");
    assert_eq!(theirs.status(), 404);
    // Revoking the licence revokes what was made from it.
    let me: Value = lead.get("/api/v1/me").await.json().await.expect("json");
    let revoked = lead
        .client
        .post(lead.url(&format!("/api/v1/officer/credentials/{licence}/status")))
        .header("x-csrf-token", me["csrf_token"].as_str().expect("token"))
        .json(&json!({ "status": "revoked", "reason": "Cấp nhầm" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(revoked.status(), 204);
    assert_eq!(verify(&app, &qr).await["reason"], "revoked");
}

/// The Python of the venv `cargo xtask test` makes (`target/pyenv`), or `MOTCUA_PYTHON`.
fn python() -> std::path::PathBuf {
    if let Ok(path) = std::env::var("MOTCUA_PYTHON") {
        return path.into();
    }
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/pyenv/bin/python");
    assert!(
        venv.exists(),
        "pycose is not installed: run `cargo xtask test`, which makes target/pyenv (or set MOTCUA_PYTHON)"
    );
    venv
}

fn pycose_says(qr: &str, public_key: &str) -> String {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/verify_pycose.py");
    let out = std::process::Command::new(python())
        .arg(script)
        .arg(qr)
        .arg(public_key)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test]
async fn pycose_verifies_a_credential_with_only_the_key_from_the_trust_list() {
    let app = spawn_app().await;
    issued_licence(&app).await;
    let (_, qr) = licence_qr(&app).await;
    let signed: SignedTrustList =
        serde_json::from_value(app.get_json("/api/v1/trust-list", 200).await).expect("a list");
    let list = trust::verify(&signed, &signed.root).expect("signed");
    let kid = credential::to_hex(&credential::decode(&qr).expect("decodes").kid);
    let key = list
        .keys
        .iter()
        .find(|k| k.kid == kid)
        .expect("its key is listed");
    assert_eq!(pycose_says(&qr, &key.public_key), "valid");
    // The same message with one signature bit flipped: pycose refuses it too.
    let body = base45::decode(&qr[4..]).expect("base45");
    let mut cose = if body[0] == 0x78 {
        miniz_oxide::inflate::decompress_to_vec_zlib(&body).expect("zlib")
    } else {
        body
    };
    let last = cose.len() - 1;
    cose[last] ^= 1;
    let forged = format!("VN1:{}", base45::encode(&cose));
    assert_eq!(pycose_says(&forged, &key.public_key), "invalid");
}

#[tokio::test]
async fn a_certified_copy_verifies_with_its_file_and_not_with_a_changed_one() {
    let app = spawn_app().await;
    app.sign_in(motcua_tests::LEVEL2_CCCD).await;
    const SCAN: &[u8] = b"%PDF-1.7\n%scan of a university degree\n1 0 obj << >> endobj\n%%EOF\n";
    let uploaded: Value = crate::warehouse::upload(&app, "document-copy", SCAN, "application/pdf")
        .await
        .json()
        .await
        .expect("json");
    let item = uploaded["id"].as_str().expect("an item").to_owned();
    let id = crate::back_office::file_as_citizen(
        &app,
        "2.000815",
        &[
            ("document_title", json!("Bằng tốt nghiệp đại học")),
            ("copy", json!(item)),
        ],
        "certified-copy-1",
    )
    .await;
    let commune = officer(&app, crate::back_office::COMMUNE_OFFICER).await;
    for action in ["receive", "start_processing", "approve", "issue_result"] {
        assert_eq!(
            act(&commune, &id, action, None).await.status(),
            200,
            "{action}"
        );
    }
    let wallet = app.get_json("/api/v1/wallet", 200).await;
    let copy = wallet["credentials"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["type"] == "certified_copy")
        .cloned()
        .expect("a certified copy");
    let qr = copy["qr"].as_str().expect("qr");
    let sha = |bytes: &[u8]| {
        use std::fmt::Write;
        let digest = <sha2::Sha256 as sha2::Digest>::digest(bytes);
        digest.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    };
    let with_file = |file: &[u8]| {
        app.client
            .post(app.url("/api/v1/verify"))
            .json(&json!({ "qr": qr, "file_sha256": sha(file) }))
            .send()
    };
    let same: Value = with_file(SCAN)
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    assert_eq!(same["valid"], true, "{same}");
    let mut changed = SCAN.to_vec();
    changed[20] ^= 0x20;
    let other: Value = with_file(&changed)
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (other["valid"].clone(), other["reason"].clone()),
        (json!(false), json!("file_mismatch"))
    );
}

#[tokio::test]
async fn server_side_checks_are_rate_limited_per_address() {
    let app = motcua_tests::spawn_app_with(|c| c.rate_limit_verify_per_minute = 3).await;
    for _ in 0..3 {
        assert_eq!(verify(&app, "VN1:ABC").await["valid"], false);
    }
    let over = app
        .client
        .post(app.url("/api/v1/verify"))
        .json(&json!({ "qr": "VN1:ABC" }))
        .send()
        .await
        .expect("answered");
    assert!(over.headers().contains_key("retry-after"));
    motcua_tests::assert_api_error(over, 429, "rate_limited").await;
}

#[tokio::test]
async fn a_health_insurance_card_is_added_from_the_social_insurance_register_and_signed_by_it() {
    let app = spawn_app().await;
    app.sign_in(motcua_tests::LEVEL2_CCCD).await;
    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let add = |client: &reqwest::Client, token: String| {
        client
            .post(app.url("/api/v1/wallet/from-register"))
            .header("x-csrf-token", token)
            .json(&json!({ "document": "health_insurance_card" }))
            .send()
    };
    let response = add(&app.client, token.clone()).await.expect("answered");
    assert_eq!(response.status(), 200);
    let card: Value = response.json().await.expect("json");
    assert_eq!(card["type"], "health_insurance_card", "{card}");
    assert_eq!(card["status"], "valid");
    assert_eq!(card["expires_at"], "2027-12-31", "{card}");
    let said = card["claims"]["fields"].to_string();
    assert!(said.contains("GD4010112345678"), "{said}");
    assert!(said.contains("Bệnh viện Đa khoa Xanh Pôn"), "{said}");
    // Anyone can verify it, and it names the social-insurance agency.
    let checked = verify(&app, card["qr"].as_str().expect("qr")).await;
    assert_eq!(checked["valid"], true, "{checked}");
    assert_eq!(checked["issuer"]["code"], "BHXH-VN");
    assert_eq!(
        checked["issuer"]["name"]["vi"], "Bảo hiểm xã hội Việt Nam",
        "{checked}"
    );
    // Once only; the read is in An's data-access log.
    let again: Value = add(&app.client, token)
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    assert_eq!(again["id"], card["id"]);
    let log = app.get_json("/api/v1/me/data-access", 200).await;
    assert!(
        log.to_string().contains("Thêm thẻ bảo hiểm y tế vào ví"),
        "{log}"
    );

    // Cường has no card: 404, and nothing in his wallet.
    let cuong = officer(&app, TRAFFIC_OFFICER).await;
    let me: Value = cuong.get("/api/v1/me").await.json().await.expect("json");
    let none = cuong
        .client
        .post(cuong.url("/api/v1/wallet/from-register"))
        .header("x-csrf-token", me["csrf_token"].as_str().expect("token"))
        .json(&json!({ "document": "health_insurance_card" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(none.status(), 404);
}

/// The platform's client of the sandbox registers, as the server itself builds it.
fn registries(app: &TestApp) -> motcua_server::adapters::Registries {
    motcua_server::adapters::Registries::new(
        &app.config,
        Some(&motcua_server::adapters::RegistryDefaults {
            base_url: format!("{}/sandbox", app.address),
            api_key: app.sandbox_registry_key.clone().expect("the sandbox is on"),
        }),
    )
    .expect("a client")
}

/// (status, QR, id) of the driving licence in `browser`'s wallet.
async fn licence_of(browser: &motcua_tests::Browser) -> (String, String, String) {
    let wallet: Value = browser
        .get("/api/v1/wallet")
        .await
        .json()
        .await
        .expect("json");
    let licence = wallet["credentials"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["type"] == "driving_licence")
        .cloned()
        .expect("a licence");
    (
        licence["status"].as_str().expect("status").to_owned(),
        licence["qr"].as_str().expect("qr").to_owned(),
        licence["id"].as_str().expect("id").to_owned(),
    )
}

/// The traffic police change a licence in the (sandbox) register.
async fn set_in_register(app: &TestApp, number: &str, status: &str) {
    let response = app
        .client
        .put(app.url(&format!("/sandbox/licences/v1/licences/{number}/status")))
        .header("x-api-key", app.sandbox_registry_key.clone().expect("key"))
        .json(&json!({ "status": status }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_licence_register_suspends_lifts_and_revokes_but_never_lifts_an_officer_s_suspension() {
    use motcua_server::wallet::registers::{LICENCE_REGISTER, sync_licences};
    let app = motcua_tests::spawn_app_with(|c| c.sandbox_seed_wallet = true).await;
    let registries = registries(&app);
    let cuong = officer(&app, TRAFFIC_OFFICER).await;
    assert_eq!(licence_of(&cuong).await.0, "suspended");

    // The police lift Cường's suspension: at the next pass, his licence is valid again, the
    // verifier says so, and he is told.
    set_in_register(&app, "310187654321", "valid").await;
    let report = sync_licences(&app.store, &registries)
        .await
        .expect("synced");
    assert_eq!(report.changed, 1, "{report:?}");
    let (status, qr, _) = licence_of(&cuong).await;
    assert_eq!(status, "valid");
    assert_eq!(verify(&app, &qr).await["valid"], true);
    motcua_server::outbox::deliver_pending(&app.store, motcua_server::store::now_ms())
        .await
        .expect("delivered");
    let notices: Value = cuong
        .get("/api/v1/me/notices")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        notices
            .to_string()
            .contains("Giấy phép lái xe của bạn đã có hiệu lực trở lại"),
        "{notices}"
    );
    // A second pass changes nothing.
    assert_eq!(
        sync_licences(&app.store, &registries)
            .await
            .expect("synced")
            .changed,
        0
    );

    // Suspended again, then revoked, by the register.
    set_in_register(&app, "310187654321", "suspended").await;
    sync_licences(&app.store, &registries)
        .await
        .expect("synced");
    assert_eq!(licence_of(&cuong).await.0, "suspended");
    set_in_register(&app, "310187654321", "revoked").await;
    sync_licences(&app.store, &registries)
        .await
        .expect("synced");
    let (status, qr, _) = licence_of(&cuong).await;
    assert_eq!(status, "revoked");
    assert_eq!(verify(&app, &qr).await["reason"], "revoked");

    // An officer suspends An's licence: the register, which holds it valid, does not lift that.
    let an = motcua_tests::Browser::at(&app.address);
    an.sign_in_as(motcua_tests::LEVEL2_CCCD).await;
    let (_, _, id) = licence_of(&an).await;
    assert!(
        app.store
            .set_credential_status(
                &id,
                credential::status::Status::Suspended,
                "Đang xác minh",
                "officer:test"
            )
            .await
            .expect("suspended")
    );
    assert_ne!("officer:test", LICENCE_REGISTER);
    sync_licences(&app.store, &registries)
        .await
        .expect("synced");
    assert_eq!(licence_of(&an).await.0, "suspended");
}

#[tokio::test]
async fn a_credential_prints_as_a_pdf_with_its_vietnamese_text_and_a_qr_that_verifies() {
    let app = spawn_app().await;
    issued_licence(&app).await;
    let (id, qr) = licence_qr(&app).await;
    let response = app
        .client
        .get(app.url(&format!("/api/v1/wallet/{id}/pdf")))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .is_ok_and(|d| d.starts_with("attachment"))
    );
    let bytes = response.bytes().await.expect("a body");
    assert!(bytes.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().expect("a folder");
    let file = dir.path().join("licence.pdf");
    std::fs::write(&file, &bytes).expect("written");
    if let Ok(keep) = std::env::var("MOTCUA_KEEP_PDF") {
        std::fs::write(keep, &bytes).expect("kept");
    }

    // Read back by a PDF library nobody here wrote: the words, diacritics included, and the
    // QR, rendered and decoded, is the credential's own.
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/read_pdf.py");
    let out = std::process::Command::new(python())
        .arg(script)
        .arg(&file)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: Value = serde_json::from_slice(&out.stdout).expect("json");
    let text = read["text"].as_str().expect("text");
    for words in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "GIẤY PHÉP LÁI XE",
        "Nguyễn Văn An",
        "Phòng Cảnh sát giao thông",
        "Còn hiệu lực",
    ] {
        assert!(text.contains(words), "{words:?} missing from: {text}");
    }
    assert_eq!(read["qr"], qr.as_str(), "the printed QR is the credential");
    assert_eq!(verify(&app, &qr).await["valid"], true);

    // Someone else's credential is not theirs to print.
    let other = motcua_tests::Browser::at(&app.address);
    other.sign_in_as("079195004321").await;
    assert_eq!(
        other
            .get(&format!("/api/v1/wallet/{id}/pdf"))
            .await
            .status(),
        404
    );
}

/// `POST /api/v1/verify` as if forwarded for `client`.
async fn verify_from(app: &TestApp, client: &str) -> u16 {
    app.client
        .post(app.url("/api/v1/verify"))
        .header("x-forwarded-for", client)
        .json(&json!({ "qr": "VN1:ABC" }))
        .send()
        .await
        .expect("answered")
        .status()
        .as_u16()
}

#[tokio::test]
async fn rate_limits_believe_forwarded_addresses_only_from_trusted_proxies_and_count_ipv6_by_64() {
    // Behind a trusted proxy (the tests' loopback), each client has its own bucket…
    let app = motcua_tests::spawn_app_with(|c| {
        c.rate_limit_verify_per_minute = 2;
        c.trusted_proxies = "127.0.0.1/32, ::1".into();
    })
    .await;
    assert_eq!(verify_from(&app, "203.0.113.5").await, 200);
    assert_eq!(verify_from(&app, "203.0.113.5").await, 200);
    assert_eq!(verify_from(&app, "203.0.113.5").await, 429);
    assert_eq!(
        verify_from(&app, "203.0.113.6").await,
        200,
        "another client"
    );
    // …and an IPv6 client is one /64, whichever of its addresses it uses.
    assert_eq!(verify_from(&app, "2001:db8:1:2::1").await, 200);
    assert_eq!(verify_from(&app, "2001:db8:1:2::abcd").await, 200);
    assert_eq!(verify_from(&app, "2001:db8:1:2:ffff::9").await, 429);
    assert_eq!(
        verify_from(&app, "2001:db8:1:3::1").await,
        200,
        "another /64"
    );

    // With no trusted proxy, the header is the client's own claim: ignored.
    let app = motcua_tests::spawn_app_with(|c| c.rate_limit_verify_per_minute = 2).await;
    assert_eq!(verify_from(&app, "203.0.113.5").await, 200);
    assert_eq!(verify_from(&app, "203.0.113.6").await, 200);
    assert_eq!(
        verify_from(&app, "203.0.113.7").await,
        429,
        "one bucket: the peer's"
    );
}
