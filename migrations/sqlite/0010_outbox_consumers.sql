-- One outbox, many consumers. An event (outbox row) is pending for every consumer registered
-- when it was emitted; each consumer's delivery state is its own row here, deleted once
-- delivered. A consumer failing is retried on its own row (attempts, next_attempt_at,
-- last_error) and given up after its attempts, without holding up the others.
-- `outbox.delivered_at` and `outbox.claimed_until` (one consumer's state) are no longer used.

-- The version of the stored event shape (`motcua_server::events::SCHEMA_VERSION`).
alter table outbox add column schema_version bigint not null default 1;

create table outbox_consumers (
    name text primary key,
    registered_at bigint not null
);

create table outbox_deliveries (
    event_id text not null references outbox (id),
    consumer text not null references outbox_consumers (name),
    -- The event's creation time: consumers take events oldest first.
    created_at bigint not null,
    next_attempt_at bigint not null,
    -- A claimed batch is leased to one worker until then; 0 when not claimed.
    claimed_until bigint not null default 0,
    -- The claiming worker's token: its delivery removes only rows it still holds.
    claim text,
    attempts bigint not null default 0,
    last_error text,
    given_up_at bigint,
    primary key (event_id, consumer)
);

create index outbox_deliveries_due on outbox_deliveries (consumer, next_attempt_at, created_at);

-- Notices were the only consumer; what they had not received stays pending for them.
insert into outbox_consumers (name, registered_at) values ('notices', 0);
insert into outbox_deliveries (event_id, consumer, created_at, next_attempt_at)
    select id, 'notices', created_at, created_at from outbox where delivered_at is null;

-- Notices are stored as a text key and its values, rendered in the reader's language when read
-- (from the PWA's resource files), so a new language needs no migration. Older notices keep
-- their pre-rendered columns, which new ones leave empty.
alter table notices add column template text;
alter table notices add column params text;
