//! Helpers for black-box tests: each test gets a fresh database on the engine this run targets
//! (`MOTCUA_TEST_DATABASE=sqlite|postgres`) and a real server on a free port.

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
    _db: TestDatabase,
}

/// Starts a server on a fresh database with the default test configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server on a fresh database after `adjust` has changed the test configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDatabase::new().await;
    let mut config = Config {
        addr: "127.0.0.1:0".parse().expect("an address"),
        database_url: Secret::new(db.url.clone()),
        database_max_connections: 4,
        web_dir: PathBuf::from("/nonexistent-motcua-web"),
        data_dir: std::env::temp_dir(),
        ..Config::default()
    };
    adjust(&mut config);
    let app = Application::build(config.clone())
        .await
        .expect("the server starts");
    let address = format!("http://{}", app.local_addr().expect("bound"));
    let store = app.state().store.clone();
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
        _db: db,
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
