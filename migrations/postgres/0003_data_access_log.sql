-- Every time the platform read a person's data from a national system, or an officer opened
-- their dossier: who, when, from where and why. The person sees all of it (Estonia's Data
-- Tracker). Append-only: nothing updates or deletes these rows.
create table data_access_log (
    id text primary key,
    cccd text not null,
    at bigint not null,
    -- `system` (the platform itself reading a national register) or `officer`.
    accessor_kind text not null check (accessor_kind in ('system', 'officer')),
    -- The platform's component or the officer's name and agency.
    accessor text not null,
    -- The national system read (VNeID, population registry, …) or `dossier`.
    source text not null,
    -- What was read, in plain words.
    data text not null,
    purpose text not null
);

create index data_access_log_by_person on data_access_log (cccd, at);
