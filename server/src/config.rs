//! Configuration: defaults < `motcua.toml` (path in `MOTCUA_CONFIG`) < `MOTCUA_…` variables.

use std::{fmt, net::SocketAddr, path::PathBuf};

use anyhow::Context;
use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

/// A configuration value that must never appear in logs: Debug prints `[redacted]`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "[empty]"
        } else {
            "[redacted]"
        })
    }
}

/// Everything one server instance needs to start. Field names are the TOML keys and, upper-cased
/// behind `MOTCUA_`, the environment variables.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Listen address.
    pub addr: SocketAddr,
    /// `sqlite://PATH` (the embedded default) or `postgres://…`. May hold a password.
    pub database_url: Secret,
    /// Largest number of pooled database connections.
    pub database_max_connections: u32,
    /// SQLite only: `full` (every acknowledged commit survives a power loss; the default) or
    /// `normal` (survives an application crash only; faster).
    pub sqlite_synchronous: crate::store::sqlite::Synchronous,
    /// The origin users see (scheme, host, port). Cookies are `Secure` and HSTS is sent when it is https.
    pub public_url: String,
    /// Mount the embedded sandboxes of the national systems under `/sandbox/…`. Never in
    /// production: a production build has none, and an https site refuses them unless
    /// `allow_sandbox_on_https` says otherwise.
    pub sandbox: bool,
    /// With the sandboxes on: demo people find their current driving licence in their wallet at
    /// their first sign-in (read from the sandbox licence register).
    pub sandbox_seed_wallet: bool,
    /// With the sandboxes on: write six months of demo history (dossiers, their timelines,
    /// ratings, feedback, the national systems' acknowledgements) at the first start, so the
    /// statistics and dashboards mean something. `cargo xtask run` turns it on.
    pub sandbox_seed_history: bool,
    /// Start with the sandboxes on at an https public URL anyway (a public demo), warned about at
    /// every start: anyone can then sign in with the published demo password.
    pub allow_sandbox_on_https: bool,
    /// Where keys and files the server generates are kept.
    pub data_dir: PathBuf,
    /// The built PWA (`cargo xtask run` builds it into `client/dist`).
    pub web_dir: PathBuf,
    /// Apply pending database migrations when `serve` starts.
    pub migrate_on_start: bool,
    /// Largest accepted request body for JSON endpoints.
    pub body_limit_bytes: usize,
    /// A request still unanswered after this long gets 408.
    pub request_timeout_secs: u64,
    /// The national e-identity's OpenID Provider (issuer URL). Empty with the sandbox on: the
    /// built-in sandbox provider, reached over HTTP like any other.
    pub oidc_issuer: String,
    pub oidc_client_id: String,
    pub oidc_client_secret: Secret,
    /// A session unused this long ends.
    pub session_idle_minutes: u64,
    /// A session ends this long after sign-in, used or not.
    pub session_absolute_hours: u64,
    /// The national population database's base URL. Empty with the sandbox on: the sandbox's.
    pub population_registry_url: String,
    /// The driving-licence register's base URL. Empty with the sandbox on: the sandbox's.
    pub licence_registry_url: String,
    /// The health-certificate register's base URL. Empty with the sandbox on: the sandbox's.
    pub health_registry_url: String,
    /// The social-insurance register's base URL (health-insurance cards). Empty with the sandbox
    /// on: the sandbox's.
    pub insurance_registry_url: String,
    /// How often the licence register is read again for the licences in wallets (suspended,
    /// lifted, revoked), in seconds; 0: never.
    pub register_sync_secs: u64,
    /// A filing whose fee is due at filing lapses when unpaid this long.
    pub payment_lapse_hours: u32,
    /// The payment gateway (VNPay protocol 2.1.0): where the browser pays, the merchant's
    /// terminal code and hash secret, the server-to-server API, and the daily settlement. Empty
    /// with the sandbox on: the embedded sandbox gateway.
    pub vnpay_pay_url: String,
    pub vnpay_tmn_code: String,
    pub vnpay_hash_secret: Secret,
    pub vnpay_query_url: String,
    pub vnpay_settlement_url: String,
    /// A payment not completed within this many minutes expires at the gateway.
    pub payment_expiry_minutes: u32,
    /// Reconcile the day before with the gateway's settlement once a day (an alert in the log on
    /// any difference).
    pub reconcile_daily: bool,
    /// The tax authority's land-obligation service (HTTP+JSON with the platform's key). Empty
    /// with the sandbox on: the embedded sandbox.
    pub tax_authority_url: String,
    /// The National Public Service Portal's dossier sync service (HTTP+JSON with the platform's
    /// key). Empty with the sandbox on: the embedded sandbox; empty otherwise: not synced.
    pub national_portal_url: String,
    /// EMC, the national system measuring online public services (form-encoded POSTs). Empty
    /// with the sandbox on: the embedded sandbox; empty otherwise: not reported.
    pub emc_url: String,
    /// This one-stop system's site id at EMC.
    pub emc_site_id: String,
    /// How often the audit chain's head is signed into `DATA_DIR/audit/checkpoints.jsonl`, in
    /// seconds; 0: never (then only `motcua-server audit checkpoint`).
    pub audit_checkpoint_secs: u64,
    /// Documents one person may upload in 24 hours.
    pub upload_quota_per_day: u32,
    /// Draft filings one person may keep at once (one per procedure).
    pub drafts_per_person: u32,
    /// Bytes of uploads one person may keep in their warehouse.
    pub upload_quota_bytes: u64,
    /// Dossiers one person may file in an hour.
    pub filing_rate_per_hour: u32,
    /// The platform's API key at the national data-exchange platform.
    pub registry_api_key: Secret,
    /// The reverse proxies in front of this server, whose `X-Forwarded-For` / `Forwarded` name
    /// the client: comma-separated addresses or ranges. Empty: the TCP peer is the client.
    pub trusted_proxies: String,
    /// Sign-in starts and callbacks allowed per client IP per minute.
    pub rate_limit_sign_in_per_minute: u32,
    /// Passkey attempts allowed per client IP, and per account, per minute.
    pub rate_limit_passkey_per_minute: u32,
    /// Credential checks (`POST /api/v1/verify`) allowed per client IP per minute.
    pub rate_limit_verify_per_minute: u32,
    /// Besides this machine, the networks that may read `/metrics` (comma-separated addresses or
    /// ranges, as the client address is worked out behind trusted proxies).
    pub metrics_networks: String,
    /// A bearer token that also lets a scraper read `/metrics` from anywhere. Empty: none.
    pub metrics_token: Secret,
    /// Where documents are kept: empty for `DATA_DIR/blobs`, a folder, or S3-compatible object
    /// storage as `s3://bucket/prefix`.
    pub blob_url: String,
    /// Object storage other than Amazon's (MinIO, Ceph, …): its endpoint URL. Empty: Amazon S3.
    pub s3_endpoint: String,
    pub s3_region: String,
    pub s3_access_key_id: String,
    pub s3_secret_access_key: Secret,
    /// Lets the endpoint be plain http (a store on the same host or network only).
    pub s3_allow_http: bool,
    /// `tracing` filter directives, for example `info,motcua_server=debug`.
    pub log: String,
    /// `text` (one `key=value` line per event) or `json` (one JSON object per line, for a log
    /// collector).
    pub log_format: String,
    /// How recent a proof of identity (e-ID sign-in or passkey) must be to file a level-2
    /// procedure.
    pub step_up_max_age_secs: u64,
    /// The largest document a person may upload.
    pub upload_limit_bytes: usize,
    /// How often the worker flags late dossiers and delivers outbox events (0: never).
    pub worker_interval_secs: u64,
    /// The VAPID private key for web push: base64url of the 32-byte P-256 scalar. When empty,
    /// one is made in `<data_dir>/keys/vapid-private-key` on the first start and kept.
    pub vapid_private_key: Secret,
    /// Who runs this server, told to push services with every push (RFC 8292 `sub`): a
    /// `mailto:` address or an https URL. Empty: `public_url`.
    pub vapid_subject: String,
    /// Push services beyond the browsers' own (FCM, Mozilla, Apple, WNS) this server may post
    /// to, comma-separated: host names (https) or whole origins such as a local emulator's.
    pub push_services: String,
    /// How often reminders are looked for (obligations due, supplements not sent, credentials
    /// expiring); 0: never.
    pub reminders_every_secs: u64,
    /// A connection that has not sent a whole request head within this many seconds is closed.
    pub header_read_timeout_secs: u64,
    /// A request body that sends nothing for this many seconds is cut off (408 `timeout`); a slow
    /// upload that keeps sending goes on.
    pub body_read_timeout_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: Secret::new("sqlite://data/motcua.db"),
            database_max_connections: 8,
            sqlite_synchronous: crate::store::sqlite::Synchronous::Full,
            public_url: "http://127.0.0.1:8080".into(),
            sandbox: false,
            allow_sandbox_on_https: false,
            sandbox_seed_wallet: true,
            sandbox_seed_history: false,
            data_dir: PathBuf::from("data"),
            web_dir: PathBuf::from("client/dist"),
            migrate_on_start: true,
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            oidc_issuer: String::new(),
            oidc_client_id: "motcua".into(),
            oidc_client_secret: Secret::default(),
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            population_registry_url: String::new(),
            licence_registry_url: String::new(),
            health_registry_url: String::new(),
            insurance_registry_url: String::new(),
            register_sync_secs: 3600,
            payment_lapse_hours: 48,
            vnpay_pay_url: String::new(),
            vnpay_tmn_code: String::new(),
            vnpay_hash_secret: Secret::default(),
            vnpay_query_url: String::new(),
            vnpay_settlement_url: String::new(),
            payment_expiry_minutes: 15,
            reconcile_daily: true,
            tax_authority_url: String::new(),
            national_portal_url: String::new(),
            emc_url: String::new(),
            emc_site_id: "motcua".into(),
            audit_checkpoint_secs: 600,
            upload_quota_per_day: 100,
            drafts_per_person: 20,
            upload_quota_bytes: 500 * 1024 * 1024,
            filing_rate_per_hour: 10,
            trusted_proxies: String::new(),
            registry_api_key: Secret::default(),
            rate_limit_sign_in_per_minute: 30,
            rate_limit_passkey_per_minute: 10,
            rate_limit_verify_per_minute: 600,
            log: "info".into(),
            log_format: "text".into(),
            metrics_networks: String::new(),
            metrics_token: Secret::default(),
            blob_url: String::new(),
            s3_endpoint: String::new(),
            s3_region: String::new(),
            s3_access_key_id: String::new(),
            s3_secret_access_key: Secret::default(),
            s3_allow_http: false,
            worker_interval_secs: 10,
            upload_limit_bytes: 10 * 1024 * 1024,
            step_up_max_age_secs: 300,
            vapid_private_key: Secret::default(),
            vapid_subject: String::new(),
            push_services: String::new(),
            reminders_every_secs: 3600,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 20,
        }
    }
}

impl Config {
    /// Reads the layered configuration of the running process.
    pub fn load() -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Ok(path) = std::env::var("MOTCUA_CONFIG") {
            anyhow::ensure!(
                std::path::Path::new(&path).is_file(),
                "MOTCUA_CONFIG names {path}, which is not a readable file"
            );
            figment = figment.merge(Toml::file(path));
        }
        let config: Config = figment
            .merge(Env::prefixed("MOTCUA_").ignore(&["config"]))
            .extract()
            .context("reading the configuration")?;
        config.validate()?;
        Ok(config)
    }

    /// Refuses configurations that would start but misbehave.
    pub fn validate(&self) -> anyhow::Result<()> {
        let public = url::Url::parse(&self.public_url)
            .with_context(|| format!("public_url {:?} is not a URL", self.public_url))?;
        anyhow::ensure!(
            matches!(public.scheme(), "http" | "https") && public.host().is_some(),
            "public_url must be an http(s) origin such as https://dichvucong.example.vn"
        );
        anyhow::ensure!(
            public.path() == "/" && public.query().is_none(),
            "public_url is an origin: no path or query"
        );
        anyhow::ensure!(
            matches!(self.log_format.as_str(), "text" | "json"),
            "log_format is text or json, not {:?}",
            self.log_format
        );
        let db = self.database_url.expose();
        anyhow::ensure!(
            db.starts_with("sqlite:")
                || db.starts_with("postgres:")
                || db.starts_with("postgresql:"),
            "database_url must start with sqlite:// or postgres://"
        );
        anyhow::ensure!(
            !(self.sandbox && self.is_https()) || self.allow_sandbox_on_https,
            "the sandboxes are on at the https site {}: they let anyone sign in with the published \
             demo password and act as a demo officer on real dossiers. Set MOTCUA_SANDBOX=false, or \
             MOTCUA_ALLOW_SANDBOX_ON_HTTPS=true for a public demo",
            self.public_url
        );
        crate::http::client_addr::TrustedProxies::parse(&self.trusted_proxies)
            .context("trusted_proxies")?;
        crate::http::client_addr::TrustedProxies::parse(&self.metrics_networks)
            .context("metrics_networks")?;
        anyhow::ensure!(
            self.body_limit_bytes >= 1024,
            "body_limit_bytes must be at least 1024"
        );
        anyhow::ensure!(
            self.request_timeout_secs >= 1,
            "request_timeout_secs must be at least 1"
        );
        anyhow::ensure!(
            self.header_read_timeout_secs >= 1 && self.body_read_timeout_secs >= 1,
            "header_read_timeout_secs and body_read_timeout_secs must be at least 1"
        );
        Ok(())
    }

    /// How recent a proof of identity must be for a step-up action, in milliseconds.
    pub fn step_up_max_age_ms(&self) -> i64 {
        i64::try_from(self.step_up_max_age_secs)
            .unwrap_or(300)
            .saturating_mul(1000)
    }

    /// Whether users reach us over https (then cookies are `Secure` and HSTS is sent).
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The configuration as a commented TOML file, for `motcua-server default-config`.
    pub fn default_toml() -> String {
        let body = toml::to_string_pretty(&Config::default()).unwrap_or_default();
        format!(
            "# motcua server configuration. Every key can also be set as MOTCUA_<KEY> (upper case).\n\
             # Precedence: built-in defaults < this file (path in MOTCUA_CONFIG) < environment.\n\n{body}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_database_url() {
        let config = Config {
            database_url: Secret::new("postgres://motcua:hunter2@db/motcua"),
            ..Config::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn public_url_must_be_a_bare_http_origin() {
        let with = |url: &str| Config {
            public_url: url.into(),
            ..Config::default()
        };
        assert!(with("https://dichvucong.example.vn").validate().is_ok());
        assert!(with("ftp://example.vn").validate().is_err());
        assert!(with("https://example.vn/app").validate().is_err());
        assert!(with("not a url").validate().is_err());
    }

    #[test]
    fn sandboxes_at_an_https_site_need_the_explicit_override() {
        let mut config = Config {
            public_url: "https://dichvucong.example.vn".into(),
            sandbox: true,
            ..Config::default()
        };
        let refused = config.validate().expect_err("refused");
        assert!(format!("{refused}").contains("MOTCUA_SANDBOX=false"));
        config.allow_sandbox_on_https = true;
        assert!(config.validate().is_ok());
        config.public_url = "http://127.0.0.1:8080".into();
        config.allow_sandbox_on_https = false;
        assert!(
            config.validate().is_ok(),
            "plain http (a local demo) is fine"
        );
    }

    #[test]
    fn the_default_config_file_reads_back_as_the_defaults() {
        let text = Config::default_toml();
        let parsed: Config = Figment::from(Toml::string(&text))
            .extract()
            .expect("parses");
        assert_eq!(parsed.addr, Config::default().addr);
        assert_eq!(parsed.database_url, Config::default().database_url);
    }
}
