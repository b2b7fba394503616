-- Incoming e-invoices (issue 6). A tenant administers the Leitweg-IDs it owns, each routed to
-- one org unit. An invoice keeps its original bytes by SHA-256 in the object store, the
-- validation verdict with every fired rule, the terms the workflow needs, its sign-offs (three
-- steps by three different people), its account assignment, reminders sent and the booking
-- export it went out in.

CREATE TABLE leitweg_ids (
    id INTEGER PRIMARY KEY,
    leitweg_id TEXT NOT NULL UNIQUE,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    org_unit_id BIGINT NOT NULL REFERENCES org_units (id),
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX leitweg_ids_by_tenant ON leitweg_ids (tenant_id);

CREATE TABLE invoice_exports (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    staff_id BIGINT NOT NULL REFERENCES staff (id),
    invoices BIGINT NOT NULL,
    blob_sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    org_unit_id BIGINT NOT NULL REFERENCES org_units (id),
    leitweg_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    sender TEXT NOT NULL,
    blob_sha256 TEXT NOT NULL,
    -- The German rendering (PDF) made on receipt, kept unchanged beside the original.
    rendering_sha256 TEXT,
    size BIGINT NOT NULL,
    syntax TEXT NOT NULL,
    scenario TEXT NOT NULL,
    verdict TEXT NOT NULL,
    findings TEXT NOT NULL,
    invoice_number TEXT NOT NULL,
    issue_date TEXT NOT NULL,
    seller_name TEXT NOT NULL,
    seller_key TEXT NOT NULL,
    currency TEXT NOT NULL,
    total_cents BIGINT NOT NULL,
    due_cents BIGINT NOT NULL,
    due_date TEXT,
    skonto TEXT,
    skonto_until TEXT,
    duplicate_of BIGINT REFERENCES invoices (id),
    status TEXT NOT NULL,
    status_note TEXT NOT NULL DEFAULT '',
    export_id BIGINT REFERENCES invoice_exports (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, blob_sha256)
);
CREATE INDEX invoices_inbox ON invoices (tenant_id, org_unit_id, status, created_at);
CREATE INDEX invoices_duplicates ON invoices (tenant_id, seller_key, invoice_number);

CREATE TABLE invoice_approvals (
    invoice_id BIGINT NOT NULL REFERENCES invoices (id),
    step TEXT NOT NULL,
    staff_id BIGINT NOT NULL REFERENCES staff (id),
    staff_name TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    UNIQUE (invoice_id, step),
    UNIQUE (invoice_id, staff_id)
);

CREATE TABLE invoice_assignments (
    invoice_id BIGINT NOT NULL REFERENCES invoices (id),
    position BIGINT NOT NULL,
    account TEXT NOT NULL,
    cost_centre TEXT NOT NULL,
    product TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    PRIMARY KEY (invoice_id, position)
);

CREATE TABLE invoice_reminders (
    invoice_id BIGINT NOT NULL REFERENCES invoices (id),
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (invoice_id, kind)
);
