//! Helpers for black-box tests: each test gets a fresh database on the engine this run targets
//! (`MOTCUA_TEST_DATABASE=sqlite|postgres`) and a real server on a free port.

pub mod bench;
pub mod pay;
pub mod peers;

use std::path::PathBuf;

use motcua_server::{Application, Config, config::Secret, store::Store};
use sqlx::{Connection, Executor, PgConnection};

/// The database engine this test run targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Reads `MOTCUA_TEST_DATABASE` (default `sqlite`). Asking for PostgreSQL without
/// `MOTCUA_TEST_POSTGRES_URL` is a failure, never a silent skip.
pub fn engine() -> Engine {
    match std::env::var("MOTCUA_TEST_DATABASE").as_deref() {
        Ok("postgres") => Engine::Postgres,
        Ok("sqlite") | Err(_) => Engine::Sqlite,
        Ok(other) => panic!("MOTCUA_TEST_DATABASE={other}: use sqlite or postgres"),
    }
}

/// A database that exists only for one test.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn new() -> TestDatabase {
        match engine() {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary folder");
                TestDatabase {
                    url: format!("sqlite://{}/motcua.db", dir.path().display()),
                    _dir: Some(dir),
                }
            }
            Engine::Postgres => {
                let admin = std::env::var("MOTCUA_TEST_POSTGRES_URL").expect(
                    "MOTCUA_TEST_DATABASE=postgres needs MOTCUA_TEST_POSTGRES_URL (cargo xtask test starts PostgreSQL)",
                );
                let name = format!("motcua_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = PgConnection::connect(&admin)
                    .await
                    .expect("connecting to the test PostgreSQL");
                // The name is generated here (a UUID), never user input.
                conn.execute(sqlx::AssertSqlSafe(format!("create database {name}")))
                    .await
                    .expect("creating a test database");
                let _ = conn.close().await;
                let base = admin
                    .rsplit_once('/')
                    .map_or(admin.as_str(), |(base, _)| base);
                TestDatabase {
                    url: format!("{base}/{name}"),
                    _dir: None,
                }
            }
        }
    }

    /// A store on this database with the migrations applied.
    pub async fn store(&self) -> Store {
        let store = Store::connect(&self.url, 4)
            .await
            .expect("connecting the store");
        store.migrate().await.expect("migrating");
        store
    }
}

/// A server running for one test, reached over real HTTP.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// The server's own store, for arranging data and for checking what was written.
    pub store: Store,
    pub config: Config,
    /// The sandbox identity provider's registered client (id, secret), when the sandbox is on.
    pub sandbox_client: Option<(String, String)>,
    /// The sandbox registers' API key (what the platform sends them), when the sandbox is on.
    pub sandbox_registry_key: Option<String>,
    /// The server's state, for running its background steps (outbox consumers, payment jobs).
    pub state: motcua_server::AppState,
    /// The sandbox payment gateway and tax authority, when the sandbox is on.
    pub gateway: Option<std::sync::Arc<motcua_server::sandbox::vnpay::SandboxGateway>>,
    pub tax: Option<std::sync::Arc<motcua_server::sandbox::tax::SandboxTax>>,
    /// The sandbox national portal and EMC, when the sandbox is on.
    pub national: Option<std::sync::Arc<motcua_server::sandbox::national::SandboxNational>>,
    _db: TestDatabase,
    _data_dir: tempfile::TempDir,
}

/// Starts a server on a fresh database with the default test configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server on a fresh database after `adjust` has changed the test configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    spawn_app_at(listener, adjust).await
}

/// As [`spawn_app_with`], on a listener the test bound first (to know the server's URL before
/// it starts, for a peer that must be told it).
pub async fn spawn_app_at(
    listener: tokio::net::TcpListener,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    // Server logs in test output on demand: MOTCUA_TEST_LOG=debug cargo test …
    if let Ok(filter) = std::env::var("MOTCUA_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
    let db = TestDatabase::new().await;
    let addr = listener.local_addr().expect("bound");
    let data_dir = tempfile::tempdir().expect("a data folder");
    let mut config = Config {
        addr,
        public_url: format!("http://{addr}"),
        database_url: Secret::new(db.url.clone()),
        database_max_connections: 4,
        web_dir: PathBuf::from("/nonexistent-motcua-web"),
        data_dir: data_dir.path().to_path_buf(),
        sandbox: true,
        // Tests run the worker's steps themselves, at the moment they choose.
        worker_interval_secs: 0,
        reminders_every_secs: 0,
        // Tests count what a sign-in writes; the wallet's tests turn the demo licence on.
        sandbox_seed_wallet: false,
        ..Config::default()
    };
    adjust(&mut config);
    let app = Application::build_on(config.clone(), listener)
        .await
        .expect("the server starts");
    // Reach the server by the name users see when that is this machine (cookies follow the host).
    let public = config.public_url.trim_end_matches('/');
    let address =
        if public.starts_with("http://localhost:") || public.starts_with("http://127.0.0.1:") {
            public.to_owned()
        } else {
            format!("http://{}", app.local_addr().expect("bound"))
        };
    let store = app.state().store.clone();
    let sandbox_client = app
        .sandbox()
        .map(|s| (s.idp.client.id.clone(), s.idp.client.secret.clone()));
    let sandbox_registry_key = app.sandbox().map(|s| s.registries.api_key.clone());
    let state = app.state().clone();
    let gateway = app.sandbox().map(|s| s.gateway.clone());
    let tax = app.sandbox().map(|s| s.tax.clone());
    let national = app.sandbox().map(|s| s.national.clone());
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("an HTTP client");
    TestApp {
        address,
        client,
        store,
        config,
        sandbox_client,
        sandbox_registry_key,
        state,
        gateway,
        tax,
        national,
        _db: db,
        _data_dir: data_dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("the request is answered")
    }

    /// `GET` expecting `status`, returning the JSON body.
    pub async fn get_json(&self, path: &str, status: u16) -> serde_json::Value {
        let response = self.get(path).await;
        assert_eq!(response.status().as_u16(), status, "GET {path}");
        response.json().await.expect("a JSON body")
    }
}

/// The demo password of every sandbox person.
pub const DEMO_PASSWORD: &str = "demo1234";
/// A level-2 demo citizen and a level-1 one (server/seed/sandbox/people.toml).
pub const LEVEL2_CCCD: &str = "001088012345";
pub const LEVEL1_CCCD: &str = "079195004321";

/// The hidden fields of the sandbox provider's sign-in form.
pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let unescape = |v: &str| {
        v.replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|rest| {
            let name = rest.split("name=\"").nth(1)?.split('"').next()?;
            let value = rest.split("value=\"").nth(1)?.split('"').next()?;
            Some((name.to_owned(), unescape(value)))
        })
        .collect()
}

/// The `Location` of a redirect response.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_default()
}

impl TestApp {
    /// Another browser (its own cookies) on the same server, sharing nothing else.
    pub fn second_browser(app: &TestApp) -> Browser {
        Browser::at(&app.address)
    }
}

/// A browser of its own against a running test server.
pub struct Browser {
    pub address: String,
    pub client: reqwest::Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
}

impl Browser {
    /// A browser with no cookies yet, against the server at `address`.
    pub fn at(address: &str) -> Browser {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        Browser {
            address: address.trim_end_matches('/').to_owned(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_provider(jar.clone())
                .build()
                .expect("an HTTP client"),
            jar,
        }
    }

    /// The `Cookie` header this browser sends to its server (its session).
    pub fn cookie_header(&self) -> String {
        use reqwest::cookie::CookieStore;
        let url: reqwest::Url = self.address.parse().expect("a URL");
        self.jar
            .cookies(&url)
            .and_then(|v| v.to_str().ok().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Signs this browser in as `cccd` through the sandbox provider.
    pub async fn sign_in_as(&self, cccd: &str) {
        let authorize = self.start_sign_in(None).await;
        let callback = self.provider_sign_in(&authorize, cccd, DEMO_PASSWORD).await;
        let response = self.client.get(callback).send().await.expect("answered");
        assert_eq!(response.status().as_u16(), 303);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("the request is answered")
    }

    pub async fn start_sign_in(&self, return_to: Option<&str>) -> String {
        sign_in_start(&self.client, &self.url("/auth/login"), return_to).await
    }

    pub async fn provider_sign_in(
        &self,
        authorize_url: &str,
        cccd: &str,
        password: &str,
    ) -> String {
        provider_form(
            &self.client,
            &self.url("/sandbox/idp/authorize"),
            authorize_url,
            cccd,
            password,
        )
        .await
    }
}

async fn sign_in_start(
    client: &reqwest::Client,
    login_url: &str,
    return_to: Option<&str>,
) -> String {
    let mut url = login_url.to_owned();
    if let Some(r) = return_to {
        url = format!("{url}?return_to={}", urlencode(r));
    }
    let response = client.get(url).send().await.expect("answered");
    assert_eq!(
        response.status().as_u16(),
        303,
        "login redirects to the provider"
    );
    location(&response)
}

async fn provider_form(
    client: &reqwest::Client,
    post_url: &str,
    authorize_url: &str,
    cccd: &str,
    password: &str,
) -> String {
    let page = client.get(authorize_url).send().await.expect("answered");
    assert_eq!(page.status(), 200, "the provider shows its sign-in form");
    let mut form = hidden_fields(&page.text().await.expect("html"));
    form.push(("cccd".into(), cccd.into()));
    form.push(("password".into(), password.into()));
    let response = client
        .post(post_url)
        .form(&form)
        .send()
        .await
        .expect("answered");
    assert_eq!(
        response.status().as_u16(),
        303,
        "the provider redirects back"
    );
    location(&response)
}

impl TestApp {
    /// Starts a sign-in like a browser: `/auth/login`, then the provider's form. Returns the
    /// provider's sign-in page URL.
    pub async fn start_sign_in(&self, return_to: Option<&str>) -> String {
        sign_in_start(&self.client, &self.url("/auth/login"), return_to).await
    }

    /// Submits the provider's form for `cccd`; returns the callback URL the provider redirects to.
    pub async fn provider_sign_in(
        &self,
        authorize_url: &str,
        cccd: &str,
        password: &str,
    ) -> String {
        provider_form(
            &self.client,
            &self.url("/sandbox/idp/authorize"),
            authorize_url,
            cccd,
            password,
        )
        .await
    }

    /// The whole e-ID sign-in; returns where the server finally sent the browser.
    pub async fn sign_in(&self, cccd: &str) -> String {
        let authorize = self.start_sign_in(None).await;
        let callback = self.provider_sign_in(&authorize, cccd, DEMO_PASSWORD).await;
        let response = self.client.get(callback).send().await.expect("answered");
        assert_eq!(response.status().as_u16(), 303);
        location(&response)
    }

    /// `GET /api/v1/me` as JSON, asserting it answers 200.
    pub async fn me(&self) -> serde_json::Value {
        self.get_json("/api/v1/me", 200).await
    }

    /// A POST carrying the CSRF token of the current session.
    pub async fn post_with_csrf(&self, path: &str) -> reqwest::Response {
        let token = self.me().await["csrf_token"]
            .as_str()
            .expect("a csrf token")
            .to_owned();
        self.client
            .post(self.url(path))
            .header("x-csrf-token", token)
            .send()
            .await
            .expect("answered")
    }
}

/// Percent-encodes a query value.
pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Asserts that `response` is the project's JSON error with `status` and `code`.
pub async fn assert_api_error(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> serde_json::Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status of {}",
        response.url()
    );
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "content type {content_type}"
    );
    let body: serde_json::Value = response.json().await.expect("a JSON error body");
    assert_eq!(body["error"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}

/// Writes `n` account notices (`<prefix>-<i>`, each with its own topic) to `person_id` in one
/// transaction, as the outbox's notices consumer writes notices: each is announced as an event
/// that push and the live feed take.
pub async fn write_account_notices(store: &Store, person_id: &str, prefix: &str, n: usize) {
    let mut tx = store.begin_write().await.expect("a transaction");
    for i in 0..n {
        let id = format!("{prefix}-{i}");
        motcua_server::notifications::inbox::write_notice(
            &mut tx,
            &motcua_server::notifications::inbox::NewNotice {
                id: &id,
                person_id,
                dossier_id: None,
                kind: "account",
                template: "passkey_removed",
                params: &serde_json::json!({ "name": format!("key {i}") }),
                link: "/account",
                topic: &format!("account:{prefix}-{i}"),
            },
        )
        .await
        .expect("a notice written");
    }
    tx.commit().await.expect("committed");
}

/// Another instance of a test server: its own listener, pool, caches, rate limiter's memory and
/// live hub, on the same database, data folder and configuration (as instances behind a load
/// balancer are). It runs until the test ends.
pub struct Instance {
    pub address: String,
    pub state: motcua_server::AppState,
}

impl Instance {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

impl TestApp {
    /// Starts another instance beside this one (see [`Instance`]).
    pub async fn another_instance(&self) -> Instance {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let address = format!("http://{}", listener.local_addr().expect("bound"));
        let app = Application::build_on(self.config.clone(), listener)
            .await
            .expect("another instance starts");
        let state = app.state().clone();
        tokio::spawn(app.run_until(std::future::pending()));
        Instance { address, state }
    }
}

impl TestApp {
    /// The e-form of procedure `code` as the state pre-fills it for the signed-in person, with
    /// `extra` answers set on top (the choices the person makes).
    pub async fn prefilled_answers(
        &self,
        code: &str,
        extra: &[(&str, serde_json::Value)],
    ) -> serde_json::Map<String, serde_json::Value> {
        let prefill = self
            .get_json(&format!("/api/v1/procedures/{code}/prefill"), 200)
            .await;
        let mut answers: serde_json::Map<String, serde_json::Value> = prefill["values"]
            .as_object()
            .expect("values")
            .iter()
            .map(|(k, v)| (k.clone(), v["value"].clone()))
            .collect();
        for (name, value) in extra {
            answers.insert((*name).to_owned(), value.clone());
        }
        answers
    }
}
