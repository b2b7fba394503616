-- Applications and citizen accounts: a logged-in citizen's submissions and drafts ("Meine
-- Anträge"), the receipt's download token, a certificate's verification code, and the delivery
-- of submissions to a back-office system by signed webhook.

ALTER TABLE submissions ADD COLUMN citizen_id BIGINT REFERENCES citizens (id);
-- Whoever holds the receipt link (page and mail) may download the receipt PDF.
ALTER TABLE submissions ADD COLUMN receipt_token TEXT;
-- A certificate issued for the submission (e.g. the §43 IfSG instruction) is verified by this code.
ALTER TABLE submissions ADD COLUMN certificate_code TEXT;
CREATE INDEX submissions_by_citizen ON submissions (citizen_id, created_at);
CREATE UNIQUE INDEX submissions_by_certificate ON submissions (certificate_code);

CREATE TABLE form_drafts (
    id INTEGER PRIMARY KEY,
    citizen_id BIGINT NOT NULL REFERENCES citizens (id),
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    form_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    -- The page state as the form pages carry it (answers, uploaded files, token).
    state TEXT NOT NULL,
    step BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (citizen_id, tenant_id, form_id)
);

-- Where a form's submissions are delivered (HMAC-SHA256 signed with the secret).
CREATE TABLE form_deliveries (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    form_id TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, form_id)
);
