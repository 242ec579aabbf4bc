-- Territorial units, the receipt clock, claiming, escalation and notices.

-- The unit (province, district or commune code, at the procedure's level) that handles a
-- dossier: the one its jurisdiction address lies in. Officers see their own unit's dossiers.
alter table dossiers add column unit_code text not null default '';
-- Receipt must be acknowledged (or a supplement asked) within 8 working hours of submission.
alter table dossiers add column receive_by bigint;
-- The officer (person id) who claimed the dossier or was assigned it.
alter table dossiers add column assignee_id text references people (id);
-- When the dossier was found overdue, escalated and the applicant sent an apology.
alter table dossiers add column overdue_at bigint;
-- The new date promised in the apology for lateness.
alter table dossiers add column rescheduled_to bigint;
-- When a late receipt was escalated to the unit's lead (once).
alter table dossiers add column receipt_escalated_at bigint;
-- The procedure's name as it was when filed (JSON {vi, en}), for lists and notices.
alter table dossiers add column procedure_name text not null default '{"vi":"","en":""}';

create index dossiers_by_unit_queue on dossiers (agency_code, level, unit_code, status);
create index dossiers_by_deadline on dossiers (status, deadline_at);

-- An officer's unit, and whether they lead it (escalations go to the lead).
alter table role_grants add column unit_code text;
alter table role_grants add column lead bigint not null default 0;

-- Notices to a person: a change of their dossier, an apology for lateness with the new date, an
-- escalation to a lead officer. Made by the outbox worker from the events; the id is the
-- event's, so delivering an event twice makes one notice.
create table notices (
    id text not null,
    person_id text not null references people (id),
    dossier_id text references dossiers (id),
    kind text not null check (kind in ('apology', 'escalation', 'status')),
    title_vi text not null,
    title_en text not null,
    body_vi text not null,
    body_en text not null,
    created_at bigint not null,
    read_at bigint,
    primary key (id, person_id)
);

create index notices_by_person on notices (person_id, created_at);
