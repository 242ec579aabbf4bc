//! Installs what a fresh machine lacks: the wasm target, the wasm-bindgen CLI matching
//! Cargo.lock, the npm packages of package-lock.json (web-push-testing among them), and Debian
//! packages (OpenSSL headers, Chromium, wrk, PostgreSQL). Each check is cheap when the tool is already there.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::Context;

use crate::{proc, root};

/// Everything the builds need: the server's OpenSSL headers (web push's `ece` links OpenSSL),
/// and for `build-pwa` the wasm target, wasm-bindgen and the npm tools.
pub fn ensure_pwa_tools() -> anyhow::Result<()> {
    ensure_apt_files(&[
        ("libssl-dev", "/usr/include/openssl/ssl.h"),
        ("pkg-config", "/usr/bin/pkg-config"),
    ])?;
    ensure_wasm_target()?;
    ensure_wasm_bindgen()?;
    ensure_npm_packages()
}

pub fn ensure_wasm_target() -> anyhow::Result<()> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("running rustup")?;
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    proc::run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The wasm-bindgen version pinned in Cargo.lock: the CLI must be exactly this version.
pub fn locked_wasm_bindgen_version() -> anyhow::Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let lock: toml::Table = lock.parse().context("parsing Cargo.lock")?;
    lock.get("package")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .find(|p| p.get("name").and_then(|n| n.as_str()) == Some("wasm-bindgen"))
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .context("wasm-bindgen is not in Cargo.lock")
}

pub fn ensure_wasm_bindgen() -> anyhow::Result<()> {
    let wanted = locked_wasm_bindgen_version()?;
    let installed = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    if installed == format!("wasm-bindgen {wanted}") {
        return Ok(());
    }
    eprintln!("installing wasm-bindgen-cli {wanted} (about two minutes, once)");
    // Not --locked: its lockfile pins a webpki-roots version the registry no longer has.
    proc::run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &wanted]))
}

/// `npm ci` when node_modules is missing or older than package-lock.json.
pub fn ensure_npm_packages() -> anyhow::Result<()> {
    let root = root();
    let lock = root.join("package-lock.json");
    let stamp = root.join("node_modules/.package-lock.json");
    let fresh = match (std::fs::metadata(&lock), std::fs::metadata(&stamp)) {
        (Ok(l), Ok(s)) => match (l.modified(), s.modified()) {
            (Ok(l), Ok(s)) => s >= l,
            _ => false,
        },
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    if !proc::has("npm") {
        ensure_apt(&["nodejs", "npm"])?;
    }
    proc::run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&root),
    )
}

/// The npm-installed `wasm-opt` (Debian's is too old for current wasm-bindgen output).
pub fn wasm_opt() -> PathBuf {
    root().join("node_modules/.bin/wasm-opt")
}

/// Installs Debian packages whose files are missing. `checks` pairs a package with a file it provides.
pub fn ensure_apt_files(checks: &[(&str, &str)]) -> anyhow::Result<()> {
    let missing: Vec<&str> = checks
        .iter()
        .filter(|(_, file)| !Path::new(file).exists())
        .map(|(package, _)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    ensure_apt(&missing)
}

fn ensure_apt(packages: &[&str]) -> anyhow::Result<()> {
    eprintln!("installing Debian packages: {}", packages.join(" "));
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let apt = |args: &[&str]| {
        let mut cmd = if as_root {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.arg("apt-get");
            c
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    proc::run(&mut apt(&["update", "-qq"]))?;
    let mut install = apt(&["install", "-y", "-qq", "--no-install-recommends"]);
    install.args(packages);
    proc::run(&mut install)
}

/// Chromium and its WebDriver, for the wasm tests and the browser tests.
pub fn ensure_chromium() -> anyhow::Result<()> {
    ensure_apt_files(&[
        ("chromium", "/usr/bin/chromium"),
        ("chromium-driver", "/usr/bin/chromedriver"),
    ])
}

/// The folder holding PostgreSQL's `initdb` and `pg_ctl`, installing PostgreSQL if none is found.
pub fn postgres_bin_dir() -> anyhow::Result<PathBuf> {
    let find = || -> Option<PathBuf> {
        if let Ok(out) = Command::new("sh")
            .args(["-c", "command -v pg_ctl"])
            .output()
        {
            let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            if !path.is_empty() {
                return Path::new(&path).parent().map(Path::to_path_buf);
            }
        }
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .filter(|p| p.join("pg_ctl").exists())
            .collect();
        versions.sort();
        versions.pop()
    };
    if let Some(dir) = find() {
        return Ok(dir);
    }
    ensure_apt(&["postgresql"])?;
    find().context("PostgreSQL was installed but pg_ctl is not found")
}

/// A Python venv in `target/pyenv` with the PyPI packages the interoperability tests use
/// (pycose verifies our credentials). Made once; cheap when present.
pub fn ensure_python_venv() -> anyhow::Result<PathBuf> {
    let venv = root().join("target/pyenv");
    let python = venv.join("bin/python");
    let ready = Command::new(&python)
        .args([
            "-c",
            "import pycose, base45, cbor2, pypdf, pypdfium2, zxingcpp, schemathesis, moto.server",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if ready {
        return Ok(python);
    }
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        // Debian's system Python keeps venv in its own package.
        ensure_apt(&["python3-venv"])?;
        proc::run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    proc::run(Command::new(venv.join("bin/pip")).args([
        "install",
        "--quiet",
        "pycose>=1.1,<2",
        "base45>=0.4",
        "cbor2>=5",
        // Reading the printable PDF back: its text, and its QR rendered and decoded.
        "pypdf>=5",
        "pypdfium2>=4",
        "zxing-cpp>=2",
        "pillow>=10",
        // API fuzzing from the OpenAPI document (tests/tests/api/schemathesis.rs).
        "schemathesis>=4.32,<5",
        // An S3-compatible object store for the documents test (`moto_server`).
        "moto[server]>=5,<6",
    ]))?;
    Ok(python)
}
