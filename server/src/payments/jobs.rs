//! The payments' background work: payments the gateway never confirmed are settled by asking it
//! (querydr); unpaid filings lapse; money to go back is refunded; the tax authority is told of
//! paid notices; each day is reconciled with the gateway's settlement.

use std::{sync::Arc, time::Duration};

use motcua_shared::registry::{NoticePayment, NoticePaymentLine};

use super::{apply_word, decide::IpnAnswer, storage::GatewayWord};
use crate::{
    AppState,
    events::{DomainEvent, PaymentChange},
    outbox::{Consumer, Delivery, DeliveryError},
    store::now_ms,
};

/// How long past its expiry a payment waits for a late IPN before the gateway is asked.
pub const QUERY_GRACE_MS: i64 = 60_000;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub confirmed: usize,
    pub expired: usize,
    pub lapsed: usize,
}

/// Asks the gateway about every payment still pending past its expiry (as of `now`) and settles
/// it: paid (confirmed as by an IPN) or not (expired, what it held freed). Then closes filings
/// left unpaid past their time.
pub async fn settle_overdue(state: &AppState, now: i64) -> anyhow::Result<Pass> {
    let mut pass = Pass::default();
    if let Some(gateway) = state.payments.gateway.as_ref() {
        for payment in state
            .store
            .payments_past_expiry(now, QUERY_GRACE_MS)
            .await?
        {
            let answer = match gateway
                .querydr(&payment.view.txn_ref, &payment.gateway_created, now)
                .await
            {
                Ok(answer) => answer,
                Err(e) => {
                    tracing::warn!(txn_ref = %payment.view.txn_ref, error = %e, "querydr failed; asked again next pass");
                    continue;
                }
            };
            match answer.response_code.as_str() {
                "00" if answer.paid() => {
                    let word = GatewayWord {
                        paid: true,
                        amount_x100: answer.amount_x100,
                        transaction_no: answer.transaction_no.clone(),
                        bank_code: answer.bank_code.clone(),
                        response_code: "00".into(),
                        pay_date: answer.pay_date.clone(),
                        source: "querydr",
                    };
                    match apply_word(state, &payment.view.txn_ref, &word).await {
                        Ok(IpnAnswer::Confirmed) => pass.confirmed += 1,
                        // Paid with the wrong amount (recorded to go back): the order is over.
                        Ok(_) => {
                            if state
                                .store
                                .expire_payment(&payment.view.id, "querydr: amount mismatch")
                                .await?
                            {
                                pass.expired += 1;
                            }
                        }
                        Err(e) => tracing::error!(error = %e, "settling a queried payment failed"),
                    }
                }
                // Found and not paid, or never reached the gateway: it expired.
                "00" | "91" => {
                    let why = format!(
                        "querydr {} {}",
                        answer.response_code, answer.transaction_status
                    );
                    if state.store.expire_payment(&payment.view.id, &why).await? {
                        pass.expired += 1;
                    }
                }
                other => {
                    tracing::warn!(txn_ref = %payment.view.txn_ref, code = other, "querydr refused; asked again next pass");
                }
            }
        }
    }
    pass.lapsed = state.store.lapse_unpaid_filings(now).await?;
    Ok(pass)
}

/// Runs [`settle_overdue`] every `every`, and the reconciliation of the day before once a day,
/// until `stop` turns true.
pub async fn run(state: AppState, every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(every) => {}
        }
        match settle_overdue(&state, now_ms()).await {
            Ok(pass) if pass != Pass::default() => {
                tracing::info!(
                    confirmed = pass.confirmed,
                    expired = pass.expired,
                    lapsed = pass.lapsed,
                    "overdue payments settled"
                );
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "settling overdue payments failed")
            }
        }
        if state.config.reconcile_daily {
            super::reconcile::daily(&state).await;
        }
    }
}

/// Refunds money the gateway took that is not owed: asks the gateway for each return of the
/// payment, then records it refunded (once, whatever the retries).
pub struct RefundsConsumer {
    pub state: AppState,
}

#[async_trait::async_trait]
impl Consumer for RefundsConsumer {
    fn name(&self) -> &'static str {
        "payment_refunds"
    }

    /// Money that must go back is asked for until the gateway takes the refund (backoff grows to
    /// an hour between attempts: about six weeks).
    fn max_attempts(&self) -> i64 {
        1_000
    }

    async fn send(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let DomainEvent::Payment(event) = &delivery.event else {
            return Ok(());
        };
        if event.change != PaymentChange::ReturnStarted {
            return Ok(());
        }
        let gateway = self
            .state
            .payments
            .gateway
            .as_ref()
            .ok_or_else(|| DeliveryError::new("no payment gateway is configured"))?;
        let returns = self
            .state
            .store
            .pending_returns()
            .await
            .map_err(|e| DeliveryError::new(e.to_string()))?;
        let payment = self
            .state
            .store
            .payment(&event.payment_id)
            .await
            .map_err(|e| DeliveryError::new(e.to_string()))?;
        let Some(payment) = payment else {
            return Ok(());
        };
        for ret in returns
            .into_iter()
            .filter(|r| r.txn_ref == payment.view.txn_ref)
        {
            let answer = gateway
                .refund(
                    &ret.txn_ref,
                    &ret.transaction_no,
                    &ret.gateway_created,
                    ret.amount_vnd,
                    true,
                    &format!("Hoan tien {} {}", ret.txn_ref, ret.reason),
                    now_ms(),
                )
                .await
                .map_err(|e| DeliveryError::new(e.to_string()))?;
            match answer.response_code.as_str() {
                // Accepted now, or already asked for before.
                "00" | "94" => {
                    self.state
                        .store
                        .mark_refunded(&ret.id)
                        .await
                        .map_err(|e| DeliveryError::new(e.to_string()))?;
                }
                code => {
                    return Err(DeliveryError::new(format!(
                        "the gateway refused the refund: {code}"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Tells the tax authority of every confirmed payment of notices, until it acknowledges.
pub struct TaxReportConsumer {
    pub state: AppState,
}

#[async_trait::async_trait]
impl Consumer for TaxReportConsumer {
    fn name(&self) -> &'static str {
        "tax_authority"
    }

    /// Retried until the tax authority acknowledges (about six weeks of hourly attempts).
    fn max_attempts(&self) -> i64 {
        1_000
    }

    async fn send(&self, delivery: &Delivery) -> Result<(), DeliveryError> {
        let DomainEvent::Payment(event) = &delivery.event else {
            return Ok(());
        };
        let (PaymentChange::Paid, Some(tax_code)) = (event.change, &event.payer_org) else {
            return Ok(());
        };
        let payment = self
            .state
            .store
            .payment(&event.payment_id)
            .await
            .map_err(|e| DeliveryError::new(e.to_string()))?
            .ok_or_else(|| DeliveryError::new("a paid payment is missing"))?;
        let lines = payment
            .claims
            .iter()
            .zip(&payment.view.items)
            .filter_map(|(claim, item)| {
                let rest = claim.strip_prefix("notice:")?;
                let (number, instalment) = rest.rsplit_once('/')?;
                Some(NoticePaymentLine {
                    notice_number: number.to_owned(),
                    instalment: instalment.parse().ok()?,
                    principal_vnd: item.principal_vnd.0,
                    interest_vnd: item.interest_vnd.0,
                })
            })
            .collect();
        let report = NoticePayment {
            payment_id: payment.view.id.clone(),
            tax_code: tax_code.clone(),
            gateway_transaction_no: payment.transaction_no.clone().unwrap_or_default(),
            paid_at: payment.view.paid_at.unwrap_or_default(),
            lines,
        };
        self.state
            .registries
            .report_notice_payment(&report)
            .await
            .map_err(|e| DeliveryError::new(e.to_string()))
    }
}

/// The payments' outbox consumers.
pub fn consumers(state: &AppState) -> Vec<Arc<dyn Consumer>> {
    vec![
        Arc::new(RefundsConsumer {
            state: state.clone(),
        }),
        Arc::new(TaxReportConsumer {
            state: state.clone(),
        }),
    ]
}
