-- Payments: procedure fees and businesses' land obligations through the payment gateway, on a
-- double-entry ledger. Amounts are whole VND.

-- A dossier's fee: how much, whether the dossier waits for it (at_filing) or it is due with the
-- result (at_result), when it was paid, and when an unpaid filing lapses.
alter table dossiers add column fee_vnd bigint not null default 0;
alter table dossiers add column fee_paid text not null default 'at_result';
alter table dossiers add column fee_paid_at bigint;
alter table dossiers add column pay_by bigint;

create table payments (
    id text primary key,
    -- The order reference the gateway knows it by (vnp_TxnRef): unique, so unique per day.
    txn_ref text not null unique,
    payer_id text not null references people (id),
    -- The organisation paid for (tax code), when the payer acts for one.
    payer_org text,
    idempotency_key text not null,
    -- SHA-256 of the request as understood: the same key with another request is refused.
    request_hash text not null,
    purpose text not null check (purpose in ('dossier_fee', 'land_obligations')),
    dossier_id text references dossiers (id),
    amount_vnd bigint not null check (amount_vnd > 0),
    state text not null check (state in ('created', 'pending', 'paid', 'failed', 'expired')),
    order_info text not null,
    -- vnp_CreateDate as sent (querydr and refund name the original by it).
    gateway_created text not null,
    pay_url text not null,
    created_at bigint not null,
    expires_at bigint not null,
    transaction_no text,
    bank_code text,
    response_code text,
    -- vnp_PayDate (yyyyMMddHHmmss, GMT+7): the gateway's day of the payment, for reconciliation.
    pay_date text,
    paid_at bigint,
    closed_at bigint,
    receipt_credential_id text,
    updated_at bigint not null,
    unique (payer_id, idempotency_key)
);

create index payments_by_state on payments (state, expires_at);
create index payments_by_payer on payments (payer_id, created_at);

-- What a payment pays, one line each, with the late interest as computed when it started.
create table payment_items (
    payment_id text not null references payments (id),
    position bigint not null,
    -- dossier:<id> or notice:<number>/<instalment>: what cannot be paid twice.
    claim text not null,
    kind text not null,
    reference text not null,
    label_vi text not null,
    label_en text not null,
    principal_vnd bigint not null,
    late_days bigint not null,
    interest_vnd bigint not null,
    due_on text,
    -- The ledger account the money is owed to (a treasury's budget account, an agency).
    account text not null,
    primary key (payment_id, position)
);

-- A claim on what a payment pays, held by the one live or paid payment for it: a second payment
-- of the same thing cannot be started, and a thing is never paid twice.
create table payment_claims (
    claim text primary key,
    payment_id text not null references payments (id),
    paid_at bigint
);

-- The ledger: every movement is a transaction whose entries sum to zero. Balances are sums of
-- entries, never stored.
create table ledger_transactions (
    id text primary key,
    kind text not null check (kind in ('payment', 'return', 'refund', 'settlement')),
    payment_id text references payments (id),
    memo text not null,
    -- What makes the movement happen once: pay:<payment>, return:<transaction no>, …
    dedupe text not null unique,
    created_at bigint not null
);

create table ledger_entries (
    transaction_id text not null references ledger_transactions (id),
    position bigint not null,
    account text not null,
    amount_vnd bigint not null,
    -- The thing paid for, on the entries of a payment.
    claim text,
    primary key (transaction_id, position)
);

create index ledger_entries_by_account on ledger_entries (account);
create index ledger_entries_by_claim on ledger_entries (claim);

-- Money the gateway took that must go back: paid for an order no longer payable, with the wrong
-- amount, or a second time. Each is refunded through the gateway.
create table payment_returns (
    id text primary key,
    payment_id text not null references payments (id),
    -- The gateway's transaction that took the money: one return per transaction.
    transaction_no text not null unique,
    amount_vnd bigint not null,
    reason text not null check (reason in ('amount_mismatch', 'order_closed', 'duplicate')),
    state text not null check (state in ('pending', 'refunded')),
    pay_date text,
    created_at bigint not null,
    refunded_at bigint
);

-- Each reconciliation with the gateway's settlement, and what it found.
create table reconciliations (
    day text primary key,
    ran_at bigint not null,
    differences bigint not null,
    report text not null
);
