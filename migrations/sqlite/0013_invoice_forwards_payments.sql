-- Invoices handed on between org units (issue 6): the central invoice receipt (e.g. the
-- Zentrale Finanzbuchhaltung behind the county's one Leitweg-ID) passes each invoice to the
-- office that ordered and checks it ("Kontierungsworkflow … zwischen der Zentralen
-- Finanzbuchhaltung und den Organisationseinheiten des Hauses", Unna). One row per hand-over.

CREATE TABLE invoice_forwards (
    invoice_id BIGINT NOT NULL REFERENCES invoices (id),
    from_unit_id BIGINT NOT NULL REFERENCES org_units (id),
    to_unit_id BIGINT NOT NULL REFERENCES org_units (id),
    staff_id BIGINT NOT NULL REFERENCES staff (id),
    staff_name TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX invoice_forwards_by_invoice ON invoice_forwards (invoice_id, created_at);

-- What the finance system reports back after a booking export: the payment date and amount
-- (the payment file the Kasse imports), shown to staff and to the sender.
ALTER TABLE invoices ADD COLUMN paid_on TEXT;
ALTER TABLE invoices ADD COLUMN paid_cents BIGINT;

-- The inbox's search: seller, invoice number and Leitweg-ID in lower case, written by the
-- application (Unicode case folding, which SQLite's LOWER lacks beyond A-Z).
ALTER TABLE invoices ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE invoices SET search_text = LOWER(seller_name || ' ' || invoice_number || ' ' || leitweg_id);
