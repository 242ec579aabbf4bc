//! The payments' storage: payments and what they pay, the claims that stop a thing being paid
//! twice, the ledger, and money going back. Every change writes its ledger entries, audit entry
//! and domain event in one transaction.

use anyhow::Context;
use motcua_shared::{
    Localized, Vnd,
    payment_api::{PaymentItem, PaymentReturn, PaymentState, PaymentView},
};
use sqlx::{Row as _, any::AnyRow};

use super::decide::{self, Facts, IpnAnswer, Outcome, ReturnReason};
use crate::{
    audit,
    events::{self, DomainEvent, PaymentChange, PaymentEvent},
    http::page::Page,
    store::{Store, StoreError, StoreResult, WriteTx, now_ms},
};

/// The gateway's clearing account: money it took for us and has not yet settled.
pub const CLEARING: &str = "clearing:vnpay";
/// Money taken that must go back (a wrong amount, a closed order, a second payment).
pub const RETURNS: &str = "returns:vnpay";

/// The ledger account of a payer: the person, or the organisation they pay for.
pub fn payer_account(person_id: &str, org: Option<&str>) -> String {
    match org {
        Some(tax_code) => format!("payer:org:{tax_code}"),
        None => format!("payer:person:{person_id}"),
    }
}

/// A payment as stored.
#[derive(Debug, Clone)]
pub struct Payment {
    pub view: PaymentView,
    pub payer_id: String,
    pub request_hash: String,
    pub purpose: String,
    pub gateway_created: String,
    pub order_info: String,
    pub transaction_no: Option<String>,
    pub claims: Vec<String>,
    pub accounts: Vec<String>,
}

const COLUMNS: &str = "p.id, p.txn_ref, p.payer_id, p.payer_org, p.request_hash, p.purpose, p.dossier_id, \
     p.amount_vnd, p.state, p.order_info, p.gateway_created, p.pay_url, p.created_at, p.expires_at, \
     p.transaction_no, p.paid_at, p.receipt_credential_id";

fn decode(row: &AnyRow) -> anyhow::Result<Payment> {
    let state: String = row.try_get("state")?;
    let state =
        PaymentState::parse(&state).with_context(|| format!("a stored payment state {state}"))?;
    let pay_url: String = row.try_get("pay_url")?;
    Ok(Payment {
        view: PaymentView {
            id: row.try_get("id")?,
            txn_ref: row.try_get("txn_ref")?,
            state,
            amount_vnd: Vnd(row.try_get("amount_vnd")?),
            items: Vec::new(),
            pay_url: state.is_live().then_some(pay_url),
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            paid_at: row.try_get("paid_at")?,
            receipt_credential_id: row.try_get("receipt_credential_id")?,
            dossier_id: row.try_get("dossier_id")?,
            payer_org: row.try_get("payer_org")?,
            returns: Vec::new(),
        },
        payer_id: row.try_get("payer_id")?,
        request_hash: row.try_get("request_hash")?,
        purpose: row.try_get("purpose")?,
        gateway_created: row.try_get("gateway_created")?,
        order_info: row.try_get("order_info")?,
        transaction_no: row.try_get("transaction_no")?,
        claims: Vec::new(),
        accounts: Vec::new(),
    })
}

/// One line of a new payment.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub claim: String,
    pub kind: String,
    pub reference: String,
    pub label: Localized,
    pub principal_vnd: i64,
    pub late_days: i64,
    pub interest_vnd: i64,
    pub due_on: Option<String>,
    /// Where the money is owed: `treasury:<treasury>:<account>:<chapter>:<sub-item>` or
    /// `agency:<code>`.
    pub account: String,
}

impl NewItem {
    pub fn total(&self) -> i64 {
        self.principal_vnd + self.interest_vnd
    }
}

/// A payment to start.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub id: String,
    pub txn_ref: String,
    pub payer_id: String,
    pub payer_org: Option<String>,
    pub idempotency_key: String,
    pub request_hash: String,
    pub purpose: &'static str,
    pub dossier_id: Option<String>,
    pub items: Vec<NewItem>,
    pub order_info: String,
    pub gateway_created: String,
    pub pay_url: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl NewPayment {
    pub fn amount(&self) -> i64 {
        self.items.iter().map(NewItem::total).sum()
    }
}

/// What starting a payment came to.
#[derive(Debug)]
pub enum Started {
    /// Made now.
    New(Box<Payment>),
    /// This key was used before: its payment.
    Replayed(Box<Payment>),
    /// Something it pays is held by another live payment, or already paid (by that payment).
    Held { payment_id: String, paid: bool },
}

/// The gateway's word on one transaction, from an IPN or a querydr answer.
#[derive(Debug, Clone)]
pub struct GatewayWord {
    pub paid: bool,
    pub amount_x100: i64,
    pub transaction_no: String,
    pub bank_code: String,
    pub response_code: String,
    pub pay_date: String,
    /// `ipn` or `querydr`.
    pub source: &'static str,
}

/// What confirming a payment needs from outside the transaction: the receipt's signer, and the
/// calendar for a dossier's clock.
pub struct Confirming<'a> {
    pub key: &'a crate::wallet::keys::IssuerKey,
    pub public_url: &'a str,
    pub calendar: &'a motcua_shared::calendar::Calendar,
    /// The receipt to sign, made from the payment by the caller.
    pub receipt: &'a (dyn Fn(&Payment) -> crate::wallet::issue::Draft + Send + Sync),
}

async fn items_of(conn: &mut sqlx::AnyConnection, payment: &mut Payment) -> anyhow::Result<()> {
    let rows = sqlx::query(
        "select claim, kind, reference, label_vi, label_en, principal_vnd, late_days, interest_vnd, due_on, account \
         from payment_items where payment_id = $1 order by position",
    )
    .bind(&payment.view.id)
    .fetch_all(&mut *conn)
    .await
    .context("reading a payment's items")?;
    for row in rows {
        payment.claims.push(row.try_get("claim")?);
        payment.accounts.push(row.try_get("account")?);
        payment.view.items.push(PaymentItem {
            kind: row.try_get("kind")?,
            reference: row.try_get("reference")?,
            label: Localized {
                vi: row.try_get("label_vi")?,
                en: row.try_get("label_en")?,
            },
            principal_vnd: Vnd(row.try_get("principal_vnd")?),
            late_days: row.try_get("late_days")?,
            interest_vnd: Vnd(row.try_get("interest_vnd")?),
            due_on: row.try_get("due_on")?,
        });
    }
    let returns: Vec<(i64, String, String)> = sqlx::query_as(
        "select amount_vnd, reason, state from payment_returns where payment_id = $1 order by created_at",
    )
    .bind(&payment.view.id)
    .fetch_all(&mut *conn)
    .await
    .context("reading a payment's returns")?;
    payment.view.returns = returns
        .into_iter()
        .map(|(amount, reason, state)| PaymentReturn {
            amount_vnd: Vnd(amount),
            reason,
            state,
        })
        .collect();
    Ok(())
}

/// A payment with its lines and returns, read inside `tx`.
async fn payment_in(tx: &mut WriteTx, id: &str) -> StoreResult<Payment> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from payments p where p.id = $1"
    )))
    .bind(id)
    .fetch_one(&mut **tx)
    .await
    .context("reading a payment")?;
    let mut payment = decode(&row)?;
    items_of(tx, &mut payment).await?;
    Ok(payment)
}

impl Store {
    /// Order `txn_ref`'s payment, locked for the rest of `tx` (`for update` on PostgreSQL; a
    /// SQLite write transaction is exclusive already), with its lines and returns.
    async fn locked_payment(
        &self,
        tx: &mut WriteTx,
        txn_ref: &str,
    ) -> StoreResult<Option<Payment>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from payments p where p.txn_ref = $1{}",
            self.engine().for_update()
        )))
        .bind(txn_ref)
        .fetch_optional(&mut **tx)
        .await
        .context("reading a payment")?;
        let Some(row) = row else { return Ok(None) };
        let mut payment = decode(&row)?;
        items_of(tx, &mut payment).await?;
        Ok(Some(payment))
    }
}

/// One ledger transaction: entries that must sum to zero, written once per `dedupe` key. Returns
/// false when that key was written before.
pub async fn post(
    tx: &mut WriteTx,
    kind: &str,
    payment_id: Option<&str>,
    memo: &str,
    dedupe: &str,
    entries: &[(String, i64, Option<String>)],
) -> StoreResult<bool> {
    let sum: i64 = entries.iter().map(|(_, amount, _)| amount).sum();
    if sum != 0 || entries.is_empty() {
        return Err(StoreError::Other(anyhow::anyhow!(
            "a ledger transaction must balance: {entries:?} sums to {sum}"
        )));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let inserted = sqlx::query(
        "insert into ledger_transactions (id, kind, payment_id, memo, dedupe, created_at) \
         values ($1, $2, $3, $4, $5, $6) on conflict (dedupe) do nothing",
    )
    .bind(&id)
    .bind(kind)
    .bind(payment_id)
    .bind(memo)
    .bind(dedupe)
    .bind(now_ms())
    .execute(&mut **tx)
    .await
    .context("writing a ledger transaction")?;
    if inserted.rows_affected() == 0 {
        return Ok(false);
    }
    for (position, (account, amount, claim)) in entries.iter().enumerate() {
        sqlx::query(
            "insert into ledger_entries (transaction_id, position, account, amount_vnd, claim) values ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(position as i64)
        .bind(account)
        .bind(amount)
        .bind(claim.as_deref())
        .execute(&mut **tx)
        .await
        .context("writing a ledger entry")?;
    }
    Ok(true)
}

async fn trail(
    tx: &mut WriteTx,
    payment: &Payment,
    change: PaymentChange,
    actor: &str,
    details: serde_json::Value,
) -> StoreResult<()> {
    let event = DomainEvent::Payment(PaymentEvent {
        payment_id: payment.view.id.clone(),
        payer_id: payment.payer_id.clone(),
        payer_org: payment.view.payer_org.clone(),
        change,
        amount_vnd: payment.view.amount_vnd.0,
        dossier_id: payment.view.dossier_id.clone(),
        references: payment
            .view
            .items
            .iter()
            .map(|i| i.reference.clone())
            .collect(),
    });
    audit::append(
        tx,
        &audit::Event {
            actor,
            action: &event.topic(),
            subject: &format!("payment:{}", payment.view.id),
            details,
        },
    )
    .await?;
    events::emit(tx, &event).await?;
    Ok(())
}

impl Store {
    async fn payment_where(&self, clause: &str, value: &str) -> StoreResult<Option<Payment>> {
        let mut conn = self.pool().acquire().await.context("a connection")?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from payments p where {clause} = $1"
        )))
        .bind(value)
        .fetch_optional(&mut *conn)
        .await
        .context("reading a payment")?;
        let Some(row) = row else { return Ok(None) };
        let mut payment = decode(&row)?;
        items_of(&mut conn, &mut payment).await?;
        Ok(Some(payment))
    }

    pub async fn payment(&self, id: &str) -> StoreResult<Option<Payment>> {
        self.payment_where("p.id", id).await
    }

    pub async fn payment_by_ref(&self, txn_ref: &str) -> StoreResult<Option<Payment>> {
        self.payment_where("p.txn_ref", txn_ref).await
    }

    pub async fn payment_for_key(&self, payer_id: &str, key: &str) -> StoreResult<Option<Payment>> {
        let id: Option<(String,)> =
            sqlx::query_as("select id from payments where payer_id = $1 and idempotency_key = $2")
                .bind(payer_id)
                .bind(key)
                .fetch_optional(self.pool())
                .await
                .context("reading an idempotency key")?;
        match id {
            Some((id,)) => self.payment(&id).await,
            None => Ok(None),
        }
    }

    /// A page of the person's payments, newest first.
    pub async fn payments_of(&self, payer_id: &str, page: &Page) -> StoreResult<Vec<Payment>> {
        let (key, id) = page.below();
        let ids: Vec<(String,)> = sqlx::query_as(
            "select id from payments where payer_id = $1 and (created_at < $2 or (created_at = $2 and id > $3)) \
             order by created_at desc, id limit $4",
        )
        .bind(payer_id)
        .bind(key)
        .bind(id)
        .bind(page.fetch())
        .fetch_all(self.pool())
        .await
        .context("listing payments")?;
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            if let Some(p) = self.payment(&id).await? {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// Who holds each of `claims`: (claim, payment id, paid).
    pub async fn claim_holders(
        &self,
        claims: &[String],
    ) -> StoreResult<Vec<(String, String, bool)>> {
        let mut out = Vec::new();
        for claim in claims {
            let row: Option<(String, Option<i64>)> =
                sqlx::query_as("select payment_id, paid_at from payment_claims where claim = $1")
                    .bind(claim)
                    .fetch_optional(self.pool())
                    .await
                    .context("reading a payment claim")?;
            if let Some((payment, paid_at)) = row {
                out.push((claim.clone(), payment, paid_at.is_some()));
            }
        }
        Ok(out)
    }

    /// Claims (prefix `notice:`) an organisation has paid here.
    pub async fn paid_claims_with_prefix(&self, prefix: &str) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "select claim from payment_claims where paid_at is not null and claim like $1",
        )
        .bind(format!("{prefix}%"))
        .fetch_all(self.pool())
        .await
        .context("reading paid claims")?;
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }

    /// Starts a payment: the payment, its lines and its claims in one transaction. A key used
    /// before gives its payment back; a thing held by another payment gives that payment's id.
    pub async fn start_payment(&self, new: &NewPayment, actor: &str) -> StoreResult<Started> {
        let mut tx = self.begin_write().await?;
        let used: Option<(String,)> =
            sqlx::query_as("select id from payments where payer_id = $1 and idempotency_key = $2")
                .bind(&new.payer_id)
                .bind(&new.idempotency_key)
                .fetch_optional(&mut *tx)
                .await
                .context("reading an idempotency key")?;
        if let Some((id,)) = used {
            tx.rollback().await?;
            let payment = self.payment(&id).await?.ok_or(StoreError::NotFound)?;
            return Ok(Started::Replayed(Box::new(payment)));
        }
        for item in &new.items {
            let held: Option<(String, Option<i64>)> =
                sqlx::query_as("select payment_id, paid_at from payment_claims where claim = $1")
                    .bind(&item.claim)
                    .fetch_optional(&mut *tx)
                    .await
                    .context("reading a payment claim")?;
            if let Some((payment_id, paid_at)) = held {
                tx.rollback().await?;
                return Ok(Started::Held {
                    payment_id,
                    paid: paid_at.is_some(),
                });
            }
        }
        sqlx::query(
            "insert into payments (id, txn_ref, payer_id, payer_org, idempotency_key, request_hash, purpose, dossier_id, \
               amount_vnd, state, order_info, gateway_created, pay_url, created_at, expires_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11, $12, $13, $14, $13)",
        )
        .bind(&new.id)
        .bind(&new.txn_ref)
        .bind(&new.payer_id)
        .bind(new.payer_org.as_deref())
        .bind(&new.idempotency_key)
        .bind(&new.request_hash)
        .bind(new.purpose)
        .bind(new.dossier_id.as_deref())
        .bind(new.amount())
        .bind(&new.order_info)
        .bind(&new.gateway_created)
        .bind(&new.pay_url)
        .bind(new.created_at)
        .bind(new.expires_at)
        .execute(&mut *tx)
        .await
        .context("writing a payment")?;
        for (position, item) in new.items.iter().enumerate() {
            sqlx::query(
                "insert into payment_items (payment_id, position, claim, kind, reference, label_vi, label_en, \
                   principal_vnd, late_days, interest_vnd, due_on, account) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&new.id)
            .bind(position as i64)
            .bind(&item.claim)
            .bind(&item.kind)
            .bind(&item.reference)
            .bind(&item.label.vi)
            .bind(&item.label.en)
            .bind(item.principal_vnd)
            .bind(item.late_days)
            .bind(item.interest_vnd)
            .bind(item.due_on.as_deref())
            .bind(&item.account)
            .execute(&mut *tx)
            .await
            .context("writing a payment's item")?;
            // Unique: a concurrent start of the same thing loses here (409 from the caller).
            sqlx::query("insert into payment_claims (claim, payment_id) values ($1, $2)")
                .bind(&item.claim)
                .bind(&new.id)
                .execute(&mut *tx)
                .await
                .context("claiming what a payment pays")?;
        }
        let mut shell = Payment {
            view: PaymentView {
                id: new.id.clone(),
                txn_ref: new.txn_ref.clone(),
                state: PaymentState::Pending,
                amount_vnd: Vnd(new.amount()),
                items: Vec::new(),
                pay_url: None,
                created_at: new.created_at,
                expires_at: new.expires_at,
                paid_at: None,
                receipt_credential_id: None,
                dossier_id: new.dossier_id.clone(),
                payer_org: new.payer_org.clone(),
                returns: Vec::new(),
            },
            payer_id: new.payer_id.clone(),
            request_hash: new.request_hash.clone(),
            purpose: new.purpose.to_owned(),
            gateway_created: new.gateway_created.clone(),
            order_info: new.order_info.clone(),
            transaction_no: None,
            claims: Vec::new(),
            accounts: Vec::new(),
        };
        items_of(&mut tx, &mut shell).await?;
        trail(
            &mut tx,
            &shell,
            PaymentChange::Started,
            actor,
            serde_json::json!({ "txn_ref": new.txn_ref, "amount_vnd": new.amount(), "claims": new.items.iter().map(|i| &i.claim).collect::<Vec<_>>() }),
        )
        .await?;
        tx.commit().await?;
        let payment = self.payment(&new.id).await?.ok_or(StoreError::NotFound)?;
        Ok(Started::New(Box::new(payment)))
    }

    /// Applies the gateway's word on order `txn_ref` (an IPN or a querydr answer) in one
    /// transaction, and says what to answer the gateway. A payment confirmed here has its
    /// ledger entries, what it pays marked paid, its receipt and its event written together.
    pub async fn apply_gateway_word(
        &self,
        txn_ref: &str,
        word: &GatewayWord,
        confirming: &Confirming<'_>,
    ) -> StoreResult<IpnAnswer> {
        let mut tx = self.begin_write().await?;
        let Some(mut payment) = self.locked_payment(&mut tx, txn_ref).await? else {
            tx.rollback().await?;
            return Ok(IpnAnswer::OrderNotFound);
        };
        let (outcome, answer) = decide::on_gateway_word(
            &Facts {
                state: payment.view.state,
                amount_vnd: payment.view.amount_vnd.0,
                transaction_no: payment.transaction_no.as_deref(),
            },
            word.paid,
            word.amount_x100,
            &word.transaction_no,
        );
        let actor = format!("gateway:vnpay:{}", word.source);
        let now = now_ms();
        match outcome {
            Outcome::Nothing => {
                tx.rollback().await?;
                return Ok(answer);
            }
            Outcome::Confirm => {
                confirm_in(&mut tx, &mut payment, word, confirming, &actor, now).await?;
            }
            Outcome::Fail => {
                sqlx::query(
                    "update payments set state = 'failed', response_code = $1, closed_at = $2, updated_at = $2 where id = $3",
                )
                .bind(&word.response_code)
                .bind(now)
                .bind(&payment.view.id)
                .execute(&mut *tx)
                .await
                .context("failing a payment")?;
                release_claims(&mut tx, &payment.view.id).await?;
                trail(
                    &mut tx,
                    &payment,
                    PaymentChange::Failed,
                    &actor,
                    serde_json::json!({ "response_code": word.response_code }),
                )
                .await?;
            }
            Outcome::Return(reason) => {
                if !record_return_in(&mut tx, &payment, word, reason, &actor, now).await? {
                    // This transaction's money is already recorded: nothing more to do.
                    tx.rollback().await?;
                    return Ok(match answer {
                        IpnAnswer::Confirmed => IpnAnswer::AlreadyConfirmed,
                        other => other,
                    });
                }
            }
        }
        tx.commit().await?;
        Ok(answer)
    }

    /// Money the gateway's settlement shows taken for order `txn_ref` in a transaction not known
    /// here, when the order is closed here (failed, expired, or paid by another transaction):
    /// recorded to go back, as its IPN would have. False when the order is live or unknown, or
    /// the transaction was recorded before.
    pub async fn record_settled_for_closed_order(
        &self,
        txn_ref: &str,
        word: &GatewayWord,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let Some(payment) = self.locked_payment(&mut tx, txn_ref).await? else {
            tx.rollback().await?;
            return Ok(false);
        };
        let (outcome, _) = decide::on_gateway_word(
            &Facts {
                state: payment.view.state,
                amount_vnd: payment.view.amount_vnd.0,
                transaction_no: payment.transaction_no.as_deref(),
            },
            true,
            word.amount_x100,
            &word.transaction_no,
        );
        let reason = match (payment.view.state.is_live(), outcome) {
            (false, Outcome::Return(reason)) => reason,
            // A closed order paid again with the wrong amount goes back too.
            (false, Outcome::Nothing)
                if payment.view.state != PaymentState::Paid
                    || payment.transaction_no.as_deref() != Some(word.transaction_no.as_str()) =>
            {
                ReturnReason::OrderClosed
            }
            _ => {
                tx.rollback().await?;
                return Ok(false);
            }
        };
        let recorded = record_return_in(
            &mut tx,
            &payment,
            word,
            reason,
            "gateway:vnpay:settlement",
            now_ms(),
        )
        .await?;
        if recorded {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(recorded)
    }

    /// Closes a payment the gateway never completed (querydr: not found, or not paid) as
    /// expired: what it held is free again. False when it was closed meanwhile.
    pub async fn expire_payment(&self, id: &str, why: &str) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        let done = sqlx::query(
            "update payments set state = 'expired', response_code = $1, closed_at = $2, updated_at = $2 \
             where id = $3 and state in ('created', 'pending')",
        )
        .bind(why)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .context("expiring a payment")?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        release_claims(&mut tx, id).await?;
        let payment = payment_in(&mut tx, id).await?;
        trail(
            &mut tx,
            &payment,
            PaymentChange::Expired,
            "system:payments",
            serde_json::json!({ "gateway": why }),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Payments still pending `grace_ms` after they expired: the gateway is asked about them.
    pub async fn payments_past_expiry(&self, now: i64, grace_ms: i64) -> StoreResult<Vec<Payment>> {
        let ids: Vec<(String,)> = sqlx::query_as(
            "select id from payments where state in ('created', 'pending') and expires_at < $1 order by expires_at limit 200",
        )
        .bind(now - grace_ms)
        .fetch_all(self.pool())
        .await
        .context("finding payments past their expiry")?;
        let mut out = Vec::new();
        for (id,) in ids {
            if let Some(p) = self.payment(&id).await? {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// A return not refunded yet: (id, payment's txn_ref, transaction no, amount, gateway create date).
    pub async fn pending_returns(&self) -> StoreResult<Vec<PendingReturn>> {
        let rows: Vec<(String, String, String, i64, String, String)> = sqlx::query_as(
            "select r.id, p.txn_ref, r.transaction_no, r.amount_vnd, p.gateway_created, r.reason \
             from payment_returns r join payments p on p.id = r.payment_id where r.state = 'pending' order by r.created_at limit 200",
        )
        .fetch_all(self.pool())
        .await
        .context("finding returns to refund")?;
        Ok(rows
            .into_iter()
            .map(
                |(id, txn_ref, transaction_no, amount_vnd, gateway_created, reason)| {
                    PendingReturn {
                        id,
                        txn_ref,
                        transaction_no,
                        amount_vnd,
                        gateway_created,
                        reason,
                    }
                },
            )
            .collect())
    }

    /// A return the gateway accepted: refunded, with its ledger transaction; once.
    pub async fn mark_refunded(&self, return_id: &str) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let row: Option<(String, i64)> = sqlx::query_as(
            "select payment_id, amount_vnd from payment_returns where id = $1 and state = 'pending'",
        )
        .bind(return_id)
        .fetch_optional(&mut *tx)
        .await
        .context("reading a return")?;
        let Some((payment_id, amount)) = row else {
            tx.rollback().await?;
            return Ok(false);
        };
        let now = now_ms();
        sqlx::query("update payment_returns set state = 'refunded', refunded_at = $1 where id = $2 and state = 'pending'")
            .bind(now)
            .bind(return_id)
            .execute(&mut *tx)
            .await
            .context("marking a return refunded")?;
        let payment = payment_in(&mut tx, &payment_id).await?;
        let payer = payer_account(&payment.payer_id, payment.view.payer_org.as_deref());
        post(
            &mut tx,
            "refund",
            Some(&payment_id),
            "Hoàn tiền qua cổng thanh toán",
            &format!("refund:{return_id}"),
            &[(RETURNS.to_owned(), -amount, None), (payer, amount, None)],
        )
        .await?;
        trail(
            &mut tx,
            &payment,
            PaymentChange::Refunded,
            "system:payments",
            serde_json::json!({ "return": return_id, "amount_vnd": amount }),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// A return to refund.
#[derive(Debug, Clone)]
pub struct PendingReturn {
    pub id: String,
    pub txn_ref: String,
    pub transaction_no: String,
    pub amount_vnd: i64,
    pub gateway_created: String,
    pub reason: String,
}

async fn release_claims(tx: &mut WriteTx, payment_id: &str) -> StoreResult<()> {
    sqlx::query("delete from payment_claims where payment_id = $1 and paid_at is null")
        .bind(payment_id)
        .execute(&mut **tx)
        .await
        .context("releasing a payment's claims")?;
    Ok(())
}

async fn confirm_in(
    tx: &mut WriteTx,
    payment: &mut Payment,
    word: &GatewayWord,
    confirming: &Confirming<'_>,
    actor: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "update payments set state = 'paid', transaction_no = $1, bank_code = $2, response_code = $3, \
           paid_at = $4, closed_at = $4, updated_at = $4, pay_date = $6 where id = $5",
    )
    .bind(&word.transaction_no)
    .bind(&word.bank_code)
    .bind(&word.response_code)
    .bind(now)
    .bind(&payment.view.id)
    .bind(&word.pay_date)
    .execute(&mut **tx)
    .await
    .context("confirming a payment")?;
    let claimed = sqlx::query("update payment_claims set paid_at = $1 where payment_id = $2")
        .bind(now)
        .bind(&payment.view.id)
        .execute(&mut **tx)
        .await
        .context("marking what a payment pays as paid")?;
    if claimed.rows_affected() != payment.claims.len() as u64 {
        // A claim was released (the payment had expired and was reopened): never pay twice.
        return Err(StoreError::Other(anyhow::anyhow!(
            "payment {} holds {} of its {} claims",
            payment.view.id,
            claimed.rows_affected(),
            payment.claims.len()
        )));
    }
    payment.view.state = PaymentState::Paid;
    payment.view.paid_at = Some(now);
    payment.transaction_no = Some(word.transaction_no.clone());
    // Payer → the gateway's clearing account, one pair per thing paid; the clearing account is
    // emptied into the treasury and agency accounts when the gateway settles (reconciliation).
    let payer = payer_account(&payment.payer_id, payment.view.payer_org.as_deref());
    let mut entries = Vec::new();
    for (item, claim) in payment.view.items.iter().zip(&payment.claims) {
        let total = item.principal_vnd.0 + item.interest_vnd.0;
        entries.push((payer.clone(), -total, Some(claim.clone())));
        entries.push((CLEARING.to_owned(), total, Some(claim.clone())));
    }
    post(
        tx,
        "payment",
        Some(&payment.view.id),
        &format!("Thanh toán {}", payment.view.txn_ref),
        &format!("pay:{}", payment.view.id),
        &entries,
    )
    .await?;
    if let Some(dossier_id) = payment.view.dossier_id.clone() {
        crate::dossiers::storage::fee_paid_in(tx, &dossier_id, now, confirming.calendar, actor)
            .await?;
    }
    let draft = (confirming.receipt)(payment);
    let receipt = crate::wallet::storage::issue_in(
        tx,
        confirming.key,
        confirming.public_url,
        &payment.payer_id,
        payment.view.dossier_id.as_deref(),
        &draft,
    )
    .await?;
    sqlx::query("update payments set receipt_credential_id = $1 where id = $2")
        .bind(&receipt.id)
        .bind(&payment.view.id)
        .execute(&mut **tx)
        .await
        .context("recording a payment's receipt")?;
    payment.view.receipt_credential_id = Some(receipt.id.clone());
    trail(
        tx,
        payment,
        PaymentChange::Paid,
        actor,
        serde_json::json!({
            "transaction_no": word.transaction_no,
            "amount_vnd": payment.view.amount_vnd.0,
            "receipt": receipt.id,
        }),
    )
    .await
}

/// Records money taken that must go back, with its ledger transaction and event; false when
/// this gateway transaction was recorded before.
async fn record_return_in(
    tx: &mut WriteTx,
    payment: &Payment,
    word: &GatewayWord,
    reason: ReturnReason,
    actor: &str,
    now: i64,
) -> StoreResult<bool> {
    let amount = word.amount_x100 / 100;
    let id = uuid::Uuid::new_v4().to_string();
    let inserted = sqlx::query(
        "insert into payment_returns (id, payment_id, transaction_no, amount_vnd, reason, state, pay_date, created_at) \
         values ($1, $2, $3, $4, $5, 'pending', $6, $7) on conflict (transaction_no) do nothing",
    )
    .bind(&id)
    .bind(&payment.view.id)
    .bind(&word.transaction_no)
    .bind(amount)
    .bind(reason.as_str())
    .bind(&word.pay_date)
    .bind(now)
    .execute(&mut **tx)
    .await
    .context("recording money to return")?;
    if inserted.rows_affected() == 0 {
        return Ok(false);
    }
    let payer = payer_account(&payment.payer_id, payment.view.payer_org.as_deref());
    post(
        tx,
        "return",
        Some(&payment.view.id),
        &format!("Tiền nhận cần hoàn trả ({})", reason.as_str()),
        &format!("return:{}", word.transaction_no),
        &[(payer, -amount, None), (RETURNS.to_owned(), amount, None)],
    )
    .await?;
    trail(
        tx,
        payment,
        PaymentChange::ReturnStarted,
        actor,
        serde_json::json!({ "transaction_no": word.transaction_no, "amount_vnd": amount, "reason": reason.as_str() }),
    )
    .await?;
    Ok(true)
}
