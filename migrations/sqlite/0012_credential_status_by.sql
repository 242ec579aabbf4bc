-- Who set a credential's current status: an officer (`officer:<person id>`) or a register
-- (`system:licence-register`). A register lifts only the suspensions it made itself.
alter table credentials add column status_by text;
