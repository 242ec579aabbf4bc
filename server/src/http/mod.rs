//! Cross-cutting HTTP layers: security headers, request logging, rate limits.

pub mod client_addr;
pub mod page;
pub mod rate_limit;
pub mod serve;

use axum::{
    extract::{Request, State},
    http::{HeaderName, HeaderValue, header},
    middleware::Next,
    response::Response,
};

use crate::{AppState, error::InternalCause};

/// The content security policy of every response. `'wasm-unsafe-eval'` lets the PWA compile its
/// WebAssembly; no inline script or style is allowed anywhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; \
     manifest-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Middleware: the security headers of every response, HSTS only when served over https.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    // What the API and sign-in answer is personal unless a handler says how to cache it (the
    // status lists do): no cache, shared or the browser's, keeps it.
    let api = {
        let path = request.uri().path();
        path.starts_with("/api/") || path.starts_with("/auth/")
    };
    let set = |headers: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if api {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        CONTENT_SECURITY_POLICY,
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(
        headers,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        headers,
        HeaderName::from_static("permissions-policy"),
        "camera=(self), geolocation=(), microphone=(), payment=()",
    );
    if state.config.is_https() {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    response
}

/// Middleware: logs 5xx answers with their cause (which the client never sees).
pub async fn log_server_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if response.status().is_server_error() {
        let cause = response
            .extensions()
            .get::<InternalCause>()
            .map(|c| c.0.as_str())
            .unwrap_or("-");
        tracing::error!(%method, %path, status = response.status().as_u16(), cause, "request failed");
    }
    response
}
