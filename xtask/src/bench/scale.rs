//! The bench's scale part: the signed-in loads among a million dossiers with 10,000 live
//! streams open, the same on PostgreSQL, three instances behind a round-robin proxy, and
//! durable filings against the commit ceiling on each engine.

use std::{
    fmt::Write as _,
    fs,
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
};

use anyhow::Context;

use super::{Load, rss_mib, wrk_script, wrk_with};
use crate::{proc, root, services};

/// Live streams held open during the loads among a million dossiers.
pub const STREAMS: usize = 10_000;

/// What the signed-in loads measured on one server.
pub struct Signed {
    pub citizen: Load,
    pub officer: Load,
    pub mixed: Load,
    pub peak_mib: f64,
    pub seeded: String,
}

/// The table of [`Signed`]'s loads, each beside `bare`.
pub fn signed_table(report: &mut String, signed: &Signed, bare: &Load) -> anyhow::Result<()> {
    writeln!(
        report,
        "| load | requests/s | p50 ms | p99 ms | non-2xx | vs the ceiling |"
    )?;
    writeln!(report, "| --- | ---: | ---: | ---: | ---: | ---: |")?;
    for (name, load) in [
        (
            "a citizen's dossiers (target ≥ 0.15, p99 ≤ 20 ms)",
            &signed.citizen,
        ),
        (
            "an officer's queue (target ≥ 0.15, p99 ≤ 20 ms)",
            &signed.officer,
        ),
        (
            "mixed: catalogue, a procedure, dossiers, notices",
            &signed.mixed,
        ),
    ] {
        super::row(report, name, load, bare)?;
    }
    Ok(())
}

/// Builds the bench's helpers in `tests/` (release).
pub fn build_helpers() -> anyhow::Result<()> {
    proc::run(
        Command::new("cargo")
            .args(["build", "--quiet", "--release", "--package", "motcua-tests"])
            .args([
                "--bin",
                "bench-seed",
                "--bin",
                "bench-sse",
                "--bin",
                "bench-filings",
            ])
            .args(["--bin", "bench-session"])
            .current_dir(root()),
    )
}

/// Runs the release helper `bin` of `tests/` with `args` and `envs`; its standard output.
pub fn helper(bin: &str, args: &[&str], envs: &[(&str, &str)]) -> anyhow::Result<String> {
    let mut cmd = Command::new(root().join("target/release").join(bin));
    cmd.args(args).current_dir(root());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let (ok, out) = proc::run_captured(&mut cmd)?;
    anyhow::ensure!(ok, "{bin} failed: {out}");
    Ok(out)
}

/// Signs a citizen (20 dossiers filed) and an officer in on `public_url`: their cookies.
pub fn sessions(public_url: &str) -> anyhow::Result<(String, String)> {
    let out = helper("bench-session", &[public_url, "20"], &[])?;
    let cookie_of = |who: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{who} ")))
            .map(str::to_owned)
            .with_context(|| format!("no {who} session in: {out}"))
    };
    Ok((cookie_of("citizen")?, cookie_of("officer")?))
}

/// The mixed load's script: a citizen's round of the catalogue, a procedure, their dossiers and
/// their notices.
fn mixed_script() -> anyhow::Result<std::path::PathBuf> {
    let path = root().join("target/bench/mixed.lua");
    fs::create_dir_all(root().join("target/bench"))?;
    fs::write(
        &path,
        "local paths = {\"/api/v1/procedures\", \"/api/v1/procedures/1.002804\", \"/api/v1/dossiers\", \"/api/v1/me/notices\"}\n\
         local i = 0\n\
         request = function()\n  i = i + 1\n  return wrk.format(\"GET\", paths[(i % #paths) + 1])\nend\n",
    )?;
    Ok(path)
}

/// The mixed load against `base_url` with the citizen's session.
pub fn mixed(base_url: &str, citizen: &str) -> anyhow::Result<Load> {
    wrk_script(
        base_url,
        &[
            format!("Cookie: {citizen}"),
            super::BROWSER_ENCODINGS.to_owned(),
        ],
        Some(&mixed_script()?),
    )
}

/// Seeds a million dossiers into `server`'s database, opens [`STREAMS`] live streams of the
/// citizen, and runs the signed-in and mixed loads meanwhile.
pub fn million(server: &services::Server, citizen: &str, officer: &str) -> anyhow::Result<Signed> {
    let seeded = helper("bench-seed", &[&server.database_url], &[])?;
    let mut streams = Command::new(root().join("target/release/bench-sse"))
        .arg(&server.base_url)
        .arg(citizen)
        .arg(STREAMS.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("starting bench-sse")?;
    let mut line = String::new();
    BufReader::new(streams.stdout.take().context("bench-sse's output")?).read_line(&mut line)?;
    anyhow::ensure!(
        line.starts_with("open "),
        "the live streams did not open: {line}"
    );
    let loads = (|| -> anyhow::Result<(Load, Load, Load)> {
        Ok((
            wrk_with(
                &format!("{}/api/v1/dossiers", server.base_url),
                Some(citizen),
            )?,
            wrk_with(
                &format!("{}/api/v1/officer/dossiers", server.base_url),
                Some(officer),
            )?,
            mixed(&server.base_url, citizen)?,
        ))
    })();
    let (_, peak_mib) = rss_mib(server.guard.id());
    drop(streams.stdin.take());
    let _ = streams.wait();
    let (citizen, officer, mixed) = loads?;
    Ok(Signed {
        citizen,
        officer,
        mixed,
        peak_mib,
        seeded: seeded.trim().to_owned(),
    })
}

/// One server on PostgreSQL (`pg_url`, an empty database), a million dossiers and the loads;
/// then three instances on that database behind `bench-proxy`, with the mixed load. Written to
/// `report` beside the ceiling `bare`.
pub fn postgres_and_instances(
    server_bin: &Path,
    pg_url: &str,
    bare: &Load,
    report: &mut String,
) -> anyhow::Result<()> {
    let env = |extra: &[(&'static str, String)]| {
        let mut all = vec![
            ("MOTCUA_LOG", "warn".to_owned()),
            ("MOTCUA_FILING_RATE_PER_HOUR", "1000".to_owned()),
            ("MOTCUA_DATABASE_URL", pg_url.to_owned()),
            ("MOTCUA_DATABASE_MAX_CONNECTIONS", "16".to_owned()),
        ];
        all.extend_from_slice(extra);
        all
    };
    let one = services::start_server(server_bin, "bench-postgres", &env(&[]))?;
    let (citizen, officer) = sessions(&one.public_url)?;
    let signed = million(&one, &citizen, &officer)?;
    let data_dir = one.data_dir.clone();
    let one_rss = signed.peak_mib;
    writeln!(
        report,
        "\nOn PostgreSQL, one instance (server on core 0, PostgreSQL unpinned), {}:\n",
        signed.seeded
    )?;
    signed_table(report, &signed, bare)?;
    writeln!(
        report,
        "\nPeak server memory with {STREAMS} live streams open: {one_rss:.1} MiB (budget 100 MB)."
    )?;
    drop(one);

    // Three instances, one data folder (the demo provider's key), one database, behind the
    // proxy; none pinned: three servers share the two cores with PostgreSQL and wrk.
    let proxy_port = services::free_port()?;
    let public = format!("http://localhost:{proxy_port}");
    let binary = root().join("target/release/motcua-server");
    let mut instances = Vec::new();
    for i in 0..3 {
        instances.push(services::start_server(
            &binary,
            &format!("bench-instance-{i}"),
            &env(&[
                ("MOTCUA_PUBLIC_URL", public.clone()),
                ("MOTCUA_DATA_DIR", data_dir.display().to_string()),
            ]),
        )?);
    }
    let mut proxy = proc::ChildGuard {
        name: "bench-proxy".into(),
        child: Command::new(root().join("target/release/bench-proxy"))
            .arg(format!("127.0.0.1:{proxy_port}"))
            .args(instances.iter().map(|s| s.base_url.clone()))
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the proxy")?,
    };
    let mut first = String::new();
    BufReader::new(proxy.child.stdout.take().context("proxy stdout")?).read_line(&mut first)?;
    anyhow::ensure!(first.starts_with("listening "), "the proxy: {first}");
    let base = format!("http://127.0.0.1:{proxy_port}");
    let single_proxy = mixed(&base, &citizen)?;
    let peaks: Vec<String> = instances
        .iter()
        .map(|s| format!("{:.1}", rss_mib(s.guard.id()).1))
        .collect();
    writeln!(
        report,
        "\nThree instances on that database behind `bench-proxy` (round robin; unpinned, so three servers, PostgreSQL and the proxy share core 0 while wrk has core 1):\n"
    )?;
    writeln!(
        report,
        "| load | requests/s | p50 ms | p99 ms | non-2xx | vs the ceiling |"
    )?;
    writeln!(report, "| --- | ---: | ---: | ---: | ---: | ---: |")?;
    super::row(
        report,
        "mixed, through the proxy to three instances",
        &single_proxy,
        bare,
    )?;
    writeln!(
        report,
        "\nPeak memory of each instance: {} MiB.",
        peaks.join(", ")
    )?;
    drop(proxy);
    drop(instances);
    Ok(())
}

/// Durable filings against the commit ceiling: SQLite (16 in flight) and PostgreSQL (64).
pub fn filings(pg_admin_url: &str, report: &mut String) -> anyhow::Result<()> {
    writeln!(
        report,
        "\nDurable filings on one instance (`bench-filings`, 3,000 each; the ceiling is one-row durable transactions on the same database in the same run; target: the storage part at 2x the ceiling on SQLite, and on PostgreSQL with 64 in flight 3x the 219/s measured before the audit queue):\n"
    )?;
    for (args, envs) in [
        (["3000", "16"], vec![]),
        (
            ["3000", "64"],
            vec![
                ("MOTCUA_TEST_DATABASE", "postgres"),
                ("MOTCUA_TEST_POSTGRES_URL", pg_admin_url),
            ],
        ),
    ] {
        let out = helper("bench-filings", &args, &envs)?;
        for line in out.lines().filter_map(|l| l.strip_prefix("filings ")) {
            writeln!(report, "- {line}")?;
        }
    }
    Ok(())
}
