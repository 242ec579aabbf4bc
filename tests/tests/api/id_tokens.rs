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
