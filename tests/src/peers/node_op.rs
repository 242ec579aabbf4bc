//! The third-party OpenID Provider of the interoperability test: the npm `oidc-provider` package,
//! run by `tests/peers/oidc-provider.mjs` in a Node.js child process stopped on drop.

use std::{path::PathBuf, process::Stdio};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

pub const CLIENT_ID: &str = "motcua-interop";
pub const CLIENT_SECRET: &str = "interop-secret-0123456789";

pub struct NodeOp {
    pub issuer: String,
    _child: Child,
}

impl NodeOp {
    /// Starts the provider with `redirect_uri` as its client's only redirect URI. Fails (never
    /// skips) when Node.js or the npm packages are missing: `npm ci` installs them.
    pub async fn start(redirect_uri: &str) -> NodeOp {
        NodeOp::start_reporting(redirect_uri, "vneid:level1").await
    }

    /// The same provider, reporting `acr` as the sign-in's assurance (`"-"`: no `acr` at all).
    pub async fn start_reporting(redirect_uri: &str, acr: &str) -> NodeOp {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers/oidc-provider.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .arg(redirect_uri)
            .arg(acr)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (the interoperability test needs Node.js and `npm ci`)");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let issuer = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(issuer) = line.strip_prefix("issuer ") {
                    return issuer.to_owned();
                }
            }
            panic!("oidc-provider exited before it was ready (is `npm ci` done?)")
        })
        .await
        .expect("oidc-provider starts within 20 s");
        // Keep reading its output: a closed pipe would kill it on its next line.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        NodeOp {
            issuer,
            _child: child,
        }
    }
}
