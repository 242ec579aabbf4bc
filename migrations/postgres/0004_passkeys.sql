-- Passkeys a person registered after an e-ID sign-in.
create table passkeys (
    -- The credential id, base64url.
    credential_id text primary key,
    person_id text not null references people (id) on delete cascade,
    -- The person's own label ("My phone").
    name text not null,
    -- The public key and signature counter as webauthn-rs keeps them (JSON).
    passkey text not null,
    created_at bigint not null,
    last_used_at bigint
);

create index passkeys_by_person on passkeys (person_id);

-- WebAuthn ceremonies in flight: the server-side state of a registration or a sign-in, under
-- a random single-use key, short-lived, deleted before it is verified.
create table webauthn_ceremonies (
    id text primary key,
    kind text not null check (kind in ('registration', 'authentication')),
    -- A registration belongs to the session that started it.
    session_hash text,
    passkey_name text,
    state text not null,
    expires_at bigint not null
);
