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
