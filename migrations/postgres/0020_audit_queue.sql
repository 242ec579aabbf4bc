-- Audit entries as their transactions write them, before they are sealed into the chain.
-- Appending is an insert here, which no two writers contend on; a sealer on any instance moves
-- them, oldest first, into `audit_log` with their sequence number and hashes, and deletes them.
-- `audit verify` seals first, so it proves what it did: every committed entry is in the chain.
create table audit_queue (
    id bigint generated always as identity primary key,
    at bigint not null,
    actor text not null,
    action text not null,
    subject text not null,
    details text not null
);
