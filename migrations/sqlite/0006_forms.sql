-- Online applications. A form has versions: a draft version is edited, a published one never
-- changes, a closed one takes no more submissions. Submissions keep the version they were made
-- with, their data as canonical JSON with its SHA-256, and their files by hash in the object store.

CREATE TABLE form_versions (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    form_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    definition TEXT NOT NULL,
    service_slug TEXT,
    org_unit_id BIGINT REFERENCES org_units (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    published_at BIGINT,
    UNIQUE (tenant_id, form_id, version)
);

CREATE TABLE submissions (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    form_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    tracking_id TEXT NOT NULL UNIQUE,
    -- The token of the form page that sent it: a second send of the same page is the same submission.
    submit_token TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL,
    data_sha256 TEXT NOT NULL,
    fee_cents BIGINT,
    applicant_email TEXT,
    -- What the status page asks besides the tracking id (a postcode or birth date), as SHA-256.
    status_secret_sha256 TEXT,
    org_unit_id BIGINT REFERENCES org_units (id),
    assigned_to BIGINT REFERENCES staff (id),
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX submissions_inbox ON submissions (tenant_id, org_unit_id, status, created_at);

CREATE TABLE submission_files (
    submission_id BIGINT NOT NULL REFERENCES submissions (id),
    field TEXT NOT NULL,
    blob_sha256 TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    file_name TEXT NOT NULL
);

CREATE TABLE submission_events (
    id INTEGER PRIMARY KEY,
    submission_id BIGINT NOT NULL REFERENCES submissions (id),
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    staff_id BIGINT REFERENCES staff (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX submission_events_by_submission ON submission_events (submission_id, id);
