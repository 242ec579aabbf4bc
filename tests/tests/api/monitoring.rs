//! Health, OpenAPI and metrics.

use motcua_tests::{Engine, assert_api_error, engine, spawn_app};

#[tokio::test]
async fn health_is_ok_when_the_database_answers() {
    let app = spawn_app().await;
    let body = app.get_json("/api/health", 200).await;
    assert_eq!(body["status"], "ok");
    let expected = match engine() {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    };
    assert_eq!(body["database"], expected);
}

#[tokio::test]
async fn health_is_503_in_the_error_shape_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.store.close().await;
    assert_api_error(app.get("/api/health").await, 503, "unavailable").await;
}

#[tokio::test]
async fn the_openapi_document_lists_every_api_route() {
    let app = spawn_app().await;
    let doc = app.get_json("/api/openapi.json", 200).await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    for path in [
        "/api/health",
        "/api/v1/procedures",
        "/api/v1/procedures/{code}",
        "/api/v1/me",
        "/api/v1/me/sessions",
        "/api/v1/me/sessions/{id}",
        "/api/v1/me/sessions/revoke-all",
        "/api/v1/me/data-access",
        "/api/v1/me/acting-for",
        "/api/v1/me/passkeys",
        "/api/v1/me/passkeys/{id}",
        "/api/v1/me/passkeys/registration/start",
        "/api/v1/me/passkeys/registration/finish",
        "/api/v1/me/step-up/passkey/start",
        "/api/v1/me/step-up/passkey/finish",
        "/api/v1/officer/assignment",
        "/api/v1/me/records",
        "/api/v1/procedures/{code}/prefill",
        "/api/v1/dossiers",
        "/api/v1/dossiers/{id}",
        "/api/v1/dossiers/{id}/withdraw",
        "/api/v1/officer/dossiers",
        "/api/v1/officer/dossiers/{id}",
        "/api/v1/officer/dossiers/{id}/actions",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"]["Procedure"].is_object());
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_in_prometheus_text() {
    let app = spawn_app().await;
    app.get("/api/v1/procedures/1.002804").await;
    app.get("/api/v1/procedures/does-not-exist").await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.expect("text");
    assert!(
        text.contains(r#"motcua_http_requests_total{method="GET",route="/api/v1/procedures/{code}",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"motcua_http_requests_total{method="GET",route="/api/v1/procedures/{code}",status="404"} 1"#),
        "{text}"
    );
    assert!(
        !text.contains("1.002804"),
        "raw paths must not become label values"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_a_request_id() {
    let app = spawn_app().await;
    let response = app.get("/api/health").await;
    let headers = response.headers();
    let csp = headers["content-security-policy"].to_str().expect("ascii");
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.get("x-request-id").is_some());
    // Served over http here: HSTS would be wrong.
    assert!(headers.get("strict-transport-security").is_none());
}

#[tokio::test]
async fn hsts_is_sent_when_the_public_url_is_https() {
    let app = motcua_tests::spawn_app_with(|c| {
        c.public_url = "https://dichvucong.example.vn".into();
        c.sandbox = false;
    })
    .await;
    let response = app.get("/api/health").await;
    let hsts = response.headers()["strict-transport-security"]
        .to_str()
        .expect("ascii");
    assert!(hsts.starts_with("max-age="), "{hsts}");
}

#[tokio::test]
async fn a_server_with_sandboxes_at_an_https_address_starts_only_with_the_explicit_override() {
    let db = motcua_tests::TestDatabase::new().await;
    let data = tempfile::tempdir().expect("a folder");
    let config = motcua_server::Config {
        addr: "127.0.0.1:0".parse().expect("an address"),
        public_url: "https://dichvucong.example.vn".into(),
        database_url: motcua_server::config::Secret::new(db.url.clone()),
        data_dir: data.path().to_path_buf(),
        sandbox: true,
        worker_interval_secs: 0,
        ..motcua_server::Config::default()
    };
    let refused = motcua_server::Application::build(config.clone())
        .await
        .err()
        .expect("refused");
    assert!(
        format!("{refused:#}").contains("MOTCUA_ALLOW_SANDBOX_ON_HTTPS"),
        "{refused:#}"
    );
    let allowed = motcua_server::Application::build(motcua_server::Config {
        allow_sandbox_on_https: true,
        ..config
    })
    .await;
    assert!(allowed.is_ok(), "the explicit override starts it");
}
