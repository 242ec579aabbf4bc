//! The operator's command line: `serve`, `migrate`, `default-config`.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::{Application, Config, procedures, startup::shutdown_signal, store::Store};

/// motcua: the citizen one-stop public service server.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (configuration from MOTCUA_CONFIG and MOTCUA_* variables).
    Serve,
    /// Apply pending database migrations and seed the catalogue, then exit.
    Migrate,
    /// Print the default configuration as TOML.
    DefaultConfig,
    /// Make a person (by CCCD) an officer of an agency and level, or an admin.
    GrantRole {
        #[arg(long)]
        cccd: String,
        /// `officer` or `admin`.
        #[arg(long)]
        role: String,
        /// The officer's agency code, for example UBND-XA.
        #[arg(long)]
        agency: Option<String>,
        /// The officer's level: province, district or commune.
        #[arg(long)]
        level: Option<String>,
        /// The officer's unit at that level: a province, district or commune code.
        #[arg(long)]
        unit: Option<String>,
        /// The officer leads the unit's one-stop desk and receives escalations.
        #[arg(long)]
        lead: bool,
    },
    /// Withdraw a role from a person (by CCCD).
    RevokeRole {
        #[arg(long)]
        cccd: String,
        #[arg(long)]
        role: String,
    },
    /// Sessions: `sessions end --cccd C` signs one person out of every device (a stolen phone,
    /// a departed officer); `sessions end --all` signs everyone out.
    Sessions {
        #[command(subcommand)]
        command: SessionsCommand,
    },
    /// The audit log: `audit verify` checks its hash chain and names the first broken entry.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Payments: `payments reconcile --date YYYY-MM-DD` compares that day's ledger with the
    /// gateway's settlement and prints every difference (exit 1 when there is one).
    Payments {
        #[command(subcommand)]
        command: PaymentsCommand,
    },
    /// The national systems: `sync reconcile --period P` compares what the national portal and
    /// EMC hold of the dossiers filed in period P with what this system sent them, and prints
    /// every difference (exit 1 when there is one).
    Sync {
        #[command(subcommand)]
        command: SyncCommand,
    },
    /// The agencies' signing keys: `keys list`, `keys rotate --agency A`, `keys withdraw --kid K`.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Every key: its agency, validity and whether it is withdrawn.
    List,
    /// Gives an agency a new signing key; its earlier keys sign no more but keep verifying.
    Rotate {
        #[arg(long)]
        agency: String,
    },
    /// Withdraws a key: what it signed is no longer valid anywhere.
    Withdraw {
        #[arg(long)]
        kid: String,
    },
}

#[derive(Debug, Subcommand)]
enum PaymentsCommand {
    /// Reconcile one day (Vietnam's calendar) with the gateway's settlement.
    Reconcile {
        /// `YYYY-MM-DD`.
        #[arg(long)]
        date: String,
    },
}

#[derive(Debug, Subcommand)]
enum SyncCommand {
    /// Reconcile a period with the national portal and EMC.
    Reconcile {
        /// `YYYY-MM-DD`, `YYYY-MM`, `YYYY` or `YYYY-MM-DD..YYYY-MM-DD` (Vietnam's calendar).
        #[arg(long)]
        period: String,
    },
}

#[derive(Debug, Subcommand)]
enum SessionsCommand {
    /// End sessions now: one person's (`--cccd`) or everyone's (`--all`).
    End {
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        cccd: Option<String>,
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute the chain and check it against the signed checkpoints of the data folder;
    /// exit 1 at the first broken entry.
    Verify,
    /// Sign the chain's head now into the checkpoints file (a worker does it every
    /// `audit_checkpoint_secs`).
    Checkpoint,
}

impl Cli {
    pub fn run(self) -> ExitCode {
        if let Command::DefaultConfig = self.command {
            print!("{}", Config::default_toml());
            return ExitCode::SUCCESS;
        }
        let config = match Config::load() {
            Ok(config) => config,
            Err(err) => {
                eprintln!("motcua-server: {err:#}");
                return ExitCode::from(2);
            }
        };
        init_tracing(&config.log, config.log_format == "json");
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(err) => {
                eprintln!("motcua-server: starting the async runtime: {err}");
                return ExitCode::FAILURE;
            }
        };
        let result = runtime.block_on(async move {
            match self.command {
                Command::Serve => serve(config).await,
                Command::Migrate => migrate(config).await,
                Command::GrantRole {
                    cccd,
                    role,
                    agency,
                    level,
                    unit,
                    lead,
                } => grant_role(config, &cccd, &role, agency, level, unit, lead).await,
                Command::RevokeRole { cccd, role } => revoke_role(config, &cccd, &role).await,
                Command::Sessions {
                    command: SessionsCommand::End { cccd, .. },
                } => end_sessions(config, cccd.as_deref()).await,
                Command::Audit {
                    command: AuditCommand::Verify,
                } => verify_audit(config).await,
                Command::Audit {
                    command: AuditCommand::Checkpoint,
                } => audit_checkpoint(config).await,
                Command::Keys { command } => keys(config, command).await,
                Command::Payments {
                    command: PaymentsCommand::Reconcile { date },
                } => reconcile(config, &date).await,
                Command::Sync {
                    command: SyncCommand::Reconcile { period },
                } => sync_reconcile(config, &period).await,
                Command::DefaultConfig => Ok(()),
            }
        });
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                tracing::error!("{err:#}");
                eprintln!("motcua-server: {err:#}");
                ExitCode::FAILURE
            }
        }
    }
}

fn init_tracing(filter: &str, json: bool) {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(filter));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = if json {
        logs.json().with_current_span(true).try_init()
    } else {
        logs.try_init()
    };
}

async fn serve(config: Config) -> anyhow::Result<()> {
    tracing::info!(?config, "starting");
    let app = Application::build(config).await?;
    tracing::info!(addr = %app.local_addr()?, "listening");
    app.run_until(shutdown_signal()).await
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let store = Store::connect(config.database_url.expose(), 1).await?;
    store.migrate().await?;
    let seeded = procedures::seed_catalogue(&store).await?;
    println!(
        "migrated the {} database; {seeded} procedures in the catalogue",
        store.engine().name()
    );
    store.close().await;
    Ok(())
}

async fn grant_role(
    config: Config,
    cccd: &str,
    role: &str,
    agency: Option<String>,
    level: Option<String>,
    unit: Option<String>,
    lead: bool,
) -> anyhow::Result<()> {
    use motcua_shared::{Cccd, identity::Role, procedure::Level};
    let cccd = Cccd::parse(cccd)?;
    let (role, assignment) = match role {
        "officer" => {
            let agency_code = agency
                .filter(|a| !a.trim().is_empty())
                .context("an officer needs --agency")?;
            let level = level
                .as_deref()
                .and_then(Level::parse)
                .context("an officer needs --level province, district or commune")?;
            let unit_code = unit
                .filter(|u| motcua_shared::units::get(u).is_some_and(|unit| unit.level == level))
                .context("an officer needs --unit: a listed unit code at their level")?;
            let assignment = crate::identity::roles::Assignment {
                agency_code,
                level,
                unit_code,
                lead,
            };
            (Role::Officer, Some(assignment))
        }
        "admin" => (Role::Admin, None),
        other => anyhow::bail!("unknown role {other:?}: use officer or admin"),
    };
    let store = Store::connect(config.database_url.expose(), 1).await?;
    store.migrate().await?;
    store
        .grant_role(&cccd, role, assignment.as_ref(), Some("operator"))
        .await?;
    println!("granted {role:?} to {}", cccd.masked());
    store.close().await;
    Ok(())
}

async fn revoke_role(config: Config, cccd: &str, role: &str) -> anyhow::Result<()> {
    let cccd = motcua_shared::Cccd::parse(cccd)?;
    let store = Store::connect(config.database_url.expose(), 1).await?;
    let removed = store.revoke_role(&cccd, role, "operator").await?;
    println!(
        "{}",
        if removed {
            "revoked"
        } else {
            "that person did not have this role"
        }
    );
    store.close().await;
    Ok(())
}

async fn end_sessions(config: Config, cccd: Option<&str>) -> anyhow::Result<()> {
    let store = Store::connect(config.database_url.expose(), 1).await?;
    let person = match cccd {
        Some(cccd) => {
            let cccd = motcua_shared::Cccd::parse(cccd)?;
            let person = store
                .person_by_cccd(&cccd)
                .await?
                .with_context(|| format!("nobody with CCCD {} has signed in", cccd.masked()))?;
            Some(person.id)
        }
        None => None,
    };
    let ended = store.end_sessions_by_operator(person.as_deref()).await?;
    println!("{ended} sessions ended");
    store.close().await;
    Ok(())
}

async fn verify_audit(config: Config) -> anyhow::Result<()> {
    let store = Store::connect(config.database_url.expose(), 1).await?;
    let checkpoints = crate::audit::read_checkpoints(&config.data_dir)?;
    let report = crate::audit::verify_with_checkpoints(&store, &checkpoints, None).await?;
    store.close().await;
    match report {
        crate::audit::ChainReport::Intact { entries } => {
            println!(
                "audit log intact: {entries} entries, matching {} signed checkpoints",
                checkpoints.len()
            );
            Ok(())
        }
        crate::audit::ChainReport::Broken { seq, why } => {
            anyhow::bail!("audit log broken at entry {seq}: {why}")
        }
    }
}

async fn audit_checkpoint(config: Config) -> anyhow::Result<()> {
    let store = Store::connect(config.database_url.expose(), 1).await?;
    let keys = crate::wallet::keys::FileKeyStore::new(config.data_dir.join("keys"));
    let signed = crate::audit::checkpoint(&store, &keys, &config.data_dir).await?;
    store.close().await;
    println!(
        "checkpoint: {} entries, head {} (in {})",
        signed.seq,
        signed.hash,
        crate::audit::checkpoints_file(&config.data_dir).display()
    );
    Ok(())
}

async fn reconcile(config: Config, date: &str) -> anyhow::Result<()> {
    let store = Store::connect(config.database_url.expose(), 1).await?;
    // With the sandbox on and no gateway configured: the running server's sandbox gateway.
    #[cfg(feature = "sandbox")]
    let defaults = if config.sandbox {
        Some(crate::sandbox::Sandbox::load(&config)?.gateway_defaults(&config))
    } else {
        None
    };
    #[cfg(not(feature = "sandbox"))]
    let defaults = None;
    let payments = crate::payments::Payments::new(&config, defaults.as_ref())?;
    let gateway = payments
        .gateway
        .as_ref()
        .context("no payment gateway is configured (MOTCUA_VNPAY_*)")?;
    let report = crate::payments::reconcile::reconcile(&store, gateway, date).await?;
    store.close().await;
    println!(
        "{}: gateway {} payments, {} refunds; ledger {} payments, {} returns; settled {} VND",
        report.day,
        report.gateway_payments,
        report.gateway_refunds,
        report.ledger_payments,
        report.ledger_returns,
        report.settled_vnd
    );
    for d in &report.differences {
        println!(
            "DIFFERENCE {}: order {} transaction {} ledger {} gateway {}",
            d.kind,
            d.txn_ref,
            d.transaction_no,
            d.ledger_vnd.map_or("-".into(), |v| v.to_string()),
            d.gateway_vnd.map_or("-".into(), |v| v.to_string())
        );
    }
    anyhow::ensure!(
        report.differences.is_empty(),
        "{} unexplained difference(s)",
        report.differences.len()
    );
    println!("no differences");
    Ok(())
}

async fn sync_reconcile(config: Config, period: &str) -> anyhow::Result<()> {
    let (from, to) = crate::monitoring::sync::parse_period(period).with_context(|| {
        format!("{period:?} is not a period (YYYY-MM-DD, YYYY-MM, YYYY or DAY..DAY)")
    })?;
    let store = Store::connect(config.database_url.expose(), 1).await?;
    // With the sandbox on and nothing configured: the running server's sandboxes.
    #[cfg(feature = "sandbox")]
    let defaults = if config.sandbox {
        Some(crate::sandbox::Sandbox::load(&config)?.national_defaults(&config))
    } else {
        None
    };
    #[cfg(not(feature = "sandbox"))]
    let defaults = None;
    let national = crate::monitoring::national::National::new(&config, defaults.as_ref())?;
    anyhow::ensure!(
        national.portal_url.is_some() || national.emc_url.is_some(),
        "neither the national portal nor EMC is configured (MOTCUA_NATIONAL_PORTAL_URL, MOTCUA_EMC_URL)"
    );
    let reports = crate::monitoring::sync::reconcile(&store, &national, from, to).await?;
    store.close().await;
    let mut differences = 0;
    for r in &reports {
        println!(
            "{}: {} dossiers with {} changes sent; it holds {} dossiers with {} changes",
            r.system.as_str(),
            r.expected,
            r.changes_expected,
            r.held,
            r.changes_held
        );
        for d in &r.differences {
            println!(
                "DIFFERENCE {} {} {}: here {} there {}",
                r.system.as_str(),
                d.kind,
                d.number,
                d.here.map_or("-".into(), |v| v.to_string()),
                d.there.map_or("-".into(), |v| v.to_string())
            );
        }
        differences += r.differences.len();
    }
    anyhow::ensure!(differences == 0, "{differences} difference(s)");
    println!("no differences");
    Ok(())
}

async fn keys(config: Config, command: KeysCommand) -> anyhow::Result<()> {
    let store = Store::connect(config.database_url.expose(), 1).await?;
    store.migrate().await?;
    let key_store = crate::wallet::keys::FileKeyStore::new(config.data_dir.join("keys"));
    let outcome = match command {
        KeysCommand::List => {
            println!("kid   agency       valid from           valid until          status");
            for k in store.issuer_keys().await? {
                let when = |secs: Option<i64>| {
                    secs.map_or("-".to_owned(), |s| {
                        motcua_shared::time::format_vn_datetime(s.saturating_mul(1000))
                    })
                };
                println!(
                    "{:<5} {:<12} {:<20} {:<20} {}",
                    k.kid,
                    k.agency_code,
                    when(Some(k.valid_from)),
                    when(k.valid_until),
                    if k.withdrawn_at.is_some() {
                        "withdrawn"
                    } else {
                        "active"
                    }
                );
            }
            Ok(())
        }
        KeysCommand::Rotate { agency } => {
            let key = store.signing_key(&key_store, agency.trim(), true).await?;
            println!(
                "agency {} signs with key {} from now on",
                key.agency, key.kid
            );
            Ok(())
        }
        KeysCommand::Withdraw { kid } => {
            if store.withdraw_key(kid.trim(), "operator").await? {
                println!("withdrew key {kid}: what it signed is no longer valid");
                Ok(())
            } else {
                Err(anyhow::anyhow!("no active key {kid}"))
            }
        }
    };
    store.close().await;
    outcome
}
