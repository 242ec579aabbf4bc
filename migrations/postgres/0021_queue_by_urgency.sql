-- The officer's queue: a unit's dossiers still being processed, most urgent first (receipt due,
-- else result due, else filing), read by keyset. Only active dossiers are in this index, so a
-- unit with years of finished dossiers reads its queue in index order without sorting them.
create index dossiers_active_by_urgency on dossiers
    (agency_code, level, unit_code, (coalesce(receive_by, deadline_at, submitted_at)), id)
    where status not in ('rejected', 'result_issued', 'withdrawn');
