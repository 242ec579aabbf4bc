//! Bad input of every kind gets the JSON error shape with a 4xx, never a 5xx or a hang.

use motcua_tests::{assert_api_error, spawn_app};

#[tokio::test]
async fn unknown_api_routes_are_json_404s() {
    let app = spawn_app().await;
    for path in [
        "/api",
        "/api/",
        "/api/v1/nope",
        "/api/v2/procedures",
        "/api/v1/procedures/1.002804/extra",
    ] {
        assert_api_error(app.get(path).await, 404, "not_found").await;
    }
}

#[tokio::test]
async fn wrong_methods_are_json_405s() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/procedures"))
        .header("content-type", "application/json")
        .body(r#"{"code": 1}"#)
        .send()
        .await
        .expect("answered");
    assert_api_error(response, 405, "method_not_allowed").await;
    let response = app
        .client
        .delete(app.url("/api/health"))
        .send()
        .await
        .expect("answered");
    assert_api_error(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn oversized_and_malformed_bodies_are_refused_with_a_4xx() {
    let app = spawn_app().await;
    let big = vec![b'{'; 3 * 1024 * 1024];
    let response = app
        .client
        .put(app.url("/api/v1/procedures/1.002804"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("answered");
    let status = response.status().as_u16();
    assert!((400..500).contains(&status), "status {status}");
    assert_api_error(
        response,
        status,
        if status == 405 {
            "method_not_allowed"
        } else {
            "payload_too_large"
        },
    )
    .await;
}

#[tokio::test]
async fn bad_query_values_say_what_is_allowed() {
    let app = spawn_app().await;
    let body = assert_api_error(
        app.get("/api/v1/procedures?level=national").await,
        400,
        "invalid_query",
    )
    .await;
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("province")),
        "{body}"
    );
    assert_api_error(
        app.get("/api/v1/procedures?online_level=half").await,
        400,
        "invalid_query",
    )
    .await;
    let long = "a".repeat(101);
    assert_api_error(
        app.get(&format!("/api/v1/procedures?q={long}")).await,
        400,
        "invalid_query",
    )
    .await;
}

#[tokio::test]
async fn undecodable_path_segments_are_a_400_not_a_500() {
    let app = spawn_app().await;
    assert_api_error(
        app.get("/api/v1/procedures/%FF%FE").await,
        400,
        "invalid_path",
    )
    .await;
}

#[tokio::test]
async fn error_responses_keep_the_request_id_for_support() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v1/nope"))
        .header("x-request-id", "support-case-42")
        .send()
        .await
        .expect("answered");
    assert_eq!(response.headers()["x-request-id"], "support-case-42");
    assert_api_error(response, 404, "not_found").await;
}

/// The keys of a flat resource file (`key: "text"` lines).
fn resource_keys(lang: &str) -> std::collections::HashMap<String, String> {
    let path = format!(
        "{}/../client/locales/{lang}.yml",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .expect("the resource file reads")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
        .collect()
}

#[test]
fn every_error_code_has_a_vietnamese_and_an_english_text() {
    let (vi, en) = (resource_keys("vi"), resource_keys("en"));
    let mut missing = Vec::new();
    for code in motcua_shared::ErrorCode::ALL {
        let key = code.text_key();
        for (lang, texts) in [("vi", &vi), ("en", &en)] {
            if texts.get(&key).is_none_or(String::is_empty) {
                missing.push(format!("{lang}: {key}"));
            }
        }
    }
    assert!(missing.is_empty(), "texts missing: {missing:?}");
    // The same placeholders in both languages.
    for code in motcua_shared::ErrorCode::ALL {
        let key = code.text_key();
        let holes = |t: &str| t.matches("%{").count();
        assert_eq!(holes(&vi[&key]), holes(&en[&key]), "{key}");
    }
}

#[tokio::test]
async fn error_messages_are_in_the_reader_language_vietnamese_by_default() {
    let app = spawn_app().await;
    let vi = assert_api_error(app.get("/api/v1/me").await, 401, "unauthenticated").await;
    assert_eq!(vi["message"], "Hãy đăng nhập để tiếp tục.");
    let en = app
        .client
        .get(app.url("/api/v1/me"))
        .header("accept-language", "en-GB,en;q=0.9,vi;q=0.5")
        .send()
        .await
        .expect("answered");
    let en = assert_api_error(en, 401, "unauthenticated").await;
    assert_eq!(en["message"], "Sign in to continue.");
    // Errors made by the framework (no such route) too.
    let routed = app
        .client
        .get(app.url("/api/v1/no-such-thing"))
        .header("accept-language", "en")
        .send()
        .await
        .expect("answered");
    let routed = assert_api_error(routed, 404, "not_found").await;
    assert_eq!(routed["message"], "Not found, or not yours to see.");
}

/// Sends `head` (and `body`) on a raw connection, then nothing; what the server answers before
/// it closes the connection, within 10 s.
async fn stall(app: &motcua_tests::TestApp, head: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connected");
    stream.write_all(head.as_bytes()).await.expect("sent");
    stream.write_all(body).await.expect("sent");
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("the server closes a stalled connection within 10 s")
    .expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_client_that_stalls_its_headers_or_its_body_is_cut_off() {
    let app = motcua_tests::spawn_app_with(|c| {
        c.header_read_timeout_secs = 1;
        c.body_read_timeout_secs = 1;
    })
    .await;
    // Half a request head, then silence (slowloris): the connection is closed.
    let started = std::time::Instant::now();
    let answer = stall(&app, "GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: ", b"").await;
    assert!(!answer.contains("200 OK"), "{answer}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));

    // A body announced as 200 bytes, 10 sent: 408 with the JSON error, in the reader's language.
    let browser = motcua_tests::TestApp::second_browser(&app);
    browser.sign_in_as(motcua_tests::LEVEL2_CCCD).await;
    let me: serde_json::Value = browser.get("/api/v1/me").await.json().await.expect("json");
    let head = format!(
        "PUT /api/v1/me/notification-settings HTTP/1.1\r\nHost: x\r\nCookie: {}\r\nX-CSRF-Token: {}\r\n\
         Content-Type: application/json\r\nAccept-Language: en\r\nContent-Length: 200\r\n\r\n",
        browser.cookie_header(),
        me["csrf_token"].as_str().expect("token")
    );
    let answer = stall(&app, &head, b"{\"lang\": \"").await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"error\":\"timeout\""), "{answer}");
    // Nothing was saved.
    let settings: serde_json::Value = browser
        .get("/api/v1/me/notification-settings")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(settings["quiet_from"], "22:00");
}
