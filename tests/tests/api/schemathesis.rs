//! API fuzzing from the OpenAPI document with Schemathesis (PyPI; `cargo xtask test` installs it
//! into `target/pyenv`): signed out, as a citizen and as an officer, against this engine. Every
//! response must be no 5xx, of a documented status, of the documented media type and conform to
//! the documented schema.

use motcua_tests::{LEVEL2_CCCD, TestApp, spawn_app_with};
use serde_json::Value;

use crate::back_office::TRAFFIC_OFFICER;

/// The checks every response must pass.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,response_headers_conformance";

/// The `schemathesis` command of the venv `cargo xtask test` makes, beside its Python.
fn schemathesis() -> std::path::PathBuf {
    let bin = match std::env::var("MOTCUA_PYTHON") {
        Ok(python) => std::path::PathBuf::from(python)
            .parent()
            .expect("a folder")
            .to_owned(),
        Err(_) => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/pyenv/bin"),
    };
    let st = bin.join("schemathesis");
    assert!(
        st.exists(),
        "Schemathesis is not installed: run `cargo xtask test`, which installs it into target/pyenv"
    );
    st
}

async fn signed_in(app: &TestApp, cccd: &str) -> Vec<String> {
    let browser = TestApp::second_browser(app);
    browser.sign_in_as(cccd).await;
    let me: Value = browser.get("/api/v1/me").await.json().await.expect("json");
    vec![
        format!("Cookie: {}", browser.cookie_header()),
        format!(
            "X-CSRF-Token: {}",
            me["csrf_token"].as_str().expect("a token")
        ),
    ]
}

/// Runs Schemathesis against `app` with `headers`; its report when it finds a failure.
async fn fuzz(app: &TestApp, who: &str, headers: Vec<String>, exclude: &str) -> Result<(), String> {
    let st = schemathesis();
    let base = app.address.clone();
    let report = tempfile::tempdir().expect("a folder");
    let report_dir = report.path().to_owned();
    let exclude = exclude.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(st);
        cmd.arg("run")
            .arg(format!("{base}/api/openapi.json"))
            .args(["--url", &base])
            .args(["--checks", CHECKS])
            .args(["--phases", "examples,coverage,fuzzing"])
            .args(["--max-examples", "12"])
            // One worker: CPython 3.11's compiler, which Hypothesis drives to build its
            // generators, is not safe to use from several threads at once ("AST constructor
            // recursion depth mismatch"), an error of the tool, not of the API.
            .args(["--workers", "1"])
            .args(["--seed", "20261130"])
            .args(["--request-timeout", "20"])
            .args(["--no-color", "--output-truncate", "false"])
            .arg("--report-dir")
            .arg(&report_dir)
            // Its caches of crashes and examples go there too, not into the source tree.
            .current_dir(&report_dir)
            // Uploads need a body the generator cannot make (a file); they are tested by hand.
            .env("NO_COLOR", "1")
            .env("SCHEMATHESIS_TELEMETRY", "false")
            .env("HOME", &report_dir);
        if !exclude.is_empty() {
            cmd.args(["--exclude-path-regex", &exclude]);
        }
        for header in &headers {
            cmd.args(["--header", header]);
        }
        cmd.output().expect("schemathesis runs")
    })
    .await
    .expect("joined");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    let summary: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("SUMMARY"))
        .filter(|l| !l.trim().is_empty())
        .collect();
    eprintln!("Schemathesis {who}:\n{}", summary.join("\n"));
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("Schemathesis {who} failed:\n{text}"))
    }
}

#[tokio::test]
async fn schemathesis_finds_no_failure_signed_out_as_a_citizen_and_as_an_officer() {
    let app = spawn_app_with(|config| {
        // A domain name, as in production: browsers refuse passkeys for a bare IP, and so does
        // the server (its passkey routes answer 503 without one).
        config.public_url = format!("http://localhost:{}", config.addr.port());
        // The fuzzer's thousands of requests are one client's; the limits are tested elsewhere.
        config.rate_limit_sign_in_per_minute = 100_000;
        config.rate_limit_passkey_per_minute = 100_000;
        config.rate_limit_verify_per_minute = 100_000;
        config.filing_rate_per_hour = 100_000;
    })
    .await;
    let citizen = signed_in(&app, LEVEL2_CCCD).await;
    let officer = signed_in(&app, TRAFFIC_OFFICER).await;
    // Signed in, the calls that end the session itself would turn the rest of the run into
    // 401s; the signed-out run covers them. The live event stream never ends, and Schemathesis
    // reads whole bodies; `notifications::live` has its own tests.
    let keep_session = "sessions/revoke-all|/me/sessions/\\{id\\}|/me/events";
    let mut failures = Vec::new();
    for (who, headers, exclude) in [
        ("signed out", Vec::new(), ""),
        ("as a citizen", citizen, keep_session),
        ("as an officer", officer, keep_session),
    ] {
        if let Err(report) = fuzz(&app, who, headers, exclude).await {
            failures.push(report);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
