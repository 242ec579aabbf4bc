//! The operator's command line, run as the real binary.

use std::process::Command;

use motcua_server::store::Store;
use motcua_shared::{Cccd, identity::Role};

fn server(db: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_motcua-server"));
    cmd.env("MOTCUA_DATABASE_URL", db)
        .env_remove("MOTCUA_CONFIG");
    cmd
}

#[test]
fn default_config_prints_every_contract_key() {
    let out = Command::new(env!("CARGO_BIN_EXE_motcua-server"))
        .arg("default-config")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for key in [
        "addr",
        "database_url",
        "public_url",
        "sandbox",
        "oidc_issuer",
    ] {
        assert!(text.contains(&format!("{key} =")), "{key} missing:\n{text}");
    }
}

#[tokio::test]
async fn grant_role_and_revoke_role_change_what_the_store_says() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}/motcua.db", dir.path().display());
    let bad = server(&db)
        .args([
            "grant-role",
            "--cccd",
            "031180009876",
            "--role",
            "officer",
            "--agency",
            "UBND-XA",
        ])
        .output()
        .expect("runs");
    assert!(
        !bad.status.success(),
        "an officer without a level is refused"
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--level"));

    let ok = server(&db)
        .args([
            "grant-role",
            "--cccd",
            "031180009876",
            "--role",
            "officer",
            "--agency",
            "UBND-XA",
            "--level",
            "commune",
            "--unit",
            "002",
        ])
        .output()
        .expect("runs");
    assert!(
        !ok.status.success(),
        "a unit that is not a commune is refused"
    );
    assert!(String::from_utf8_lossy(&ok.stderr).contains("--unit"));

    let ok = server(&db)
        .args([
            "grant-role",
            "--cccd",
            "031180009876",
            "--role",
            "officer",
            "--agency",
            "UBND-XA",
            "--level",
            "commune",
            "--unit",
            "00070",
            "--lead",
        ])
        .output()
        .expect("runs");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let store = Store::connect(&db, 1).await.expect("connects");
    let cccd = Cccd::parse("031180009876").expect("valid");
    assert_eq!(
        store.roles_of(&cccd).await.expect("roles"),
        vec![Role::Citizen, Role::Officer]
    );
    let assignment = store
        .assignment_of(&cccd)
        .await
        .expect("read")
        .expect("assigned");
    assert_eq!(assignment.agency_code, "UBND-XA");
    assert_eq!(assignment.unit_code, "00070");
    assert!(assignment.lead);

    let revoked = server(&db)
        .args(["revoke-role", "--cccd", "031180009876", "--role", "officer"])
        .output()
        .expect("runs");
    assert!(revoked.status.success());
    assert_eq!(
        store.roles_of(&cccd).await.expect("roles"),
        vec![Role::Citizen]
    );
}

#[tokio::test]
async fn audit_verify_reports_an_intact_chain_and_names_the_first_broken_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}/motcua.db", dir.path().display());
    for (role, extra) in [
        ("admin", vec![]),
        (
            "officer",
            vec![
                "--agency", "UBND-XA", "--level", "commune", "--unit", "00070",
            ],
        ),
    ] {
        let out = server(&db)
            .args(["grant-role", "--cccd", "048190002468", "--role", role])
            .args(extra)
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let intact = server(&db)
        .args(["audit", "verify"])
        .output()
        .expect("runs");
    assert!(intact.status.success());
    assert!(String::from_utf8_lossy(&intact.stdout).contains("intact: 2 entries"));

    let store = Store::connect(&db, 1).await.expect("connects");
    sqlx::query("update audit_log set actor = 'someone else' where seq = 2")
        .execute(store.pool())
        .await
        .expect("tampered");
    let broken = server(&db)
        .args(["audit", "verify"])
        .output()
        .expect("runs");
    assert!(!broken.status.success());
    assert!(
        String::from_utf8_lossy(&broken.stderr).contains("broken at entry 2"),
        "{}",
        String::from_utf8_lossy(&broken.stderr)
    );
}
