//! A real push service for the tests: the npm `web-push-testing` package (an RFC 8030 push
//! service that checks VAPID and decrypts RFC 8291 payloads), run in a Node.js child process
//! stopped on drop.

use std::{path::PathBuf, process::Stdio, time::Duration};

use serde_json::{Value, json};
use tokio::process::{Child, Command};

pub struct PushService {
    /// Its origin, `http://localhost:PORT`, for `push_services`.
    pub origin: String,
    client: reqwest::Client,
    _child: Child,
}

/// A subscription the push service made, as a browser would hand it to the PWA.
#[derive(Debug, Clone)]
pub struct Subscribed {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    /// The push service's name for it, to read what it received.
    pub client_hash: String,
}

impl Subscribed {
    /// `PushSubscription.toJSON()`, as the PWA posts it.
    pub fn to_json(&self) -> Value {
        json!({ "endpoint": self.endpoint, "keys": { "p256dh": self.p256dh, "auth": self.auth } })
    }
}

impl PushService {
    /// Starts it on a free port. Fails (never skips) when Node.js or the npm packages are
    /// missing: `npm ci` installs them.
    pub async fn start() -> PushService {
        PushService::start_on(None).await
    }

    /// As [`PushService::start`], on CPU `core` when given (`taskset`; the bench keeps it off
    /// the sender's core).
    pub async fn start_on(core: Option<u32>) -> PushService {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../node_modules/web-push-testing/src/bin/server.js");
        let mut command = match core {
            Some(core) => {
                let mut c = Command::new("taskset");
                c.args(["-c", &core.to_string(), "node"]);
                c
            }
            None => Command::new("node"),
        };
        let child = command
            .arg(&script)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs web-push-testing (the push tests need Node.js and `npm ci`)");
        let origin = format!("http://localhost:{port}");
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client
                .post(format!("{origin}/status"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return PushService {
                    origin,
                    client,
                    _child: child,
                };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("web-push-testing did not start within 10 s (is `npm ci` done?)");
    }

    /// Subscribes as a browser does, for the server whose VAPID public key is `vapid_key`.
    pub async fn subscribe(&self, vapid_key: &str) -> Subscribed {
        let response = self
            .client
            .post(format!("{}/subscribe", self.origin))
            .json(&json!({ "userVisibleOnly": "true", "applicationServerKey": vapid_key }))
            .send()
            .await
            .expect("the push service answers");
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        assert_eq!(status, 200, "{body}");
        let data = &body["data"];
        let text = |v: &Value| v.as_str().expect("a string").to_owned();
        Subscribed {
            endpoint: text(&data["endpoint"]),
            p256dh: text(&data["keys"]["p256dh"]),
            auth: text(&data["keys"]["auth"]),
            client_hash: text(&data["clientHash"]),
        }
    }

    /// The decrypted payloads the subscription received, oldest first.
    pub async fn received(&self, subscription: &Subscribed) -> Vec<Value> {
        let response = self
            .client
            .post(format!("{}/get-notifications", self.origin))
            .json(&json!({ "clientHash": subscription.client_hash }))
            .send()
            .await
            .expect("the push service answers");
        let body: Value = response.json().await.expect("json");
        body["data"]["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| serde_json::from_str(m.as_str().expect("text")).expect("a JSON payload"))
            .collect()
    }

    /// Makes the subscription expire: the next push to it is answered 410.
    pub async fn expire(&self, subscription: &Subscribed) {
        let response = self
            .client
            .post(format!(
                "{}/expire-subscription/{}",
                self.origin, subscription.client_hash
            ))
            .send()
            .await
            .expect("the push service answers");
        assert_eq!(response.status(), 200);
    }
}
