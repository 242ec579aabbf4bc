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
  fuzz [--minutes N | S]  fuzz each target (credential decoder, e-form validator) for N minutes or S
              seconds (default 600 s each); crashes go to target/fuzz
  build-pwa   build the PWA into client/dist (release, optimised, pre-compressed)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run::run(),
        Some("test") => test::test(),
        Some("bench") => bench::bench(),
        Some("fuzz") => fuzz::seconds_asked(&args[1..])
            .and_then(fuzz::fuzz_all)
            .map(|runs| {
                for (target, n) in runs {
                    println!("{target}: {n} inputs, no crash");
                }
            }),
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
