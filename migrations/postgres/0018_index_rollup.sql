-- The service-quality index's rollup: the dossiers counted by everything the index reads of
-- them (agency, procedure, unit, status; the months, Vietnam time, they were filed, finished
-- and became late; what holds of them as bits; their processing time in working days), so
-- that a year's index reads a few thousand rows instead of a million dossiers.
--
-- The months and bits are columns computed from the row (one definition, read by the triggers
-- and the index's queries alike); triggers append every change of a dossier's class to
-- `dossier_class_changes` (-1 from the old class, +1 to the new), which no two writers ever
-- update in place, and the worker folds those into `dossier_classes` (monitoring::storage).
-- A month is numbered year * 12 + month - 1; 999999 means never (not finished, never late).
-- The bits (`traits`): 8 a fee due, 16 paid online, 32 a signed result, 64 results stored,
-- 128 a document replaced by verified data, 256 all of them, 512 the population database
-- used, 2048 feedback sent about it, 4096 * (rating + 1), 16384 * the national portal's sync:
-- 0 not in time, 1 every change acknowledged in time, 2 all but the last, which is pending.

-- The processing time in working days (the calendar's), set when the dossier ends; -1 before.
alter table dossiers add column working_days bigint not null default -1;
-- The moment the dossier counts as late: when it was marked overdue, or its deadline if it
-- ended after it or has not ended.
alter table dossiers add column late_at bigint generated always as (case when overdue_at is not null and (deadline_at is null or (finished_at is not null and finished_at <= deadline_at) or overdue_at < deadline_at) then overdue_at when deadline_at is not null and (finished_at is null or finished_at > deadline_at) then deadline_at end) stored;
alter table dossiers add column submit_month bigint generated always as (cast(extract(year from date '1970-01-01' + cast((submitted_at + 25200000) / 86400000 as integer)) * 12 + extract(month from date '1970-01-01' + cast((submitted_at + 25200000) / 86400000 as integer)) - 1 as bigint)) stored;
alter table dossiers add column finish_month bigint generated always as (case when finished_at is null then 999999 else cast(extract(year from date '1970-01-01' + cast((finished_at + 25200000) / 86400000 as integer)) * 12 + extract(month from date '1970-01-01' + cast((finished_at + 25200000) / 86400000 as integer)) - 1 as bigint) end) stored;
alter table dossiers add column late_month bigint generated always as (case when (case when overdue_at is not null and (deadline_at is null or (finished_at is not null and finished_at <= deadline_at) or overdue_at < deadline_at) then overdue_at when deadline_at is not null and (finished_at is null or finished_at > deadline_at) then deadline_at end) is null then 999999 else cast(extract(year from date '1970-01-01' + cast(((case when overdue_at is not null and (deadline_at is null or (finished_at is not null and finished_at <= deadline_at) or overdue_at < deadline_at) then overdue_at when deadline_at is not null and (finished_at is null or finished_at > deadline_at) then deadline_at end) + 25200000) / 86400000 as integer)) * 12 + extract(month from date '1970-01-01' + cast(((case when overdue_at is not null and (deadline_at is null or (finished_at is not null and finished_at <= deadline_at) or overdue_at < deadline_at) then overdue_at when deadline_at is not null and (finished_at is null or finished_at > deadline_at) then deadline_at end) + 25200000) / 86400000 as integer)) - 1 as bigint) end) stored;
alter table dossiers add column traits bigint generated always as ((case when fee_vnd > 0 then 8 else 0 end) + (case when fee_paid_at is not null then 16 else 0 end) + 32 * has_credential + 64 * results_stored + (case when replaced_docs > 0 then 128 else 0 end) + (case when replaceable_docs > 0 and replaced_docs = replaceable_docs then 256 else 0 end) + 512 * used_population + 2048 * complained + 4096 * (rating + 1) + 16384 * (case when portal_acks > 0 and portal_slow_acks = 0 and portal_acks >= sync_changes then 1 when portal_acks > 0 and portal_slow_acks = 0 and portal_acks + 1 = sync_changes then 2 else 0 end)) stored;
create index dossiers_by_late on dossiers (late_at);
-- By class bits: those at 32768 and above wait for the national portal to acknowledge their
-- last change, which counts as in time for 15 minutes (the index reads them one by one).
create index dossiers_by_traits on dossiers (traits);

create table dossier_classes (
    agency_code text not null,
    procedure_code text not null,
    unit_code text not null,
    status text not null,
    submit_month bigint not null,
    finish_month bigint not null,
    late_month bigint not null,
    traits bigint not null,
    working_days bigint not null,
    n bigint not null,
    form_fields bigint not null,
    prefilled_fields bigint not null,
    primary key (agency_code, procedure_code, unit_code, status, submit_month, finish_month, late_month, traits, working_days)
);
create index dossier_classes_by_month on dossier_classes (finish_month, submit_month);
create table dossier_class_changes (
    id bigserial primary key,
    agency_code text not null,
    procedure_code text not null,
    unit_code text not null,
    status text not null,
    submit_month bigint not null,
    finish_month bigint not null,
    late_month bigint not null,
    traits bigint not null,
    working_days bigint not null,
    n bigint not null,
    form_fields bigint not null,
    prefilled_fields bigint not null
);
-- One row per rollup, updated first by whoever folds its changes (one at a time).
create table rollup_folds (name text primary key, folded_at bigint not null);
insert into rollup_folds (name, folded_at) values ('dossier_classes', 0);
insert into dossier_classes (agency_code, procedure_code, unit_code, status, submit_month, finish_month, late_month, traits, working_days, n, form_fields, prefilled_fields)
select agency_code, procedure_code, unit_code, status, submit_month, finish_month, late_month, traits, working_days, count(*), cast(sum(form_fields) as bigint), cast(sum(prefilled_fields) as bigint)
  from dossiers group by agency_code, procedure_code, unit_code, status, submit_month, finish_month, late_month, traits, working_days;
create function dossier_classes_track() returns trigger language plpgsql as $$
begin
    if tg_op in ('UPDATE', 'DELETE') then
        insert into dossier_class_changes (agency_code, procedure_code, unit_code, status, submit_month, finish_month, late_month, traits, working_days, n, form_fields, prefilled_fields)
        values (old.agency_code, old.procedure_code, old.unit_code, old.status, old.submit_month, old.finish_month, old.late_month, old.traits, old.working_days, -1, -old.form_fields, -old.prefilled_fields);
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        insert into dossier_class_changes (agency_code, procedure_code, unit_code, status, submit_month, finish_month, late_month, traits, working_days, n, form_fields, prefilled_fields)
        values (new.agency_code, new.procedure_code, new.unit_code, new.status, new.submit_month, new.finish_month, new.late_month, new.traits, new.working_days, 1, new.form_fields, new.prefilled_fields);
    end if;
    return null;
end
$$;
create trigger dossier_classes_insert after insert or delete on dossiers
    for each row execute function dossier_classes_track();
create trigger dossier_classes_update after update on dossiers
    for each row when ((old.agency_code, old.procedure_code, old.unit_code, old.status, old.submit_month, old.finish_month, old.late_month, old.traits, old.working_days, old.form_fields, old.prefilled_fields)
        is distinct from (new.agency_code, new.procedure_code, new.unit_code, new.status, new.submit_month, new.finish_month, new.late_month, new.traits, new.working_days, new.form_fields, new.prefilled_fields))
    execute function dossier_classes_track();
