-- The result wallet: signed credentials, the agencies' keys, status lists.

-- The agencies' signing keys: the public half, validity and withdrawal. The private half is in
-- the key store (files in the data folder, mode 0600), never in the database.
create table issuer_keys (
    -- Two random bytes, hex: short, because every QR carries it.
    kid text primary key,
    agency_code text not null,
    public_key text not null,
    -- Unix seconds. A key signs from valid_from until valid_until (set when it is rotated out)
    -- and verifies what it signed until withdrawn.
    valid_from bigint not null,
    valid_until bigint,
    withdrawn_at bigint,
    created_at bigint not null
);

-- Status lists of 131,072 two-bit entries; a list takes new credentials until half full, at
-- random indices, so a list says neither who is checked nor in which order they were issued.
create table status_lists (
    id bigint primary key,
    size bigint not null,
    allocated bigint not null,
    created_at bigint not null
);

create table credentials (
    -- The CWT id (cti), 6 random bytes, hex.
    id text primary key,
    person_id text not null references people (id),
    -- driving_licence, birth_certificate, … (motcua_shared::credential::CredentialKind).
    kind text not null,
    title_vi text not null,
    title_en text not null,
    -- The issuing agency's code, and the key that signed it.
    issuer text not null,
    kid text not null references issuer_keys (kid),
    -- YYYY-MM-DD, as signed.
    issued_on text not null,
    valid_until text,
    status_list bigint not null references status_lists (id),
    status_idx bigint not null,
    status text not null check (status in ('valid', 'revoked', 'suspended', 'replaced')),
    status_reason text,
    -- The QR's text, and the claims as signed (JSON), so the wallet shows exactly what it says.
    qr text not null,
    claims text not null,
    dossier_id text references dossiers (id),
    -- A purpose-minimised credential made from another (a licence proof from a licence): it
    -- follows that credential's status.
    derived_from text references credentials (id),
    created_at bigint not null,
    updated_at bigint not null,
    unique (status_list, status_idx)
);

create index credentials_by_person on credentials (person_id, created_at);
-- Status lists are built from the credentials that are not valid.
create index credentials_by_list_status on credentials (status_list, status);
