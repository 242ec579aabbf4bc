//! The bench's load balancer: `bench-proxy ADDR BACKEND...` forwards each request to the next
//! backend in turn (round robin), streaming both bodies (live streams included), and prints
//! `listening ADDR` once bound. Requests to `/sandbox/` always go to the first backend: the
//! demo's identity provider keeps its authorisation codes in that instance's memory, as a real
//! provider is one service of its own.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderName, StatusCode, header},
    response::Response,
};

#[derive(Clone)]
struct Proxy {
    backends: Arc<Vec<String>>,
    next: Arc<AtomicUsize>,
    client: reqwest::Client,
}

/// Headers that belong to one hop, not passed on.
const HOP: [HeaderName; 4] = [
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::HOST,
    header::UPGRADE,
];

async fn forward(State(proxy): State<Proxy>, request: Request) -> Result<Response, StatusCode> {
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let backend = if path.starts_with("/sandbox/") {
        &proxy.backends[0]
    } else {
        let i = proxy.next.fetch_add(1, Ordering::Relaxed) % proxy.backends.len();
        &proxy.backends[i]
    };
    let body = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE)?;
    let mut outgoing = proxy
        .client
        .request(parts.method, format!("{backend}{path}"))
        .body(body);
    for (name, value) in &parts.headers {
        if !HOP.contains(name) {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = outgoing.send().await.map_err(|_| StatusCode::BAD_GATEWAY)?;
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if !HOP.contains(name) {
            response = response.header(name, value);
        }
    }
    response
        .body(Body::from_stream(answer.bytes_stream()))
        .map_err(|_| StatusCode::BAD_GATEWAY)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".into());
    let backends: Vec<String> = args.map(|b| b.trim_end_matches('/').to_owned()).collect();
    anyhow::ensure!(!backends.is_empty(), "usage: bench-proxy ADDR BACKEND...");
    let proxy = Proxy {
        backends: Arc::new(backends),
        next: Arc::new(AtomicUsize::new(0)),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_gzip()
            .build()?,
    };
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening {}", listener.local_addr()?);
    axum::serve(listener, Router::new().fallback(forward).with_state(proxy)).await?;
    Ok(())
}
