-- Dossiers: one filing of a procedure by an applicant.
create table dossiers (
    id text primary key,
    -- Unique per agency and day: AGENCY-YYYYMMDD-NNNN.
    receipt_number text not null unique,
    procedure_code text not null references procedures (code),
    applicant_id text not null references people (id),
    -- The organisation (tax code) the applicant filed for, if any.
    acting_for text,
    agency_code text not null,
    level text not null check (level in ('province', 'district', 'commune')),
    status text not null check (status in ('submitted', 'supplement_requested', 'received', 'in_processing',
        'approved', 'rejected', 'result_issued', 'withdrawn')),
    -- The e-form answers (JSON) and the fields the state verified at submission (JSON list).
    answers text not null,
    verified_fields text not null,
    time_limit_working_days bigint not null,
    submitted_at bigint not null,
    received_at bigint,
    -- The legal deadline; null while the clock is paused for a supplement.
    deadline_at bigint,
    -- Working days left when the clock was paused.
    paused_days_left bigint,
    -- The last reason given (supplement asked, refusal).
    status_reason text,
    updated_at bigint not null,
    -- Bumped by every transition: a stale transition finds the version changed and fails.
    version bigint not null
);

create index dossiers_by_applicant on dossiers (applicant_id, submitted_at);
create index dossiers_by_queue on dossiers (agency_code, level, status, deadline_at);

-- Every transition, in order.
create table dossier_events (
    id text primary key,
    dossier_id text not null references dossiers (id),
    at bigint not null,
    actor text not null,
    action text not null,
    from_status text,
    to_status text not null,
    reason text
);

create index dossier_events_by_dossier on dossier_events (dossier_id, at);

-- A submission retried with the same key (a double tap, a lost answer) returns the same dossier.
create table idempotency_keys (
    person_id text not null,
    key text not null,
    dossier_id text not null references dossiers (id),
    created_at bigint not null,
    primary key (person_id, key)
);

-- The last receipt number handed out per agency and day.
create table receipt_counters (
    agency_code text not null,
    day text not null,
    last bigint not null,
    primary key (agency_code, day)
);

-- Events for other parts of the system (notifications, EMC figures), written in the same
-- transaction as what happened and delivered later by a worker.
create table outbox (
    id text primary key,
    topic text not null,
    payload text not null,
    created_at bigint not null,
    claimed_until bigint,
    delivered_at bigint
);

create index outbox_pending on outbox (delivered_at, created_at);
