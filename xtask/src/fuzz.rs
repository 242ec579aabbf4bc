//! `cargo xtask fuzz [--minutes N | SECONDS]`: the parsers that take what strangers send, under
//! libFuzzer, on the stable toolchain: the credential decoder, the e-form validator, the
//! upload sniffer and the VNPay IPN reader.
//!
//! The targets (`fuzz/`, outside the workspace) are built with the same coverage
//! instrumentation cargo-fuzz asks rustc for when no sanitizer is chosen, so neither cargo-fuzz
//! nor a nightly toolchain is needed. Each corpus grows in `target/fuzz/corpus/TARGET`, seeded
//! from `fuzz/seeds/TARGET`; a crash is written to `target/fuzz/` and fails the run.

use std::process::Command;

use crate::{proc, root};

/// How long `cargo xtask test` fuzzes each target: long enough to pass every layer of each.
pub const IN_TESTS_SECS: u64 = 30;
/// How long `cargo xtask fuzz` runs each target when no time is given.
pub const DEFAULT_SECS: u64 = 600;

/// The targets of `fuzz/fuzz_targets`.
pub const TARGETS: [&str; 4] = [
    "decode_credential",
    "validate_form",
    "sniff_upload",
    "read_notification",
];
const TRIPLE: &str = "x86_64-unknown-linux-gnu";
/// A little over the decoder's own cap on the QR text (4,096), so inputs past the cap are tried.
const MAX_LEN: usize = 4_200;

/// The rustc flags for libFuzzer's coverage feedback (as cargo-fuzz sets them, sanitizer none).
const RUSTFLAGS: &str = "-Cpasses=sancov-module \
    -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
    -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares \
    --cfg fuzzing";

/// The seconds `cargo xtask fuzz` was asked for: `--minutes N`, a number of seconds, or none.
pub fn seconds_asked(args: &[String]) -> anyhow::Result<u64> {
    match args {
        [] => Ok(DEFAULT_SECS),
        [flag, minutes] if flag == "--minutes" => Ok(minutes.parse::<u64>()? * 60),
        [seconds] => Ok(seconds.parse()?),
        _ => anyhow::bail!("usage: cargo xtask fuzz [--minutes N | SECONDS]"),
    }
}

/// Builds the targets and runs each for `seconds`; returns (target, inputs it ran).
pub fn fuzz_all(seconds: u64) -> anyhow::Result<Vec<(&'static str, u64)>> {
    build()?;
    TARGETS
        .iter()
        .map(|target| Ok((*target, run(target, seconds)?)))
        .collect()
}

fn build() -> anyhow::Result<()> {
    let root = root();
    let target_dir = root.join("target/fuzz");
    proc::run(
        Command::new("cargo")
            .args(["build", "--release", "--target", TRIPLE, "--target-dir"])
            .arg(&target_dir)
            .current_dir(root.join("fuzz"))
            // The build script of a -sys crate must not inherit the instrumentation; with an
            // explicit --target, RUSTFLAGS reaches only the target's code.
            .env("RUSTFLAGS", RUSTFLAGS),
    )
}

/// Runs `target` for `seconds`; returns the number of inputs it ran.
fn run(target: &str, seconds: u64) -> anyhow::Result<u64> {
    let root = root();
    let target_dir = root.join("target/fuzz");
    let corpus = target_dir.join("corpus").join(target);
    std::fs::create_dir_all(&corpus)?;
    let binary = target_dir.join(TRIPLE).join("release").join(target);
    let (ok, output) = proc::run_captured(
        Command::new(binary)
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-max_len={MAX_LEN}"))
            .arg(format!("-artifact_prefix={}/", target_dir.display()))
            .arg("-print_final_stats=1")
            .arg(&corpus)
            .arg(root.join("fuzz/seeds").join(target)),
    )?;
    anyhow::ensure!(
        ok,
        "the fuzz target {target} found a crash (written to {})",
        target_dir.display()
    );
    Ok(runs(&output))
}

/// The number of inputs libFuzzer ran, from its last "Done N runs" line.
fn runs(output: &str) -> u64 {
    output
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("Done ")?.split(' ').next()?.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_run_count_is_read_from_libfuzzer() {
        let out = "#1033520\tDONE   cov: 2404\nDone 1033520 runs in 61 second(s)\n";
        assert_eq!(super::runs(out), 1_033_520);
        assert_eq!(super::runs("nothing"), 0);
    }
}

#[cfg(test)]
mod asked {
    #[test]
    fn the_time_is_read_in_minutes_or_seconds() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            super::seconds_asked(&args(&[])).ok(),
            Some(super::DEFAULT_SECS)
        );
        assert_eq!(
            super::seconds_asked(&args(&["--minutes", "10"])).ok(),
            Some(600)
        );
        assert_eq!(super::seconds_asked(&args(&["45"])).ok(), Some(45));
        assert!(super::seconds_asked(&args(&["--minutes"])).is_err());
    }
}
