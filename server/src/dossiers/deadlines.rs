//! Late dossiers. A result past its legal deadline is flagged once: the dossier gets a new date,
//! the applicant an apology stating it (as Vietnamese rules require for late results), and the
//! unit's lead an escalation. A receipt past its 8 office hours is escalated to the lead once.
//! Each is a dossier event written with its audit entry and outbox event in one transaction; the
//! outbox worker turns the events into notices.

use anyhow::Context as _;
use motcua_shared::{calendar::Calendar, dossier::DossierStatus};

use crate::store::Store;

/// What one sweep found and flagged.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sweep {
    pub late_results: usize,
    pub late_receipts: usize,
}

/// The new date promised for a late result: half the legal time limit again (at least one
/// working day), counted from now.
pub fn rescheduled(calendar: &Calendar, now: i64, time_limit_working_days: i64) -> i64 {
    let extra = u32::try_from((time_limit_working_days + 1) / 2)
        .unwrap_or(1)
        .max(1);
    calendar.deadline(now, extra)
}

/// Flags every dossier that became late since the last sweep. Safe to run on several instances
/// at once: each flag is a conditional update, so a dossier is flagged once.
pub async fn sweep(store: &Store, calendar: &Calendar, now: i64) -> anyhow::Result<Sweep> {
    let mut report = Sweep::default();
    let late: Vec<(String, String, i64)> = sqlx::query_as(
        "select id, status, time_limit_working_days from dossiers \
         where status in ('submitted', 'received', 'in_processing', 'approved') \
           and deadline_at < $1 and overdue_at is null order by deadline_at limit 500",
    )
    .bind(now)
    .fetch_all(store.pool())
    .await
    .context("finding late dossiers")?;
    for (id, status, limit) in late {
        let status = DossierStatus::parse(&status).context("a stored status")?;
        let new_date = rescheduled(calendar, now, limit);
        if store.flag_late_result(&id, status, now, new_date).await? {
            report.late_results += 1;
        }
    }

    let unreceived: Vec<(String,)> = sqlx::query_as(
        "select id from dossiers where status = 'submitted' and receive_by < $1 \
           and receipt_escalated_at is null order by receive_by limit 500",
    )
    .bind(now)
    .fetch_all(store.pool())
    .await
    .context("finding unreceived dossiers")?;
    for (id,) in unreceived {
        if store.flag_late_receipt(&id, now).await? {
            report.late_receipts += 1;
        }
    }
    Ok(report)
}

/// Sweeps every `every` until `stop` turns true.
pub async fn run(
    store: Store,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let Ok(calendar) = Calendar::vietnam_shared() else {
        tracing::error!("the holiday calendar does not read: late dossiers are not flagged");
        return;
    };
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(every) => {}
        }
        match sweep(&store, calendar, crate::store::now_ms()).await {
            Ok(s) if s.late_results + s.late_receipts > 0 => {
                tracing::warn!(
                    late_results = s.late_results,
                    late_receipts = s.late_receipts,
                    "late dossiers flagged"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %format!("{e:#}"), "deadline sweep failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use motcua_shared::calendar::{Calendar, Day};

    #[test]
    fn a_late_result_gets_half_its_time_limit_again_and_at_least_a_day() {
        let vn = Calendar::vietnam().expect("reads");
        // Monday 23 November 2026, 10:00 in Hà Nội.
        let now = Day::from_ymd(2026, 11, 23).expect("a date").at_minute(600);
        assert_eq!(super::rescheduled(&vn, now, 5), vn.deadline(now, 3));
        assert_eq!(super::rescheduled(&vn, now, 1), vn.deadline(now, 1));
        assert_eq!(super::rescheduled(&vn, now, 0), vn.deadline(now, 1));
    }
}
