-- Notifications: web push to a person's devices, what each person wants pushed, the live feed
-- the open PWA follows, and reminders sent once.

-- Notices gain reminders and account notices, the page they open and the subject a newer
-- notice replaces on a lock screen (`dossier:<id>`, `payment:<id>`, …). SQLite cannot change a
-- check constraint in place: the table is rebuilt.
create table notices_new (
    id text not null,
    person_id text not null references people (id),
    dossier_id text references dossiers (id),
    kind text not null check (kind in ('apology', 'escalation', 'status', 'reminder', 'account')),
    title_vi text not null,
    title_en text not null,
    body_vi text not null,
    body_en text not null,
    created_at bigint not null,
    read_at bigint,
    template text,
    params text,
    link text,
    topic text,
    primary key (id, person_id)
);
insert into notices_new (id, person_id, dossier_id, kind, title_vi, title_en, body_vi, body_en, created_at, read_at, template, params)
    select id, person_id, dossier_id, kind, title_vi, title_en, body_vi, body_en, created_at, read_at, template, params from notices;
drop table notices;
alter table notices_new rename to notices;
create index notices_by_person on notices (person_id, created_at);

-- What a person wants: the language of their pushes, which kinds of notice go to push, and their
-- quiet hours (minutes after midnight, Vietnam time) during which only urgent pushes are sent.
create table notification_settings (
    person_id text primary key references people (id) on delete cascade,
    lang text not null,
    push_kinds text not null,
    quiet_from bigint not null,
    quiet_to bigint not null,
    updated_at bigint not null
);

-- A device's push subscription (RFC 8030 endpoint, RFC 8291 keys), one per endpoint.
create table push_subscriptions (
    id text primary key,
    person_id text not null references people (id) on delete cascade,
    endpoint text not null unique,
    p256dh text not null,
    auth text not null,
    -- What the person sees in "my devices": "Chrome · Android".
    device text not null,
    created_at bigint not null,
    last_sent_at bigint,
    failures bigint not null default 0,
    last_error text
);
create index push_subscriptions_by_person on push_subscriptions (person_id);

-- Every push attempt: sent, gone (404/410: the subscription was removed), retry (429, 5xx),
-- refused (another 4xx). A notice is not pushed twice to a device that took it.
create table push_log (
    notice_id text not null,
    person_id text not null,
    subscription_id text not null,
    at bigint not null,
    outcome text not null check (outcome in ('sent', 'gone', 'retry', 'refused')),
    status bigint,
    error text
);
create index push_log_by_notice on push_log (notice_id, person_id);

-- What the open PWA is told over Server-Sent Events: a dossier of yours changed, a notice came.
-- `seq` is the event id a reconnecting client resumes after.
create table live_events (
    seq integer primary key autoincrement,
    person_id text not null,
    event_id text not null,
    kind text not null,
    subject text,
    created_at bigint not null,
    unique (event_id, person_id, kind)
);
create index live_events_by_person on live_events (person_id, seq);

-- Reminders already sent, by what they are about (`land:<notice>/<k>:due7`, …): each once.
create table reminders_sent (
    key text primary key,
    event_id text not null,
    sent_at bigint not null
);

-- Push and the live feed consume every event from now on.
insert into outbox_consumers (name, registered_at) values ('push', 0), ('live', 0) on conflict (name) do nothing;
