//! `cargo xtask bench`: loads the release server with wrk (server and load generator pinned to
//! different cores) and reports requests/s, p50/p99 latency and memory, each beside the same
//! figure for a bare axum server measured in the same run; then the PWA's first-load size.

use std::{
    fmt::Write as _,
    fs,
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use anyhow::Context;

use crate::{proc, pwa, root, services, tools};

mod scale;

const CONNECTIONS: &str = "32";
const DURATION: &str = "10s";

#[derive(Debug, Clone, Copy)]
struct Load {
    requests_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
}

fn pinned(core: &str, program: &std::path::Path) -> Command {
    if proc::has("taskset") {
        let mut cmd = Command::new("taskset");
        cmd.args(["-c", core]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn wrk(url: &str) -> anyhow::Result<Load> {
    wrk_with(url, None)
}

/// What browsers send: the encodings they take.
const BROWSER_ENCODINGS: &str = "Accept-Encoding: br, gzip";

/// As [`wrk`], sending `cookie` (a signed-in session) with every request.
fn wrk_with(url: &str, cookie: Option<&str>) -> anyhow::Result<Load> {
    let headers: Vec<String> = cookie.map(|c| format!("Cookie: {c}")).into_iter().collect();
    wrk_headers(url, &headers)
}

/// As [`wrk`], sending `headers` (`Name: value`) with every request.
fn wrk_headers(url: &str, headers: &[String]) -> anyhow::Result<Load> {
    wrk_script(url, headers, None)
}

/// As [`wrk_headers`], with a Lua script choosing each request (`-s`).
fn wrk_script(
    url: &str,
    headers: &[String],
    script: Option<&std::path::Path>,
) -> anyhow::Result<Load> {
    let mut headers: Vec<String> = headers
        .iter()
        .flat_map(|h| ["-H".to_owned(), h.clone()])
        .collect();
    if let Some(script) = script {
        headers.extend(["-s".to_owned(), script.display().to_string()]);
    }
    // A short warm-up first, unmeasured.
    let _ = Command::new("wrk")
        .args(["-t1", "-c8", "-d2s"])
        .args(&headers)
        .arg(url)
        .stdout(Stdio::null())
        .status();
    let mut cmd = if proc::has("taskset") {
        let mut c = Command::new("taskset");
        c.args(["-c", "1", "wrk"]);
        c
    } else {
        Command::new("wrk")
    };
    let out = cmd
        .args(["-t1", "-c", CONNECTIONS, "-d", DURATION, "--latency"])
        .args(&headers)
        .arg(url)
        .output()
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    anyhow::ensure!(out.status.success(), "wrk failed: {text}");
    parse_wrk(&text).with_context(|| format!("reading wrk's output:\n{text}"))
}

fn parse_wrk(text: &str) -> anyhow::Result<Load> {
    let to_ms = |v: &str| -> Option<f64> {
        let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic())?);
        let n: f64 = num.parse().ok()?;
        Some(match unit {
            "us" => n / 1000.0,
            "ms" => n,
            "s" => n * 1000.0,
            _ => return None,
        })
    };
    let percentile = |p: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(p).and_then(|rest| to_ms(rest.trim())))
    };
    let rps = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .context("no Requests/sec")?;
    let non_2xx = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Ok(Load {
        requests_per_sec: rps,
        p50_ms: percentile("50%").context("no p50")?,
        p99_ms: percentile("99%").context("no p99")?,
        non_2xx,
    })
}

/// One row of a load table: the load and its ratio to `ceiling`.
fn row(report: &mut String, name: &str, load: &Load, ceiling: &Load) -> anyhow::Result<()> {
    writeln!(
        report,
        "| {name} | {:.0} | {:.2} | {:.2} | {} | {:.2} |",
        load.requests_per_sec,
        load.p50_ms,
        load.p99_ms,
        load.non_2xx,
        load.requests_per_sec / ceiling.requests_per_sec
    )?;
    Ok(())
}

/// Resident memory of a process: (current, peak) in MiB.
fn rss_mib(pid: u32) -> (f64, f64) {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

pub fn bench() -> anyhow::Result<()> {
    let root = root();
    tools::ensure_pwa_tools()?;
    tools::ensure_chromium()?;
    tools::ensure_apt_files(&[
        ("wrk", "/usr/bin/wrk"),
        ("util-linux", "/usr/bin/taskset"),
        ("curl", "/usr/bin/curl"),
    ])?;
    let sizes = pwa::build()?;
    proc::run(
        Command::new("cargo")
            .args([
                "build",
                "--release",
                "--package",
                "motcua-server",
                "--package",
                "xtask",
                "--features",
                "motcua-server/sandbox",
                "--bin",
                "motcua-server",
                "--bin",
                "bench-ceiling",
                "--bin",
                "bench-proxy",
            ])
            .current_dir(&root),
    )?;
    scale::build_helpers()?;

    let server_bin = {
        let binary = root.join("target/release/motcua-server");
        // Pin the server to core 0 through a wrapper script-free route: taskset around the binary.
        let wrapper = root.join("target/release/motcua-server-pinned.sh");
        fs::write(
            &wrapper,
            format!("#!/bin/sh\nexec taskset -c 0 {} \"$@\"\n", binary.display()),
        )?;
        make_executable(&wrapper)?;
        if proc::has("taskset") {
            wrapper
        } else {
            binary
        }
    };
    // The bench files 20 dossiers per person, past the hourly filing rate a person has.
    let server = services::start_server(
        &server_bin,
        "bench",
        &[
            ("MOTCUA_LOG", "warn".into()),
            ("MOTCUA_FILING_RATE_PER_HOUR", "1000".into()),
        ],
    )?;
    // The ceiling: a bare axum server on the same core serving the catalogue's own bytes from
    // memory (prepared compressed too), measured while the server idles.
    let catalogue_file = root.join("target/bench-catalogue.json");
    let (ok, catalogue_bytes) = proc::run_captured(
        Command::new("curl")
            .args(["-sf", "-o"])
            .arg(&catalogue_file)
            .arg(format!("{}/api/v1/procedures", server.base_url)),
    )?;
    anyhow::ensure!(
        ok,
        "fetching the catalogue for the ceiling failed: {catalogue_bytes}"
    );
    let catalogue_size = fs::metadata(&catalogue_file)?.len();
    let mut ceiling = proc::ChildGuard {
        name: "bench-ceiling".into(),
        child: pinned("0", &root.join("target/release/bench-ceiling"))
            .arg("127.0.0.1:0")
            .arg(&catalogue_file)
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the bare axum server")?,
    };
    let mut first_line = String::new();
    BufReader::new(ceiling.child.stdout.take().context("ceiling stdout")?)
        .read_line(&mut first_line)?;
    let ceiling_addr = first_line
        .trim()
        .strip_prefix("listening ")
        .context("ceiling address")?
        .to_owned();
    let compressed = [BROWSER_ENCODINGS.to_owned()];
    let bare = wrk(&format!("http://{ceiling_addr}/"))?;
    let bare_compressed = wrk_headers(&format!("http://{ceiling_addr}/"), &compressed)?;
    let (_, bare_peak) = rss_mib(ceiling.id());
    drop(ceiling);

    let health = wrk(&format!("{}/api/health", server.base_url))?;
    let catalogue = wrk(&format!("{}/api/v1/procedures", server.base_url))?;
    let catalogue_compressed = wrk_headers(
        &format!("{}/api/v1/procedures", server.base_url),
        &compressed,
    )?;
    let procedure = wrk_headers(
        &format!("{}/api/v1/procedures/1.002804", server.base_url),
        &compressed,
    )?;
    let search = wrk(&format!(
        "{}/api/v1/procedures?q=dang%20ky&level=commune",
        server.base_url
    ))?;
    // Signed-in reads: a citizen's 20 dossiers, and the officer's queue holding them. Each
    // request also finds and refreshes the session in the database.
    let (citizen, officer) = scale::sessions(&server.public_url)?;
    let my_dossiers = wrk_with(
        &format!("{}/api/v1/dossiers", server.base_url),
        Some(&citizen),
    )?;
    let queue = wrk_with(
        &format!("{}/api/v1/officer/dossiers", server.base_url),
        Some(&officer),
    )?;
    let (_, server_peak) = rss_mib(server.guard.id());
    // The verifier's WebAssembly in Chromium: time per credential verified on the device.
    let (ok, wasm_verify) = proc::run_captured(
        Command::new("node")
            .arg("tests/browser/verify-speed.mjs")
            .env("BASE_URL", &server.public_url)
            .current_dir(&root),
    )?;
    anyhow::ensure!(ok, "timing the verifier in Chromium failed");
    // Lighthouse on the public pages, as a phone on slow 4G.
    let (ok, lighthouse) = proc::run_captured(
        Command::new("node")
            .arg("tests/browser/lighthouse.mjs")
            .env("BASE_URL", &server.public_url)
            .current_dir(&root),
    )?;
    if !ok {
        eprintln!("Lighthouse failed (its table stays empty): {lighthouse}");
    }
    // The same signed-in loads among a million dossiers, with 10,000 live streams open.
    let signed = scale::million(&server, &citizen, &officer)?;
    drop(server);

    let mut report = String::new();
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    writeln!(
        report,
        "Measured {date} on {} cores ({cpu}); wrk -t1 -c{CONNECTIONS} -d{DURATION}, server on core 0, wrk on core 1.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    )?;
    writeln!(
        report,
        "The ceiling is a bare axum server answering the catalogue's own {catalogue_size} bytes from memory (and their prepared brotli form to requests that accept it).\n"
    )?;
    writeln!(
        report,
        "| load | requests/s | p50 ms | p99 ms | non-2xx | vs the ceiling (req/s) |"
    )?;
    writeln!(report, "| --- | ---: | ---: | ---: | ---: | ---: |")?;
    for (name, load, of) in [
        ("bare axum, the catalogue's bytes (ceiling)", bare, bare),
        (
            "bare axum, the same brotli-compressed (ceiling, `Accept-Encoding: br, gzip`)",
            bare_compressed,
            bare_compressed,
        ),
        ("`GET /api/health` (readiness)", health, bare),
        (
            "`GET /api/v1/procedures` (catalogue, uncompressed)",
            catalogue,
            bare,
        ),
        (
            "`GET /api/v1/procedures` (catalogue, `br, gzip`; target ≥ 0.6)",
            catalogue_compressed,
            bare_compressed,
        ),
        (
            "`GET /api/v1/procedures/1.002804` (a procedure with its e-form, `br, gzip`; target ≥ 0.6)",
            procedure,
            bare_compressed,
        ),
        (
            "`GET /api/v1/procedures?q=dang ky&level=commune`",
            search,
            bare,
        ),
        (
            "`GET /api/v1/dossiers` (signed in, 20 dossiers)",
            my_dossiers,
            bare,
        ),
        (
            "`GET /api/v1/officer/dossiers` (officer's queue of 20)",
            queue,
            bare,
        ),
    ] {
        row(&mut report, name, &load, &of)?;
    }
    writeln!(
        report,
        "\nPeak server memory (RSS) under that load: {server_peak:.1} MiB (bare axum: {bare_peak:.1} MiB; ratio {:.1}x; budget 150 MiB).",
        server_peak / bare_peak.max(0.1)
    )?;
    writeln!(
        report,
        "\nThen {}, and {} live streams of the citizen held open:\n",
        signed.seeded,
        scale::STREAMS
    )?;
    scale::signed_table(&mut report, &signed, &bare)?;
    writeln!(
        report,
        "\nPeak server memory with the streams open under that load: {:.1} MiB (budget 100 MB).",
        signed.peak_mib
    )?;
    writeln!(
        report,
        "\nLighthouse 12 on the public pages (mobile, simulated slow 4G and 4x CPU slowdown; median of three; targets: performance ≥ 0.95, LCP ≤ 1.5 s):\n"
    )?;
    writeln!(
        report,
        "| page | performance | LCP ms | FCP ms | TBT ms | CLS |"
    )?;
    writeln!(report, "| --- | ---: | ---: | ---: | ---: | ---: |")?;
    for line in lighthouse.lines() {
        if let Some([page, score, lcp, fcp, tbt, cls]) = line
            .strip_prefix("lighthouse ")
            .map(|l| l.split(' ').collect::<Vec<_>>())
            .and_then(|v| <[&str; 6]>::try_from(v).ok())
        {
            writeln!(
                report,
                "| `{page}` | {score} | {lcp} | {fcp} | {tbt} | {cls} |"
            )?;
        }
    }
    for (bundle, size) in &sizes {
        let (raw, gz, br) = size.total();
        let entry = match bundle {
            pwa::Bundle::Public => "home, catalogue, a procedure",
            pwa::Bundle::Verifier => "QR verification, offline",
            pwa::Bundle::Citizen => "filing, my dossiers, the wallet",
            pwa::Bundle::Account => "sign-in, profile, passkeys, devices, data-access log",
            pwa::Bundle::Office => "the back office",
        };
        writeln!(
            report,
            "\nPWA first load, {} bundle ({entry}; HTML + boot JS + JS glue + wasm + CSS): {:.1} KB gzip, {:.1} KB brotli, {:.1} KB raw; budget 250 KB compressed ({:.0}% of it, gzip).\n",
            bundle.name(),
            gz as f64 / 1000.0,
            br as f64 / 1000.0,
            raw as f64 / 1000.0,
            gz as f64 / 2500.0
        )?;
        writeln!(report, "| file | raw B | gzip B | brotli B |")?;
        writeln!(report, "| --- | ---: | ---: | ---: |")?;
        for (name, raw, gz, br) in &size.files {
            writeln!(report, "| {name} | {raw} | {gz} | {br} |")?;
        }
    }
    // `MOTCUA_BENCH_ONLY=http`: the HTTP loads, memory and the PWA's sizes, and nothing after.
    if std::env::var("MOTCUA_BENCH_ONLY").is_ok_and(|v| v == "http") {
        println!("\n{report}");
        return Ok(());
    }
    // `MOTCUA_BENCH_ONLY=scale`: then PostgreSQL, several instances and durable filings only.
    if std::env::var("MOTCUA_BENCH_ONLY").is_ok_and(|v| v == "scale") {
        eprintln!("\n{report}");
        let postgres = services::Postgres::start()?;
        scale::postgres_and_instances(&server_bin, &postgres.url, &bare, &mut report)?;
        scale::filings(&postgres.url, &mut report)?;
        drop(postgres);
        println!("\n{report}");
        return Ok(());
    }
    // The outbox: a burst of 10,000 events to notices, and the lag at a steady 1,000 events/s,
    // on one instance (release build, its own SQLite file; on PostgreSQL too when the bench is
    // given one in MOTCUA_BENCH_POSTGRES_URL).
    let mut outbox_targets = vec![("SQLite".to_owned(), None)];
    if let Ok(pg) = std::env::var("MOTCUA_BENCH_POSTGRES_URL") {
        outbox_targets.push(("PostgreSQL".to_owned(), Some(pg)));
    }
    writeln!(
        report,
        "\nOutbox delivery on one instance (`bench-outbox`):\n"
    )?;
    for (engine, url) in outbox_targets {
        let mut cmd = Command::new("cargo");
        cmd.args([
            "run",
            "--quiet",
            "--release",
            "--package",
            "motcua-tests",
            "--bin",
            "bench-outbox",
        ])
        .current_dir(&root);
        if let Some(url) = url {
            cmd.arg("--").arg(url);
        }
        let (ok, out) = proc::run_captured(&mut cmd)?;
        anyhow::ensure!(ok, "the outbox bench failed");
        for line in out.lines().filter(|l| l.starts_with("outbox ")) {
            writeln!(report, "- {engine}: {line}")?;
        }
    }
    // Web push on one core (the push service on the other), and idle live connections.
    proc::run(
        Command::new("cargo")
            .args([
                "build",
                "--quiet",
                "--release",
                "--package",
                "motcua-tests",
                "--bin",
                "bench-push",
            ])
            .current_dir(&root),
    )?;
    let (ok, out) = proc::run_captured(
        pinned("0", &root.join("target/release/bench-push"))
            .arg(root.join("target/release/motcua-server"))
            .current_dir(&root),
    )?;
    anyhow::ensure!(ok, "the push bench failed");
    writeln!(
        report,
        "\nNotifications (`bench-push`; push to the npm web-push-testing push service):\n"
    )?;
    for line in out.lines().filter_map(|l| l.strip_prefix("push ")) {
        writeln!(report, "- {line}")?;
    }
    // The service-quality index over a year of a million dossiers, and the national sync under
    // load, on each engine (PostgreSQL started here).
    let postgres = services::Postgres::start()?;
    writeln!(
        report,
        "\nMonitoring (`bench-monitoring`: the Decision 766 scorecard, the national portal's sync):\n"
    )?;
    for (engine, pg) in [("SQLite", None), ("PostgreSQL", Some(postgres.url.clone()))] {
        let mut cmd = Command::new("cargo");
        cmd.args([
            "run",
            "--quiet",
            "--release",
            "--package",
            "motcua-tests",
            "--bin",
            "bench-monitoring",
        ])
        .current_dir(&root);
        if let Some(url) = pg {
            cmd.env("MOTCUA_TEST_DATABASE", "postgres")
                .env("MOTCUA_TEST_POSTGRES_URL", url);
        }
        let (ok, out) = proc::run_captured(&mut cmd)?;
        anyhow::ensure!(ok, "the monitoring bench failed on {engine}");
        for line in out.lines().filter_map(|l| l.strip_prefix("monitoring ")) {
            writeln!(report, "- {line}")?;
        }
    }
    scale::postgres_and_instances(&server_bin, &postgres.url, &bare, &mut report)?;
    scale::filings(&postgres.url, &mut report)?;
    drop(postgres);
    // Payments: starts and IPN confirmations over HTTP, beside one-row durable transactions.
    let (ok, out) = proc::run_captured(
        Command::new("cargo")
            .args([
                "run",
                "--quiet",
                "--release",
                "--package",
                "motcua-tests",
                "--bin",
                "bench-payments",
                "--",
                "1000",
            ])
            .current_dir(&root),
    )?;
    anyhow::ensure!(ok, "the payments bench failed");
    writeln!(
        report,
        "\nPayments on one instance, SQLite, 16 requests in flight (`bench-payments`):\n"
    )?;
    for line in out.lines().filter_map(|l| l.strip_prefix("payments ")) {
        writeln!(report, "- {line}")?;
    }
    // Credentials: verification rate against raw Ed25519 in the same run, and each kind's QR.
    let (ok, out) = proc::run_captured(
        Command::new("cargo")
            .args([
                "run",
                "--quiet",
                "--release",
                "--package",
                "motcua-tests",
                "--bin",
                "bench-credentials",
            ])
            .current_dir(&root),
    )?;
    anyhow::ensure!(ok, "the credential bench failed");
    writeln!(report, "\nCredentials (`bench-credentials`):\n")?;
    for line in out.lines() {
        writeln!(report, "{line}")?;
    }
    writeln!(
        report,
        "\nVerifying in the verifier's WebAssembly, in Chromium (`tests/browser/verify-speed.mjs`; decoding, signature, validity; target 2 ms):\n"
    )?;
    writeln!(
        report,
        "| credential | QR characters | ms, full speed | ms, CPU slowed 4x |"
    )?;
    writeln!(report, "| --- | ---: | ---: | ---: |")?;
    for line in wasm_verify.lines() {
        if let Some([kind, full, slow, chars]) = line
            .strip_prefix("wasm-verify ")
            .map(|l| l.split(' ').collect::<Vec<_>>())
            .and_then(|v| <[&str; 4]>::try_from(v).ok())
        {
            writeln!(report, "| {kind} | {chars} | {full} | {slow} |")?;
        }
    }
    // Once-only: how much of each form the state fills in, per demo person (a data property,
    // not a speed one, so a debug build will do).
    let (ok, shares) = proc::run_captured(
        Command::new("cargo")
            .args([
                "run",
                "--quiet",
                "--package",
                "motcua-tests",
                "--bin",
                "prefill-shares",
            ])
            .current_dir(&root),
    )?;
    anyhow::ensure!(ok, "measuring the pre-fill shares failed");
    writeln!(
        report,
        "\nOnce-only: fields pre-filled from the national registers and the warehouse, and required documents satisfied without an upload (`prefill-shares`):\n"
    )?;
    for line in shares
        .lines()
        .filter(|l| l.starts_with('|') || l.is_empty())
    {
        writeln!(report, "{line}")?;
    }
    println!("\n{report}");
    let out = root.join("target/bench");
    fs::create_dir_all(&out)?;
    fs::write(out.join("report.md"), &report)?;
    println!("(also written to target/bench/report.md)");
    Ok(())
}

#[cfg(unix)]
fn make_executable(path: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))?;
    Ok(())
}

#[cfg(not(unix))]
fn make_executable(_: &std::path::Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_wrk;

    #[test]
    fn wrk_output_is_read_in_milliseconds() {
        let text = "  Latency Distribution\n     50%  320.00us\n     75%    1.10ms\n     90%    2.00ms\n     99%    1.20s\n\
                    Requests/sec:  45678.90\nTransfer/sec:      5.2MB\n";
        let load = parse_wrk(text).expect("parses");
        assert!((load.p50_ms - 0.32).abs() < 1e-9);
        assert!((load.p99_ms - 1200.0).abs() < 1e-9);
        assert!((load.requests_per_sec - 45678.9).abs() < 1e-6);
        assert_eq!(load.non_2xx, 0);
    }
}
