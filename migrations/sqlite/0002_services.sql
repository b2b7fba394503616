-- The service catalogue: one row per tenant that provides a service. County services belong to
-- the county; a municipal service has a row at every municipality that offers it. `slug` is the
-- catalogue id shared by all rows of one service (e.g. `personalausweis-beantragen`).

CREATE TABLE services (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    slug TEXT NOT NULL,
    leika TEXT,
    name TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    life_situations TEXT NOT NULL DEFAULT '',
    level TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, slug)
);
CREATE INDEX services_by_slug ON services (slug);
