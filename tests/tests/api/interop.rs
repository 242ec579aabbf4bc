//! The relying party against code nobody here wrote: the certified `oidc-provider` package
//! (RS256 keys, client_secret_basic, PKCE required, claims from userinfo).

use motcua_server::config::Secret;
use motcua_tests::{
    location,
    peers::node_op::{CLIENT_ID, CLIENT_SECRET, NodeOp},
    spawn_app_at,
};

/// Signs Bình in through the `oidc-provider` package reporting `acr` (`"-"`: none); returns her
/// `/api/v1/me`.
async fn sign_in_reporting(acr: &str) -> serde_json::Value {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("bound"));
    let op = NodeOp::start_reporting(&format!("{base}/auth/callback"), acr).await;
    let issuer = op.issuer.clone();
    let app = spawn_app_at(listener, move |c| {
        c.sandbox = false;
        c.oidc_issuer = issuer;
        c.oidc_client_id = CLIENT_ID.into();
        c.oidc_client_secret = Secret::new(CLIENT_SECRET);
    })
    .await;

    let mut next = app.start_sign_in(Some("/dossiers")).await;
    assert!(next.starts_with(&op.issuer), "{next}");
    // Follow the provider's redirects (its interactions complete without a form) back to us.
    for _ in 0..10 {
        if next.starts_with(&app.url("/auth/callback")) {
            break;
        }
        let url = if next.starts_with('/') {
            format!("{}{next}", op.issuer)
        } else {
            next.clone()
        };
        let response = app
            .client
            .get(&url)
            .send()
            .await
            .expect("the provider answers");
        assert!(
            response.status().is_redirection(),
            "{url} answered {}",
            response.status()
        );
        next = location(&response);
    }
    assert!(
        next.starts_with(&app.url("/auth/callback")),
        "never came back: {next}"
    );
    let response = app.client.get(&next).send().await.expect("answered");
    assert_eq!(location(&response), "/dossiers");

    app.me().await
}

#[tokio::test]
async fn sign_in_works_against_the_oidc_provider_package() {
    let me = sign_in_reporting("vneid:level1").await;
    assert_eq!(me["cccd"], "079195004321");
    assert_eq!(me["name"], "Trần Thị Bình");
    assert_eq!(me["birthdate"], "1995-11-02");
    assert_eq!(me["acr"], "vneid:level1");
}

#[tokio::test]
async fn a_provider_that_reports_no_acr_or_an_unknown_one_signs_people_in_at_level_1() {
    let me = sign_in_reporting("-").await;
    assert_eq!(me["cccd"], "079195004321");
    assert_eq!(me["acr"], "vneid:level1");
    let me = sign_in_reporting("urn:example:loa:substantial").await;
    assert_eq!(me["acr"], "vneid:level1");
    // Only the explicit level-2 value gives level 2.
    assert_eq!(
        sign_in_reporting("vneid:level2").await["acr"],
        "vneid:level2"
    );
}
