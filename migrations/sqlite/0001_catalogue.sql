-- The public catalogue of administrative procedures.
-- The whole definition (names, documents, and later the e-form) is kept as JSON text so that
-- adding a procedure, or a field to one, needs no migration; the columns beside it are what
-- lists filter and sort on. Both engines keep the same shape (see server/src/store/mod.rs).
create table procedures (
    code text primary key,
    level text not null check (level in ('province', 'district', 'commune')),
    online_level text not null check (online_level in ('full', 'partial')),
    agency_code text not null,
    -- Lower-case names without Vietnamese diacritics, so "dang ky" finds "Đăng ký".
    search_text text not null,
    -- Order of the catalogue as published (most used first).
    position bigint not null,
    definition text not null,
    updated_at bigint not null
);

create index procedures_by_level on procedures (level, position);
