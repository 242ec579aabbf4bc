//! `cargo xtask run`: builds the PWA and the server and starts it on SQLite under `./data/`
//! with demo data and every sandbox on, at http://127.0.0.1:8080 unless MOTCUA_ADDR says otherwise.

use std::{process::Command, time::Duration};

use anyhow::Context;

use crate::{proc, pwa, root, services, tools};

pub fn run() -> anyhow::Result<()> {
    let root = root();
    tools::ensure_pwa_tools()?;
    pwa::build()?;
    proc::run(
        Command::new("cargo")
            .args(["build", "--release", "--package", "motcua-server"])
            .current_dir(&root),
    )?;

    let defaults = [
        ("MOTCUA_SANDBOX", "true".to_owned()),
        (
            "MOTCUA_WEB_DIR",
            root.join("client/dist").display().to_string(),
        ),
        ("MOTCUA_DATA_DIR", root.join("data").display().to_string()),
        (
            "MOTCUA_DATABASE_URL",
            format!("sqlite://{}/data/motcua.db", root.display()),
        ),
    ];
    let mut cmd = Command::new(root.join("target/release/motcua-server"));
    cmd.arg("serve").current_dir(&root);
    for (key, value) in defaults {
        if std::env::var_os(key).is_none() {
            cmd.env(key, value);
        }
    }
    let addr = std::env::var("MOTCUA_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let url = std::env::var("MOTCUA_PUBLIC_URL").unwrap_or_else(|_| format!("http://{addr}"));
    let mut server = proc::ChildGuard {
        name: "motcua-server".into(),
        child: cmd.spawn().context("starting motcua-server")?,
    };

    let base = format!("http://{addr}");
    let mut ready = false;
    for _ in 0..300 {
        if let Ok(Some(status)) = server.child.try_wait() {
            anyhow::bail!("motcua-server stopped ({status}); is {addr} already in use?");
        }
        if services::http_get(&base, "/api/health").is_ok_and(|(s, _)| s == 200) {
            ready = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    anyhow::ensure!(ready, "motcua-server did not answer on {addr} within 30 s");
    println!(
        "\n  motcua is running at {url}\n\n  \
         Demo data: the public catalogue of 8 procedures (SQLite database in ./data/).\n  \
         Demo accounts: none yet. Sign-in through the national e-ID sandbox arrives with the identity work.\n  \
         API: {url}/api/openapi.json   Metrics: {url}/metrics\n\n  Stop with Ctrl-C.\n"
    );
    let status = server.child.wait()?;
    anyhow::ensure!(
        status.success() || status.code().is_none(),
        "motcua-server exited with {status}"
    );
    Ok(())
}
