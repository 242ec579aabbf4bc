//! Late dossiers. A result past its legal deadline is flagged once: the dossier gets a new date,
//! the applicant an apology stating it (as Vietnamese rules require for late results), and the
//! unit's lead an escalation. A receipt past its 8 office hours is escalated to the lead once.
//! Each is a dossier event written with its audit entry and outbox event in one transaction; the
//! outbox worker turns the events into notices.

use anyhow::Context as _;
use motcua_shared::{calendar::Calendar, dossier::DossierStatus, time::format_vn_datetime};

use super::storage::record_transition;
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

const ACTOR: &str = "system:deadlines";

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
        let mut tx = store.begin_write().await?;
        let flagged = sqlx::query(
            "update dossiers set overdue_at = $1, rescheduled_to = $2, updated_at = $1, version = version + 1 \
             where id = $3 and overdue_at is null and status = $4",
        )
        .bind(now)
        .bind(new_date)
        .bind(&id)
        .bind(status.as_str())
        .execute(&mut *tx)
        .await
        .context("flagging a late dossier")?;
        if flagged.rows_affected() == 0 {
            continue;
        }
        let reason = format!("Hẹn trả kết quả mới: {}", format_vn_datetime(new_date));
        record_transition(
            &mut tx,
            &id,
            ACTOR,
            "overdue",
            Some(status),
            status,
            Some(&reason),
        )
        .await?;
        tx.commit().await.context("committing a late dossier")?;
        report.late_results += 1;
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
        let mut tx = store.begin_write().await?;
        let flagged = sqlx::query(
            "update dossiers set receipt_escalated_at = $1 \
             where id = $2 and receipt_escalated_at is null and status = 'submitted'",
        )
        .bind(now)
        .bind(&id)
        .execute(&mut *tx)
        .await
        .context("flagging a late receipt")?;
        if flagged.rows_affected() == 0 {
            continue;
        }
        let status = DossierStatus::Submitted;
        record_transition(
            &mut tx,
            &id,
            ACTOR,
            "receipt_overdue",
            Some(status),
            status,
            Some("Quá 8 giờ làm việc chưa tiếp nhận; đã báo lãnh đạo bộ phận một cửa"),
        )
        .await?;
        tx.commit().await.context("committing a late receipt")?;
        report.late_receipts += 1;
    }
    Ok(report)
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
