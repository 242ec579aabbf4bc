//! The relying party against a provider that issues bad ID tokens: each is refused with
//! `invalid_id_token` and no session is opened. Also: a rotated key is fetched once and accepted.

use motcua_server::config::Secret;
use motcua_tests::{
    TestApp, location,
    peers::hostile_op::{CLIENT_ID, CLIENT_SECRET, HostileOp, Mischief},
    spawn_app_with,
};

async fn app_against(op: &HostileOp) -> TestApp {
    let issuer = op.issuer.clone();
    spawn_app_with(move |c| {
        c.sandbox = false;
        c.oidc_issuer = issuer;
        c.oidc_client_id = CLIENT_ID.into();
        c.oidc_client_secret = Secret::new(CLIENT_SECRET);
    })
    .await
}

/// Runs a sign-in against the hostile provider; returns where the server sent the browser.
async fn sign_in(app: &TestApp) -> String {
    let authorize = app.start_sign_in(None).await;
    let at_provider = app.client.get(&authorize).send().await.expect("answered");
    let callback = location(&at_provider);
    let response = app.client.get(&callback).send().await.expect("answered");
    location(&response)
}

async fn assert_refused(mischief: Mischief) {
    let op = HostileOp::start(mischief).await;
    let app = app_against(&op).await;
    assert_eq!(
        sign_in(&app).await,
        "/account?signin_error=invalid_id_token",
        "{mischief:?}"
    );
    assert_eq!(
        app.store.count_live_sessions().await.expect("counted"),
        0,
        "{mischief:?}"
    );
}

#[tokio::test]
async fn a_well_formed_token_from_the_configured_provider_signs_in() {
    let op = HostileOp::start(Mischief::None).await;
    let app = app_against(&op).await;
    assert_eq!(sign_in(&app).await, "/account");
    assert_eq!(
        app.me().await["cccd"],
        motcua_tests::peers::hostile_op::CCCD
    );
}

#[tokio::test]
async fn a_wrong_nonce_is_refused() {
    assert_refused(Mischief::WrongNonce).await;
}

#[tokio::test]
async fn a_token_signed_by_an_unknown_key_is_refused() {
    assert_refused(Mischief::UnknownKey).await;
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    assert_refused(Mischief::Expired).await;
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    assert_refused(Mischief::WrongAudience).await;
}

#[tokio::test]
async fn a_rotated_provider_key_is_fetched_once_and_accepted() {
    let op = HostileOp::start(Mischief::RotatedKey).await;
    let app = app_against(&op).await;
    assert_eq!(sign_in(&app).await, "/account");
    assert!(op.rotated());
    assert_eq!(app.store.count_live_sessions().await.expect("counted"), 1);
}

#[tokio::test]
async fn an_id_token_issued_an_hour_ago_is_refused() {
    assert_refused(Mischief::OldIat).await;
}

/// The authorization request `/auth/login?step_up=…` sends the provider, as query pairs.
async fn authorize_params(app: &TestApp, step_up: &str) -> Vec<(String, String)> {
    let response = app
        .client
        .get(app.url(&format!("/auth/login?step_up={step_up}")))
        .send()
        .await
        .expect("answered");
    let to = location(&response);
    url::Url::parse(&to)
        .expect("a URL")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn a_step_up_asks_the_provider_to_authenticate_again_and_level_2_alone_when_needed() {
    let op = HostileOp::start(Mischief::None).await;
    let app = app_against(&op).await;
    let plain = authorize_params(&app, "").await;
    assert_eq!(param(&plain, "prompt"), None);
    assert_eq!(param(&plain, "max_age"), None);
    assert_eq!(
        param(&plain, "acr_values"),
        Some("vneid:level1 vneid:level2")
    );
    let fresh = authorize_params(&app, "fresh").await;
    assert_eq!(param(&fresh, "prompt"), Some("login"));
    assert_eq!(param(&fresh, "max_age"), Some("0"));
    let level2 = authorize_params(&app, "level2").await;
    assert_eq!(param(&level2, "acr_values"), Some("vneid:level2"));
    assert_eq!(param(&level2, "prompt"), Some("login"));
    // An unknown kind of step-up is a bad request.
    let response = app
        .client
        .get(app.url("/auth/login?step_up=whatever"))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 400);
}

/// A step-up sign-in (`step_up=fresh`) against the provider; where the server sent the browser.
async fn step_up_sign_in(app: &TestApp) -> String {
    let response = app
        .client
        .get(app.url("/auth/login?step_up=fresh&return_to=%2Fdossiers"))
        .send()
        .await
        .expect("answered");
    let at_provider = app
        .client
        .get(location(&response))
        .send()
        .await
        .expect("answered");
    let back = app
        .client
        .get(location(&at_provider))
        .send()
        .await
        .expect("answered");
    location(&back)
}

#[tokio::test]
async fn a_provider_that_reuses_its_old_session_gives_no_fresh_proof() {
    // An ordinary sign-in through a provider's hour-old session: signed in, but dated an hour
    // ago, so a level-2 filing would ask for a new proof.
    let op = HostileOp::start(Mischief::OldSession).await;
    let app = app_against(&op).await;
    assert_eq!(sign_in(&app).await, "/account");
    let me = app.me().await;
    let now_ms = motcua_server::store::now_ms();
    let at = me["authenticated_at"].as_i64().expect("a time");
    assert!(
        at <= now_ms - 3_500_000,
        "dated by auth_time, not by our callback: {me}"
    );
    // A step-up through that same old session is refused, and opens nothing.
    let before = app.store.count_live_sessions().await.expect("counted");
    assert_eq!(
        step_up_sign_in(&app).await,
        "/account?signin_error=not_reauthenticated"
    );
    assert_eq!(
        app.store.count_live_sessions().await.expect("counted"),
        before
    );

    // Without auth_time there is no fresh proof either; with a new one, the step-up holds.
    let op = HostileOp::start(Mischief::NoAuthTime).await;
    let app = app_against(&op).await;
    assert_eq!(sign_in(&app).await, "/account");
    assert_eq!(app.me().await["authenticated_at"], 0);
    assert_eq!(
        step_up_sign_in(&app).await,
        "/account?signin_error=not_reauthenticated"
    );
    let op = HostileOp::start(Mischief::None).await;
    let app = app_against(&op).await;
    assert_eq!(step_up_sign_in(&app).await, "/dossiers");
    let at = app.me().await["authenticated_at"].as_i64().expect("a time");
    assert!(at >= motcua_server::store::now_ms() - 60_000);
}

#[tokio::test]
async fn over_https_the_sign_in_state_cookie_is_host_prefixed_and_its_removal_is_secure() {
    let op = HostileOp::start(Mischief::None).await;
    let issuer = op.issuer.clone();
    let app = spawn_app_with(move |c| {
        c.sandbox = false;
        c.public_url = "https://dichvucong.example.vn".into();
        c.oidc_issuer = issuer;
        c.oidc_client_id = CLIENT_ID.into();
        c.oidc_client_secret = Secret::new(CLIENT_SECRET);
    })
    .await;
    let start = app
        .client
        .get(app.url("/auth/login"))
        .send()
        .await
        .expect("answered");
    let set = start.headers()["set-cookie"]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(set.starts_with("__Host-motcua_login="), "{set}");
    for part in ["Secure", "HttpOnly", "Path=/", "SameSite=Lax"] {
        assert!(set.split("; ").any(|p| p == part), "{part} missing: {set}");
    }
    assert!(!set.contains("Domain="), "{set}");
    // Coming back (here refused by the provider) removes it, as the prefix requires: Secure.
    let back = app
        .client
        .get(app.url("/auth/callback?error=access_denied&state=x"))
        .send()
        .await
        .expect("answered");
    let removal = back.headers()["set-cookie"]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(removal.starts_with("__Host-motcua_login=;"), "{removal}");
    assert!(removal.split("; ").any(|p| p == "Secure"), "{removal}");
    assert!(removal.split("; ").any(|p| p == "Path=/"), "{removal}");
}
