//! `cargo xtask fuzz [SECONDS]`: the credential decoder under libFuzzer, on the stable toolchain.
//!
//! The target (`fuzz/`, outside the workspace) is built with the same coverage instrumentation
//! cargo-fuzz asks rustc for when no sanitizer is chosen, so neither cargo-fuzz nor a nightly
//! toolchain is needed. Its corpus grows in `target/fuzz/corpus`, seeded from `fuzz/seeds`; a
//! crash is written to `target/fuzz/` and fails the run.

use std::process::Command;

use crate::{proc, root};

/// How long `cargo xtask test` fuzzes: long enough to pass every layer of the decoder.
pub const IN_TESTS_SECS: u64 = 45;
/// How long `cargo xtask fuzz` runs when no time is given.
pub const DEFAULT_SECS: u64 = 600;

const TARGET: &str = "decode_credential";
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

/// Builds the target and runs it for `seconds`; returns the number of inputs it ran.
pub fn fuzz(seconds: u64) -> anyhow::Result<u64> {
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
    )?;
    let corpus = target_dir.join("corpus");
    std::fs::create_dir_all(&corpus)?;
    let binary = target_dir.join(TRIPLE).join("release").join(TARGET);
    let (ok, output) = proc::run_captured(
        Command::new(binary)
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-max_len={MAX_LEN}"))
            .arg(format!("-artifact_prefix={}/", target_dir.display()))
            .arg("-print_final_stats=1")
            .arg(&corpus)
            .arg(root.join("fuzz/seeds")),
    )?;
    anyhow::ensure!(
        ok,
        "the decoder fuzz target found a crash (written to {})",
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
