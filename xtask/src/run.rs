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
            // The demo build: with the embedded sandboxes of the national systems.
            .args([
                "build",
                "--release",
                "--package",
                "motcua-server",
                "--features",
                "sandbox",
            ])
            .current_dir(&root),
    )?;

    let defaults = [
        ("MOTCUA_SANDBOX", "true".to_owned()),
        // Six months of history at the first start: the statistics mean something.
        ("MOTCUA_SANDBOX_SEED_HISTORY", "true".to_owned()),
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
    println!("\n  motcua is running at {url}\n");
    println!(
        "  Demo data: 9 procedures with e-forms, demo people with registers and warehouses; SQLite database in ./data/."
    );
    println!("  Sign in at {url}/account with the national e-ID sandbox (password demo1234):");
    for line in demo_accounts(&root) {
        println!("    {line}");
    }
    println!(
        "\n  Passkeys need a domain name: to try them, run with MOTCUA_PUBLIC_URL=http://localhost:8080\n  \
         and open http://localhost:8080.\n  \
         API: {url}/api/openapi.json   Metrics: {url}/metrics\n\n  Stop with Ctrl-C.\n"
    );
    let status = server.child.wait()?;
    anyhow::ensure!(
        status.success() || status.code().is_none(),
        "motcua-server exited with {status}"
    );
    Ok(())
}

/// The sandbox's demo people, one line each: CCCD, name, e-ID level and roles.
fn demo_accounts(root: &std::path::Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(root.join("server/seed/sandbox/people.toml")) else {
        return vec!["(server/seed/sandbox/people.toml is missing)".into()];
    };
    let Ok(seed) = text.parse::<toml::Table>() else {
        return vec!["(server/seed/sandbox/people.toml does not parse)".into()];
    };
    let representatives: Vec<String> = seed
        .get("organisation")
        .and_then(|o| o.as_array())
        .into_iter()
        .flatten()
        .filter_map(|o| o.get("representatives").and_then(|r| r.as_array()))
        .flatten()
        .filter_map(|r| r.get("cccd").and_then(|c| c.as_str()).map(str::to_owned))
        .collect();
    seed.get("person")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .map(|p| {
            let get = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("");
            let level = if get("acr").ends_with('2') {
                "level 2"
            } else {
                "level 1"
            };
            let mut roles = vec!["citizen".to_owned()];
            if representatives.iter().any(|c| c == get("cccd")) {
                roles.push("business".into());
            }
            if let Some(officer) = p.get("officer") {
                let agency = officer
                    .get("agency_code")
                    .and_then(|v| v.as_str())
                    .unwrap_or("?");
                let level = officer.get("level").and_then(|v| v.as_str()).unwrap_or("?");
                let unit = officer
                    .get("unit_code")
                    .and_then(|v| v.as_str())
                    .and_then(motcua_shared::units::get)
                    .map_or("?", |u| u.name);
                roles.push(format!(
                    "officer of {agency} ({level}: {unit}; back office at /office)"
                ));
            }
            if p.get("admin").and_then(|v| v.as_bool()) == Some(true) {
                roles.push("admin".into());
            }
            format!(
                "{}  {:<16} {level}  {}",
                get("cccd"),
                get("name"),
                roles.join(", ")
            )
        })
        .collect()
}
