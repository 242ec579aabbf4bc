//! Sign-in with the national e-identity (through the sandbox OpenID Provider over HTTP),
//! sessions, CSRF, and each refusal: none of them may open a session.

use motcua_tests::{
    DEMO_PASSWORD, LEVEL1_CCCD, LEVEL2_CCCD, TestApp, assert_api_error, hidden_fields, location,
    spawn_app,
};

async fn assert_no_session(app: &TestApp) {
    assert_eq!(
        app.store.count_live_sessions().await.expect("counted"),
        0,
        "no session may exist"
    );
    assert_api_error(app.get("/api/v1/me").await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn a_citizen_signs_in_with_the_national_eid_and_sees_themself() {
    let app = spawn_app().await;
    let authorize = app.start_sign_in(Some("/dossiers?tab=open")).await;
    assert!(
        authorize.starts_with(&app.url("/sandbox/idp/authorize?")),
        "{authorize}"
    );
    assert!(
        authorize.contains("code_challenge_method=S256") && authorize.contains("nonce="),
        "{authorize}"
    );
    let callback = app
        .provider_sign_in(&authorize, LEVEL2_CCCD, DEMO_PASSWORD)
        .await;
    let response = app.client.get(&callback).send().await.expect("answered");
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/dossiers?tab=open");
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("motcua_session="))
        .expect("a session cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    let me = app.me().await;
    assert_eq!(me["cccd"], LEVEL2_CCCD);
    assert_eq!(me["name"], "Nguyễn Văn An");
    assert_eq!(me["birthdate"], "1988-03-14");
    assert_eq!(me["acr"], "vneid:level2");
    // He also chairs a cooperative (sandbox seed), so he may act for a business.
    assert_eq!(me["roles"], serde_json::json!(["citizen", "business"]));
    assert_eq!(me["acting_for"], serde_json::Value::Null);
    assert_eq!(me["auth_method"], "eid");
}

#[tokio::test]
async fn a_level_one_identity_keeps_level_one() {
    let app = spawn_app().await;
    assert_eq!(app.sign_in(LEVEL1_CCCD).await, "/account");
    assert_eq!(app.me().await["acr"], "vneid:level1");
}

#[tokio::test]
async fn without_a_session_me_is_401() {
    let app = spawn_app().await;
    assert_api_error(app.get("/api/v1/me").await, 401, "unauthenticated").await;
    let forged = app
        .client
        .get(app.url("/api/v1/me"))
        .header("cookie", "motcua_session=forged-value")
        .send()
        .await
        .expect("answered");
    assert_api_error(forged, 401, "session_expired").await;
}

#[tokio::test]
async fn a_tampered_state_is_refused_and_opens_no_session() {
    let app = spawn_app().await;
    let authorize = app.start_sign_in(None).await;
    let callback = app
        .provider_sign_in(&authorize, LEVEL2_CCCD, DEMO_PASSWORD)
        .await;
    let tampered = callback.replace("state=", "state=x");
    let response = app.client.get(&tampered).send().await.expect("answered");
    assert_eq!(location(&response), "/account?signin_error=invalid_state");
    assert_no_session(&app).await;
}

#[tokio::test]
async fn a_callback_replayed_after_sign_in_is_refused() {
    let app = spawn_app().await;
    let authorize = app.start_sign_in(None).await;
    let callback = app
        .provider_sign_in(&authorize, LEVEL2_CCCD, DEMO_PASSWORD)
        .await;
    app.client.get(&callback).send().await.expect("answered");
    assert_eq!(app.store.count_live_sessions().await.expect("counted"), 1);
    // An attacker replays the same callback URL (state and code) in their own browser.
    let attacker = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = attacker.get(&callback).send().await.expect("answered");
    assert_eq!(location(&response), "/account?signin_error=invalid_state");
    assert_eq!(
        app.store.count_live_sessions().await.expect("counted"),
        1,
        "no second session"
    );
}

#[tokio::test]
async fn a_callback_from_another_browser_is_refused_as_login_csrf() {
    let app = spawn_app().await;
    let authorize = app.start_sign_in(None).await;
    let callback = app
        .provider_sign_in(&authorize, LEVEL2_CCCD, DEMO_PASSWORD)
        .await;
    // The victim's browser never started this sign-in, so it lacks the state cookie.
    let victim = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = victim.get(&callback).send().await.expect("answered");
    assert_eq!(location(&response), "/account?signin_error=invalid_state");
    assert_no_session(&app).await;
}

#[tokio::test]
async fn a_cancelled_sign_in_comes_back_as_provider_refused() {
    let app = spawn_app().await;
    let authorize = app.start_sign_in(None).await;
    let state = authorize
        .split("state=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .expect("a state");
    let response = app
        .client
        .get(app.url(&format!("/auth/callback?error=access_denied&state={state}")))
        .send()
        .await
        .expect("answered");
    assert_eq!(
        location(&response),
        "/account?signin_error=provider_refused"
    );
    assert_no_session(&app).await;
}

#[tokio::test]
async fn an_open_redirect_return_to_is_refused() {
    let app = spawn_app().await;
    for bad in ["https://evil.example/", "//evil.example", "/\\evil.example"] {
        let url = format!(
            "{}?return_to={}",
            app.url("/auth/login"),
            motcua_tests::urlencode(bad)
        );
        let response = app.client.get(url).send().await.expect("answered");
        assert_api_error(response, 400, "invalid_return_to").await;
    }
    assert_no_session(&app).await;
}

#[tokio::test]
async fn a_wrong_password_at_the_provider_shows_the_form_again() {
    let app = spawn_app().await;
    let authorize = app.start_sign_in(None).await;
    let page = app
        .client
        .get(&authorize)
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .expect("html");
    let mut form = hidden_fields(&page);
    form.push(("cccd".into(), LEVEL2_CCCD.into()));
    form.push(("password".into(), "wrong".into()));
    let response = app
        .client
        .post(app.url("/sandbox/idp/authorize"))
        .form(&form)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    assert!(response.text().await.expect("html").contains("không đúng"));
    assert_no_session(&app).await;
}

#[tokio::test]
async fn the_provider_refuses_unregistered_redirect_uris_without_redirecting() {
    let app = spawn_app().await;
    let authorize = app.start_sign_in(None).await;
    let evil = authorize.replace(
        &motcua_tests::urlencode(&app.url("/auth/callback")),
        &motcua_tests::urlencode("https://evil.example/cb"),
    );
    assert_ne!(evil, authorize);
    let response = app.client.get(&evil).send().await.expect("answered");
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
}

#[tokio::test]
async fn logout_needs_the_csrf_token_and_then_ends_the_session() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let without = app
        .client
        .post(app.url("/auth/logout"))
        .send()
        .await
        .expect("answered");
    assert_api_error(without, 403, "csrf_failed").await;
    let wrong = app
        .client
        .post(app.url("/auth/logout"))
        .header("x-csrf-token", "not-the-token")
        .send()
        .await
        .expect("answered");
    assert_api_error(wrong, 403, "csrf_failed").await;
    app.me().await;

    let response = app.post_with_csrf("/auth/logout").await;
    assert_eq!(response.status(), 204);
    assert_api_error(app.get("/api/v1/me").await, 401, "unauthenticated").await;
    assert_eq!(app.store.count_live_sessions().await.expect("counted"), 0);
}

#[tokio::test]
async fn sessions_are_listed_and_can_be_ended_one_by_one_or_all_at_once() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    // A second device of the same person.
    let phone = TestApp::second_browser(&app);
    let authorize = phone.start_sign_in(None).await;
    let callback = phone
        .provider_sign_in(&authorize, LEVEL2_CCCD, DEMO_PASSWORD)
        .await;
    phone.client.get(callback).send().await.expect("answered");

    let list = app.get_json("/api/v1/me/sessions", 200).await;
    let sessions = list["sessions"].as_array().expect("a list");
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let other = sessions
        .iter()
        .find(|s| s["current"] == false)
        .expect("the phone")["id"]
        .as_str()
        .expect("an id")
        .to_owned();

    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let ended = app
        .client
        .delete(app.url(&format!("/api/v1/me/sessions/{other}")))
        .header("x-csrf-token", &token)
        .send()
        .await
        .expect("answered");
    assert_eq!(ended.status(), 204);
    assert_api_error(phone.get("/api/v1/me").await, 401, "session_expired").await;
    let again = app
        .client
        .delete(app.url(&format!("/api/v1/me/sessions/{other}")))
        .header("x-csrf-token", &token)
        .send()
        .await
        .expect("answered");
    assert_api_error(again, 404, "not_found").await;

    assert_eq!(
        app.post_with_csrf("/api/v1/me/sessions/revoke-all")
            .await
            .status(),
        204
    );
    assert_no_session(&app).await;
}

#[tokio::test]
async fn an_idle_session_ends() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    sqlx::query("update sessions set last_seen_at = 0")
        .execute(app.store.pool())
        .await
        .expect("aged");
    assert_api_error(app.get("/api/v1/me").await, 401, "session_expired").await;
}

/// A code from the sandbox provider and the PKCE verifier the server keeps for it.
async fn code_and_verifier(app: &TestApp) -> (String, String) {
    let authorize = app.start_sign_in(None).await;
    let callback = app
        .provider_sign_in(&authorize, LEVEL2_CCCD, DEMO_PASSWORD)
        .await;
    let code = callback
        .split("code=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .expect("a code")
        .to_owned();
    let (verifier,): (String,) = sqlx::query_as("select pkce_verifier from login_attempts")
        .fetch_one(app.store.pool())
        .await
        .expect("one sign-in in flight");
    sqlx::query("delete from login_attempts")
        .execute(app.store.pool())
        .await
        .expect("cleared");
    (code, verifier)
}

async fn redeem(app: &TestApp, code: &str, verifier: &str, secret: &str) -> reqwest::Response {
    let (client_id, _) = app.sandbox_client.clone().expect("the sandbox is on");
    app.client
        .post(app.url("/sandbox/idp/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &app.url("/auth/callback")),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .expect("answered")
}

#[tokio::test]
async fn the_sandbox_provider_refuses_what_a_real_provider_refuses() {
    let app = spawn_app().await;
    let (_, secret) = app.sandbox_client.clone().expect("the sandbox is on");

    let (code, verifier) = code_and_verifier(&app).await;
    let response = redeem(&app, &code, &verifier, "wrong-secret").await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.json::<serde_json::Value>().await.expect("json")["error"],
        "invalid_client"
    );

    let (code, _) = code_and_verifier(&app).await;
    let response = redeem(
        &app,
        &code,
        "a-verifier-that-was-never-sent-by-this-client-xyz",
        &secret,
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<serde_json::Value>().await.expect("json")["error"],
        "invalid_grant"
    );

    let (code, verifier) = code_and_verifier(&app).await;
    let first = redeem(&app, &code, &verifier, &secret).await;
    assert_eq!(first.status(), 200);
    let tokens: serde_json::Value = first.json().await.expect("json");
    assert_eq!(
        tokens["id_token"]
            .as_str()
            .expect("an ID token")
            .split('.')
            .count(),
        3
    );
    let replay = redeem(&app, &code, &verifier, &secret).await;
    assert_eq!(replay.status(), 400, "a code works once");
    assert_eq!(
        replay.json::<serde_json::Value>().await.expect("json")["error"],
        "invalid_grant"
    );
    assert_no_session(&app).await;
}

#[tokio::test]
async fn the_data_access_log_shows_the_read_made_at_each_sign_in() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    app.sign_in(LEVEL2_CCCD).await;
    let log = app.get_json("/api/v1/me/data-access", 200).await;
    let entries = log["entries"].as_array().expect("a list");
    assert_eq!(entries.len(), 2, "{log}");
    for entry in entries {
        assert_eq!(entry["source"], "VNeID");
        assert_eq!(entry["accessor_kind"], "system");
        assert_eq!(entry["purpose"], "Đăng nhập");
        assert!(
            entry["data"]
                .as_str()
                .is_some_and(|d| d.contains("số định danh"))
        );
    }
    // Another person's sign-in does not appear in this log.
    let other = TestApp::second_browser(&app);
    let authorize = other.start_sign_in(None).await;
    let callback = other
        .provider_sign_in(&authorize, LEVEL1_CCCD, DEMO_PASSWORD)
        .await;
    other.client.get(callback).send().await.expect("answered");
    let log = app.get_json("/api/v1/me/data-access", 200).await;
    assert_eq!(log["entries"].as_array().map(Vec::len), Some(2));
    assert_api_error(
        TestApp::second_browser(&app)
            .get("/api/v1/me/data-access")
            .await,
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn repeated_sign_in_starts_are_rate_limited_with_retry_after() {
    let app = motcua_tests::spawn_app_with(|c| c.rate_limit_sign_in_per_minute = 2).await;
    for _ in 0..2 {
        assert_eq!(app.get("/auth/login").await.status(), 303);
    }
    let response = app.get("/auth/login").await;
    assert_eq!(response.status(), 429, "{:?}", response.headers());
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_api_error(response, 429, "rate_limited").await;
    // Callbacks count against the same limit: a flood of forged callbacks is refused too.
    assert_api_error(
        app.get("/auth/callback?code=x&state=y").await,
        429,
        "rate_limited",
    )
    .await;
}

/// A demo officer of the provincial traffic police (server/seed/sandbox/people.toml).
const OFFICER_CCCD: &str = "031180009876";

#[tokio::test]
async fn a_citizen_calling_an_officer_endpoint_is_refused() {
    let app = spawn_app().await;
    app.sign_in(LEVEL1_CCCD).await;
    assert_eq!(app.me().await["roles"], serde_json::json!(["citizen"]));
    assert_api_error(
        app.get("/api/v1/officer/assignment").await,
        403,
        "forbidden_role",
    )
    .await;
}

#[tokio::test]
async fn an_officer_is_made_by_a_grant_not_by_a_claim_and_sees_their_assignment() {
    let app = spawn_app().await;
    app.sign_in(OFFICER_CCCD).await;
    assert_eq!(
        app.me().await["roles"],
        serde_json::json!(["citizen", "officer"])
    );
    let assignment = app.get_json("/api/v1/officer/assignment", 200).await;
    assert_eq!(
        assignment,
        serde_json::json!({"agency_code": "CA-PCSGT", "level": "province", "unit_code": "01", "lead": true})
    );

    // Withdrawn by an operator: the next request already sees it.
    let cccd = motcua_shared::Cccd::parse(OFFICER_CCCD).expect("valid");
    assert!(
        app.store
            .revoke_role(&cccd, "officer", "operator")
            .await
            .expect("revoked")
    );
    assert_api_error(
        app.get("/api/v1/officer/assignment").await,
        403,
        "forbidden_role",
    )
    .await;
}

/// A demo person who represents two organisations (server/seed/sandbox/people.toml).
const REPRESENTATIVE_CCCD: &str = "048190002468";

async fn put_acting_for(app: &TestApp, tax_code: serde_json::Value) -> reqwest::Response {
    let token = app.me().await["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned();
    app.client
        .put(app.url("/api/v1/me/acting-for"))
        .header("x-csrf-token", token)
        .json(&serde_json::json!({ "tax_code": tax_code }))
        .send()
        .await
        .expect("answered")
}

#[tokio::test]
async fn a_representative_switches_between_themself_and_their_organisations() {
    let app = spawn_app().await;
    app.sign_in(REPRESENTATIVE_CCCD).await;
    let me = app.me().await;
    assert!(
        me["roles"]
            .as_array()
            .is_some_and(|r| r.contains(&"business".into()))
    );
    let orgs: Vec<&str> = me["organisations"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|o| o["tax_code"].as_str())
        .collect();
    assert_eq!(orgs, ["0312345673", "0401234566"]);

    let response = put_acting_for(&app, "0312345673".into()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.me().await["acting_for"], "0312345673");

    // Another person's company, a malformed number, and back to themself.
    let other = put_acting_for(&app, "0100109106".into()).await;
    assert_api_error(other, 403, "not_a_representative").await;
    let malformed = put_acting_for(&app, "0100109107".into()).await;
    assert_api_error(malformed, 422, "invalid_tax_code").await;
    assert_eq!(
        app.me().await["acting_for"],
        "0312345673",
        "a refused switch changes nothing"
    );
    assert_eq!(
        put_acting_for(&app, serde_json::Value::Null).await.status(),
        200
    );
    assert_eq!(app.me().await["acting_for"], serde_json::Value::Null);
}

#[tokio::test]
async fn acting_for_is_per_session_and_needs_the_csrf_token() {
    let app = spawn_app().await;
    app.sign_in(REPRESENTATIVE_CCCD).await;
    let without = app
        .client
        .put(app.url("/api/v1/me/acting-for"))
        .json(&serde_json::json!({ "tax_code": "0312345673" }))
        .send()
        .await
        .expect("answered");
    assert_api_error(without, 403, "csrf_failed").await;
    assert_eq!(
        put_acting_for(&app, "0312345673".into()).await.status(),
        200
    );
    let laptop = TestApp::second_browser(&app);
    let authorize = laptop.start_sign_in(None).await;
    let callback = laptop
        .provider_sign_in(&authorize, REPRESENTATIVE_CCCD, DEMO_PASSWORD)
        .await;
    laptop.client.get(callback).send().await.expect("answered");
    let me: serde_json::Value = laptop.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(
        me["acting_for"],
        serde_json::Value::Null,
        "the other device still acts for the person"
    );
}

#[tokio::test]
async fn a_new_sign_in_ends_the_browser_s_previous_session() {
    let app = motcua_tests::spawn_app().await;
    let browser = motcua_tests::Browser::at(&app.address);
    browser.sign_in_as(motcua_tests::LEVEL2_CCCD).await;
    let first = browser.cookie_header();
    assert_eq!(app.store.count_live_sessions().await.expect("counted"), 1);
    // The same browser signs in again, as someone else: one live session, the new one.
    browser.sign_in_as("079195004321").await;
    assert_eq!(app.store.count_live_sessions().await.expect("counted"), 1);
    let me: serde_json::Value = browser.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(me["cccd"], "079195004321");
    // The earlier session's cookie, replayed, signs nobody in.
    let replay = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .header("cookie", first)
        .send()
        .await
        .expect("answered");
    assert_eq!(replay.status(), 401);
}

#[tokio::test]
async fn personal_answers_are_never_stored_by_a_cache() {
    let app = motcua_tests::spawn_app().await;
    app.sign_in(motcua_tests::LEVEL2_CCCD).await;
    for path in [
        "/api/v1/me",
        "/api/v1/dossiers",
        "/api/v1/me/notices",
        "/api/v1/me/data-access",
        "/api/v1/me/warehouse",
        "/api/v1/wallet",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    }
    // Errors too.
    let response = app.get("/api/v1/dossiers/not-a-dossier").await;
    assert_eq!(response.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn an_operator_ends_one_persons_sessions_or_everyones_and_the_chain_records_it() {
    let app = spawn_app().await;
    app.sign_in(LEVEL2_CCCD).await;
    let other = TestApp::second_browser(&app);
    other.sign_in_as("079195004321").await;
    let (person,): (String,) = sqlx::query_as("select id from people where cccd = $1")
        .bind(LEVEL2_CCCD)
        .fetch_one(app.store.pool())
        .await
        .expect("the citizen");

    // One person's: theirs end, the other's goes on.
    let ended = app
        .store
        .end_sessions_by_operator(Some(&person))
        .await
        .expect("ended");
    assert_eq!(ended, 1);
    assert_api_error(app.get("/api/v1/me").await, 401, "session_expired").await;
    assert_eq!(other.get("/api/v1/me").await.status(), 200);

    // Everyone's.
    let ended = app
        .store
        .end_sessions_by_operator(None)
        .await
        .expect("ended");
    assert_eq!(ended, 1);
    assert_api_error(other.get("/api/v1/me").await, 401, "session_expired").await;

    app.store.seal_audit().await.expect("sealed");
    let (entries,): (i64,) = sqlx::query_as(
        "select count(*) from audit_log where action = 'identity.sessions_ended' and actor = 'operator'",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("read");
    assert_eq!(entries, 2);
    assert!(matches!(
        app.store.verify_audit_chain().await.expect("verified"),
        motcua_server::audit::ChainReport::Intact { .. }
    ));
}
