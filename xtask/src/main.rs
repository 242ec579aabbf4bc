//! `cargo xtask run | test | bench`: everything needed to build, start, test and measure motcua
//! on a fresh machine, including installing the tools it needs.

mod bench;
mod fuzz;
mod proc;
mod pwa;
mod run;
mod services;
mod test;
mod tools;

use std::{path::PathBuf, process::ExitCode};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  run         build the PWA and the server, start it on SQLite with demo data at http://127.0.0.1:8080
  test        fmt, clippy, the Rust tests on SQLite and PostgreSQL, wasm tests and browser tests
  bench       load the API and measure it against a bare axum server; report the PWA's size
  fuzz [S]    fuzz the credential decoder for S seconds (default 600); crashes go to target/fuzz
  build-pwa   build the PWA into client/dist (release, optimised, pre-compressed)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run::run(),
        Some("test") => test::test(),
        Some("bench") => bench::bench(),
        Some("fuzz") => args
            .get(1)
            .map_or(Ok(fuzz::DEFAULT_SECS), |s| s.parse())
            .map_err(anyhow::Error::from)
            .and_then(|secs| fuzz::fuzz(secs).map(|runs| println!("{runs} inputs, no crash"))),
        Some("build-pwa") => tools::ensure_pwa_tools().and_then(|()| pwa::build().map(|_| ())),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (xtask lives one folder below it).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
