-- People who have signed in with the national e-identity at least once.
-- `issuer` + `subject` is how the identity provider names them; `cccd` is how the state does.
create table people (
    id text primary key,
    cccd text not null unique,
    issuer text not null,
    subject text not null,
    name text not null,
    birthdate text,
    -- Assurance level earned at the last e-ID sign-in: vneid:level1 or vneid:level2.
    acr text not null check (acr in ('vneid:level1', 'vneid:level2')),
    created_at bigint not null,
    updated_at bigint not null,
    unique (issuer, subject)
);

-- Roles beyond `citizen` (which everyone has). Granted by configuration or the admin command,
-- never by a claim the person controls.
create table role_grants (
    cccd text not null,
    role text not null check (role in ('officer', 'admin')),
    -- For officers: the agency and level whose dossiers they work on.
    agency_code text,
    level text check (level is null or level in ('province', 'district', 'commune')),
    granted_at bigint not null,
    primary key (cccd, role)
);

-- Server-side sessions. The cookie holds a random secret; only its SHA-256 is stored, so a copy
-- of the database does not let anyone take over a session.
create table sessions (
    secret_hash text primary key,
    -- What the person sees in "my devices" and uses to end one session.
    public_id text not null unique,
    person_id text not null references people (id) on delete cascade,
    csrf_token text not null,
    acr text not null,
    auth_method text not null check (auth_method in ('eid', 'passkey')),
    -- Last fresh user verification, for step-up on signing and paying.
    authenticated_at bigint not null,
    created_at bigint not null,
    last_seen_at bigint not null,
    expires_at bigint not null,
    user_agent text,
    ip text,
    revoked_at bigint
);

create index sessions_by_person on sessions (person_id);

-- OpenID Connect sign-ins in flight: the state (hashed), nonce and PKCE verifier of each
-- authorization request, used once at the callback and deleted.
create table login_attempts (
    state_hash text primary key,
    nonce text not null,
    pkce_verifier text not null,
    return_to text not null,
    created_at bigint not null,
    expires_at bigint not null
);
