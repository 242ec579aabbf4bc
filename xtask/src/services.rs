//! Services the tests and the bench start and always stop: a throw-away PostgreSQL cluster and
//! motcua server processes on free ports.

use std::{
    fs,
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;

use crate::{proc, proc::ChildGuard, root, tools};

/// A free TCP port on the loopback interface.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A PostgreSQL cluster in a temporary folder, stopped and deleted on drop.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    as_root: bool,
    /// The admin URL; tests create one database per test through it.
    pub url: String,
}

impl Postgres {
    pub fn start() -> anyhow::Result<Postgres> {
        let bin = tools::postgres_bin_dir()?;
        let dir = tempfile::Builder::new().prefix("motcua-pg-").tempdir()?;
        let as_root = running_as_root();
        // initdb refuses to run as root: the cluster belongs to the `postgres` user then.
        let pg_cmd = |tool: &str| {
            let path = bin.join(tool);
            if as_root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(path);
                c
            } else {
                Command::new(path)
            }
        };
        if as_root {
            proc::run(Command::new("chown").arg("postgres:").arg(dir.path()))?;
        }
        let data = dir.path().join("pg");
        proc::run(
            pg_cmd("initdb")
                .arg("-D")
                .arg(&data)
                .args([
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ])
                .stdout(Stdio::null()),
        )?;
        let port = free_port()?;
        let options = format!(
            "-k {} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200",
            dir.path().display()
        );
        proc::run(
            pg_cmd("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(dir.path().join("log"))
                .args(["-w", "-o", &options, "start"])
                .stdout(Stdio::null()),
        )?;
        Ok(Postgres {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            dir,
            bin,
            as_root,
        })
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("pg");
        let path = self.bin.join("pg_ctl");
        let mut cmd = if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        let _ = cmd
            .arg("-D")
            .arg(&data)
            .args(["-m", "fast", "-w", "stop"])
            .stdout(Stdio::null())
            .status();
    }
}

/// A running motcua server process with its own database, stopped on drop.
pub struct Server {
    /// Where to send load (127.0.0.1).
    pub base_url: String,
    /// The origin users see (`localhost`: browsers accept passkeys for a domain name, not an IP).
    pub public_url: String,
    pub guard: ChildGuard,
    pub log: PathBuf,
    /// The server's database (its own SQLite file unless `MOTCUA_DATABASE_URL` was given).
    pub database_url: String,
    /// The data folder this server was given (its own unless `MOTCUA_DATA_DIR` was given).
    pub data_dir: PathBuf,
    _data: tempfile::TempDir,
}

/// Starts `binary serve` on a free port with a fresh SQLite database, the sandboxes on and the
/// built PWA, plus `extra` environment; waits until `/api/health` answers 200.
pub fn start_server(binary: &Path, name: &str, extra: &[(&str, String)]) -> anyhow::Result<Server> {
    let data = tempfile::Builder::new().prefix("motcua-data-").tempdir()?;
    let port = free_port()?;
    let base_url = format!("http://127.0.0.1:{port}");
    let public_url = format!("http://localhost:{port}");
    let logs = root().join("target/xtask-logs");
    fs::create_dir_all(&logs)?;
    let log = logs.join(format!("{name}.log"));
    let log_file = fs::File::create(&log)?;
    let mut cmd = Command::new(binary);
    let database_url = extra
        .iter()
        .find(|(k, _)| *k == "MOTCUA_DATABASE_URL")
        .map_or_else(
            || format!("sqlite://{}/motcua.db", data.path().display()),
            |(_, v)| v.clone(),
        );
    cmd.arg("serve")
        .env("MOTCUA_ADDR", format!("127.0.0.1:{port}"))
        .env("MOTCUA_PUBLIC_URL", &public_url)
        .env("MOTCUA_DATABASE_URL", &database_url)
        .env("MOTCUA_DATA_DIR", data.path())
        .env("MOTCUA_WEB_DIR", root().join("client/dist"))
        .env("MOTCUA_SANDBOX", "true")
        .stdout(log_file.try_clone()?)
        .stderr(log_file);
    for (key, value) in extra {
        cmd.env(key, value);
    }
    let child = cmd
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let mut guard = ChildGuard {
        name: name.to_owned(),
        child,
    };
    wait_healthy(&base_url, &mut guard, &log)?;
    Ok(Server {
        base_url,
        public_url,
        guard,
        log,
        database_url,
        data_dir: extra
            .iter()
            .find(|(k, _)| *k == "MOTCUA_DATA_DIR")
            .map_or_else(|| data.path().to_path_buf(), |(_, v)| PathBuf::from(v)),
        _data: data,
    })
}

fn wait_healthy(base_url: &str, guard: &mut ChildGuard, log: &Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = guard.child.try_wait() {
            let tail = fs::read_to_string(log).unwrap_or_default();
            anyhow::bail!(
                "{} exited ({status}) before it was ready:\n{tail}",
                guard.name
            );
        }
        if http_get(base_url, "/api/health").is_ok_and(|(status, _)| status == 200) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    anyhow::bail!(
        "{} did not become healthy within 60 s (log: {})",
        guard.name,
        log.display()
    )
}

/// A minimal HTTP/1.1 GET, enough to poll a health endpoint without a client library.
pub fn http_get(base_url: &str, path: &str) -> anyhow::Result<(u16, String)> {
    let host = base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no HTTP status")?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}
