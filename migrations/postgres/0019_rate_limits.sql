-- Rate limits shared by every instance on this database: one row per limited key (a limit's
-- name and a client network or account), holding the key's theoretical arrival time in ms
-- (GCRA: a request is let through while that time, pushed one interval on, stays within the
-- burst of now). A row whose time has passed means a full burst, so such rows are deleted.
create table rate_limits (
    bucket text primary key,
    tat_ms bigint not null
);
create index rate_limits_by_tat on rate_limits (tat_ms);
