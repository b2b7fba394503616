-- Paper invoices (issue 6): a clerk scans a paper invoice and types in what the workflow
-- needs. The scan is the original (object store, by hash, in `invoices`); this row keeps what
-- was typed beyond the invoice's own columns (the seller's VAT identifier and IBAN) and who
-- typed it.
-- "Papier-Rechnungen [werden] eingescannt, in das Dokumenten-Management-System übernommen und
-- digital freigegeben, verbucht und angewiesen" (Viersen, measure 33); "Scannen von
-- eingehenden Rechnungen … über diesen Weg in den Kontierungsworkflow eingespeist" (Unna).

CREATE TABLE invoice_captures (
    invoice_id BIGINT PRIMARY KEY REFERENCES invoices (id),
    seller_vat_id TEXT NOT NULL DEFAULT '',
    seller_iban TEXT NOT NULL DEFAULT '',
    staff_id BIGINT NOT NULL REFERENCES staff (id),
    staff_name TEXT NOT NULL
);
