//! `cargo xtask test`: every check and test, on both databases and in a real browser, ending in
//! one summary line `N passed, N failed`. Services it starts are stopped even on failure.

use std::process::Command;

use crate::{fuzz, proc, pwa, root, services, tools};

/// The outcome of one step: how many tests (or checks) passed and failed in it.
struct Step {
    name: String,
    passed: u64,
    failed: u64,
}

#[derive(Default)]
struct Report {
    steps: Vec<Step>,
}

impl Report {
    fn record(&mut self, name: &str, ok: bool, passed: u64, failed: u64) {
        // A step that failed without a failing test (a build error, a crash) counts as one failure.
        let failed = if !ok && failed == 0 { 1 } else { failed };
        self.steps.push(Step {
            name: name.to_owned(),
            passed,
            failed,
        });
    }

    fn check(&mut self, name: &str, result: anyhow::Result<()>) {
        if let Err(err) = &result {
            eprintln!("{name}: {err:#}");
        }
        self.record(name, result.is_ok(), u64::from(result.is_ok()), 0);
    }
}

/// Sums libtest's `test result: ok. 12 passed; 0 failed; …` lines (also printed by wasm-bindgen-test).
fn count_libtest(output: &str) -> (u64, u64) {
    let number_before = |line: &str, word: &str| -> u64 {
        line.split(';')
            .find_map(|part| {
                part.trim().strip_suffix(word).map(|n| {
                    n.trim()
                        .rsplit(' ')
                        .next()
                        .unwrap_or("0")
                        .parse()
                        .unwrap_or(0)
                })
            })
            .unwrap_or(0)
    };
    output
        .lines()
        .filter(|l| l.trim_start().starts_with("test result:"))
        .fold((0, 0), |(p, f), line| {
            (
                p + number_before(line, "passed"),
                f + number_before(line, "failed"),
            )
        })
}

/// Reads node's test runner summary (`# pass N`, `# fail N`).
fn count_node(output: &str) -> (u64, u64) {
    let value = |key: &str| {
        output
            .lines()
            .rev()
            .filter_map(|l| l.trim().strip_prefix(key))
            .find_map(|n| n.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    (value("# pass"), value("# fail"))
}

fn cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.args(args).current_dir(root());
    cmd
}

pub fn test() -> anyhow::Result<()> {
    let root = root();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let mut report = Report::default();

    // Tools first: without them nothing below can run, so a failure here stops the run.
    tools::ensure_pwa_tools()?;
    tools::ensure_chromium()?;

    report.check(
        "cargo fmt --check",
        proc::run(&mut cargo(&["fmt", "--all", "--", "--check"])),
    );
    report.check(
        "clippy (native)",
        proc::run(&mut cargo(&[
            "clippy",
            "--workspace",
            "--exclude",
            "motcua-client",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])),
    );
    report.check(
        "clippy (the production build, without the sandboxes)",
        proc::run(&mut cargo(&[
            "clippy",
            "--package",
            "motcua-server",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])),
    );
    report.check(
        "clippy (wasm32: shared, client)",
        proc::run(&mut cargo(&[
            "clippy",
            "--package",
            "motcua-shared",
            "--package",
            "motcua-client",
            "--target",
            "wasm32-unknown-unknown",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])),
    );
    report.check(
        "shared builds for wasm32",
        proc::run(&mut cargo(&[
            "build",
            "--package",
            "motcua-shared",
            "--target",
            "wasm32-unknown-unknown",
        ])),
    );

    // Rust tests, once per database engine (pycose for the credential interoperability test).
    let python = tools::ensure_python_venv();
    if let Err(err) = &python {
        eprintln!("the Python venv with pycose could not be made: {err:#}");
    }
    let postgres = services::Postgres::start();
    if let Err(err) = &postgres {
        eprintln!("PostgreSQL could not start: {err:#}");
    }
    for engine in ["sqlite", "postgres"] {
        let mut cmd = cargo(&[
            "test",
            "--workspace",
            "--exclude",
            "motcua-client",
            "--no-fail-fast",
        ]);
        cmd.env("MOTCUA_TEST_DATABASE", engine);
        if let Ok(python) = &python {
            cmd.env("MOTCUA_PYTHON", python);
        }
        if let (Ok(pg), "postgres") = (&postgres, engine) {
            cmd.env("MOTCUA_TEST_POSTGRES_URL", &pg.url);
        }
        let (ok, output) = proc::run_captured(&mut cmd)?;
        let (passed, failed) = count_libtest(&output);
        report.record(&format!("Rust tests on {engine}"), ok, passed, failed);
    }
    drop(postgres);

    // The shared crate and the client as WebAssembly in headless Chromium.
    for package in ["motcua-shared", "motcua-client"] {
        let mut cmd = cargo(&[
            "test",
            "--package",
            package,
            "--target",
            "wasm32-unknown-unknown",
        ]);
        cmd.env("CHROMEDRIVER", "/usr/bin/chromedriver");
        let (ok, output) = proc::run_captured(&mut cmd)?;
        let (passed, failed) = count_libtest(&output);
        report.record(
            &format!("wasm tests of {package} in Chromium"),
            ok,
            passed,
            failed,
        );
    }

    // The parsers that take what strangers send, under libFuzzer, for a bounded time each.
    match fuzz::fuzz_all(fuzz::IN_TESTS_SECS) {
        Ok(runs) => {
            for (target, n) in runs {
                report.record(
                    &format!("fuzzing {target} ({}s, {n} inputs)", fuzz::IN_TESTS_SECS),
                    n > 0,
                    u64::from(n > 0),
                    u64::from(n == 0),
                );
            }
        }
        Err(err) => {
            eprintln!("{err:#}");
            report.record("fuzzing", false, 0, 1);
        }
    }

    // A production build leaves the sandboxes out: built without the feature, the binary holds
    // none of their routes, demo data or keys.
    report.check(
        "the production build holds no sandbox code",
        production_has_no_sandbox(),
    );

    // Browser tests: Playwright driving Debian's Chromium against a running server.
    let browser = (|| -> anyhow::Result<(bool, String)> {
        pwa::build()?;
        proc::run(&mut cargo(&[
            "build",
            "--package",
            "motcua-server",
            "--features",
            "sandbox",
        ]))?;
        let server = services::start_server(
            &root.join("target/debug/motcua-server"),
            "browser-tests",
            // Notices appear within a second or two, as the tests expect.
            &[("MOTCUA_WORKER_INTERVAL_SECS", "1".to_owned())],
        )?;
        let mut cmd = Command::new("node");
        cmd.args(["--test", "--test-concurrency=1", "tests/browser/"])
            .current_dir(&root)
            .env("BASE_URL", &server.public_url)
            .env("MOTCUA_SERVER_BIN", root.join("target/debug/motcua-server"))
            .env("MOTCUA_WEB_DIR", root.join("client/dist"))
            .env("SCREENSHOT_DIR", root.join("target/screenshots"));
        let result = proc::run_captured(&mut cmd);
        if !result.as_ref().is_ok_and(|(ok, _)| *ok) {
            eprintln!("the server's log is in {}", server.log.display());
        }
        drop(server);
        result
    })();
    match browser {
        Ok((ok, output)) => {
            let (passed, failed) = count_node(&output);
            report.record("browser tests (Playwright, Chromium)", ok, passed, failed);
        }
        Err(err) => {
            eprintln!("browser tests could not run: {err:#}");
            report.record("browser tests (Playwright, Chromium)", false, 0, 1);
        }
    }

    // Crash safety: the sandbox server built above, killed by SIGKILL under load 50 times; then
    // notices waiting in the outbox at a kill, each pushed once after the restart.
    let crash = proc::run_captured(&mut cargo(&[
        "run",
        "--quiet",
        "--package",
        "motcua-tests",
        "--bin",
        "crash-test",
        "--",
        &root
            .join("target/debug/motcua-server")
            .display()
            .to_string(),
        "50",
    ]));
    match crash {
        Ok((ok, output)) => {
            let (passed, failed) = output
                .lines()
                .find_map(|l| {
                    let rest = l.strip_prefix("crash ")?;
                    let (p, rest) = rest.split_once(" passed, ")?;
                    let f = rest.strip_suffix(" failed")?;
                    Some((p.parse().ok()?, f.parse().ok()?))
                })
                .unwrap_or((0, 1));
            if let Some(line) = output.lines().find(|l| l.starts_with("crash test:")) {
                println!("{line}");
            }
            report.record(
                "crash safety (50 SIGKILL cycles; push across a kill)",
                ok,
                passed,
                failed,
            );
        }
        Err(err) => {
            eprintln!("the crash test could not run: {err:#}");
            report.record(
                "crash safety (50 SIGKILL cycles; push across a kill)",
                false,
                0,
                1,
            );
        }
    }

    println!("\n== Summary{}", if ci { " (CI)" } else { "" });
    for step in &report.steps {
        let mark = if step.failed == 0 { "ok  " } else { "FAIL" };
        println!(
            "{mark} {:<40} {} passed, {} failed",
            step.name, step.passed, step.failed
        );
    }
    let passed: u64 = report.steps.iter().map(|s| s.passed).sum();
    let failed: u64 = report.steps.iter().map(|s| s.failed).sum();
    println!("{passed} passed, {failed} failed");
    anyhow::ensure!(failed == 0, "{failed} failed");
    Ok(())
}

/// Strings only the sandboxes put in a binary: their routes, the demo people, the sandbox
/// provider's derived client secret.
const SANDBOX_MARKERS: [&str; 4] = [
    "/sandbox/idp",
    "sandbox-client-secret:",
    "Nguyễn Văn An",
    "seed/sandbox/people.toml",
];

/// Builds the server as production does (no features) and looks for the sandboxes in it.
fn production_has_no_sandbox() -> anyhow::Result<()> {
    proc::run(&mut cargo(&[
        "build",
        "--package",
        "motcua-server",
        "--bin",
        "motcua-server",
    ]))?;
    let binary = std::fs::read(root().join("target/debug/motcua-server"))?;
    let found: Vec<&str> = SANDBOX_MARKERS
        .into_iter()
        .filter(|m| contains(&binary, m.as_bytes()))
        .collect();
    anyhow::ensure!(
        found.is_empty(),
        "the production build contains sandbox code: {found:?}"
    );
    // And such a build refuses to start with the sandboxes asked for.
    let dir = tempfile::tempdir()?;
    let out = Command::new(root().join("target/debug/motcua-server"))
        .arg("serve")
        .env("MOTCUA_SANDBOX", "true")
        .env("MOTCUA_ADDR", "127.0.0.1:0")
        .env(
            "MOTCUA_DATABASE_URL",
            format!("sqlite://{}/prod-check.db", dir.path().display()),
        )
        .output()?;
    let said = String::from_utf8_lossy(&out.stderr);
    anyhow::ensure!(
        !out.status.success() && said.contains("without the sandboxes"),
        "a production build started with MOTCUA_SANDBOX=true: {said}"
    );
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_summaries_are_added_up() {
        let out = "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.1s\n\
                   running 3 tests\n\
                   test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out\n";
        assert_eq!(count_libtest(out), (14, 1));
    }

    #[test]
    fn a_marker_is_found_inside_a_binary_and_not_outside_it() {
        assert!(contains(b"\0\x01/sandbox/idp/token\0", b"/sandbox/idp"));
        assert!(!contains(b"/sandbox-idp", b"/sandbox/idp"));
    }

    #[test]
    fn node_summaries_are_read() {
        let out = "# tests 4\n# suites 0\n# pass 3\n# fail 1\n# cancelled 0\n";
        assert_eq!(count_node(out), (3, 1));
    }
}
