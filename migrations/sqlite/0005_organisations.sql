-- Organisations (by tax code) and the people who may act for them. In production the links come
-- from the national business registration system; in the demo, from the sandbox seed.
create table organisations (
    tax_code text primary key,
    name text not null,
    address text not null,
    updated_at bigint not null
);

create table representatives (
    tax_code text not null references organisations (tax_code) on delete cascade,
    cccd text not null,
    -- Legal representative, director, authorised person, …
    title text not null,
    since bigint not null,
    primary key (tax_code, cccd)
);

create index representatives_by_person on representatives (cccd);

-- Whom the session acts for: null for the person themself, else an organisation's tax code.
alter table sessions add column acting_for text;
