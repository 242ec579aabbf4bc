-- The link to the national systems (the National Public Service Portal and EMC) and what the
-- service-quality index reads.

-- What an event is about and its place in that subject's order (`dossier:<id>`, the dossier's
-- n-th transition): a consumer that must keep a subject's order (the national portal) sends an
-- event only when nothing earlier of the same subject is pending for it.
alter table outbox add column subject text;
alter table outbox add column subject_seq bigint;
create index outbox_by_subject on outbox (subject, subject_seq);

-- When a dossier reached a final status (result issued, refused, withdrawn).
alter table dossiers add column finished_at bigint;
update dossiers set finished_at = (
    select max(e.at) from dossier_events e
     where e.dossier_id = dossiers.id and e.to_status in ('result_issued', 'rejected', 'withdrawn'))
 where status in ('result_issued', 'rejected', 'withdrawn');
create index dossiers_by_submitted on dossiers (submitted_at);

-- Every dossier change a national system acknowledged: which system, the event, the change and
-- when it happened and was acknowledged (the index scores the sync's delay per dossier).
create table national_sync (
    system text not null check (system in ('portal', 'emc')),
    event_id text not null,
    dossier_id text not null references dossiers (id),
    seq bigint not null,
    change text not null,
    status text not null,
    changed_at bigint not null,
    acked_at bigint not null,
    attempts bigint not null,
    primary key (system, event_id)
);

create index national_sync_by_dossier on national_sync (dossier_id, system);
create index national_sync_by_time on national_sync (system, changed_at);

-- A person's rating of the service for a dossier that ended (a result issued or a refusal):
-- one per dossier, changeable for 30 days. Officers see their desk's ratings without who gave
-- them: the desk, procedure and scores are copied here so that their views never join people.
create table ratings (
    dossier_id text primary key references dossiers (id),
    person_id text not null references people (id),
    satisfied bigint not null check (satisfied in (0, 1)),
    timeliness bigint not null check (timeliness between 1 and 5),
    clarity bigint not null check (clarity between 1 and 5),
    attitude bigint not null check (attitude between 1 and 5),
    comment text,
    agency_code text not null,
    unit_code text not null,
    procedure_code text not null,
    created_at bigint not null,
    updated_at bigint not null
);

create index ratings_by_desk on ratings (agency_code, unit_code, updated_at);

-- Feedback and petitions (phản ánh, kiến nghị) about a procedure, a dossier or an officer's
-- conduct, answered by the desk within a time limit in working days; the sender then says
-- whether the answer settled the matter.
create table feedback (
    id text primary key,
    person_id text not null references people (id),
    -- The organisation it was sent for (tax code), when the sender acted for one.
    acting_for text,
    about text not null check (about in ('procedure', 'dossier', 'conduct')),
    procedure_code text,
    dossier_id text references dossiers (id),
    agency_code text not null,
    unit_code text not null,
    subject text not null,
    body text not null,
    status text not null check (status in ('open', 'answered')),
    received_at bigint not null,
    due_at bigint not null,
    answer text,
    answered_at bigint,
    answered_by text references people (id),
    -- The sender's word on the answer: 1 settled, 0 not; null until said.
    settled bigint check (settled in (0, 1)),
    settled_at bigint,
    version bigint not null
);

create index feedback_by_desk on feedback (agency_code, unit_code, status, due_at);
create index feedback_by_person on feedback (person_id, received_at);
create index feedback_by_dossier on feedback (dossier_id);
create index feedback_by_time on feedback (received_at);

-- The index reads, per dossier, whether a signed result and stored results were issued.
create index credentials_by_dossier on credentials (dossier_id);
create index warehouse_by_dossier on warehouse_items (dossier_id);

-- What the index reads of a dossier, kept on its row as things happen, so that a year's index
-- is one scan of dossiers: what the filing's verified fields replaced (set at filing; dossiers
-- filed before this migration keep 0), whether a signed result and stored results were issued,
-- whether feedback was sent about it, its changes the national portal is told of, and the
-- portal's acknowledgements of them (and how many came later than 15 minutes).
alter table dossiers add column replaced_docs bigint not null default 0;
alter table dossiers add column replaceable_docs bigint not null default 0;
alter table dossiers add column used_population bigint not null default 0;
alter table dossiers add column form_fields bigint not null default 0;
alter table dossiers add column prefilled_fields bigint not null default 0;
alter table dossiers add column has_credential bigint not null default 0;
alter table dossiers add column results_stored bigint not null default 0;
alter table dossiers add column complained bigint not null default 0;
alter table dossiers add column sync_changes bigint not null default 0;
alter table dossiers add column last_sync_change_at bigint;
alter table dossiers add column portal_acks bigint not null default 0;
alter table dossiers add column portal_slow_acks bigint not null default 0;
-- The applicant's rating: 1 satisfied, 0 not, -1 none (ratings are new with this migration).
alter table dossiers add column rating bigint not null default -1;
update dossiers set has_credential = 1 where exists (
    select 1 from credentials c where c.dossier_id = dossiers.id and c.derived_from is null);
update dossiers set results_stored = 1 where exists (
    select 1 from warehouse_items w where w.dossier_id = dossiers.id and w.provenance = 'issued');
-- The changes told to the national systems (monitoring::decide::syncs), as of now.
update dossiers set sync_changes = (
    select count(*) from dossier_events e where e.dossier_id = dossiers.id
       and e.action not in ('claimed', 'assigned', 'overdue', 'receipt_overdue')
       and (e.from_status is null or e.from_status <> e.to_status or e.action in ('submitted', 'fee_paid')));
create index dossiers_by_finished on dossiers (finished_at);
