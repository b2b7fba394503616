-- Open data (issue 7): datasets of a publisher (tenant) with their DCAT-AP.de metadata as a
-- checked JSON document, their distributions, groups across publishers, and the history of
-- every change. Times are BIGINT milliseconds since the Unix epoch (UTC).

-- A dataset is published only after a member of staff confirmed it holds no personal data
-- (privacy_confirmed_at/by); withdrawing the confirmation takes it offline.
CREATE TABLE opendata_datasets (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    metadata TEXT NOT NULL,
    published BOOLEAN NOT NULL DEFAULT FALSE,
    privacy_confirmed_at BIGINT,
    privacy_confirmed_by BIGINT REFERENCES staff (id),
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    published_at BIGINT,
    UNIQUE (tenant_id, name)
);
CREATE INDEX opendata_datasets_published ON opendata_datasets (published, modified_at);

-- A file (object store, by SHA-256), an API or a link. `datastore_resource` names a table of
-- the data store (its resource UUID) whose rows this distribution serves.
CREATE TABLE opendata_distributions (
    id INTEGER PRIMARY KEY,
    dataset_id BIGINT NOT NULL REFERENCES opendata_datasets (id),
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    uuid TEXT NOT NULL UNIQUE,
    position BIGINT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    format TEXT NOT NULL,
    url TEXT,
    blob_sha256 TEXT,
    media_type TEXT,
    byte_size BIGINT,
    datastore_resource TEXT,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE INDEX opendata_distributions_by_dataset ON opendata_distributions (dataset_id, position);

-- Groups (Kategorien) are shared by all publishers: one name, one group, whoever made it.
CREATE TABLE opendata_groups (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE TABLE opendata_dataset_groups (
    dataset_id BIGINT NOT NULL REFERENCES opendata_datasets (id),
    group_id BIGINT NOT NULL REFERENCES opendata_groups (id),
    PRIMARY KEY (dataset_id, group_id)
);

-- Every change of a dataset: who, when, what, which fields, and the metadata afterwards.
CREATE TABLE opendata_changes (
    id INTEGER PRIMARY KEY,
    dataset_id BIGINT NOT NULL REFERENCES opendata_datasets (id),
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    staff_id BIGINT REFERENCES staff (id),
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    fields TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX opendata_changes_by_dataset ON opendata_changes (dataset_id, id);
