//! Serves the built PWA: pre-compressed files with their content types, long-lived caching of
//! content-hashed assets, and for client-side routes the shell page of the route's entry bundle
//! (`motcua_shared::pages`).

use std::{convert::Infallible, path::PathBuf};

use axum::{
    body::Body,
    http::{HeaderValue, Method, Request, StatusCode, header},
    response::{IntoResponse, Response},
};
use motcua_shared::pages::{Bundle, bundle_of};
use tower::{ServiceExt, service_fn, util::BoxCloneSyncService};
use tower_http::services::{ServeDir, ServeFile};

/// Hashed assets never change under their name; everything else must be revalidated so a new
/// release is seen at once (the service worker then updates the shell).
fn cache_control(path: &str) -> HeaderValue {
    if is_hashed_asset(path) {
        HeaderValue::from_static("public, max-age=31536000, immutable")
    } else {
        HeaderValue::from_static("no-cache")
    }
}

/// `motcua-0123456789abcdef.wasm`: a name that ends in a dash and 16 hex digits before the extension.
pub fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The service for every path no other route claims.
pub fn service(web_dir: PathBuf) -> BoxCloneSyncService<Request<Body>, Response, Infallible> {
    let shell_of = |name: &str| {
        ServeFile::new(web_dir.join(name))
            .precompressed_br()
            .precompressed_gzip()
    };
    // Each entry bundle's shell page, by `motcua_shared::pages` (one shell for all when the
    // others are missing).
    let shells: Vec<(Bundle, ServeFile)> = Bundle::ALL
        .into_iter()
        .map(|bundle| {
            let name = if web_dir.join(bundle.shell()).is_file() {
                bundle.shell()
            } else {
                "index.html"
            };
            (bundle, shell_of(name))
        })
        .collect();
    let files = ServeDir::new(&web_dir)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(true)
        .fallback(service_fn(move |request: Request<Body>| {
            let bundle = bundle_of(request.uri().path());
            let shell = shells
                .iter()
                .find(|(b, _)| *b == bundle)
                .map(|(_, shell)| shell.clone());
            async move {
                let path = request.uri().path();
                let last = path.rsplit('/').next().unwrap_or("");
                // A page unless it names a static file (`/procedures/1.002804` is a page: a
                // procedure code has a dot).
                let is_file = last.rsplit_once('.').is_some_and(|(_, ext)| {
                    matches!(
                        ext,
                        "js" | "mjs"
                            | "wasm"
                            | "css"
                            | "html"
                            | "png"
                            | "svg"
                            | "ico"
                            | "json"
                            | "webmanifest"
                            | "txt"
                            | "map"
                            | "gz"
                            | "br"
                    )
                });
                let is_page = matches!(*request.method(), Method::GET | Method::HEAD) && !is_file;
                if !is_page {
                    return Ok::<_, Infallible>(
                        (StatusCode::NOT_FOUND, "Not found").into_response(),
                    );
                }
                let Some(shell) = shell else {
                    return Ok((StatusCode::NOT_FOUND, "Not found").into_response());
                };
                // A client-side route: answer with its bundle's shell, which routes in the browser.
                let response = shell
                    .oneshot(request)
                    .await
                    .map(IntoResponse::into_response);
                Ok(response.unwrap_or_else(|never| match never {}))
            }
        }));
    BoxCloneSyncService::new(service_fn(move |request: Request<Body>| {
        let files = files.clone();
        async move {
            let path = request.uri().path().to_owned();
            let mut response = match files.oneshot(request).await {
                Ok(r) => r.into_response(),
                Err(never) => match never {},
            };
            if response.status() == StatusCode::OK || response.status() == StatusCode::NOT_MODIFIED
            {
                let served_shell = !is_hashed_asset(&path)
                    && response
                        .headers()
                        .get(header::CONTENT_TYPE)
                        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
                let value = if served_shell {
                    HeaderValue::from_static("no-cache")
                } else {
                    cache_control(&path)
                };
                response.headers_mut().insert(header::CACHE_CONTROL, value);
            }
            Ok::<_, Infallible>(response)
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::is_hashed_asset;

    #[test]
    fn only_names_with_a_sixteen_digit_hash_are_immutable() {
        assert!(is_hashed_asset("/motcua-0123456789abcdef.wasm"));
        assert!(is_hashed_asset("/assets/app-fedcba9876543210.css"));
        assert!(!is_hashed_asset("/sw.js"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/icon-192.png"));
        assert!(!is_hashed_asset("/x-0123456789abcdeg.js"));
    }
}
