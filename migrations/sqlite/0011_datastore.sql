-- Open data tables (datastore): a resource is one imported table. Its rows live in a table of
-- their own (`ds_<uuid hex>`, created at run time with columns c1, c2, …); this catalogue maps
-- the public column names and types onto those physical columns, so no name a user chose ever
-- reaches SQL. An import is a job with progress and a report of every bad row.

CREATE TABLE datastore_resources (
    id TEXT PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    -- The physical table of the current rows; NULL until the first import finished.
    table_name TEXT,
    row_count BIGINT NOT NULL DEFAULT 0,
    -- Count columns show no value below this (small-count suppression).
    k_min BIGINT NOT NULL DEFAULT 3,
    published BOOLEAN NOT NULL DEFAULT FALSE,
    -- Encoding, delimiter and header lines as JSON, as sniffed or corrected.
    dialect TEXT NOT NULL,
    -- The staged source file, kept for a re-import with corrected types.
    staged_path TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX datastore_resources_tenant ON datastore_resources (tenant_id);

CREATE TABLE datastore_columns (
    resource_id TEXT NOT NULL REFERENCES datastore_resources (id),
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    label TEXT NOT NULL,
    col_type TEXT NOT NULL,
    decimal_mark TEXT NOT NULL,
    is_count BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (resource_id, position),
    UNIQUE (resource_id, name)
);

CREATE TABLE datastore_imports (
    id TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL REFERENCES datastore_resources (id),
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    state TEXT NOT NULL,
    bytes_total BIGINT,
    bytes_done BIGINT NOT NULL DEFAULT 0,
    rows_done BIGINT NOT NULL DEFAULT 0,
    rows_bad BIGINT NOT NULL DEFAULT 0,
    message TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX datastore_imports_resource ON datastore_imports (resource_id);

-- Every bad row of an import with its line number (at most 10,000 per import are kept; the
-- import counts all of them).
CREATE TABLE datastore_import_errors (
    import_id TEXT NOT NULL REFERENCES datastore_imports (id),
    line BIGINT NOT NULL,
    code TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (import_id, line)
);
