//! Passkey ceremonies from the outside: single-use and short-lived challenge state, step-up
//! before registration, same-origin sign-in starts. (The full ceremony with an authenticator is
//! the browser test `tests/browser/passkey.test.js`.)

use motcua_tests::{LEVEL2_CCCD, TestApp, assert_api_error, spawn_app_with};
use serde_json::{Value, json};

/// A server whose public URL is a domain name (browsers refuse passkeys for a bare IP).
async fn app() -> TestApp {
    let app = spawn_app_with(|c| {
        let port = c.addr.port();
        c.public_url = format!("http://localhost:{port}");
    })
    .await;
    app.sign_in(LEVEL2_CCCD).await;
    app
}

async fn post(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned();
    app.client
        .post(app.url(path))
        .header("x-csrf-token", token)
        .json(body)
        .send()
        .await
        .expect("answered")
}

/// Well-formed, but no authenticator ever made it.
fn bogus_attestation() -> Value {
    json!({
        "id": "AAAAAAAAAAAAAAAAAAAAAA", "rawId": "AAAAAAAAAAAAAAAAAAAAAA", "type": "public-key",
        "response": { "attestationObject": "o2NmbXRkbm9uZQ", "clientDataJSON": "e30" },
        "extensions": {}
    })
}

#[tokio::test]
async fn registration_options_ask_for_a_discoverable_credential_bound_to_this_site() {
    let app = app().await;
    let response = post(
        &app,
        "/api/v1/me/passkeys/registration/start",
        &json!({"name": "Điện thoại"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    let options = &body["options"]["publicKey"];
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
    // The authenticator keeps the name and the CCCD masked, never the whole number.
    assert_eq!(options["user"]["name"], "********2345");
    assert_eq!(options["user"]["displayName"], "Nguyễn Văn An");
    assert!(!body.to_string().contains(LEVEL2_CCCD), "{body}");
    assert!(
        body["ceremony_id"]
            .as_str()
            .is_some_and(|id| id.len() >= 32)
    );
}

#[tokio::test]
async fn a_registration_challenge_is_used_up_by_its_first_answer_even_a_wrong_one() {
    let app = app().await;
    let start: Value = post(
        &app,
        "/api/v1/me/passkeys/registration/start",
        &json!({"name": "Điện thoại"}),
    )
    .await
    .json()
    .await
    .expect("json");
    let finish = json!({ "ceremony_id": start["ceremony_id"], "credential": bogus_attestation() });
    let first = post(&app, "/api/v1/me/passkeys/registration/finish", &finish).await;
    assert_api_error(first, 400, "passkey_rejected").await;
    let again = post(&app, "/api/v1/me/passkeys/registration/finish", &finish).await;
    assert_api_error(again, 400, "ceremony_invalid").await;
    assert_eq!(
        app.get_json("/api/v1/me/passkeys", 200).await["passkeys"],
        json!([])
    );
}

#[tokio::test]
async fn an_expired_challenge_is_refused() {
    let app = app().await;
    let start: Value = post(
        &app,
        "/api/v1/me/passkeys/registration/start",
        &json!({"name": "Điện thoại"}),
    )
    .await
    .json()
    .await
    .expect("json");
    sqlx::query("update webauthn_ceremonies set expires_at = 1")
        .execute(app.store.pool())
        .await
        .expect("aged");
    let finish = json!({ "ceremony_id": start["ceremony_id"], "credential": bogus_attestation() });
    let response = post(&app, "/api/v1/me/passkeys/registration/finish", &finish).await;
    assert_api_error(response, 400, "ceremony_invalid").await;
}

#[tokio::test]
async fn adding_a_passkey_needs_a_recent_sign_in() {
    let app = app().await;
    sqlx::query("update sessions set authenticated_at = 0")
        .execute(app.store.pool())
        .await
        .expect("aged");
    let response = post(
        &app,
        "/api/v1/me/passkeys/registration/start",
        &json!({"name": "Điện thoại"}),
    )
    .await;
    assert_api_error(response, 403, "step_up_required").await;
}

#[tokio::test]
async fn a_passkey_sign_in_must_start_from_this_sites_pages() {
    let app = app().await;
    let foreign = app
        .client
        .post(app.url("/auth/passkey/start"))
        .header("origin", "https://evil.example")
        .json(&json!({}))
        .send()
        .await
        .expect("answered");
    assert_api_error(foreign, 403, "cross_origin").await;
    let own = app
        .client
        .post(app.url("/auth/passkey/start"))
        .header("origin", app.config.public_url.clone())
        .json(&json!({}))
        .send()
        .await
        .expect("answered");
    assert_eq!(own.status(), 200);
    let body: Value = own.json().await.expect("json");
    assert!(body["options"]["publicKey"]["challenge"].is_string());
}

#[tokio::test]
async fn passkeys_are_unavailable_on_a_bare_ip_address() {
    let app = motcua_tests::spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    assert_eq!(
        app.get_json("/api/v1/me/passkeys", 200).await["available"],
        false
    );
    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let response = app
        .client
        .post(app.url("/api/v1/me/passkeys/registration/start"))
        .header("x-csrf-token", token)
        .json(&json!({"name": "Điện thoại"}))
        .send()
        .await
        .expect("answered");
    assert_api_error(response, 503, "unavailable").await;
}

#[tokio::test]
async fn a_passkey_step_up_needs_a_passkey() {
    let app = app().await;
    let response = post(&app, "/api/v1/me/step-up/passkey/start", &json!({})).await;
    assert_api_error(response, 409, "no_passkeys").await;
}

#[tokio::test]
async fn removing_a_passkey_needs_a_recent_proof_and_tells_the_person() {
    let app = app().await;
    let (person,): (String,) = sqlx::query_as("select id from people where cccd = $1")
        .bind(LEVEL2_CCCD)
        .fetch_one(app.store.pool())
        .await
        .expect("the person");
    sqlx::query(
        "insert into passkeys (credential_id, person_id, name, passkey, created_at) values ('pk-old-phone', $1, 'Điện thoại cũ', '{}', 0)",
    )
    .bind(&person)
    .execute(app.store.pool())
    .await
    .expect("a passkey");
    let remove = || async {
        let token = app.me().await["csrf_token"]
            .as_str()
            .expect("token")
            .to_owned();
        app.client
            .delete(app.url("/api/v1/me/passkeys/pk-old-phone"))
            .header("x-csrf-token", token)
            .send()
            .await
            .expect("answered")
    };
    let kept = || async {
        let (n,): (i64,) = sqlx::query_as(
            "select cast(count(*) as bigint) from passkeys where credential_id = 'pk-old-phone'",
        )
        .fetch_one(app.store.pool())
        .await
        .expect("counted");
        n
    };
    // A session whose proof of identity is old (a stolen cookie, say) cannot remove it.
    sqlx::query("update sessions set authenticated_at = 0")
        .execute(app.store.pool())
        .await
        .expect("aged");
    assert_api_error(remove().await, 403, "step_up_required").await;
    assert_eq!(kept().await, 1);
    // Proved again: removed, and the person is told.
    sqlx::query("update sessions set authenticated_at = $1")
        .bind(motcua_server::store::now_ms())
        .execute(app.store.pool())
        .await
        .expect("fresh");
    assert_eq!(remove().await.status(), 204);
    assert_eq!(kept().await, 0);
    let notices = app.get_json("/api/v1/me/notices", 200).await;
    let notice = notices["notices"]
        .as_array()
        .expect("notices")
        .iter()
        .find(|n| n["title"]["vi"] == "Một khóa truy cập đã bị gỡ khỏi tài khoản")
        .unwrap_or_else(|| panic!("no notice: {notices}"))
        .clone();
    assert!(
        notice["body"]["vi"]
            .as_str()
            .is_some_and(|b| b.contains("Điện thoại cũ")),
        "{notice}"
    );
    assert_eq!(remove().await.status(), 404, "gone");
}
