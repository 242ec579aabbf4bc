-- When a confirmed payment's money left the gateway's clearing account for the treasury and
-- agency accounts (reconciliation settles each payment once).
alter table payments add column settled_at bigint;
