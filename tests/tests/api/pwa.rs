//! Serving the built PWA: content types, caching, pre-compressed files and the app shell.

use std::fs;

use motcua_tests::{assert_api_error, spawn_app_with};

const JS: &str = "motcua-0123456789abcdef.js";
const WASM: &str = "motcua_bg-fedcba9876543210.wasm";

async fn app_with_pwa() -> (motcua_tests::TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>shell</title>",
    )
    .expect("write");
    for (shell, title) in [
        ("citizen.html", "citizen app"),
        ("account.html", "account app"),
        ("office.html", "office app"),
    ] {
        fs::write(
            dir.path().join(shell),
            format!("<!doctype html><title>{title}</title>"),
        )
        .expect("write");
    }
    fs::write(dir.path().join(JS), "export default 1;").expect("write");
    fs::write(dir.path().join(format!("{JS}.gz")), b"\x1f\x8bgzipped").expect("write");
    fs::write(dir.path().join(WASM), b"\0asm\x01\0\0\0").expect("write");
    fs::write(
        dir.path().join("sw.js"),
        "self.addEventListener('fetch', () => {});",
    )
    .expect("write");
    let web = dir.path().to_path_buf();
    let app = spawn_app_with(move |c| c.web_dir = web).await;
    (app, dir)
}

#[tokio::test]
async fn the_shell_is_served_for_client_routes_and_never_cached_stale() {
    let (app, _dir) = app_with_pwa().await;
    for (path, shell) in [
        ("/", "shell"),
        ("/procedures", "shell"),
        ("/procedures/1.002804", "shell"),
        ("/procedures/1.002804/file", "citizen app"),
        ("/dossiers/123", "citizen app"),
        ("/account", "account app"),
        ("/office", "office app"),
        ("/office/123", "office app"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("text/html")
        );
        assert_eq!(response.headers()["cache-control"], "no-cache", "{path}");
        assert!(
            response.text().await.expect("text").contains(shell),
            "{path} gets the {shell}"
        );
    }
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_typed() {
    let (app, _dir) = app_with_pwa().await;
    let js = app.get(&format!("/{JS}")).await;
    assert_eq!(js.status(), 200);
    assert!(
        js.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .contains("javascript")
    );
    assert!(
        js.headers()["cache-control"]
            .to_str()
            .expect("ascii")
            .contains("immutable")
    );
    let wasm = app.get(&format!("/{WASM}")).await;
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    let sw = app.get("/sw.js").await;
    assert_eq!(sw.headers()["cache-control"], "no-cache");
}

#[tokio::test]
async fn precompressed_files_are_served_to_browsers_that_accept_them() {
    let (app, _dir) = app_with_pwa().await;
    let response = app
        .client
        .get(app.url(&format!("/{JS}")))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("answered");
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(
        &response.bytes().await.expect("body")[..],
        b"\x1f\x8bgzipped"
    );
}

#[tokio::test]
async fn missing_files_are_404_not_the_shell_and_the_api_never_falls_back_to_it() {
    let (app, _dir) = app_with_pwa().await;
    assert_eq!(app.get("/missing-0123456789abcdef.js").await.status(), 404);
    assert_eq!(app.get("/favicon.ico").await.status(), 404);
    assert_api_error(
        app.get("/api/v1/no-such-collection").await,
        404,
        "not_found",
    )
    .await;
}
