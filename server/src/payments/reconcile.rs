//! Reconciliation: one day's ledger against the gateway's settlement of that day, transaction by
//! transaction. Every payment the gateway settled must be a payment confirmed here or money
//! recorded to go back; every payment confirmed here must be in the settlement; every refund the
//! gateway made must be a return refunded here. A clean day moves its money from the clearing
//! account to the treasury and agency accounts (the settlement's ledger transaction).

use std::collections::BTreeMap;

use anyhow::Context;
use serde::Serialize;

use super::{
    storage::{CLEARING, post},
    vnpay::SettlementLine,
};
use crate::{
    AppState,
    store::{Store, now_ms},
};

/// One thing that does not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// `missing_here` (settled by the gateway, unknown to the ledger), `missing_at_gateway`
    /// (confirmed here, not settled), `amount` (both, different amounts), `refund_missing_here`.
    pub kind: &'static str,
    pub txn_ref: String,
    pub transaction_no: String,
    pub ledger_vnd: Option<i64>,
    pub gateway_vnd: Option<i64>,
}

/// What a reconciliation found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub gateway_payments: usize,
    pub gateway_refunds: usize,
    pub ledger_payments: usize,
    pub ledger_returns: usize,
    /// Money moved from clearing to the treasury and agency accounts for the day.
    pub settled_vnd: i64,
    /// Unexplained: each is an alert.
    pub differences: Vec<Difference>,
    /// Paid at the gateway and still pending here: explained (its IPN, or the querydr sweep,
    /// will confirm it).
    pub awaiting_confirmation: Vec<Difference>,
    /// Taken for an order closed here and not recorded until now: recorded to go back (and
    /// refunded through the outbox), explained.
    pub recorded_to_return: Vec<Difference>,
}

/// `YYYY-MM-DD` → the gateway's `yyyyMMdd`.
fn compact(day: &str) -> Option<String> {
    let mut parts = day.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    motcua_shared::calendar::Day::from_ymd(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
    Some(format!("{y}{m}{d}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_are_real_calendar_days() {
        assert_eq!(super::compact("2026-11-30").as_deref(), Some("20261130"));
        assert_eq!(super::compact("2028-02-29").as_deref(), Some("20280229"));
        for bad in [
            "2026-13-01",
            "2027-02-29",
            "20261130",
            "2026-1-30",
            "2026-11-30-1",
            "x",
        ] {
            assert_eq!(super::compact(bad), None, "{bad}");
        }
    }
}

/// Reconciles day `day` (`YYYY-MM-DD`, Vietnam): reads the gateway's settlement, compares, records
/// the report, and on a clean day writes the settlement's ledger transaction (once).
pub async fn reconcile(
    store: &Store,
    gateway: &super::vnpay::Gateway,
    day: &str,
) -> anyhow::Result<Report> {
    let date = compact(day).context("the day is YYYY-MM-DD")?;
    let settlement = gateway
        .settlement(&date)
        .await
        .map_err(|e| anyhow::anyhow!("the gateway's settlement: {e}"))?;
    let ledger = store.ledger_day(&date).await?;
    let mut differences = Vec::new();
    let mut awaiting = Vec::new();
    let mut returned = Vec::new();
    let settled_payments: Vec<&SettlementLine> =
        settlement.iter().filter(|l| l.kind == "payment").collect();
    let settled_refunds: Vec<&SettlementLine> =
        settlement.iter().filter(|l| l.kind == "refund").collect();
    // Gateway → ledger.
    for line in &settled_payments {
        let here = ledger
            .payments
            .get(&line.transaction_no)
            .or_else(|| ledger.returns.get(&line.transaction_no))
            .or_else(|| ledger.any_taken.get(&line.transaction_no));
        match here {
            // Paid at the gateway, its confirmation not here yet (an IPN on its way, or the
            // querydr sweep to come): explained, and settled when confirmed.
            // Taken for an order closed here (failed, expired, paid by another transaction)
            // and not yet recorded: recorded now to go back, as its IPN would have.
            None if store
                .record_settled_for_closed_order(
                    &line.txn_ref,
                    &super::storage::GatewayWord {
                        paid: true,
                        amount_x100: line.amount_vnd * 100,
                        transaction_no: line.transaction_no.clone(),
                        bank_code: String::new(),
                        response_code: "00".into(),
                        pay_date: line.pay_date.clone(),
                        source: "settlement",
                    },
                )
                .await? =>
            {
                returned.push(Difference {
                    kind: "recorded_to_return",
                    txn_ref: line.txn_ref.clone(),
                    transaction_no: line.transaction_no.clone(),
                    ledger_vnd: None,
                    gateway_vnd: Some(line.amount_vnd),
                });
            }
            None if store.payment_live(&line.txn_ref).await? => awaiting.push(Difference {
                kind: "awaiting_confirmation",
                txn_ref: line.txn_ref.clone(),
                transaction_no: line.transaction_no.clone(),
                ledger_vnd: None,
                gateway_vnd: Some(line.amount_vnd),
            }),
            None => differences.push(Difference {
                kind: "missing_here",
                txn_ref: line.txn_ref.clone(),
                transaction_no: line.transaction_no.clone(),
                ledger_vnd: None,
                gateway_vnd: Some(line.amount_vnd),
            }),
            Some((_, amount)) if *amount != line.amount_vnd => differences.push(Difference {
                kind: "amount",
                txn_ref: line.txn_ref.clone(),
                transaction_no: line.transaction_no.clone(),
                ledger_vnd: Some(*amount),
                gateway_vnd: Some(line.amount_vnd),
            }),
            Some(_) => {}
        }
    }
    // Ledger → gateway.
    for (transaction_no, (txn_ref, amount)) in ledger.payments.iter().chain(&ledger.returns) {
        if !settled_payments
            .iter()
            .any(|l| &l.transaction_no == transaction_no)
        {
            differences.push(Difference {
                kind: "missing_at_gateway",
                txn_ref: txn_ref.clone(),
                transaction_no: transaction_no.clone(),
                ledger_vnd: Some(*amount),
                gateway_vnd: None,
            });
        }
    }
    for line in &settled_refunds {
        if !store.return_refunded(&line.transaction_no).await? {
            differences.push(Difference {
                kind: "refund_missing_here",
                txn_ref: line.txn_ref.clone(),
                transaction_no: line.transaction_no.clone(),
                ledger_vnd: None,
                gateway_vnd: Some(line.amount_vnd),
            });
        }
    }
    // A clean day moves each confirmed payment's money from clearing to where it is owed, once.
    let mut settled_vnd = 0;
    if differences.is_empty() {
        for payment_id in &ledger.unsettled {
            settled_vnd += store.settle_payment(payment_id).await?;
        }
    }
    let report = Report {
        day: day.to_owned(),
        gateway_payments: settled_payments.len(),
        gateway_refunds: settled_refunds.len(),
        ledger_payments: ledger.payments.len(),
        ledger_returns: ledger.returns.len(),
        settled_vnd,
        differences,
        awaiting_confirmation: awaiting,
        recorded_to_return: returned,
    };
    store
        .record_reconciliation(
            day,
            report.differences.len() as i64,
            &serde_json::to_string(&report)?,
        )
        .await?;
    if !report.differences.is_empty() {
        tracing::error!(
            day,
            differences = report.differences.len(),
            "ALERT: the ledger and the gateway's settlement differ"
        );
    }
    Ok(report)
}

/// Reconciles yesterday (Vietnam) once, when it has not been.
pub async fn daily(state: &AppState) {
    let yesterday =
        motcua_shared::calendar::Day(motcua_shared::calendar::Day::of_instant(now_ms()).0 - 1);
    let (y, m, d) = yesterday.ymd();
    let day = format!("{y:04}-{m:02}-{d:02}");
    match state.store.reconciled(&day).await {
        Ok(true) => {}
        Ok(false) => {
            let Some(gateway) = state.payments.gateway.as_ref() else {
                return;
            };
            if let Err(e) = reconcile(&state.store, gateway, &day).await {
                tracing::warn!(error = %format!("{e:#}"), day, "the daily reconciliation could not run; tried again later");
            }
        }
        Err(e) => tracing::warn!(error = %e, "reading past reconciliations failed"),
    }
}

/// One day of the ledger, as reconciliation compares it.
#[derive(Debug, Default)]
pub struct LedgerDay {
    /// Confirmed payments by gateway transaction: (txn_ref, amount).
    pub payments: BTreeMap<String, (String, i64)>,
    /// Money taken to go back, by gateway transaction: (txn_ref, amount).
    pub returns: BTreeMap<String, (String, i64)>,
    /// Any transaction known here whatever its day (a payment paid just before midnight and
    /// settled the next day is not a difference).
    pub any_taken: BTreeMap<String, (String, i64)>,
    /// The day's confirmed payments whose money is still in clearing.
    pub unsettled: Vec<String>,
}

impl crate::store::Store {
    /// The ledger's day `date` (`yyyyMMdd`, the gateway's pay date).
    pub async fn ledger_day(&self, date: &str) -> anyhow::Result<LedgerDay> {
        let mut day = LedgerDay::default();
        let like = format!("{date}%");
        let paid: Vec<(String, String, i64, String, Option<i64>)> = sqlx::query_as(
            "select id, txn_ref, amount_vnd, transaction_no, settled_at from payments where state = 'paid' and pay_date like $1",
        )
        .bind(&like)
        .fetch_all(self.pool())
        .await
        .context("reading a day's payments")?;
        for (id, txn_ref, amount, transaction_no, settled_at) in paid {
            day.payments.insert(transaction_no, (txn_ref, amount));
            if settled_at.is_none() {
                day.unsettled.push(id);
            }
        }
        let returns: Vec<(String, String, i64)> = sqlx::query_as(
            "select p.txn_ref, r.transaction_no, r.amount_vnd from payment_returns r join payments p on p.id = r.payment_id \
             where r.pay_date like $1",
        )
        .bind(&like)
        .fetch_all(self.pool())
        .await
        .context("reading a day's returns")?;
        for (txn_ref, transaction_no, amount) in returns {
            day.returns.insert(transaction_no, (txn_ref, amount));
        }
        let all: Vec<(String, String, i64)> = sqlx::query_as(
            "select txn_ref, transaction_no, amount_vnd from payments where state = 'paid' and transaction_no is not null \
             union all select p.txn_ref, r.transaction_no, r.amount_vnd from payment_returns r join payments p on p.id = r.payment_id",
        )
        .fetch_all(self.pool())
        .await
        .context("reading every transaction")?;
        for (txn_ref, transaction_no, amount) in all {
            day.any_taken.insert(transaction_no, (txn_ref, amount));
        }
        Ok(day)
    }

    pub async fn return_refunded(&self, transaction_no: &str) -> anyhow::Result<bool> {
        let row: Option<(String,)> = sqlx::query_as(
            "select state from payment_returns where transaction_no = $1 and state = 'refunded'",
        )
        .bind(transaction_no)
        .fetch_optional(self.pool())
        .await
        .context("reading a return")?;
        Ok(row.is_some())
    }

    /// Whether order `txn_ref` is a payment here still waiting for the gateway's word.
    pub async fn payment_live(&self, txn_ref: &str) -> anyhow::Result<bool> {
        let row: Option<(String,)> = sqlx::query_as(
            "select id from payments where txn_ref = $1 and state in ('created', 'pending')",
        )
        .bind(txn_ref)
        .fetch_optional(self.pool())
        .await
        .context("reading a payment")?;
        Ok(row.is_some())
    }

    /// Moves a confirmed payment's money from clearing to the accounts it is owed to, once: its
    /// ledger transaction and `settled_at` together. Returns the amount moved (0 when settled
    /// before).
    pub async fn settle_payment(&self, payment_id: &str) -> anyhow::Result<i64> {
        let mut tx = self.begin_write().await?;
        let items: Vec<(String, i64, i64, String)> = sqlx::query_as(
            "select account, principal_vnd, interest_vnd, claim from payment_items where payment_id = $1 order by position",
        )
        .bind(payment_id)
        .fetch_all(&mut *tx)
        .await
        .context("reading a payment's items")?;
        let mut entries = Vec::new();
        let mut total = 0;
        for (account, principal, interest, claim) in items {
            let amount = principal + interest;
            total += amount;
            entries.push((CLEARING.to_owned(), -amount, Some(claim.clone())));
            entries.push((account, amount, Some(claim)));
        }
        let marked = sqlx::query(
            "update payments set settled_at = $1 where id = $2 and state = 'paid' and settled_at is null",
        )
        .bind(now_ms())
        .bind(payment_id)
        .execute(&mut *tx)
        .await
        .context("marking a payment settled")?;
        if marked.rows_affected() == 0 || entries.is_empty() {
            tx.rollback().await?;
            return Ok(0);
        }
        post(
            &mut tx,
            "settlement",
            Some(payment_id),
            "Cổng thanh toán quyết toán",
            &format!("settle:{payment_id}"),
            &entries,
        )
        .await?;
        tx.commit().await?;
        Ok(total)
    }

    pub async fn record_reconciliation(
        &self,
        day: &str,
        differences: i64,
        report: &str,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "insert into reconciliations (day, ran_at, differences, report) values ($1, $2, $3, $4) \
             on conflict (day) do update set ran_at = excluded.ran_at, differences = excluded.differences, report = excluded.report",
        )
        .bind(day)
        .bind(now_ms())
        .bind(differences)
        .bind(report)
        .execute(&mut *tx)
        .await
        .context("recording a reconciliation")?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether day `day` was reconciled (with or without differences).
    pub async fn reconciled(&self, day: &str) -> anyhow::Result<bool> {
        let row: Option<(i64,)> =
            sqlx::query_as("select differences from reconciliations where day = $1")
                .bind(day)
                .fetch_optional(self.pool())
                .await
                .context("reading a reconciliation")?;
        Ok(row.is_some())
    }

    /// Every ledger account's balance, derived from the entries.
    pub async fn ledger_balances(&self) -> anyhow::Result<BTreeMap<String, i64>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "select account, cast(sum(amount_vnd) as bigint) from ledger_entries group by account order by account",
        )
        .fetch_all(self.pool())
        .await
        .context("reading balances")?;
        Ok(rows.into_iter().collect())
    }

    /// Ledger transactions whose entries do not sum to zero (there must be none).
    pub async fn unbalanced_transactions(&self) -> anyhow::Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "select t.id from ledger_transactions t join ledger_entries e on e.transaction_id = t.id \
             group by t.id having sum(e.amount_vnd) <> 0",
        )
        .fetch_all(self.pool())
        .await
        .context("checking the ledger")?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}
