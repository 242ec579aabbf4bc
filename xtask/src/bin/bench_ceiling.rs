//! The ceiling the bench divides motcua's figures by, measured on the same machine in the same
//! run: a bare axum server answering `GET /` with the bytes of the file it is given (the
//! catalogue's JSON, as motcua answers it) from memory, brotli or gzip compressed beforehand
//! when the request accepts it, as a fair server of prepared bytes would. Without a file it
//! answers a short JSON body.

use std::io::Write as _;

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, HeaderValue, header},
    response::Response,
    routing::get,
};

#[derive(Clone)]
struct Prepared {
    json: bytes::Bytes,
    gzip: bytes::Bytes,
    brotli: bytes::Bytes,
}

fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|p| p.trim().starts_with(coding)))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".into());
    let json = match args.next() {
        Some(path) => std::fs::read(path)?,
        None => br#"{"status":"ok"}"#.to_vec(),
    };
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&json)?;
    let gzip = gzip.finish()?;
    let mut brotli = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut brotli, 4096, 11, 22);
        w.write_all(&json)?;
    }
    let prepared = Prepared {
        json: json.into(),
        gzip: gzip.into(),
        brotli: brotli.into(),
    };
    let app = Router::new().route(
        "/",
        get(move |headers: HeaderMap| {
            let p = prepared.clone();
            async move {
                let (body, coding) = if accepts(&headers, "br") {
                    (p.brotli, Some("br"))
                } else if accepts(&headers, "gzip") {
                    (p.gzip, Some("gzip"))
                } else {
                    (p.json, None)
                };
                let mut response = Response::new(Body::from(body));
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                if let Some(coding) = coding {
                    response
                        .headers_mut()
                        .insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
                }
                response
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
