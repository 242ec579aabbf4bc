-- The append-only audit log of every dossier, payment, credential and identity event.
-- Each entry commits to the previous one: hash = SHA-256 of its fields and the previous hash,
-- so `motcua-server audit verify` finds the first entry altered, inserted or removed.
create table audit_log (
    seq bigint primary key,
    at bigint not null,
    -- Who: `person:<id>`, `officer:<id>`, `system`, `operator`.
    actor text not null,
    -- What, dotted: `identity.sign_in`, `dossier.received`, …
    action text not null,
    -- On what: `person:<id>`, `dossier:<id>`, …
    subject text not null,
    -- Details as JSON text (never secrets).
    details text not null,
    prev_hash text not null,
    hash text not null
);

-- The head of the chain, one row. Appending updates it first, which serialises appenders on
-- both engines (PostgreSQL's row lock, SQLite's single writer).
create table audit_head (
    id bigint primary key check (id = 1),
    seq bigint not null,
    hash text not null
);

insert into audit_head (id, seq, hash) values (1, 0, 'genesis');
