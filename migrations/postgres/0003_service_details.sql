-- What a citizen needs to know about a service, per providing tenant. Fees are JSON
-- ([{"label": …, "amount_cents": …}]); documents one per line; the description is Markdown.
ALTER TABLE services ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN documents TEXT NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN fees TEXT NOT NULL DEFAULT '[]';
ALTER TABLE services ADD COLUMN legal_basis TEXT NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN processing_time TEXT NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN online_url TEXT NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN org_unit_id BIGINT REFERENCES org_units (id);
