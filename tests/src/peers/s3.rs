//! A real S3-compatible object store for the tests: the PyPI `moto` package in server mode
//! (`moto_server`, installed into `target/pyenv` by `cargo xtask test`), run in a child process
//! stopped on drop.

use std::{path::PathBuf, process::Stdio, time::Duration};

use tokio::process::{Child, Command};

pub struct S3Server {
    /// Its endpoint, `http://127.0.0.1:PORT`.
    pub endpoint: String,
    _child: Child,
}

/// The venv's `bin` folder: beside `MOTCUA_PYTHON`, or `target/pyenv/bin`.
fn venv_bin() -> PathBuf {
    match std::env::var("MOTCUA_PYTHON") {
        Ok(python) => PathBuf::from(python).parent().expect("a folder").to_owned(),
        Err(_) => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/pyenv/bin"),
    }
}

impl S3Server {
    /// Starts it on a free port with an empty bucket `bucket`. Fails (never skips) when moto is
    /// missing: `cargo xtask test` installs it.
    pub async fn start(bucket: &str) -> S3Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let moto = venv_bin().join("moto_server");
        assert!(
            moto.exists(),
            "moto is not installed: run `cargo xtask test`, which installs it into target/pyenv"
        );
        let child = Command::new(&moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("moto_server runs");
        let endpoint = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        for _ in 0..300 {
            // S3's CreateBucket: a PUT of the bucket's path (moto checks no signature).
            if let Ok(r) = client.put(format!("{endpoint}/{bucket}")).send().await
                && r.status().is_success()
            {
                return S3Server {
                    endpoint,
                    _child: child,
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("moto_server did not start on port {port}");
    }
}
