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
    assert_eq!(app.get("/api/health").await.status(), 200);
    app.store.close().await;
    // Health answers from the readiness worker's last ping (at most a second old), so the
    // outage shows within about a second, and then stays.
    let start = std::time::Instant::now();
    loop {
        let response = app.get("/api/health").await;
        if response.status() == 503 {
            assert_api_error(response, 503, "unavailable").await;
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "still {} five seconds after the database closed",
            response.status()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
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
        "/api/v1/stats/scorecard",
        "/api/v1/stats/trend",
        "/api/v1/dossiers/{id}/rating",
        "/api/v1/feedback",
        "/api/v1/me/feedback",
        "/api/v1/me/feedback/{id}/settled",
        "/api/v1/officer/feedback",
        "/api/v1/officer/feedback/{id}/answer",
        "/api/v1/officer/ratings",
        "/api/v1/officer/dashboard",
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

/// Reads a `/metrics` answer with a Prometheus text-format parser.
async fn scrape(response: reqwest::Response) -> prometheus_parse::Scrape {
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("parses")
}

fn sample<'a>(
    scrape: &'a prometheus_parse::Scrape,
    metric: &str,
    label: (&str, &str),
) -> Option<&'a prometheus_parse::Sample> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == metric && s.labels.get(label.0) == Some(label.1))
}

fn number(sample: Option<&prometheus_parse::Sample>) -> f64 {
    match sample.map(|s| &s.value) {
        Some(
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v),
        ) => *v,
        other => panic!("not a number: {other:?}"),
    }
}

#[tokio::test]
async fn metrics_parse_and_count_dossiers_payments_outbox_syncs_and_verifications() {
    let app = spawn_app().await;
    let outbox = motcua_server::startup::dispatcher(&app.state);
    outbox.register().await.expect("registered");
    let id = crate::back_office::filed_renewal(&app).await;
    let officer = crate::back_office::officer(&app, crate::back_office::TRAFFIC_OFFICER).await;
    for action in ["receive", "start_processing", "approve", "issue_result"] {
        assert_eq!(
            crate::back_office::act(&officer, &id, action, None)
                .await
                .status(),
            200
        );
    }
    outbox
        .deliver_due(motcua_server::store::now_ms())
        .await
        .expect("delivered");
    let verified = app
        .client
        .post(app.url("/api/v1/verify"))
        .json(&serde_json::json!({ "qr": "VN1:not a credential" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(verified.status(), 200);

    let scrape = scrape(app.get("/metrics").await).await;
    assert_eq!(
        number(sample(
            &scrape,
            "motcua_dossiers",
            ("status", "result_issued")
        )),
        1.0
    );
    assert_eq!(
        number(sample(&scrape, "motcua_payments", ("state", "paid"))),
        1.0
    );
    assert_eq!(
        number(sample(
            &scrape,
            "motcua_outbox_pending",
            ("consumer", "national_portal")
        )),
        0.0
    );
    assert!(
        sample(
            &scrape,
            "motcua_outbox_oldest_pending_seconds",
            ("consumer", "emc")
        )
        .is_some()
    );
    let synced = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "motcua_national_sync_ack_seconds"
                && s.labels.get("system") == Some("portal")
        })
        .expect("the portal's acknowledgement delays");
    match &synced.value {
        prometheus_parse::Value::Histogram(buckets) => {
            let all = buckets.last().expect("buckets").count;
            assert!(all >= 6.0, "{buckets:?}");
        }
        other => panic!("not a histogram: {other:?}"),
    }
    assert!(
        scrape
            .samples
            .iter()
            .any(|s| s.metric == "motcua_verifications_total"
                && s.labels.get("result") != Some("valid")),
        "the undecodable QR is counted"
    );
    assert!(scrape.docs.contains_key("motcua_http_requests_total"));
}

#[tokio::test]
async fn metrics_are_for_this_machine_named_networks_or_the_token_only() {
    let app = motcua_tests::spawn_app_with(|c| {
        c.trusted_proxies = "127.0.0.1".into();
        c.metrics_networks = "198.51.100.0/24".into();
        c.metrics_token = motcua_server::config::Secret::new("scrape-secret");
    })
    .await;
    let from = |ip: &str, token: Option<&str>| {
        let mut request = app
            .client
            .get(app.url("/metrics"))
            .header("x-forwarded-for", ip);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request.send()
    };
    assert_api_error(
        from("203.0.113.9", None).await.expect("answered"),
        403,
        "forbidden",
    )
    .await;
    assert_api_error(
        from("203.0.113.9", Some("guess")).await.expect("answered"),
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        from("198.51.100.7", None).await.expect("answered").status(),
        200
    );
    assert_eq!(
        from("203.0.113.9", Some("scrape-secret"))
            .await
            .expect("answered")
            .status(),
        200
    );
    // Without a forwarding header the peer is this machine.
    assert_eq!(app.get("/metrics").await.status(), 200);
}
