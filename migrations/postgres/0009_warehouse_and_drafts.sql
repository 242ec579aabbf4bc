-- The electronic data warehouse: every document a person uploaded and every result issued to
-- them, with provenance. The content is stored once per SHA-256 (content-addressed) outside the
-- database; a row exists only for content fully written.
create table warehouse_items (
    id text primary key,
    person_id text not null references people (id),
    -- 'upload' (by the person) or 'issued' (a result an agency issued).
    provenance text not null check (provenance in ('upload', 'issued')),
    -- What it is, as procedures name required documents: `portrait-photo`, `birth-certificate`.
    document_code text not null,
    title text not null,
    content_sha256 text not null,
    -- Found from the content, never taken from the file name or the request.
    content_type text not null,
    size_bytes bigint not null,
    -- For issued results: the agency and the dossier.
    issuer text,
    dossier_id text references dossiers (id),
    created_at bigint not null
);

create index warehouse_by_person on warehouse_items (person_id, document_code, created_at);

-- A filing in progress, saved as the person goes, to continue on any device.
create table drafts (
    person_id text not null references people (id),
    procedure_code text not null references procedures (code),
    answers text not null,
    updated_at bigint not null,
    primary key (person_id, procedure_code)
);
